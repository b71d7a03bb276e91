package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

type convView struct {
	ID           string    `json:"id"`
	Status       string    `json:"status"`
	SubStatus    string    `json:"sub_status"`
	SnoozedUntil time.Time `json:"snoozed_until"`
	AgentID      string    `json:"agent_id"`
	Tags         []string  `json:"tags"`
}

type slaElapsed struct {
	Kind     string  `json:"kind"`
	Status   string  `json:"status"`
	Outcome  string  `json:"outcome"`
	Cycle    int     `json:"cycle"`
	ElapsedS float64 `json:"elapsed_s"`
}

// liveClocks returns the clocks of a conversation by kind (the last of each).
func (in *instance) clockStates(t *testing.T, token, convID string) map[string]slaElapsed {
	t.Helper()
	var out struct {
		Items []slaElapsed `json:"items"`
	}
	if code := in.do(t, "GET", "/api/v1/conversations/"+convID+"/sla", token, nil, &out); code != 200 {
		t.Fatalf("clocks of %s: status %d", convID, code)
	}
	m := map[string]slaElapsed{}
	for _, c := range out.Items {
		m[c.Kind] = c
	}
	return m
}

func TestPendingAndSnoozedPauseTheSLAClocksUntilTheCustomerOrTheTimerAndNothingRunsAfterResolve(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	if code := srv.do(t, "POST", "/api/v1/sla/policies", admin, map[string]any{"name": "chat",
		"targets": map[string]any{"first_response_s": 600, "next_response_s": 600, "resolution_s": 3600}}, nil); code != 201 {
		t.Fatalf("create policy: status %d", code)
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
	status := func(token string, body map[string]any) (convView, int) {
		var c convView
		code := srv.do(t, "POST", "/api/v1/conversations/"+conv+"/status", token, body, &c)
		return c, code
	}

	// Bad input first.
	if _, code := status(aliceToken, map[string]any{"status": "sleeping"}); code != 400 {
		t.Errorf("unknown status: %d; want 400", code)
	}
	if _, code := status(aliceToken, map[string]any{"status": "snoozed", "until": time.Now().Add(-time.Minute).Format(time.RFC3339)}); code != 400 {
		t.Errorf("snooze into the past: %d; want 400", code)
	}
	if _, code := status(aliceToken, map[string]any{"status": "snoozed"}); code != 400 {
		t.Errorf("snooze without until: %d; want 400", code)
	}
	if _, code := status(srv.login(t, "agent2@parley.test"), map[string]any{"status": "pending"}); code != 404 {
		t.Errorf("another agent: %d; want 404", code)
	}

	// Pending: every running clock pauses and stops counting.
	c, code := status(aliceToken, map[string]any{"status": "pending"})
	if code != 200 || c.SubStatus != "pending" || c.Status != "assigned" || c.AgentID == "" {
		t.Fatalf("pending: status %d, %+v", code, c)
	}
	alice.expectWhere("conversation_status", func(f frame) bool { return f.str("sub_status") == "pending" })
	alice.expectWhere("sla", func(f frame) bool { return f.str("clock") == "resolution" && f.str("state") == "paused" })
	paused := srv.clockStates(t, aliceToken, conv)
	if paused["resolution"].Status != "paused" || paused["first_response"].Status != "paused" {
		t.Fatalf("clocks while pending %+v; want paused", paused)
	}
	var listed struct {
		Items []convView `json:"items"`
	}
	if srv.do(t, "GET", "/api/v1/conversations?sub_status=pending", aliceToken, nil, &listed); len(listed.Items) != 1 || listed.Items[0].ID != conv {
		t.Errorf("pending list %+v; want conversation %s", listed.Items, conv)
	}
	time.Sleep(1200 * time.Millisecond)
	if again := srv.clockStates(t, aliceToken, conv); again["resolution"].ElapsedS != paused["resolution"].ElapsedS {
		t.Errorf("paused resolution clock counted on: %.3f s then %.3f s", paused["resolution"].ElapsedS, again["resolution"].ElapsedS)
	}

	// The customer writes: open again, the clocks run.
	cust.send(map[string]any{"type": "message", "body": "Any news?", "client_msg_id": "m2"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m2" })
	var got convView
	srv.do(t, "GET", "/api/v1/conversations/"+conv, aliceToken, nil, &got)
	if got.SubStatus != "" {
		t.Fatalf("after the customer wrote: sub_status %q; want open", got.SubStatus)
	}
	running := srv.clockStates(t, aliceToken, conv)
	if running["resolution"].Status != "running" || running["first_response"].Status != "running" {
		t.Fatalf("clocks after the customer wrote %+v; want running", running)
	}

	// Snoozed for a second: paused, then the timer wakes it.
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "Checking with billing.", "client_msg_id": "r1"})
	alice.expect("ack")
	c, code = status(aliceToken, map[string]any{"status": "snoozed", "until": time.Now().Add(2 * time.Second).Format(time.RFC3339Nano)})
	if code != 200 || c.SubStatus != "snoozed" || c.SnoozedUntil.IsZero() {
		t.Fatalf("snooze: status %d, %+v", code, c)
	}
	if cl := srv.clockStates(t, aliceToken, conv); cl["resolution"].Status != "paused" {
		t.Fatalf("resolution clock while snoozed: %s", cl["resolution"].Status)
	}
	woke := alice.expectWhere("conversation_status", func(f frame) bool { return f.str("reason") == "timer" })
	late := time.Since(c.SnoozedUntil)
	t.Logf("snooze ended %v after its time", late)
	if woke.str("sub_status") != "" || late > 1500*time.Millisecond {
		t.Errorf("wake frame %v %v after the snooze time; want open within 1.5 s", woke, late)
	}
	if cl := srv.clockStates(t, aliceToken, conv); cl["resolution"].Status != "running" {
		t.Fatalf("resolution clock after the snooze: %s", cl["resolution"].Status)
	}
	var n int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE type = 'conversation.status_changed' AND conversation_id = $1::bigint`, conv).Scan(&n)
	if n != 4 { // pending, open (customer), snoozed, open (timer)
		t.Errorf("%d status_changed events; want 4", n)
	}

	// Pending, then resolved: every clock stops, and nothing can start one.
	status(aliceToken, map[string]any{"status": "pending"})
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	if _, code := status(aliceToken, map[string]any{"status": "open"}); code != 409 {
		t.Errorf("status of a resolved conversation: %d; want 409", code)
	}
	cust.send(map[string]any{"type": "message", "body": "thanks", "client_msg_id": "m3"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m3" })
	stopped := srv.clockStates(t, aliceToken, conv)
	for kind, cl := range stopped {
		if cl.Status != "stopped" {
			t.Errorf("%s clock %s after resolve; want stopped", kind, cl.Status)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	for kind, cl := range srv.clockStates(t, aliceToken, conv) {
		if cl.Status != "stopped" || cl.ElapsedS != stopped[kind].ElapsedS {
			t.Errorf("%s clock after resolve: %s, %.3f s then %.3f s; want stopped and still", kind, cl.Status, stopped[kind].ElapsedS, cl.ElapsedS)
		}
	}
	if stopped["resolution"].Outcome != "met" {
		t.Errorf("resolution outcome %q; want met", stopped["resolution"].Outcome)
	}
}

func TestReopenStartsANewResolutionCycleAndTakesTheResolutionPointsBack(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	if code := srv.do(t, "POST", "/api/v1/sla/policies", admin, map[string]any{"name": "chat",
		"targets": map[string]any{"first_response_s": 600, "resolution_s": 3600}}, nil); code != 201 {
		t.Fatalf("create policy: status %d", code)
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
	reopen := func(token, id string) (convView, int) {
		var c convView
		return c, srv.do(t, "POST", "/api/v1/conversations/"+id+"/reopen", token, nil, &c)
	}
	if _, code := reopen(aliceToken, conv); code != 409 {
		t.Errorf("reopen of an assigned conversation: %d; want 409", code)
	}
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "Fixed.", "client_msg_id": "r1"})
	alice.expect("ack")
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	if p := alice.expectWhere("points", func(f frame) bool { return f.str("rule") == "resolved" }); p.str("delta") != "10" {
		t.Fatalf("resolution points %v; want +10", p)
	}

	// The customer writes after the resolve: a new conversation, while it
	// is open the old one cannot be reopened.
	cust.send(map[string]any{"type": "message", "body": "One more thing", "client_msg_id": "m2"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m2" })
	_, conv2 := acceptNext(t, alice)
	if conv2 == conv {
		t.Fatalf("a message after the resolve continued the resolved conversation %s", conv)
	}
	if _, code := reopen(aliceToken, conv); code != 409 {
		t.Errorf("reopen while the customer has another open conversation: %d; want 409", code)
	}
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv2})
	alice.expectWhere("resolved", func(f frame) bool { return f.str("conversation_id") == conv2 })
	if _, code := reopen(srv.login(t, "agent2@parley.test"), conv); code != 404 {
		t.Errorf("reopen by an agent who never had it: %d; want 404", code)
	}

	// Alice reopens it: a direct offer back to her, the points go back.
	c, code := reopen(aliceToken, conv)
	if code != 200 || c.Status != "queued" || c.AgentID != "" {
		t.Fatalf("reopen: status %d, %+v; want queued", code, c)
	}
	if _, again := acceptNext(t, alice); again != conv {
		t.Fatalf("offered %s after the reopen; want %s", again, conv)
	}
	back := alice.expectWhere("points", func(f frame) bool { return f.str("rule") == "reopen" && f.str("conversation_id") == conv })
	if back.str("delta") != "-10" {
		t.Errorf("points after the reopen %v; want -10", back)
	}
	var cycles struct {
		Items []slaElapsed `json:"items"`
	}
	srv.do(t, "GET", "/api/v1/conversations/"+conv+"/sla", aliceToken, nil, &cycles)
	var res []slaElapsed
	for _, cl := range cycles.Items {
		if cl.Kind == "resolution" {
			res = append(res, cl)
		}
	}
	if len(res) != 2 || res[0].Outcome != "met" || res[1].Cycle != 2 || res[1].Status != "running" {
		t.Errorf("resolution clocks after the reopen %+v; want cycle 1 met, cycle 2 running", res)
	}
	var n int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE type = 'conversation.reopened' AND conversation_id = $1::bigint`, conv).Scan(&n)
	if n != 1 {
		t.Errorf("%d conversation.reopened events; want 1", n)
	}

	// Resolved again: the reopened conversation is not a first-contact
	// resolution; the second one (nothing after it) is.
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expectWhere("resolved", func(f frame) bool { return f.str("conversation_id") == conv })
	var rep struct {
		Summary struct {
			FCR struct {
				Value  *float64       `json:"value"`
				Counts map[string]int `json:"counts"`
			} `json:"fcr"`
		} `json:"summary"`
	}
	if code := srv.do(t, "GET", "/api/v1/reports/summary", srv.login(t, "supervisor@parley.test"), nil, &rep); code != 200 {
		t.Fatalf("report: status %d", code)
	}
	if fcr := rep.Summary.FCR; fcr.Value == nil || *fcr.Value != 50 || fcr.Counts["resolved"] != 2 {
		t.Errorf("FCR %+v; want 50%% of 2 (the reopened conversation is not a first-contact resolution)", fcr)
	}
}

