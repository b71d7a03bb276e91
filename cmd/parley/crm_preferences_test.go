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
