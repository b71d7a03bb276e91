package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// outboxEvent is an event read by a follower of the events outbox.
type outboxEvent struct {
	id, conv, customer int64
	typ                string
	payload            map[string]any
}

// followOutbox locks a follower's cursor row (the one row of table, column
// event_cursor) and returns the events after it, stopping before a young
// id gap: identity values are taken at insert and committed later, so a gap
// may be a transaction still in flight (or one rolled back, which is why
// gaps older than gapWait are passed). The caller handles the events and
// calls advanceOutbox in the same transaction.
func followOutbox(ctx context.Context, tx pgx.Tx, table string, limit int, gapWait time.Duration) ([]outboxEvent, error) {
	var cursor int64
	if err := tx.QueryRow(ctx, `SELECT event_cursor FROM `+table+` FOR UPDATE`).Scan(&cursor); err != nil {
		return nil, fmt.Errorf("%s cursor: %w", table, err)
	}
	rows, err := tx.Query(ctx, `SELECT id, type, COALESCE(conversation_id, 0), COALESCE(customer_id, 0), payload,
		clock_timestamp() - created_at > $3 * interval '1 second'
		FROM events WHERE id > $1 ORDER BY id LIMIT $2`, cursor, limit, gapWait.Seconds())
	if err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	defer rows.Close()
	var evs []outboxEvent
	prev := cursor
	for rows.Next() {
		var e outboxEvent
		var old bool
		if err := rows.Scan(&e.id, &e.typ, &e.conv, &e.customer, &e.payload, &old); err != nil {
			return nil, err
		}
		if e.id != prev+1 && !old {
			break // a younger gap may be a transaction still in flight
		}
		evs = append(evs, e)
		prev = e.id
	}
	return evs, rows.Err()
}

// advanceOutbox moves a follower's cursor past the events it handled.
func advanceOutbox(ctx context.Context, tx pgx.Tx, table string, evs []outboxEvent) error {
	if len(evs) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE `+table+` SET event_cursor = $1, updated_at = now()`, evs[len(evs)-1].id); err != nil {
		return fmt.Errorf("advance %s: %w", table, err)
	}
	return nil
}
