package main

import "testing"

type preferencesJSON struct {
	Timezone         string `json:"timezone"`
	TimezoneSource   string `json:"timezone_source"`
	Region           string `json:"region"`
	RegionSource     string `json:"region_source"`
	BrowserLanguage  string `json:"browser_language"`
	PreferredChannel string `json:"preferred_channel"`
}

// TestWebchatBrowserFillsTimezoneAndRegionAndAgentsSetThePreferredChannel:
// the widget's session carries the browser's time zone and language; the
// profile takes them (region from the language while the customer has no
// phone) unless an agent set the time zone; garbage is ignored, never a
// refused chat. The preferred channel is one of the customer's channels,
// and is in the data-subject export.
func TestWebchatBrowserFillsTimezoneAndRegionAndAgentsSetThePreferredChannel(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.inboxID(t, admin)
	session := func(token, tz, lang string) (string, string, map[string]string) {
		t.Helper()
		var out struct {
			VisitorToken string            `json:"visitor_token"`
			CustomerID   string            `json:"customer_id"`
			Ignored      map[string]string `json:"ignored"`
		}
		if code := srv.do(t, "POST", "/api/v1/webchat/sessions", "", map[string]string{"inbox_id": inbox, "name": "Wen Li", "locale": "zh-CN",
			"visitor_token": token, "timezone": tz, "language": lang}, &out); code != 200 {
			t.Fatalf("session with time zone %q, language %q: status %d; want 200", tz, lang, code)
		}
		return out.VisitorToken, out.CustomerID, out.Ignored
	}
	profile := func(id string) preferencesJSON {
		t.Helper()
		var p preferencesJSON
		if code := srv.do(t, "GET", "/api/v1/customers/"+id, admin, nil, &p); code != 200 {
			t.Fatalf("GET customer: %d", code)
		}
		return p
	}

	token, id, ignored := session("", "Asia/Shanghai", "zh-CN")
	if len(ignored) != 0 {
		t.Errorf("valid hints ignored: %v", ignored)
	}
	if p := profile(id); p.Timezone != "Asia/Shanghai" || p.TimezoneSource != "browser" || p.Region != "CN" || p.RegionSource != "browser" || p.BrowserLanguage != "zh-CN" {
		t.Errorf("profile after the browser: %+v; want Asia/Shanghai and CN from the browser", p)
	}

	// Garbage is ignored and named; the chat starts and the values stay.
	_, other, ignored := session("", "Mars/Olympus", "<script>")
	if ignored["timezone"] == "" || ignored["language"] == "" {
		t.Errorf("garbage hints: ignored %v; want timezone and language named", ignored)
	}
	if p := profile(other); p.Timezone != "" || p.Region != "" {
		t.Errorf("profile after garbage hints: %+v; want nothing stored", p)
	}

	// An agent's time zone wins over the browser's; a phone's region over
	// the browser's.
	base := "/api/v1/customers/" + id
	if code := srv.do(t, "PATCH", base, admin, map[string]string{"timezone": "Europe/Berlin"}, nil); code != 200 {
		t.Fatalf("PATCH timezone: %d", code)
	}
	if code := srv.do(t, "POST", base+"/identities", admin, map[string]string{"channel": "whatsapp", "address": "+44 20 7946 0958"}, nil); code != 201 {
		t.Fatalf("link whatsapp: %d", code)
	}
	if _, again, _ := session(token, "Asia/Shanghai", "zh-CN"); again != id {
		t.Fatalf("the returning visitor is customer %s; want %s", again, id)
	}
	if p := profile(id); p.Timezone != "Europe/Berlin" || p.TimezoneSource != "agent" || p.Region != "GB" || p.RegionSource != "phone" {
		t.Errorf("profile after an agent and a phone: %+v; want Europe/Berlin by an agent, GB from the phone", p)
	}

	// The preferred channel: one of the customer's channels.
	for ch, want := range map[string]int{"sms": 400, "pigeon": 400, "whatsapp": 200} {
		if code := srv.do(t, "PATCH", base, admin, map[string]string{"preferred_channel": ch}, nil); code != want {
			t.Errorf("PATCH preferred_channel %q: %d; want %d", ch, code, want)
		}
	}
	if p := profile(id); p.PreferredChannel != "whatsapp" {
		t.Errorf("preferred channel %q; want whatsapp", p.PreferredChannel)
	}
	var export struct {
		Customer preferencesJSON `json:"customer"`
	}
	if code := srv.do(t, "GET", base+"/export", admin, nil, &export); code != 200 || export.Customer.PreferredChannel != "whatsapp" || export.Customer.Timezone != "Europe/Berlin" {
		t.Errorf("data-subject export: %d %+v; want the preferred channel and time zone", code, export.Customer)
	}
}

