package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parleyhq/parley/channels/twilio/twiliotest"
)

const orderTemplateSid = "HX0123456789abcdef0123456789abcdef"

func whatsAppTemplates() map[string]any {
	return map[string]any{"whatsapp_templates": []map[string]any{{
		"name": "order_update", "content_sid": orderTemplateSid, "language": "en",
		"body": "Hi {{1}}, your order {{2}} has an update. Reply to continue.", "variables": []string{"customer name", "order number"},
	}}}
}

func TestTwilioWhatsAppTemplateIsSentOutsideTheWindow(t *testing.T) {
	te := newTwilioEnv(t)
	// Templates belong to WhatsApp inboxes and are checked.
	bad := map[string]any{"whatsapp_templates": []map[string]any{{"name": "x", "content_sid": "HX12", "body": "Hi {{1}}"}}}
	var errOut struct {
		Error struct{ Fields map[string]string } `json:"error"`
	}
	body := map[string]any{"channel": "whatsapp", "name": "WA", "queue_id": te.queueID(t, "Billing"), "settings": bad,
		"twilio": map[string]string{"account_sid": twSID, "auth_token": twToken, "from": twNumber}}
	if code := te.srv.do(t, "POST", "/api/v1/inboxes", te.admin, body, &errOut); code != http.StatusBadRequest || errOut.Error.Fields["whatsapp_templates"] == "" {
		t.Errorf("bad template: %d %v; want 400 naming whatsapp_templates", code, errOut)
	}
	inbox := te.createInbox(t, "whatsapp", "Billing", whatsAppTemplates())
	alice := te.available(t, "agent1@parley.test")
	aliceTok := te.srv.login(t, "agent1@parley.test")
	te.post(t, "/webhooks/twilio/"+inbox+"/messaging", twiliotest.WhatsApp(twSID, twCustomer, twNumber, "Maria", "Where is order 7731?"))
	_, conv := acceptNext(t, alice)

	type listing struct {
		WindowOpen     bool       `json:"window_open"`
		WindowClosesAt *time.Time `json:"window_closes_at"`
		Items          []struct {
			Name       string   `json:"name"`
			ContentSid string   `json:"content_sid"`
			Variables  []string `json:"variables"`
		} `json:"items"`
	}
	var l listing
	if code := te.srv.do(t, "GET", "/api/v1/conversations/"+conv+"/whatsapp-templates", aliceTok, nil, &l); code != 200 || !l.WindowOpen || len(l.Items) != 1 || l.Items[0].Name != "order_update" ||
		l.Items[0].ContentSid != orderTemplateSid || len(l.Items[0].Variables) != 2 {
		t.Fatalf("templates inside the window: %d %+v", code, l)
	}
	// A day later the window is closed: free text is refused, a template goes.
	te.db.Pool.Exec(context.Background(), `UPDATE messages SET created_at = now() - interval '25 hours' WHERE direction = 'in'`)
	te.srv.do(t, "GET", "/api/v1/conversations/"+conv+"/whatsapp-templates", aliceTok, nil, &l)
	if l.WindowOpen || l.WindowClosesAt == nil || time.Until(*l.WindowClosesAt) > 0 {
		t.Errorf("window after 25 h: %+v; want closed", l)
	}
	var refused struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if code := te.srv.do(t, "POST", "/api/v1/conversations/"+conv+"/messages", aliceTok, map[string]any{"body": "Hello?"}, &refused); code != http.StatusBadRequest || !strings.Contains(refused.Error.Message, "template") {
		t.Errorf("free text outside the window: %d %+v", code, refused)
	}
	// Missing and unknown variables are clear errors.
	var verr struct {
		Error struct{ Fields map[string]string } `json:"error"`
	}
	if code := te.srv.do(t, "POST", "/api/v1/conversations/"+conv+"/template-messages", aliceTok,
		map[string]any{"template": "order_update", "variables": map[string]string{"1": "Maria", "3": "x"}}, &verr); code != http.StatusBadRequest ||
		verr.Error.Fields["2"] != "required" || verr.Error.Fields["3"] == "" {
		t.Errorf("bad variables: %d %+v", code, verr)
	}
	if code := te.srv.do(t, "POST", "/api/v1/conversations/"+conv+"/template-messages", aliceTok, map[string]any{"template": "nope"}, nil); code != http.StatusBadRequest {
		t.Errorf("unknown template: %d", code)
	}

	var m struct {
		ID   string `json:"id"`
		Body string `json:"body"`
	}
	req := map[string]any{"template": "order_update", "variables": map[string]string{"1": "Maria", "2": "7731"}, "client_msg_id": "t1"}
	if code := te.srv.do(t, "POST", "/api/v1/conversations/"+conv+"/template-messages", aliceTok, req, &m); code != http.StatusCreated ||
		m.Body != "Hi Maria, your order 7731 has an update. Reply to continue." {
		t.Fatalf("send template: %d %+v", code, m)
	}
	sent, ok := te.fake.WaitFor(10*time.Second, isMessage)
	if !ok {
		t.Fatal("the template did not reach Twilio")
	}
	var vars map[string]string
	json.Unmarshal([]byte(sent.Form.Get("ContentVariables")), &vars)
	if f := sent.Form; f.Get("ContentSid") != orderTemplateSid || vars["1"] != "Maria" || vars["2"] != "7731" || f.Has("Body") ||
		f.Get("To") != "whatsapp:"+twCustomer || f.Get("From") != "whatsapp:"+twNumber {
		t.Errorf("Twilio got %v", f)
	}
	alice.expectWhere("delivery", func(f frame) bool { return f.str("message_id") == m.ID && f.str("delivery") == "sent" })
	// The same client_msg_id again is the same message, sent once.
	var again struct{ ID string }
	te.srv.do(t, "POST", "/api/v1/conversations/"+conv+"/template-messages", aliceTok, req, &again)
	if again.ID != m.ID {
		t.Errorf("resent template is message %s; want %s", again.ID, m.ID)
	}
	time.Sleep(300 * time.Millisecond)
	if n := countKind(te.fake.Requests(), "message"); n != 1 {
		t.Errorf("Twilio got %d messages; want 1", n)
	}
	// Another agent may not send in Alice's conversation.
	if code := te.srv.do(t, "POST", "/api/v1/conversations/"+conv+"/template-messages", te.srv.login(t, "agent2@parley.test"), req, nil); code != http.StatusNotFound {
		t.Errorf("another agent: %d; want 404", code)
	}
}

