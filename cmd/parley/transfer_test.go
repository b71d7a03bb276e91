package main

import (
	"strings"
	"testing"
	"time"
)

func TestTransferToAgentAndToQueue(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	var queues struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	srv.do(t, "GET", "/api/v1/queues", admin, nil, &queues)
	technical := ""
	for _, q := range queues.Items {
		if q.Name == "Technical" {
			technical = q.ID
		}
	}
	var agents struct {
		Items []struct{ ID, Email string } `json:"items"`
	}
	srv.do(t, "GET", "/api/v1/agents", admin, nil, &agents)
	bobID := ""
	for _, a := range agents.Items {
		if a.Email == "agent2@parley.test" {
			bobID = a.ID
		}
	}

	alice := srv.agentWS(t, srv.login(t, "agent1@parley.test"))
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	v := srv.startVisitor(t, inbox, "", "Tess", "", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "my invoice and my server", "client_msg_id": "t1"})
	_, conv := acceptNext(t, alice)

	bob := srv.agentWS(t, srv.login(t, "agent2@parley.test"))
	chen := srv.agentWS(t, srv.login(t, "agent3@parley.test")) // technical 5
	for _, a := range []*ws{bob, chen} {
		a.send(map[string]any{"type": "presence", "status": "available"})
		a.expect("presence")
	}
	alice.send(map[string]any{"type": "transfer", "conversation_id": conv, "agent_id": bobID})
	alice.expectWhere("resolved", func(f frame) bool { return f.str("conversation_id") == conv && f.str("reason") == "transferred" })
	offer := bob.expect("offer")
	if offer.str("offer", "conversation", "id") != conv {
		t.Fatalf("named agent was offered %s; want %s", offer.str("offer", "conversation", "id"), conv)
	}
	chen.quiet("offer", 200*time.Millisecond)
	bob.send(map[string]any{"type": "accept", "offer_id": offer.str("offer", "id")})
	bob.expect("assigned")

	// Now to the Technical queue, over REST.
	tok := srv.login(t, "agent2@parley.test")
	if code := srv.do(t, "POST", "/api/v1/conversations/"+conv+"/transfer", tok, map[string]string{"queue_id": technical}, nil); code != 200 {
		t.Fatalf("transfer to queue: %d", code)
	}
	offer = chen.expect("offer")
	if offer.str("offer", "queue", "name") != "Technical" || offer.str("offer", "conversation", "id") != conv {
		t.Fatalf("chen got %v; want the conversation from Technical", offer)
	}
	if !strings.Contains(offer.str("offer", "conversation", "messages"), "transferred the conversation to Technical") {
		t.Errorf("no transfer note in the thread: %s", offer.str("offer", "conversation", "messages"))
	}
	if code := srv.do(t, "POST", "/api/v1/conversations/"+conv+"/transfer", tok, map[string]string{"queue_id": technical, "agent_id": "1"}, nil); code != 400 && code != 404 {
		t.Errorf("transfer with both targets: %d; want 400", code)
	}
}
