package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/surveys"
)

func noBody(postgres.SurveyRequest, surveys.Survey) string { return "" }

// resolve marks a conversation resolved and writes its
// conversation.resolved event, returning the event's id.
func resolve(t *testing.T, db *postgres.DB, c parley.Conversation) int64 {
	t.Helper()
	ctx := context.Background()
	var id int64
	if _, err := db.Pool().Exec(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = now() WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool().QueryRow(ctx, `INSERT INTO events (type, conversation_id, customer_id) VALUES ('conversation.resolved', $1, $2) RETURNING id`,
		c.ID, c.CustomerID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// resolvedConv stores a conversation of a new customer, resolves it and
// returns its conversation.resolved event's id.
func resolvedConv(t *testing.T, db *postgres.DB, in parley.InboxConfig, n int) (parley.Conversation, int64) {
	t.Helper()
	r, _, err := db.Receive(context.Background(), parley.Inbound{InboxID: in.ID,
		Identity:  parley.Identity{Channel: parley.ChannelEmail, Address: fmt.Sprintf("c%d@x.test", n)},
		DedupeKey: fmt.Sprintf("m%d", n), Body: "hello", NoRouting: true}, in)
	if err != nil {
		t.Fatal(err)
	}
	return r.Conversation, resolve(t, db, r.Conversation)
}

func oneQuestion(name string, delay int, capDays int, segs ...int64) surveys.Survey {
	return surveys.Survey{Name: name, Enabled: true, DelayS: delay, CapDays: capDays, SegmentIDs: segs,
		Questions: []surveys.Question{{Key: "csat", Kind: surveys.KindCSAT, Text: texts("How did we do?")}}}
}

// sendAll runs the survey sender until the outbox is drained.
func sendAll(t *testing.T, db *postgres.DB) ([]postgres.SentSurvey, []postgres.ScheduledSurvey) {
	t.Helper()
	var sent []postgres.SentSurvey
	var later []postgres.ScheduledSurvey
	for range 5 {
		out, l, _, err := db.SendSurveys(context.Background(), 100, time.Minute, noBody)
		if err != nil {
			t.Fatal(err)
		}
		sent, later = append(sent, out...), append(later, l...)
	}
	return sent, later
}

func TestDelayedSurveyIsScheduledThenSentOnceAndSkippedWhenReopened(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	resolvedAt := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	if _, err := db.CreateSurvey(ctx, oneQuestion("Later", 3600, 0)); err != nil {
		t.Fatal(err)
	}
	kept, ev1 := resolvedConv(t, db, in, 1)
	reopened, ev2 := resolvedConv(t, db, in, 2)
	if _, err := db.Pool().Exec(ctx, `UPDATE conversations SET resolved_at = $1`, resolvedAt); err != nil {
		t.Fatal(err)
	}
	sent, later := sendAll(t, db)
	if len(sent) != 0 || len(later) != 2 {
		t.Fatalf("%d sent, %d scheduled; want 0 and 2", len(sent), len(later))
	}
	want := resolvedAt.Add(time.Hour) // the delay counts from the resolution
	if later[0].ConversationID != kept.ID || later[0].EventID != ev1 || !later[0].DueAt.Equal(want) {
		t.Errorf("scheduled %+v; want conversation %d, event %d, due %v", later[0], kept.ID, ev1, want)
	}
	if pending, err := db.PendingSurveySchedules(ctx); err != nil || len(pending) != 2 {
		t.Fatalf("pending %v, %v; want 2", pending, err)
	}
	// The second conversation is reopened before its survey is due.
	if _, err := db.Pool().Exec(ctx, `UPDATE conversations SET status = 'queued', resolved_at = NULL WHERE id = $1`, reopened.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `INSERT INTO events (type, conversation_id, customer_id) VALUES ('conversation.reopened', $1, $2)`,
		reopened.ID, reopened.CustomerID); err != nil {
		t.Fatal(err)
	}
	// A task for an event that is not the schedule's does nothing.
	if _, ok, reason, err := db.SendScheduledSurvey(ctx, kept.ID, ev1+1000, noBody); err != nil || ok || reason != "handled already" {
		t.Errorf("stale task: %v %q %v; want nothing done", ok, reason, err)
	}
	x, ok, _, err := db.SendScheduledSurvey(ctx, kept.ID, ev1, noBody)
	if err != nil || !ok || x.Request.ConversationID != kept.ID {
		t.Fatalf("delayed send: %+v %v %v", x.Request, ok, err)
	}
	// A retried task sends nothing more.
	if _, ok, reason, err := db.SendScheduledSurvey(ctx, kept.ID, ev1, noBody); err != nil || ok || reason != "handled already" {
		t.Errorf("retry: %v %q %v; want nothing done", ok, reason, err)
	}
	if _, ok, reason, err := db.SendScheduledSurvey(ctx, reopened.ID, ev2, noBody); err != nil || ok || reason != "reopened" {
		t.Errorf("reopened: %v %q %v; want skipped as reopened", ok, reason, err)
	}
	var requests int
	db.Pool().QueryRow(ctx, `SELECT count(*) FROM survey_requests`).Scan(&requests)
	if requests != 1 {
		t.Errorf("%d survey requests; want 1", requests)
	}
	if pending, err := db.PendingSurveySchedules(ctx); err != nil || len(pending) != 0 {
		t.Errorf("pending %v, %v; want none", pending, err)
	}
}

func TestDelayedSurveyChecksTheFrequencyCapAtSendTime(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	if _, err := db.CreateSurvey(ctx, oneQuestion("Later", 60, 30)); err != nil {
		t.Fatal(err)
	}
	// Two conversations of one customer, both resolved before either
	// survey is due: only the first is sent.
	c1, ev1 := resolvedConv(t, db, in, 1)
	c2, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelEmail, Address: "c1@x.test"},
		DedupeKey: "again", Body: "one more thing", NoRouting: true}, in)
	if err != nil {
		t.Fatal(err)
	}
	if c2.Conversation.ID == c1.ID {
		t.Fatal("the second message continued the first conversation")
	}
	ev2 := resolve(t, db, c2.Conversation)
	if _, later := sendAll(t, db); len(later) != 2 {
		t.Fatalf("%d scheduled; want 2", len(later))
	}
	if _, ok, _, err := db.SendScheduledSurvey(ctx, c1.ID, ev1, noBody); err != nil || !ok {
		t.Fatalf("first: %v %v", ok, err)
	}
	if _, ok, reason, err := db.SendScheduledSurvey(ctx, c2.Conversation.ID, ev2, noBody); err != nil || ok || reason != "capped" {
		t.Errorf("second: %v %q %v; want skipped by the cap", ok, reason, err)
	}
}

