package main

import (
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channels/twilio/twiliotest"
)

// createSurvey defines a one-question survey for channels (CSAT unless kind).
func (in *instance) createSurvey(t *testing.T, admin, kind string, capDays int, channels ...string) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"name": "After resolution", "channels": channels, "cap_days": capDays,
		"questions": []map[string]any{
			{"key": "score", "kind": kind, "text": map[string]string{"en": "How did we do?", "zh-CN": "您对本次服务满意吗？"}},
			{"key": "why", "kind": "text", "text": map[string]string{"en": "Tell us more", "zh-CN": "请告诉我们更多"}},
		}}
	if code := in.do(t, "POST", "/api/v1/surveys", admin, body, &out); code != http.StatusCreated {
		t.Fatalf("create survey: status %d", code)
	}
	return out.ID
}

type feedback struct {
	CSAT, NPS, CES, ResponseRate *float64
	Counts                       map[string]int
}

func (in *instance) feedback(t *testing.T, token, query string) feedback {
	t.Helper()
	var out struct {
		CSAT         *float64       `json:"csat"`
		NPS          *float64       `json:"nps"`
		CES          *float64       `json:"ces"`
		ResponseRate *float64       `json:"response_rate"`
		Counts       map[string]int `json:"counts"`
	}
	if code := in.do(t, "GET", "/api/v1/reports/feedback"+query, token, nil, &out); code != 200 {
		t.Fatalf("feedback report: status %d", code)
	}
	return feedback{out.CSAT, out.NPS, out.CES, out.ResponseRate, out.Counts}
}

