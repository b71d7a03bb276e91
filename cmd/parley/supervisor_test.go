package main

import (
	"testing"
	"time"
)

func TestSupervisorSnapshotShowsQueueDepthAndAgents(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	sup := srv.login(t, "supervisor@parley.test")
	inbox := srv.inboxID(t, admin)
	v := srv.startVisitor(t, inbox, "", "Waiting Wendy", "", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "anyone there?", "client_msg_id": "w1"})
	cust.expect("ack")
	time.Sleep(1100 * time.Millisecond) // let the wait pass a second

	type snapshot struct {
		Queues []struct {
			Name            string `json:"name"`
			Waiting         int    `json:"waiting"`
			LongestWaitS    int    `json:"longest_wait_s"`
			AgentsAvailable int    `json:"agents_available"`
		} `json:"queues"`
		Agents []struct {
			Name          string         `json:"name"`
			Status        string         `json:"status"`
			Load          map[string]int `json:"load"`
			Conversations []any          `json:"conversations"`
		} `json:"agents"`
	}
	var snap snapshot
	if code := srv.do(t, "GET", "/api/v1/supervisor/snapshot", sup, nil, &snap); code != 200 {
		t.Fatalf("snapshot: %d", code)
	}
	for _, q := range snap.Queues {
		if q.Name == "Billing" && (q.Waiting != 1 || q.LongestWaitS < 1 || q.AgentsAvailable != 0) {
			t.Errorf("Billing: %+v; want 1 waiting for at least 1 s, no agent available", q)
		}
	}
	agentTok := srv.login(t, "agent1@parley.test")
	if code := srv.do(t, "GET", "/api/v1/supervisor/snapshot", agentTok, nil, nil); code != 403 {
		t.Errorf("agent reading the snapshot: %d; want 403", code)
	}
	alice := srv.agentWS(t, agentTok)
	alice.send(map[string]any{"type": "presence", "status": "available"})
	acceptNext(t, alice)
	srv.do(t, "GET", "/api/v1/supervisor/snapshot", sup, nil, &snap)
	for _, q := range snap.Queues {
		if q.Name == "Billing" && (q.Waiting != 0 || q.AgentsAvailable != 1) {
			t.Errorf("Billing after accept: %+v; want 0 waiting, 1 available", q)
		}
	}
	for _, a := range snap.Agents {
		if a.Name == "Alice Chen" && (a.Status != "available" || a.Load["chat"] != 1 || len(a.Conversations) != 1) {
			t.Errorf("Alice: %+v; want available with one chat", a)
		}
	}
}
