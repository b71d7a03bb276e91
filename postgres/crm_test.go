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
