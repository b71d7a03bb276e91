package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/secret"
	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/postgres"
)

func testBox(t testing.TB) *secret.Box {
	b, err := secret.New([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixture creates a queue and a web-chat inbox.
func fixture(t testing.TB) (*postgres.DB, parley.InboxConfig) {
	t.Helper()
	db := postgres.New(testenv.Postgres(t).Pool, testBox(t))
	ctx := context.Background()
	q := parley.Queue{Name: "General"}
	if err := db.CreateQueue(ctx, &q); err != nil {
		t.Fatal(err)
	}
	billing := parley.Queue{Name: "Billing", Steps: []parley.Step{{Require: map[string]int{"billing": 3}}}}
	if err := db.CreateQueue(ctx, &billing); err != nil {
		t.Fatal(err)
	}
	in := parley.InboxConfig{Channel: parley.ChannelWebchat, Name: "Chat", QueueID: q.ID,
		Settings: parley.InboxSettings{Topics: []parley.Topic{{Name: "billing", QueueID: billing.ID}}}}
	if err := db.CreateInbox(ctx, &in); err != nil {
		t.Fatal(err)
	}
	return db, in
}

func TestReceiveStoresARetriedMessageOnceUnderConcurrency(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	id := parley.Identity{Channel: parley.ChannelSMS, Address: "+14155550100"}
	var wg sync.WaitGroup
	receipts := make([]parley.Receipt, 20)
	errs := make([]error, 20)
	for i := range receipts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			receipts[i], _, errs[i] = db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: id, DedupeKey: "SM123", Body: "hello"}, in)
		}()
	}
	wg.Wait()
	dups := 0
	for i, r := range receipts {
		if errs[i] != nil {
			t.Fatalf("receive %d: %v", i, errs[i])
		}
		if r.Duplicate {
			dups++
		}
		if r.Message.ID != receipts[0].Message.ID {
			t.Fatalf("receipt %d names message %d; want %d", i, r.Message.ID, receipts[0].Message.ID)
		}
	}
	if dups != 19 {
		t.Errorf("%d duplicates; want 19", dups)
	}
	var n int
	db.Pool().QueryRow(ctx, `SELECT count(*) FROM messages`).Scan(&n)
	if n != 1 {
		t.Errorf("%d messages stored; want 1", n)
	}
}

func TestReceiveContinuesOpenConversationWithIncreasingSeq(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	id := parley.Identity{Channel: parley.ChannelWebchat, Address: "visitor:1"}
	var conv int64
	for i := 1; i <= 5; i++ {
		r, created, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: id, DedupeKey: fmt.Sprint("k", i), Body: fmt.Sprint("m", i), Topic: "billing", CustomerName: "Zed"}, in)
		if err != nil {
			t.Fatal(err)
		}
		if created != (i == 1) {
			t.Errorf("message %d: created=%v", i, created)
		}
		if r.Message.Seq != int64(i) {
			t.Errorf("message %d: seq %d", i, r.Message.Seq)
		}
		if i == 1 {
			conv = r.Conversation.ID
			if r.Conversation.QueueID == in.QueueID {
				t.Errorf("topic billing went to the default queue; want the Billing queue")
			}
		} else if r.Conversation.ID != conv {
			t.Errorf("message %d opened conversation %d; want %d", i, r.Conversation.ID, conv)
		}
	}
}

func TestReceiveRejectsBadBodies(t *testing.T) {
	db, in := fixture(t)
	for _, body := range []string{"", "  \n", "\xff\xfe", string(make([]byte, parley.MaxBodyBytes+1))} {
		_, _, err := db.Receive(context.Background(), parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelWebchat, Address: "v"}, Body: body}, in)
		if parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("body %q: got %v; want EINVALID", body[:min(len(body), 8)], err)
		}
	}
}

