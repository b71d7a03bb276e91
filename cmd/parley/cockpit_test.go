package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func (in *instance) supervisorWS(t *testing.T, token string) *ws {
	t.Helper()
	w, _, err := dialWS(t, in.base, "/api/v1/supervisor/ws?token="+url.QueryEscape(token), nil)
	if err != nil {
		t.Fatalf("dial supervisor socket: %v", err)
	}
	w.name = "supervisor"
	return w
}

// views decodes the queues or agents of a snapshot or delta frame.
func views(f frame, key string) []map[string]any {
	var out []map[string]any
	b, _ := json.Marshal(f[key])
	json.Unmarshal(b, &out)
	return out
}

func named(list []map[string]any, name string) map[string]any {
	for _, v := range list {
		if v["name"] == name {
			return v
		}
	}
	return nil
}

func TestSupervisorSocketStreamsSnapshotThenDeltasWithinASecond(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	sup := srv.login(t, "supervisor@parley.test")
	inbox := srv.inboxID(t, admin)

	// Agents and other origins are refused.
	if _, resp, err := dialWS(t, srv.base, "/api/v1/supervisor/ws?token="+url.QueryEscape(srv.login(t, "agent1@parley.test")), nil); err == nil || resp.StatusCode != 403 {
		t.Errorf("agent opening the supervisor socket: %v; want 403", err)
	}
	if _, resp, err := dialWS(t, srv.base, "/api/v1/supervisor/ws?token="+url.QueryEscape(sup), http.Header{"Origin": {"https://evil.example"}}); err == nil || resp.StatusCode != 403 {
		t.Errorf("foreign origin: %v; want 403", err)
	}

	w := srv.supervisorWS(t, sup)
	snap := w.expect("snapshot")
	billing := named(views(snap, "queues"), "Billing")
	if billing == nil || billing["waiting"] != 0.0 {
		t.Fatalf("Billing in the first snapshot: %v", billing)
	}
	if alice := named(views(snap, "agents"), "Alice Chen"); alice == nil || alice["status"] != "offline" {
		t.Fatalf("Alice in the first snapshot: %v", alice)
	}

	v := srv.startVisitor(t, inbox, "", "Waiting Wendy", "", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "anyone there?", "client_msg_id": "w1"})
	cust.expect("ack")
	start := time.Now()
	w.expectWhere("delta", func(f frame) bool {
		q := named(views(f, "queues"), "Billing")
		return q != nil && q["waiting"] == 1.0
	})
	if d := time.Since(start); d > time.Second {
		t.Errorf("the waiting conversation reached the wallboard after %v; want within 1 s", d)
	}

	// Alice goes available: her row changes, with time in status.
	alice := srv.agentWS(t, srv.login(t, "agent1@parley.test"))
	alice.send(map[string]any{"type": "presence", "status": "available"})
	f := w.expectWhere("delta", func(f frame) bool {
		a := named(views(f, "agents"), "Alice Chen")
		return a != nil && a["status"] == "available"
	})
	a := named(views(f, "agents"), "Alice Chen")
	if a["since"] == nil {
		t.Errorf("Alice's row has no since: %v", a)
	}
	// A late joiner gets the current snapshot at once.
	late := srv.supervisorWS(t, sup)
	late.expect("snapshot")
}

