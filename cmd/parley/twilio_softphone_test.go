package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/parleyhq/parley/channels/twilio/twiliotest"
)

const (
	spKeySID = "SK0123456789abcdef0123456789abcdef"
	spSecret = "softphone-secret-0123456789abcdef"
	spAppSID = "AP0123456789abcdef0123456789abcdef"
)

// withSoftphone configures the browser softphone; the SDK URL points at
// the fake Twilio, which has no SDK (tests cannot fetch the real one).
func withSoftphone(e *env, sdkURL string) {
	e.vars["PARLEY_TWILIO_ACCOUNT_SID"] = twSID
	e.vars["PARLEY_TWILIO_API_KEY_SID"] = spKeySID
	e.vars["PARLEY_TWILIO_API_KEY_SECRET"] = spSecret
	e.vars["PARLEY_TWILIO_TWIML_APP_SID"] = spAppSID
	e.vars["PARLEY_TWILIO_VOICE_SDK_URL"] = sdkURL
	e.vars["PARLEY_TWILIO_VOICE_TOKEN_TTL"] = "10m"
}

// validJWT reports whether token is a JWT whose HS256 signature verifies
// with secret.
func validJWT(token, secret string) bool {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	return hmac.Equal([]byte(base64.RawURLEncoding.EncodeToString(mac.Sum(nil))), []byte(parts[2]))
}

// verifyJWT checks an HS256 JWT's signature with secret and returns its
// header and claims.
func verifyJWT(t *testing.T, token, secret string) (header, claims map[string]any) {
	t.Helper()
	if !validJWT(token, secret) {
		t.Fatalf("token %q does not verify with the API key secret", token)
	}
	parts := strings.Split(token, ".")
	for i, dst := range []*map[string]any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, dst) != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
	}
	return header, claims
}

func TestTwilioSoftphoneTokenCarriesTheAgentsVoiceGrant(t *testing.T) {
	te := newTwilioEnv(t, func(e *env) { withSoftphone(e, "https://sdk.example.com/twilio.min.js") })
	srv := te.srv

	tok := srv.login(t, "agent3@parley.test")
	id := te.agentID(t, tok)
	var cfg struct {
		Enabled    bool   `json:"enabled"`
		SDKURL     string `json:"sdk_url"`
		Identity   string `json:"identity"`
		TakesCalls bool   `json:"takes_calls"`
	}
	if code := srv.do(t, "GET", "/api/v1/agent/softphone", tok, nil, &cfg); code != 200 || !cfg.Enabled || cfg.SDKURL != "https://sdk.example.com/twilio.min.js" || cfg.Identity != "agent-"+id || cfg.TakesCalls {
		t.Fatalf("softphone config: %d %+v", code, cfg)
	}
	var out struct {
		Token     string    `json:"token"`
		Identity  string    `json:"identity"`
		ExpiresAt time.Time `json:"expires_at"`
		Endpoint  string    `json:"endpoint"`
	}
	if code := srv.do(t, "POST", "/api/v1/agent/voice-token", tok, nil, &out); code != 200 {
		t.Fatalf("voice token: status %d", code)
	}
	header, claims := verifyJWT(t, out.Token, spSecret)
	if header["alg"] != "HS256" || header["cty"] != "twilio-fpa;v=1" {
		t.Errorf("token header %v", header)
	}
	grants, _ := claims["grants"].(map[string]any)
	voice, _ := grants["voice"].(map[string]any)
	incoming, _ := voice["incoming"].(map[string]any)
	outgoing, _ := voice["outgoing"].(map[string]any)
	if claims["iss"] != spKeySID || claims["sub"] != twSID || grants["identity"] != "agent-"+id ||
		incoming["allow"] != true || outgoing["application_sid"] != spAppSID {
		t.Errorf("token claims %v", claims)
	}
	nbf, _ := claims["nbf"].(float64)
	exp, _ := claims["exp"].(float64)
	if ttl := exp - nbf; ttl < 590 || ttl > 610 || int64(exp) != out.ExpiresAt.Unix() {
		t.Errorf("token lifetime %v s (exp %v, expires_at %v); want 10m", ttl, exp, out.ExpiresAt)
	}
	if validJWT(out.Token, "wrong secret") {
		t.Errorf("token verifies with another secret")
	}

	// "Take calls in this browser": the endpoint becomes client:agent-<id>
	// and an accepted call is dialled to it.
	if code := srv.do(t, "POST", "/api/v1/agent/voice-token", tok, map[string]bool{"take_calls": true}, &out); code != 200 || out.Endpoint != "client:agent-"+id {
		t.Fatalf("take calls: %d %+v", code, out)
	}
	inbox := te.createInbox(t, "voice", "General", nil)
	chen := srv.agentWS(t, tok)
	chen.send(map[string]any{"type": "presence", "status": "available"})
	te.newCall(inbox, twCustomer).post(t, "", "ringing")
	acceptNext(t, chen)
	leg, ok := te.fake.WaitFor(10*time.Second, func(r twiliotest.Request) bool { return r.Kind() == "participant-create" })
	if !ok || leg.Form.Get("To") != "client:agent-"+id {
		t.Errorf("agent's leg dialled %v %q; want the agent's browser client", ok, leg.Form.Get("To"))
	}
}

