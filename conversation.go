package parley

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ConversationStatus is where a conversation is in its life.
type ConversationStatus string

const (
	StatusQueued    ConversationStatus = "queued"
	StatusAssigned  ConversationStatus = "assigned"
	StatusResolved  ConversationStatus = "resolved"
	StatusAbandoned ConversationStatus = "abandoned"
)

// Open reports whether the conversation is still being worked on.
func (s ConversationStatus) Open() bool { return s == StatusQueued || s == StatusAssigned }

// Conversation is one contact of a customer on one channel.
type Conversation struct {
	ID          int64              `json:"id,string"`
	CustomerID  int64              `json:"customer_id,string"`
	InboxID     int64              `json:"inbox_id,string"`
	QueueID     int64              `json:"queue_id,string"`
	Channel     Channel            `json:"channel"`
	Status      ConversationStatus `json:"status"`
	AgentID     int64              `json:"agent_id,string,omitempty"`
	Topic       string             `json:"topic,omitempty"`
	Priority    int                `json:"priority"`
	LastSeq     int64              `json:"last_seq"`
	Disposition string             `json:"disposition,omitempty"`
	CreatedAt   time.Time          `json:"created_at"`
	EnqueuedAt  time.Time          `json:"enqueued_at,omitzero"`
	AssignedAt  time.Time          `json:"assigned_at,omitzero"`
	ResolvedAt  time.Time          `json:"resolved_at,omitzero"`
	UpdatedAt   time.Time          `json:"updated_at"`
	// Messages is filled where the API says so (offers, single gets).
	Messages []Message `json:"messages,omitempty"`
	// Customer is the customer's display name, for lists.
	CustomerName string            `json:"customer_name,omitempty"`
	Subject      string            `json:"subject,omitempty"`
	Require      map[string]int    `json:"require,omitempty"`
	Meta         map[string]string `json:"meta,omitempty"`
	// SubStatus says an assigned conversation waits on the customer:
	// SubPending or SubSnoozed ("" while open; see conversation_status.go).
	SubStatus    string    `json:"sub_status,omitempty"`
	SnoozedUntil time.Time `json:"snoozed_until,omitzero"`
	Tags         []string  `json:"tags"`
}

// Direction says who a message goes to.
type Direction string

const (
	DirectionIn  Direction = "in"
	DirectionOut Direction = "out"
)

// Sender types.
const (
	SenderCustomer = "customer"
	SenderAgent    = "agent"
	SenderSystem   = "system"
)

// Delivery states of outbound messages.
const (
	DeliveryQueued      = "queued"
	DeliverySent        = "sent"
	DeliveryDelivered   = "delivered"
	DeliveryRead        = "read"
	DeliveryFailed      = "failed"
	DeliveryUndelivered = "undelivered"
)

// deliveryRank orders delivery states; failure states are final.
var deliveryRank = map[string]int{DeliveryQueued: 1, DeliverySent: 2, DeliveryDelivered: 3, DeliveryRead: 4, DeliveryFailed: 5, DeliveryUndelivered: 5}

// DeliveryAdvances reports whether a message in state from may move to to:
// forward only (callbacks arrive out of order), and never out of a failure.
func DeliveryAdvances(from, to string) bool {
	r, ok := deliveryRank[to]
	return ok && r > deliveryRank[from]
}

// Message is one message of a conversation. Seq increases by one per message
// within the conversation.
type Message struct {
	ID             int64         `json:"id,string"`
	ConversationID int64         `json:"conversation_id,string"`
	Seq            int64         `json:"seq"`
	Direction      Direction     `json:"direction"`
	Private        bool          `json:"private"`
	Sender         MessageSender `json:"sender"`
	Channel        Channel       `json:"channel"`
	Body           string        `json:"body"`
	Attachments    []Attachment  `json:"attachments"`
	Delivery       string        `json:"delivery,omitempty"`
	ClientMsgID    string        `json:"client_msg_id,omitempty"`
	CreatedAt      time.Time     `json:"created_at"`
	// HTMLURL is where the sanitised HTML of an imported email is shown
	// (only for email messages that had an HTML body).
	HTMLURL string `json:"html_url,omitempty"`
}

// MessageSender is who wrote a message.
type MessageSender struct {
	Type string `json:"type"`
	ID   int64  `json:"id,string,omitempty"`
	Name string `json:"name,omitempty"`
}

// Attachment is a file sent with a message.
type Attachment struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	URL         string `json:"url,omitempty"`
	// Refused says why an attachment was recorded but not kept (an email
	// attachment over the size limit); such an attachment has no URL.
	Refused string `json:"refused,omitempty"`
}

// EmailAttachmentURL is where an attachment of an email message is
// downloaded: its position in the message's attachments.
func EmailAttachmentURL(messageID int64, index int) string {
	return "/api/v1/messages/" + strconv.FormatInt(messageID, 10) + "/attachments/" + strconv.Itoa(index)
}

// EmailHTMLURL is where the sanitised HTML of an email message is served.
func EmailHTMLURL(messageID int64) string {
	return "/api/v1/messages/" + strconv.FormatInt(messageID, 10) + "/html"
}

// MaxBodyBytes bounds the body of one message.
const MaxBodyBytes = 16 << 10

// ValidateBody checks a message body: valid UTF-8, not blank, at most
// MaxBodyBytes.
func ValidateBody(body string) error {
	switch {
	case !utf8.ValidString(body):
		return Invalid("Message body is not valid UTF-8.", map[string]string{"body": "invalid UTF-8"})
	case strings.TrimSpace(body) == "":
		return Invalid("Message body is empty.", map[string]string{"body": "required"})
	case len(body) > MaxBodyBytes:
		return Invalid(fmt.Sprintf("Message body is longer than %d bytes.", MaxBodyBytes), map[string]string{"body": "too long"})
	}
	return nil
}

// MaxClientMsgID bounds a client's own message id.
const MaxClientMsgID = 100

// ValidateClientMsgID checks a client_msg_id; required says whether it may be empty.
func ValidateClientMsgID(id string, required bool) error {
	if (required && id == "") || len(id) > MaxClientMsgID || !utf8.ValidString(id) {
		return Invalid("Invalid client_msg_id.", map[string]string{"client_msg_id": fmt.Sprintf("required, at most %d bytes of UTF-8", MaxClientMsgID)})
	}
	return nil
}

// OfferState is where an offer (reservation) is.
type OfferState string

const (
	OfferPending   OfferState = "pending"
	OfferAccepted  OfferState = "accepted"
	OfferRejected  OfferState = "rejected"
	OfferTimeout   OfferState = "timeout"
	OfferCanceled  OfferState = "canceled"
	OfferRescinded OfferState = "rescinded"
)

// Offer is a reservation of an agent for a conversation.
type Offer struct {
	ID             string     `json:"id"`
	ConversationID int64      `json:"conversation_id,string"`
	AgentID        int64      `json:"agent_id,string"`
	QueueID        int64      `json:"queue_id,string"`
	State          OfferState `json:"state"`
	CreatedAt      time.Time  `json:"created_at"`
	ExpiresAt      time.Time  `json:"expires_at"`
	EndedAt        time.Time  `json:"ended_at,omitzero"`
	Reason         string     `json:"reason,omitempty"`
}