func TestSupervisorInterventionsAreAppliedAndAudited(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	sup := srv.login(t, "supervisor@parley.test")
	inbox := srv.inboxID(t, admin)
	var agents struct {
		Items []struct{ ID, Name string }
	}
	srv.do(t, "GET", "/api/v1/agents", sup, nil, &agents)
	ids := map[string]string{}
	for _, a := range agents.Items {
		ids[a.Name] = a.ID
	}
	aliceTok := srv.login(t, "agent1@parley.test")
	alice := srv.agentWS(t, aliceTok)
	bob := srv.agentWS(t, srv.login(t, "agent2@parley.test"))

	// Presence set by a supervisor: the agent is told who did it.
	if code := srv.do(t, "POST", "/api/v1/agents/"+ids["Alice Chen"]+"/presence", sup, map[string]string{"status": "available", "reason": "queue is busy"}, nil); code != 200 {
		t.Fatalf("set presence: %d", code)
	}
	p := alice.expect("presence")
	if p.str("status") != "available" || p.str("set_by", "name") != "Sam Supervisor" {
		t.Errorf("presence frame %v", p)
	}
	if code := srv.do(t, "POST", "/api/v1/agents/"+ids["Bob Martin"]+"/presence", aliceTok, map[string]string{"status": "available"}, nil); code != 403 {
		t.Errorf("agent setting another's presence: %d; want 403", code)
	}
	srv.do(t, "POST", "/api/v1/agents/"+ids["Bob Martin"]+"/presence", sup, map[string]string{"status": "available"}, nil)
	bob.expect("presence")

	// A chat reaches Alice; the supervisor monitors, whispers and barges.
	v := srv.startVisitor(t, inbox, "", "Mei Lin", "", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "My invoice is wrong", "client_msg_id": "m1"})
	cust.expect("ack")
	// Alice (billing 5) gets it before Bob (billing 3): proficiency, then idle time.
	_, convID := acceptNext(t, alice)

	w := srv.supervisorWS(t, sup)
	w.expect("snapshot")
	w.send(map[string]any{"type": "monitor", "conversation_id": convID})
	mon := w.expect("monitoring")
	if !strings.Contains(mon.str("conversation", "messages"), "My invoice is wrong") {
		t.Errorf("monitoring frame lacks the transcript: %v", mon)
	}
	cust.send(map[string]any{"type": "message", "body": "Hello?", "client_msg_id": "m2"})
	w.expectWhere("monitor_frame", func(f frame) bool { return strings.Contains(f.str("frame", "message", "body"), "Hello?") })

	w.send(map[string]any{"type": "whisper", "conversation_id": convID, "body": "Offer a refund", "client_msg_id": "s1"})
	w.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "s1" })
	wh := alice.expectWhere("message", func(f frame) bool { return f.str("message", "body") == "Offer a refund" })
	if wh.str("message", "private") != "true" {
		t.Errorf("whisper is not private: %v", wh)
	}
	w.send(map[string]any{"type": "barge", "conversation_id": convID, "body": "Hi Mei, I am the team lead.", "client_msg_id": "s2"})
	w.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "s2" })
	cust.expectWhere("message", func(f frame) bool { return f.str("message", "body") == "Hi Mei, I am the team lead." })
	alice.expectWhere("message", func(f frame) bool { return f.str("message", "body") == "Hi Mei, I am the team lead." })
	// The customer never saw the whisper.
	for _, b := range e.visibleTo(t, convID) {
		if b == "Offer a refund" {
			t.Errorf("the whisper is visible to the customer")
		}
	}

	// Transfer the assigned conversation to Bob.
	w.send(map[string]any{"type": "transfer", "conversation_id": convID, "agent_id": ids["Bob Martin"]})
	bob.expectWhere("offer", func(f frame) bool { return f.str("offer", "conversation", "id") == convID })
	// The transfer is audited after Bob's offer is pushed: wait for the row
	// so that the pause below is audited after it.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var last struct{ Items []struct{ Action string } }
		srv.do(t, "GET", "/api/v1/audit?limit=1", admin, nil, &last)
		if len(last.Items) == 1 && last.Items[0].Action == "conversation.transfer" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the transfer was not audited: %+v", last)
		}
	}

	// Pause and unpause a queue.
	var queues struct {
		Items []struct{ ID, Name string }
	}
	srv.do(t, "GET", "/api/v1/queues", sup, nil, &queues)
	var billingID string
	for _, q := range queues.Items {
		if q.Name == "Billing" {
			billingID = q.ID
		}
	}
	var q struct {
		Paused bool `json:"paused"`
	}
	if code := srv.do(t, "POST", "/api/v1/queues/"+billingID+"/pause", sup, nil, &q); code != 200 || !q.Paused {
		t.Errorf("pause: %d %+v", code, q)
	}
	srv.do(t, "POST", "/api/v1/queues/"+billingID+"/unpause", sup, nil, &q)

	// The audit log: admins only, newest first, one row per intervention.
	if code := srv.do(t, "GET", "/api/v1/audit", sup, nil, nil); code != 403 {
		t.Errorf("supervisor reading the audit log: %d; want 403", code)
	}
	var audit struct {
		Items []struct {
			Action    string `json:"action"`
			ActorName string `json:"actor_name"`
			TargetID  string `json:"target_id"`
		} `json:"items"`
		NextCursor string `json:"next_cursor"`
	}
	if code := srv.do(t, "GET", "/api/v1/audit?limit=3", admin, nil, &audit); code != 200 || len(audit.Items) != 3 || audit.NextCursor == "" {
		t.Fatalf("audit page: %d %+v", code, audit)
	}
	var actions []string
	for _, a := range audit.Items {
		actions = append(actions, a.Action)
	}
	cursor := audit.NextCursor
	srv.do(t, "GET", "/api/v1/audit?limit=100&cursor="+cursor, admin, nil, &audit)
	for _, a := range audit.Items {
		actions = append(actions, a.Action)
		if a.ActorName != "Sam Supervisor" {
			t.Errorf("audit actor %q", a.ActorName)
		}
	}
	want := "queue.unpause queue.pause conversation.transfer conversation.barge conversation.whisper conversation.monitor agent.presence agent.presence"
	if got := strings.Join(actions, " "); got != want {
		t.Errorf("audit actions:\n got %s\nwant %s", got, want)
	}
}

