package main

import (
	"github.com/chromedp/chromedp"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/channels/twilio/twiliotest"
)

// createThreeQuestionSurvey defines CSAT, then NPS, then a text question.
func (in *instance) createThreeQuestionSurvey(t *testing.T, admin string, channels ...string) {
	t.Helper()
	body := map[string]any{"name": "Three questions", "channels": channels,
		"questions": []map[string]any{
			{"key": "csat", "kind": "csat", "text": map[string]string{"en": "How did we do?", "zh-CN": "您对本次服务满意吗？"}},
			{"key": "nps", "kind": "nps", "text": map[string]string{"en": "Would you recommend us?", "zh-CN": "您会推荐我们吗？"}},
			{"key": "why", "kind": "text", "text": map[string]string{"en": "What could we do better?", "zh-CN": "我们还能做得更好吗？"}},
		}}
	if code := in.do(t, "POST", "/api/v1/surveys", admin, body, nil); code != http.StatusCreated {
		t.Fatalf("create survey: status %d", code)
	}
}

// answersOf returns question=score|comment of a conversation's answers, in order.
func (e *env) answersOf(t *testing.T, conv string) string {
	t.Helper()
	var s string
	e.db.Pool.QueryRow(t.Context(), `SELECT COALESCE(string_agg(a.question || '=' || COALESCE(a.score::text, a.comment), ',' ORDER BY a.answered_at, a.question), '')
		FROM survey_answers a JOIN survey_requests r ON r.id = a.request_id WHERE r.conversation_id = $1::bigint`, conv).Scan(&s)
	return s
}

// resolvedChat has agent1 (signed in with token) take a billing chat from
// a new visitor Mei and resolve it: the chat a survey follows.
func (in *instance) resolvedChat(t *testing.T, inbox, token string) (alice, vw *ws, v visitor, conv string) {
	t.Helper()
	alice = in.agentWS(t, token)
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	v = in.startVisitor(t, inbox, "", "Mei", "mei@example.com", "billing")
	vw = in.visitorWS(t, v, "")
	vw.send(map[string]any{"type": "message", "body": "Invoice?", "client_msg_id": "m1"})
	vw.expect("ack")
	_, conv = acceptNext(t, alice)
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	return alice, vw, v, conv
}

func TestSurveyWebchatCardAsksEveryQuestionInOrder(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	srv.createThreeQuestionSurvey(t, admin, "webchat")
	_, vw, _, conv := srv.resolvedChat(t, inbox, srv.login(t, "agent1@parley.test"))
	card := vw.expect("survey")
	id := card.str("survey_id")
	if qs := card.str("questions"); !strings.Contains(qs, `"key":"nps"`) || !strings.Contains(qs, `"key":"why"`) {
		t.Fatalf("survey frame lacks the later questions: %s", qs)
	}
	// A later question cannot come first.
	vw.send(map[string]any{"type": "rating", "survey_id": id, "question": "nps", "score": 9})
	if f := vw.expect("error"); f.str("code") != "invalid" {
		t.Errorf("NPS before CSAT: %v; want invalid", f)
	}
	vw.send(map[string]any{"type": "rating", "survey_id": id, "score": 4})
	vw.expectWhere("rating_ack", func(f frame) bool { return f.str("question") == "" })
	vw.send(map[string]any{"type": "rating", "survey_id": id, "question": "nps", "score": 9})
	vw.expectWhere("rating_ack", func(f frame) bool { return f.str("question") == "nps" })
	vw.send(map[string]any{"type": "rating", "survey_id": id, "question": "why", "comment": "Answer on weekends"})
	vw.expectWhere("rating_ack", func(f frame) bool { return f.str("question") == "why" })
	vw.send(map[string]any{"type": "rating", "survey_id": id, "question": "nps", "score": 1})
	if f := vw.expect("error"); f.str("code") != "conflict" {
		t.Errorf("NPS answered twice: %v; want conflict", f)
	}
	if got := e.answersOf(t, conv); got != "csat=4,nps=9,why=Answer on weekends" {
		t.Errorf("answers %q", got)
	}
	if n := e.count(t, `SELECT count(*) FROM events WHERE type = 'survey.answered' AND conversation_id = $1::bigint`, conv); n != 2 {
		t.Errorf("%d survey.answered events; want 2 (CSAT and NPS)", n)
	}
}

