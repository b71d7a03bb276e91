package postgres_test

import (
	"context"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
)

func TestCustomerMergeRefusesTwoOpenChatsInOneInboxAndUnmergeTwice(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	admin := parley.Agent{Name: "Ada", Role: parley.RoleAdmin}
	a, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelSMS, Address: "+14155550100"}, Body: "a", DedupeKey: "a"}, in)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelSMS, Address: "+14155550101"}, Body: "b", DedupeKey: "b"}, in)
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := a.Conversation.CustomerID, b.Conversation.CustomerID
	if _, err := db.Merge(ctx, ta, tb, admin); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Fatalf("merge with two open chats in one inbox: %v; want conflict", err)
	}
	if _, err := db.Pool().Exec(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = now() WHERE id = $1`, b.Conversation.ID); err != nil {
		t.Fatal(err)
	}
	m, err := db.Merge(ctx, ta, tb, admin)
	if err != nil {
		t.Fatalf("merge: %v", err)
	}
	if _, err := db.Merge(ctx, ta, tb, admin); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Errorf("second merge: %v; want conflict", err)
	}
	// The merged customer's messages are in the target's timeline.
	if items, _, err := db.Timeline(ctx, ta, "", 50); err != nil || len(items) != 4 {
		t.Errorf("timeline after merge: %d entries (%v); want 2 conversations and 2 messages", len(items), err)
	}
	if d, _ := db.Duplicates(ctx, ta); len(d) != 0 {
		t.Errorf("a merged customer is still suggested: %+v", d)
	}
	if _, err := db.Unmerge(ctx, ta, m.ID, admin); err != nil {
		t.Fatalf("unmerge: %v", err)
	}
	if _, err := db.Unmerge(ctx, ta, m.ID, admin); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Errorf("second unmerge: %v; want conflict", err)
	}
	if items, _, _ := db.Timeline(ctx, tb, "", 50); len(items) != 2 || items[0].Kind != "message" || items[0].Message.Body != "b" {
		t.Errorf("timeline of the unmerged customer: %+v; want its own conversation and message back", items)
	}
	p, _ := db.Profile(ctx, tb)
	if p.MergedInto != 0 {
		t.Errorf("unmerged customer still merged into %d", p.MergedInto)
	}
	// The access log is append-only.
	if _, err := db.Pool().Exec(ctx, `DELETE FROM customer_access_log`); err == nil {
		t.Error("deleting the access log succeeded; want refused")
	}
	// An agent who neither handled the customer nor is in the queue cannot see it.
	if ok, err := db.CustomerVisible(ctx, parley.Agent{ID: 999, Role: parley.RoleAgent}, ta); err != nil || ok {
		t.Errorf("outsider visible = %v, %v; want false", ok, err)
	}
	if err := (crm.Patch{}).Apply(&p, nil); err != nil {
		t.Error(err)
	}
}

func TestWebchatPhoneLinksTheCustomerWhoTextedFromIt(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	sms, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelSMS, Address: "+14155550123"}, Body: "a", DedupeKey: "a"}, in)
	if err != nil {
		t.Fatal(err)
	}
	_, cust, err := db.WebchatStart(ctx, in.ID, "", "Ana", "", "+1 (415) 555-0123", "", "")
	if err != nil || cust != sms.Conversation.CustomerID {
		t.Fatalf("pre-chat phone reached customer %d (%v); want the SMS customer %d", cust, err, sms.Conversation.CustomerID)
	}
	if p, _ := db.Profile(ctx, cust); p.Phone != "+14155550123" || p.Name != "Ana" {
		t.Errorf("profile after pre-chat: phone %q name %q", p.Phone, p.Name)
	}
	// An email owned by another customer wins; the phone is then only a
	// duplicate suggestion (never moved).
	_, other, err := db.WebchatStart(ctx, in.ID, "", "Bo", "bo@example.com", "", "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, got, err := db.WebchatStart(ctx, in.ID, "", "Bo", "bo@example.com", "+14155550123", "", "")
	if err != nil || got != other {
		t.Fatalf("email and phone of two customers: %d (%v); want the email's %d", got, err, other)
	}
	d, err := db.Duplicates(ctx, other)
	if err != nil || len(d) != 1 || d[0].Customer.ID != cust || d[0].Reasons[0] != crm.ReasonSamePhone {
		t.Errorf("duplicates = %+v (%v); want %d for same_phone", d, err, cust)
	}
	if _, _, err := db.WebchatStart(ctx, in.ID, "", "X", "", "12", "", ""); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("bad phone: %v; want invalid", err)
	}
}

func TestBrowserHintsFillTheTimezoneUnlessAnAgentSetIt(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	agent := parley.Agent{ID: 0, Name: "Ada", Role: parley.RoleAdmin}
	_, cust, err := db.WebchatStart(ctx, in.ID, "", "Ana", "", "", "", "en")
	if err != nil {
		t.Fatal(err)
	}
	shanghai := crm.Browser{Timezone: "Asia/Shanghai", Language: "zh-CN", Region: "CN"}
	if err := db.SetBrowserHints(ctx, cust, shanghai); err != nil {
		t.Fatal(err)
	}
	p, _ := db.Profile(ctx, cust)
	if p.Timezone != "Asia/Shanghai" || p.TimezoneSource != crm.SourceBrowser || p.BrowserRegion != "CN" || p.BrowserLanguage != "zh-CN" {
		t.Fatalf("after the browser: %q (%q), region %q, language %q", p.Timezone, p.TimezoneSource, p.BrowserRegion, p.BrowserLanguage)
	}
	// A later browser replaces a browser's time zone ...
	db.SetBrowserHints(ctx, cust, crm.Browser{Timezone: "Europe/Berlin"})
	if p, _ = db.Profile(ctx, cust); p.Timezone != "Europe/Berlin" || p.BrowserRegion != "CN" {
		t.Errorf("after a second browser: %q, region %q; want Europe/Berlin, CN kept", p.Timezone, p.BrowserRegion)
	}
	// ... but never an agent's.
	tz := "America/New_York"
	if _, err := db.UpdateProfile(ctx, cust, crm.Patch{Timezone: &tz}, agent); err != nil {
		t.Fatal(err)
	}
	db.SetBrowserHints(ctx, cust, shanghai)
	if p, _ = db.Profile(ctx, cust); p.Timezone != "America/New_York" || p.TimezoneSource != crm.SourceAgent || p.BrowserRegion != "CN" {
		t.Errorf("browser after an agent: %q (%q), region %q; want the agent's America/New_York", p.Timezone, p.TimezoneSource, p.BrowserRegion)
	}
	// An agent who clears the time zone lets the browser fill it again.
	empty := ""
	db.UpdateProfile(ctx, cust, crm.Patch{Timezone: &empty}, agent)
	db.SetBrowserHints(ctx, cust, shanghai)
	if p, _ = db.Profile(ctx, cust); p.Timezone != "Asia/Shanghai" || p.TimezoneSource != crm.SourceBrowser {
		t.Errorf("browser after the agent cleared it: %q (%q)", p.Timezone, p.TimezoneSource)
	}
	if err := db.EraseCustomer(ctx, cust, agent); err != nil {
		t.Fatal(err)
	}
	db.SetBrowserHints(ctx, cust, shanghai)
	if p, _ = db.Profile(ctx, cust); p.Timezone != "" || p.BrowserRegion != "" || p.BrowserLanguage != "" || p.TimezoneSource != "" {
		t.Errorf("erased customer keeps browser data: %+v", p)
	}
}

func TestPreferredChannelIsOneOfTheCustomersChannelsAndFollowsMergeAndUnmerge(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	agent := parley.Agent{Name: "Ada", Role: parley.RoleAdmin}
	recv := func(addr, body string) int64 {
		r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelSMS, Address: addr}, Body: body, DedupeKey: body}, in)
		if err != nil {
			t.Fatal(err)
		}
		db.Pool().Exec(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = now() WHERE id = $1`, r.Conversation.ID)
		return r.Conversation.CustomerID
	}
	a, b := recv("+14155550100", "a"), recv("+14155550101", "b")
	email := "email"
	if _, err := db.UpdateProfile(ctx, a, crm.Patch{PreferredChannel: &email}, agent); parley.ErrorFields(err)["preferred_channel"] == "" {
		t.Fatalf("email preferred without an email identity: %v; want invalid preferred_channel", err)
	}
	if _, _, err := db.LinkIdentity(ctx, b, parley.Identity{Channel: parley.ChannelEmail, Address: "bo@example.com"}, agent); err != nil {
		t.Fatal(err)
	}
	p, err := db.UpdateProfile(ctx, b, crm.Patch{PreferredChannel: &email}, agent)
	if err != nil || p.PreferredChannel != parley.ChannelEmail {
		t.Fatalf("prefer email: %q, %v", p.PreferredChannel, err)
	}
	if c, _ := db.Customer(ctx, b); c.PreferredChannel != parley.ChannelEmail {
		t.Errorf("the offer's customer prefers %q; want email", c.PreferredChannel)
	}
	m, err := db.Merge(ctx, a, b, agent)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ = db.Profile(ctx, a); p.PreferredChannel != parley.ChannelEmail {
		t.Errorf("after the merge a prefers %q; want the merged customer's email", p.PreferredChannel)
	}
	if _, err := db.Unmerge(ctx, a, m.ID, agent); err != nil {
		t.Fatal(err)
	}
	if p, _ = db.Profile(ctx, a); p.PreferredChannel != "" {
		t.Errorf("after the unmerge a prefers %q; want none", p.PreferredChannel)
	}
	out, err := db.ExportCustomer(ctx, b, agent)
	if err != nil {
		t.Fatal(err)
	}
	if got := out["customer"].(crm.Profile).PreferredChannel; got != parley.ChannelEmail {
		t.Errorf("data-subject export has preferred channel %q; want email", got)
	}
}
