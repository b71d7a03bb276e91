package postgres

import (
	"context"
	"fmt"

	"github.com/parleyhq/parley"
)

// RecordOffer stores a new pending offer.
func (db *DB) RecordOffer(ctx context.Context, o parley.Offer) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO offers (id, conversation_id, agent_id, queue_id, state, created_at, expires_at)
		VALUES ($1, $2, $3, $4, 'pending', $5, $6) ON CONFLICT (id) DO NOTHING`, o.ID, o.ConversationID, o.AgentID, o.QueueID, o.CreatedAt, o.ExpiresAt)
	if err != nil {
		return fmt.Errorf("record offer %s: %w", o.ID, err)
	}
	return writeEvent(ctx, db.pool, "offer.created", o.ConversationID, o.AgentID, 0, map[string]any{"offer_id": o.ID, "queue_id": o.QueueID})
}

// EndOffer records an offer's terminal state (once; later calls change nothing).
func (db *DB) EndOffer(ctx context.Context, o parley.Offer) error {
	return endOffer(ctx, db.pool, o)
}

func endOffer(ctx context.Context, q querier, o parley.Offer) error {
	tag, err := q.Exec(ctx, `UPDATE offers SET state = $2, reason = $3, ended_at = $4 WHERE id = $1 AND state = 'pending'`,
		o.ID, string(o.State), o.Reason, o.EndedAt)
	if err != nil {
		return fmt.Errorf("end offer %s: %w", o.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return nil
	}
	return writeEvent(ctx, q, "offer."+string(o.State), o.ConversationID, o.AgentID, 0, map[string]any{"offer_id": o.ID, "reason": o.Reason})
}

// Offers returns a conversation's offers, oldest first.
func (db *DB) Offers(ctx context.Context, convID int64) ([]parley.Offer, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, conversation_id, agent_id, queue_id, state, reason, created_at, expires_at, COALESCE(ended_at, 'epoch')
		FROM offers WHERE conversation_id = $1 ORDER BY created_at, id`, convID)
	if err != nil {
		return nil, fmt.Errorf("offers of conversation %d: %w", convID, err)
	}
	defer rows.Close()
	var out []parley.Offer
	for rows.Next() {
		var o parley.Offer
		var state string
		if err := rows.Scan(&o.ID, &o.ConversationID, &o.AgentID, &o.QueueID, &state, &o.Reason, &o.CreatedAt, &o.ExpiresAt, &o.EndedAt); err != nil {
			return nil, err
		}
		o.State = parley.OfferState(state)
		out = append(out, o)
	}
	return out, rows.Err()
}