func TestLoginTakesTheSameErrorForUnknownEmailAndWrongPassword(t *testing.T) {
	db, _ := fixture(t)
	ctx := context.Background()
	a := parley.Agent{Name: "A", Email: "A@Example.com", Role: parley.RoleAgent}
	if err := db.CreateAgent(ctx, &a, "secret-pass"); err != nil {
		t.Fatal(err)
	}
	if a.Email != "a@example.com" {
		t.Errorf("email stored as %q; want lower-cased", a.Email)
	}
	tok, got, err := db.Login(ctx, "a@EXAMPLE.com", "secret-pass")
	if err != nil || got.ID != a.ID {
		t.Fatalf("login: %v %v", got, err)
	}
	if s, err := db.SessionAgent(ctx, tok); err != nil || s.ID != a.ID {
		t.Fatalf("session: %v %v", s, err)
	}
	_, _, e1 := db.Login(ctx, "a@example.com", "wrong-pass")
	_, _, e2 := db.Login(ctx, "b@example.com", "secret-pass")
	if parley.ErrorCode(e1) != parley.EUNAUTHORIZED || parley.ErrorMessage(e1) != parley.ErrorMessage(e2) {
		t.Errorf("wrong password: %v; unknown email: %v; want the same EUNAUTHORIZED", e1, e2)
	}
	if err := db.Logout(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SessionAgent(ctx, tok); parley.ErrorCode(err) != parley.EUNAUTHORIZED {
		t.Errorf("after logout: %v; want EUNAUTHORIZED", err)
	}
}

func TestAssignOnlyOnceAndResolveOnlyByItsAgent(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	a := parley.Agent{Name: "A", Email: "a@x.test", Role: parley.RoleAgent}
	b := parley.Agent{Name: "B", Email: "b@x.test", Role: parley.RoleAgent}
	db.CreateAgent(ctx, &a, "password1")
	db.CreateAgent(ctx, &b, "password1")
	r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelWebchat, Address: "v"}, Body: "hi"}, in)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	o := parley.Offer{ID: "o1", ConversationID: r.Conversation.ID, AgentID: a.ID, QueueID: in.QueueID, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err := db.RecordOffer(ctx, o); err != nil {
		t.Fatal(err)
	}
	o.State, o.EndedAt = parley.OfferAccepted, now
	if _, err := db.Assign(ctx, o); err != nil {
		t.Fatal(err)
	}
	o2 := o
	o2.ID, o2.AgentID = "o2", b.ID
	db.RecordOffer(ctx, o2)
	if _, err := db.Assign(ctx, o2); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Errorf("second assign: %v; want ECONFLICT", err)
	}
	if _, err := db.Resolve(ctx, r.Conversation.ID, b.ID, "", false); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Errorf("resolve by another agent: %v; want EFORBIDDEN", err)
	}
	if _, _, err := db.AgentMessage(ctx, r.Conversation.ID, b, "hi", false, "c1", false); parley.ErrorCode(err) != parley.EFORBIDDEN {
		t.Errorf("reply by another agent: %v; want EFORBIDDEN", err)
	}
	c, err := db.Resolve(ctx, r.Conversation.ID, a.ID, "solved", false)
	if err != nil || c.Status != parley.StatusResolved || c.Disposition != "solved" {
		t.Fatalf("resolve: %v %v", c, err)
	}
	if _, err := db.Resolve(ctx, r.Conversation.ID, a.ID, "", false); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Errorf("second resolve: %v; want ECONFLICT", err)
	}
	// The next message opens a new conversation.
	r2, created, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelWebchat, Address: "v"}, Body: "again"}, in)
	if err != nil || !created || r2.Conversation.ID == r.Conversation.ID || r2.Message.Seq != 1 {
		t.Errorf("message after resolve: created=%v conv=%d seq=%d err=%v; want a new conversation at seq 1", created, r2.Conversation.ID, r2.Message.Seq, err)
	}
	cust, err := db.Customer360(ctx, r2.Conversation.CustomerID, r2.Conversation.ID, 10)
	if err != nil || len(cust.PastConversations) != 1 || len(cust.PastConversations[0].Messages) != 1 {
		t.Errorf("customer 360 past conversations: %+v %v; want the resolved one with its message", cust.PastConversations, err)
	}
}

func TestWebchatStartLinksReturningVisitorsAndEmails(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	tok, cust, err := db.WebchatStart(ctx, in.ID, "", "Mei", "Mei@Example.com", "", "billing", "zh-CN")
	if err != nil {
		t.Fatal(err)
	}
	tok2, cust2, err := db.WebchatStart(ctx, in.ID, tok, "", "", "", "", "")
	if err != nil || tok2 != tok || cust2 != cust {
		t.Errorf("returning token: %s %d %v; want the same token and customer %d", tok2, cust2, err, cust)
	}
	tok3, cust3, err := db.WebchatStart(ctx, in.ID, "", "Mei L.", "mei@example.com", "", "", "")
	if err != nil || tok3 == tok || cust3 != cust {
		t.Errorf("same email, new browser: customer %d %v; want %d with a new token", cust3, err, cust)
	}
	_, cust4, _ := db.WebchatStart(ctx, in.ID, "forged-token", "Other", "", "", "", "")
	if cust4 == cust {
		t.Errorf("a forged token reached an existing customer")
	}
	v, err := db.Visitor(ctx, tok)
	if err != nil || v.CustomerID != cust || v.InboxID != in.ID {
		t.Errorf("visitor: %+v %v", v, err)
	}
	ids, _ := db.Identities(ctx, cust)
	if len(ids) != 3 { // email + two visitor ids
		t.Errorf("identities %+v; want email and two browsers", ids)
	}
}

