package gamification

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// t0 is the injected clock's origin: every scripted event is relative to it.
var t0 = time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func TestRulesOnScriptedEvents(t *testing.T) {
	const alice, bob = 11, 12
	conv := ConversationFacts{ID: 7, CustomerID: 3, AgentID: alice, Channel: parley.ChannelWebchat,
		CreatedAt: at(0), AssignedAt: at(2 * time.Minute), Status: parley.StatusAssigned}
	reply := func(after time.Duration, first bool, sender int64, private bool) *MessageFacts {
		return &MessageFacts{ID: 99, SenderType: parley.SenderAgent, SenderID: sender, Direction: parley.DirectionOut,
			Private: private, CreatedAt: conv.AssignedAt.Add(after), FirstAgentReply: first}
	}
	offer := func(after time.Duration) *OfferFacts {
		return &OfferFacts{ID: "o1", AgentID: alice, CreatedAt: at(0), EndedAt: at(after)}
	}
	sla := DefaultSettings()
	r := sla.Rules[RuleFirstResponse]
	r.Source = SourceSLA
	sla.Rules[RuleFirstResponse] = r
	disabled := DefaultSettings()
	r = disabled.Rules[RuleResolved]
	r.Enabled = false
	disabled.Rules[RuleResolved] = r

	type want struct {
		agent  int64
		rule   string
		points int
		dedupe string
	}
	for _, tt := range []struct {
		name     string
		ev       Event
		facts    Facts
		settings *Settings
		want     []want
	}{
		{"resolved awards the assigned agent",
			Event{ID: 1, Type: EventConversationResolved, ConversationID: 7, AgentID: alice, Payload: map[string]any{"disposition": "resolved"}},
			Facts{Conversation: conv}, nil, []want{{alice, RuleResolved, 10, "event:1"}}},
		{"resolved as spam awards nothing",
			Event{ID: 2, Type: EventConversationResolved, ConversationID: 7, AgentID: alice, Payload: map[string]any{"disposition": "spam"}},
			Facts{Conversation: conv}, nil, nil},
		{"disabled rule awards nothing",
			Event{ID: 3, Type: EventConversationResolved, ConversationID: 7, AgentID: alice, Payload: map[string]any{"disposition": "resolved"}},
			Facts{Conversation: conv}, &disabled, nil},
		{"first reply within a minute of assignment",
			Event{ID: 4, Type: EventMessageCreated, ConversationID: 7},
			Facts{Conversation: conv, Message: reply(60*time.Second, true, alice, false)}, nil,
			[]want{{alice, RuleFirstResponse, 5, "conversation:7"}}},
		{"first reply one second late",
			Event{ID: 5, Type: EventMessageCreated, ConversationID: 7},
			Facts{Conversation: conv, Message: reply(61*time.Second, true, alice, false)}, nil, nil},
		{"second reply is not a first response",
			Event{ID: 6, Type: EventMessageCreated, ConversationID: 7},
			Facts{Conversation: conv, Message: reply(time.Second, false, alice, false)}, nil, nil},
		{"private note is not a response",
			Event{ID: 7, Type: EventMessageCreated, ConversationID: 7},
			Facts{Conversation: conv, Message: reply(time.Second, true, alice, true)}, nil, nil},
		{"reply by someone else than the assignee",
			Event{ID: 8, Type: EventMessageCreated, ConversationID: 7},
			Facts{Conversation: conv, Message: reply(time.Second, true, bob, false)}, nil, nil},
		{"customer message",
			Event{ID: 9, Type: EventMessageCreated, ConversationID: 7},
			Facts{Conversation: conv, Message: &MessageFacts{SenderType: parley.SenderCustomer, Direction: parley.DirectionIn, FirstAgentReply: true}}, nil, nil},
		{"first reply ignored when SLA events drive the rule",
			Event{ID: 10, Type: EventMessageCreated, ConversationID: 7},
			Facts{Conversation: conv, Message: reply(time.Second, true, alice, false)}, &sla, nil},
		{"sla.met first_response drives the rule when configured",
			Event{ID: 11, Type: EventSLAMet, ConversationID: 7, Payload: map[string]any{"metric": "first_response"}},
			Facts{Conversation: conv}, &sla, []want{{alice, RuleFirstResponse, 5, "conversation:7"}}},
		{"sla.met first_response ignored by default",
			Event{ID: 12, Type: EventSLAMet, ConversationID: 7, Payload: map[string]any{"metric": "first_response"}},
			Facts{Conversation: conv}, nil, nil},
		{"resolution within SLA",
			Event{ID: 13, Type: EventSLAMet, ConversationID: 7, Payload: map[string]any{"metric": "resolution"}},
			Facts{Conversation: conv}, nil, []want{{alice, RuleSLAMet, 5, "event:13"}}},
		{"SLA breach on the agent's conversation",
			Event{ID: 14, Type: EventSLABreached, ConversationID: 7, Payload: map[string]any{"metric": "first_response"}},
			Facts{Conversation: conv}, nil, []want{{alice, RuleSLABreach, -5, "event:14"}}},
		{"SLA breach while queued is nobody's",
			Event{ID: 15, Type: EventSLABreached, ConversationID: 7, Payload: map[string]any{"metric": "first_response"}},
			Facts{Conversation: ConversationFacts{ID: 7, Status: parley.StatusQueued}}, nil, nil},
		{"offer accepted in 10 s is prompt",
			Event{ID: 16, Type: EventOfferAccepted, ConversationID: 7, AgentID: alice, Payload: map[string]any{"offer_id": "o1"}},
			Facts{Conversation: conv, Offer: offer(10 * time.Second)}, nil, []want{{alice, RulePromptAccept, 2, "event:16"}}},
		{"offer accepted in 11 s is not",
			Event{ID: 17, Type: EventOfferAccepted, ConversationID: 7, AgentID: alice, Payload: map[string]any{"offer_id": "o1"}},
			Facts{Conversation: conv, Offer: offer(11 * time.Second)}, nil, nil},
		{"missed offer",
			Event{ID: 18, Type: EventOfferTimeout, ConversationID: 7, AgentID: bob, Payload: map[string]any{"offer_id": "o2"}},
			Facts{Conversation: conv}, nil, []want{{bob, RuleMissedOffer, -3, "event:18"}}},
		{"rejected offer costs nothing",
			Event{ID: 19, Type: "offer.rejected", ConversationID: 7, AgentID: bob},
			Facts{Conversation: conv}, nil, nil},
		{"CSAT 4",
			Event{ID: 20, Type: EventSurveyAnswered, ConversationID: 7, Payload: map[string]any{"kind": "csat", "score": 4.0}},
			Facts{Conversation: conv}, nil, []want{{alice, RuleCSAT, 15, "event:20"}}},
		{"CSAT 3",
			Event{ID: 21, Type: EventSurveyAnswered, ConversationID: 7, Payload: map[string]any{"kind": "csat", "score": 3.0}},
			Facts{Conversation: conv}, nil, nil},
		{"NPS promoter",
			Event{ID: 22, Type: EventSurveyAnswered, ConversationID: 7, Payload: map[string]any{"kind": "nps", "score": json.Number("9")}},
			Facts{Conversation: conv}, nil, []want{{alice, RuleNPS, 10, "event:22"}}},
		{"NPS passive",
			Event{ID: 23, Type: EventSurveyAnswered, ConversationID: 7, Payload: map[string]any{"kind": "nps", "score": 8.0}},
			Facts{Conversation: conv}, nil, nil},
		{"reopen takes back each agent's resolution points",
			Event{ID: 24, Type: EventConversationReopened, ConversationID: 7},
			Facts{Conversation: conv, ResolutionPoints: map[int64]int{alice: 10, bob: 0}}, nil,
			[]want{{alice, RuleReopen, -10, "event:24"}}},
		{"unknown event",
			Event{ID: 25, Type: "webchat.session"}, Facts{}, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			if tt.settings != nil {
				s = *tt.settings
			}
			got := Evaluate(tt.ev, tt.facts, s)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d entries %+v; want %d", len(got), got, len(tt.want))
			}
			for i, w := range tt.want {
				g := got[i]
				if g.AgentID != w.agent || g.Rule != w.rule || g.Points != w.points || g.Dedupe != w.dedupe {
					t.Errorf("entry %d: got agent %d rule %s points %d dedupe %s; want %d %s %d %s",
						i, g.AgentID, g.Rule, g.Points, g.Dedupe, w.agent, w.rule, w.points, w.dedupe)
				}
				if !g.At.Equal(tt.ev.At) || g.Reason == "" {
					t.Errorf("entry %d: at %v reason %q; want the event's time and a reason", i, g.At, g.Reason)
				}
			}
		})
	}
}

