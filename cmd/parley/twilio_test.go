package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley/channels/twilio/twiliotest"
)

const (
	twSID       = "AC0123456789abcdef0123456789abcdef"
	twToken     = "0123456789abcdef0123456789abcdef"
	twNumber    = "+15017122661"
	twCustomer  = "+15558675310"
	twPublicURL = "https://parley.example.com"
)

// twilioEnv is a running server wired to a fake Twilio, behind a "proxy":
// Twilio signs the public URL while requests reach the local address.
type twilioEnv struct {
	*env
	srv   *instance
	fake  *twiliotest.Server
	hooks twiliotest.Webhooks
	admin string
}

func newTwilioEnv(t *testing.T, configure ...func(*env)) *twilioEnv {
	t.Helper()
	e := newEnv(t)
	fake := twiliotest.NewServer(twSID, twToken)
	t.Cleanup(fake.Close)
	e.vars["PARLEY_PUBLIC_URL"] = twPublicURL
	e.vars["PARLEY_TWILIO_API_BASE"] = fake.URL
	for _, c := range configure {
		c(e)
	}
	srv := e.start()
	te := &twilioEnv{env: e, srv: srv, fake: fake, admin: srv.login(t, "admin@parley.test")}
	te.hooks = twiliotest.Webhooks{Target: srv.base, PublicURL: twPublicURL, AuthToken: twToken}
	return te
}

func (te *twilioEnv) queueID(t *testing.T, name string) string {
	t.Helper()
	var out struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	te.srv.do(t, "GET", "/api/v1/queues", te.admin, nil, &out)
	for _, q := range out.Items {
		if q.Name == name {
			return q.ID
		}
	}
	t.Fatalf("no queue %s", name)
	return ""
}

func (te *twilioEnv) createInbox(t *testing.T, channel, queue string, settings map[string]any) string {
	t.Helper()
	var out struct {
		ID     string         `json:"id"`
		Twilio map[string]any `json:"twilio"`
	}
	body := map[string]any{"channel": channel, "name": "Twilio " + channel, "queue_id": te.queueID(t, queue),
		"twilio": map[string]string{"account_sid": twSID, "auth_token": twToken, "from": twNumber}}
	if settings != nil {
		body["settings"] = settings
	}
	if code := te.srv.do(t, "POST", "/api/v1/inboxes", te.admin, body, &out); code != http.StatusCreated {
		t.Fatalf("create %s inbox: status %d", channel, code)
	}
	if tok, ok := out.Twilio["auth_token"]; ok && tok != "" {
		t.Errorf("the API returned the auth token")
	}
	return out.ID
}

