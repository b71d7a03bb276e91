package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// TestConferenceEventsRecordTheLegsOfTheirInboxOnly: the connect job
// records the conference and its two legs; status callbacks set its sid,
// start and end and the legs' joins, mutes and leaves, only through the
// inbox that owns it; a supervisor's leg keeps its mode.
func TestConferenceEventsRecordTheLegsOfTheirInboxOnly(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelWebchat, Address: "v"}, Body: "hi"}, in)
	if err != nil {
		t.Fatal(err)
	}
	sup := parley.Agent{Name: "S", Email: "s@x.test", Role: parley.RoleSupervisor}
	if err := db.CreateAgent(ctx, &sup, "password1"); err != nil {
		t.Fatal(err)
	}
	conv := r.Conversation.ID
	const (
		name     = "parley-conv-x"
		customer = "CA00000000000000000000000000000001"
		agent    = "CA00000000000000000000000000000002"
		coach    = "CA00000000000000000000000000000003"
		confSid  = "CF00000000000000000000000000000001"
	)
	if err := db.ConferenceConnected(ctx, conv, in.ID, name, customer, agent, ""); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if err := db.ConferenceEvent(ctx, in.ID+1, name, confSid, "conference-start", "", false, false, at); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Fatalf("another inbox's callback: %v; want ENOTFOUND", err)
	}
	for _, ev := range []struct {
		event, call     string
		muted, coaching bool
		at              time.Duration
	}{
		{"conference-start", "", false, false, 0},
		{"participant-join", agent, false, false, 0},
		{"participant-join", customer, false, false, time.Second},
		{"participant-join", coach, true, false, 10 * time.Second},
		{"participant-join", coach, true, false, 11 * time.Second}, // a replay
		{"participant-modify", coach, false, true, 20 * time.Second},
	} {
		if err := db.ConferenceEvent(ctx, in.ID, name, confSid, ev.event, ev.call, ev.muted, ev.coaching, at.Add(ev.at)); err != nil {
			t.Fatalf("%s %s: %v", ev.event, ev.call, err)
		}
	}
	if err := db.CoachLeg(ctx, conv, sup.ID, coach, "whisper"); err != nil {
		t.Fatal(err)
	}
	c, err := db.Conference(ctx, conv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Sid != confSid || !c.StartedAt.Equal(at) || !c.EndedAt.IsZero() || c.CustomerCallSid != customer || c.AgentCallSid != agent || len(c.Legs) != 3 {
		t.Fatalf("conference %+v", c)
	}
	roles := map[string]string{}
	for _, l := range c.Legs {
		roles[l.CallSid] = l.Role
		if l.CallSid == coach && (l.AgentID != sup.ID || l.Mode != "whisper" || l.Muted || !l.Coaching || !l.JoinedAt.Equal(at.Add(10*time.Second))) {
			t.Errorf("supervisor leg %+v", l)
		}
	}
	if roles[customer] != "customer" || roles[agent] != "agent" || roles[coach] != "supervisor" {
		t.Errorf("roles %v", roles)
	}
	if err := db.ConferenceEvent(ctx, in.ID, name, confSid, "participant-leave", coach, false, false, at.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := db.ConferenceEvent(ctx, in.ID, name, confSid, "conference-end", "", false, false, at.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if c, _ = db.Conference(ctx, conv); !c.EndedAt.Equal(at.Add(2*time.Minute)) || !c.Legs[2].LeftAt.Equal(at.Add(time.Minute)) {
		t.Errorf("after the end: ended %v, supervisor left %v", c.EndedAt, c.Legs[2].LeftAt)
	}
}