// visibleTo returns the bodies of a conversation's non-private messages.
func (e *env) visibleTo(t *testing.T, convID string) []string {
	rows, err := e.db.Pool.Query(context.Background(), `SELECT body FROM messages WHERE conversation_id = $1::bigint AND NOT private ORDER BY seq`, convID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var b string
		rows.Scan(&b)
		out = append(out, b)
	}
	return out
}

func TestReportsSummaryServesJSONAndCSV(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	sup := srv.login(t, "supervisor@parley.test")
	type figure struct {
		Value      *float64 `json:"value"`
		Definition string   `json:"definition"`
	}
	var rep struct {
		Summary struct {
			ServiceLevel    figure `json:"service_level"`
			ASA             figure `json:"asa"`
			AHT             figure `json:"aht"`
			AbandonRate     figure `json:"abandon_rate"`
			Occupancy       figure `json:"occupancy"`
			OfferAcceptance figure `json:"offer_acceptance"`
			FCR             figure `json:"fcr"`
			SLAMet          figure `json:"sla_met"`
			CSAT            figure `json:"csat"`
			NPS             figure `json:"nps"`
			CES             figure `json:"ces"`
		} `json:"summary"`
		Series []any `json:"series"`
	}
	if code := srv.do(t, "GET", "/api/v1/reports/summary?group=hour", sup, nil, &rep); code != 200 {
		t.Fatalf("report: %d", code)
	}
	sm := rep.Summary
	for i, f := range []figure{sm.ServiceLevel, sm.ASA, sm.AHT, sm.AbandonRate, sm.Occupancy, sm.OfferAcceptance, sm.FCR, sm.SLAMet, sm.CSAT, sm.NPS, sm.CES} {
		if f.Definition == "" {
			t.Errorf("figure %d has no definition", i)
		}
	}
	if len(rep.Series) != 24 {
		t.Errorf("hourly series of today: %d buckets; want 24", len(rep.Series))
	}
	if code := srv.do(t, "GET", "/api/v1/reports/summary?from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", sup, nil, nil); code != 400 {
		t.Errorf("reversed range: %d; want 400", code)
	}
	if code := srv.do(t, "GET", "/api/v1/reports/summary", srv.login(t, "agent1@parley.test"), nil, nil); code != 403 {
		t.Errorf("agent reading reports: %d; want 403", code)
	}
	req, _ := http.NewRequest("GET", srv.base+"/api/v1/reports/summary?group=day", nil)
	req.Header.Set("Authorization", "Bearer "+sup)
	req.Header.Set("Accept", "text/csv")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") || len(lines) != 3 || !strings.HasPrefix(lines[0], "from,to,service_level_pct") {
		t.Errorf("CSV: %s\n%s", ct, body)
	}
}