func TestFCRAwardedOnlyWhenTheWindowCloses(t *testing.T) {
	s := DefaultSettings()
	c := FCRCandidate{ConversationID: 7, AgentID: 11, CustomerID: 3, ResolvedAt: at(0)}
	week := 7 * 24 * time.Hour
	if got := EvaluateFCR(c, at(week-time.Second), s); len(got) != 0 {
		t.Errorf("one second before the window closes: got %+v; want nothing", got)
	}
	got := EvaluateFCR(c, at(week), s)
	if len(got) != 1 || got[0].Points != 10 || got[0].Rule != RuleFCR || !got[0].At.Equal(at(week)) || got[0].Dedupe != "conversation:7" {
		t.Errorf("when the window closes: got %+v; want 10 fcr points at %v", got, at(week))
	}
	c.RepeatContact = true
	if got := EvaluateFCR(c, at(2*week), s); len(got) != 0 {
		t.Errorf("with a repeat contact: got %+v; want nothing", got)
	}
}

func TestApplyCap(t *testing.T) {
	for _, tt := range []struct{ points, sofar, cap, want int }{
		{10, 0, 0, 10},
		{10, 290, 300, 10},
		{10, 295, 300, 5},
		{10, 300, 300, 0},
		{-3, -27, 30, -3},
		{-3, -29, 30, -1},
		{-3, -30, 30, 0},
	} {
		if got := ApplyCap(tt.points, tt.sofar, tt.cap); got != tt.want {
			t.Errorf("ApplyCap(%d, %d, %d) = %d; want %d", tt.points, tt.sofar, tt.cap, got, tt.want)
		}
	}
}

