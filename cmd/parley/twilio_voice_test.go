package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channels/twilio/twiliotest"
)

// voiceCall is one caller's call: signed voice webhooks with its CallSid.
type voiceCall struct {
	te   *twilioEnv
	base string
	sid  string
	from string
}

func (te *twilioEnv) newCall(inbox, from string) *voiceCall {
	return &voiceCall{te: te, base: "/webhooks/twilio/" + inbox + "/voice", sid: twiliotest.Sid("CA"), from: from}
}

func (c *voiceCall) form(status string, kv ...string) url.Values {
	f := twiliotest.Call(twSID, c.sid, c.from, twNumber, status)
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// post sends a webhook of the call to path (under .../voice).
func (c *voiceCall) post(t *testing.T, path, status string, kv ...string) twiliotest.Response {
	t.Helper()
	return c.te.post(t, c.base+path, c.form(status, kv...))
}

// setEndpoint sets an agent's voice endpoint through the admin API.
func (te *twilioEnv) setEndpoint(t *testing.T, agentToken, endpoint string) string {
	t.Helper()
	id := te.agentID(t, agentToken)
	if code := te.srv.do(t, "PUT", "/api/v1/agents/"+id+"/voice-endpoint", te.admin, map[string]string{"endpoint": endpoint}, nil); code != http.StatusOK {
		t.Fatalf("set voice endpoint %s: status %d", endpoint, code)
	}
	return id
}

// voiceAgent logs an agent in with a voice endpoint and makes them
// available (an offer may come before the presence frame).
func (te *twilioEnv) voiceAgent(t *testing.T, email, endpoint string) *ws {
	t.Helper()
	tok := te.srv.login(t, email)
	te.setEndpoint(t, tok, endpoint)
	a := te.srv.agentWS(t, tok)
	a.send(map[string]any{"type": "presence", "status": "available"})
	return a
}

func countKind(reqs []twiliotest.Request, kind string) int {
	n := 0
	for _, r := range reqs {
		if r.Kind() == kind {
			n++
		}
	}
	return n
}

func TestTwilioCallConnectIsRetriedUntilTwilioAnswers(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "voice", "General", nil)
	chen := te.voiceAgent(t, "agent3@parley.test", "client:agent-chen")

	call := te.newCall(inbox, twCustomer)
	if r := call.post(t, "", "ringing"); !strings.Contains(r.Body, "/voice/hold") {
		t.Fatalf("call not held: %s", r.Body)
	}
	// Twilio fails twice (a 503, then a 500); the third attempt succeeds.
	te.fake.Fail(http.StatusServiceUnavailable, 20503, "Service unavailable")
	te.fake.Fail(http.StatusInternalServerError, 20500, "Internal server error")
	_, conv := acceptNext(t, chen)
	start := time.Now()
	connected := chen.expectWhere("call", func(f frame) bool { return f.str("meta", "talk_started_at") != "" })
	if connected.str("conversation_id") != conv {
		t.Errorf("talk started on conversation %s; want %s", connected.str("conversation_id"), conv)
	}
	took := time.Since(start)
	reqs := te.fake.Requests()
	if n := countKind(reqs, "participant-create"); n != 3 || countKind(reqs, "call-update") != 1 {
		t.Fatalf("Twilio got %d agent legs and %d call updates; want 3 (two failures, one success) and 1", n, countKind(reqs, "call-update"))
	}
	if leg := reqs[len(reqs)-2]; leg.Form.Get("To") != "client:agent-chen" {
		t.Errorf("the agent's leg dials %q; want the browser client agent-chen", leg.Form.Get("To"))
	}
	// Back-off: 1 s then 2 s between the attempts (asynq rounds to whole
	// seconds, so at least 2 s in all).
	if gap := reqs[2].At.Sub(reqs[0].At); gap < 1900*time.Millisecond {
		t.Errorf("three attempts within %v; want the retries backed off (≥ 2 s)", gap)
	}
	t.Logf("connected after two failures in %v", took)
	// Each acceptance is connected once: nothing more reaches Twilio.
	time.Sleep(700 * time.Millisecond)
	if n := len(te.fake.Requests()); n != 4 {
		t.Errorf("Twilio got %d requests after the connect; want 4", n)
	}
	if n := te.count(t, `SELECT count(*) FROM twilio_calls WHERE call_sid = $1 AND state = 'connected' AND connect_attempt = 1`, call.sid); n != 1 {
		t.Errorf("call not connected on its first attempt")
	}
}

