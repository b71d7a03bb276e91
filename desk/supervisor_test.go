package desk

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/metrics"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/routing"
	"github.com/prometheus/client_golang/prometheus"
)

type nopBus struct{}

func (nopBus) Publish(context.Context, string, any) error { return nil }

// wallboardDesk builds a desk with n agents (members of 10 queues through
// one team), every agent known to the router and half of them available,
// each with one assigned chat.
func wallboardDesk(tb testing.TB, n int) *Desk {
	tb.Helper()
	ctx := context.Background()
	db := postgres.New(testenv.Postgres(tb).Pool, nil)
	rdb, prefix := testenv.Redis(tb)
	router := routing.New(rdb, routing.Options{Prefix: prefix})
	d := New(Config{DB: db, Router: router, Redis: rdb, Prefix: prefix, Bus: nopBus{}, Metrics: metrics.New(prometheus.NewRegistry()),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	pool := db.Pool()
	if _, err := pool.Exec(ctx, `INSERT INTO teams (name) VALUES ('Floor')`); err != nil {
		tb.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO agents (name, email, password_hash, role, capacity)
		SELECT 'Agent ' || i, 'a' || i || '@bench.test', 'x', 'agent', '{"voice": 1, "chat": 3, "email": 5}' FROM generate_series(1, $1) i`, n); err != nil {
		tb.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO team_members SELECT t.id, a.id FROM teams t, agents a`); err != nil {
		tb.Fatal(err)
	}
	for i := range 10 {
		q := parley.Queue{Name: fmt.Sprintf("Queue %d", i), Members: []string{"team:Floor"}}
		q.Defaults()
		if err := db.CreateQueue(ctx, &q); err != nil {
			tb.Fatal(err)
		}
	}
	if err := d.Reconcile(ctx); err != nil {
		tb.Fatal(err)
	}
	agents, err := db.Agents(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	for i, a := range agents {
		if i%2 == 0 {
			if err := d.SetPresence(ctx, a.ID, parley.PresenceAvailable, ""); err != nil {
				tb.Fatal(err)
			}
		}
	}
	return d
}

func TestWallboardSnapshotCountsMembersByState(t *testing.T) {
	d := wallboardDesk(t, 20)
	snap, err := d.Wallboard(time.Minute).Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Agents) != 20 || len(snap.Queues) != 10 {
		t.Fatalf("snapshot: %d agents, %d queues; want 20, 10", len(snap.Agents), len(snap.Queues))
	}
	for _, q := range snap.Queues {
		if q.AgentsAvailable != 10 || q.AgentsAway != 0 || q.AgentsBusy != 0 {
			t.Errorf("%s: available %d away %d busy %d; want 10, 0, 0", q.Name, q.AgentsAvailable, q.AgentsAway, q.AgentsBusy)
		}
	}
	for _, a := range snap.Agents {
		if a.Status == parley.PresenceAvailable && a.Since == nil {
			t.Errorf("%s is available with no since", a.Name)
		}
	}
}

// BenchmarkWallboardSnapshot1000Agents measures one snapshot of the
// wallboard loop for 1,000 agents and 10 queues (configuration cached, as
// in the loop).
func BenchmarkWallboardSnapshot1000Agents(b *testing.B) {
	d := wallboardDesk(b, 1000)
	w := d.Wallboard(time.Hour)
	ctx := context.Background()
	if _, err := w.Snapshot(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := w.Snapshot(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
