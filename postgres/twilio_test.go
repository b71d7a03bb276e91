package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
)

func TestConsentIsRecordedPerChannelAndAddress(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelSMS, Address: "+14155550100"}, DedupeKey: "SM1", Body: "STOP"}, in)
	if err != nil {
		t.Fatal(err)
	}
	cust := r.Message.Sender.ID
	if out, _ := db.OptedOut(ctx, parley.ChannelSMS, "+14155550100"); out {
		t.Fatal("opted out before STOP")
	}
	if err := db.SetConsent(ctx, cust, parley.ChannelSMS, "+14155550100", postgres.ConsentOptedOut, "STOP"); err != nil {
		t.Fatal(err)
	}
	for ch, want := range map[parley.Channel]bool{parley.ChannelSMS: true, parley.ChannelWhatsApp: false} {
		if out, err := db.OptedOut(ctx, ch, "+14155550100"); err != nil || out != want {
			t.Errorf("%s opted out = %v, %v; want %v", ch, out, err, want)
		}
	}
	if err := db.SetConsent(ctx, 0, parley.ChannelSMS, "+14155550100", postgres.ConsentOptedIn, "START"); err != nil {
		t.Fatal(err)
	}
	if out, _ := db.OptedOut(ctx, parley.ChannelSMS, "+14155550100"); out {
		t.Error("still opted out after START")
	}
	if err := db.SetConsent(ctx, cust, parley.ChannelSMS, "+1", "maybe", ""); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("unknown status: %v", err)
	}
	at, ok, err := db.LastInboundAt(ctx, cust, in.ID)
	if err != nil || !ok || time.Since(at) > time.Minute {
		t.Errorf("last inbound %v %v %v", at, ok, err)
	}
	if _, ok, _ := db.LastInboundAt(ctx, cust+1000, in.ID); ok {
		t.Error("last inbound of an unknown customer")
	}
	if err := db.SetCustomerPhone(ctx, cust, "+14155550100", "US", map[string]string{"whatsapp_profile_name": "Ann"}); err != nil {
		t.Fatal(err)
	}
	c, _ := db.Customer(ctx, cust)
	if c.Phone != "+14155550100" || c.Attributes["phone_region"] != "US" || c.Attributes["whatsapp_profile_name"] != "Ann" {
		t.Errorf("customer %+v", c)
	}
}

func TestAbandonOnlyAQueuedConversation(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelWebchat, Address: "v1"}, DedupeKey: "m1", Body: "hi"}, in)
	if err != nil {
		t.Fatal(err)
	}
	c, err := db.AbandonConversation(ctx, r.Conversation.ID, "left")
	if err != nil || c.Status != parley.StatusAbandoned || c.Disposition != "left" || c.ResolvedAt.IsZero() {
		t.Fatalf("abandon: %+v %v", c, err)
	}
	if _, err := db.AbandonConversation(ctx, r.Conversation.ID, "left"); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Errorf("second abandon: %v; want conflict", err)
	}
	if _, err := db.AbandonConversation(ctx, 999999, "left"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("unknown conversation: %v", err)
	}
	c, err = db.SetConversationMeta(ctx, r.Conversation.ID, map[string]string{"call_status": "completed"})
	if err != nil || c.Meta["call_status"] != "completed" {
		t.Errorf("meta %v %v", c.Meta, err)
	}
}

