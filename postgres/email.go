package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// EmailProgress is how far an inbox's IMAP folder has been imported.
type EmailProgress struct {
	Mailbox     string
	UIDValidity uint32
	LastUID     uint32
}

// EmailProgress returns an inbox's IMAP progress (zero before the first import).
func (db *DB) EmailProgress(ctx context.Context, inboxID int64) (EmailProgress, error) {
	var p EmailProgress
	var v, u int64
	err := db.pool.QueryRow(ctx, `SELECT mailbox, uid_validity, last_uid FROM email_inbox_state WHERE inbox_id = $1`, inboxID).Scan(&p.Mailbox, &v, &u)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil
	} else if err != nil {
		return p, fmt.Errorf("email progress of inbox %d: %w", inboxID, err)
	}
	p.UIDValidity, p.LastUID = uint32(v), uint32(u)
	return p, nil
}

// SetEmailProgress records that every message up to p.LastUID is committed.
// Within one UIDVALIDITY of one folder progress only moves forward; a new
// UIDVALIDITY (or folder) replaces it.
func (db *DB) SetEmailProgress(ctx context.Context, inboxID int64, p EmailProgress) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO email_inbox_state (inbox_id, mailbox, uid_validity, last_uid) VALUES ($1, $2, $3, $4)
		ON CONFLICT (inbox_id) DO UPDATE SET
			last_uid = CASE WHEN email_inbox_state.uid_validity = EXCLUDED.uid_validity AND email_inbox_state.mailbox = EXCLUDED.mailbox
				THEN GREATEST(email_inbox_state.last_uid, EXCLUDED.last_uid) ELSE EXCLUDED.last_uid END,
			uid_validity = EXCLUDED.uid_validity, mailbox = EXCLUDED.mailbox, updated_at = now()`,
		inboxID, p.Mailbox, int64(p.UIDValidity), int64(p.LastUID))
	if err != nil {
		return fmt.Errorf("set email progress of inbox %d: %w", inboxID, err)
	}
	return nil
}

// EmailStatus is what an email inbox's watcher last reported.
type EmailStatus struct {
	// State is connecting, idle (IMAP IDLE), polling or error.
	State         string    `json:"state"`
	LastError     string    `json:"last_error,omitempty"`
	LastErrorAt   time.Time `json:"last_error_at,omitzero"`
	LastSuccessAt time.Time `json:"last_success_at,omitzero"`
	UIDValidity   uint32    `json:"uid_validity,omitempty"`
	LastUID       uint32    `json:"last_uid,omitempty"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
}

