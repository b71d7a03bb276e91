package desk

import (
	"context"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
)

// The web-chat channel's view of the desk.

// Inbox returns an inbox's configuration.
func (d *Desk) Inbox(ctx context.Context, id int64) (parley.InboxConfig, error) {
	return d.db.Inbox(ctx, id)
}

// Inboxes returns every inbox.
func (d *Desk) Inboxes(ctx context.Context) ([]parley.InboxConfig, error) {
	return d.db.Inboxes(ctx)
}

// StartVisitor opens (or continues) a web-chat visitor session and keeps
// what the browser reported on the customer (a failure to store those hints
// is logged: it never stops the chat).
func (d *Desk) StartVisitor(ctx context.Context, inboxID int64, oldToken, name, email, phone, topic, locale string, browser crm.Browser) (string, int64, error) {
	tok, cust, err := d.db.WebchatStart(ctx, inboxID, oldToken, name, email, phone, topic, locale)
	if err != nil {
		return tok, cust, err
	}
	if err := d.db.SetBrowserHints(ctx, cust, browser); err != nil {
		d.log.Warn("store browser hints", "customer_id", cust, "error", err)
	}
	return tok, cust, nil
}

// Visitor authenticates a visitor token.
func (d *Desk) Visitor(ctx context.Context, token string) (parley.Visitor, error) {
	return d.db.Visitor(ctx, token)
}

// VisitorConversation returns the visitor's open conversation in the inbox,
// or else their latest one.
func (d *Desk) VisitorConversation(ctx context.Context, customerID, inboxID int64) (parley.Conversation, bool, error) {
	if c, ok, err := d.db.OpenConversation(ctx, customerID, inboxID); err != nil || ok {
		return c, ok, err
	}
	return d.db.LatestConversation(ctx, customerID, inboxID)
}

// CustomerMessages returns the customer-visible messages after afterSeq.
func (d *Desk) CustomerMessages(ctx context.Context, convID, afterSeq int64) ([]parley.Message, error) {
	return d.db.Messages(ctx, convID, afterSeq, 1000, false)
}
