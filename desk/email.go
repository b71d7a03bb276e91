package desk

import (
	"context"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/channels/email"
	"github.com/parleyhq/parley/postgres"
)

// EmailStore adapts the PostgreSQL store to what the email channel keeps:
// IMAP progress and status, the watcher lease, threading look-ups and the
// imported emails.
type EmailStore struct{ DB *postgres.DB }

var _ email.Store = EmailStore{}

func (s EmailStore) Inbox(ctx context.Context, id int64) (parley.InboxConfig, error) {
	return s.DB.Inbox(ctx, id)
}

func (s EmailStore) Inboxes(ctx context.Context) ([]parley.InboxConfig, error) {
	return s.DB.Inboxes(ctx)
}

func (s EmailStore) Lease(ctx context.Context, inboxID int64) (email.Lease, bool, error) {
	l, ok, err := s.DB.TryLease(ctx, postgres.EmailLeaseKey(inboxID))
	if err != nil || !ok {
		return nil, false, err
	}
	return l, true, nil
}

func (s EmailStore) Progress(ctx context.Context, inboxID int64) (email.Progress, error) {
	p, err := s.DB.EmailProgress(ctx, inboxID)
	return email.Progress(p), err
}

func (s EmailStore) SetProgress(ctx context.Context, inboxID int64, p email.Progress) error {
	return s.DB.SetEmailProgress(ctx, inboxID, postgres.EmailProgress(p))
}

func (s EmailStore) SetStatus(ctx context.Context, inboxID int64, state, lastError string) error {
	return s.DB.SetEmailStatus(ctx, inboxID, state, lastError)
}

func (s EmailStore) ThreadConversation(ctx context.Context, inboxID int64, ids []string) (int64, error) {
	return s.DB.EmailConversation(ctx, inboxID, ids)
}

func (s EmailStore) OpenConversations(ctx context.Context, inboxID int64, address string) (map[int64]string, error) {
	return s.DB.EmailOpenConversations(ctx, inboxID, address)
}

func (s EmailStore) SaveEmail(ctx context.Context, r email.Record) error {
	e := r.Email
	rec := postgres.EmailRecord{
		InboxID: r.InboxID, MessageRowID: r.MessageRowID, DedupeKey: r.DedupeKey, Kind: r.Kind,
		MessageID: e.MessageID, From: e.From.Addr, ReplyTo: e.ReplyTo.Addr, Subject: e.Subject,
		InReplyTo: e.InReplyTo, References: e.References, Text: e.Text, HTML: e.HTML, ParseError: e.ParseError(), Raw: r.Raw,
	}
	for _, f := range e.Attachments {
		rec.Attachments = append(rec.Attachments, postgres.EmailAttachment{Name: f.Name, ContentType: f.ContentType, Size: f.Size,
			Inline: f.Inline, Data: f.Data, Refused: f.Refused})
	}
	return s.DB.SaveEmail(ctx, rec)
}

func (s EmailStore) ReplyContext(ctx context.Context, convID int64) (email.Reply, error) {
	r, err := s.DB.EmailReplyContext(ctx, convID)
	return email.Reply(r), err
}