// SetEmailStatus records the watcher's state; an empty lastError is a
// success, which keeps the previous error for reference.
func (db *DB) SetEmailStatus(ctx context.Context, inboxID int64, state, lastError string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO email_inbox_state AS s (inbox_id, state, last_error, last_error_at, last_success_at)
		VALUES ($1, $2, $3, CASE WHEN $3 <> '' THEN now() END, CASE WHEN $3 = '' THEN now() END)
		ON CONFLICT (inbox_id) DO UPDATE SET state = EXCLUDED.state,
			last_error = CASE WHEN EXCLUDED.last_error <> '' THEN EXCLUDED.last_error ELSE s.last_error END,
			last_error_at = COALESCE(EXCLUDED.last_error_at, s.last_error_at),
			last_success_at = COALESCE(EXCLUDED.last_success_at, s.last_success_at),
			updated_at = now()`, inboxID, state, lastError)
	if err != nil {
		return fmt.Errorf("set email status of inbox %d: %w", inboxID, err)
	}
	return nil
}

// EmailStatus returns an email inbox's watcher status (state "" before the
// watcher first ran).
func (db *DB) EmailStatus(ctx context.Context, inboxID int64) (EmailStatus, error) {
	var s EmailStatus
	var errAt, okAt *time.Time
	var v, u int64
	err := db.pool.QueryRow(ctx, `SELECT state, last_error, last_error_at, last_success_at, uid_validity, last_uid, updated_at
		FROM email_inbox_state WHERE inbox_id = $1`, inboxID).Scan(&s.State, &s.LastError, &errAt, &okAt, &v, &u, &s.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return EmailStatus{State: "pending"}, nil
	} else if err != nil {
		return s, fmt.Errorf("email status of inbox %d: %w", inboxID, err)
	}
	s.LastErrorAt, s.LastSuccessAt, s.UpdatedAt = nullTime(errAt), nullTime(okAt), s.UpdatedAt.UTC()
	s.UIDValidity, s.LastUID = uint32(v), uint32(u)
	return s, nil
}

// EmailConversation returns the conversation an email answers: the first
// of ids (most specific first) that is the Message-ID of an email imported
// into the inbox or of a reply sent from it. 0 when none matches.
func (db *DB) EmailConversation(ctx context.Context, inboxID int64, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = "mid:" + id
	}
	rows, err := db.pool.Query(ctx, `SELECT m.conversation_id, x.ord FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS x(id, key, ord)
		JOIN messages m ON m.inbox_id = $1 AND ((m.direction = 'in' AND m.dedupe_key = x.key) OR (m.direction = 'out' AND m.provider_id = x.id))
		ORDER BY x.ord, m.id DESC LIMIT 1`, inboxID, ids, keys)
	if err != nil {
		return 0, fmt.Errorf("find email thread: %w", err)
	}
	defer rows.Close()
	var conv, ord int64
	if rows.Next() {
		if err := rows.Scan(&conv, &ord); err != nil {
			return 0, err
		}
	}
	return conv, rows.Err()
}

// EmailOpenConversations returns the open conversations of the customer with
// an email address in an inbox, by id, with their subjects.
func (db *DB) EmailOpenConversations(ctx context.Context, inboxID int64, address string) (map[int64]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT c.id, c.subject FROM conversations c
		JOIN customer_identities ci ON ci.customer_id = c.customer_id AND ci.channel = 'email' AND ci.address = $2
		WHERE c.inbox_id = $1 AND c.status IN ('queued', 'assigned') ORDER BY c.id DESC LIMIT 50`, inboxID, address)
	if err != nil {
		return nil, fmt.Errorf("open email conversations: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var subject string
		if err := rows.Scan(&id, &subject); err != nil {
			return nil, err
		}
		out[id] = subject
	}
	return out, rows.Err()
}

// EmailAttachment is an attachment of an imported email.
type EmailAttachment struct {
	Name, ContentType string
	Size              int64
	Inline            bool
	Data              []byte // nil when refused
	Refused           string
}

// EmailRecord is an imported email in its parsed and raw forms.
type EmailRecord struct {
	InboxID      int64
	MessageRowID int64 // 0 when it became no message (a matched bounce)
	DedupeKey    string
	Kind         string // message, auto_reply, report, bounce
	MessageID    string
	From         string
	ReplyTo      string
	Subject      string
	InReplyTo    []string
	References   []string
	Text, HTML   string
	ParseError   string
	Raw          []byte
	Attachments  []EmailAttachment
}

