package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

const messageColumns = `m.id, m.conversation_id, m.seq, m.direction, m.private, m.sender_type, COALESCE(m.sender_id, 0), m.sender_name,
	m.channel, m.body, m.attachments, m.delivery, m.client_msg_id, m.created_at,
	CASE WHEN m.channel = 'email' THEN EXISTS (SELECT 1 FROM email_messages e WHERE e.message_row_id = m.id AND e.html_body <> '') ELSE false END`

// messageColumns' last column (whether an email message has HTML) looks at
// email_messages only for channel email, through email_messages_row_idx.

func scanMessage(row pgx.Row) (parley.Message, error) {
	var m parley.Message
	var dir, ch string
	var hasHTML bool
	err := row.Scan(&m.ID, &m.ConversationID, &m.Seq, &dir, &m.Private, &m.Sender.Type, &m.Sender.ID, &m.Sender.Name,
		&ch, &m.Body, &m.Attachments, &m.Delivery, &m.ClientMsgID, &m.CreatedAt, &hasHTML)
	m.Direction, m.Channel, m.CreatedAt = parley.Direction(dir), parley.Channel(ch), m.CreatedAt.UTC()
	if m.Attachments == nil {
		m.Attachments = []parley.Attachment{}
	}
	if m.Channel == parley.ChannelEmail && m.Direction == parley.DirectionIn {
		// An imported email's attachments are downloaded from the API.
		for i := range m.Attachments {
			if a := &m.Attachments[i]; a.URL == "" && a.Refused == "" {
				a.URL = parley.EmailAttachmentURL(m.ID, i)
			}
		}
	}
	if hasHTML {
		m.HTMLURL = parley.EmailHTMLURL(m.ID)
	}
	return m, err
}

// insertMessage stores m as the conversation's next message.
func insertMessage(ctx context.Context, tx pgx.Tx, convID, inboxID int64, m parley.Message, dedupeKey string) (parley.Message, error) {
	var seq int64
	if err := tx.QueryRow(ctx, `UPDATE conversations SET last_seq = last_seq + 1, updated_at = now() WHERE id = $1 RETURNING last_seq`, convID).Scan(&seq); err != nil {
		return m, fmt.Errorf("next seq of conversation %d: %w", convID, err)
	}
	if m.Attachments == nil {
		m.Attachments = []parley.Attachment{}
	}
	var key *string
	if dedupeKey != "" {
		key = &dedupeKey
	}
	out, err := scanMessage(tx.QueryRow(ctx, `INSERT INTO messages AS m (conversation_id, inbox_id, seq, direction, private, sender_type, sender_id,
		sender_name, channel, body, attachments, delivery, dedupe_key, client_msg_id)
		VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, 0), $8, $9, $10, $11, $12, $13, $14) RETURNING `+messageColumns,
		convID, inboxID, seq, string(m.Direction), m.Private, m.Sender.Type, m.Sender.ID, m.Sender.Name, string(m.Channel),
		m.Body, m.Attachments, m.Delivery, key, m.ClientMsgID))
	if err != nil {
		return out, fmt.Errorf("insert message: %w", err)
	}
	return out, writeEvent(ctx, tx, "message.created", convID, 0, 0, map[string]any{"message_id": out.ID, "seq": seq, "direction": m.Direction, "private": m.Private})
}

