// Package parley holds Parley's domain types, the service interfaces that
// adapters implement or call, and the coded error type. It imports only the
// standard library; every other package depends on it, never the reverse.
package parley

import "context"

// Channel names a way customers reach the company.
type Channel string

const (
	ChannelVoice     Channel = "voice"
	ChannelSMS       Channel = "sms"
	ChannelWhatsApp  Channel = "whatsapp"
	ChannelEmail     Channel = "email"
	ChannelWebchat   Channel = "webchat"
	ChannelTelegram  Channel = "telegram"
	ChannelMessenger Channel = "messenger"
	ChannelWeChat    Channel = "wechat"
)

// Media is a capacity class: agents have a number of slots per media.
type Media string

const (
	MediaVoice Media = "voice"
	MediaChat  Media = "chat"
	MediaEmail Media = "email"
)

// AllMedia lists the capacity classes in a stable order.
var AllMedia = []Media{MediaVoice, MediaChat, MediaEmail}

// Valid reports whether c is a known channel.
func (c Channel) Valid() bool {
	switch c {
	case ChannelVoice, ChannelSMS, ChannelWhatsApp, ChannelEmail, ChannelWebchat,
		ChannelTelegram, ChannelMessenger, ChannelWeChat:
		return true
	}
	return false
}

// Media returns the capacity class a conversation on c occupies.
func (c Channel) Media() Media {
	switch c {
	case ChannelVoice:
		return MediaVoice
	case ChannelEmail:
		return MediaEmail
	}
	return MediaChat
}

// Valid reports whether m is a known media.
func (m Media) Valid() bool {
	return m == MediaVoice || m == MediaChat || m == MediaEmail
}

// Inbound is a customer message normalised by a channel adapter.
type Inbound struct {
	InboxID int64
	// Identity is how the channel knows the customer (visitor id, E.164
	// phone, lower-cased email address, ...).
	Identity Identity
	// CustomerID is set when the channel already resolved the customer
	// (an authenticated web-chat visitor).
	CustomerID int64
	// DedupeKey identifies the message at its source (provider message id,
	// client_msg_id); a second Inbound with the same key changes nothing.
	DedupeKey string
	// ClientMsgID is the sender's own id of the message, echoed in acks.
	ClientMsgID string
	Body        string
	Attachments []Attachment
	Topic       string
	// CustomerName is the name the channel gives (WhatsApp profile name,
	// email display name); it names a new customer.
	CustomerName string
	// Subject is stored on a new conversation (email).
	Subject string
	// ConversationID continues that conversation while it is open (email
	// threading by In-Reply-To/References).
	ConversationID int64
	// NewConversation opens a new conversation even when one is open (an
	// email with a new subject).
	NewConversation bool
	// QueueID, when set, overrides the inbox's and the topic's queue (an IVR
	// menu choice).
	QueueID int64
	// Require adds skills the conversation needs on top of its queue's
	// steps (e.g. the language chosen in an IVR); never relaxed.
	Require  map[string]int
	Priority int
	// NoRouting stores the message without creating routing work: a new
	// conversation is created already resolved (auto-replies, bounces).
	NoRouting bool
	// Meta holds channel facts kept on a new conversation (call sid, ...).
	Meta map[string]string
}

// Receipt reports what became of an Inbound.
type Receipt struct {
	Message      Message
	Conversation Conversation
	// Duplicate is true when the message had been received before.
	Duplicate bool
}

// Inbox receives normalised inbound messages. Channels call it; it resolves
// the customer, persists the message exactly once and routes the conversation.
type Inbox interface {
	Receive(ctx context.Context, in Inbound) (Receipt, error)
}

// Sender delivers an outbound message through a channel. It returns the
// provider's id of the sent message ("" when the channel has none), which
// status callbacks later name. Send is retried, so it must be idempotent for
// a given message (providers that accept an idempotency key get msg.ID).
type Sender interface {
	Send(ctx context.Context, conv Conversation, msg Message) (providerID string, err error)
}
