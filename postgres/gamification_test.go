package postgres_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/gamification"
	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/postgres"
)

func pendingIDs(t *testing.T, g *postgres.Gamification, gapWait time.Duration) []int64 {
	t.Helper()
	var ids []int64
	err := g.InTx(context.Background(), func(tx gamification.Tx) error {
		evs, err := tx.PendingEvents(context.Background(), 100, gapWait)
		for _, e := range evs {
			ids = append(ids, e.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestGamificationEventsStopAtAGapUntilItCommitsOrAges(t *testing.T) {
	db := postgres.New(testenv.Postgres(t).Pool, nil)
	ctx := context.Background()
	g := db.Gamification()
	if _, err := db.Pool().Exec(ctx, `INSERT INTO events (type) VALUES ('a')`); err != nil {
		t.Fatal(err)
	}
	// A transaction takes id 2 and has not committed when id 3 commits.
	tx, err := db.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.Exec(ctx, `INSERT INTO events (type) VALUES ('slow')`)
	db.Pool().Exec(ctx, `INSERT INTO events (type) VALUES ('b')`)
	if got := pendingIDs(t, g, time.Hour); len(got) != 1 || got[0] != 1 {
		t.Fatalf("pending %v while id 2 is in flight; want [1]", got)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := pendingIDs(t, g, time.Hour); len(got) != 3 {
		t.Fatalf("pending %v after the commit; want [1 2 3]", got)
	}
	// A rolled-back id is a gap forever: passed once it is old enough.
	tx, _ = db.Pool().Begin(ctx)
	tx.Exec(ctx, `INSERT INTO events (type) VALUES ('lost')`)
	tx.Rollback(ctx)
	db.Pool().Exec(ctx, `INSERT INTO events (type) VALUES ('c')`)
	if got := pendingIDs(t, g, time.Hour); len(got) != 3 {
		t.Fatalf("pending %v with a young gap; want [1 2 3]", got)
	}
	time.Sleep(20 * time.Millisecond)
	if got := pendingIDs(t, g, 10*time.Millisecond); len(got) != 4 || got[3] != 5 {
		t.Fatalf("pending %v with an old gap; want [1 2 3 5]", got)
	}
}

func TestGamificationLockIsExclusive(t *testing.T) {
	db := postgres.New(testenv.Postgres(t).Pool, nil)
	ctx := context.Background()
	first, err := db.Gamification().Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Alive(ctx); err != nil {
		t.Fatalf("holder's lease not alive: %v", err)
	}
	wait, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	if _, err := db.Gamification().Lock(wait); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while held: %v; want to wait until the deadline", err)
	}
	first.Release()
	second, err := db.Gamification().Lock(ctx)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	second.Release()
}

func TestGamificationRecordIsIdempotent(t *testing.T) {
	db := postgres.New(testenv.Postgres(t).Pool, nil)
	ctx := context.Background()
	a := parley.Agent{Name: "Ann", Email: "ann@parley.test", Role: parley.RoleAgent, Teams: []string{"Support", "Night"}}
	if err := db.CreateAgent(ctx, &a, "password1"); err != nil {
		t.Fatal(err)
	}
	e := gamification.Entry{AgentID: a.ID, Rule: gamification.RuleResolved, Points: 10, ConversationID: 5, EventID: 9, Dedupe: "event:9",
		Reason: "Resolved conversation 5", At: time.Now()}
	var results []bool
	var totals []int
	for range 2 {
		err := db.Gamification().InTx(ctx, func(tx gamification.Tx) error {
			rec, inserted, total, err := tx.Record(ctx, e)
			if inserted && len(rec.TeamIDs) != 2 {
				t.Errorf("team ids %v; want both teams", rec.TeamIDs)
			}
			results, totals = append(results, inserted), append(totals, total)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if !results[0] || results[1] {
		t.Errorf("inserted %v; want [true false]", results)
	}
	if totals[0] != 10 {
		t.Errorf("total %d; want 10", totals[0])
	}
	// An unknown agent is skipped, not an error that would stop processing.
	e.AgentID = 999999
	err := db.Gamification().InTx(ctx, func(tx gamification.Tx) error {
		_, inserted, _, err := tx.Record(ctx, e)
		if inserted {
			t.Error("recorded points for an agent that does not exist")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
