package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/sla"
)

type timerLog struct {
	mu  sync.Mutex
	set map[string]time.Time
}

func (l *timerLog) ScheduleSLA(ctx context.Context, clockID int64, kind string, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.set[fmt.Sprintf("%s:%d", kind, clockID)] = at
	return nil
}

func slaClock(t *testing.T, svc *sla.Service, convID int64, k sla.Kind) sla.Clock {
	t.Helper()
	cs, err := svc.Clocks(context.Background(), convID)
	if err != nil {
		t.Fatal(err)
	}
	var last sla.Clock
	for _, c := range cs {
		if c.Kind == k {
			last = c
		}
	}
	if last.ID == 0 {
		t.Fatalf("no %s clock in %+v", k, cs)
	}
	return last
}

func countEvents(t *testing.T, db *postgres.DB, typ string, convID int64) int {
	t.Helper()
	var n int
	if err := db.Pool().QueryRow(context.Background(), `SELECT count(*) FROM events WHERE type = $1 AND conversation_id = $2`, typ, convID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSLAClocksFromTheOutboxTimersAndResolve(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	store := db.SLA()
	timers := &timerLog{set: map[string]time.Time{}}
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	svc := sla.New(sla.Config{Store: store, Timers: timers, Now: clock, GapWait: time.Millisecond})

	cal := sla.Calendar{Name: "Shanghai", TimeZone: "Asia/Shanghai", Weekly: map[string][]sla.Interval{"mon": {{Start: "09:00", End: "18:00"}}}}
	if err := svc.CreateCalendar(ctx, &cal); err != nil {
		t.Fatal(err)
	}
	got, err := svc.ImportDays(ctx, cal.ID, []sla.Day{{Date: "2026-01-01", Kind: sla.DayHoliday}, {Date: "2026-01-04", Kind: sla.DayWorkday}})
	if err != nil || len(got.Days) != 2 || got.Days[1].Kind != sla.DayWorkday {
		t.Fatalf("import days: %+v %v", got, err)
	}
	bad := sla.Policy{Name: "bad", Enabled: true, Targets: sla.Targets{FirstResponseS: 60}, BusinessHours: true, CalendarID: 999}
	if err := svc.CreatePolicy(ctx, &bad); parley.ErrorCode(err) != parley.EINVALID {
		t.Fatalf("policy with a missing calendar: %v; want EINVALID", err)
	}
	p := sla.Policy{Name: "chat", Enabled: true, Targets: sla.Targets{FirstResponseS: 60, ResolutionS: 600}}
	if err := svc.CreatePolicy(ctx, &p); err != nil || p.WarnPercent != 75 {
		t.Fatalf("create policy: %v (warn %d)", err, p.WarnPercent)
	}

	a := parley.Agent{Name: "A", Email: "a@x.test", Role: parley.RoleAgent}
	if err := db.CreateAgent(ctx, &a, "password1"); err != nil {
		t.Fatal(err)
	}
	r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelWebchat, Address: "v"}, Body: "hi"}, in)
	if err != nil {
		t.Fatal(err)
	}
	conv := r.Conversation
	if n, err := svc.ProcessBatch(ctx); err != nil || n != 2 {
		t.Fatalf("process: %d %v; want the created and message events", n, err)
	}
	fr := slaClock(t, svc, conv.ID, sla.FirstResponse)
	if fr.Status != sla.Running || !fr.DueAt.Equal(conv.CreatedAt.Add(time.Minute)) || !fr.WarnAt.Equal(conv.CreatedAt.Add(45*time.Second)) {
		t.Fatalf("first response %+v", fr)
	}
	if len(timers.set) != 4 {
		t.Fatalf("timers %v; want warning and breach of two clocks", timers.set)
	}

	// The agent replies in time, but the processor has not run yet when the
	// breach timer fires: the timer applies the reply first.
	now2 := time.Now()
	o := parley.Offer{ID: "o1", ConversationID: conv.ID, AgentID: a.ID, QueueID: in.QueueID, CreatedAt: now2, ExpiresAt: now2.Add(time.Minute),
		State: parley.OfferAccepted, EndedAt: now2}
	db.RecordOffer(ctx, o)
	if _, err := db.Assign(ctx, o); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.AgentMessage(ctx, conv.ID, a, "a private note", true, "", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.AgentMessage(ctx, conv.ID, a, "hello", false, "", false); err != nil {
		t.Fatal(err)
	}
	setNow(fr.DueAt.Add(10 * time.Millisecond))
	if err := svc.Fire(ctx, fr.ID, sla.TimerBreach, fr.DueAt); err != nil {
		t.Fatal(err)
	}
	if fr = slaClock(t, svc, conv.ID, sla.FirstResponse); fr.Outcome != sla.OutcomeMet || !fr.BreachedAt.IsZero() {
		t.Fatalf("first response after an in-time reply: %s breached %v; want met", fr.Outcome, fr.BreachedAt)
	}
	if n := countEvents(t, db, sla.EventMet, conv.ID); n != 1 {
		t.Fatalf("%d sla.met events; want 1", n)
	}

	// The resolution clock breaches on its timer, once; a stale timer
	// (another instant) does nothing.
	res := slaClock(t, svc, conv.ID, sla.Resolution)
	setNow(res.DueAt.Add(-time.Minute))
	if err := svc.Fire(ctx, res.ID, sla.TimerBreach, res.DueAt.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	setNow(res.DueAt.Add(20 * time.Millisecond))
	for range 2 {
		if err := svc.Fire(ctx, res.ID, sla.TimerBreach, res.DueAt); err != nil {
			t.Fatal(err)
		}
	}
	res = slaClock(t, svc, conv.ID, sla.Resolution)
	if res.State != "breached" || res.BreachedAt.Sub(res.DueAt) != 20*time.Millisecond || countEvents(t, db, sla.EventBreached, conv.ID) != 1 {
		t.Fatalf("resolution %s breached %v (due %v), %d events", res.State, res.BreachedAt, res.DueAt, countEvents(t, db, sla.EventBreached, conv.ID))
	}

	// Resolve: nothing runs any more, whatever timer fires.
	if _, err := db.Resolve(ctx, conv.ID, a.ID, "solved", false); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ProcessBatch(ctx); err != nil {
		t.Fatal(err)
	}
	cs, err := svc.Clocks(ctx, conv.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Status != sla.Stopped {
			t.Fatalf("%s clock %s after resolve", c.Kind, c.Status)
		}
		if err := svc.Fire(ctx, c.ID, sla.TimerWarning, c.WarnAt); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := svc.Reconcile(ctx); err != nil || n != 0 {
		t.Fatalf("reconcile after resolve: %d timers, %v; want none", n, err)
	}
	if n := countEvents(t, db, sla.EventWarning, conv.ID); n != 0 {
		t.Fatalf("%d warnings after resolve", n)
	}
}

func TestSLAEscalationStoreRaisesPriorityAndMovesQueuedConversations(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelWebchat, Address: "w"}, Body: "hi"}, in)
	if err != nil {
		t.Fatal(err)
	}
	c, changed, err := db.SLA().SetPriorityAtLeast(ctx, r.Conversation.ID, 10, "sla")
	if err != nil || !changed || c.Priority != 10 {
		t.Fatalf("raise: %v %v %v", c.Priority, changed, err)
	}
	if _, changed, _ := db.SLA().SetPriorityAtLeast(ctx, r.Conversation.ID, 5, "sla"); changed {
		t.Fatal("lowered the priority")
	}
	qs, _ := db.Queues(ctx)
	c, moved, err := db.SLA().MoveQueued(ctx, r.Conversation.ID, qs[1].ID, "sla")
	if err != nil || !moved || c.QueueID != qs[1].ID {
		t.Fatalf("move: %v %v %v", c.QueueID, moved, err)
	}
	if countEvents(t, db, sla.EventPriorityChanged, c.ID) != 1 || countEvents(t, db, sla.EventTransferred, c.ID) != 1 {
		t.Fatal("missing events")
	}
}