func TestSurveyGoesOnlyToCustomersInItsSegments(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	vip := crm.Segment{Name: "VIP", Filter: crm.Filter{Tags: []string{"vip"}}}
	if err := db.CreateSegment(ctx, &vip, parley.Agent{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateSurvey(ctx, oneQuestion("Ghost", 0, 0, vip.ID+99)); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("survey for an unknown segment: %v; want invalid", err)
	}
	if _, err := db.CreateSurvey(ctx, oneQuestion("VIP only", 0, 0, vip.ID)); err != nil {
		t.Fatal(err)
	}
	member, _ := resolvedConv(t, db, in, 1)
	other, _ := resolvedConv(t, db, in, 2)
	if _, err := db.Pool().Exec(ctx, `UPDATE customers SET tags = '{vip}' WHERE id = $1`, member.CustomerID); err != nil {
		t.Fatal(err)
	}
	sent, _ := sendAll(t, db)
	if len(sent) != 1 || sent[0].Request.CustomerID != member.CustomerID {
		t.Fatalf("surveys sent %+v; want one, to the VIP customer %d (not %d)", sent, member.CustomerID, other.CustomerID)
	}
	// A delayed survey checks membership again when it is due.
	s, err := db.CreateSurvey(ctx, oneQuestion("VIP later", 60, 0, vip.ID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE surveys SET enabled = false WHERE id <> $1`, s.ID); err != nil {
		t.Fatal(err)
	}
	r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelEmail, Address: "c3@x.test"},
		DedupeKey: "m3", Body: "hello", NoRouting: true}, in)
	if err != nil {
		t.Fatal(err)
	}
	left := r.Conversation
	if _, err := db.Pool().Exec(ctx, `UPDATE customers SET tags = '{vip}' WHERE id = $1`, left.CustomerID); err != nil {
		t.Fatal(err)
	}
	ev := resolve(t, db, left)
	if _, later := sendAll(t, db); len(later) != 1 {
		t.Fatalf("%d scheduled; want 1", len(later))
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE customers SET tags = '{}' WHERE id = $1`, left.CustomerID); err != nil {
		t.Fatal(err)
	}
	if _, ok, reason, err := db.SendScheduledSurvey(ctx, left.ID, ev, noBody); err != nil || ok || reason != "no longer applies" {
		t.Errorf("after leaving the segment: %v %q %v; want skipped", ok, reason, err)
	}
}
