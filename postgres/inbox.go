package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

const inboxColumns = `id, channel, name, queue_id, settings, created_at, updated_at`

func scanInbox(row pgx.Row) (parley.InboxConfig, error) {
	var i parley.InboxConfig
	var ch string
	err := row.Scan(&i.ID, &ch, &i.Name, &i.QueueID, &i.Settings, &i.CreatedAt, &i.UpdatedAt)
	i.Channel = parley.Channel(ch)
	i.CreatedAt, i.UpdatedAt = i.CreatedAt.UTC(), i.UpdatedAt.UTC()
	return i, err
}

// checkInboxQueues reports unknown queues an inbox points at.
func (db *DB) checkInboxQueues(ctx context.Context, i parley.InboxConfig) error {
	ids := []int64{i.QueueID}
	for _, t := range i.Settings.Topics {
		if t.QueueID != 0 {
			ids = append(ids, t.QueueID)
		}
	}
	var missing int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM unnest($1::bigint[]) AS q(id) WHERE NOT EXISTS (SELECT 1 FROM queues WHERE queues.id = q.id)`, ids).Scan(&missing); err != nil {
		return fmt.Errorf("check inbox queues: %w", err)
	}
	if missing > 0 {
		return parley.Invalid("Invalid inbox.", map[string]string{"queue_id": "unknown queue"})
	}
	return nil
}

// CreateInbox stores a new inbox.
func (db *DB) CreateInbox(ctx context.Context, i *parley.InboxConfig) error {
	if err := i.Validate(); err != nil {
		return err
	}
	if err := db.checkInboxQueues(ctx, *i); err != nil {
		return err
	}
	got, err := scanInbox(db.pool.QueryRow(ctx, `INSERT INTO inboxes (channel, name, queue_id, settings) VALUES ($1, $2, $3, $4) RETURNING `+inboxColumns,
		string(i.Channel), i.Name, i.QueueID, i.Settings))
	if err != nil {
		return fmt.Errorf("insert inbox: %w", err)
	}
	*i = got
	return nil
}

// Inbox returns an inbox by id.
func (db *DB) Inbox(ctx context.Context, id int64) (parley.InboxConfig, error) {
	i, err := scanInbox(db.pool.QueryRow(ctx, `SELECT `+inboxColumns+` FROM inboxes WHERE id = $1`, id))
	if err != nil {
		return i, notFound(err, "inbox", id)
	}
	return i, nil
}

// Inboxes returns every inbox ordered by id.
func (db *DB) Inboxes(ctx context.Context) ([]parley.InboxConfig, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+inboxColumns+` FROM inboxes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list inboxes: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.InboxConfig, error) { return scanInbox(r) })
}

// UpdateInbox replaces an inbox's settings (its channel cannot change).
func (db *DB) UpdateInbox(ctx context.Context, i *parley.InboxConfig) error {
	if err := i.Validate(); err != nil {
		return err
	}
	if err := db.checkInboxQueues(ctx, *i); err != nil {
		return err
	}
	got, err := scanInbox(db.pool.QueryRow(ctx, `UPDATE inboxes SET name = $2, queue_id = $3, settings = $4, updated_at = now()
		WHERE id = $1 AND channel = $5 RETURNING `+inboxColumns, i.ID, i.Name, i.QueueID, i.Settings, string(i.Channel)))
	if err != nil {
		return notFound(err, "inbox", i.ID)
	}
	*i = got
	return nil
}
