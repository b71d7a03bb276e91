// Package email is the email channel: it watches each email inbox's IMAP
// folder (IDLE where the server supports it, polling otherwise), turns every
// message into a parley.Inbound exactly once, and sends agents' replies over
// SMTP with proper threading headers.
//
// The channel never imports the store: it is given a Backend (the desk) and
// a Store (adapted from PostgreSQL by the caller).
package email

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Backend is what the channel needs from the application core.
type Backend interface {
	parley.Inbox
	// DeliveryStatus marks an outbound message (known by its Message-ID)
	// delivered or failed.
	DeliveryStatus(ctx context.Context, inboxID int64, providerID, state, reason string) error
}

// Progress is how far an inbox's IMAP folder has been imported.
type Progress struct {
	Mailbox     string
	UIDValidity uint32
	LastUID     uint32
}

// Lease is held by the one instance that watches an inbox.
type Lease interface {
	// Alive reports an error once the lease is lost.
	Alive(ctx context.Context) error
	Release()
}

// Record is an imported email in its parsed and raw forms.
type Record struct {
	InboxID      int64
	MessageRowID int64
	DedupeKey    string
	Kind         string // message, auto_reply, report, bounce
	Email        *Email
	Raw          []byte
}

// Reply is what an outbound email needs from its conversation.
type Reply struct {
	To         string
	MessageIDs []string
	InReplyTo  string
}

// Store keeps the channel's own state.
type Store interface {
	Inbox(ctx context.Context, id int64) (parley.InboxConfig, error)
	Inboxes(ctx context.Context) ([]parley.InboxConfig, error)
	// Lease takes the watcher lease of an inbox, unless another instance
	// holds it (ok false).
	Lease(ctx context.Context, inboxID int64) (l Lease, ok bool, err error)
	Progress(ctx context.Context, inboxID int64) (Progress, error)
	SetProgress(ctx context.Context, inboxID int64, p Progress) error
	// SetStatus records the watcher's state; lastError "" is a success.
	SetStatus(ctx context.Context, inboxID int64, state, lastError string) error
	// ThreadConversation returns the conversation of the first of ids that
	// is a known Message-ID (ours or imported) in the inbox, or 0.
	ThreadConversation(ctx context.Context, inboxID int64, ids []string) (int64, error)
	// OpenConversations returns the open conversations (id → subject) of
	// the customer with this email address in the inbox.
	OpenConversations(ctx context.Context, inboxID int64, address string) (map[int64]string, error)
	SaveEmail(ctx context.Context, r Record) error
	ReplyContext(ctx context.Context, convID int64) (Reply, error)
}

// Config configures the channel; zero durations take their defaults.
type Config struct {
	Backend Backend
	Store   Store
	Log     *slog.Logger
	// MaxAttachmentBytes refuses larger attachments (default 10 MiB).
	MaxAttachmentBytes int64
	// MaxMessageBytes imports only the header of larger emails (default 50 MiB).
	MaxMessageBytes int64
	// PollInterval is how often a server without IDLE is checked (30 s).
	PollInterval time.Duration
	// IdleRefresh ends an IDLE to re-check the folder and the lease (5 min).
	IdleRefresh time.Duration
	// Rescan is how often the list of email inboxes is re-read (5 s).
	Rescan time.Duration
	// LeaseRetry is how often an instance tries to take a lease held by
	// another (15 s).
	LeaseRetry time.Duration
	// MaxBackoff caps the wait between reconnects (5 min); it starts at 1 s.
	MaxBackoff time.Duration
	// TLSConfig is cloned for TLS and STARTTLS (ServerName is set per host).
	TLSConfig *tls.Config
	Now       func() time.Time
}

// DefaultPollInterval is how often a server without IDLE is checked when
// Config.PollInterval is not set.
const DefaultPollInterval = 30 * time.Second

// Channel is the email channel. It is a parley.Sender.
type Channel struct {
	cfg Config
	log *slog.Logger
}