func TestCallIsClaimedForConnectOnceAfterAssignment(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	a := parley.Agent{Name: "A", Email: "a@x.test", Role: parley.RoleAgent}
	if err := db.CreateAgent(ctx, &a, "password-123"); err != nil {
		t.Fatal(err)
	}
	call, err := db.StartCall(ctx, in.ID, "CA1", "+14155550100")
	if err != nil || call.State != postgres.CallIVR {
		t.Fatalf("start: %+v %v", call, err)
	}
	if again, err := db.StartCall(ctx, in.ID, "CA1", "+1999"); err != nil || again.Caller != "+14155550100" {
		t.Errorf("replayed start changed the call: %+v %v", again, err)
	}
	r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelVoice, Address: "+14155550100"}, DedupeKey: "call:CA1", Body: "Incoming call"}, in)
	if err != nil {
		t.Fatal(err)
	}
	if call, err = db.QueueCall(ctx, "CA1", r.Conversation.ID, "en"); err != nil || call.State != postgres.CallQueued || call.ConversationID != r.Conversation.ID {
		t.Fatalf("queue: %+v %v", call, err)
	}
	if _, ok, err := db.ClaimCallToConnect(ctx); ok || err != nil {
		t.Fatalf("claimed a call nobody accepted: %v", err)
	}
	o := parley.Offer{ID: "o1", ConversationID: r.Conversation.ID, AgentID: a.ID, QueueID: r.Conversation.QueueID, CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Minute)}
	if err := db.RecordOffer(ctx, o); err != nil {
		t.Fatal(err)
	}
	o.State, o.EndedAt = parley.OfferAccepted, time.Now()
	if _, err := db.Assign(ctx, o); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	claims := make(chan postgres.Call, 10)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if c, ok, err := db.ClaimCallToConnect(ctx); err != nil {
				t.Error(err)
			} else if ok {
				claims <- c
			}
		}()
	}
	wg.Wait()
	close(claims)
	var got []postgres.Call
	for c := range claims {
		got = append(got, c)
	}
	if len(got) != 1 || got[0].Sid != "CA1" || got[0].AgentID != a.ID || got[0].State != postgres.CallConnecting {
		t.Fatalf("claims %+v; want CA1 once, for agent %d", got, a.ID)
	}
	// A claim whose job was never queued (its instance died) is claimed
	// again after StaleConnect, as a new attempt; not before.
	if _, ok, _ := db.ClaimCallToConnect(ctx); ok {
		t.Fatalf("a call being connected was claimed again at once")
	}
	db.Pool().Exec(ctx, `UPDATE twilio_calls SET updated_at = now() - interval '10 minutes' WHERE call_sid = 'CA1'`)
	if c, ok, err := db.ClaimCallToConnect(ctx); !ok || err != nil || c.ConnectAttempt != got[0].ConnectAttempt+1 {
		t.Fatalf("stale claim: %+v %v %v; want attempt %d", c, ok, err, got[0].ConnectAttempt+1)
	}
	if c, err := db.CallConnected(ctx, "CA1", ""); err != nil || c.State != postgres.CallConnected || c.ConnectedAt.IsZero() {
		t.Fatalf("connected: %+v %v", c, err)
	}
	c, prev, err := db.EndCall(ctx, "CA1", "completed")
	if err != nil || prev != postgres.CallConnected || c.State != postgres.CallEnded || c.CallStatus != "completed" {
		t.Fatalf("end: %+v %s %v", c, prev, err)
	}
	if _, prev, _ := db.EndCall(ctx, "CA1", "failed"); prev != postgres.CallEnded {
		t.Errorf("replayed end: prev %s", prev)
	}
	if c, _ := db.Call(ctx, "CA1"); c.CallStatus != "completed" {
		t.Errorf("replayed end changed the status to %s", c.CallStatus)
	}
	if err := db.SetAgentVoiceEndpoint(ctx, a.ID, "sip:a@pbx.test"); err != nil {
		t.Fatal(err)
	}
	if ep, _ := db.AgentVoiceEndpoint(ctx, a.ID); ep != "sip:a@pbx.test" {
		t.Errorf("endpoint %q", ep)
	}
	db.SetAgentVoiceEndpoint(ctx, a.ID, "")
	if ep, err := db.AgentVoiceEndpoint(ctx, a.ID); ep != "" || err != nil {
		t.Errorf("removed endpoint %q %v", ep, err)
	}
	if err := db.SetAgentVoiceEndpoint(ctx, 999999, "+1"); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("unknown agent: %v", err)
	}
}
