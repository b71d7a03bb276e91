package twilio

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/twilio/twilio-go/client/jwt"
)

// Softphone configures the browser softphone: agents take calls in the
// console with the Twilio Voice JS SDK, registered with an access token
// Parley mints (a voice grant for the agent's client identity). All of it
// comes from the environment; empty AccountSID means no softphone.
type Softphone struct {
	AccountSID   string // PARLEY_TWILIO_ACCOUNT_SID (AC…)
	APIKeySID    string // PARLEY_TWILIO_API_KEY_SID (SK…)
	APIKeySecret string // PARLEY_TWILIO_API_KEY_SECRET
	TwiMLAppSID  string // PARLEY_TWILIO_TWIML_APP_SID (AP…)
	// SDKURL is where the console loads the Twilio Voice JS SDK
	// (twilio.min.js) from: PARLEY_TWILIO_VOICE_SDK_URL.
	SDKURL string
	// TTL is the access tokens' lifetime (PARLEY_TWILIO_VOICE_TOKEN_TTL,
	// default 1h, 1m to 24h); the console renews them before they expire.
	TTL time.Duration
}

// Enabled reports whether the softphone is configured.
func (s Softphone) Enabled() bool { return s.AccountSID != "" }

// SoftphoneFromEnv reads the softphone's configuration: none of its
// variables, or all of them (a clear error names what is missing or wrong).
func SoftphoneFromEnv(getenv func(string) string) (Softphone, error) {
	s := Softphone{
		AccountSID: strings.TrimSpace(getenv("PARLEY_TWILIO_ACCOUNT_SID")), APIKeySID: strings.TrimSpace(getenv("PARLEY_TWILIO_API_KEY_SID")),
		APIKeySecret: strings.TrimSpace(getenv("PARLEY_TWILIO_API_KEY_SECRET")), TwiMLAppSID: strings.TrimSpace(getenv("PARLEY_TWILIO_TWIML_APP_SID")),
		SDKURL: strings.TrimSpace(getenv("PARLEY_TWILIO_VOICE_SDK_URL")), TTL: time.Hour,
	}
	if s == (Softphone{TTL: time.Hour}) {
		return Softphone{}, nil
	}
	checks := []struct {
		name, value, prefix string
	}{
		{"PARLEY_TWILIO_ACCOUNT_SID", s.AccountSID, "AC"}, {"PARLEY_TWILIO_API_KEY_SID", s.APIKeySID, "SK"},
		{"PARLEY_TWILIO_TWIML_APP_SID", s.TwiMLAppSID, "AP"},
	}
	for _, c := range checks {
		if !validSid(c.value, c.prefix) {
			return Softphone{}, fmt.Errorf("%s must be a Twilio sid starting with %s (the browser softphone needs PARLEY_TWILIO_ACCOUNT_SID, PARLEY_TWILIO_API_KEY_SID, PARLEY_TWILIO_API_KEY_SECRET, PARLEY_TWILIO_TWIML_APP_SID and PARLEY_TWILIO_VOICE_SDK_URL)", c.name, c.prefix)
		}
	}
	if len(s.APIKeySecret) < 16 {
		return Softphone{}, fmt.Errorf("PARLEY_TWILIO_API_KEY_SECRET must be the API key's secret (shown once when the key is created)")
	}
	if u, err := url.Parse(s.SDKURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return Softphone{}, fmt.Errorf("PARLEY_TWILIO_VOICE_SDK_URL must be the http(s) URL of the Twilio Voice JS SDK (twilio.min.js) the console loads")
	}
	if v := strings.TrimSpace(getenv("PARLEY_TWILIO_VOICE_TOKEN_TTL")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 24*time.Hour {
			return Softphone{}, fmt.Errorf("PARLEY_TWILIO_VOICE_TOKEN_TTL must be a duration from 1m to 24h such as 1h (got %q)", v)
		}
		s.TTL = d
	}
	return s, nil
}

// SoftphoneIdentity is an agent's client identity: calls to the endpoint
// "client:" + identity ring their console.
func SoftphoneIdentity(agentID int64) string { return "agent-" + strconv.FormatInt(agentID, 10) }

// SoftphoneConfig reports whether the softphone is configured and where the
// console loads the SDK from.
func (c *Channel) SoftphoneConfig() (enabled bool, sdkURL string) {
	if c == nil || !c.softphone.Enabled() {
		return false, ""
	}
	return true, c.softphone.SDKURL
}

var identityPattern = regexp.MustCompile(`^[A-Za-z0-9_.@-]{1,121}$`)

// VoiceToken mints an agent's Twilio access token (twilio-go's jwt package,
// HS256 signed with the API key's secret): identity agent-<id>, a voice
// grant to receive calls and to place them through the TwiML app, valid
// for the configured TTL. No softphone configured: ENOTFOUND.
func (c *Channel) VoiceToken(agentID int64) (token, identity string, expiresAt time.Time, err error) {
	if c == nil || !c.softphone.Enabled() {
		return "", "", time.Time{}, parley.Errorf(parley.ENOTFOUND, "The browser softphone is not configured (PARLEY_TWILIO_API_KEY_SID and friends).")
	}
	sp := c.softphone
	identity = SoftphoneIdentity(agentID)
	if !identityPattern.MatchString(identity) {
		return "", "", time.Time{}, parley.Invalid("Invalid agent.", nil)
	}
	now := c.now()
	expiresAt = now.Add(sp.TTL).Truncate(time.Second)
	at := jwt.CreateAccessToken(jwt.AccessTokenParams{
		AccountSid: sp.AccountSID, SigningKeySid: sp.APIKeySID, Secret: sp.APIKeySecret, Identity: identity,
		Nbf: float64(now.Unix()), ValidUntil: float64(expiresAt.Unix()),
	})
	at.AddGrant(&jwt.VoiceGrant{Incoming: jwt.Incoming{Allow: true}, Outgoing: jwt.Outgoing{ApplicationSid: sp.TwiMLAppSID}})
	token, err = at.ToJwt()
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("mint voice token: %w", err)
	}
	return token, identity, expiresAt, nil
}