func TestTwilioCallThatCannotBeConnectedGoesBackToTheQueue(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "voice", "General", nil)
	chen := te.voiceAgent(t, "agent3@parley.test", "+14155550142")

	call := te.newCall(inbox, twCustomer)
	call.post(t, "", "ringing")
	// Every attempt fails (the first try and its three retries).
	for range 4 {
		te.fake.Fail(http.StatusServiceUnavailable, 20503, "Service unavailable")
	}
	_, conv := acceptNext(t, chen)
	// Meanwhile the caller hears a pause, not a hang-up.
	if r := call.post(t, "/hold?lang=en", "in-progress"); !strings.Contains(r.Body, "<Pause") || strings.Contains(r.Body, "<Hangup") {
		t.Errorf("hold while connecting: %s", r.Body)
	}
	told := chen.expectWhere("call_requeued", func(f frame) bool { return f.str("conversation_id") == conv })
	if !strings.Contains(told.str("reason"), "503") && !strings.Contains(told.str("reason"), "Service unavailable") {
		t.Errorf("agent told %q; want Twilio's error", told.str("reason"))
	}
	chen.expectWhere("resolved", func(f frame) bool { return f.str("conversation_id") == conv && f.str("reason") == "requeued" })
	if n := countKind(te.fake.Requests(), "participant-create"); n != 4 {
		t.Errorf("Twilio got %d agent legs; want 4 (1 + 3 retries)", n)
	}
	if n := te.count(t, `SELECT count(*) FROM conversations WHERE id = $1::bigint AND status = 'queued' AND agent_id IS NULL`, conv); n != 1 {
		t.Fatalf("conversation %s not back in the queue", conv)
	}
	if n := te.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1::bigint AND private AND body LIKE 'The call could not be connected%'`, conv); n != 1 {
		t.Errorf("no private note on the re-queued conversation")
	}
	// It is not lost: offered again, accepted, and now Twilio answers.
	again := chen.expectWhere("offer", func(f frame) bool { return f.str("offer", "conversation", "id") == conv })
	chen.send(map[string]any{"type": "accept", "offer_id": again.str("offer", "id")})
	chen.expect("assigned")
	chen.expectWhere("call", func(f frame) bool { return f.str("meta", "talk_started_at") != "" })
	if n := te.count(t, `SELECT count(*) FROM twilio_calls WHERE call_sid = $1 AND state = 'connected' AND connect_attempt = 2`, call.sid); n != 1 {
		t.Errorf("call not connected on its second attempt")
	}
}

// recordingCallback is the recordingStatusCallback of a <Record> in TwiML.
func recordingCallback(t *testing.T, doc string) string {
	t.Helper()
	_, after, ok := strings.Cut(doc, `recordingStatusCallback="`)
	if !ok {
		t.Fatalf("no recordingStatusCallback in %s", doc)
	}
	u, _, _ := strings.Cut(after, `"`)
	return strings.ReplaceAll(u, "&amp;", "&")
}