// AgentMessage stores a reply or internal note written by an agent in a
// conversation assigned to them (force lets supervisors write anyway). A
// client_msg_id seen before returns the stored message with dup set.
func (db *DB) AgentMessage(ctx context.Context, convID int64, agent parley.Agent, body string, private bool, clientMsgID string, force bool) (m parley.Message, dup bool, err error) {
	if err := parley.ValidateBody(body); err != nil {
		return m, false, err
	}
	if err := parley.ValidateClientMsgID(clientMsgID, false); err != nil {
		return m, false, err
	}
	key := ""
	if clientMsgID != "" {
		key = fmt.Sprintf("agent:%d:%s", agent.ID, clientMsgID)
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		c, err := getConversation(ctx, tx, convID, true)
		if err != nil {
			return err
		}
		if key != "" {
			m, err = scanMessage(tx.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages m WHERE inbox_id = $1 AND dedupe_key = $2`, c.InboxID, key))
			if err == nil {
				dup = true
				return nil
			} else if err != pgx.ErrNoRows {
				return fmt.Errorf("find duplicate: %w", err)
			}
		}
		if c.Status != parley.StatusAssigned {
			return parley.Errorf(parley.ECONFLICT, "Conversation %d is %s; reopen it to reply.", convID, c.Status)
		}
		if c.AgentID != agent.ID && !force {
			return parley.Errorf(parley.EFORBIDDEN, "Conversation %d is not assigned to you.", convID)
		}
		delivery := parley.DeliveryQueued
		if private {
			delivery = ""
		}
		m, err = insertMessage(ctx, tx, convID, c.InboxID, parley.Message{
			Direction: parley.DirectionOut, Private: private, Channel: c.Channel, Body: body, Delivery: delivery, ClientMsgID: clientMsgID,
			Sender: parley.MessageSender{Type: parley.SenderAgent, ID: agent.ID, Name: agent.Name},
		}, key)
		return err
	})
	return m, dup, err
}

// Message returns a message by id.
func (db *DB) Message(ctx context.Context, id int64) (parley.Message, error) {
	m, err := scanMessage(db.pool.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages m WHERE id = $1`, id))
	if err != nil {
		return m, notFound(err, "message", id)
	}
	return m, nil
}

// Messages returns up to limit messages of a conversation with seq > afterSeq,
// in seq order; private notes only when includePrivate.
func (db *DB) Messages(ctx context.Context, convID, afterSeq int64, limit int, includePrivate bool) ([]parley.Message, error) {
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := db.pool.Query(ctx, `SELECT `+messageColumns+` FROM messages m WHERE conversation_id = $1 AND seq > $2 AND ($3 OR NOT private)
		ORDER BY seq LIMIT $4`, convID, afterSeq, includePrivate, limit)
	if err != nil {
		return nil, fmt.Errorf("messages of conversation %d: %w", convID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Message, error) { return scanMessage(r) })
}

// SetDelivery records an outbound message's delivery state.
// It only moves forward (see parley.DeliveryAdvances), so a late "sent"
// cannot overwrite an earlier "delivered" callback; changed reports whether
// it moved.
func (db *DB) SetDelivery(ctx context.Context, msgID int64, state string) (changed bool, err error) {
	tag, err := db.pool.Exec(ctx, `UPDATE messages SET delivery = $2 WHERE id = $1 AND direction = 'out'
		AND `+deliveryRankSQL("delivery")+` < `+deliveryRankSQL("$2::text"), msgID, state)
	if err != nil {
		return false, fmt.Errorf("set delivery of message %d: %w", msgID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// deliveryRankSQL mirrors parley.DeliveryAdvances in SQL.
func deliveryRankSQL(expr string) string {
	return `(CASE ` + expr + ` WHEN 'queued' THEN 1 WHEN 'sent' THEN 2 WHEN 'delivered' THEN 3 WHEN 'read' THEN 4
		WHEN 'failed' THEN 5 WHEN 'undelivered' THEN 5 ELSE 0 END)`
}

// SetProviderID records the provider's id of a sent message.
func (db *DB) SetProviderID(ctx context.Context, msgID int64, providerID string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE messages SET provider_id = $2 WHERE id = $1`, msgID, providerID); err != nil {
		return fmt.Errorf("set provider id of message %d: %w", msgID, err)
	}
	return nil
}

// SetDeliveryError records why a message was not delivered.
func (db *DB) SetDeliveryError(ctx context.Context, msgID int64, reason string) error {
	if _, err := db.pool.Exec(ctx, `UPDATE messages SET delivery_error = $2 WHERE id = $1`, msgID, reason); err != nil {
		return fmt.Errorf("set delivery error of message %d: %w", msgID, err)
	}
	return nil
}

// MessageByProviderID finds an outbound message by the provider's id.
func (db *DB) MessageByProviderID(ctx context.Context, inboxID int64, providerID string) (parley.Message, error) {
	m, err := scanMessage(db.pool.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages m WHERE inbox_id = $1 AND provider_id = $2 AND provider_id <> ''`, inboxID, providerID))
	if err != nil {
		return m, notFound(err, "message with provider id", providerID)
	}
	return m, nil
}
