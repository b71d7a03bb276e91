package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Lease is a session-level PostgreSQL advisory lock, named by a string and
// held on one dedicated pooled connection: how singletons (event
// consumers, mailbox watchers) make sure exactly one instance runs them.
// It ends with Release, or when the connection dies.
type Lease struct {
	conn *pgxpool.Conn
	key  string
}

// TryLease takes the advisory lock named key unless another session holds
// it (ok false).
func (db *DB) TryLease(ctx context.Context, key string) (*Lease, bool, error) {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("lease %s: %w", key, err)
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtextextended($1, 0))`, key).Scan(&got); err != nil {
		conn.Release()
		return nil, false, fmt.Errorf("lease %s: %w", key, err)
	}
	if !got {
		conn.Release()
		return nil, false, nil
	}
	return &Lease{conn: conn, key: key}, true, nil
}

// WaitLease waits until this instance holds the lock named key, trying
// again every second.
func (db *DB) WaitLease(ctx context.Context, key string) (*Lease, error) {
	for {
		l, ok, err := db.TryLease(ctx, key)
		if err != nil || ok {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Alive checks that the lock is still held by the lease's session.
func (l *Lease) Alive(ctx context.Context) error {
	var held bool
	err := l.conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
		AND granted AND ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0))`, l.key).Scan(&held)
	if err != nil {
		return fmt.Errorf("lease %s lost: %w", l.key, err)
	}
	if !held {
		return errors.New("lease " + l.key + ": advisory lock not held")
	}
	return nil
}

// Release unlocks and returns the connection; a connection that cannot
// unlock is closed, which ends the lock too.
func (l *Lease) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock(hashtextextended($1, 0))`, l.key); err != nil {
		l.conn.Conn().Close(ctx)
	}
	l.conn.Release()
}