func (te *twilioEnv) post(t *testing.T, path string, form url.Values) twiliotest.Response {
	t.Helper()
	r, err := te.hooks.Post(context.Background(), path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return r
}

func (te *twilioEnv) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := te.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func (te *twilioEnv) available(t *testing.T, email string) *ws {
	t.Helper()
	a := te.srv.agentWS(t, te.srv.login(t, email))
	a.send(map[string]any{"type": "presence", "status": "available"})
	a.expect("presence")
	return a
}

func isMessage(r twiliotest.Request) bool { return r.Kind() == "message" }

func TestTwilioSMSReachesAgentWithHistoryAndReplyLeavesThroughTwilio(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "sms", "Billing", nil)
	path := "/webhooks/twilio/" + inbox + "/messaging"
	alice := te.available(t, "agent1@parley.test") // billing 5

	// An earlier conversation, resolved.
	if r := te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "Where is my invoice?")); r.Status != 200 || !strings.Contains(r.Body, "<Response") {
		t.Fatalf("inbound SMS: %d %s; want 200 with TwiML", r.Status, r.Body)
	}
	_, first := acceptNext(t, alice)
	alice.send(map[string]any{"type": "resolve", "conversation_id": first})
	alice.expect("resolved")

	te.post(t, path, twiliotest.SMS(twSID, "(555) 867-5310", twNumber, "I was charged twice 👍"))
	offer := alice.expect("offer")
	if past := offer.str("offer", "customer", "past_conversations"); !strings.Contains(past, "Where is my invoice?") {
		t.Errorf("offer lacks the customer's history: %s", past)
	}
	if ids := offer.str("offer", "customer", "identities"); !strings.Contains(ids, `"channel":"sms"`) || !strings.Contains(ids, twCustomer) {
		t.Errorf("offer's identities lack the E.164 sms number: %s", ids)
	}
	if region := offer.str("offer", "customer", "attributes", "phone_region"); region != "US" {
		t.Errorf("customer phone_region %q; want US", region)
	}
	conv := offer.str("offer", "conversation", "id")
	alice.send(map[string]any{"type": "accept", "offer_id": offer.str("offer", "id")})
	alice.expect("assigned")

	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "Refunding the second charge now.", "client_msg_id": "r1"})
	ack := alice.expect("ack")
	req, ok := te.fake.WaitFor(10*time.Second, isMessage)
	if !ok {
		t.Fatal("no message request reached Twilio")
	}
	if req.AccountSID != twSID || req.AuthToken != twToken {
		t.Errorf("REST call authenticated as %q", req.AccountSID)
	}
	if f := req.Form; f.Get("From") != twNumber || f.Get("To") != twCustomer || f.Get("Body") != "Refunding the second charge now." {
		t.Errorf("Twilio got From %q To %q Body %q", f.Get("From"), f.Get("To"), f.Get("Body"))
	}
	cb := req.Form.Get("StatusCallback")
	if !strings.HasPrefix(cb, twPublicURL+"/webhooks/twilio/"+inbox+"/messaging/status") {
		t.Fatalf("StatusCallback %q", cb)
	}
	alice.expectWhere("delivery", func(f frame) bool { return f.str("delivery") == "sent" && f.str("message_id") == ack.str("message_id") })

	if r := te.post(t, cb, twiliotest.MessageStatus(twSID, req.Sid, "delivered", "")); r.Status != http.StatusNoContent {
		t.Fatalf("status callback: %d %s", r.Status, r.Body)
	}
	alice.expectWhere("delivery", func(f frame) bool {
		return f.str("delivery") == "delivered" && f.str("message_id") == ack.str("message_id")
	})
	// Replays and late callbacks change nothing.
	te.post(t, cb, twiliotest.MessageStatus(twSID, req.Sid, "delivered", ""))
	te.post(t, cb, twiliotest.MessageStatus(twSID, req.Sid, "sent", ""))
	alice.quiet("delivery", 300*time.Millisecond)
	if n := te.count(t, `SELECT count(*) FROM messages WHERE id = $1::bigint AND delivery = 'delivered' AND provider_id = $2`, ack.str("message_id"), req.Sid); n != 1 {
		t.Errorf("message not delivered with provider id %s", req.Sid)
	}
	if n := len(te.fake.Requests()); n != 1 {
		t.Errorf("Twilio got %d requests; want 1", n)
	}
}

func TestTwilioBadSignatureIsForbiddenAndStoresNothing(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "sms", "Billing", nil)
	path := "/webhooks/twilio/" + inbox + "/messaging"
	form := twiliotest.SMS(twSID, twCustomer, twNumber, "hello")
	ctx := context.Background()
	unsigned, _ := te.hooks.PostUnsigned(ctx, path, form)
	wrong := te.hooks
	wrong.AuthToken = "ffffffffffffffffffffffffffffffff"
	badToken, _ := wrong.Post(ctx, path, form)
	local := te.hooks
	local.PublicURL = te.srv.base // signed for another URL than PARLEY_PUBLIC_URL
	badURL, _ := local.Post(ctx, path, form)
	for name, r := range map[string]twiliotest.Response{"unsigned": unsigned, "wrong token": badToken, "wrong URL": badURL} {
		if r.Status != http.StatusForbidden {
			t.Errorf("%s: status %d; want 403", name, r.Status)
		}
	}
	if n := te.count(t, `SELECT count(*) FROM messages`) + te.count(t, `SELECT count(*) FROM customer_identities WHERE channel = 'sms'`); n != 0 {
		t.Errorf("%d rows written by refused webhooks", n)
	}
	if r := te.post(t, path, form); r.Status != http.StatusOK {
		t.Errorf("signed: status %d", r.Status)
	}
}