// New returns the email channel.
func New(c Config) *Channel {
	if c.MaxAttachmentBytes <= 0 {
		c.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = 50 << 20
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.IdleRefresh <= 0 {
		c.IdleRefresh = 5 * time.Minute
	}
	if c.Rescan <= 0 {
		c.Rescan = 5 * time.Second
	}
	if c.LeaseRetry <= 0 {
		c.LeaseRetry = 15 * time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Channel{cfg: c, log: c.Log.With("channel", "email")}
}

// MessageID is the Message-ID (without angle brackets) of an outbound
// message: derived from the message id, so a retried send is the same mail.
func MessageID(msgID int64, inbox parley.InboxConfig) string {
	return "parley." + strconv.FormatInt(msgID, 10) + "." + strconv.FormatInt(inbox.ID, 10) + "@" + domainOf(inbox.Address)
}

// ours reports whether a Message-ID is one of this inbox's outbound mails.
func ours(id string, inbox parley.InboxConfig) bool {
	return strings.HasPrefix(id, "parley.") && strings.HasSuffix(id, "."+strconv.FormatInt(inbox.ID, 10)+"@"+domainOf(inbox.Address))
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i+1 < len(addr) {
		return strings.ToLower(addr[i+1:])
	}
	return "parley.invalid"
}

// Ingest imports one raw email into an inbox: a bounce of one of our mails
// marks it failed; any other email becomes an inbound message (exactly once,
// by its dedupe key), continuing the conversation it answers. Only errors of
// the store or the backend are returned; unreadable mail is still stored.
func (c *Channel) Ingest(ctx context.Context, inbox parley.InboxConfig, raw []byte) error {
	e := Parse(raw, ParseOptions{MaxAttachmentBytes: c.cfg.MaxAttachmentBytes})
	if ours(e.MessageID, inbox) {
		return nil // our own reply (a copy in the watched folder)
	}
	rec := Record{InboxID: inbox.ID, DedupeKey: e.DedupeKey(), Kind: kind(e), Email: e, Raw: raw}
	if b := e.Bounce; b != nil && b.OriginalMessageID != "" && b.Failed() {
		err := c.cfg.Backend.DeliveryStatus(ctx, inbox.ID, b.OriginalMessageID, parley.DeliveryFailed, b.Reason())
		switch {
		case err == nil:
			c.log.Info("bounce marked message failed", "inbox_id", inbox.ID, "provider_id", b.OriginalMessageID, "status", b.Status)
			return c.cfg.Store.SaveEmail(ctx, rec)
		case parley.ErrorCode(err) != parley.ENOTFOUND:
			return err
		}
		// A bounce of mail we did not send: keep it like any other email.
	}
	in := e.Inbound(inbox.ID)
	conv, err := c.cfg.Store.ThreadConversation(ctx, inbox.ID, e.threadIDs())
	if err != nil {
		return err
	}
	if conv == 0 {
		open, err := c.cfg.Store.OpenConversations(ctx, inbox.ID, in.Identity.Address)
		if err != nil {
			return err
		}
		subject := normSubject(in.Subject)
		for id, s := range open {
			if normSubject(s) == subject && id > conv {
				conv = id
			}
		}
	}
	in.ConversationID = conv
	in.NewConversation = conv == 0
	r, err := c.cfg.Backend.Receive(ctx, in)
	if err != nil {
		return fmt.Errorf("receive email %s: %w", rec.DedupeKey, err)
	}
	rec.MessageRowID = r.Message.ID
	if err := c.cfg.Store.SaveEmail(ctx, rec); err != nil {
		return err
	}
	if !r.Duplicate {
		c.log.Info("email received", "inbox_id", inbox.ID, "conversation_id", r.Conversation.ID, "message_id", r.Message.ID,
			"routed", !in.NoRouting, "parse_error", e.ParseError())
	}
	return nil
}

func kind(e *Email) string {
	switch {
	case e.Bounce != nil:
		return "bounce"
	case e.Report != "":
		return "report"
	case e.AutoReply:
		return "auto_reply"
	}
	return "message"
}
