package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
)

// receiveResolved stores one inbound message from an identity as a resolved
// conversation (so it is not offered) and returns its customer id.
func (e *env) receiveResolved(t *testing.T, db *postgres.DB, in parley.InboxConfig, id parley.Identity, name, body string) int64 {
	t.Helper()
	ctx := context.Background()
	r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: id, Body: body, DedupeKey: body, CustomerName: name}, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Pool.Exec(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = now() WHERE id = $1`, r.Conversation.ID); err != nil {
		t.Fatal(err)
	}
	return r.Conversation.CustomerID
}

// runJS evaluates a JavaScript expression once (waitJS polls, and may
// evaluate more than once).
func runJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`(`+expr+`, true)`)(ctx, tg)
		return err
	})
}

// scrollToCenter scrolls an element to the middle of its scroll box.
func scrollToCenter(sel string) chromedp.Action[chromedp.Void] {
	return runJS(`document.querySelector(` + strconv.Quote(sel) + `).scrollIntoView({block: 'center'})`)
}

func TestConsoleMergesADuplicateAndAddsANoteAfterWidgetPhoneLinksTheCaller(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	db := postgres.New(e.db.Pool, nil)
	// Mei texted from her phone, and wrote from her work email.
	texted := e.receiveResolved(t, db, e.inbox(t, db, parley.ChannelSMS), parley.Identity{Channel: parley.ChannelSMS, Address: "+14155550123"}, "Mei Ling", "sms-1")
	wrote := e.receiveResolved(t, db, e.inbox(t, db, parley.ChannelEmail), parley.Identity{Channel: parley.ChannelEmail, Address: "mei.ling@work.example"}, "Mei  Ling", "email-1")

	admin := srv.login(t, "admin@parley.test")
	srv.do(t, "PUT", "/api/v1/customer-attributes/plan", admin, map[string]any{"label": "Plan", "type": "list", "options": []string{"gold", "silver"}}, nil)
	srv.do(t, "PUT", "/api/v1/customer-attributes/seats", admin, map[string]any{"label": "Seats", "type": "number"}, nil)

	// Mei's browser is in Shanghai and speaks British English.
	agent, customer := newBrowser(t), newBrowser(t, chromedp.Env("TZ=Asia/Shanghai", "LANGUAGE=en_GB", "LANG=en_GB.UTF-8"), chromedp.Flag("lang", "en-GB"), chromedp.Flag("accept-lang", "en-GB"))
	consoleLogin(t, agent, srv.base, "agent1@parley.test",
		chromedp.SetValue(chromedp.ID("presence"), "available"),
		runJS(`document.getElementById('presence').dispatchEvent(new Event('change', {bubbles: true}))`),
	)
	step(t, customer, "start a chat giving her phone number",
		chromedp.Navigate(srv.base+"/demo"),
		chromedp.WaitVisible(chromedp.ID("parley-launcher")),
		chromedp.Click(chromedp.ID("parley-launcher")),
		waitJS(`document.querySelectorAll('#parley-prechat-topic option').length >= 2`),
		chromedp.SendKeys(chromedp.ID("parley-prechat-name"), "Mei Ling"),
		chromedp.SendKeys(chromedp.ID("parley-prechat-phone"), "+1 415 555 0123"),
		chromedp.SetValue(chromedp.ID("parley-prechat-topic"), "billing"),
		chromedp.Click(chromedp.ID("parley-prechat-start")),
		chromedp.WaitVisible(chromedp.ID("parley-input")),
		chromedp.SendKeys(chromedp.ID("parley-input"), "Where is my refund?"),
		chromedp.Click(chromedp.ID("parley-send")),
	)
	step(t, agent, "accept; the panel shows her SMS number and the email customer as a duplicate",
		chromedp.WaitVisible(chromedp.ID("offer-accept")),
		chromedp.Click(chromedp.ID("offer-accept")),
		waitJS(`[...document.querySelectorAll('#customer-body .identity')].some(i => i.textContent.includes('+14155550123'))`),
		waitJS(fmt.Sprintf(`!!document.querySelector('#customer-body .duplicate[data-customer-id="%d"] .duplicate-merge')`, wrote)),
	)
	var chatCustomer int64
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT customer_id FROM conversations WHERE channel = 'webchat'`).Scan(&chatCustomer); err != nil {
		t.Fatal(err)
	}
	if chatCustomer != texted {
		t.Fatalf("the chat belongs to customer %d; want the SMS customer %d (verified by the pre-chat phone)", chatCustomer, texted)
	}
	step(t, agent, "the panel shows her browser's time zone with her local time",
		waitJS(`document.querySelector('#customer-body .customer-tz-name')?.textContent === 'Asia/Shanghai'`),
		waitJS(`/\d/.test(document.querySelector('#customer-body .customer-local-time')?.textContent || '')`),
		waitJS(`document.querySelector('#customer-body .customer-timezone')?.textContent.includes('from the browser')`),
		waitJS(`document.querySelector('#customer-body .customer-region')?.textContent.includes('US')`),
	)
	step(t, agent, "choose her preferred channel and record her SMS opt-out",
		scrollToCenter(`#customer-body .preferred-channel-select`),
		runJS(`(() => { const s = document.querySelector('#customer-body .preferred-channel-select'); s.value = 'sms'; s.dispatchEvent(new Event('change')); })()`),
		waitJS(`document.getElementById('customer-body').customer?.preferred_channel === 'sms'`),
		scrollToCenter(`#customer-body .consent[data-address="+14155550123"] .consent-toggle`),
		chromedp.Click(`#customer-body .consent[data-address="+14155550123"] .consent-toggle`),
		waitJS(`document.querySelector('#customer-body .consent[data-address="+14155550123"]')?.dataset.status === 'opted_out'`),
		waitJS(`document.querySelector('#customer-body .consent[data-address="+14155550123"] .consent-source')?.textContent.includes('recorded by an agent')`),
	)
	var tz, tzSource, browserRegion, browserLang, preferred, consent string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT timezone, timezone_source, browser_region, browser_language, preferred_channel,
		(SELECT status || ' ' || keyword FROM customer_consents WHERE address = '+14155550123') FROM customers WHERE id = $1`, texted).
		Scan(&tz, &tzSource, &browserRegion, &browserLang, &preferred, &consent); err != nil {
		t.Fatal(err)
	}
	if tz != "Asia/Shanghai" || tzSource != "browser" || browserRegion != "GB" || browserLang != "en-GB" || preferred != "sms" || !strings.HasPrefix(consent, "opted_out agent:") {
		t.Errorf("stored time zone %q (%s), browser region %q, language %q, preferred %q, consent %q; want Asia/Shanghai from the browser, GB, en-GB, sms, opted_out by an agent",
			tz, tzSource, browserRegion, browserLang, preferred, consent)
	}
	step(t, agent, "merge the duplicate",
		scrollToCenter(`#customer-body .duplicate-merge`),
		chromedp.Click(fmt.Sprintf(`#customer-body .duplicate[data-customer-id="%d"] .duplicate-merge`, wrote)),
		waitJS(`[...document.querySelectorAll('#customer-body .identity')].some(i => i.textContent.includes('mei.ling@work.example'))`),
		waitJS(`!document.querySelector('#customer-body .duplicate')`),
	)
	step(t, agent, "add a note",
		// (scrolled clear of the toasts in the bottom corner)
		scrollToCenter(`#customer-body .note-form`),
		chromedp.SendKeys(`#customer-body .note-input`, "Refund <i>promised</i> by Friday"),
		chromedp.Click(`#customer-body .note-add`),
		waitJS(`[...document.querySelectorAll('#customer-body .note-body')].some(n => n.textContent === 'Refund <i>promised</i> by Friday')`),
	)
	step(t, agent, "set the lifecycle stage and typed attributes",
		scrollToCenter(`#customer-body .stage-select`),
		// Set and announce the value in one go: the panel may re-render
		// (a frame arrives) between two separate browser actions.
		runJS(`(() => { const s = document.querySelector('#customer-body .stage-select'); s.value = 'at_risk'; s.dispatchEvent(new Event('change')); })()`),
		waitJS(`document.getElementById('customer-body').customer?.lifecycle_stage === 'at_risk' && !!document.querySelector('#customer-body #crm-attr-plan')`),
		scrollToCenter(`#customer-body .attributes-form`),
		chromedp.SetValue(`#crm-attr-plan`, "gold"),
		chromedp.SendKeys(`#crm-attr-seats`, "12"),
		// (submitted like pressing Enter: a click can miss while the slow
		// race-detector build still lays the panel out)
		runJS(`document.querySelector('#customer-body .attributes-form').requestSubmit()`),
		// the panel is drawn again from the saved profile
		waitJS(`document.getElementById('customer-body').customer?.attributes?.seats === '12' && document.querySelector('#crm-attr-plan')?.value === 'gold'`),
	)
	step(t, agent, "open the history",
		scrollToCenter(`#customer-body .customer-history summary`),
		chromedp.Click(`#customer-body .customer-history summary`),
		waitJS(`[...document.querySelectorAll('#customer-body .timeline-lifecycle')].some(i => i.textContent.includes('At risk') && i.textContent.includes('set by hand'))`),
		waitJS(`[...document.querySelectorAll('#customer-body .timeline-note')].some(i => i.textContent.includes('Refund <i>promised</i> by Friday'))`),
	)
	var attrs map[string]string
	var stage string
	if err := e.db.Pool.QueryRow(context.Background(), `SELECT attributes, lifecycle_stage FROM customers WHERE id = $1`, texted).Scan(&attrs, &stage); err != nil {
		t.Fatal(err)
	}
	if attrs["plan"] != "gold" || attrs["seats"] != "12" || stage != "at_risk" {
		t.Errorf("stored attributes %v, stage %s", attrs, stage)
	}
	if n := e.count(t, `SELECT count(*) FROM customer_lifecycle_changes WHERE customer_id = $1 AND reason = 'hand' AND to_stage = 'at_risk'`, texted); n != 1 {
		t.Errorf("%d stage changes recorded; want 1", n)
	}
	if n := value[int](t, agent, `document.querySelectorAll('#customer-body i').length`); n != 0 {
		t.Errorf("the note was rendered as markup (%d <i> elements)", n)
	}
	if n := e.count(t, `SELECT count(*) FROM customers WHERE id = $1 AND merged_into = $2`, wrote, texted); n != 1 {
		t.Errorf("customer %d is not merged into %d", wrote, texted)
	}
	if n := e.count(t, `SELECT count(*) FROM customer_notes WHERE customer_id = $1 AND body = 'Refund <i>promised</i> by Friday'`, texted); n != 1 {
		t.Errorf("%d notes stored; want 1", n)
	}
	if n := e.count(t, `SELECT count(*) FROM conversations WHERE customer_id = $1`, texted); n != 3 {
		t.Errorf("the merged customer has %d conversations; want 3 (SMS, email, chat)", n)
	}

	// The admin's Customers page: attribute definitions, segments and a CSV import.
	boss := newBrowser(t)
	consoleLogin(t, boss, srv.base, "admin@parley.test",
		chromedp.WaitVisible(chromedp.ID("crm-admin-open")),
		chromedp.Click(chromedp.ID("crm-admin-open")),
		waitJS(`!!document.querySelector('#crm-attributes .crm-attribute[data-key="plan"]')`),
	)
	step(t, boss, "define a date attribute",
		chromedp.Click(chromedp.ID("crm-attribute-new")),
		chromedp.SendKeys(chromedp.ID("attribute-key"), "renewal"),
		chromedp.SendKeys(chromedp.ID("attribute-label"), "Renewal"),
		chromedp.SetValue(chromedp.ID("attribute-type"), "date"),
		runJS(`document.querySelector('.attribute-form').requestSubmit()`),
		waitJS(`document.querySelector('#crm-attributes .crm-attribute[data-key="renewal"]')?.textContent.includes('Date')`),
	)
	step(t, boss, "create a segment of gold customers: Mei is its one member",
		chromedp.Click(chromedp.ID("crm-segment-new")),
		chromedp.SendKeys(chromedp.ID("segment-name"), "Gold"),
		chromedp.SendKeys(chromedp.ID("segment-attributes"), "plan=gold"),
		runJS(`document.querySelector('.segment-form').requestSubmit()`),
		waitJS(`[...document.querySelectorAll('#crm-segments .crm-segment')].some(r => r.textContent.includes('Gold') && r.querySelector('.segment-size').textContent === '1')`),
		chromedp.Click(`#crm-segments .segment-members`),
		waitJS(fmt.Sprintf(`!!document.querySelector('#crm-segment-members .segment-member[data-customer-id="%d"]')`, texted)),
		runJS(`fetch(document.querySelector('#crm-segments .segment-export').href).then(r => r.text()).then(x => { window.segmentCSV = x; })`),
		waitJS(`(window.segmentCSV || '').includes('Mei Ling')`),
	)
	step(t, boss, "narrow the segment to loyal customers: it is empty",
		chromedp.Click(`#crm-segments .segment-edit`),
		chromedp.Click(`#segment-stages input[value="loyal"]`),
		runJS(`document.querySelector('.segment-form').requestSubmit()`),
		waitJS(`document.querySelector('#crm-segments .crm-segment .segment-size')?.textContent === '0'`),
	)
	var rows strings.Builder
	rows.WriteString("Full Name,E-mail,Plan\n")
	for i := range 250 {
		plan := "silver"
		switch i {
		case 7:
			plan = "platinum" // not an option
		}
		email := fmt.Sprintf("buyer%d@example.com", i)
		if i == 42 {
			email = "not-an-email"
		}
		fmt.Fprintf(&rows, "Buyer %d,%s,%s\n", i, email, plan)
	}
	file := filepath.Join(t.TempDir(), "customers.csv")
	if err := os.WriteFile(file, []byte(rows.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	step(t, boss, "import 250 rows as a job: progress, then the report with the two bad rows",
		scrollToCenter(`#import-file`),
		chromedp.SetUploadFiles(`#import-file`, []string{file}),
		waitJS(`document.querySelectorAll('#import-mapping .import-target').length === 3`),
		// the columns are mapped by their names
		waitJS(`[...document.querySelectorAll('#import-mapping .import-target')].map(s => s.value).join() === 'name,email,attributes.plan'`),
		runJS(`document.getElementById('import-form').requestSubmit()`),
		waitJS(`!document.getElementById('import-progress').hidden`),
		waitJS(`document.querySelector('#import-report .import-summary')?.dataset.status === 'done'`),
		waitJS(`[...document.querySelectorAll('#import-report .import-error')].map(r => r.dataset.row).join() === '9,44'`),
		waitJS(`document.querySelector('#import-progress .import-status')?.textContent.includes('250 of 250')`),
	)
	if text := value[string](t, boss, `document.getElementById('crm-admin-panel').innerText`); strings.Contains(text, "null") || strings.Contains(text, "undefined") {
		t.Errorf("the Customers page shows null or undefined:\n%s", text)
	}
	if n := e.count(t, `SELECT count(*) FROM customers WHERE email LIKE 'buyer%@example.com' AND attributes->>'plan' = 'silver'`); n != 248 {
		t.Errorf("%d customers imported; want 248", n)
	}
}