func TestCockpitInBrowserShowsWaitingChatAndMovesItToAnotherAgent(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	// Nobody is available: the chat waits.
	supB := newBrowser(t)
	step(t, supB, "log in as supervisor",
		chromedp.Navigate(srv.base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), "supervisor@parley.test"),
		chromedp.SendKeys(chromedp.ID("login-password"), DemoPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("wallboard-open")),
		chromedp.Click(chromedp.ID("wallboard-open")),
		chromedp.WaitVisible(chromedp.ID("wallboard")),
		waitJS(`document.querySelectorAll('#wallboard-queues tr[data-queue-id]').length >= 3`),
	)
	v := srv.startVisitor(t, inbox, "", "Waiting Wendy", "", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "anyone there?", "client_msg_id": "w1"})
	cust.expect("ack")
	step(t, supB, "see the waiting chat",
		waitJS(`[...document.querySelectorAll('#wallboard-queues tr[data-queue-id]')].some(r => r.querySelector('.queue-name').textContent === 'Billing' && r.querySelector('.queue-waiting').textContent === '1')`),
		waitJS(`document.querySelectorAll('#wallboard-waiting li[data-conversation-id]').length === 1`),
	)
	// Bob is logged in but away; the supervisor moves the waiting chat to
	// him, then makes him available from the wallboard: he gets the offer.
	bob := srv.agentWS(t, srv.login(t, "agent2@parley.test"))
	bob.send(map[string]any{"type": "presence", "status": "away"})
	bob.expect("presence")
	var agents struct {
		Items []struct{ ID, Name string }
	}
	srv.do(t, "GET", "/api/v1/agents", admin, nil, &agents)
	var bobID string
	for _, a := range agents.Items {
		if a.Name == "Bob Martin" {
			bobID = a.ID
		}
	}
	bobRow := `#wallboard-agents tr[data-agent-id="` + bobID + `"]`
	change := func(sel string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.querySelector('`+sel+`').dispatchEvent(new Event('change', {bubbles: true}))`)(ctx, tg)
			return err
		})
	}
	step(t, supB, "move the waiting chat to Bob",
		waitJS(`!!document.querySelector('`+bobRow+` .agent-status[data-status=away]')`),
		chromedp.SetValue(`#wallboard-waiting li[data-conversation-id] select.move-target`, "agent:"+bobID),
		chromedp.Click(`#wallboard-waiting li[data-conversation-id] button.move-go`),
		waitJS(`document.getElementById('wallboard-status').dataset.state === 'done'`),
	)
	step(t, supB, "set Bob available from the wallboard",
		chromedp.SetValue(bobRow+` select.agent-set-presence`, "available"),
		change(bobRow+` select.agent-set-presence`),
	)
	offer := bob.expect("offer")
	bob.send(map[string]any{"type": "accept", "offer_id": offer.str("offer", "id")})
	bob.expect("assigned")
	step(t, supB, "see Bob handling it",
		waitJS(`document.querySelector('#wallboard-agents tr[data-agent-id="`+bobID+`"] .agent-conversations').textContent.includes('Waiting Wendy')`),
		waitJS(`document.querySelectorAll('#wallboard-waiting li[data-conversation-id]').length === 0`),
	)
	screenshot(t, supB, "wallboard.png")
	var seg struct{ ID string }
	if code := srv.do(t, "POST", "/api/v1/segments", admin, map[string]any{"name": "Chatters", "filter": map[string]any{"channels": []string{"webchat"}}}, &seg); code != 201 {
		t.Fatalf("create segment: %d", code)
	}
	step(t, supB, "open reports",
		chromedp.Click(chromedp.ID("reports-open")),
		waitJS(`document.querySelectorAll('#reports-figures .figure').length >= 6`),
		waitJS(`document.querySelectorAll('#reports-chart svg rect.bar').length > 0`),
		waitJS(`document.getElementById('reports-csv').getAttribute('href').includes('format=csv')`),
	)
	step(t, supB, "filter the report by a customer segment",
		waitJS(`[...document.querySelectorAll('#reports-segment option')].some((o) => o.value === '`+seg.ID+`' && o.textContent === 'Chatters')`),
		chromedp.SetValue(`#reports-segment`, seg.ID),
		chromedp.Click(chromedp.ID("reports-run")),
		waitJS(`document.getElementById('reports-csv').getAttribute('href').includes('segment_id=`+seg.ID+`')`),
		waitJS(`document.querySelectorAll('#reports-figures .figure').length >= 6`),
	)
	screenshot(t, supB, "reports.png")
}

// screenshot saves the page to $PARLEY_SCREENSHOTS/name when set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("PARLEY_SCREENSHOTS")
	if dir == "" {
		return
	}
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		os.WriteFile(filepath.Join(dir, name), png, 0o644)
	}
}

func TestPausedQueueMakesNoOffersUntilResumed(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	sup := srv.login(t, "supervisor@parley.test")
	inbox := srv.inboxID(t, admin)
	var queues struct {
		Items []struct{ ID, Name string }
	}
	srv.do(t, "GET", "/api/v1/queues", sup, nil, &queues)
	var billing string
	for _, q := range queues.Items {
		if q.Name == "Billing" {
			billing = q.ID
		}
	}
	if code := srv.do(t, "POST", "/api/v1/queues/"+billing+"/pause", sup, nil, nil); code != 200 {
		t.Fatalf("pause: %d", code)
	}
	alice := srv.agentWS(t, srv.login(t, "agent1@parley.test"))
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	v := srv.startVisitor(t, inbox, "", "Paused Pat", "", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "hello", "client_msg_id": "p1"})
	cust.expect("ack")
	alice.quiet("offer", 1500*time.Millisecond)
	srv.do(t, "POST", "/api/v1/queues/"+billing+"/unpause", sup, nil, nil)
	alice.expect("offer")
}
