package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
)

const customerColumns = `id, name, email, phone, locale, attributes, tags, lifecycle_stage, created_at, updated_at, preferred_channel`

func scanCustomer(row pgx.Row) (parley.Customer, error) {
	var c parley.Customer
	err := row.Scan(&c.ID, &c.Name, &c.Email, &c.Phone, &c.Locale, &c.Attributes, &c.Tags, &c.Stage, &c.CreatedAt, &c.UpdatedAt, &c.PreferredChannel)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

// Customer returns a customer by id.
func (db *DB) Customer(ctx context.Context, id int64) (parley.Customer, error) {
	c, err := scanCustomer(db.pool.QueryRow(ctx, `SELECT `+customerColumns+` FROM customers WHERE id = $1`, id))
	if err != nil {
		return c, notFound(err, "customer", id)
	}
	return c, nil
}

// Identities returns a customer's identities, oldest first.
func (db *DB) Identities(ctx context.Context, customerID int64) ([]parley.Identity, error) {
	return identities(ctx, db.pool, customerID)
}

func identities(ctx context.Context, q querier, customerID int64) ([]parley.Identity, error) {
	rows, err := q.Query(ctx, `SELECT channel, address, created_at FROM customer_identities WHERE customer_id = $1 ORDER BY created_at, channel`, customerID)
	if err != nil {
		return nil, fmt.Errorf("identities of customer %d: %w", customerID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Identity, error) {
		var i parley.Identity
		var ch string
		err := r.Scan(&ch, &i.Address, &i.Since)
		i.Channel, i.Since = parley.Channel(ch), i.Since.UTC()
		return i, err
	})
}

// Customer360 returns a customer with identities and their other
// conversations (most recent first, at most pastLimit, each with messages).
func (db *DB) Customer360(ctx context.Context, id, excludeConversation int64, pastLimit int) (parley.Customer360, error) {
	var out parley.Customer360
	c, err := db.Customer(ctx, id)
	if err != nil {
		return out, err
	}
	out.Customer = c
	if out.Identities, err = db.Identities(ctx, id); err != nil {
		return out, err
	}
	convs, err := db.conversations(ctx, `WHERE c.customer_id = $1 AND c.id <> $2 ORDER BY c.id DESC LIMIT $3`, id, excludeConversation, pastLimit)
	if err != nil {
		return out, err
	}
	for i := range convs {
		if convs[i].Messages, err = db.Messages(ctx, convs[i].ID, 0, 200, true); err != nil {
			return out, err
		}
	}
	out.PastConversations = convs
	return out, nil
}

// findOrCreateCustomer returns the customer known by id on the channel,
// creating both when new.
func findOrCreateCustomer(ctx context.Context, tx pgx.Tx, id parley.Identity, name string) (int64, error) {
	var cid int64
	err := tx.QueryRow(ctx, `SELECT customer_id FROM customer_identities WHERE channel = $1 AND address = $2`, string(id.Channel), id.Address).Scan(&cid)
	if err == nil {
		return cid, nil
	} else if err != pgx.ErrNoRows {
		return 0, fmt.Errorf("find identity: %w", err)
	}
	if err := tx.QueryRow(ctx, `INSERT INTO customers (name) VALUES ($1) RETURNING id`, name).Scan(&cid); err != nil {
		return 0, fmt.Errorf("create customer: %w", err)
	}
	if err := addIdentity(ctx, tx, cid, id); err != nil {
		return 0, err
	}
	return cid, nil
}

// addIdentity links an identity to a customer; an identity already linked to
// another customer stays where it is.
func addIdentity(ctx context.Context, tx pgx.Tx, customerID int64, id parley.Identity) error {
	_, err := tx.Exec(ctx, `INSERT INTO customer_identities (customer_id, channel, address) VALUES ($1, $2, $3)
		ON CONFLICT (channel, address) DO NOTHING`, customerID, string(id.Channel), id.Address)
	if err != nil {
		return fmt.Errorf("add identity: %w", err)
	}
	return nil
}

// WebchatStart opens a visitor session for a web-chat inbox. A valid old
// token of the same inbox continues that visitor (and is returned again);
// otherwise an email given in the pre-chat form finds the customer who
// already has it, then a phone (E.164) the customer who has it as an SMS,
// WhatsApp or voice identity, or a new customer is created. The email and
// phone become identities of the customer unless another customer owns
// them (then they are duplicate suggestions, never moved).
func (db *DB) WebchatStart(ctx context.Context, inboxID int64, oldToken, name, email, phone, topic, locale string) (string, int64, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	name = strings.TrimSpace(name)
	if strings.TrimSpace(phone) != "" {
		p, err := crm.NormalizePhone(phone, "")
		if err != nil {
			return "", 0, parley.Invalid("Invalid phone number.", map[string]string{"phone": err.Error()})
		}
		phone = p
	} else {
		phone = ""
	}
	var token string
	var customerID int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		token, customerID = "", 0
		if oldToken != "" {
			err := tx.QueryRow(ctx, `UPDATE visitor_sessions SET topic = $3, last_seen_at = now()
				WHERE token_hash = $1 AND inbox_id = $2 RETURNING customer_id`, hashToken(oldToken), inboxID, topic).Scan(&customerID)
			if err == nil {
				token = oldToken
			} else if err != pgx.ErrNoRows {
				return fmt.Errorf("find visitor session: %w", err)
			}
		}
		if customerID == 0 && email != "" {
			err := tx.QueryRow(ctx, `SELECT customer_id FROM customer_identities WHERE channel = 'email' AND address = $1`, email).Scan(&customerID)
			if err != nil && err != pgx.ErrNoRows {
				return fmt.Errorf("find customer by email: %w", err)
			}
		}
		if customerID == 0 && phone != "" {
			err := tx.QueryRow(ctx, `SELECT customer_id FROM customer_identities WHERE channel IN ('sms', 'whatsapp', 'voice')
				AND address IN ($1, 'whatsapp:' || $1) ORDER BY created_at LIMIT 1`, phone).Scan(&customerID)
			if err != nil && err != pgx.ErrNoRows {
				return fmt.Errorf("find customer by phone: %w", err)
			}
		}
		if customerID == 0 {
			if err := tx.QueryRow(ctx, `INSERT INTO customers (name, email, locale) VALUES ($1, $2, $3) RETURNING id`, name, email, locale).Scan(&customerID); err != nil {
				return fmt.Errorf("create customer: %w", err)
			}
		}
		_, err := tx.Exec(ctx, `UPDATE customers SET name = CASE WHEN $2 <> '' THEN $2 ELSE name END,
			email = CASE WHEN $3 <> '' THEN $3 ELSE email END, locale = CASE WHEN $4 <> '' THEN $4 ELSE locale END,
			phone = CASE WHEN $5 <> '' THEN $5 ELSE phone END, updated_at = now()
			WHERE id = $1`, customerID, name, email, locale, phone)
		if err != nil {
			return fmt.Errorf("update customer: %w", err)
		}
		if email != "" {
			if err := addIdentity(ctx, tx, customerID, parley.Identity{Channel: parley.ChannelEmail, Address: email}); err != nil {
				return err
			}
		}
		if phone != "" {
			if err := addIdentity(ctx, tx, customerID, parley.Identity{Channel: parley.ChannelSMS, Address: phone}); err != nil {
				return err
			}
		}
		if token == "" {
			var h []byte
			token, h = newToken()
			visitor := make([]byte, 16)
			rand.Read(visitor)
			if err := addIdentity(ctx, tx, customerID, parley.Identity{Channel: parley.ChannelWebchat, Address: "visitor:" + hex.EncodeToString(visitor)}); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO visitor_sessions (token_hash, inbox_id, customer_id, topic) VALUES ($1, $2, $3, $4)`,
				h, inboxID, customerID, topic); err != nil {
				return fmt.Errorf("create visitor session: %w", err)
			}
		}
		return writeEvent(ctx, tx, "webchat.session", 0, 0, customerID, map[string]any{"inbox_id": inboxID})
	})
	return token, customerID, err
}

// Visitor returns the session a visitor token belongs to.
func (db *DB) Visitor(ctx context.Context, token string) (parley.Visitor, error) {
	var v parley.Visitor
	err := db.pool.QueryRow(ctx, `UPDATE visitor_sessions SET last_seen_at = now() WHERE token_hash = $1 RETURNING inbox_id, customer_id, topic`,
		hashToken(token)).Scan(&v.InboxID, &v.CustomerID, &v.Topic)
	if err == pgx.ErrNoRows {
		return v, parley.Errorf(parley.EUNAUTHORIZED, "Unknown visitor token.")
	}
	return v, err
}

// SetBrowserHints stores what a visitor's browser reported (crm.Browser,
// already validated): the time zone when the profile has none or only a
// browser's (a user's value wins), and the browser's region and language.
// Empty hints change nothing; erased and merged customers are left alone.
func (db *DB) SetBrowserHints(ctx context.Context, customerID int64, b crm.Browser) error {
	if b == (crm.Browser{}) {
		return nil
	}
	_, err := db.pool.Exec(ctx, `UPDATE customers SET
			timezone = CASE WHEN $2 <> '' AND timezone_source <> 'agent' THEN $2 ELSE timezone END,
			timezone_source = CASE WHEN $2 <> '' AND timezone_source <> 'agent' THEN 'browser' ELSE timezone_source END,
			browser_region = CASE WHEN $3 <> '' THEN $3 ELSE browser_region END,
			browser_language = CASE WHEN $4 <> '' THEN $4 ELSE browser_language END,
			updated_at = now()
		WHERE id = $1 AND erased_at IS NULL AND merged_into IS NULL
			AND ($2 <> '' AND timezone_source <> 'agent' AND timezone IS DISTINCT FROM $2
				OR $3 <> '' AND browser_region <> $3 OR $4 <> '' AND browser_language <> $4)`,
		customerID, b.Timezone, b.Region, b.Language)
	if err != nil {
		return fmt.Errorf("browser hints of customer %d: %w", customerID, err)
	}
	return nil
}