// SaveEmail stores an imported email once: a second call with the same
// dedupe key changes nothing.
func (db *DB) SaveEmail(ctx context.Context, r EmailRecord) error {
	if r.Kind == "" {
		r.Kind = "message"
	}
	if r.Raw == nil {
		r.Raw = []byte{}
	}
	if r.InReplyTo == nil {
		r.InReplyTo = []string{}
	}
	if r.References == nil {
		r.References = []string{}
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `INSERT INTO email_messages (inbox_id, dedupe_key, message_row_id, message_id, from_address, reply_to, subject,
				in_reply_to, refs, text_body, html_body, raw, parse_error, kind)
			VALUES ($1, $2, NULLIF($3, 0), $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			ON CONFLICT (inbox_id, dedupe_key) DO NOTHING RETURNING id`,
			r.InboxID, r.DedupeKey, r.MessageRowID, r.MessageID, r.From, r.ReplyTo, r.Subject, r.InReplyTo, r.References,
			r.Text, r.HTML, r.Raw, r.ParseError, r.Kind).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // stored before
		} else if err != nil {
			return fmt.Errorf("save email: %w", err)
		}
		for i, a := range r.Attachments {
			if _, err := tx.Exec(ctx, `INSERT INTO email_attachments (email_message_id, position, name, content_type, size, inline, data, refused)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, i, a.Name, a.ContentType, a.Size, a.Inline, a.Data, a.Refused); err != nil {
				return fmt.Errorf("save email attachment: %w", err)
			}
		}
		return nil
	})
}

// EmailOf returns the stored email behind a message (ENOTFOUND when the
// message did not come by email).
func (db *DB) EmailOf(ctx context.Context, messageRowID int64) (EmailRecord, error) {
	var r EmailRecord
	var row *int64
	err := db.pool.QueryRow(ctx, `SELECT inbox_id, message_row_id, dedupe_key, kind, message_id, from_address, reply_to, subject, in_reply_to, refs,
			text_body, html_body, parse_error, raw FROM email_messages WHERE message_row_id = $1`, messageRowID).
		Scan(&r.InboxID, &row, &r.DedupeKey, &r.Kind, &r.MessageID, &r.From, &r.ReplyTo, &r.Subject, &r.InReplyTo, &r.References,
			&r.Text, &r.HTML, &r.ParseError, &r.Raw)
	if err != nil {
		return r, notFound(err, "email of message", messageRowID)
	}
	if row != nil {
		r.MessageRowID = *row
	}
	return r, nil
}

// EmailReply is what an outbound email needs from its conversation.
type EmailReply struct {
	// To is where the reply goes: the Reply-To or From of the customer's
	// latest email, else the customer's email identity.
	To string
	// MessageIDs are the conversation's Message-IDs in order, inbound and
	// outbound; InReplyTo is the customer's latest.
	MessageIDs []string
	InReplyTo  string
}

// EmailReplyContext returns the addressing and threading of a reply in a
// conversation.
func (db *DB) EmailReplyContext(ctx context.Context, convID int64) (EmailReply, error) {
	var r EmailReply
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(NULLIF(e.reply_to, ''), e.from_address), e.message_id FROM email_messages e
		JOIN messages m ON m.id = e.message_row_id WHERE m.conversation_id = $1 AND e.kind IN ('message', 'auto_reply')
		ORDER BY m.seq DESC LIMIT 1`, convID).Scan(&r.To, &r.InReplyTo)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return r, fmt.Errorf("email reply context of conversation %d: %w", convID, err)
	}
	if r.To == "" {
		err = db.pool.QueryRow(ctx, `SELECT ci.address FROM conversations c JOIN customer_identities ci ON ci.customer_id = c.customer_id
			WHERE c.id = $1 AND ci.channel = 'email' ORDER BY ci.created_at LIMIT 1`, convID).Scan(&r.To)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return r, fmt.Errorf("customer email of conversation %d: %w", convID, err)
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT CASE WHEN m.direction = 'out' THEN m.provider_id ELSE COALESCE(e.message_id, '') END
		FROM messages m LEFT JOIN email_messages e ON e.message_row_id = m.id
		WHERE m.conversation_id = $1 AND NOT m.private ORDER BY m.seq`, convID)
	if err != nil {
		return r, fmt.Errorf("message ids of conversation %d: %w", convID, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return r, err
	}
	for _, id := range ids {
		if id != "" {
			r.MessageIDs = append(r.MessageIDs, id)
		}
	}
	return r, nil
}

// EmailLeaseKey names the lease of an inbox's watcher.
func EmailLeaseKey(inboxID int64) string {
	return "parley:email:inbox:" + strconv.FormatInt(inboxID, 10)
}

// EmailAttachmentFile returns a stored attachment of the email behind a
// message by its position. ENOTFOUND when the message came by no email, the
// position is unknown, or the attachment was refused (recorded, not stored).
func (db *DB) EmailAttachmentFile(ctx context.Context, messageRowID int64, position int) (EmailAttachment, error) {
	var a EmailAttachment
	err := db.pool.QueryRow(ctx, `SELECT a.name, a.content_type, a.size, a.inline, a.data, a.refused FROM email_attachments a
		JOIN email_messages e ON e.id = a.email_message_id
		WHERE e.message_row_id = $1 AND a.position = $2 AND a.data IS NOT NULL AND a.refused = ''`, messageRowID, position).
		Scan(&a.Name, &a.ContentType, &a.Size, &a.Inline, &a.Data, &a.Refused)
	if err != nil {
		return a, notFound(err, "attachment of message", fmt.Sprintf("%d/%d", messageRowID, position))
	}
	return a, nil
}

// EmailHTML returns the sanitised HTML of the email behind a message.
// ENOTFOUND when the message came by no email or the email had no HTML.
func (db *DB) EmailHTML(ctx context.Context, messageRowID int64) (string, error) {
	var h string
	err := db.pool.QueryRow(ctx, `SELECT html_body FROM email_messages WHERE message_row_id = $1 AND html_body <> ''`, messageRowID).Scan(&h)
	if err != nil {
		return "", notFound(err, "HTML of message", messageRowID)
	}
	return h, nil
}
