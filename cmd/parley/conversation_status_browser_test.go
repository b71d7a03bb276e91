package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestConsoleInBrowserSetsPendingTagsAndReopens(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	if code := srv.do(t, "POST", "/api/v1/sla/policies", admin, map[string]any{"name": "chat",
		"targets": map[string]any{"first_response_s": 600, "resolution_s": 3600}}, nil); code != 201 {
		t.Fatalf("create policy: status %d", code)
	}
	agent := newBrowser(t)
	step(t, agent, "log in and go available",
		chromedp.Navigate(srv.base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), "agent1@parley.test"),
		chromedp.SendKeys(chromedp.ID("login-password"), DemoPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("presence")),
		chromedp.SetValue(chromedp.ID("presence"), "available"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById('presence').dispatchEvent(new Event('change', {bubbles: true}))`)(ctx, tg)
			return err
		}),
	)
	v := srv.startVisitor(t, inbox, "", "Mei Lin", "mei@example.com", "billing")
	cust := srv.visitorWS(t, v, "")
	cust.send(map[string]any{"type": "message", "body": "<b>Hello?</b>", "client_msg_id": "m1"})
	step(t, agent, "accept; the tools show",
		chromedp.WaitVisible(chromedp.ID("offer-accept")),
		chromedp.Click(chromedp.ID("offer-accept")),
		chromedp.WaitVisible(chromedp.ID("cs-pending")),
	)
	step(t, agent, "pending: the chip, the list badge and the paused SLA clock",
		chromedp.Click(chromedp.ID("cs-pending")),
		waitJS(`!!document.querySelector('#sub-status.sub-status-pending')`),
		waitJS(`!!document.querySelector('.conversation-item .sub-status-pending')`),
		waitJS(`!!document.querySelector('.conversation-item .sla-badge.sla-paused') || /paused/i.test((document.querySelector('.conversation-item .sla-badge')||{}).textContent||'')`),
	)
	step(t, agent, "tags: add two with Enter and the button, remove one",
		chromedp.SendKeys(chromedp.ID("cs-tag-input"), "VIP\r"),
		waitJS(`!!document.querySelector('#cs-tags [data-tag="vip"]')`),
		chromedp.SendKeys(chromedp.ID("cs-tag-input"), "<i>x</i>"),
		chromedp.Click(chromedp.ID("cs-tag-add")),
		waitJS(`document.querySelector('.toast-error') !== null`), // refused, shown as text
		chromedp.SetValue(chromedp.ID("cs-tag-input"), "refund"),
		chromedp.Click(chromedp.ID("cs-tag-add")),
		waitJS(`document.querySelectorAll('#cs-tags .tag-chip').length === 2`),
		chromedp.Click(`#cs-tags [data-tag="refund"] .tag-remove`),
		waitJS(`document.querySelectorAll('#cs-tags .tag-chip').length === 1`),
	)
	if dir := os.Getenv("PARLEY_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(agent, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(dir, "conversation-tools.png"), png, 0o644)
		}
	}
	cust.send(map[string]any{"type": "message", "body": "Still there?", "client_msg_id": "m2"})
	step(t, agent, "the customer writes: open again",
		waitJS(`!document.querySelector('#sub-status')`),
		waitJS(`!!document.getElementById('cs-pending')`),
	)
	step(t, agent, "resolve, then reopen: offered back",
		chromedp.Click(chromedp.ID("resolve")),
		chromedp.WaitVisible(chromedp.ID("cs-reopen")),
		chromedp.Click(chromedp.ID("cs-reopen")),
		chromedp.WaitVisible(chromedp.ID("offer-accept")),
		chromedp.Click(chromedp.ID("offer-accept")),
		chromedp.WaitVisible(chromedp.ID("cs-pending")),
		waitJS(`!document.getElementById('resolve').disabled`),
	)
}
