package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

type calendarView struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Weekly map[string][]struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"weekly"`
	Days []struct {
		Date string `json:"date"`
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"days"`
}

func TestSLACalendarsCanBeChangedAndRetiredThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	week := []map[string]string{{"start": "09:00", "end": "18:00"}}
	var cal calendarView
	if code := srv.do(t, "POST", "/api/v1/sla/calendars", admin, map[string]any{"name": "Shanghai office", "timezone": "Asia/Shanghai",
		"weekly": map[string]any{"mon": week, "tue": week}, "days": []map[string]string{{"date": "2026-10-01", "kind": "holiday"}}}, &cal); code != 201 {
		t.Fatalf("create calendar: status %d", code)
	}
	path := "/api/v1/sla/calendars/" + cal.ID
	if code := srv.do(t, "PATCH", path, srv.login(t, "supervisor@parley.test"), map[string]any{"name": "x"}, nil); code != 403 {
		t.Errorf("supervisor changing a calendar: %d; want 403", code)
	}
	if code := srv.do(t, "PATCH", path, admin, map[string]any{"timezone": "Mars/Olympus"}, nil); code != 400 {
		t.Errorf("unknown time zone: %d; want 400", code)
	}
	if code := srv.do(t, "PATCH", path, admin, map[string]any{"name": "Shanghai HQ", "weekly": map[string]any{"tue": []any{}, "sat": week},
		"days": []map[string]string{{"date": "2026-10-10", "kind": "workday", "name": "调休"}}}, &cal); code != 200 {
		t.Fatalf("patch calendar: status %d", code)
	}
	if cal.Name != "Shanghai HQ" || len(cal.Weekly["mon"]) != 1 || len(cal.Weekly["tue"]) != 0 || len(cal.Weekly["sat"]) != 1 ||
		len(cal.Days) != 1 || cal.Days[0].Date != "2026-10-10" || cal.Days[0].Kind != "workday" {
		t.Fatalf("calendar after the patch %+v; want renamed, Monday kept, Tuesday closed, Saturday open, days replaced", cal)
	}
	var policy struct {
		ID string `json:"id"`
	}
	if code := srv.do(t, "POST", "/api/v1/sla/policies", admin, map[string]any{"name": "office hours", "targets": map[string]any{"first_response_s": 600},
		"business_hours": true, "calendar_id": cal.ID}, &policy); code != 201 {
		t.Fatalf("create policy: status %d", code)
	}
	if code := srv.do(t, "DELETE", path, admin, nil, nil); code != 409 {
		t.Errorf("delete a calendar a policy uses: %d; want 409", code)
	}
	srv.do(t, "DELETE", "/api/v1/sla/policies/"+policy.ID, admin, nil, nil)
	if code := srv.do(t, "DELETE", path, admin, nil, nil); code != 204 {
		t.Fatalf("delete calendar: %d; want 204", code)
	}
	if code := srv.do(t, "GET", path, admin, nil, nil); code != 404 {
		t.Errorf("get a deleted calendar: %d; want 404", code)
	}
	var list struct {
		Items []calendarView `json:"items"`
	}
	if srv.do(t, "GET", "/api/v1/sla/calendars", admin, nil, &list); len(list.Items) != 0 {
		t.Errorf("calendars after the delete %+v; want none", list.Items)
	}
	if code := srv.do(t, "POST", "/api/v1/sla/policies", admin, map[string]any{"name": "x", "targets": map[string]any{"first_response_s": 600},
		"business_hours": true, "calendar_id": cal.ID}, nil); code != 400 {
		t.Errorf("policy on a deleted calendar: %d; want 400", code)
	}
	if code := srv.do(t, "POST", "/api/v1/sla/calendars", admin, map[string]any{"name": "Shanghai HQ", "timezone": "Asia/Shanghai",
		"weekly": map[string]any{"mon": week}}, nil); code != 201 {
		t.Errorf("a new calendar with the deleted one's name: %d; want 201", code)
	}
}

