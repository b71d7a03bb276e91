package agentui

import (
	"net/http"
	"strings"
	"testing"
)

func TestConsoleCSPAllowsTheVoiceSDKOnlyWhenTheSoftphoneIsConfigured(t *testing.T) {
	ui := newUI(t)
	plain := get(t, ui.Handler(), http.MethodGet, "http://parley.test/console/", nil).Header().Get("Content-Security-Policy")
	if strings.Contains(plain, "twilio") || !strings.Contains(plain, "media-src 'self' https:") {
		t.Errorf("CSP without softphone: %q", plain)
	}
	ui.AllowSoftphone("https://cdn.example.com/voice/twilio.min.js?v=2")
	csp := get(t, ui.Handler(), http.MethodGet, "http://parley.test/console/", nil).Header().Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self' https://cdn.example.com;", "wss://*.twilio.com"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP with softphone %q lacks %q", csp, want)
		}
	}
}