func TestSurveyWebchatRatingCardAnsweredOnceWithFrequencyCap(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	srv.createSurvey(t, admin, "csat", 30, "webchat")
	// Definitions are validated: both locales are required.
	if code := srv.do(t, "POST", "/api/v1/surveys", admin, map[string]any{"name": "x", "questions": []map[string]any{
		{"key": "q", "kind": "csat", "text": map[string]string{"en": "How?"}}}}, nil); code != http.StatusBadRequest {
		t.Errorf("survey without zh-CN: status %d; want 400", code)
	}
	if code := srv.do(t, "POST", "/api/v1/surveys", srv.login(t, "agent1@parley.test"), map[string]any{"name": "x"}, nil); code != http.StatusForbidden {
		t.Errorf("agent creating a survey: status %d; want 403", code)
	}

	alice, vw, v, conv := srv.resolvedChat(t, inbox, srv.login(t, "agent1@parley.test"))

	card := vw.expect("survey")
	if qs := card.str("questions"); card.str("conversation_id") != conv || !strings.Contains(qs, `"kind":"csat"`) || !strings.Contains(qs, `"text":"How did we do?"`) {
		t.Fatalf("survey frame %v", card)
	}
	id := card.str("survey_id")
	vw.send(map[string]any{"type": "rating", "survey_id": id, "score": 5, "comment": "Quick and kind"})
	vw.expectWhere("rating_ack", func(f frame) bool { return f.str("survey_id") == id })
	vw.send(map[string]any{"type": "rating", "survey_id": id, "score": 1})
	if f := vw.expect("error"); f.str("code") != "conflict" {
		t.Errorf("second rating: %v; want conflict", f)
	}
	if n := e.count(t, `SELECT count(*) FROM events WHERE type = 'survey.answered' AND conversation_id = $1::bigint
		AND payload = '{"kind": "csat", "score": 5}'::jsonb AND agent_id IS NOT NULL`, conv); n != 1 {
		t.Errorf("%d survey.answered events with payload {kind: csat, score: 5}; want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM survey_answers a JOIN survey_requests r ON r.id = a.request_id
		WHERE r.conversation_id = $1::bigint AND a.question = 'why' AND a.comment = 'Quick and kind'`, conv); n != 1 {
		t.Errorf("comment not recorded as the text answer")
	}

	// The same customer's next resolution within 30 days gets no survey.
	vw.send(map[string]any{"type": "message", "body": "One more thing", "client_msg_id": "m2"})
	vw.expect("ack")
	_, conv2 := acceptNext(t, alice)
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv2})
	alice.expect("resolved")
	vw.quiet("survey", 1500*time.Millisecond)
	if n := e.count(t, `SELECT count(*) FROM survey_requests WHERE customer_id = $1::bigint`, v.customerID); n != 1 {
		t.Errorf("%d survey requests; want 1 (frequency cap)", n)
	}

	sup := srv.login(t, "supervisor@parley.test")
	fb := srv.feedback(t, sup, "?channel=webchat")
	if fb.CSAT == nil || *fb.CSAT != 100 || fb.ResponseRate == nil || *fb.ResponseRate != 100 || fb.Counts["csat_responses"] != 1 {
		t.Errorf("feedback %+v; want CSAT 100 from 1 answer, response rate 100", fb)
	}
	var past struct {
		Items []struct {
			Status  string `json:"status"`
			Answers []struct {
				Kind  string `json:"kind"`
				Score *int   `json:"score"`
			} `json:"answers"`
		} `json:"items"`
	}
	srv.do(t, "GET", "/api/v1/customers/"+v.customerID+"/surveys", admin, nil, &past)
	if len(past.Items) != 1 || past.Items[0].Status != "answered" || len(past.Items[0].Answers) == 0 {
		t.Errorf("customer's past surveys %+v", past)
	}
}

func TestSurveySMSNumberedReplyIsRecordedAndNotRoutedAsNewWork(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "sms", "Billing", nil)
	te.srv.createSurvey(t, te.admin, "nps", 0, "sms", "whatsapp")
	path := "/webhooks/twilio/" + inbox + "/messaging"
	alice := te.available(t, "agent1@parley.test")

	te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "Where is my invoice?"))
	_, conv := acceptNext(t, alice)
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	req, ok := te.fake.WaitFor(10*time.Second, isMessage)
	if !ok {
		t.Fatal("no survey SMS reached Twilio")
	}
	if b := req.Form.Get("Body"); !strings.Contains(b, "How did we do?") || !strings.Contains(b, "Reply 0–10") || req.Form.Get("To") != twCustomer {
		t.Errorf("survey SMS to %q: %q", req.Form.Get("To"), b)
	}

	answer := twiliotest.SMS(twSID, twCustomer, twNumber, "9 great service")
	r := te.post(t, path, answer)
	if r.Status != 200 || !strings.Contains(r.Body, "Thank you") {
		t.Fatalf("answer: %d %s; want 200 with a thank-you", r.Status, r.Body)
	}
	if r := te.post(t, path, answer); r.Status != 200 || strings.Contains(r.Body, "Thank you") {
		t.Errorf("replayed answer: %d %s; want 200 without a second thank-you", r.Status, r.Body)
	}
	alice.quiet("offer", 500*time.Millisecond)
	if n := te.count(t, `SELECT count(*) FROM conversations WHERE inbox_id = $1::bigint`, inbox); n != 1 {
		t.Errorf("%d conversations; want 1 (the answer is no new work)", n)
	}
	if n := te.count(t, `SELECT count(*) FROM survey_answers a JOIN survey_requests r ON r.id = a.request_id
		WHERE r.conversation_id = $1::bigint AND a.kind = 'nps' AND a.score = 9`, conv); n != 1 {
		t.Errorf("NPS 9 not recorded")
	}
	if n := te.count(t, `SELECT count(*) FROM events WHERE type = 'survey.answered' AND payload = '{"kind": "nps", "score": 9}'::jsonb`); n != 1 {
		t.Errorf("%d survey.answered events; want 1", n)
	}
	// The next message is ordinary work again.
	te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "4"))
	alice.expect("offer")
	fb := te.srv.feedback(t, te.admin, "?channel=sms")
	if fb.NPS == nil || *fb.NPS != 100 {
		t.Errorf("feedback %+v; want NPS 100", fb)
	}
}

func TestSurveySMSOtherMessageLapsesTheSurveyAndIsRouted(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "sms", "Billing", nil)
	te.srv.createSurvey(t, te.admin, "csat", 0, "sms")
	path := "/webhooks/twilio/" + inbox + "/messaging"
	alice := te.available(t, "agent1@parley.test")
	te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "Hello"))
	_, conv := acceptNext(t, alice)
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	if _, ok := te.fake.WaitFor(10*time.Second, isMessage); !ok {
		t.Fatal("no survey SMS")
	}
	te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "Actually I have another question"))
	alice.expect("offer")
	if n := te.count(t, `SELECT count(*) FROM survey_requests WHERE conversation_id = $1::bigint AND status = 'lapsed'`, conv); n != 1 {
		t.Errorf("survey not lapsed")
	}
}

var surveyLink = regexp.MustCompile(`/s/([A-Za-z0-9_-]+)\?score=(\d+)`)

// mailText returns the text/plain part of a reply, decoded.
func mailText(t *testing.T, m *mail.Message) string {
	t.Helper()
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			t.Fatalf("no text part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			var r io.Reader = p // multipart decodes quoted-printable itself
			if p.Header.Get("Content-Transfer-Encoding") != "" {
				r = quotedprintable.NewReader(p)
			}
			b, _ := io.ReadAll(r)
			return string(b)
		}
	}
}

func TestSurveyEmailSignedLinkAnsweredOnceRefusedWhenTamperedOrExpired(t *testing.T) {
	e := newEnv(t)
	f := newMailFake(t)
	f.deliver(customerMail("s1@example.com", "Refund", "Where is my refund?"))
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	srv.createSurvey(t, admin, "csat", 0, "email")
	alice := srv.agentWS(t, srv.login(t, "agent1@parley.test"))
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	srv.createEmailInbox(t, admin, f, "Support", mailPassword)
	_, conv := acceptNext(t, alice)
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")

	text := mailText(t, f.nextMail())
	links := surveyLink.FindAllStringSubmatch(text, -1)
	if len(links) != 5 {
		t.Fatalf("survey mail has %d links; want 5:\n%s", len(links), text)
	}
	tok := links[0][1]
	get := func(path string) (int, string) {
		resp, err := http.Get(srv.base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	post := func(token string, form url.Values) (int, string) {
		resp, err := http.PostForm(srv.base+"/s/"+token, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, page := get("/s/" + tok + "?score=4"); code != 200 || !strings.Contains(page, `value="4" required checked`) || !strings.Contains(page, "How did we do?") {
		t.Fatalf("survey page: %d\n%s", code, page)
	}
	// Opening the page records nothing (link scanners open links).
	if n := e.count(t, `SELECT count(*) FROM survey_answers`); n != 0 {
		t.Errorf("GET recorded %d answers", n)
	}
	tampered := []byte(tok)
	tampered[5] ^= 1
	if code, _ := post(string(tampered), url.Values{"score": {"1"}}); code != http.StatusForbidden {
		t.Errorf("tampered token: status %d; want 403", code)
	}
	if code, page := post(tok, url.Values{"score": {"4"}, "comment": {"<b>fine</b>"}}); code != 200 || !strings.Contains(page, "Thank you") {
		t.Fatalf("answer: %d\n%s", code, page)
	}
	if code, _ := post(tok, url.Values{"score": {"1"}}); code != http.StatusConflict {
		t.Errorf("second answer: status %d; want 409", code)
	}
	if n := e.count(t, `SELECT count(*) FROM survey_answers a JOIN survey_requests r ON r.id = a.request_id
		WHERE r.conversation_id = $1::bigint AND a.score = 4`, conv); n != 1 {
		t.Errorf("score 4 not recorded once")
	}
	// An expired link is refused: age the request and sign nothing new.
	e.db.Pool.Exec(t.Context(), `UPDATE survey_requests SET status = 'sent', expires_at = now() - interval '1 minute'`)
	if code, _ := get("/s/" + tok); code != http.StatusConflict && code != http.StatusGone {
		t.Errorf("expired link page: status %d", code)
	}
}