func TestConsoleInBrowserSendsAWhatsAppTemplateWhenTheWindowIsClosed(t *testing.T) {
	te := newTwilioEnv(t)
	inbox := te.createInbox(t, "whatsapp", "Billing", whatsAppTemplates())
	agent := newBrowser(t)
	consoleLogin(t, agent, te.srv.base, "agent1@parley.test",
		chromedp.SetValue(chromedp.ID("presence"), "available"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById('presence').dispatchEvent(new Event('change', {bubbles: true}))`)(ctx, tg)
			return err
		}),
	)
	// The customer wrote yesterday: the window is closed when the agent opens it.
	te.post(t, "/webhooks/twilio/"+inbox+"/messaging", twiliotest.WhatsApp(twSID, twCustomer, twNumber, "Maria", "Is <i>7731</i> shipped?"))
	te.db.Pool.Exec(context.Background(), `UPDATE messages SET created_at = now() - interval '25 hours' WHERE direction = 'in'`)
	step(t, agent, "accept the offer and see the template picker",
		chromedp.WaitVisible(chromedp.ID("offer-accept")),
		chromedp.Click(chromedp.ID("offer-accept")),
		chromedp.WaitVisible(chromedp.ID("template-select")),
		waitJS(`document.querySelector('.template-picker').textContent.includes('24-hour window is closed')`),
	)
	step(t, agent, "fill the variables and send",
		chromedp.SendKeys(`.template-fields input[name="1"]`, "Maria"),
		chromedp.SendKeys(`.template-fields input[name="2"]`, "7731"),
		chromedp.Click(`.template-form button[type="submit"]`),
		waitJS(`[...document.querySelectorAll('#thread .message')].some(m => m.textContent.includes('Hi Maria, your order 7731 has an update.'))`),
	)
	sent, ok := te.fake.WaitFor(10*time.Second, isMessage)
	var vars map[string]string
	json.Unmarshal([]byte(sent.Form.Get("ContentVariables")), &vars)
	if !ok || sent.Form.Get("ContentSid") != orderTemplateSid || vars["1"] != "Maria" || vars["2"] != "7731" {
		t.Errorf("Twilio got %v %v", ok, sent.Form)
	}
	if n := value[int](t, agent, `document.querySelectorAll('#thread i').length`); n != 0 {
		t.Errorf("customer HTML rendered as markup (%d <i>)", n)
	}
}
