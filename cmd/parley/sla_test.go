package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parleyhq/parley/internal/testenv"
	"github.com/redis/go-redis/v9"
)

type slaClockView struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	Outcome    string    `json:"outcome"`
	State      string    `json:"state"`
	DueAt      time.Time `json:"due_at"`
	BreachedAt time.Time `json:"breached_at"`
}

func (in *instance) slaClocks(t *testing.T, token, convID string) map[string]slaClockView {
	t.Helper()
	var out struct {
		Items []slaClockView `json:"items"`
	}
	if code := in.do(t, "GET", "/api/v1/conversations/"+convID+"/sla", token, nil, &out); code != 200 {
		t.Fatalf("clocks of %s: status %d", convID, code)
	}
	m := map[string]slaClockView{}
	for _, c := range out.Items {
		m[c.Kind] = c // the last of each kind
	}
	return m
}

// breachLateness returns how late the breach of a clock was recorded
// (breached_at - due_at), waiting for it up to 20 s.
func (e *env) breachLateness(t *testing.T, clockID string) time.Duration {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var late *float64
		err := e.db.Pool.QueryRow(context.Background(), `SELECT extract(epoch FROM breached_at - due_at) FROM sla_clocks WHERE id = $1::bigint`, clockID).Scan(&late)
		if err != nil {
			t.Fatal(err)
		}
		if late != nil {
			return time.Duration(*late * float64(time.Second))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("clock %s did not breach within 20 s", clockID)
	return 0
}

func TestSLAClocksWarnAndBreachOnTimeStopAtResolveAndSurviveRedisLoss(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)

	// A calendar with mainland China's 2026 holidays, imported from the sample.
	var cal struct {
		ID   string `json:"id"`
		Days []any  `json:"days"`
	}
	week := []map[string]string{{"start": "09:00", "end": "18:00"}}
	if code := srv.do(t, "POST", "/api/v1/sla/calendars", admin, map[string]any{"name": "Shanghai office", "timezone": "Asia/Shanghai",
		"weekly": map[string]any{"mon": week, "tue": week, "wed": week, "thu": week, "fri": week}}, &cal); code != 201 {
		t.Fatalf("create calendar: status %d", code)
	}
	sample, err := os.ReadFile("../../sla/testdata/cn-2026.json")
	if err != nil {
		t.Fatal(err)
	}
	if code := srv.do(t, "POST", "/api/v1/sla/calendars/"+cal.ID+"/holidays", admin, json.RawMessage(sample), &cal); code != 200 || len(cal.Days) != 39 {
		t.Fatalf("import holidays: status %d, %d days; want 39", code, len(cal.Days))
	}
	// A business-hours policy for VIPs that nobody matches, then a 24/7 one
	// with short targets for every chat.
	var vip, fast struct {
		ID string `json:"id"`
	}
	if code := srv.do(t, "POST", "/api/v1/sla/policies", admin, map[string]any{"name": "VIP office hours", "position": 1,
		"match": map[string]any{"tiers": []string{"vip"}}, "targets": map[string]any{"first_response_s": 600},
		"business_hours": true, "calendar_id": cal.ID}, &vip); code != 201 {
		t.Fatalf("create policy: status %d", code)
	}
	if code := srv.do(t, "POST", "/api/v1/sla/policies", admin, map[string]any{"name": "fast chat", "position": 2,
		"targets": map[string]any{"first_response_s": 4, "resolution_s": 12}, "warn_percent": 50,
		"escalations": []map[string]any{{"on": "breach", "action": "notify_supervisors"}, {"on": "warning", "kinds": []string{"first_response"}, "action": "raise_priority", "priority": 50}},
	}, &fast); code != 201 {
		t.Fatalf("create policy: status %d", code)
	}
	if code := srv.do(t, "PATCH", "/api/v1/sla/policies/"+vip.ID, admin, map[string]any{"enabled": false}, nil); code != 200 {
		t.Fatalf("patch policy: status %d", code)
	}
	if code := srv.do(t, "POST", "/api/v1/sla/policies", srv.login(t, "agent1@parley.test"), map[string]any{"name": "x"}, nil); code != 403 {
		t.Fatalf("agent creating a policy: status %d; want 403", code)
	}

	aliceToken := srv.login(t, "agent1@parley.test")
	alice := srv.agentWS(t, aliceToken)
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")

	v := srv.startVisitor(t, inbox, "", "Mei Lin", "mei@example.com", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "My invoice is wrong", "client_msg_id": "m1"})
	cust.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m1" })
	_, conv1 := acceptNext(t, alice)

	// First response: warning at 50% (2 s), breach at 4 s, both to the agent.
	isFR := func(state string) func(frame) bool {
		return func(f frame) bool {
			return f.str("conversation_id") == conv1 && f.str("clock") == "first_response" && f.str("state") == state
		}
	}
	alice.expectWhere("sla", isFR("warning"))
	br := alice.expectWhere("sla", isFR("breached"))
	got := time.Now()
	due, _ := time.Parse(time.RFC3339Nano, br.str("due_at"))
	t.Logf("breach frame reached the agent %v after the due time", got.Sub(due))
	if late := got.Sub(due); late < 0 || late > 1500*time.Millisecond {
		t.Errorf("breach frame %v after the due time; want within 1.5 s", late)
	}
	clocks := srv.slaClocks(t, aliceToken, conv1)
	if late := e.breachLateness(t, clocks["first_response"].ID); late < 0 || late > 1500*time.Millisecond {
		t.Errorf("breach recorded %v after the due time; want within 1.5 s", late)
	}
	var prio int
	e.db.Pool.QueryRow(context.Background(), `SELECT priority FROM conversations WHERE id = $1::bigint`, conv1).Scan(&prio)
	if prio != 50 {
		t.Errorf("priority after the warning escalation %d; want 50", prio)
	}

	// The reply comes late; the resolution is in time; nothing runs after.
	alice.send(map[string]any{"type": "send", "conversation_id": conv1, "body": "Sorry, fixing it.", "client_msg_id": "r1"})
	alice.expect("ack")
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv1})
	alice.expect("resolved")
	clocks = srv.slaClocks(t, aliceToken, conv1)
	if fr, res := clocks["first_response"], clocks["resolution"]; fr.Outcome != "breached" || res.Outcome != "met" || res.Status != "stopped" {
		t.Fatalf("after resolve: first response %s, resolution %s/%s; want breached, stopped/met", fr.Outcome, res.Status, res.Outcome)
	}
	res1 := clocks["resolution"]

	// A second conversation; Redis loses every job while the server is down.
	v2 := srv.startVisitor(t, inbox, "", "Li Lei", "li@example.com", "billing")
	cust2 := srv.visitorWS(t, v2, "")
	cust2.send(map[string]any{"type": "message", "body": "Refund please", "client_msg_id": "m2"})
	cust2.expectWhere("ack", func(f frame) bool { return f.str("client_msg_id") == "m2" })
	_, conv2 := acceptNext(t, alice)
	res2 := srv.slaClocks(t, aliceToken, conv2)["resolution"]
	if res2.Status != "running" {
		t.Fatalf("resolution clock of the second conversation %s", res2.Status)
	}
	srv.stop()
	opt, _ := redis.ParseURL(testenv.RedisURL())
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	jobs := "asynq:{" + e.vars["PARLEY_REDIS_PREFIX"] + "-jobs}:*"
	keys, err := rdb.Keys(context.Background(), jobs).Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("asynq keys %v %v; want the scheduled timers", keys, err)
	}
	rdb.Del(context.Background(), keys...)
	t.Logf("deleted %d asynq keys; %v left before the resolution deadline", len(keys), time.Until(res2.DueAt))

	srv2 := e.start()
	alice2 := srv2.agentWS(t, srv2.login(t, "agent1@parley.test"))
	if late := e.breachLateness(t, res2.ID); late < 0 || late > 1500*time.Millisecond {
		t.Errorf("breach after the Redis loss recorded %v after the due time; want within 1.5 s", late)
	} else {
		t.Logf("breach after the Redis loss recorded %v after the due time", late)
	}
	alice2.expectWhere("sla", func(f frame) bool {
		return f.str("conversation_id") == conv2 && f.str("clock_id") == res2.ID && f.str("state") == "breached"
	})
	// The resolved conversation's resolution clock never breached.
	var n int
	e.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM events WHERE type = 'sla.breached' AND conversation_id = $1::bigint
		AND payload->>'metric' = 'resolution'`, conv1).Scan(&n)
	if n != 0 || time.Now().Before(res1.DueAt) {
		t.Errorf("%d resolution breaches of the resolved conversation (checked %v after its due time)", n, time.Since(res1.DueAt))
	}
	var risk struct {
		Items []slaClockView `json:"items"`
	}
	if code := srv2.do(t, "GET", "/api/v1/sla/at-risk", srv2.login(t, "supervisor@parley.test"), nil, &risk); code != 200 || len(risk.Items) == 0 {
		t.Errorf("at-risk: status %d, %d clocks; want the breached ones", code, len(risk.Items))
	}
}

func TestConsoleInBrowserShowsTheSLAClockTurnAmberThenRed(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	if code := srv.do(t, "POST", "/api/v1/sla/policies", admin, map[string]any{"name": "fast chat",
		"targets": map[string]any{"first_response_s": 4}, "warn_percent": 50}, nil); code != 201 {
		t.Fatalf("create policy: status %d", code)
	}
	agent := newBrowser(t)
	step(t, agent, "log in and go available",
		chromedp.Navigate(srv.base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), "agent1@parley.test"),
		chromedp.SendKeys(chromedp.ID("login-password"), DemoPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("presence")),
		chromedp.SetValue(chromedp.ID("presence"), "available"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById('presence').dispatchEvent(new Event('change', {bubbles: true}))`)(ctx, tg)
			return err
		}),
	)
	v := srv.startVisitor(t, inbox, "", "Mei Lin", "mei@example.com", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "Hello?", "client_msg_id": "m1"})
	step(t, agent, "accept and see the clock",
		chromedp.WaitVisible(chromedp.ID("offer-accept")),
		chromedp.Click(chromedp.ID("offer-accept")),
		waitJS(`!!document.querySelector('.conversation-item .sla-badge')`),
	)
	step(t, agent, "the warning turns it amber",
		waitJS(`!!document.querySelector('.conversation-item .sla-badge.sla-warning, .conversation-item .sla-badge.sla-breached')`))
	step(t, agent, "the breach turns it red and counts the overdue time",
		waitJS(`!!document.querySelector('.conversation-item .sla-badge.sla-breached')`),
		waitJS(`/overdue/.test(document.querySelector('.conversation-item .sla-badge').textContent)`),
	)
	if dir := os.Getenv("PARLEY_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(agent, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(dir, "sla-badge.png"), png, 0o644)
		}
	}
	step(t, agent, "a reply stops the clock and the badge goes",
		chromedp.SendKeys(chromedp.ID("reply-input"), "Here I am."),
		chromedp.Click(chromedp.ID("reply-send")),
		waitJS(`!document.querySelector('.conversation-item .sla-badge')`),
	)
}