// TestEditingACalendarMovesTheDeadlinesOfRunningClocks: a business-hours
// clock keeps the time it counted under the old hours and gets a new
// warning and breach (and timers) under the new ones, on import and on
// edit; the timers set for the old instants do nothing.
func TestEditingACalendarMovesTheDeadlinesOfRunningClocks(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	timers := &timerLog{set: map[string]time.Time{}}
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	svc := sla.New(sla.Config{Store: db.SLA(), Timers: timers, Now: clock, GapWait: time.Millisecond})

	allDay := map[string][]sla.Interval{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		allDay[d] = []sla.Interval{{Start: "00:00", End: "24:00"}}
	}
	cal := sla.Calendar{Name: "Always", TimeZone: "UTC", Weekly: allDay}
	if err := svc.CreateCalendar(ctx, &cal); err != nil {
		t.Fatal(err)
	}
	p := sla.Policy{Name: "hours", Enabled: true, Targets: sla.Targets{FirstResponseS: 3600}, BusinessHours: true, CalendarID: cal.ID, WarnPercent: 50}
	if err := svc.CreatePolicy(ctx, &p); err != nil {
		t.Fatal(err)
	}
	r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelWebchat, Address: "v"}, Body: "hi"}, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.ProcessBatch(ctx); err != nil {
		t.Fatal(err)
	}
	fr := slaClock(t, svc, r.Conversation.ID, sla.FirstResponse)
	t0 := fr.RunningSince
	if !fr.DueAt.Equal(t0.Add(time.Hour)) || !fr.WarnAt.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("clock before the change: due %v warn %v; want t0 + 1 h, + 30 min (t0 %v)", fr.DueAt, fr.WarnAt, t0)
	}
	oldDue := fr.DueAt
	wantTimers := func(step string, warn, due time.Time) {
		t.Helper()
		fr = slaClock(t, svc, r.Conversation.ID, sla.FirstResponse)
		if fr.Status != sla.Running || !fr.WarnAt.Equal(warn) || !fr.DueAt.Equal(due) {
			t.Fatalf("%s: %s, warn %v due %v; want running, warn %v due %v", step, fr.Status, fr.WarnAt, fr.DueAt, warn, due)
		}
		timers.mu.Lock()
		defer timers.mu.Unlock()
		if got := timers.set[fmt.Sprintf("warning:%d", fr.ID)]; !got.Equal(warn) {
			t.Errorf("%s: warning timer at %v; want %v", step, got, warn)
		}
		if got := timers.set[fmt.Sprintf("breach:%d", fr.ID)]; !got.Equal(due) {
			t.Errorf("%s: breach timer at %v; want %v", step, got, due)
		}
	}

	// Ten minutes in, today and tomorrow (UTC) become holidays: the ten
	// minutes counted stay, the other fifty count from the day after
	// tomorrow at 00:00.
	t1 := t0.Add(10 * time.Minute)
	setNow(t1)
	today := t1.UTC().Truncate(24 * time.Hour)
	if _, err := svc.ImportDays(ctx, cal.ID, []sla.Day{{Date: today.Format("2006-01-02"), Kind: sla.DayHoliday},
		{Date: today.AddDate(0, 0, 1).Format("2006-01-02"), Kind: sla.DayHoliday}}); err != nil {
		t.Fatal(err)
	}
	resume := today.AddDate(0, 0, 2)
	wantTimers("after importing holidays", resume.Add(20*time.Minute), resume.Add(50*time.Minute))
	if fr.ElapsedS != 600 {
		t.Errorf("elapsed after the import: %v s; want 600", fr.ElapsedS)
	}

	// The old breach timer finds the deadline moved and does nothing.
	setNow(oldDue.Add(time.Millisecond))
	if err := svc.Fire(ctx, fr.ID, sla.TimerBreach, oldDue); err != nil {
		t.Fatal(err)
	}
	if fr = slaClock(t, svc, r.Conversation.ID, sla.FirstResponse); !fr.BreachedAt.IsZero() {
		t.Fatalf("the old breach timer breached the clock at %v", fr.BreachedAt)
	}

	// Twenty minutes in, the edit drops the holidays again: no time was
	// counted during them, so 50 minutes remain from now.
	t2 := t0.Add(20 * time.Minute)
	setNow(t2)
	edited := cal
	edited.Days = nil
	if err := svc.UpdateCalendar(ctx, &edited); err != nil {
		t.Fatal(err)
	}
	wantTimers("after the edit", t2.Add(20*time.Minute), t2.Add(50*time.Minute))
}