// TestSegmentsAreEditedAndListedWithTheirSize: PUT replaces a segment's
// name, filter and boost (validated like POST); the list shows each
// segment's current size.
func TestSegmentsAreEditedAndListedWithTheirSize(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	sup := srv.login(t, "supervisor@parley.test")
	v := srv.startVisitor(t, srv.inboxID(t, admin), "", "Lena Vogel", "lena@example.com", "billing")
	srv.do(t, "PATCH", "/api/v1/customers/"+v.customerID, sup, map[string]any{"tags": []string{"vip"}}, nil)
	type segment struct {
		ID            string         `json:"id"`
		Name          string         `json:"name"`
		Size          int            `json:"size"`
		PriorityBoost int            `json:"priority_boost"`
		Filter        map[string]any `json:"filter"`
	}
	var seg segment
	if code := srv.do(t, "POST", "/api/v1/segments", sup, map[string]any{"name": "VIP", "filter": map[string]any{"tags": []string{"vip"}}}, &seg); code != 201 {
		t.Fatalf("create: %d", code)
	}
	list := func() []segment {
		var out struct{ Items []segment }
		if code := srv.do(t, "GET", "/api/v1/segments", sup, nil, &out); code != 200 {
			t.Fatalf("list: %d", code)
		}
		return out.Items
	}
	if l := list(); len(l) != 1 || l[0].Size != 1 {
		t.Errorf("segments %+v; want VIP with 1 member", l)
	}
	path := "/api/v1/segments/" + seg.ID
	var bad apiError
	if code := srv.do(t, "PUT", path, sup, map[string]any{"name": "VIP", "filter": map[string]any{"lifecycle_stages": []string{"gold"}}}, &bad); code != 400 || bad.Error.Fields["filter.lifecycle_stages"] == "" {
		t.Errorf("bad filter: %d %v; want 400 naming filter.lifecycle_stages", code, bad.Error.Fields)
	}
	if code := srv.do(t, "PUT", path, srv.login(t, "agent1@parley.test"), map[string]any{"name": "x"}, nil); code != 403 {
		t.Errorf("an agent editing a segment: %d; want 403", code)
	}
	if code := srv.do(t, "PUT", "/api/v1/segments/999999", sup, map[string]any{"name": "x"}, nil); code != 404 {
		t.Errorf("editing a missing segment: %d; want 404", code)
	}
	if code := srv.do(t, "PUT", path, sup, map[string]any{"name": "Loyal VIP", "priority_boost": 15,
		"filter": map[string]any{"tags": []string{"vip"}, "lifecycle_stages": []string{"loyal"}}}, &seg); code != 200 || seg.Name != "Loyal VIP" || seg.Size != 0 || seg.PriorityBoost != 15 {
		t.Errorf("edit: %d %+v; want Loyal VIP, boost 15, no member", code, seg)
	}
	if l := list(); len(l) != 1 || l[0].Name != "Loyal VIP" || l[0].Size != 0 {
		t.Errorf("segments after the edit %+v", l)
	}
	srv.do(t, "POST", "/api/v1/segments", sup, map[string]any{"name": "Other"}, nil)
	if code := srv.do(t, "PUT", path, sup, map[string]any{"name": "Other"}, nil); code != 400 {
		t.Errorf("renaming onto a taken name: %d; want 400", code)
	}
}
