package sla

import (
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// harness drives one conversation's track with events at given times.
type harness struct {
	t     *testing.T
	e     *Engine
	tr    *Track
	id    int64
	subj  Subject
	notes []Note
}

func newHarness(t *testing.T, h *Hours, ps ...Policy) *harness {
	e := &Engine{Policies: ps, Calendars: map[int64]*Hours{}}
	if h != nil {
		e.Calendars[1] = h
	}
	SortPolicies(e.Policies)
	return &harness{t: t, e: e, tr: &Track{ConversationID: 7}, subj: Subject{QueueID: 1, Channel: parley.ChannelWebchat}}
}

func (h *harness) ev(typ string, at time.Time, mod ...func(*Input)) []Note {
	h.id++
	in := Input{EventID: h.id, Type: typ, At: at, Subject: h.subj, CreatedAt: h.tr.OpenedAt, Routed: true}
	for _, m := range mod {
		m(&in)
	}
	n := h.e.Apply(h.tr, in)
	h.notes = append(h.notes, n...)
	return n
}

func customer(in *Input) { in.Direction = parley.DirectionIn; in.SenderType = parley.SenderCustomer }
func agentReply(in *Input) {
	in.Direction, in.SenderType, in.SenderID = parley.DirectionOut, parley.SenderAgent, 42
}
func privateNote(in *Input) { agentReply(in); in.Private = true }

func (h *harness) clock(k Kind) *Clock {
	h.t.Helper()
	var last *Clock
	for _, c := range h.tr.Clocks {
		if c.Kind == k {
			last = c
		}
	}
	if last == nil {
		h.t.Fatalf("no %s clock", k)
	}
	return last
}

var chat = Policy{ID: 1, Name: "chat", Enabled: true, WarnPercent: 75,
	Targets: Targets{FirstResponseS: 3600, NextResponseS: 1800, ResolutionS: 8 * 3600}}

func TestFirstResponseCountsBusinessHoursAcrossWeekendAndHoliday(t *testing.T) {
	p := chat
	p.BusinessHours, p.CalendarID = true, 1
	h := newHarness(t, officeHours(t), p)
	// Created Wednesday 31 December 17:30; Jan 1–3 are holidays, Sunday
	// Jan 4 is a make-up working day.
	h.ev(EventCreated, sh("2025-12-31 17:30"))
	fr := h.clock(FirstResponse)
	if want := sh("2026-01-04 09:30"); !fr.DueAt.Equal(want) {
		t.Fatalf("first response due %v; want %v", fr.DueAt.In(shanghai), want)
	}
	// 75% of an hour: 45 min of business time → 30 min on Dec 31, 15 on Jan 4.
	if want := sh("2026-01-04 09:15"); !fr.WarnAt.Equal(want) {
		t.Fatalf("warning at %v; want %v", fr.WarnAt.In(shanghai), want)
	}
	if fr.Fire(TimerWarning, sh("2026-01-04 09:14")) {
		t.Fatal("warning fired a minute early")
	}
	if !fr.Fire(TimerWarning, sh("2026-01-04 09:15")) || fr.Fire(TimerWarning, sh("2026-01-04 09:16")) {
		t.Fatal("warning did not fire exactly once")
	}
	// A private note is not a response.
	h.ev(EventMessage, sh("2026-01-04 09:20"), privateNote)
	if fr.Status != Running {
		t.Fatalf("private note stopped the first-response clock")
	}
	notes := h.ev(EventMessage, sh("2026-01-04 09:25"), agentReply)
	if fr.Status != Stopped || fr.Outcome != OutcomeMet || len(notes) != 1 || notes[0].AgentID != 42 {
		t.Fatalf("after the reply: %s/%s, notes %+v; want stopped/met by agent 42", fr.Status, fr.Outcome, notes)
	}
	if got := fr.Elapsed; got != 55*time.Minute {
		t.Fatalf("elapsed %v; want 55m of business time", got)
	}
}

func TestLateReplyIsABreachEvenBeforeTheTimerRan(t *testing.T) {
	h := newHarness(t, nil, chat)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	h.ev(EventCreated, t0)
	notes := h.ev(EventMessage, t0.Add(61*time.Minute), agentReply)
	fr := h.clock(FirstResponse)
	if fr.Outcome != OutcomeBreached || !fr.BreachedAt.Equal(t0.Add(time.Hour)) || !notes[0].NewBreach {
		t.Fatalf("late reply: outcome %s breached at %v (new %v); want breached at the due time", fr.Outcome, fr.BreachedAt, notes[0].NewBreach)
	}
}

func TestNextResponseStartsAtTheOldestUnansweredCustomerMessage(t *testing.T) {
	h := newHarness(t, nil, chat)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	h.ev(EventCreated, t0)
	h.ev(EventMessage, t0, customer)
	h.ev(EventMessage, t0.Add(time.Minute), customer) // before any reply: first response covers it
	for _, c := range h.tr.Clocks {
		if c.Kind == NextResponse {
			t.Fatal("next response started before the first reply")
		}
	}
	h.ev(EventMessage, t0.Add(2*time.Minute), agentReply)
	h.ev(EventMessage, t0.Add(10*time.Minute), customer)
	h.ev(EventMessage, t0.Add(20*time.Minute), customer) // does not restart it
	nr := h.clock(NextResponse)
	if !nr.StartedAt.Equal(t0.Add(10*time.Minute)) || !nr.DueAt.Equal(t0.Add(40*time.Minute)) || nr.Cycle != 1 {
		t.Fatalf("next response started %v due %v cycle %d; want from the 10-minute message, due at 40", nr.StartedAt, nr.DueAt, nr.Cycle)
	}
	h.ev(EventMessage, t0.Add(30*time.Minute), agentReply)
	h.ev(EventMessage, t0.Add(50*time.Minute), customer)
	if nr2 := h.clock(NextResponse); nr.Outcome != OutcomeMet || nr2.Cycle != 2 || nr2.Status != Running {
		t.Fatalf("cycle 1 %s, cycle 2 %d %s; want met then a new running cycle", nr.Outcome, nr2.Cycle, nr2.Status)
	}
}

func TestClocksPauseWhileWaitingOnTheCustomer(t *testing.T) {
	h := newHarness(t, nil, chat)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	h.ev(EventCreated, t0)
	h.ev(EventStatusChanged, t0.Add(10*time.Minute), func(in *Input) { in.Status = "pending" })
	res := h.clock(Resolution)
	if res.Status != Paused || !res.DueAt.IsZero() || res.Elapsed != 10*time.Minute {
		t.Fatalf("pending: %s due %v elapsed %v; want paused with 10m counted", res.Status, res.DueAt, res.Elapsed)
	}
	if res.Fire(TimerBreach, t0.Add(9*time.Hour)) {
		t.Fatal("a paused clock breached")
	}
	// The customer answers two hours later: the clocks resume.
	h.ev(EventMessage, t0.Add(130*time.Minute), customer)
	if res.Status != Running || !res.DueAt.Equal(t0.Add(130*time.Minute+8*time.Hour-10*time.Minute)) {
		t.Fatalf("resumed: %s due %v", res.Status, res.DueAt)
	}
	h.ev(EventStatusChanged, t0.Add(140*time.Minute), func(in *Input) { in.Status = "snoozed" })
	h.ev(EventStatusChanged, t0.Add(200*time.Minute), func(in *Input) { in.Status = "open" })
	if res.Status != Running || res.ElapsedAt(nil, t0.Add(200*time.Minute)) != 20*time.Minute {
		t.Fatalf("after snooze: %s elapsed %v; want running with 20m", res.Status, res.ElapsedAt(nil, t0.Add(200*time.Minute)))
	}
}

func TestNoClockRunsAfterResolve(t *testing.T) {
	h := newHarness(t, nil, chat)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	h.ev(EventCreated, t0)
	h.ev(EventMessage, t0, customer)
	h.ev(EventMessage, t0.Add(time.Minute), agentReply)
	h.ev(EventMessage, t0.Add(2*time.Minute), customer) // next response running
	h.ev(EventResolved, t0.Add(3*time.Minute))
	// Whatever arrives afterwards, nothing runs again.
	h.ev(EventMessage, t0.Add(4*time.Minute), customer)
	h.ev(EventStatusChanged, t0.Add(5*time.Minute), func(in *Input) { in.Status = "open" })
	h.ev(EventTransferred, t0.Add(6*time.Minute))
	for _, c := range h.tr.Clocks {
		if c.Live() || c.Fire(TimerBreach, t0.Add(100*time.Hour)) || c.Fire(TimerWarning, t0.Add(100*time.Hour)) {
			t.Fatalf("%s clock %s/%s after resolve", c.Kind, c.Status, c.Outcome)
		}
	}
	if res, nr := h.clock(Resolution), h.clock(NextResponse); res.Outcome != OutcomeMet || nr.Outcome != OutcomeCanceled || len(h.tr.Clocks) != 3 {
		t.Fatalf("resolution %s, next response %s, %d clocks; want met, canceled, 3", res.Outcome, nr.Outcome, len(h.tr.Clocks))
	}
	// Applying the same events again (a replay) changes nothing.
	if n := h.e.Apply(h.tr, Input{EventID: 3, Type: EventMessage, At: t0, Direction: parley.DirectionIn}); n != nil {
		t.Fatalf("replayed event produced %v", n)
	}
	// A reopen starts a new resolution cycle only.
	h.ev(EventReopened, t0.Add(time.Hour))
	if r := h.clock(Resolution); r.Cycle != 2 || r.Status != Running || !r.DueAt.Equal(t0.Add(9*time.Hour)) {
		t.Fatalf("after reopen: cycle %d %s due %v", r.Cycle, r.Status, r.DueAt)
	}
}

func TestQueueChangeReevaluatesThePolicyAndKeepsHistory(t *testing.T) {
	vip := Policy{ID: 2, Name: "vip queue", Enabled: true, Position: -1, WarnPercent: 50, Match: Match{QueueIDs: IDs{9}},
		Targets: Targets{FirstResponseS: 600, ResolutionS: 3600}}
	h := newHarness(t, nil, chat, vip)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	h.ev(EventCreated, t0)
	if h.tr.PolicyID != 1 {
		t.Fatalf("policy %d; want the default chat policy", h.tr.PolicyID)
	}
	h.subj.QueueID = 9
	h.ev(EventTransferred, t0.Add(4*time.Minute))
	var replaced, fresh []*Clock
	for _, c := range h.tr.Clocks {
		if c.Outcome == OutcomeReplaced {
			replaced = append(replaced, c)
		} else if c.Live() {
			fresh = append(fresh, c)
		}
	}
	if len(replaced) != 2 || len(fresh) != 2 {
		t.Fatalf("%d replaced, %d live; want 2 and 2", len(replaced), len(fresh))
	}
	fr := h.clock(FirstResponse)
	if fr.PolicyID != 2 || fr.Previous == nil || !fr.StartedAt.Equal(t0) || !fr.DueAt.Equal(t0.Add(10*time.Minute)) || !fr.WarnAt.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("successor: policy %d start %v due %v warn %v", fr.PolicyID, fr.StartedAt, fr.DueAt, fr.WarnAt)
	}
	// A breached clock keeps its policy when the priority changes.
	if !fr.Fire(TimerBreach, t0.Add(10*time.Minute)) {
		t.Fatal("breach did not fire")
	}
	h.subj.QueueID, h.subj.Priority = 1, 5
	h.ev(EventPriorityChanged, t0.Add(11*time.Minute))
	if fr.Status != Running || fr.PolicyID != 2 || h.clock(Resolution).PolicyID != 1 {
		t.Fatalf("breached clock %s policy %d, resolution policy %d", fr.Status, fr.PolicyID, h.clock(Resolution).PolicyID)
	}
}

