package postgres_test

import (
	"context"
	"testing"

	"github.com/parleyhq/parley/postgres"
)

func TestEmailProgressMovesForwardWithinAUIDValidityOnly(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	set := func(p postgres.EmailProgress) {
		t.Helper()
		if err := db.SetEmailProgress(ctx, in.ID, p); err != nil {
			t.Fatal(err)
		}
	}
	get := func() postgres.EmailProgress {
		t.Helper()
		p, err := db.EmailProgress(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := get(); p != (postgres.EmailProgress{}) {
		t.Fatalf("fresh progress %+v; want zero", p)
	}
	set(postgres.EmailProgress{Mailbox: "INBOX", UIDValidity: 7, LastUID: 10})
	set(postgres.EmailProgress{Mailbox: "INBOX", UIDValidity: 7, LastUID: 4}) // a late writer
	if p := get(); p.LastUID != 10 {
		t.Errorf("last uid %d after a stale write; want 10", p.LastUID)
	}
	set(postgres.EmailProgress{Mailbox: "INBOX", UIDValidity: 8, LastUID: 0})
	if p := get(); p.UIDValidity != 8 || p.LastUID != 0 {
		t.Errorf("progress %+v after a UIDVALIDITY change; want 8/0", p)
	}
}

func TestEmailLeaseIsExclusive(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	key := postgres.EmailLeaseKey(in.ID)
	a, ok, err := db.TryLease(ctx, key)
	if err != nil || !ok {
		t.Fatalf("first lease: ok %v err %v", ok, err)
	}
	if _, ok, err := db.TryLease(ctx, key); err != nil || ok {
		t.Fatalf("second lease while held: ok %v err %v; want refused", ok, err)
	}
	if err := a.Alive(ctx); err != nil {
		t.Errorf("held lease not alive: %v", err)
	}
	a.Release()
	b, ok, err := db.TryLease(ctx, key)
	if err != nil || !ok {
		t.Fatalf("lease after release: ok %v err %v", ok, err)
	}
	b.Release()
}

func TestEmailStatusKeepsLastErrorAfterSuccess(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	if s, _ := db.EmailStatus(ctx, in.ID); s.State != "pending" {
		t.Errorf("state %q before the watcher ran; want pending", s.State)
	}
	db.SetEmailStatus(ctx, in.ID, "error", "log in: bad password")
	db.SetEmailStatus(ctx, in.ID, "idle", "")
	s, err := db.EmailStatus(ctx, in.ID)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != "idle" || s.LastError != "log in: bad password" || s.LastErrorAt.IsZero() || s.LastSuccessAt.IsZero() {
		t.Errorf("status %+v", s)
	}
}
