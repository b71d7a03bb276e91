package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
)

type apiError struct {
	Error struct {
		Code   string            `json:"code"`
		Fields map[string]string `json:"fields"`
	} `json:"error"`
}

// waitStage polls a customer's lifecycle stage until it is want.
func (in *instance) waitStage(t *testing.T, token, id, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c := in.customer(t, token, id)
		if c.Stage == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("customer %s is %q; want %q", id, c.Stage, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type timelineEntry struct {
	Kind           string    `json:"kind"`
	At             time.Time `json:"at"`
	ConversationID string    `json:"conversation_id"`
	Message        *struct {
		ID   string `json:"id"`
		Body string `json:"body"`
	} `json:"message"`
	Lifecycle *struct {
		From, To, Reason string
	} `json:"lifecycle"`
	Survey *struct {
		Kind  string
		Score *int
	} `json:"survey"`
}

func TestCRMTypedAttributesLifecycleRulesSegmentsAndPriorityBoost(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	ctx := context.Background()
	db := postgres.New(e.db.Pool, nil)
	admin := srv.login(t, "admin@parley.test")
	sup := srv.login(t, "supervisor@parley.test")
	agent := srv.login(t, "agent1@parley.test")
	inbox := srv.inboxID(t, admin)
	srv.createSurvey(t, admin, "csat", 0, "webchat")

	// Typed attribute definitions, managed by admins.
	for key, def := range map[string]map[string]any{
		"seats":      {"label": "Seats", "type": "number"},
		"plan":       {"label": "Plan", "type": "list", "options": []string{"gold", "silver"}},
		"renewal":    {"label": "Renewal", "type": "date"},
		"newsletter": {"label": "Newsletter", "type": "boolean"},
	} {
		if code := srv.do(t, "PUT", "/api/v1/customer-attributes/"+key, admin, def, nil); code != 201 {
			t.Fatalf("define %s: status %d", key, code)
		}
	}
	if code := srv.do(t, "PUT", "/api/v1/customer-attributes/plan", agent, map[string]any{"type": "text"}, nil); code != 403 {
		t.Errorf("agent defining an attribute: status %d; want 403", code)
	}
	var bad apiError
	if code := srv.do(t, "PUT", "/api/v1/customer-attributes/budget", admin, map[string]any{"type": "money"}, &bad); code != 400 || bad.Error.Fields["type"] == "" {
		t.Errorf("bad definition: status %d %v; want 400 naming type", code, bad.Error.Fields)
	}

	v := srv.startVisitor(t, inbox, "", "Mei Lin", "mei@example.com", "billing")
	bad = apiError{}
	if code := srv.do(t, "PATCH", "/api/v1/customers/"+v.customerID, admin, map[string]any{"attributes": map[string]any{"seats": "many", "plan": "bronze", "renewal": "31/12/2026"}}, &bad); code != 400 {
		t.Fatalf("bad typed attributes: status %d; want 400", code)
	}
	if f := bad.Error.Fields; f["attributes.seats"] != "a number such as 42 or 3.5" || f["attributes.plan"] != "one of gold, silver" || f["attributes.renewal"] != "a date as YYYY-MM-DD" {
		t.Errorf("fields = %v", f)
	}
	var c customerJSON
	if code := srv.do(t, "PATCH", "/api/v1/customers/"+v.customerID, admin, map[string]any{"attributes": map[string]any{"seats": 12, "plan": "gold", "newsletter": "TRUE", "renewal": "2027-01-31"}}, &c); code != 200 {
		t.Fatalf("typed attributes: status %d", code)
	}
	if a := c.Attributes; a["seats"] != "12" || a["newsletter"] != "true" || a["plan"] != "gold" || a["renewal"] != "2027-01-31" {
		t.Errorf("stored attributes %v", a)
	}

	// First purchase makes the lead a customer.
	srv.do(t, "PATCH", "/api/v1/customers/"+v.customerID, admin, map[string]any{"attributes": map[string]any{"first_purchase_at": "2026-11-01"}}, &c)
	if c.Stage != "customer" {
		t.Errorf("after the first purchase the stage is %q; want customer", c.Stage)
	}

	// A segment of gold customers that jumps the queue by 10.
	var seg struct {
		ID   string `json:"id"`
		Size int    `json:"size"`
	}
	segBody := map[string]any{"name": "Gold", "priority_boost": 10, "filter": map[string]any{"attributes": map[string]string{"plan": "gold"}, "lifecycle_stages": []string{"customer", "loyal", "at_risk"}, "channels": []string{"webchat"}}}
	if code := srv.do(t, "POST", "/api/v1/segments", agent, segBody, nil); code != 403 {
		t.Errorf("agent creating a segment: status %d; want 403", code)
	}
	bad = apiError{}
	if code := srv.do(t, "POST", "/api/v1/segments", sup, map[string]any{"name": "x", "filter": map[string]any{"attributes": map[string]string{"seats": "lots"}, "csat_at_most": 9}}, &bad); code != 400 ||
		bad.Error.Fields["filter.attributes.seats"] == "" || bad.Error.Fields["filter.csat_at_most"] == "" {
		t.Errorf("bad segment: status %d %v", code, bad.Error.Fields)
	}
	if code := srv.do(t, "POST", "/api/v1/segments", sup, segBody, &seg); code != 201 {
		t.Fatalf("create segment: status %d", code)
	}
	segSize := func() int {
		var out struct {
			Size  int            `json:"size"`
			Items []customerJSON `json:"items"`
		}
		if code := srv.do(t, "GET", "/api/v1/segments/"+seg.ID+"/customers", sup, nil, &out); code != 200 || out.Size != len(out.Items) {
			t.Fatalf("segment customers: status %d, size %d, %d items", code, out.Size, len(out.Items))
		}
		return out.Size
	}
	if n := segSize(); n != 1 {
		t.Errorf("segment size %d; want 1", n)
	}

	// Her chat is boosted by the segment (stage customer has no boost).
	alice := srv.agentWS(t, agent)
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	vw := srv.visitorWS(t, v, "")
	vw.send(map[string]any{"type": "message", "body": "Invoice?", "client_msg_id": "m1"})
	vw.expect("ack")
	_, conv := acceptNext(t, alice)
	if p := e.count(t, `SELECT priority FROM conversations WHERE id = $1::bigint`, conv); p != 10 {
		t.Errorf("priority of a gold customer's chat = %d; want 10", p)
	}
	// A low CSAT puts her at risk.
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	card := vw.expect("survey")
	vw.send(map[string]any{"type": "rating", "survey_id": card.str("survey_id"), "score": 1})
	vw.expect("rating_ack")
	srv.waitStage(t, agent, v.customerID, "at_risk")
	// At risk (+20, default) and gold (+10): her next chat has priority 30.
	vw.send(map[string]any{"type": "message", "body": "Still wrong!", "client_msg_id": "m2"})
	vw.expect("ack")
	_, conv2 := acceptNext(t, alice)
	if p := e.count(t, `SELECT priority FROM conversations WHERE id = $1::bigint`, conv2); p != 30 {
		t.Errorf("priority of an at-risk gold customer's chat = %d; want 30", p)
	}
	// Segment membership follows her attributes.
	srv.do(t, "PATCH", "/api/v1/customers/"+v.customerID, agent, map[string]any{"attributes": map[string]any{"plan": "silver"}}, nil)
	if n := segSize(); n != 0 {
		t.Errorf("segment size after plan=silver: %d; want 0", n)
	}
	srv.do(t, "PATCH", "/api/v1/customers/"+v.customerID, agent, map[string]any{"lifecycle_stage": "loyal"}, nil)
	srv.do(t, "POST", "/api/v1/customers/"+v.customerID+"/notes", agent, map[string]string{"body": "Offered a discount."}, nil)

	// The timeline pages through everything, newest first, without repeats.
	var all []timelineEntry
	cursor := ""
	for page := 0; page < 20; page++ {
		var out struct {
			Items      []timelineEntry `json:"items"`
			NextCursor string          `json:"next_cursor"`
		}
		if code := srv.do(t, "GET", "/api/v1/customers/"+v.customerID+"/timeline?limit=3&cursor="+cursor, agent, nil, &out); code != 200 {
			t.Fatalf("timeline: status %d", code)
		}
		all = append(all, out.Items...)
		if cursor = out.NextCursor; cursor == "" {
			break
		}
	}
	var kinds, reasons []string
	seen := map[string]bool{}
	for i, it := range all {
		key := it.Kind + it.At.String() + fmt.Sprint(it.Message, it.Lifecycle)
		if seen[key] {
			t.Errorf("timeline repeats %+v", it)
		}
		seen[key] = true
		if i > 0 && it.At.After(all[i-1].At) {
			t.Errorf("timeline not newest first at %d", i)
		}
		kinds = append(kinds, it.Kind)
		if it.Lifecycle != nil {
			reasons = append(reasons, it.Lifecycle.To+":"+it.Lifecycle.Reason)
		}
	}
	if got := strings.Join(reasons, ","); got != "loyal:hand,at_risk:low_csat,customer:first_purchase" {
		t.Errorf("lifecycle history %s", got)
	}
	k := strings.Join(kinds, ",")
	if !strings.HasPrefix(k, "note,lifecycle") || strings.Count(k, "conversation") != 2 || !strings.Contains(k, "survey") || strings.Count(k, "message") != 2 {
		t.Errorf("timeline kinds %s", k)
	}
	if code := srv.do(t, "GET", "/api/v1/customers/"+v.customerID+"/timeline?cursor=junk", agent, nil, nil); code != 400 {
		t.Errorf("bad cursor: status %d; want 400", code)
	}

	// Repeat contacts: a lead who writes twice is a prospect.
	sms := e.inbox(t, db, parley.ChannelSMS)
	bo := e.receiveResolved(t, db, sms, parley.Identity{Channel: parley.ChannelSMS, Address: "+14155550199"}, "Bo", "bo-1")
	e.receiveResolved(t, db, sms, parley.Identity{Channel: parley.ChannelSMS, Address: "+14155550199"}, "Bo", "bo-2")
	srv.waitStage(t, sup, fmt.Sprint(bo), "prospect")

	// Inactivity: with inactive_days 1, a customer silent for two days churns.
	var st map[string]any
	srv.do(t, "GET", "/api/v1/crm/settings", sup, nil, &st)
	st["inactive_days"] = 1
	if code := srv.do(t, "PUT", "/api/v1/crm/settings", sup, st, nil); code != 403 {
		t.Errorf("supervisor changing CRM settings: status %d; want 403", code)
	}
	if code := srv.do(t, "PUT", "/api/v1/crm/settings", admin, map[string]any{"low_csat": 9, "loyal_window_days": 90}, &bad); code != 400 {
		t.Errorf("bad settings: status %d; want 400", code)
	}
	if code := srv.do(t, "PUT", "/api/v1/crm/settings", admin, st, nil); code != 200 {
		t.Fatalf("settings: status %d", code)
	}
	if _, err := e.db.Pool.Exec(ctx, `UPDATE conversations SET created_at = now() - interval '2 days' WHERE customer_id = $1::bigint`, v.customerID); err != nil {
		t.Fatal(err)
	}
	if n, err := db.ChurnInactive(ctx, 0); err != nil || n != 1 {
		t.Fatalf("churned %d (%v); want 1", n, err)
	}
	srv.waitStage(t, agent, v.customerID, "churned")
	if n, _ := db.ChurnInactive(ctx, time.Hour); n != 0 {
		t.Errorf("a second run within the hour churned %d", n)
	}
}