func TestLevelFor(t *testing.T) {
	for _, tt := range []struct {
		total      int
		level, nxt string
	}{
		{-50, "rookie", "apprentice"}, {0, "rookie", "apprentice"}, {99, "rookie", "apprentice"},
		{100, "apprentice", "pro"}, {6000, "grandmaster", ""},
	} {
		cur, next, ok := LevelFor(tt.total)
		if cur.Key != tt.level || next.Key != tt.nxt || ok != (tt.nxt != "") {
			t.Errorf("LevelFor(%d) = %s, %s, %v; want %s, %s", tt.total, cur.Key, next.Key, ok, tt.level, tt.nxt)
		}
	}
}

func TestBadgeQueryCountsOnlyQualifyingEntries(t *testing.T) {
	quick, _ := BadgeByKey(BadgeQuickDraw)
	e := Entry{AgentID: 1, Rule: RuleFirstResponse, Points: 5, At: time.Date(2026, 3, 4, 23, 30, 0, 0, time.UTC), Detail: map[string]any{"elapsed_s": 59.0}}
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	q, ok := BadgeQuery(quick, e, shanghai)
	if !ok {
		t.Fatal("a 59 s first response does not count towards quick_draw")
	}
	// 23:30 UTC is 07:30 the next day in Shanghai.
	if want := time.Date(2026, 3, 5, 0, 0, 0, 0, shanghai); !q.From.Equal(want) || !q.To.Equal(want.AddDate(0, 0, 1)) {
		t.Errorf("window %v–%v; want the Shanghai day starting %v", q.From, q.To, want)
	}
	e.Detail["elapsed_s"] = 60.0
	if _, ok := BadgeQuery(quick, e, time.UTC); ok {
		t.Error("a 60 s first response counts towards quick_draw; want under a minute only")
	}
	if !quick.Earned(10) || quick.Earned(9) {
		t.Error("quick_draw must be earned at exactly 10")
	}
}

func TestSettingsValidateAndMerge(t *testing.T) {
	s := DefaultSettings()
	if err := s.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	bad := DefaultSettings()
	r := bad.Rules[RuleMissedOffer]
	r.Points = 5
	bad.Rules[RuleMissedOffer] = r
	bad.Rules["bogus"] = Rule{Key: "bogus"}
	bad.TimeZone = "Mars/Olympus"
	err := bad.Validate()
	fields := parley.ErrorFields(err)
	for _, f := range []string{"rules.missed_offer", "rules.bogus", "timezone"} {
		if fields[f] == "" {
			t.Errorf("no error for %s: %v", f, fields)
		}
	}
	b, _ := json.Marshal(s)
	var back Settings
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	merged := Merge(Settings{Rules: map[string]Rule{RuleResolved: {Enabled: true, Points: 20}}})
	if merged.Rules[RuleResolved].Points != 20 || merged.Rules[RuleFCR].Points != 10 || merged.TimeZone != "UTC" {
		t.Errorf("merge: %+v", merged)
	}
}

func TestPeriodsFollowTheTimeZone(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	// Sunday 2026-03-08 03:30 UTC is Saturday 22:30 in New York.
	ts := time.Date(2026, 3, 8, 3, 30, 0, 0, time.UTC)
	for _, tt := range []struct{ period, want string }{
		{PeriodDay, "d:2026-03-07"}, {PeriodWeek, "w:2026-03-02"}, {PeriodMonth, "m:2026-03"}, {PeriodAll, "all"},
	} {
		if got, _ := periodID(tt.period, ts, ny); got != tt.want {
			t.Errorf("%s: %s; want %s", tt.period, got, tt.want)
		}
	}
}