func TestTwilioSameMessageSidFiveTimesConcurrentlyIsOneMessage(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "whatsapp", "Billing", nil)
	form := twiliotest.WhatsApp(twSID, "+8613800138000", twNumber, "张伟 Zhang Wei", "你好，我的订单还没到")
	var wg sync.WaitGroup
	codes := make([]int, 5)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := te.hooks.Post(context.Background(), "/webhooks/twilio/"+inbox+"/messaging", form)
			if err == nil {
				codes[i] = r.Status
			}
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("delivery %d: status %d", i, c)
		}
	}
	if n := te.count(t, `SELECT count(*) FROM messages WHERE dedupe_key = $1`, form.Get("MessageSid")); n != 1 {
		t.Errorf("%d messages stored; want 1", n)
	}
	if n := te.count(t, `SELECT count(*) FROM conversations WHERE channel = 'whatsapp'`); n != 1 {
		t.Errorf("%d conversations; want 1", n)
	}
	var name, region string
	te.db.Pool.QueryRow(context.Background(), `SELECT cu.name, cu.attributes->>'phone_region' FROM customers cu
		JOIN customer_identities i ON i.customer_id = cu.id WHERE i.channel = 'whatsapp' AND i.address = '+8613800138000'`).Scan(&name, &region)
	if name != "张伟 Zhang Wei" || region != "CN" {
		t.Errorf("customer %q region %q; want the WhatsApp profile name and CN", name, region)
	}
}

func TestTwilioStopThenReplyFailsWithoutReachingTwilio(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "sms", "Billing", nil)
	path := "/webhooks/twilio/" + inbox + "/messaging"
	alice := te.available(t, "agent1@parley.test")
	te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "Is my order shipped?"))
	_, conv := acceptNext(t, alice)
	te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "STOP"))
	alice.expectWhere("message", func(f frame) bool { return f.str("message", "body") == "STOP" })
	if n := te.count(t, `SELECT count(*) FROM customer_consents WHERE channel = 'sms' AND address = $1 AND status = 'opted_out'`, twCustomer); n != 1 {
		t.Fatalf("opt-out not recorded")
	}
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "It ships tomorrow.", "client_msg_id": "r1"})
	ack := alice.expect("ack")
	alice.expectWhere("delivery", func(f frame) bool {
		return f.str("delivery") == "failed" && f.str("message_id") == ack.str("message_id")
	})
	if reqs := te.fake.Requests(); len(reqs) != 0 {
		t.Errorf("Twilio got %d requests for an opted-out number", len(reqs))
	}

	// START opts in again; the next reply leaves.
	te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "START"))
	alice.expectWhere("message", func(f frame) bool { return f.str("message", "body") == "START" })
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "Welcome back.", "client_msg_id": "r2"})
	if _, ok := te.fake.WaitFor(10*time.Second, isMessage); !ok {
		t.Error("no message after START")
	}
}