func TestTwilioSoftphoneIsOffWithoutConfiguration(t *testing.T) {
	te := newTwilioEnv(t)
	tok := te.srv.login(t, "agent1@parley.test")
	var cfg map[string]any
	if code := te.srv.do(t, "GET", "/api/v1/agent/softphone", tok, nil, &cfg); code != 200 || cfg["enabled"] != false || cfg["sdk_url"] != nil {
		t.Errorf("softphone config without configuration: %d %v", code, cfg)
	}
	if code := te.srv.do(t, "POST", "/api/v1/agent/voice-token", tok, nil, nil); code != http.StatusNotFound {
		t.Errorf("voice token without configuration: %d; want 404", code)
	}
	// A half configuration stops the server with a clear message.
	getenv := func(k string) string {
		if k == "PARLEY_TWILIO_API_KEY_SID" {
			return spKeySID
		}
		return te.vars[k]
	}
	err := run(context.Background(), []string{"parley", "serve"}, getenv, &strings.Builder{}, &strings.Builder{})
	if err == nil || !strings.Contains(err.Error(), "PARLEY_TWILIO_ACCOUNT_SID") {
		t.Errorf("serve with half a softphone configuration: %v", err)
	}
}

func TestConsoleInBrowserShowsTheSoftphoneOnlyWhenConfigured(t *testing.T) {
	for _, configured := range []bool{true, false} {
		e := newEnv(t)
		if configured {
			// Unreachable in tests: the panel shows that the SDK could not load.
			withSoftphone(e, "http://127.0.0.1:9/twilio.min.js")
		}
		srv := e.start()
		b := newBrowser(t)
		consoleLogin(t, b, srv.base, "agent1@parley.test")
		if configured {
			step(t, b, "see the softphone panel",
				chromedp.WaitVisible(chromedp.ID("softphone")),
				waitJS(`document.getElementById('softphone-status').textContent.includes('Twilio Voice SDK could not be loaded')`),
				chromedp.WaitVisible(chromedp.ID("softphone-take")),
			)
			continue
		}
		time.Sleep(500 * time.Millisecond) // the console asked the server by now
		if shown := value[bool](t, b, `!!document.getElementById('softphone') && !document.getElementById('softphone').hidden`); shown {
			t.Errorf("softphone panel shown without configuration")
		}
	}
}

// consoleLogin signs an agent in to the console in a browser.
func consoleLogin(t *testing.T, b context.Context, base, email string, more ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	step(t, b, "log in as "+email, append([]chromedp.Action[chromedp.Void]{
		chromedp.Navigate(base + "/console/"),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), email),
		chromedp.SendKeys(chromedp.ID("login-password"), DemoPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("presence")),
	}, more...)...)
}