// queuedChat starts a web chat from Mei Lin (mei@example.com) in inbox,
// which waits in its queue with nobody available, and returns its id.
func (in *instance) queuedChat(t *testing.T, inbox, sup string) string {
	t.Helper()
	v := in.startVisitor(t, inbox, "", "Mei Lin", "mei@example.com", "billing")
	cust := in.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "Hello?", "client_msg_id": "m1"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m1" })
	var waiting struct {
		Items []convView `json:"items"`
	}
	if in.do(t, "GET", "/api/v1/conversations?status=queued", sup, nil, &waiting); len(waiting.Items) != 1 {
		t.Fatalf("queued conversations %+v; want 1", waiting.Items)
	}
	return waiting.Items[0].ID
}

func TestTagsThroughTheAPIAndTheSLATagEscalation(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	if code := srv.do(t, "POST", "/api/v1/sla/policies", admin, map[string]any{"name": "bad tag", "targets": map[string]any{"first_response_s": 2},
		"escalations": []map[string]any{{"on": "breach", "action": "tag"}}}, nil); code != 400 {
		t.Errorf("tag escalation without a tag: %d; want 400", code)
	}
	if code := srv.do(t, "POST", "/api/v1/sla/policies", admin, map[string]any{"name": "fast", "warn_percent": 50,
		"targets":     map[string]any{"first_response_s": 2},
		"escalations": []map[string]any{{"on": "warning", "action": "tag", "tag": "sla-warning"}, {"on": "breach", "action": "tag", "tag": "sla-breached"}},
	}, nil); code != 201 {
		t.Fatalf("create policy: status %d", code)
	}
	sup := srv.login(t, "supervisor@parley.test")
	conv := srv.queuedChat(t, inbox, sup)

	// Nobody is available: the clock warns, then breaches, and each adds its tag.
	deadline := time.Now().Add(10 * time.Second)
	var c convView
	for time.Now().Before(deadline) {
		srv.do(t, "GET", "/api/v1/conversations/"+conv, sup, nil, &c)
		if len(c.Tags) == 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(c.Tags) != 2 || c.Tags[0] != "sla-breached" || c.Tags[1] != "sla-warning" {
		t.Fatalf("tags after the breach %v; want [sla-breached sla-warning]", c.Tags)
	}
	var n int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE type = 'conversation.tags_changed' AND conversation_id = $1::bigint
		AND payload->>'reason' = 'sla'`, conv).Scan(&n)
	if n != 2 {
		t.Errorf("%d tags_changed events from the SLA; want 2", n)
	}

	// A supervisor adds and removes tags; bad tags are refused.
	tag := func(body map[string]any) int {
		return srv.do(t, "POST", "/api/v1/conversations/"+conv+"/tags", sup, body, &c)
	}
	if code := tag(map[string]any{"add": []string{"has space"}}); code != 400 {
		t.Errorf("tag with a space: %d; want 400", code)
	}
	if code := tag(map[string]any{}); code != 400 {
		t.Errorf("empty tag change: %d; want 400", code)
	}
	if code := tag(map[string]any{"add": []string{" VIP ", "refund"}, "remove": []string{"sla-warning"}}); code != 200 {
		t.Fatalf("change tags: %d", code)
	}
	if got := strings.Join(c.Tags, ","); got != "refund,sla-breached,vip" {
		t.Errorf("tags %s; want refund,sla-breached,vip", got)
	}
	var list struct {
		Items []convView `json:"items"`
	}
	if srv.do(t, "GET", "/api/v1/conversations?tag=VIP", sup, nil, &list); len(list.Items) != 1 || list.Items[0].ID != conv {
		t.Errorf("list by tag %+v; want conversation %s", list.Items, conv)
	}
	if srv.do(t, "GET", "/api/v1/conversations?tag=nothing", sup, nil, &list); len(list.Items) != 0 {
		t.Errorf("list by an unused tag %+v; want none", list.Items)
	}
	var inUse struct {
		Items []struct {
			Tag           string `json:"tag"`
			Conversations int    `json:"conversations"`
		} `json:"items"`
	}
	if code := srv.do(t, "GET", "/api/v1/conversations/tags", sup, nil, &inUse); code != 200 || len(inUse.Items) != 3 {
		t.Errorf("tags in use: %d %+v; want 3", code, inUse.Items)
	}
}

func TestACustomerMessageWithinTheInboxReopenWindowReopensTheResolvedConversation(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	if code := srv.do(t, "PATCH", "/api/v1/inboxes/"+inbox, admin, map[string]any{"settings": map[string]any{"reopen_window_s": -1}}, nil); code != 400 {
		t.Errorf("negative reopen window: %d; want 400", code)
	}
	if code := srv.do(t, "PATCH", "/api/v1/inboxes/"+inbox, admin, map[string]any{"settings": map[string]any{"reopen_window_s": 3600}}, nil); code != 200 {
		t.Fatalf("set the reopen window: %d", code)
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
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "Fixed.", "client_msg_id": "r1"})
	alice.expect("ack")
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	alice.expectWhere("points", func(f frame) bool { return f.str("rule") == "resolved" })

	cust.send(map[string]any{"type": "message", "body": "It is still wrong", "client_msg_id": "m2"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m2" })
	if _, again := acceptNext(t, alice); again != conv {
		t.Fatalf("the customer's message within the window went to %s; want conversation %s reopened", again, conv)
	}
	if p := alice.expectWhere("points", func(f frame) bool { return f.str("rule") == "reopen" }); p.str("delta") != "-10" {
		t.Errorf("points after the customer reopened it %v; want -10", p)
	}
	var reason string
	e.db.Pool.QueryRow(context.Background(), `SELECT payload->>'reason' FROM events WHERE type = 'conversation.reopened' AND conversation_id = $1::bigint`, conv).Scan(&reason)
	if reason != "customer" {
		t.Errorf("reopen reason %q; want customer", reason)
	}
	var msgs struct {
		Items []struct {
			Body string `json:"body"`
		} `json:"items"`
	}
	srv.do(t, "GET", "/api/v1/conversations/"+conv+"/messages", aliceToken, nil, &msgs)
	if n := len(msgs.Items); n < 2 || msgs.Items[n-1].Body != "It is still wrong" {
		t.Errorf("messages of the reopened conversation %+v; want the new message last", msgs.Items)
	}
}
