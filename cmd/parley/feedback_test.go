package main

import (
	"context"
	"github.com/chromedp/chromedp"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// feedbackItem is an item as the API returns it.
type feedbackItem struct {
	ID                     string `json:"id"`
	Kind                   string `json:"kind"`
	Category               string `json:"category"`
	Summary                string `json:"summary"`
	Status                 string `json:"status"`
	Source                 string `json:"source"`
	Keyword                string `json:"keyword"`
	OwnerID                string `json:"owner_id"`
	CustomerID             string `json:"customer_id"`
	ConversationID         string `json:"conversation_id"`
	SurveyRequestID        string `json:"survey_request_id"`
	SurveyKind             string `json:"survey_kind"`
	SurveyScore            *int   `json:"survey_score"`
	DueAt                  string `json:"due_at"`
	Overdue                bool   `json:"overdue"`
	FollowUpQueueID        string `json:"followup_queue_id"`
	FollowUpConversationID string `json:"followup_conversation_id"`
}

func (in *instance) feedbackItems(t *testing.T, token, query string) []feedbackItem {
	t.Helper()
	var out struct {
		Items []feedbackItem `json:"items"`
	}
	if code := in.do(t, "GET", "/api/v1/feedback"+query, token, nil, &out); code != 200 {
		t.Fatalf("list feedback: status %d", code)
	}
	return out.Items
}

// waitFeedback polls the list until ok holds for it.
func (in *instance) waitFeedback(t *testing.T, token, query string, ok func([]feedbackItem) bool) []feedbackItem {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		items := in.feedbackItems(t, token, query)
		if ok(items) {
			return items
		}
		if time.Now().After(deadline) {
			t.Fatalf("feedback items %+v: condition not met within 15s", items)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (in *instance) queueID(t *testing.T, token, name string) string {
	t.Helper()
	var out struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	in.do(t, "GET", "/api/v1/queues", token, nil, &out)
	for _, q := range out.Items {
		if q.Name == name {
			return q.ID
		}
	}
	t.Fatalf("no queue %q", name)
	return ""
}

func (in *instance) patchFeedback(t *testing.T, token, id string, body map[string]any) int {
	t.Helper()
	return in.do(t, "PATCH", "/api/v1/feedback/"+id, token, body, nil)
}

func TestFeedbackDetractorOpensComplaintAndRoutesFollowUpTask(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	srv.createSurvey(t, admin, "nps", 0, "webchat")
	technical := srv.queueID(t, admin, "Technical")
	if code := srv.do(t, "PUT", "/api/v1/feedback/settings", admin, map[string]any{"followup_queues": map[string]string{"complaint": "999999"}}, nil); code != http.StatusBadRequest {
		t.Errorf("follow-up queue that does not exist: status %d; want 400", code)
	}
	if code := srv.do(t, "PUT", "/api/v1/feedback/settings", admin, map[string]any{"followup_queues": map[string]string{"complaint": technical}}, nil); code != 200 {
		t.Fatalf("settings: status %d", code)
	}

	aliceTok := srv.login(t, "agent1@parley.test") // billing 5, no technical skill
	alice, vw, v, conv := srv.resolvedChat(t, inbox, aliceTok)
	card := vw.expect("survey")
	vw.send(map[string]any{"type": "rating", "survey_id": card.str("survey_id"), "score": 3, "comment": "Far too slow"})
	vw.expect("rating_ack")

	// The detractor answer opens a complaint, owned by the agent who
	// handled the conversation, told on their console.
	f := alice.expect("feedback")
	if f.str("item", "kind") != "complaint" || f.str("item", "source") != "survey" {
		t.Errorf("feedback frame %v", f)
	}
	sup := srv.login(t, "supervisor@parley.test")
	items := srv.waitFeedback(t, sup, "", func(it []feedbackItem) bool { return len(it) == 1 && it[0].FollowUpConversationID != "" })
	it := items[0]
	if it.Kind != "complaint" || it.Source != "survey" || it.Status != "open" || it.ConversationID != conv || it.CustomerID != v.customerID ||
		it.SurveyKind != "nps" || it.SurveyScore == nil || *it.SurveyScore != 3 || it.FollowUpQueueID != technical || it.Category != "service" ||
		!strings.Contains(it.Summary, "Far too slow") || it.OwnerID == "" {
		t.Fatalf("item %+v", it)
	}
	due, _ := time.Parse(time.RFC3339, it.DueAt)
	if d := time.Until(due); d < 23*time.Hour || d > 24*time.Hour {
		t.Errorf("due in %v; want 24 h (complaint SLA)", d)
	}

	// The follow-up task is a conversation routed through the Technical
	// queue: an agent with the skill is offered it, with the note.
	chen := srv.agentWS(t, srv.login(t, "agent3@parley.test"))
	chen.send(map[string]any{"type": "presence", "status": "available"})
	offer := chen.expect("offer")
	if offer.str("offer", "conversation", "id") != it.FollowUpConversationID || offer.str("offer", "queue", "id") != technical ||
		offer.str("offer", "conversation", "topic") != "follow-up" || !strings.Contains(offer.str("offer", "conversation", "messages"), "Follow-up task for complaint #"+it.ID) {
		t.Fatalf("offer %v; want the follow-up conversation %s in queue %s", offer, it.FollowUpConversationID, technical)
	}
	chen.send(map[string]any{"type": "accept", "offer_id": offer.str("offer", "id")})
	chen.expect("assigned")

	// The same answer never opens a second item.
	if n := e.count(t, `SELECT count(*) FROM feedback_items`); n != 1 {
		t.Errorf("%d items; want 1", n)
	}

	// Status: open → in_progress → resolved, nothing else.
	mine := srv.feedbackItems(t, aliceTok, "")
	if len(mine) != 1 || mine[0].ID != it.ID {
		t.Fatalf("agent's own items %+v", mine)
	}
	if code := srv.patchFeedback(t, aliceTok, it.ID, map[string]any{"status": "resolved"}); code != http.StatusConflict {
		t.Errorf("open → resolved: status %d; want 409", code)
	}
	if code := srv.patchFeedback(t, aliceTok, it.ID, map[string]any{"status": "closed"}); code != http.StatusBadRequest {
		t.Errorf("unknown status: %d; want 400", code)
	}
	if code := srv.patchFeedback(t, aliceTok, it.ID, map[string]any{"owner_id": "1"}); code != http.StatusForbidden {
		t.Errorf("agent reassigning: status %d; want 403", code)
	}
	if code := srv.patchFeedback(t, aliceTok, it.ID, map[string]any{"status": "in_progress"}); code != 200 {
		t.Errorf("open → in_progress: status %d", code)
	}
	if code := srv.patchFeedback(t, aliceTok, it.ID, map[string]any{"status": "resolved", "resolution": "Called back, refunded the fee"}); code != 200 {
		t.Errorf("in_progress → resolved: status %d", code)
	}
	if code := srv.patchFeedback(t, aliceTok, it.ID, map[string]any{"status": "open"}); code != http.StatusConflict {
		t.Errorf("resolved → open: status %d; want 409", code)
	}
	if n := e.count(t, `SELECT count(*) FROM events WHERE type = 'feedback.updated' AND payload->>'feedback_id' = $1`, it.ID); n != 2 {
		t.Errorf("%d feedback.updated events; want 2", n)
	}

	var rep struct {
		Categories []struct {
			Category, Kind string
			Count          int
		} `json:"categories"`
		Weeks []struct {
			Week      string `json:"week"`
			Complaint int    `json:"complaint"`
			Total     int    `json:"total"`
		} `json:"weeks"`
	}
	if code := srv.do(t, "GET", "/api/v1/reports/feedback-items", sup, nil, &rep); code != 200 {
		t.Fatalf("report: status %d", code)
	}
	if len(rep.Categories) != 1 || rep.Categories[0].Category != "service" || rep.Categories[0].Count != 1 ||
		len(rep.Weeks) != 1 || rep.Weeks[0].Complaint != 1 || rep.Weeks[0].Total != 1 {
		t.Errorf("report %+v", rep)
	}
	if code := srv.do(t, "GET", "/api/v1/reports/feedback-items", aliceTok, nil, nil); code != http.StatusForbidden {
		t.Errorf("agent reading the report: status %d; want 403", code)
	}
}

func TestFeedbackComplaintKeywordAndAgentOpenedItems(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	aliceTok := srv.login(t, "agent1@parley.test")
	alice := srv.agentWS(t, aliceTok)
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")

	v := srv.startVisitor(t, inbox, "", "Wang", "wang@example.com", "billing")
	vw := srv.visitorWS(t, v, "")
	vw.send(map[string]any{"type": "message", "body": "我要投诉，账单错了三次", "client_msg_id": "m1"})
	vw.expect("ack")
	_, conv := acceptNext(t, alice)
	vw.send(map[string]any{"type": "message", "body": "This is a complaint too", "client_msg_id": "m2"})
	vw.expect("ack")

	sup := srv.login(t, "supervisor@parley.test")
	items := srv.waitFeedback(t, sup, "?source=keyword", func(it []feedbackItem) bool { return len(it) > 0 })
	it := items[0]
	if it.Kind != "complaint" || it.Keyword != "投诉" || it.ConversationID != conv || it.Summary != "我要投诉，账单错了三次" || it.FollowUpQueueID != "" {
		t.Errorf("keyword item %+v", it)
	}
	time.Sleep(700 * time.Millisecond) // the second message has been read by the runner by now
	if n := len(srv.feedbackItems(t, sup, "?source=keyword")); n != 1 {
		t.Errorf("%d keyword items; want 1 per conversation", n)
	}

	// An agent logs praise on their conversation; bad input is refused.
	var praise feedbackItem
	body := map[string]any{"kind": "praise", "category": "service", "summary": "Loved the quick fix", "conversation_id": conv}
	if code := srv.do(t, "POST", "/api/v1/feedback", aliceTok, body, &praise); code != http.StatusCreated {
		t.Fatalf("open praise: status %d", code)
	}
	if praise.Source != "agent" || praise.OwnerID == "" || praise.CustomerID != v.customerID || praise.FollowUpConversationID != "" {
		t.Errorf("praise %+v", praise)
	}
	if code := srv.do(t, "POST", "/api/v1/feedback", aliceTok, map[string]any{"kind": "rant", "category": "weather", "conversation_id": conv}, nil); code != http.StatusBadRequest {
		t.Errorf("bad kind and category: status %d; want 400", code)
	}
	// A follow-up queue that does not take the chat's media is refused,
	// on the item and in the settings (no inbox's media is voice).
	var callbacks struct {
		ID string `json:"id"`
	}
	if code := srv.do(t, "POST", "/api/v1/queues", admin, map[string]any{"name": "Callbacks", "media": []string{"voice"}}, &callbacks); code != http.StatusCreated {
		t.Fatalf("create voice queue: status %d", code)
	}
	var refused struct {
		Error struct {
			Code   string            `json:"code"`
			Fields map[string]string `json:"fields"`
		} `json:"error"`
	}
	withVoice := map[string]any{"kind": "complaint", "category": "service", "conversation_id": conv, "followup_queue_id": callbacks.ID}
	if code := srv.do(t, "POST", "/api/v1/feedback", aliceTok, withVoice, &refused); code != http.StatusUnprocessableEntity ||
		refused.Error.Code != "unprocessable" || !strings.Contains(refused.Error.Fields["followup_queue_id"], "does not serve chat") {
		t.Errorf("follow-up in a voice queue for a chat: status %d %+v; want 422 naming followup_queue_id", code, refused.Error)
	}
	if code := srv.do(t, "PUT", "/api/v1/feedback/settings", admin, map[string]any{"followup_queues": map[string]string{"complaint": callbacks.ID}}, &refused); code != http.StatusUnprocessableEntity ||
		refused.Error.Fields["followup_queues.complaint"] == "" {
		t.Errorf("voice follow-up queue in the settings: status %d %+v; want 422", code, refused.Error)
	}
	bob := srv.login(t, "agent2@parley.test")
	if code := srv.do(t, "POST", "/api/v1/feedback", bob, body, nil); code != http.StatusBadRequest {
		t.Errorf("feedback on someone else's conversation: status %d; want 400", code)
	}
	if code := srv.do(t, "GET", "/api/v1/feedback/"+praise.ID, bob, nil, nil); code != http.StatusNotFound {
		t.Errorf("another agent's item: status %d; want 404", code)
	}
	if n := len(srv.feedbackItems(t, bob, "")); n != 0 {
		t.Errorf("bob sees %d items; want 0", n)
	}
	// A suggestion with an explicit follow-up queue: the customer's chat
	// is still open, so the task waits until it is resolved.
	general := srv.queueID(t, admin, "General")
	var sug feedbackItem
	if code := srv.do(t, "POST", "/api/v1/feedback", aliceTok, map[string]any{"kind": "suggestion", "category": "website",
		"conversation_id": conv, "followup_queue_id": general}, &sug); code != http.StatusCreated {
		t.Fatalf("open suggestion: status %d", code)
	}
	if sug.FollowUpQueueID != general || sug.FollowUpConversationID != "" {
		t.Errorf("suggestion %+v; want a pending follow-up", sug)
	}
	alice.send(map[string]any{"type": "resolve", "conversation_id": conv})
	alice.expect("resolved")
	offer := alice.expect("offer")
	got := srv.waitFeedback(t, sup, "?kind=suggestion", func(it []feedbackItem) bool { return len(it) == 1 && it[0].FollowUpConversationID != "" })
	if offer.str("offer", "conversation", "id") != got[0].FollowUpConversationID {
		t.Errorf("offer for %s; want the follow-up %s", offer.str("offer", "conversation", "id"), got[0].FollowUpConversationID)
	}

	// Overdue items are marked and filtered.
	e.db.Pool.Exec(t.Context(), `UPDATE feedback_items SET due_at = now() - interval '1 minute' WHERE id = $1::bigint`, it.ID)
	late := srv.feedbackItems(t, sup, "?overdue=true")
	if len(late) != 1 || late[0].ID != it.ID || !late[0].Overdue {
		t.Errorf("overdue items %+v; want only %s", late, it.ID)
	}
}

// loginConsole signs in to the console in browser b.
func loginConsole(t *testing.T, b context.Context, base, email string) {
	t.Helper()
	step(t, b, "log in as "+email,
		chromedp.Navigate(base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), email),
		chromedp.SendKeys(chromedp.ID("login-password"), DemoPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("presence")),
	)
}

// openFromQualityMenu opens the header's Quality menu and clicks its entry id.
func openFromQualityMenu(id string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		return chromedp.Do(ctx, chromedp.Click(`#quality-menu summary`), chromedp.WaitVisible(chromedp.ID(id)), chromedp.Click(chromedp.ID(id)))
	})
}

