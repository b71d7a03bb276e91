package main

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// transcript returns a conversation's message bodies in seq order, failing
// when seq does not increase by one from 1.
func (e *env) transcript(t *testing.T, convID string) []string {
	t.Helper()
	rows, err := e.db.Pool.Query(context.Background(), `SELECT seq, body FROM messages WHERE conversation_id = $1::bigint ORDER BY seq`, convID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var bodies []string
	var want int64 = 1
	for rows.Next() {
		var seq int64
		var body string
		if err := rows.Scan(&seq, &body); err != nil {
			t.Fatal(err)
		}
		if seq != want {
			t.Fatalf("conversation %s: seq %d where %d was expected", convID, seq, want)
		}
		want++
		bodies = append(bodies, body)
	}
	return bodies
}

func equal(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}

// chat has a visitor write, the given agent take the offer, and returns the
// conversation id.
func acceptNext(t *testing.T, agent *ws) (offerID, convID string) {
	t.Helper()
	offer := agent.expect("offer")
	offerID, convID = offer.str("offer", "id"), offer.str("offer", "conversation", "id")
	agent.send(map[string]any{"type": "accept", "offer_id": offerID})
	agent.expectWhere("assigned", func(f frame) bool { return f.str("conversation", "id") == convID })
	return offerID, convID
}

func TestWebchatBillingChatReachesSkilledAgentWithHistory(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)

	alice := srv.agentWS(t, srv.login(t, "agent1@parley.test")) // billing 5
	chen := srv.agentWS(t, srv.login(t, "agent3@parley.test"))  // technical 5, no billing
	alice.send(map[string]any{"type": "presence", "status": "available"})
	chen.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	chen.expect("presence")

	// An earlier conversation, resolved.
	v := srv.startVisitor(t, inbox, "", "Mei Lin", "mei@example.com", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "Where is my invoice?", "client_msg_id": "m1"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m1" })
	_, first := acceptNext(t, alice)
	alice.send(map[string]any{"type": "resolve", "conversation_id": first})
	alice.expect("resolved")
	cust.expect("resolved")
	cust.conn.Close()

	// A new session of the same visitor, about billing again.
	v2 := srv.startVisitor(t, inbox, v.token, "Mei Lin", "", "billing")
	if v2.customerID != v.customerID {
		t.Fatalf("returning visitor got customer %s; want %s", v2.customerID, v.customerID)
	}
	cust = srv.visitorWS(t, v2, "")
	cust.send(map[string]any{"type": "message", "body": "I was charged twice", "client_msg_id": "m2"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m2" })
	q := cust.expect("queue")
	if q.str("position") != "1" {
		t.Errorf("queue position %s; want 1", q.str("position"))
	}

	offer := alice.expect("offer")
	chen.quiet("offer", 300*time.Millisecond)
	if got := offer.str("offer", "queue", "name"); got != "Billing" {
		t.Errorf("offer from queue %q; want Billing", got)
	}
	past := offer.str("offer", "customer", "past_conversations")
	if !strings.Contains(past, "Where is my invoice?") || !strings.Contains(past, first) {
		t.Errorf("offer's customer history lacks the earlier conversation: %s", past)
	}
	if ids := offer.str("offer", "customer", "identities"); !strings.Contains(ids, "mei@example.com") {
		t.Errorf("offer's customer identities lack the email: %s", ids)
	}
	conv := offer.str("offer", "conversation", "id")
	alice.send(map[string]any{"type": "accept", "offer_id": offer.str("offer", "id")})
	alice.expect("assigned")
	cust.expect("agent_joined")

	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "Sorry! Refunding the second charge now.", "client_msg_id": "r1"})
	ack := alice.expect("ack")
	if ack.str("seq") != "2" {
		t.Errorf("reply seq %s; want 2", ack.str("seq"))
	}
	// The same frame again (a client retry) is stored once.
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "Sorry! Refunding the second charge now.", "client_msg_id": "r1"})
	alice.expect("ack")
	got := cust.expectWhere("message", func(f frame) bool { return f.str("message", "sender", "type") == "agent" })
	if got.str("message", "body") != "Sorry! Refunding the second charge now." {
		t.Errorf("customer got %q", got.str("message", "body"))
	}
	cust.send(map[string]any{"type": "message", "body": "Thanks!", "client_msg_id": "m3"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m3" })
	alice.expectWhere("message", func(f frame) bool { return f.str("message", "body") == "Thanks!" })

	want := []string{"I was charged twice", "Sorry! Refunding the second charge now.", "Thanks!"}
	if got := e.transcript(t, conv); !equal(got, want) {
		t.Errorf("transcript %q; want %q", got, want)
	}
	if got := e.transcript(t, first); !equal(got, []string{"Where is my invoice?"}) {
		t.Errorf("first transcript %q", got)
	}
}

func TestOfferTimesOutToNextAgentAndLateAcceptConflicts(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	var queues struct {
		Items []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	srv.do(t, "GET", "/api/v1/queues", admin, nil, &queues)
	for _, q := range queues.Items {
		if q.Name == "Billing" {
			if code := srv.do(t, "PATCH", "/api/v1/queues/"+q.ID, admin, map[string]any{"offer_timeout_s": 1}, nil); code != 200 {
				t.Fatalf("patch queue: %d", code)
			}
		}
	}
	alice := srv.agentWS(t, srv.login(t, "agent1@parley.test")) // billing 5
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	bob := srv.agentWS(t, srv.login(t, "agent2@parley.test")) // billing 3

	v := srv.startVisitor(t, inbox, "", "Tom", "", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "Refund please", "client_msg_id": "x1"})
	first := alice.expect("offer")
	bob.send(map[string]any{"type": "presence", "status": "available"})
	bob.expect("presence")
	ended := alice.expect("offer_ended")
	if ended.str("offer_id") != first.str("offer", "id") || ended.str("reason") != "timeout" {
		t.Fatalf("offer_ended %v; want timeout of %s", ended, first.str("offer", "id"))
	}
	second := bob.expect("offer")
	if second.str("offer", "conversation", "id") != first.str("offer", "conversation", "id") {
		t.Fatalf("bob was offered another conversation")
	}
	alice.send(map[string]any{"type": "accept", "offer_id": first.str("offer", "id")})
	errFrame := alice.expect("error")
	if errFrame.str("code") != "conflict" || errFrame.str("ref") != first.str("offer", "id") {
		t.Errorf("late accept got %v; want a conflict error", errFrame)
	}
	bob.send(map[string]any{"type": "accept", "offer_id": second.str("offer", "id")})
	bob.expect("assigned")
	var states []string
	rows, _ := e.db.Pool.Query(context.Background(), `SELECT state FROM offers ORDER BY created_at`)
	for rows.Next() {
		var s string
		rows.Scan(&s)
		states = append(states, s)
	}
	rows.Close()
	if !equal(states, []string{"timeout", "accepted"}) {
		t.Errorf("offers recorded %q; want [timeout accepted]", states)
	}
}

func TestRestartLosesNothing(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	token := srv.login(t, "agent1@parley.test")
	alice := srv.agentWS(t, token)
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	v := srv.startVisitor(t, inbox, "", "Ana", "", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "one", "client_msg_id": "c1"})
	_, conv := acceptNext(t, alice)
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "two", "client_msg_id": "a1"})
	alice.expect("ack")
	cust.expectWhere("message", func(f frame) bool { return f.str("message", "body") == "two" })

	srv.stop()
	// Both sockets get a close frame (going away), not a dropped connection.
	for _, w := range []*ws{alice, cust} {
		select {
		case err := <-w.closed:
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
				t.Errorf("%s closed with %v; want close 1001", w.name, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s not closed by shutdown", w.name)
		}
	}

	srv2 := e.start()
	alice = srv2.agentWS(t, token)
	// hello was consumed by agentWS; check the conversation is still assigned.
	var convs struct {
		Items []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
	}
	srv2.do(t, "GET", "/api/v1/conversations?status=assigned", token, nil, &convs)
	if len(convs.Items) != 1 || convs.Items[0].ID != conv {
		t.Fatalf("after restart assigned conversations %v; want %s", convs.Items, conv)
	}
	// The customer reconnects having seen seq 2, and resends a message whose
	// ack it never got (same client_msg_id) plus a new one.
	cust = srv2.visitorWS(t, v, "&conversation_id="+conv+"&after_seq=1")
	replayed := cust.expect("message")
	if replayed.str("message", "body") != "two" {
		t.Errorf("resume after seq 1 replayed %q; want two", replayed.str("message", "body"))
	}
	cust.send(map[string]any{"type": "message", "body": "one", "client_msg_id": "c1"})
	if a := cust.expect("ack"); a.str("seq") != "1" {
		t.Errorf("resent message acked with seq %s; want the stored 1", a.str("seq"))
	}
	cust.send(map[string]any{"type": "message", "body": "three", "client_msg_id": "c2"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "c2" })
	alice.expectWhere("message", func(f frame) bool { return f.str("message", "body") == "three" })
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "four", "client_msg_id": "a2"})
	cust.expectWhere("message", func(f frame) bool { return f.str("message", "body") == "four" })
	if got := e.transcript(t, conv); !equal(got, []string{"one", "two", "three", "four"}) {
		t.Errorf("transcript %q; want one two three four", got)
	}
}