func TestTwilioCallerAfterMaxWaitGetsACallbackOrLeavesAVoicemail(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "voice", "General", nil)
	general := te.queueID(t, "General")
	var q struct {
		MaxWaitS int `json:"max_wait_s"`
	}
	if code := te.srv.do(t, "PATCH", "/api/v1/queues/"+general, te.admin, map[string]any{"max_wait_s": 30}, &q); code != 200 || q.MaxWaitS != 30 {
		t.Fatalf("set max_wait_s: %d %+v", code, q)
	}
	if code := te.srv.do(t, "PATCH", "/api/v1/queues/"+general, te.admin, map[string]any{"max_wait_s": -1}, nil); code != http.StatusBadRequest {
		t.Errorf("max_wait_s -1: status %d; want 400", code)
	}

	// Two callers wait with no agent available.
	first := te.newCall(inbox, twCustomer)
	second := te.newCall(inbox, "+15558675311")
	first.post(t, "", "ringing")
	second.post(t, "", "ringing")
	if r := first.post(t, "/hold?lang=en", "in-progress"); strings.Contains(r.Body, "<Gather") {
		t.Fatalf("overflow offered before the maximum wait: %s", r.Body)
	}
	// Both have now waited longer than the queue's 30 s.
	te.db.Pool.Exec(t.Context(), `UPDATE twilio_calls SET queued_at = now() - interval '31 seconds'`)
	r := first.post(t, "/hold?lang=en", "in-progress")
	if !strings.Contains(r.Body, "<Gather") || !strings.Contains(r.Body, "step=overflow") || !strings.Contains(r.Body, "press 1") {
		t.Fatalf("no callback/voicemail offer after the maximum wait: %s", r.Body)
	}
	// Offered once: no key pressed, back to hold, not asked again.
	if r := first.post(t, "/hold?lang=en", "in-progress"); strings.Contains(r.Body, "<Gather") || !strings.Contains(r.Body, "<Play") {
		t.Errorf("second hold turn: %s", r.Body)
	}
	// 1: a callback. The caller hangs up; the conversation keeps its place.
	r = first.post(t, "/gather?lang=en&step=overflow", "in-progress", "Digits", "1")
	if !strings.Contains(r.Body, "call you back") || !strings.Contains(r.Body, "<Hangup") {
		t.Fatalf("callback chosen: %s", r.Body)
	}
	first.post(t, "/status", "completed", "CallDuration", "40")

	// 2: a voicemail, recorded by Twilio.
	r = second.post(t, "/hold?lang=en", "in-progress")
	if !strings.Contains(r.Body, "step=overflow") {
		t.Fatalf("second caller not offered: %s", r.Body)
	}
	r = second.post(t, "/gather?lang=en&step=overflow", "in-progress", "Digits", "2")
	if !strings.Contains(r.Body, "<Record") || !strings.Contains(r.Body, "/voice/voicemail") {
		t.Fatalf("voicemail chosen: %s", r.Body)
	}
	recCB := recordingCallback(t, r.Body)
	if r := second.post(t, "/voicemail?lang=en", "in-progress"); !strings.Contains(r.Body, "<Hangup") {
		t.Errorf("after the recording: %s", r.Body)
	}
	second.post(t, "/status", "completed", "CallDuration", "25")
	recURL := "https://api.twilio.com/2010-04-01/Accounts/" + twSID + "/Recordings/RE0123456789abcdef0123456789abcdef"
	rec := twiliotest.Recording(twSID, second.sid, "RE0123456789abcdef0123456789abcdef", recURL, 7)
	for range 2 { // a replay changes nothing
		if r := te.post(t, recCB, rec); r.Status != http.StatusNoContent {
			t.Fatalf("recording callback: %d %s", r.Status, r.Body)
		}
	}
	if n := te.count(t, `SELECT count(*) FROM conversations WHERE channel = 'voice' AND status = 'queued'`); n != 2 {
		t.Fatalf("%d voice conversations queued; want both (callback and voicemail tasks)", n)
	}

	// An agent takes the callback first (it waited longest): Parley calls
	// the customer and dials the agent.
	chen := te.voiceAgent(t, "agent3@parley.test", "+14155550142")
	offer := chen.expect("offer")
	if mode := offer.str("offer", "conversation", "meta", "call_mode"); mode != "callback" {
		t.Fatalf("first offer's call_mode %q; want callback", mode)
	}
	conv := offer.str("offer", "conversation", "id")
	chen.send(map[string]any{"type": "accept", "offer_id": offer.str("offer", "id")})
	chen.expect("assigned")
	placed, ok := te.fake.WaitFor(10*time.Second, func(r twiliotest.Request) bool { return r.Kind() == "call-create" })
	if !ok {
		t.Fatal("no callback call placed")
	}
	if f := placed.Form; f.Get("To") != twCustomer || f.Get("From") != twNumber || !strings.Contains(f.Get("Twiml"), "<Number>+14155550142</Number>") ||
		!strings.Contains(f.Get("Twiml"), "calling you back") || !strings.HasSuffix(f.Get("StatusCallback"), "/webhooks/twilio/"+inbox+"/voice/status") {
		t.Errorf("callback call: %v", f)
	}
	chen.expectWhere("call", func(f frame) bool { return f.str("meta", "callback_call_sid") == placed.Sid })
	// The callback's own status callback ends the talk.
	back := &voiceCall{te: te, base: "/webhooks/twilio/" + inbox + "/voice", sid: placed.Sid, from: twNumber}
	back.post(t, "/status", "completed", "CallDuration", "95")
	chen.expectWhere("call", func(f frame) bool {
		return f.str("meta", "call_duration_s") == "95" && f.str("meta", "talk_ended_at") != ""
	})
	// Then the voicemail (offered as the slot frees, before the resolved
	// frame): the agent gets it with the recording, and no call is made.
	chen.send(map[string]any{"type": "resolve", "conversation_id": conv})
	vm := chen.expect("offer")
	if mode := vm.str("offer", "conversation", "meta", "call_mode"); mode != "voicemail" {
		t.Fatalf("second offer's call_mode %q; want voicemail", mode)
	}
	msgs := vm.str("offer", "conversation", "messages")
	if !strings.Contains(msgs, "Voicemail (7 s)") || !strings.Contains(msgs, recURL+".mp3") || !strings.Contains(msgs, "audio/mpeg") {
		t.Errorf("voicemail offer's messages lack the recording: %s", msgs)
	}
	chen.send(map[string]any{"type": "accept", "offer_id": vm.str("offer", "id")})
	chen.expect("assigned")
	time.Sleep(500 * time.Millisecond)
	reqs := te.fake.Requests()
	if len(reqs) != 1 {
		t.Errorf("Twilio got %d requests; want only the callback call", len(reqs))
	}
	if n := te.count(t, `SELECT count(*) FROM messages WHERE dedupe_key LIKE 'voicemail:%'`); n != 1 {
		t.Errorf("%d voicemail messages; want 1", n)
	}
}

