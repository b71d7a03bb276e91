package main

import (
	"net/http"
	"testing"
	"time"
)

// createSegment saves a segment of the customers tagged tag.
func (in *instance) createSegment(t *testing.T, token, name, tag string) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"name": name, "filter": map[string]any{"tags": []string{tag}}}
	if code := in.do(t, "POST", "/api/v1/segments", token, body, &out); code != http.StatusCreated {
		t.Fatalf("create segment: status %d", code)
	}
	return out.ID
}

// TestSurveyDelayedForASegmentIsSentLaterUnlessReopened runs a survey for
// the VIP segment sent two seconds after resolution, through the real
// asynq: a VIP visitor who left gets the card when they come back; a
// conversation reopened meanwhile gets none; a customer outside the
// segment gets none.
func TestSurveyDelayedForASegmentIsSentLaterUnlessReopened(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	vip := srv.createSegment(t, admin, "VIP", "vip")
	body := map[string]any{"name": "Later, VIPs", "channels": []string{"webchat"}, "delay_s": 2, "segment_ids": []string{vip},
		"questions": []map[string]any{{"key": "csat", "kind": "csat", "text": map[string]string{"en": "How did we do?", "zh-CN": "您对本次服务满意吗？"}}}}
	if code := srv.do(t, "POST", "/api/v1/surveys", admin, body, nil); code != http.StatusCreated {
		t.Fatalf("create survey: status %d", code)
	}
	if code := srv.do(t, "POST", "/api/v1/surveys", admin, map[string]any{"name": "Bad", "delay_s": -1, "segment_ids": []string{"999"},
		"questions": body["questions"]}, nil); code != http.StatusBadRequest {
		t.Errorf("negative delay, unknown segment: status %d; want 400", code)
	}
	alice := srv.agentWS(t, srv.login(t, "agent1@parley.test"))
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	chat := func(name, email string, tag bool) (*ws, visitor, string) {
		v := srv.startVisitor(t, inbox, "", name, email, "billing")
		if tag {
			if _, err := e.db.Pool.Exec(t.Context(), `UPDATE customers SET tags = '{vip}' WHERE id = $1::bigint`, v.customerID); err != nil {
				t.Fatal(err)
			}
		}
		vw := srv.visitorWS(t, v, "")
		vw.send(map[string]any{"type": "message", "body": "Invoice?", "client_msg_id": "m1"})
		vw.expect("ack")
		_, conv := acceptNext(t, alice)
		alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
		alice.expect("resolved")
		return vw, v, conv
	}
	// Mei (VIP) leaves at once; Bo is no VIP; Lin (VIP) is reopened and
	// taken again.
	meiWS, mei, meiConv := chat("Mei", "mei@example.com", true)
	meiWS.conn.Close()
	boWS, _, _ := chat("Bo", "bo@example.com", false)
	linWS, _, linConv := chat("Lin", "lin@example.com", true)
	if code := srv.do(t, "POST", "/api/v1/conversations/"+linConv+"/reopen", srv.login(t, "agent1@parley.test"), nil, nil); code != 200 {
		t.Fatalf("reopen: status %d", code)
	}
	if _, conv := acceptNext(t, alice); conv != linConv {
		t.Fatalf("offered %s after the reopen; want %s", conv, linConv)
	}
	eventually(t, "the delayed sends to be handled", 15*time.Second, func() bool {
		return e.count(t, `SELECT count(*) FROM survey_schedules WHERE state <> 'pending'`) == 2
	})
	if n := e.count(t, `SELECT count(*) FROM survey_schedules WHERE conversation_id = $1::bigint AND state = 'sent'`, meiConv); n != 1 {
		t.Error("Mei's survey was not sent")
	}
	if n := e.count(t, `SELECT count(*) FROM survey_schedules WHERE conversation_id = $1::bigint AND state = 'skipped' AND reason = 'reopened'`, linConv); n != 1 {
		t.Error("Lin's survey was not skipped as reopened")
	}
	if n := e.count(t, `SELECT count(*) FROM survey_requests`); n != 1 {
		t.Errorf("%d survey requests; want 1 (Mei's)", n)
	}
	// Sent at its due time, two seconds after the resolution (asynq keeps
	// whole seconds: up to one early), not at the resolution.
	if n := e.count(t, `SELECT count(*) FROM survey_requests r JOIN survey_schedules s ON s.conversation_id = r.conversation_id
		JOIN conversations c ON c.id = r.conversation_id
		WHERE s.due_at = c.resolved_at + interval '2 seconds' AND r.sent_at >= s.due_at - interval '1 second'`); n != 1 {
		t.Error("Mei's survey was not sent at its due time")
	}
	linWS.quiet("survey", 200*time.Millisecond)
	boWS.quiet("survey", 200*time.Millisecond)
	// Mei comes back: the card she has not answered is shown again, until
	// she answers it.
	back := srv.visitorWS(t, mei, "")
	card := back.expect("survey")
	if card.str("conversation_id") != meiConv {
		t.Errorf("card for conversation %s; want %s", card.str("conversation_id"), meiConv)
	}
	back.send(map[string]any{"type": "rating", "survey_id": card.str("survey_id"), "score": 5})
	back.expect("rating_ack")
	srv.visitorWS(t, mei, "").quiet("survey", 500*time.Millisecond)
}