func TestBadInputIsRefusedClearly(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	token := srv.login(t, "agent1@parley.test")

	t.Run("oversized frame closes with 1009", func(t *testing.T) {
		a := srv.agentWS(t, token)
		a.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"typing","x":"`+strings.Repeat("x", 70<<10)+`"}`))
		select {
		case err := <-a.closed:
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
				t.Errorf("closed with %v; want 1009", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("socket not closed")
		}
	})
	t.Run("invalid JSON gets an error frame and the socket stays usable", func(t *testing.T) {
		a := srv.agentWS(t, token)
		a.conn.WriteMessage(websocket.TextMessage, []byte(`{"type": "presence", `))
		if f := a.expect("error"); f.str("code") != "invalid" {
			t.Errorf("error code %q; want invalid", f.str("code"))
		}
		a.send(map[string]any{"type": "presence", "status": "away"})
		if f := a.expect("presence"); f.str("status") != "away" {
			t.Errorf("presence %q; want away", f.str("status"))
		}
		v := srv.startVisitor(t, inbox, "", "Eve", "", "")
		c := srv.visitorWS(t, v, "")
		c.conn.WriteMessage(websocket.TextMessage, []byte(`not json`))
		c.expect("error")
		c.conn.WriteMessage(websocket.TextMessage, []byte("{\"type\":\"message\",\"body\":\"\xff\xfe\",\"client_msg_id\":\"bad\"}"))
		if f := c.expect("error"); f.str("code") != "invalid" {
			t.Errorf("invalid UTF-8 frame got %v; want an invalid error", f)
		}
		c.send(map[string]any{"type": "message", "body": "   ", "client_msg_id": "blank"})
		if f := c.expect("error"); f.str("code") != "invalid" || f.str("ref") != "blank" {
			t.Errorf("blank body got %v; want an invalid error for ref blank", f)
		}
		c.send(map[string]any{"type": "message", "body": "fine", "client_msg_id": "ok"})
		c.expect("ack")
	})
	t.Run("foreign origin is refused", func(t *testing.T) {
		h := http.Header{"Origin": {"https://evil.example"}}
		_, resp, err := dialWS(t, srv.base, "/api/v1/agent/ws?token="+token, h)
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("agent socket from a foreign origin: err %v, resp %v; want 403", err, resp)
		}
		v := srv.startVisitor(t, inbox, "", "Eve", "", "")
		_, resp, err = dialWS(t, srv.base, "/api/v1/webchat/ws?token="+v.token, h)
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("visitor socket from a foreign origin: err %v, resp %v; want 403", err, resp)
		}
		_, _, err = dialWS(t, srv.base, "/api/v1/agent/ws?token="+token, http.Header{"Origin": {srv.base}})
		if err != nil {
			t.Errorf("same-origin socket refused: %v", err)
		}
	})
	t.Run("wrong password gets 401 without saying which part was wrong", func(t *testing.T) {
		var wrongPass, wrongUser struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		c1 := srv.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"email": "agent1@parley.test", "password": "nope-nope"}, &wrongPass)
		c2 := srv.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"email": "nobody@parley.test", "password": "nope-nope"}, &wrongUser)
		if c1 != 401 || c2 != 401 || wrongPass != wrongUser || wrongPass.Error.Code != "unauthorized" {
			t.Errorf("wrong password: %d %v; unknown email: %d %v; want the same 401", c1, wrongPass, c2, wrongUser)
		}
	})
	t.Run("unknown ids and bad tokens", func(t *testing.T) {
		if code := srv.do(t, "GET", "/api/v1/conversations/999999", token, nil, nil); code != 404 {
			t.Errorf("unknown conversation: %d; want 404", code)
		}
		if code := srv.do(t, "GET", "/api/v1/conversations/abc", token, nil, nil); code != 404 {
			t.Errorf("malformed id: %d; want 404", code)
		}
		if code := srv.do(t, "GET", "/api/v1/auth/me", "forged", nil, nil); code != 401 {
			t.Errorf("forged token: %d; want 401", code)
		}
		_, resp, err := dialWS(t, srv.base, "/api/v1/webchat/ws?token=forged", nil)
		if err == nil || resp.StatusCode != 401 {
			t.Errorf("forged visitor token: %v; want 401", err)
		}
		if code := srv.do(t, "POST", "/api/v1/queues", token, map[string]any{"name": "X"}, nil); code != 403 {
			t.Errorf("agent creating a queue: %d; want 403", code)
		}
		if code := srv.do(t, "POST", "/api/v1/queues", admin, map[string]any{"name": "X", "bogus": 1}, nil); code != 400 {
			t.Errorf("unknown field: %d; want 400", code)
		}
	})
}

func TestWidgetOnAnotherSiteNeedsAnAllowedOrigin(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	if code := srv.do(t, "PATCH", "/api/v1/inboxes/"+inbox, admin, map[string]any{"settings": map[string]any{"allowed_origins": []string{"https://shop.example"}}}, nil); code != 200 {
		t.Fatalf("patch inbox: %d", code)
	}
	request := func(method, path, origin, body string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.base+path, strings.NewReader(body))
		req.Header.Set("Origin", origin)
		req.Header.Set("Content-Type", "application/json")
		if method == "OPTIONS" {
			req.Header.Set("Access-Control-Request-Method", "POST")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tt := range []struct {
		method, path, origin, body string
		status                     int
		allowed                    bool
	}{
		{"OPTIONS", "/api/v1/webchat/sessions", "https://shop.example", "", 204, true},
		{"OPTIONS", "/api/v1/webchat/sessions", "https://evil.example", "", 403, false},
		{"GET", "/api/v1/webchat/inboxes/" + inbox, "https://shop.example", "", 200, true},
		{"GET", "/api/v1/webchat/inboxes/" + inbox, "https://evil.example", "", 200, false},
		{"POST", "/api/v1/webchat/sessions", "https://shop.example", `{"inbox_id":"` + inbox + `","name":"Shopper"}`, 200, true},
		{"POST", "/api/v1/webchat/sessions", "https://evil.example", `{"inbox_id":"` + inbox + `","name":"Evil"}`, 403, false},
		{"GET", "/api/v1/webchat/ws?token=dead", "https://shop.example", "", 401, true},
	} {
		resp := request(tt.method, tt.path, tt.origin, tt.body)
		got := resp.Header.Get("Access-Control-Allow-Origin") == tt.origin
		if resp.StatusCode != tt.status || got != tt.allowed {
			t.Errorf("%s %s from %s: status %d, allowed %v; want %d, %v", tt.method, tt.path, tt.origin, resp.StatusCode, got, tt.status, tt.allowed)
		}
	}
	v := srv.startVisitor(t, inbox, "", "Shopper", "", "")
	if _, _, err := dialWS(t, srv.base, "/api/v1/webchat/ws?token="+v.token, http.Header{"Origin": {"https://shop.example"}}); err != nil {
		t.Errorf("visitor socket from the allowed origin: %v", err)
	}
}

func TestTwoInstancesShareQueuesAndFanOut(t *testing.T) {
	e := newEnv(t)
	a, b := e.start(), e.start()
	admin := a.login(t, "admin@parley.test")
	inbox := a.inboxID(t, admin)
	token := a.login(t, "agent1@parley.test")
	// The agent has two consoles, one on each instance; the customer is on b.
	onA := a.agentWS(t, token)
	onB := b.agentWS(t, token)
	onA.send(map[string]any{"type": "presence", "status": "available"})
	onA.expect("presence")
	onB.expect("presence") // the presence change reached the other instance's socket
	v := b.startVisitor(t, inbox, "", "Kai", "", "billing")
	cust := b.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "hello from b", "client_msg_id": "k1"})
	offer := onA.expect("offer")
	onB.expectWhere("offer", func(f frame) bool { return f.str("offer", "id") == offer.str("offer", "id") })
	onB.send(map[string]any{"type": "accept", "offer_id": offer.str("offer", "id")})
	onA.expect("assigned")
	onB.expect("assigned")
	conv := offer.str("offer", "conversation", "id")
	onA.send(map[string]any{"type": "send", "conversation_id": conv, "body": "answer from a", "client_msg_id": "r1"})
	cust.expectWhere("message", func(f frame) bool { return f.str("message", "body") == "answer from a" })
	onB.expectWhere("message", func(f frame) bool { return f.str("message", "body") == "answer from a" })
	// Closing one console keeps the agent available: the other is still open.
	onA.conn.Close()
	onB.quiet("presence", 500*time.Millisecond)
}
