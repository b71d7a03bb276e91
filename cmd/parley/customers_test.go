package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
)

type customerJSON struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Email      string            `json:"email"`
	Stage      string            `json:"lifecycle_stage"`
	Attributes map[string]string `json:"attributes"`
	Tags       []string          `json:"tags"`
	MergedInto string            `json:"merged_into"`
	Identities []struct {
		Channel string `json:"channel"`
		Address string `json:"address"`
	} `json:"identities"`
	Duplicates []struct {
		Customer struct {
			ID string `json:"id"`
		} `json:"customer"`
		Reasons []string `json:"reasons"`
	} `json:"duplicates"`
	Merges []struct {
		ID string `json:"id"`
	} `json:"merges"`
}

func (c customerJSON) identities() string {
	var s []string
	for _, i := range c.Identities {
		s = append(s, i.Channel+":"+i.Address)
	}
	return strings.Join(s, ",")
}

// inbox creates an inbox of a channel directly in the database (no
// provider credentials needed: messages are received through the store).
func (e *env) inbox(t *testing.T, db *postgres.DB, channel parley.Channel) parley.InboxConfig {
	t.Helper()
	ctx := context.Background()
	var id int64
	if err := e.db.Pool.QueryRow(ctx, `INSERT INTO inboxes (channel, name, queue_id) SELECT $1, $1, id FROM queues WHERE name = 'General' RETURNING id`,
		string(channel)).Scan(&id); err != nil {
		t.Fatal(err)
	}
	in, err := db.Inbox(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

func (in *instance) customer(t *testing.T, token, id string) customerJSON {
	t.Helper()
	var c customerJSON
	if code := in.do(t, "GET", "/api/v1/customers/"+id, token, nil, &c); code != 200 {
		t.Fatalf("GET customer %s: status %d", id, code)
	}
	return c
}

func (in *instance) conversationCustomer(t *testing.T, token string, convID int64) string {
	t.Helper()
	var c struct {
		CustomerID string `json:"customer_id"`
	}
	if code := in.do(t, "GET", fmt.Sprintf("/api/v1/conversations/%d", convID), token, nil, &c); code != 200 {
		t.Fatalf("GET conversation %d: status %d", convID, code)
	}
	return c.CustomerID
}

func TestCustomerIdentitiesLinkMergeUnmergeAndErase(t *testing.T) {
	e := newEnv(t)
	in := e.start()
	ctx := context.Background()
	db := postgres.New(e.db.Pool, nil)
	admin := in.login(t, "admin@parley.test")
	sup := in.login(t, "supervisor@parley.test")
	agent := in.login(t, "agent1@parley.test")

	// Web chat: the pre-chat form's email (any case) becomes an identity.
	chatInbox := in.inboxID(t, admin)
	v := in.startVisitor(t, chatInbox, "", "Mei Ling", "Mei.Ling@Example.com", "")
	var chatID int64
	fmt.Sscan(v.customerID, &chatID)
	chat, err := db.Inbox(ctx, mustID(t, chatInbox))
	if err != nil {
		t.Fatal(err)
	}
	r1, _, err := db.Receive(ctx, parley.Inbound{InboxID: chat.ID, CustomerID: chatID, Body: "hi from chat", DedupeKey: "c1"}, chat)
	if err != nil {
		t.Fatal(err)
	}
	// Email from the same address finds the same customer.
	mail := e.inbox(t, db, parley.ChannelEmail)
	r2, _, err := db.Receive(ctx, parley.Inbound{InboxID: mail.ID, Identity: parley.Identity{Channel: parley.ChannelEmail, Address: "mei.ling@example.com"},
		Body: "hi by email", DedupeKey: "e1", CustomerName: "Mei Ling"}, mail)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Conversation.CustomerID != chatID {
		t.Fatalf("email conversation is customer %d; want the web-chat customer %d", r2.Conversation.CustomerID, chatID)
	}
	// SMS from her phone: a new customer, suggested as a duplicate.
	sms := e.inbox(t, db, parley.ChannelSMS)
	r3, _, err := db.Receive(ctx, parley.Inbound{InboxID: sms.ID, Identity: parley.Identity{Channel: parley.ChannelSMS, Address: "+14155550123"},
		Body: "hi by sms", DedupeKey: "s1", CustomerName: "mei  LING"}, sms)
	if err != nil {
		t.Fatal(err)
	}
	smsID := fmt.Sprint(r3.Conversation.CustomerID)
	if smsID == v.customerID {
		t.Fatal("the SMS customer is already the web-chat customer")
	}

	// An agent outside the customer's queues gets 403.
	var outsider struct{ ID string }
	if code := in.do(t, "POST", "/api/v1/agents", admin, map[string]any{"name": "Olly Outside", "email": "out@parley.test", "password": DemoPassword, "role": "agent", "teams": []string{}}, &outsider); code != 201 {
		t.Fatalf("create agent: status %d", code)
	}
	out := in.login(t, "out@parley.test")
	if code := in.do(t, "GET", "/api/v1/customers/"+v.customerID, out, nil, nil); code != 403 {
		t.Errorf("outsider GET customer: status %d; want 403", code)
	}
	var found struct{ Items []customerJSON }
	in.do(t, "GET", "/api/v1/customers?q=mei", out, nil, &found)
	if len(found.Items) != 0 {
		t.Errorf("outsider's search found %d customers; want 0", len(found.Items))
	}

	// Profile edits by an agent of the queue.
	if code := in.do(t, "PATCH", "/api/v1/customers/"+v.customerID, agent, map[string]any{
		"attributes": map[string]string{"plan": "gold"}, "tags": []string{"vip"}, "lifecycle_stage": "customer", "company": "Acme"}, nil); code != 200 {
		t.Fatalf("PATCH: status %d", code)
	}
	in.do(t, "PATCH", "/api/v1/customers/"+smsID, agent, map[string]any{"attributes": map[string]string{"plan": "silver", "region": "CA"}, "tags": []string{"sms"}}, nil)
	if code := in.do(t, "PATCH", "/api/v1/customers/"+smsID, agent, map[string]any{"lifecycle_stage": "famous"}, nil); code != 400 {
		t.Errorf("PATCH unknown stage: status %d; want 400", code)
	}
	if code := in.do(t, "POST", "/api/v1/customers/"+v.customerID+"/notes", agent, map[string]string{"body": "Prefers email."}, nil); code != 201 {
		t.Errorf("add note: status %d", code)
	}
	in.do(t, "POST", "/api/v1/customers/"+smsID+"/notes", agent, map[string]string{"body": "Texted from a US number."}, nil)

	// The agent types her phone: it belongs to the SMS customer, so it is
	// not stolen but suggested.
	var link struct {
		Linked     bool `json:"linked"`
		Identity   struct{ Address string }
		Duplicates []struct {
			Customer struct{ ID string }
			Reasons  []string
		}
	}
	in.do(t, "POST", "/api/v1/customers/"+v.customerID+"/identities", agent, map[string]string{"channel": "sms", "address": "+1 (415) 555-0123"}, &link)
	if link.Linked || link.Identity.Address != "+14155550123" || len(link.Duplicates) != 1 || link.Duplicates[0].Customer.ID != smsID {
		t.Fatalf("link owned phone = %+v; want a duplicate suggestion of %s", link, smsID)
	}
	a := in.customer(t, agent, v.customerID)
	if len(a.Duplicates) != 1 || a.Duplicates[0].Customer.ID != smsID || strings.Join(a.Duplicates[0].Reasons, ",") != "similar_name" {
		t.Errorf("duplicates = %+v; want %s for similar_name", a.Duplicates, smsID)
	}
	if a.identities() != "email:mei.ling@example.com,"+firstWebchat(a) {
		t.Logf("identities before merge: %s", a.identities())
	}

	// Merge the SMS customer into the web-chat one.
	var merge struct {
		ID string `json:"id"`
	}
	if code := in.do(t, "POST", "/api/v1/customers/"+v.customerID+"/merge", agent, map[string]string{"from": smsID}, &merge); code != 200 {
		t.Fatalf("merge: status %d", code)
	}
	a = in.customer(t, agent, v.customerID)
	if ids := a.identities(); !strings.Contains(ids, "sms:+14155550123") || !strings.Contains(ids, "email:mei.ling@example.com") || !strings.Contains(ids, "webchat:visitor:") {
		t.Errorf("identities after merge = %s; want web chat, email and sms", ids)
	}
	if a.Attributes["plan"] != "gold" || a.Attributes["merged.plan"] != "silver" || a.Attributes["region"] != "CA" {
		t.Errorf("attributes after merge = %v; want plan=gold merged.plan=silver region=CA", a.Attributes)
	}
	if strings.Join(a.Tags, ",") != "vip,sms" {
		t.Errorf("tags after merge = %v; want vip,sms", a.Tags)
	}
	for _, c := range []int64{r1.Conversation.ID, r2.Conversation.ID, r3.Conversation.ID} {
		if got := in.conversationCustomer(t, admin, c); got != v.customerID {
			t.Errorf("conversation %d after merge is customer %s; want %s", c, got, v.customerID)
		}
	}
	var notes struct{ Items []struct{ Body string } }
	in.do(t, "GET", "/api/v1/customers/"+v.customerID+"/notes", agent, nil, &notes)
	if len(notes.Items) != 2 {
		t.Errorf("notes after merge: %d; want 2", len(notes.Items))
	}
	// A new SMS from the phone now reaches the merged customer.
	r4, _, err := db.Receive(ctx, parley.Inbound{InboxID: sms.ID, Identity: parley.Identity{Channel: parley.ChannelSMS, Address: "+14155550123"}, Body: "again", DedupeKey: "s2"}, sms)
	if err != nil || fmt.Sprint(r4.Conversation.CustomerID) != v.customerID {
		t.Errorf("SMS after merge went to customer %d (%v); want %s", r4.Conversation.CustomerID, err, v.customerID)
	}

	// Agents may not unmerge; a supervisor may.
	if code := in.do(t, "POST", "/api/v1/customers/"+v.customerID+"/unmerge", agent, map[string]string{"merge_id": merge.ID}, nil); code != 403 {
		t.Errorf("agent unmerge: status %d; want 403", code)
	}
	if code := in.do(t, "POST", "/api/v1/customers/"+v.customerID+"/unmerge", sup, map[string]string{"merge_id": merge.ID}, nil); code != 200 {
		t.Fatalf("unmerge: status %d", code)
	}
	a = in.customer(t, sup, v.customerID)
	b := in.customer(t, sup, smsID)
	if strings.Contains(a.identities(), "sms:") || b.identities() != "sms:+14155550123" {
		t.Errorf("identities after unmerge: %s | %s", a.identities(), b.identities())
	}
	if _, ok := a.Attributes["merged.plan"]; ok || a.Attributes["region"] != "" || b.MergedInto != "" || b.Attributes["plan"] != "silver" {
		t.Errorf("attributes after unmerge: %v | %v (merged_into %q)", a.Attributes, b.Attributes, b.MergedInto)
	}
	if got := in.conversationCustomer(t, admin, r3.Conversation.ID); got != smsID {
		t.Errorf("SMS conversation after unmerge is customer %s; want %s", got, smsID)
	}
	if got := in.conversationCustomer(t, admin, r1.Conversation.ID); got != v.customerID {
		t.Errorf("chat conversation after unmerge is customer %s; want %s", got, v.customerID)
	}

	// Search (keyset pages) finds both.
	var page struct {
		Items      []customerJSON
		NextCursor string `json:"next_cursor"`
	}
	in.do(t, "GET", "/api/v1/customers?q=MEI&limit=1", agent, nil, &page)
	if len(page.Items) != 1 || page.NextCursor == "" {
		t.Fatalf("search page 1 = %+v", page)
	}
	first := page.Items[0].ID
	in.do(t, "GET", "/api/v1/customers?q=MEI&limit=1&cursor="+page.NextCursor, agent, nil, &page)
	if len(page.Items) != 1 || page.Items[0].ID == first {
		t.Errorf("search page 2 = %+v", page)
	}
	if n := e.count(t, `SELECT count(*) FROM customer_access_log WHERE action = 'view' AND customer_id = $1`, chatID); n < 3 {
		t.Errorf("%d views logged; want every view", n)
	}

	// Export, then erasure: counts unchanged, no personal data left.
	var export map[string]any
	if code := in.do(t, "GET", "/api/v1/customers/"+v.customerID+"/export", agent, nil, nil); code != 403 {
		t.Errorf("agent export: status %d; want 403", code)
	}
	in.do(t, "GET", "/api/v1/customers/"+v.customerID+"/export", admin, nil, &export)
	if s := fmt.Sprint(export); !strings.Contains(s, "mei.ling@example.com") || !strings.Contains(s, "hi by email") || !strings.Contains(s, "Prefers email.") {
		t.Errorf("export lacks data: %.300s", s)
	}
	convs, msgs := e.count(t, `SELECT count(*) FROM conversations`), e.count(t, `SELECT count(*) FROM messages`)
	for _, id := range []string{v.customerID, smsID} {
		if code := in.do(t, "DELETE", "/api/v1/customers/"+id, admin, nil, nil); code != 204 {
			t.Fatalf("erase %s: status %d", id, code)
		}
	}
	if c, m := e.count(t, `SELECT count(*) FROM conversations`), e.count(t, `SELECT count(*) FROM messages`); c != convs || m != msgs {
		t.Errorf("after erasure %d conversations, %d messages; want %d, %d", c, m, convs, msgs)
	}
	rows, err := e.db.Pool.Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	for _, tbl := range tables {
		for _, needle := range []string{"mei.ling@example.com", "4155550123", "hi by", "Prefers email", "Mei Ling"} {
			if n := e.count(t, fmt.Sprintf(`SELECT count(*) FROM %q x WHERE x::text ILIKE '%%' || $1 || '%%'`, tbl), needle); n != 0 {
				t.Errorf("after erasure table %s still holds %q in %d rows", tbl, needle, n)
			}
		}
	}
}

func firstWebchat(c customerJSON) string {
	for _, i := range c.Identities {
		if i.Channel == "webchat" {
			return "webchat:" + i.Address
		}
	}
	return ""
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscan(s, &id); err != nil {
		t.Fatal(err)
	}
	return id
}