func TestInboxCredentialsAreSealedAndNeverReturned(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	sms := parley.InboxConfig{Channel: parley.ChannelSMS, Name: "SMS", QueueID: in.QueueID,
		Twilio: &parley.TwilioAccount{AccountSID: "AC123", AuthToken: "tok-secret-42", From: "+14155550100"}}
	if err := db.CreateInbox(ctx, &sms); err != nil {
		t.Fatal(err)
	}
	got, err := db.Inbox(ctx, sms.ID)
	if err != nil || got.Twilio == nil || got.Twilio.AuthToken != "tok-secret-42" {
		t.Fatalf("read back: %+v %v", got.Twilio, err)
	}
	if r := got.Redacted(); r.Twilio.AuthToken != "" || got.Twilio.AuthToken == "" {
		t.Errorf("Redacted kept the token or changed the original")
	}
	var clear, sealed bool
	db.Pool().QueryRow(ctx, `SELECT position('tok-secret'::bytea IN secrets) > 0 OR settings::text LIKE '%tok-secret%', length(secrets) > 0
		FROM inboxes WHERE id = $1`, sms.ID).Scan(&clear, &sealed)
	if clear || !sealed {
		t.Errorf("token stored in clear: %v; sealed: %v", clear, sealed)
	}
	noKey := postgres.New(db.Pool(), nil)
	if _, err := noKey.Inbox(ctx, sms.ID); err == nil {
		t.Error("read sealed credentials without a key")
	}
	bad := parley.InboxConfig{Channel: parley.ChannelSMS, Name: "SMS2", QueueID: in.QueueID}
	if err := db.CreateInbox(ctx, &bad); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("sms inbox without twilio account: %v; want EINVALID", err)
	}
}

func TestReceiveThreadsEmailStyleAndSkipsRoutingForAutoReplies(t *testing.T) {
	db, chat := fixture(t)
	ctx := context.Background()
	mail := parley.InboxConfig{Channel: parley.ChannelEmail, Name: "Mail", QueueID: chat.QueueID, Address: "support@example.com",
		IMAP: &parley.MailServer{Host: "imap.example.com", Port: 993, Security: "tls"},
		SMTP: &parley.MailServer{Host: "smtp.example.com", Port: 465, Security: "tls"}}
	if err := db.CreateInbox(ctx, &mail); err != nil {
		t.Fatal(err)
	}
	from := parley.Identity{Channel: parley.ChannelEmail, Address: "kim@example.com"}
	first, created, err := db.Receive(ctx, parley.Inbound{InboxID: mail.ID, Identity: from, DedupeKey: "<a@x>", Body: "first", Subject: "Invoice", CustomerName: "Kim"}, mail)
	if err != nil || !created || first.Conversation.Subject != "Invoice" {
		t.Fatalf("first: %+v created=%v %v", first.Conversation, created, err)
	}
	other, created, err := db.Receive(ctx, parley.Inbound{InboxID: mail.ID, Identity: from, DedupeKey: "<b@x>", Body: "new topic", Subject: "Password", NewConversation: true}, mail)
	if err != nil || !created || other.Conversation.ID == first.Conversation.ID {
		t.Fatalf("new subject: conversation %d created=%v %v; want a second open conversation", other.Conversation.ID, created, err)
	}
	reply, created, err := db.Receive(ctx, parley.Inbound{InboxID: mail.ID, Identity: from, DedupeKey: "<c@x>", Body: "re: first", ConversationID: first.Conversation.ID}, mail)
	if err != nil || created || reply.Conversation.ID != first.Conversation.ID || reply.Message.Seq != 2 {
		t.Fatalf("threaded reply: conversation %d seq %d created=%v %v; want conversation %d seq 2", reply.Conversation.ID, reply.Message.Seq, created, err, first.Conversation.ID)
	}
	auto, created, err := db.Receive(ctx, parley.Inbound{InboxID: mail.ID, Identity: parley.Identity{Channel: parley.ChannelEmail, Address: "robot@example.com"},
		DedupeKey: "<d@x>", Body: "I am on vacation", NoRouting: true, NewConversation: true}, mail)
	if err != nil || created || auto.Conversation.Status != parley.StatusResolved {
		t.Fatalf("auto-reply: status %s created=%v %v; want a resolved conversation and no routing", auto.Conversation.Status, created, err)
	}
	if first.Conversation.CustomerName != "Kim" {
		t.Errorf("customer name %q; want Kim", first.Conversation.CustomerName)
	}
}
