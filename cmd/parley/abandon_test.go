package main

import (
	"testing"
	"time"
)

// TestWebchatVisitorLeavesTheQueue: a visitor waiting with no agent
// available leaves the queue; the conversation is abandoned (counted as
// such in the abandon rate), it leaves routing (an agent becoming
// available gets no offer), leaving twice is a conflict, and writing
// again starts a new conversation that is queued and offered.
func TestWebchatVisitorLeavesTheQueue(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)

	v := srv.startVisitor(t, inbox, "", "Ana Ruiz", "ana@example.com", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "Anyone there?", "client_msg_id": "m1"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m1" })
	cust.expect("queue")

	cust.send(map[string]any{"type": "leave"})
	ab := cust.expect("abandoned")
	convID := ab.str("conversation_id")
	if ab.str("reason") != "visitor_left" || convID == "" {
		t.Fatalf("abandoned frame %v", ab)
	}
	var conv struct {
		Status      string `json:"status"`
		Disposition string `json:"disposition"`
	}
	if code := srv.do(t, "GET", "/api/v1/conversations/"+convID, admin, nil, &conv); code != 200 || conv.Status != "abandoned" {
		t.Errorf("conversation after leave: %d %+v", code, conv)
	}

	// Out of routing: an available billing agent is offered nothing.
	alice := srv.agentWS(t, srv.login(t, "agent1@parley.test"))
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	alice.quiet("offer", 400*time.Millisecond)

	// Nothing left to leave.
	cust.send(map[string]any{"type": "leave"})
	if f := cust.expect("error"); f.str("code") != "conflict" {
		t.Errorf("second leave: %v", f)
	}

	// Writing again opens a new conversation, which is offered.
	cust.send(map[string]any{"type": "message", "body": "Back again", "client_msg_id": "m2"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m2" })
	_, conv2 := acceptNext(t, alice)
	if conv2 == convID {
		t.Errorf("the new message went to the abandoned conversation %s", convID)
	}
}