func TestTwilioWhatsAppReplyOutsideTheWindowIsRefused(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "whatsapp", "Billing", nil)
	alice := te.available(t, "agent1@parley.test")
	te.post(t, "/webhooks/twilio/"+inbox+"/messaging", twiliotest.WhatsApp(twSID, twCustomer, twNumber, "Maria", "hola"))
	_, conv := acceptNext(t, alice)
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "Hi Maria", "client_msg_id": "r1"})
	req, ok := te.fake.WaitFor(10*time.Second, isMessage)
	if !ok || req.Form.Get("To") != "whatsapp:"+twCustomer || req.Form.Get("From") != "whatsapp:"+twNumber {
		t.Fatalf("WhatsApp reply: %v %v", ok, req.Form)
	}
	// The customer's last message is now 25 hours old.
	te.db.Pool.Exec(context.Background(), `UPDATE messages SET created_at = now() - interval '25 hours' WHERE direction = 'in'`)
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "Still there?", "client_msg_id": "r2"})
	// Refused at once with a clear error; nothing is stored or sent.
	refused := alice.expectWhere("error", func(f frame) bool { return f.str("ref") == "r2" })
	if refused.str("code") != "invalid" || !strings.Contains(refused.str("message"), "24") {
		t.Errorf("reply outside the window: %v; want an invalid error about the 24-hour window", refused)
	}
	var stored int
	te.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE body = 'Still there?'`).Scan(&stored)
	if stored != 0 {
		t.Errorf("the refused reply was stored %d times", stored)
	}
	if n := len(te.fake.Requests()); n != 1 {
		t.Errorf("Twilio got %d requests; want 1 (none outside the window)", n)
	}
}

func voiceSettings(t *testing.T, te *twilioEnv) map[string]any {
	return map[string]any{
		"topics": []map[string]string{
			{"name": "billing", "label": "billing", "queue_id": te.queueID(t, "Billing")},
			{"name": "technical", "label": "technical support", "queue_id": te.queueID(t, "Technical")},
		},
		"voice": map[string]any{
			"languages": []map[string]string{{"digit": "1", "skill": "en"}, {"digit": "2", "skill": "zh"}},
			"menu":      []map[string]string{{"digit": "1", "topic": "billing"}, {"digit": "2", "topic": "technical"}},
		},
	}
}

func (te *twilioEnv) agentID(t *testing.T, token string) string {
	var me struct {
		Agent struct {
			ID string `json:"id"`
		} `json:"agent"`
	}
	te.srv.do(t, "GET", "/api/v1/auth/me", token, nil, &me)
	return me.Agent.ID
}

func TestTwilioCallThroughIVRIsConnectedToTheSkilledAgent(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "voice", "General", voiceSettings(t, te))
	base := "/webhooks/twilio/" + inbox + "/voice"
	chenTok := te.srv.login(t, "agent3@parley.test") // technical 5, speaks zh
	chenID := te.agentID(t, chenTok)
	var ep struct{ Endpoint string }
	if code := te.srv.do(t, "PUT", "/api/v1/agents/"+chenID+"/voice-endpoint", te.admin, map[string]string{"endpoint": "+1 415 555 0142"}, &ep); code != 200 || ep.Endpoint != "+14155550142" {
		t.Fatalf("set voice endpoint: %d %+v", code, ep)
	}
	if code := te.srv.do(t, "PUT", "/api/v1/agents/"+chenID+"/voice-endpoint", chenTok, map[string]string{"endpoint": "+14155550000"}, nil); code != http.StatusForbidden {
		t.Errorf("an agent set an endpoint: status %d; want 403", code)
	}
	alice := te.available(t, "agent1@parley.test") // billing only
	chen := te.srv.agentWS(t, chenTok)
	chen.send(map[string]any{"type": "presence", "status": "available"})
	chen.expect("presence")

	sid := twiliotest.Sid("CA")
	call := func(status string, kv ...string) url.Values {
		f := twiliotest.Call(twSID, sid, twCustomer, twNumber, status)
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	r := te.post(t, base, call("ringing"))
	if r.Status != 200 || !strings.Contains(r.Body, "<Gather") || !strings.Contains(r.Body, "中文服务请按2") || !strings.Contains(r.Body, "step=language") {
		t.Fatalf("IVR: %d %s", r.Status, r.Body)
	}
	r = te.post(t, base+"/gather?step=language&try=1", call("in-progress", "Digits", "2"))
	if !strings.Contains(r.Body, "lang=zh") || !strings.Contains(r.Body, "technical support请按2") {
		t.Fatalf("topic menu: %s", r.Body)
	}
	r = te.post(t, base+"/gather?lang=zh&step=menu&try=1", call("in-progress", "Digits", "2"))
	if !strings.Contains(r.Body, "第1位") || !strings.Contains(r.Body, "<Play") || !strings.Contains(r.Body, "/voice/hold") {
		t.Fatalf("hold: %s", r.Body)
	}

	offer := chen.expect("offer")
	alice.quiet("offer", 300*time.Millisecond)
	if q := offer.str("offer", "queue", "name"); q != "Technical" {
		t.Errorf("offered from queue %q; want Technical", q)
	}
	if ch, req := offer.str("offer", "conversation", "channel"), offer.str("offer", "conversation", "require"); ch != "voice" || !strings.Contains(req, `"zh"`) {
		t.Errorf("conversation channel %q require %s", ch, req)
	}
	chen.send(map[string]any{"type": "accept", "offer_id": offer.str("offer", "id")})
	chen.expect("assigned")

	// The agent's leg joins the conversation's conference first (and
	// starts it), then the caller's TwiML joins it.
	upd, ok := te.fake.WaitFor(10*time.Second, func(r twiliotest.Request) bool { return r.Kind() == "call-update" })
	if !ok {
		t.Fatal("no call update reached Twilio")
	}
	reqs := te.fake.Requests()
	conf := "parley-conv-" + offer.str("offer", "conversation", "id")
	if len(reqs) != 2 || reqs[0].Kind() != "participant-create" || reqs[0].Conference != conf || reqs[0].Form.Get("To") != "+14155550142" ||
		reqs[0].Form.Get("StartConferenceOnEnter") != "true" || reqs[0].Form.Get("EndConferenceOnExit") != "true" ||
		!strings.HasSuffix(reqs[0].Form.Get("ConferenceStatusCallback"), "/voice/conference") {
		t.Errorf("agent's leg: %+v", reqs[0])
	}
	if twiml := upd.Form.Get("Twiml"); !strings.HasSuffix(upd.Path, "/Calls/"+sid+".json") || !strings.Contains(twiml, "<Dial") ||
		!strings.Contains(twiml, ">"+conf+"</Conference>") || !strings.Contains(twiml, `endConferenceOnExit="true"`) {
		t.Errorf("call update %s: %s", upd.Path, twiml)
	}
	chen.expectWhere("call", func(f frame) bool { return f.str("meta", "talk_started_at") != "" })

	if r := te.post(t, base+"/status", call("completed", "CallDuration", "34")); r.Status != http.StatusNoContent {
		t.Fatalf("status: %d %s", r.Status, r.Body)
	}
	done := chen.expectWhere("call", func(f frame) bool { return f.str("meta", "call_status") == "completed" })
	if done.str("meta", "call_duration_s") != "34" || done.str("meta", "talk_duration_s") == "" || done.str("meta", "talk_ended_at") == "" {
		t.Errorf("completed call meta: %s", done.str("meta"))
	}
	// A replayed callback changes nothing.
	te.post(t, base+"/status", call("completed", "CallDuration", "99"))
	chen.quiet("call", 300*time.Millisecond)
	if n := len(te.fake.Requests()); n != 2 {
		t.Errorf("Twilio got %d requests; want 2", n)
	}
}

func TestTwilioCallerHangingUpWhileQueuedAbandons(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "voice", "General", voiceSettings(t, te))
	base := "/webhooks/twilio/" + inbox + "/voice"
	chen := te.available(t, "agent3@parley.test")
	sid := twiliotest.Sid("CA")
	call := func(status string, kv ...string) url.Values {
		f := twiliotest.Call(twSID, sid, twCustomer, twNumber, status)
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	te.post(t, base, call("ringing"))
	te.post(t, base+"/gather?step=language&try=1", call("in-progress", "Digits", "1"))
	te.post(t, base+"/gather?lang=en&step=menu&try=1", call("in-progress", "Digits", "2"))
	offer := chen.expect("offer")
	conv := offer.str("offer", "conversation", "id")
	if r := te.post(t, base+"/status", call("completed", "CallDuration", "12")); r.Status != http.StatusNoContent {
		t.Fatalf("status: %d", r.Status)
	}
	ended := chen.expect("offer_ended")
	if ended.str("offer_id") != offer.str("offer", "id") || ended.str("reason") != "canceled" {
		t.Errorf("offer_ended %v", ended)
	}
	if n := te.count(t, `SELECT count(*) FROM conversations WHERE id = $1::bigint AND status = 'abandoned' AND meta->>'call_duration_s' = '12'`, conv); n != 1 {
		t.Errorf("conversation %s not abandoned with its duration", conv)
	}
	chen.send(map[string]any{"type": "accept", "offer_id": offer.str("offer", "id")})
	if e := chen.expect("error"); e.str("code") != "conflict" && e.str("code") != "not_found" {
		t.Errorf("late accept: %v", e)
	}
	// The hold loop ends the call; nothing was sent to Twilio.
	if r := te.post(t, base+"/hold?lang=en", call("in-progress")); !strings.Contains(r.Body, "<Hangup") {
		t.Errorf("hold after hang-up: %s", r.Body)
	}
	if n := len(te.fake.Requests()); n != 0 {
		t.Errorf("Twilio got %d requests", n)
	}
}

func TestTwilioSimulateSendsSignedWebhooks(t *testing.T) {
	te := newTwilioEnv(t)
	sms := te.createInbox(t, "sms", "Billing", nil)
	voice := te.createInbox(t, "voice", "General", voiceSettings(t, te))
	getenv := func(k string) string { return te.vars[k] }
	var out strings.Builder
	ctx := context.Background()
	if err := run(ctx, []string{"parley", "simulate", "sms", "--inbox", sms, "--url", te.srv.base, "--count", "3", "--concurrency", "3"}, getenv, &out, &out); err != nil {
		t.Fatalf("simulate sms: %v\n%s", err, out.String())
	}
	if err := run(ctx, []string{"parley", "simulate", "call", "--inbox", voice, "--url", te.srv.base, "--digits", "2,1", "--hangup-after", "10ms"}, getenv, &out, &out); err != nil {
		t.Fatalf("simulate call: %v\n%s", err, out.String())
	}
	if n := te.count(t, `SELECT count(*) FROM conversations WHERE channel = 'sms'`); n != 3 {
		t.Errorf("%d sms conversations; want 3\n%s", n, out.String())
	}
	if n := te.count(t, `SELECT count(*) FROM conversations WHERE channel = 'voice' AND status = 'abandoned' AND require ? 'zh'`); n != 1 {
		t.Errorf("%d abandoned zh calls; want 1\n%s", n, out.String())
	}
}