func TestSLAAdminPageInBrowserCreatesACalendarAndAPolicy(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	b := newBrowser(t)
	step(t, b, "log in as admin and open the SLA page",
		chromedp.Navigate(srv.base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), "admin@parley.test"),
		chromedp.SendKeys(chromedp.ID("login-password"), DemoPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("sla-admin-open")),
		chromedp.Click(chromedp.ID("sla-admin-open")),
		chromedp.WaitVisible(chromedp.ID("sla-calendar-new")),
	)
	step(t, b, "a calendar with lunch breaks and imported holidays",
		chromedp.Click(chromedp.ID("sla-calendar-new")),
		chromedp.WaitVisible(chromedp.ID("sla-c-name")),
		chromedp.SendKeys(chromedp.ID("sla-c-name"), "Shanghai office"),
		chromedp.SetValue(chromedp.ID("sla-c-mon"), "09:00-12:00, 13:00-18:00"),
		chromedp.SetValue(chromedp.ID("sla-c-import"), "2026-10-01 holiday 国庆节\n2026-10-02\n2026-10-10 workday 国庆节调休"),
		chromedp.Click(chromedp.ID("sla-c-import-go")),
		waitJS(`document.querySelectorAll('#sla-c-days tr').length === 3`),
		chromedp.Click(chromedp.ID("sla-c-save")),
		waitJS(`[...document.querySelectorAll('#sla-calendars th')].some((x) => x.textContent === 'Shanghai office')`),
	)
	step(t, b, "a policy without targets is refused with the API's message",
		chromedp.Click(chromedp.ID("sla-policy-new")),
		chromedp.WaitVisible(chromedp.ID("sla-p-name")),
		chromedp.SendKeys(chromedp.ID("sla-p-name"), "Gold, office hours"),
		chromedp.Click(chromedp.ID("sla-p-save")),
		waitJS(`/target/.test((document.querySelector('#sla-policy-form .form-error:not([hidden])')||{}).textContent||'')`),
	)
	step(t, b, "targets, business hours and a tag escalation; saved",
		chromedp.SetValue(chromedp.ID("sla-p-first_response"), "15"),
		chromedp.SetValue(chromedp.ID("sla-p-resolution"), "1440"),
		chromedp.SetValue(chromedp.ID("sla-p-tiers"), "gold"),
		chromedp.Click(chromedp.ID("sla-p-bh")),
		waitJS(`(() => { const s = document.getElementById('sla-p-calendar'); s.value = [...s.options].find((o) => o.textContent === 'Shanghai office').value; return true; })()`),
		chromedp.Click(chromedp.ID("sla-p-add-escalation")),
		waitJS(`(() => { const a = document.querySelector('#sla-p-escalations .esc-action'); a.value = 'tag'; a.dispatchEvent(new Event('change')); return true; })()`),
		chromedp.SendKeys(`#sla-p-escalations .esc-tag`, "sla-breached"),
		chromedp.Click(chromedp.ID("sla-p-save")),
		waitJS(`[...document.querySelectorAll('#sla-policies th')].some((x) => x.textContent === 'Gold, office hours')`),
	)
	step(t, b, "edit the policy: the form shows what was saved; a shorter resolution target",
		chromedp.Click(`#sla-policies .policy-edit`),
		waitJS(`document.getElementById('sla-p-name').value === 'Gold, office hours' && document.getElementById('sla-p-first_response').value === '15'`),
		waitJS(`document.querySelector('#sla-p-escalations .esc-tag').value === 'sla-breached'`),
		chromedp.SetValue(chromedp.ID("sla-p-resolution"), "720"),
	)
	if dir := os.Getenv("PARLEY_SCREENSHOTS"); dir != "" {
		if png, err := chromedp.Run(b, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(filepath.Join(dir, "sla-admin.png"), png, 0o644)
		}
	}
	step(t, b, "save the change",
		chromedp.Click(chromedp.ID("sla-p-save")),
		waitJS(`/720 min/.test(document.querySelector('#sla-policies tbody tr').textContent)`),
	)

	var cals struct {
		Items []calendarView `json:"items"`
	}
	srv.do(t, "GET", "/api/v1/sla/calendars", admin, nil, &cals)
	if len(cals.Items) != 1 || len(cals.Items[0].Weekly["mon"]) != 2 || len(cals.Items[0].Weekly["fri"]) != 1 || len(cals.Items[0].Weekly["sat"]) != 0 ||
		len(cals.Items[0].Days) != 3 || cals.Items[0].Days[2].Kind != "workday" || cals.Items[0].Days[0].Name != "国庆节" {
		t.Fatalf("calendar saved by the page %+v", cals.Items)
	}
	var pols struct {
		Items []struct {
			Name    string         `json:"name"`
			Targets map[string]int `json:"targets"`
			Match   struct {
				Tiers []string `json:"tiers"`
			} `json:"match"`
			BusinessHours bool   `json:"business_hours"`
			CalendarID    string `json:"calendar_id"`
			Escalations   []struct {
				On, Action, Tag string
			} `json:"escalations"`
		} `json:"items"`
	}
	srv.do(t, "GET", "/api/v1/sla/policies", admin, nil, &pols)
	if len(pols.Items) != 1 {
		t.Fatalf("policies %+v; want the one made in the page", pols.Items)
	}
	p := pols.Items[0]
	if p.Targets["first_response_s"] != 900 || p.Targets["resolution_s"] != 43200 || !p.BusinessHours || p.CalendarID != cals.Items[0].ID ||
		len(p.Match.Tiers) != 1 || len(p.Escalations) != 1 || p.Escalations[0].Action != "tag" || p.Escalations[0].Tag != "sla-breached" || p.Escalations[0].On != "breach" {
		t.Errorf("policy saved by the page %+v", p)
	}
}
