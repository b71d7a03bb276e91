// Package postgres implements Parley's storage on PostgreSQL with pgx. It is
// the source of truth: Redis routing state is rebuilt from it.
package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/secret"
	"golang.org/x/crypto/bcrypt"
)

// DB is Parley's PostgreSQL store.
type DB struct {
	pool *pgxpool.Pool
	box  *secret.Box
	now  func() time.Time
	cost int // bcrypt cost of new password hashes
}

// New returns a store over pool. box seals channel credentials; without it
// (nil) inboxes with credentials can be neither stored nor read.
func New(pool *pgxpool.Pool, box *secret.Box) *DB {
	return &DB{pool: pool, box: box, now: time.Now, cost: bcrypt.DefaultCost}
}

// WithPasswordCost returns a copy of db that hashes new passwords with
// bcrypt cost cost (at least bcrypt.MinCost). Tests seed with the minimum:
// under the race detector one hash at the default cost takes over half a
// second. Verifying a password takes the cost it was hashed with.
func (db *DB) WithPasswordCost(cost int) *DB {
	c := *db
	c.cost = max(cost, bcrypt.MinCost)
	return &c
}

// Pool returns the underlying pool.
func (db *DB) Pool() *pgxpool.Pool { return db.pool }

// Ping checks that PostgreSQL answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// inTx runs fn in a transaction, committing when it returns nil.
func (db *DB) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, fn)
}

// querier is what pgx.Tx and *pgxpool.Pool share.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// notFound turns pgx.ErrNoRows into a parley ENOTFOUND error.
func notFound(err error, what string, id any) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "%s %v not found.", what, id)
	}
	return fmt.Errorf("find %s %v: %w", what, id, err)
}

func isUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}

// newToken returns a random bearer token and the hash stored for it.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok)
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// writeEvent appends to the outbox in the caller's transaction.
func writeEvent(ctx context.Context, q querier, typ string, convID, agentID, customerID int64, payload any) error {
	if payload == nil {
		payload = map[string]any{}
	}
	_, err := q.Exec(ctx, `INSERT INTO events (type, conversation_id, agent_id, customer_id, payload)
		VALUES ($1, NULLIF($2, 0), NULLIF($3, 0), NULLIF($4, 0), $5)`, typ, convID, agentID, customerID, payload)
	if err != nil {
		return fmt.Errorf("write event %s: %w", typ, err)
	}
	return nil
}

func nullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

func mediaStrings(ms []parley.Media) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return out
}
