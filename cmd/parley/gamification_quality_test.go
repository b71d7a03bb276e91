package main

import (
	"strings"
	"testing"
)

// The quality rules fire on real events: a first reply and a resolve within
// a short SLA policy (sla.met first_response and resolution) and a 5-star
// rating given through the web-chat rating card (survey.answered).
func TestGamificationQualityRulesFireOnSLAAndSurveyEvents(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	srv.createSurvey(t, admin, "csat", 0, "webchat")
	if code := srv.do(t, "POST", "/api/v1/sla/policies", admin, map[string]any{"name": "quick chat", "position": 1,
		"targets": map[string]any{"first_response_s": 60, "resolution_s": 120}}, nil); code != 201 {
		t.Fatalf("create SLA policy: status %d", code)
	}
	// First responses are judged by the SLA clock rather than by the reply.
	if code := srv.do(t, "PUT", "/api/v1/gamification/rules", admin, map[string]any{"rules": []any{
		map[string]any{"key": "first_response", "source": "sla"}}}, nil); code != 200 {
		t.Fatalf("set first_response source to sla: status %d", code)
	}

	aliceToken := srv.login(t, "agent1@parley.test")
	alice := srv.agentWS(t, aliceToken)
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	v := srv.startVisitor(t, inbox, "", "Mei Lin", "mei@example.com", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "My invoice is wrong", "client_msg_id": "m1"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m1" })
	_, conv := acceptNext(t, alice)
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "Let me fix that.", "client_msg_id": "r1"})
	alice.expect("ack")

	points := func(rule string) frame {
		t.Helper()
		return alice.expectWhere("points", func(f frame) bool { return f.str("rule") == rule && f.str("conversation_id") == conv })
	}
	if f := points("first_response"); f.str("delta") != "5" || !strings.Contains(f.str("reason"), "within SLA") {
		t.Errorf("first_response frame %v; want +5 within SLA", f)
	}
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	if f := points("sla_met"); f.str("delta") != "5" {
		t.Errorf("sla_met frame %v; want +5 for resolving within SLA", f)
	}

	card := cust.expect("survey")
	id := card.str("survey_id")
	cust.send(map[string]any{"type": "rating", "survey_id": id, "score": 5})
	cust.expectWhere("rating_ack", func(f frame) bool { return f.str("survey_id") == id })
	csat := points("csat_good")
	if csat.str("delta") != "15" || !strings.Contains(csat.str("reason"), "CSAT 5") {
		t.Errorf("csat_good frame %v; want +15 for CSAT 5", csat)
	}
	// prompt_accept 2 + first_response 5 + resolved 10 + sla_met 5 + csat_good 15.
	if csat.str("total") != "37" {
		t.Errorf("total after the rating %s; want 37", csat.str("total"))
	}

	// The ledger holds each award once, tied to the conversation and its event.
	var me struct {
		Points int `json:"points"`
		Recent []struct {
			Rule           string `json:"rule"`
			Points         int    `json:"points"`
			ConversationID string `json:"conversation_id"`
			EventID        string `json:"event_id"`
		} `json:"recent"`
	}
	if code := srv.do(t, "GET", "/api/v1/gamification/me", aliceToken, nil, &me); code != 200 || me.Points != 37 {
		t.Fatalf("me: status %d, %d points; want 37", code, me.Points)
	}
	got := map[string]int{}
	for _, r := range me.Recent {
		if r.ConversationID != conv || r.EventID == "" {
			t.Errorf("ledger entry %+v; want conversation %s and an event", r, conv)
		}
		got[r.Rule] += r.Points
	}
	want := map[string]int{"prompt_accept": 2, "first_response": 5, "resolved": 10, "sla_met": 5, "csat_good": 15}
	for k, p := range want {
		if got[k] != p {
			t.Errorf("ledger %v; want %s = %d", got, k, p)
		}
	}
	if n := e.count(t, `SELECT count(*) FROM gamification_ledger l JOIN events ev ON ev.id = l.event_id
		WHERE l.rule = 'csat_good' AND ev.type = 'survey.answered' AND l.conversation_id = $1::bigint`, conv); n != 1 {
		t.Errorf("%d csat_good ledger rows from survey.answered; want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM gamification_ledger l JOIN events ev ON ev.id = l.event_id
		WHERE l.rule IN ('sla_met', 'first_response') AND ev.type = 'sla.met' AND l.conversation_id = $1::bigint`, conv); n != 2 {
		t.Errorf("%d sla_met/first_response ledger rows from sla.met; want 2", n)
	}
}