// attr returns the value of the first attribute name="…" in a TwiML
// document, unescaped.
func attr(t *testing.T, doc, name string) string {
	t.Helper()
	_, after, ok := strings.Cut(doc, " "+name+`="`)
	if !ok {
		t.Fatalf("no %s in %s", name, doc)
	}
	v, _, _ := strings.Cut(after, `"`)
	return strings.ReplaceAll(v, "&amp;", "&")
}

// talkedCall has a caller choose Chinese and the technical menu of a new
// voice inbox and reach Chen (agent3): it returns the call, its
// conversation, Chen's socket and the <Dial action> URL that the end of
// the agent's leg posts to.
func (te *twilioEnv) talkedCall(t *testing.T) (call *voiceCall, conv string, chen *ws, afterDial string) {
	t.Helper()
	inbox := te.createInbox(t, "voice", "General", voiceSettings(t, te))
	chen = te.voiceAgent(t, "agent3@parley.test", "+14155550142")
	call = te.newCall(inbox, twCustomer)
	call.post(t, "", "ringing")
	call.post(t, "/gather?step=language&try=1", "in-progress", "Digits", "2") // 中文
	call.post(t, "/gather?lang=zh&step=menu&try=1", "in-progress", "Digits", "2")
	_, conv = acceptNext(t, chen)
	upd, ok := te.fake.WaitFor(10*time.Second, func(r twiliotest.Request) bool { return r.Kind() == "call-update" })
	if !ok {
		t.Fatal("call not connected")
	}
	return call, conv, chen, attr(t, upd.Form.Get("Twiml"), "action")
}