func TestFeedbackConsoleLogsItemOnConversationAndSupervisorWorksTheList(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	b := newBrowser(t)
	loginConsole(t, b, srv.base, "agent1@parley.test")
	step(t, b, "go available",
		chromedp.SetValue(chromedp.ID("presence"), "available"),
		runJS(`document.getElementById('presence').dispatchEvent(new Event('change', {bubbles: true}))`),
	)
	v := srv.startVisitor(t, inbox, "", "Mei", "mei@example.com", "billing")
	vw := srv.visitorWS(t, v, "")
	vw.send(map[string]any{"type": "message", "body": "Could the site have a dark mode?", "client_msg_id": "m1"})
	vw.expect("ack")
	step(t, b, "accept the offer and log a suggestion",
		chromedp.WaitVisible(chromedp.ID("offer-accept")),
		chromedp.Click(chromedp.ID("offer-accept")),
		waitJS(`[...document.querySelectorAll('#thread .message')].some(m => m.textContent.includes('dark mode'))`),
		chromedp.WaitVisible(chromedp.ID("feedback-log")),
		chromedp.Click(chromedp.ID("feedback-log")),
		chromedp.WaitVisible(chromedp.ID("feedback-kind")),
		chromedp.SetValue(chromedp.ID("feedback-kind"), "suggestion"),
		chromedp.SetValue(chromedp.ID("feedback-category"), "website"),
		chromedp.SendKeys(chromedp.ID("feedback-summary"), "<i>Dark mode</i> for the help site"),
		chromedp.SetValue(chromedp.ID("feedback-queue"), ""),
		chromedp.Click(chromedp.ID("feedback-submit")),
		waitJS(`[...document.querySelectorAll('#feedback-list tr')].some(r => r.textContent.includes('<i>Dark mode</i> for the help site'))`),
	)
	var id string
	e.db.Pool.QueryRow(t.Context(), `SELECT id::text FROM feedback_items WHERE kind = 'suggestion' AND category = 'website' AND source = 'agent'`).Scan(&id)
	if id == "" {
		t.Fatal("the console's form stored no suggestion")
	}
	if n := value[int](t, b, `document.querySelectorAll('#feedback-list i').length`); n != 0 {
		t.Errorf("summary rendered as markup (%d <i> elements)", n)
	}
	e.db.Pool.Exec(t.Context(), `UPDATE feedback_items SET due_at = now() - interval '1 hour' WHERE id = $1::bigint`, id)

	step(t, b, "sign out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-email")))
	loginConsole(t, b, srv.base, "supervisor@parley.test")
	row := `document.querySelector('#feedback-list tr[data-feedback-id="` + id + `"]')`
	step(t, b, "open the feedback page: the item is overdue",
		openFromQualityMenu("feedback-open"),
		waitJS(row+` !== null && `+row+`.dataset.overdue === 'true' && `+row+`.querySelector('.feedback-overdue-badge') !== null`),
		// The report: the category with its one overdue item, and this week.
		waitJS(`[...document.querySelectorAll('#feedback-report tr')].some(r => r.textContent === 'WebsiteSuggestion111')`),
	)
	step(t, b, "take it in progress",
		runJS(`(() => { const s = `+row+`.querySelector('.feedback-status-select'); s.value = 'in_progress'; return s.dispatchEvent(new Event('change')); })()`),
		waitJS(`(() => { const r = `+row+`; return r !== null && r.querySelector('.feedback-status-select option[value="resolved"]') !== null; })()`), // re-rendered after the save
	)
	if n := e.count(t, `SELECT count(*) FROM feedback_items WHERE id = $1::bigint AND status = 'in_progress'`, id); n != 1 {
		t.Error("status not saved as in_progress")
	}
	if dir := os.Getenv("PARLEY_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(b, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(dir, "feedback.png"), png, 0o644)
		}
	}
}

