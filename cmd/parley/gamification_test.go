package main

import (
	"testing"
	"time"
)

func TestGamificationAgentEarnsPointsAndClimbsTheLeaderboard(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	aliceToken := srv.login(t, "agent1@parley.test") // billing 5
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
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")

	start := time.Now()
	pts := alice.expectWhere("points", func(f frame) bool { return f.str("rule") == "resolved" })
	if pts.str("delta") != "10" || pts.str("conversation_id") != conv || pts.str("reason") == "" {
		t.Errorf("points frame %v; want +10 for resolving conversation %s with a reason", pts, conv)
	}
	t.Logf("points frame %v after the resolve", time.Since(start))
	// Accepted promptly (2) and answered within a minute (5), then resolved (10).
	if pts.str("total") != "17" {
		t.Errorf("total %s; want 17", pts.str("total"))
	}

	var board struct {
		Period string `json:"period"`
		Items  []struct {
			Rank    int    `json:"rank"`
			AgentID string `json:"agent_id"`
			Name    string `json:"name"`
			Points  int    `json:"points"`
			Level   struct {
				Key string `json:"key"`
			} `json:"level"`
		} `json:"items"`
	}
	bob := srv.login(t, "agent2@parley.test")
	if code := srv.do(t, "GET", "/api/v1/leaderboard?period=day", bob, nil, &board); code != 200 {
		t.Fatalf("leaderboard: status %d", code)
	}
	if len(board.Items) != 1 || board.Items[0].Name != "Alice Chen" || board.Items[0].Points != 17 || board.Items[0].Rank != 1 ||
		board.Items[0].Level.Key != "rookie" {
		t.Fatalf("day leaderboard %+v; want Alice Chen first with 17", board.Items)
	}
	if code := srv.do(t, "GET", "/api/v1/leaderboard?period=week&team=Support", bob, nil, &board); code != 200 || len(board.Items) != 1 {
		t.Errorf("Support's week board: status %d, %+v", code, board.Items)
	}
	aliceID := board.Items[0].AgentID

	// Alice opts out: hidden from Bob, still sees her own progress.
	var me struct {
		Public bool `json:"public"`
		Points int  `json:"points"`
		Badges []struct {
			Key    string `json:"key"`
			Earned bool   `json:"earned"`
		} `json:"badges"`
	}
	if code := srv.do(t, "PUT", "/api/v1/gamification/me", aliceToken, map[string]bool{"public": false}, &me); code != 200 || me.Public || me.Points != 17 {
		t.Fatalf("opt out: status %d, %+v", code, me)
	}
	srv.do(t, "GET", "/api/v1/leaderboard?period=day", bob, nil, &board)
	if len(board.Items) != 0 {
		t.Errorf("bob still sees %+v after alice opted out", board.Items)
	}
	// Achievements: her own yes, Bob's view of hers no, a supervisor's yes.
	if code := srv.do(t, "GET", "/api/v1/agents/"+aliceID+"/achievements", aliceToken, nil, &me); code != 200 || me.Points != 17 {
		t.Errorf("own achievements: status %d, %+v", code, me)
	}
	earned := map[string]bool{}
	for _, b := range me.Badges {
		earned[b.Key] = b.Earned
	}
	if !earned["first_resolution"] {
		t.Errorf("badges %+v; want first_resolution earned", me.Badges)
	}
	if code := srv.do(t, "GET", "/api/v1/agents/"+aliceID+"/achievements", bob, nil, nil); code != 403 {
		t.Errorf("bob reading alice's achievements: status %d; want 403", code)
	}
	sup := srv.login(t, "supervisor@parley.test")
	if code := srv.do(t, "GET", "/api/v1/agents/"+aliceID+"/achievements", sup, nil, nil); code != 200 {
		t.Errorf("supervisor reading alice's achievements: status %d; want 200", code)
	}

	// Rules: anyone reads, only admins change.
	if code := srv.do(t, "PUT", "/api/v1/gamification/rules", sup, map[string]any{"rules": []any{}}, nil); code != 403 {
		t.Errorf("supervisor changing rules: status %d; want 403", code)
	}
	var rules struct {
		TimeZone string `json:"timezone"`
		Rules    []struct {
			Key    string `json:"key"`
			Points int    `json:"points"`
		} `json:"rules"`
	}
	if code := srv.do(t, "PUT", "/api/v1/gamification/rules", admin, map[string]any{"rules": []any{map[string]any{"key": "resolved", "points": 12}}}, &rules); code != 200 {
		t.Fatalf("admin changing rules: status %d", code)
	}
	if code := srv.do(t, "PUT", "/api/v1/gamification/rules", admin, map[string]any{"rules": []any{map[string]any{"key": "missed_offer", "points": 5}}}, nil); code != 400 {
		t.Errorf("a positive penalty: status %d; want 400", code)
	}
	srv.do(t, "GET", "/api/v1/gamification/rules", bob, nil, &rules)
	if len(rules.Rules) == 0 || rules.Rules[0].Key != "resolved" || rules.Rules[0].Points != 12 || rules.TimeZone != "UTC" {
		t.Errorf("rules %+v; want resolved at 12 points", rules)
	}

	// A team quest with live progress.
	var quest struct {
		ID       string `json:"id"`
		Progress int    `json:"progress"`
		Target   int    `json:"target"`
	}
	body := map[string]any{"title": "Support resolves 5 today", "scope": "team", "team": "Support", "metric": "resolved", "target": 5,
		"starts_at": time.Now().Add(-time.Hour), "ends_at": time.Now().Add(24 * time.Hour)}
	if code := srv.do(t, "POST", "/api/v1/quests", bob, body, nil); code != 403 {
		t.Errorf("agent creating a quest: status %d; want 403", code)
	}
	if code := srv.do(t, "POST", "/api/v1/quests", sup, body, &quest); code != 201 || quest.Progress != 1 {
		t.Fatalf("create quest: status %d, %+v; want progress 1", code, quest)
	}
	var quests struct {
		Items []struct {
			ID       string `json:"id"`
			Progress int    `json:"progress"`
		} `json:"items"`
	}
	if srv.do(t, "GET", "/api/v1/quests", aliceToken, nil, &quests); len(quests.Items) != 1 || quests.Items[0].ID != quest.ID {
		t.Errorf("alice's quests %+v; want the Support quest", quests.Items)
	}
}