func TestTwilioCallerAnswersThePostCallSurveyWithTheKeypad(t *testing.T) {
	te := newTwilioEnv(t)
	te.srv.createSurvey(t, te.admin, "csat", 0, "voice")
	call, conv, chen, afterDial := te.talkedCall(t)
	if !strings.Contains(afterDial, "/voice/after-dial") || !strings.Contains(afterDial, "lang=zh") {
		t.Fatalf("the agent's <Dial> has action %q", afterDial)
	}
	// The agent hangs up; the caller stays for the survey, in Chinese.
	r := te.post(t, afterDial, call.form("in-progress", "DialCallStatus", "completed", "DialCallDuration", "61"))
	if !strings.Contains(r.Body, "<Gather") || !strings.Contains(r.Body, "您对本次服务满意吗？") || !strings.Contains(r.Body, "请按1到5") ||
		!strings.Contains(r.Body, `numDigits="1"`) {
		t.Fatalf("survey: %s", r.Body)
	}
	surveyURL := attr(t, r.Body, "action")
	// 7 is out of range: asked again; 4 is recorded.
	if r := te.post(t, surveyURL, call.form("in-progress", "Digits", "7")); !strings.Contains(r.Body, "<Gather") || !strings.Contains(r.Body, "对不起") {
		t.Fatalf("survey after 7: %s", r.Body)
	}
	for range 2 { // a replay records nothing more
		if r := te.post(t, surveyURL, call.form("in-progress", "Digits", "4")); !strings.Contains(r.Body, "感谢您的反馈") || !strings.Contains(r.Body, "<Hangup") {
			t.Fatalf("survey after 4: %s", r.Body)
		}
	}
	chenID := te.agentID(t, te.srv.login(t, "agent3@parley.test"))
	if n := te.count(t, `SELECT count(*) FROM survey_requests r JOIN survey_answers a ON a.request_id = r.id
		WHERE r.conversation_id = $1::bigint AND r.channel = 'voice' AND r.status = 'answered' AND a.score = 4 AND a.kind = 'csat'
			AND r.queue_id = $2::bigint AND $3::bigint = ANY(r.agent_ids)`, conv, te.queueID(t, "Technical"), chenID); n != 1 {
		t.Errorf("%d answered voice surveys with score 4 for the conversation, its queue and agent; want 1", n)
	}
	if n := te.count(t, `SELECT count(*) FROM survey_answers`); n != 1 {
		t.Errorf("%d answers; want 1", n)
	}
	// Resolving afterwards sends no second survey.
	chen.send(map[string]any{"type": "resolve", "conversation_id": conv})
	chen.expect("resolved")
	time.Sleep(700 * time.Millisecond)
	if n := te.count(t, `SELECT count(*) FROM survey_requests`); n != 1 {
		t.Errorf("%d survey requests; want 1", n)
	}
	// A caller who hung up before the agent gets no survey.
	if r := te.post(t, afterDial, call.form("completed", "DialCallStatus", "completed")); strings.Contains(r.Body, "<Gather") {
		t.Errorf("survey offered after the caller hung up: %s", r.Body)
	}
}

