package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

const inboxColumns = `id, channel, name, queue_id, settings, secrets, created_at, updated_at`

// credentials is what an inbox keeps sealed in its secrets column.
type credentials struct {
	Address string                `json:"address,omitempty"`
	Twilio  *parley.TwilioAccount `json:"twilio,omitempty"`
	IMAP    *parley.MailServer    `json:"imap,omitempty"`
	SMTP    *parley.MailServer    `json:"smtp,omitempty"`
}

func inboxAD(id int64) []byte { return []byte(fmt.Sprintf("inbox:%d", id)) }

func (db *DB) scanInbox(row pgx.Row) (parley.InboxConfig, error) {
	var i parley.InboxConfig
	var ch string
	var sealed []byte
	err := row.Scan(&i.ID, &ch, &i.Name, &i.QueueID, &i.Settings, &sealed, &i.CreatedAt, &i.UpdatedAt)
	i.Channel = parley.Channel(ch)
	i.CreatedAt, i.UpdatedAt = i.CreatedAt.UTC(), i.UpdatedAt.UTC()
	if err != nil || len(sealed) == 0 {
		return i, err
	}
	if db.box == nil {
		return i, fmt.Errorf("inbox %d has sealed credentials: PARLEY_SECRET_KEY is needed to read them", i.ID)
	}
	plain, err := db.box.Open(sealed, inboxAD(i.ID))
	if err != nil {
		return i, fmt.Errorf("inbox %d credentials: %w", i.ID, err)
	}
	var c credentials
	if err := json.Unmarshal(plain, &c); err != nil {
		return i, fmt.Errorf("inbox %d credentials: %w", i.ID, err)
	}
	i.Address, i.Twilio, i.IMAP, i.SMTP = c.Address, c.Twilio, c.IMAP, c.SMTP
	return i, nil
}

// sealCredentials stores an inbox's credentials sealed, in the caller's
// transaction.
func (db *DB) sealCredentials(ctx context.Context, tx pgx.Tx, i parley.InboxConfig) error {
	var sealed []byte
	if i.HasCredentials() || i.Address != "" {
		if db.box == nil {
			return parley.Errorf(parley.EUNAVAILABLE, "Set PARLEY_SECRET_KEY to store channel credentials.")
		}
		plain, err := json.Marshal(credentials{Address: i.Address, Twilio: i.Twilio, IMAP: i.IMAP, SMTP: i.SMTP})
		if err != nil {
			return err
		}
		sealed = db.box.Seal(plain, inboxAD(i.ID))
	}
	if _, err := tx.Exec(ctx, `UPDATE inboxes SET secrets = $2 WHERE id = $1`, i.ID, sealed); err != nil {
		return fmt.Errorf("store inbox %d credentials: %w", i.ID, err)
	}
	return nil
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
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO inboxes (channel, name, queue_id, settings) VALUES ($1, $2, $3, $4) RETURNING id`,
			string(i.Channel), i.Name, i.QueueID, i.Settings).Scan(&i.ID); err != nil {
			return fmt.Errorf("insert inbox: %w", err)
		}
		return db.sealCredentials(ctx, tx, *i)
	})
	if err != nil {
		return err
	}
	got, err := db.Inbox(ctx, i.ID)
	*i = got
	return err
}

// Inbox returns an inbox by id.
func (db *DB) Inbox(ctx context.Context, id int64) (parley.InboxConfig, error) {
	i, err := db.scanInbox(db.pool.QueryRow(ctx, `SELECT `+inboxColumns+` FROM inboxes WHERE id = $1`, id))
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
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.InboxConfig, error) { return db.scanInbox(r) })
}

// UpdateInbox replaces an inbox's settings (its channel cannot change).
func (db *DB) UpdateInbox(ctx context.Context, i *parley.InboxConfig) error {
	if err := i.Validate(); err != nil {
		return err
	}
	if err := db.checkInboxQueues(ctx, *i); err != nil {
		return err
	}
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE inboxes SET name = $2, queue_id = $3, settings = $4, updated_at = now()
			WHERE id = $1 AND channel = $5`, i.ID, i.Name, i.QueueID, i.Settings, string(i.Channel))
		if err != nil {
			return fmt.Errorf("update inbox %d: %w", i.ID, err)
		} else if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.ENOTFOUND, "inbox %d not found.", i.ID)
		}
		return db.sealCredentials(ctx, tx, *i)
	})
	if err != nil {
		return err
	}
	got, err := db.Inbox(ctx, i.ID)
	*i = got
	return err
}