func TestVoiceAnswerClockAndPolicySelection(t *testing.T) {
	voice := Policy{ID: 3, Name: "voice", Enabled: true, WarnPercent: 75, Match: Match{Channels: []parley.Channel{parley.ChannelVoice}},
		Targets: Targets{AnswerS: 20}}
	gold := Policy{ID: 4, Name: "gold", Enabled: true, Position: -5, Match: Match{Tiers: []string{"gold"}, Stages: []string{"customer"}},
		Targets: Targets{FirstResponseS: 60}}
	off := Policy{ID: 5, Name: "off", Enabled: false, Position: -10, Targets: Targets{FirstResponseS: 1}}
	if p, _ := Select([]Policy{chat, voice, gold, off}, Subject{Channel: parley.ChannelWebchat, Tier: "Gold", Stage: "customer"}); p.ID != 4 {
		t.Fatalf("gold customer got policy %d", p.ID)
	}
	if p, _ := Select([]Policy{chat, voice, gold, off}, Subject{Channel: parley.ChannelWebchat, Tier: "gold", Stage: "lead"}); p.ID != 1 {
		t.Fatalf("gold lead got policy %d", p.ID)
	}
	h := newHarness(t, nil, voice)
	h.subj.Channel = parley.ChannelVoice
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	h.ev(EventCreated, t0)
	if len(h.tr.Clocks) != 1 || h.clock(Answer).DueAt != t0.Add(20*time.Second) {
		t.Fatalf("voice clocks %d", len(h.tr.Clocks))
	}
	h.ev(EventAssigned, t0.Add(12*time.Second), func(in *Input) { in.AgentID = 8 })
	if a := h.clock(Answer); a.Outcome != OutcomeMet {
		t.Fatalf("answer clock %s", a.Outcome)
	}
}

func TestPolicyValidation(t *testing.T) {
	for _, p := range []Policy{
		{Name: "", Targets: Targets{FirstResponseS: 1}, WarnPercent: 75},
		{Name: "x", WarnPercent: 75},
		{Name: "x", Targets: Targets{FirstResponseS: 1}, WarnPercent: 100},
		{Name: "x", Targets: Targets{FirstResponseS: 1}, WarnPercent: 75, BusinessHours: true},
		{Name: "x", Targets: Targets{FirstResponseS: 1}, WarnPercent: 75, Escalations: []Escalation{{On: "breach", Action: "explode"}}},
		{Name: "x", Targets: Targets{FirstResponseS: 1}, WarnPercent: 75, Escalations: []Escalation{{On: "breach", Action: ActionRaisePriority}}},
	} {
		if p.Validate() == nil {
			t.Errorf("policy %+v is valid; want an error", p)
		}
	}
	if err := chat.Validate(); err != nil {
		t.Fatal(err)
	}
}