func TestTwilioHoldMusicIsInterruptedAtTheQueuesMaximumWait(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "voice", "General", nil)
	if code := te.srv.do(t, "PATCH", "/api/v1/queues/"+te.queueID(t, "General"), te.admin, map[string]any{"max_wait_s": 1}, nil); code != 200 {
		t.Fatalf("set max_wait_s: %d", code)
	}
	call := te.newCall(inbox, twCustomer)
	start := time.Now()
	if r := call.post(t, "", "ringing"); !strings.Contains(r.Body, "<Play") {
		t.Fatalf("call not on hold: %s", r.Body)
	}
	// The caller is in the middle of the hold music: Parley redirects the
	// call (REST) to the hold loop when the maximum wait is reached.
	upd, ok := te.fake.WaitFor(10*time.Second, func(r twiliotest.Request) bool { return r.Kind() == "call-update" })
	if !ok {
		t.Fatal("the call was not redirected at the maximum wait")
	}
	if took := time.Since(start); took < 900*time.Millisecond || took > 4*time.Second {
		t.Errorf("redirected after %v; want about 1 s", took)
	}
	u := upd.Form.Get("Url")
	if !strings.HasSuffix(upd.Path, "/Calls/"+call.sid+".json") || !strings.HasPrefix(u, twPublicURL+"/webhooks/twilio/"+inbox+"/voice/hold") || upd.Form.Has("Twiml") {
		t.Fatalf("redirect %s: %v", upd.Path, upd.Form)
	}
	if r := te.post(t, u, call.form("in-progress")); !strings.Contains(r.Body, "step=overflow") {
		t.Errorf("after the redirect: %s", r.Body)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := countKind(te.fake.Requests(), "call-update"); n != 1 {
		t.Errorf("Twilio got %d redirects; want 1", n)
	}
}

func TestTwilioPostCallSurveyAsksEveryQuestionInTurn(t *testing.T) {
	te := newTwilioEnv(t)
	te.srv.createThreeQuestionSurvey(t, te.admin, "voice") // CSAT, NPS, then a text question
	call, conv, _, afterDial := te.talkedCall(t)
	r := te.post(t, afterDial, call.form("in-progress", "DialCallStatus", "completed", "DialCallDuration", "61"))
	if !strings.Contains(r.Body, "您对本次服务满意吗？") || !strings.Contains(r.Body, `numDigits="1"`) {
		t.Fatalf("first question: %s", r.Body)
	}
	csatURL := attr(t, r.Body, "action")
	// The CSAT answer is followed by the NPS question: two digits and #.
	r = te.post(t, csatURL, call.form("in-progress", "Digits", "4"))
	if !strings.Contains(r.Body, "<Gather") || !strings.Contains(r.Body, "您会推荐我们吗？") || !strings.Contains(r.Body, `numDigits="2"`) ||
		!strings.Contains(r.Body, `finishOnKey="#"`) || strings.Contains(r.Body, "感谢您的反馈") {
		t.Fatalf("after the CSAT answer: %s", r.Body)
	}
	npsURL := attr(t, r.Body, "action")
	if !strings.Contains(npsURL, "q=nps") {
		t.Fatalf("the NPS gather posts to %q", npsURL)
	}
	// 12 is out of range: the NPS question again.
	if r := te.post(t, npsURL, call.form("in-progress", "Digits", "12#")); !strings.Contains(r.Body, "对不起") || !strings.Contains(r.Body, "您会推荐我们吗？") {
		t.Fatalf("after 12: %s", r.Body)
	}
	// 9 is recorded; the text question cannot be asked on the keypad: done.
	for range 2 { // a replay records nothing more
		if r := te.post(t, npsURL, call.form("in-progress", "Digits", "9#")); !strings.Contains(r.Body, "感谢您的反馈") || !strings.Contains(r.Body, "<Hangup") {
			t.Fatalf("after 9: %s", r.Body)
		}
	}
	// A replay of the CSAT answer does not ask the answered NPS question again.
	if r := te.post(t, csatURL, call.form("in-progress", "Digits", "4")); !strings.Contains(r.Body, "感谢您的反馈") {
		t.Errorf("CSAT replay: %s", r.Body)
	}
	if got := te.answersOf(t, conv); got != "csat=4,nps=9" {
		t.Errorf("answers %q; want csat=4,nps=9", got)
	}
	if n := te.count(t, `SELECT count(*) FROM events WHERE type = 'survey.answered' AND conversation_id = $1::bigint`, conv); n != 2 {
		t.Errorf("%d survey.answered events; want 2", n)
	}
}
