package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestInboxesPanelInBrowserSetsTheReopenWindow: an admin sets a web-chat
// inbox's reopen window in minutes from the inboxes panel; the API stores
// it in seconds (other settings untouched); an out-of-range value is
// refused in the form; voice inboxes have no field.
func TestInboxesPanelInBrowserSetsTheReopenWindow(t *testing.T) {
	srv := newEnv(t).start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	var before struct {
		Settings map[string]any `json:"settings"`
	}
	srv.do(t, "GET", "/api/v1/inboxes/"+inbox, admin, nil, &before)
	b := newBrowser(t)
	consoleLogin(t, b, srv.base, "admin@parley.test", chromedp.WaitVisible(chromedp.ID("inboxes-open")))
	field := "#inbox-reopen-" + inbox
	row := `#inboxes-list tr[data-inbox-id="` + inbox + `"]`
	step(t, b, "open the inboxes panel",
		chromedp.Click(chromedp.ID("inboxes-open")),
		chromedp.WaitVisible(field),
		waitJS(`document.querySelector('`+field+`').value === '0'`),
	)
	step(t, b, "an out-of-range window is refused in the form",
		chromedp.SetValue(field, "50000"),
		chromedp.Click(row+` .inbox-reopen-save`),
		waitJS(`document.querySelector('`+row+` .inbox-reopen-note').dataset.state === 'error'`),
	)
	step(t, b, "ten minutes, saved",
		chromedp.SetValue(field, "10"),
		chromedp.Click(row+` .inbox-reopen-save`),
		waitJS(`document.querySelector('`+row+` .inbox-reopen-note').dataset.state === 'saved'`),
	)
	var after struct {
		Settings map[string]any `json:"settings"`
	}
	srv.do(t, "GET", "/api/v1/inboxes/"+inbox, admin, nil, &after)
	if got := after.Settings["reopen_window_s"]; got != 600.0 {
		t.Errorf("reopen_window_s after saving 10 minutes: %v; want 600", got)
	}
	for k, v := range before.Settings {
		if k != "reopen_window_s" && fmt.Sprint(after.Settings[k]) != fmt.Sprint(v) {
			t.Errorf("setting %s changed: %v; was %v", k, after.Settings[k], v)
		}
	}
	step(t, b, "reopened, the panel shows the stored window",
		chromedp.Click(chromedp.ID("inboxes-close")),
		chromedp.Click(chromedp.ID("inboxes-open")),
		waitJS(`document.querySelector('`+field+`').value === '10'`),
		waitJS(`[...document.querySelectorAll('#inboxes-list tr')].every((tr) => !tr.querySelector('.inbox-channel').textContent.match(/voice|语音/i) || !tr.querySelector('.inbox-reopen-form'))`),
	)
}