func TestFeedbackSettingsConsoleSavesKeywordsAndFollowUpQueue(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	general := srv.queueID(t, admin, "General")
	b := newBrowser(t)
	loginConsole(t, b, srv.base, "admin@parley.test")
	step(t, b, "change the rules",
		openFromQualityMenu("feedback-open"),
		chromedp.WaitVisible(chromedp.ID("feedback-keywords-zh")),
		chromedp.SendKeys(chromedp.ID("feedback-keywords-zh"), "\n坑人"),
		runJS(`(() => { document.getElementById('feedback-queue-complaint').value = '`+general+`'; document.getElementById('feedback-sla-complaint').value = '8'; return true; })()`),
		chromedp.Click(chromedp.ID("feedback-settings-save")),
		waitJS(`document.getElementById('feedback-status').dataset.state === 'ok'`),
	)
	var st struct {
		SLA      map[string]int                      `json:"sla_hours"`
		Queues   map[string]string                   `json:"followup_queues"`
		Keywords struct{ Words map[string][]string } `json:"keywords"`
	}
	if code := srv.do(t, "GET", "/api/v1/feedback/settings", admin, nil, &st); code != 200 {
		t.Fatalf("settings: status %d", code)
	}
	zh := st.Keywords.Words["zh-CN"]
	if st.SLA["complaint"] != 8 || st.Queues["complaint"] != general || len(zh) == 0 || zh[len(zh)-1] != "坑人" || len(st.Keywords.Words["en"]) == 0 {
		t.Errorf("saved settings %+v", st)
	}
	// Agents and supervisors do not see the editor.
	if code := srv.do(t, "PUT", "/api/v1/feedback/settings", srv.login(t, "supervisor@parley.test"), map[string]any{}, nil); code != http.StatusForbidden {
		t.Errorf("supervisor saving settings: status %d; want 403", code)
	}
}