func TestSurveySMSAsksTheNextNumberedQuestionWithinTheWindow(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "sms", "Billing", nil)
	te.srv.createThreeQuestionSurvey(t, te.admin, "sms")
	path := "/webhooks/twilio/" + inbox + "/messaging"
	alice := te.available(t, "agent1@parley.test")
	te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "Where is my invoice?"))
	_, conv := acceptNext(t, alice)
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	if req, ok := te.fake.WaitFor(10*time.Second, isMessage); !ok || !strings.Contains(req.Form.Get("Body"), "Reply 1–5") {
		t.Fatalf("first question SMS: %v %q", ok, req.Form.Get("Body"))
	}
	// Each scored answer is answered with the next question, in the
	// webhook's TwiML: no thank-you in between, no separate message.
	if r := te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "5")); r.Status != 200 || !strings.Contains(r.Body, "Would you recommend us?") ||
		!strings.Contains(r.Body, "Reply 0–10") || strings.Contains(r.Body, "Thank you") {
		t.Fatalf("CSAT answer: %d %s", r.Status, r.Body)
	}
	if r := te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "8")); !strings.Contains(r.Body, "What could we do better?") {
		t.Fatalf("NPS answer: %s", r.Body)
	}
	if n := countKind(te.fake.Requests(), "message"); n != 1 {
		t.Errorf("%d messages sent through the API; want 1 (the first question)", n)
	}
	if n := te.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1::bigint AND direction = 'out' AND delivery = 'sent'
		AND body LIKE 'What could we do better?%'`, conv); n != 1 {
		t.Errorf("%d stored third-question messages; want 1 (sent in the TwiML)", n)
	}
	if r := te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "Faster refunds please")); !strings.Contains(r.Body, "Thank you") {
		t.Errorf("last answer: %s", r.Body)
	}
	alice.quiet("offer", 500*time.Millisecond)
	if got := te.answersOf(t, conv); got != "csat=5,nps=8,why=Faster refunds please" {
		t.Errorf("answers %q", got)
	}
	if n := te.count(t, `SELECT count(*) FROM conversations WHERE inbox_id = $1::bigint`, inbox); n != 1 {
		t.Errorf("%d conversations; want 1 (answers are no new work)", n)
	}
	// Everything is answered: the next message is work again.
	te.post(t, path, twiliotest.SMS(twSID, twCustomer, twNumber, "7"))
	alice.expect("offer")
}

func TestSurveyEmailPageShowsEveryQuestion(t *testing.T) {
	e := newEnv(t)
	f := newMailFake(t)
	f.deliver(customerMail("s1@example.com", "Refund", "Where is my refund?"))
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	srv.createThreeQuestionSurvey(t, admin, "email")
	alice := srv.agentWS(t, srv.login(t, "agent1@parley.test"))
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	srv.createEmailInbox(t, admin, f, "Support", mailPassword)
	_, conv := acceptNext(t, alice)
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	links := surveyLink.FindAllStringSubmatch(mailText(t, f.nextMail()), -1)
	if len(links) != 5 {
		t.Fatalf("%d links; want 5", len(links))
	}
	tok := links[0][1]
	resp, err := http.Get(srv.base + "/s/" + tok + "?score=5")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"How did we do?", `name="score" value="5" required checked`, "Would you recommend us?", `name="q_nps" value="10"`,
		"What could we do better?", `name="q_why"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	resp, err = http.PostForm(srv.base+"/s/"+tok, url.Values{"score": {"5"}, "q_nps": {"10"}, "q_why": {"<b>Nothing</b>"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("answer: status %d", resp.StatusCode)
	}
	if got := e.answersOf(t, conv); got != "csat=5,nps=10,why=<b>Nothing</b>" {
		t.Errorf("answers %q", got)
	}
}

func TestSurveyDefinitionsConsoleCreatesAndEditsASurvey(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	general := srv.queueID(t, admin, "General")
	vip := srv.createSegment(t, admin, "VIP", "vip")
	b := newBrowser(t)
	loginConsole(t, b, srv.base, "admin@parley.test")
	set := func(sel, v string) chromedp.Action[chromedp.Void] {
		return runJS(`(() => { const x = document.querySelector(` + "`" + sel + "`" + `); x.value = ` + "`" + v + "`" + `; x.dispatchEvent(new Event('change')); return true; })()`)
	}
	step(t, b, "open the survey definitions and start a new one",
		openFromQualityMenu("surveys-open"),
		chromedp.WaitVisible(chromedp.ID("surveys-new")),
		chromedp.Click(chromedp.ID("surveys-new")),
		chromedp.WaitVisible(chromedp.ID("survey-name")),
		chromedp.SendKeys(chromedp.ID("survey-name"), "After chats"),
		chromedp.Click(`#survey-channels input[value="webchat"]`),
		chromedp.Click(`#survey-queues input[value="`+general+`"]`),
		chromedp.Click(`#survey-segments input[value="`+vip+`"]`),
		set("#survey-delay", "30"),
		set("#survey-cap", "14"),
		chromedp.SendKeys(chromedp.ID("survey-intro-en"), "Thanks for chatting!"),
		chromedp.SendKeys(chromedp.ID("survey-intro-zh-CN"), "感谢您的咨询！"),
		chromedp.SendKeys(`#survey-questions li:nth-child(1) .survey-q-text-en`, "How did we do?"),
		chromedp.Click(chromedp.ID("survey-add-question")),
		chromedp.SendKeys(`#survey-questions li:nth-child(2) .survey-q-key`, "why"),
		chromedp.SendKeys(`#survey-questions li:nth-child(2) .survey-q-text-en`, "Tell us more"),
		chromedp.SendKeys(`#survey-questions li:nth-child(2) .survey-q-text-zh-CN`, "请告诉我们更多"),
		chromedp.Click(chromedp.ID("survey-save")),
		// The first question has no Chinese text: refused, field named.
		waitJS(`document.getElementById('surveys-status').textContent.includes('questions[0].text')`),
	)
	step(t, b, "add the Chinese text and save",
		chromedp.SendKeys(`#survey-questions li:nth-child(1) .survey-q-text-zh-CN`, "您对本次服务满意吗？"),
		set(`#survey-questions li:nth-child(2) .survey-q-key`, "why"),
		chromedp.Click(chromedp.ID("survey-save")),
		waitJS(`[...document.querySelectorAll('#surveys-list tr')].some(r => r.textContent.includes('After chats') && r.textContent.includes('General')
			&& r.textContent.includes('VIP') && r.textContent.includes('30 min after resolution'))`),
	)
	var channels, queues, segments, intro, questions string
	var capDays, delay int
	row := e.db.Pool.QueryRow(t.Context(), `SELECT array_to_string(channels, ','), array_to_string(queue_ids, ','), array_to_string(segment_ids, ','), delay_s,
		cap_days, intro::text, questions::text FROM surveys WHERE name = 'After chats'`)
	if err := row.Scan(&channels, &queues, &segments, &delay, &capDays, &intro, &questions); err != nil {
		t.Fatalf("survey not stored: %v", err)
	}
	if segments != vip || delay != 1800 {
		t.Errorf("stored survey: segments %q delay %d s; want %s and 1800", segments, delay, vip)
	}
	if channels != "webchat" || queues != general || capDays != 14 || !strings.Contains(intro, "感谢您的咨询！") ||
		!strings.Contains(questions, `"key": "why"`) || !strings.Contains(questions, "您对本次服务满意吗？") {
		t.Errorf("stored survey: channels %q queues %q cap %d intro %s questions %s", channels, queues, capDays, intro, questions)
	}
	step(t, b, "edit it: NPS first, cap 7",
		chromedp.Click(`#surveys-list tr .survey-edit`),
		chromedp.WaitVisible(chromedp.ID("survey-name")),
		waitJS(`document.getElementById('survey-cap').value === '14' && document.getElementById('survey-delay').value === '30'
			&& document.querySelector('#survey-segments input[value="`+vip+`"]').checked`),
		set("#survey-cap", "7"),
		set("#survey-delay", "0"),
		set(`#survey-questions li:nth-child(1) .survey-q-kind`, "nps"),
		chromedp.Click(chromedp.ID("survey-save")),
		waitJS(`[...document.querySelectorAll('#surveys-list tr')].some(r => r.textContent.includes('NPS 0–10 → Text'))`),
	)
	if n := e.count(t, `SELECT count(*) FROM surveys WHERE name = 'After chats' AND cap_days = 7 AND delay_s = 0 AND questions->0->>'kind' = 'nps'`); n != 1 {
		t.Error("edit not stored")
	}
}

func TestSurveyWidgetCardWalksThroughEveryQuestionInBrowser(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	srv.createThreeQuestionSurvey(t, admin, "webchat")
	alice := srv.agentWS(t, srv.login(t, "agent1@parley.test"))
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	customer := newBrowser(t)
	step(t, customer, "start a chat in the widget",
		chromedp.Navigate(srv.base+"/demo"),
		chromedp.WaitVisible(chromedp.ID("parley-launcher")),
		chromedp.Click(chromedp.ID("parley-launcher")),
		waitJS(`document.querySelectorAll('#parley-prechat-topic option').length >= 2`),
		chromedp.SendKeys(chromedp.ID("parley-prechat-name"), "Mei Lin"),
		chromedp.SendKeys(chromedp.ID("parley-prechat-email"), "mei@example.com"),
		chromedp.SetValue(chromedp.ID("parley-prechat-topic"), "billing"),
		chromedp.Click(chromedp.ID("parley-prechat-start")),
		chromedp.WaitVisible(chromedp.ID("parley-input")),
		chromedp.SendKeys(chromedp.ID("parley-input"), "Two charges on my invoice"),
		chromedp.Click(chromedp.ID("parley-send")),
	)
	_, conv := acceptNext(t, alice)
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	card := `document.querySelector('.parley-rating')`
	step(t, customer, "answer the CSAT question",
		waitJS(card+` !== null && `+card+`.dataset.question === 'csat'`),
		runJS(`[...document.querySelectorAll('.parley-rating .parley-score')].find(b => b.textContent === '4').click()`),
		chromedp.Click(`.parley-rating .parley-rating-send`),
	)
	step(t, customer, "answer the NPS question",
		waitJS(card+` !== null && `+card+`.dataset.question === 'nps' && `+card+`.querySelectorAll('.parley-score').length === 11`),
		runJS(`[...document.querySelectorAll('.parley-rating .parley-score')].find(b => b.textContent === '9').click()`),
		chromedp.Click(`.parley-rating .parley-rating-send`),
	)
	step(t, customer, "answer the text question",
		waitJS(card+` !== null && `+card+`.dataset.question === 'why'`),
		chromedp.SendKeys(`.parley-rating .parley-rating-comment`, "Explain fees up front"),
		chromedp.Click(`.parley-rating .parley-rating-send`),
		waitJS(`document.querySelector('.parley-rating') === null && document.body.textContent.includes('Thank you for your feedback!')`),
	)
	if got := e.answersOf(t, conv); got != "csat=4,nps=9,why=Explain fees up front" {
		t.Errorf("answers %q", got)
	}
}
