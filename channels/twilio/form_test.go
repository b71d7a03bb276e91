package twilio

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

const testSid = "SM0123456789abcdef0123456789abcdef"

func smsForm(kv ...string) url.Values {
	return withFields(url.Values{"MessageSid": {testSid}, "From": {"+14155550100"}, "To": {"+14155550199"}, "Body": {"hello"}, "NumMedia": {"0"}}, kv...)
}

// withFields sets (or, for the value "<del>", removes) fields of f: name,
// value pairs.
func withFields(f url.Values, kv ...string) url.Values {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<del>" {
			f.Del(kv[i])
		} else {
			f.Set(kv[i], kv[i+1])
		}
	}
	return f
}

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name     string
		ch       parley.Channel
		form     url.Values
		wantErr  string
		wantFrom string
		wantBody string
	}{
		{"sms", parley.ChannelSMS, smsForm(), "", "+14155550100", "hello"},
		{"national number in the inbox's region", parley.ChannelSMS, smsForm("From", "(415) 555-0100"), "", "+14155550100", "hello"},
		{"chinese mobile", parley.ChannelSMS, smsForm("From", "+86 138 0013 8000"), "", "+8613800138000", "hello"},
		{"whatsapp", parley.ChannelWhatsApp, smsForm("From", "whatsapp:+8613800138000", "ProfileName", "张伟"), "", "+8613800138000", "hello"},
		{"whatsapp on an sms inbox", parley.ChannelSMS, smsForm("From", "whatsapp:+8613800138000"), parley.EINVALID, "", ""},
		{"plain number on a whatsapp inbox", parley.ChannelWhatsApp, smsForm(), parley.EINVALID, "", ""},
		{"not a number", parley.ChannelSMS, smsForm("From", "Twilio"), parley.EINVALID, "", ""},
		{"short", parley.ChannelSMS, smsForm("From", "+1415"), parley.EINVALID, "", ""},
		{"no sid", parley.ChannelSMS, smsForm("MessageSid", "<del>"), parley.EINVALID, "", ""},
		{"bad sid", parley.ChannelSMS, smsForm("MessageSid", "SM123"), parley.EINVALID, "", ""},
		{"sid twice", parley.ChannelSMS, func() url.Values { f := smsForm(); f.Add("MessageSid", testSid); return f }(), parley.EINVALID, "", ""},
		{"empty body without media", parley.ChannelSMS, smsForm("Body", " "), parley.EINVALID, "", ""},
		{"empty body with media", parley.ChannelSMS, smsForm("Body", "", "NumMedia", "1", "MediaUrl0", "https://api.twilio.com/m/ME1", "MediaContentType0", "image/png"), "", "+14155550100", "(attachment)"},
		{"media url missing", parley.ChannelSMS, smsForm("NumMedia", "1"), parley.EINVALID, "", ""},
		{"media url not http", parley.ChannelSMS, smsForm("NumMedia", "1", "MediaUrl0", "javascript:alert(1)"), parley.EINVALID, "", ""},
		{"too many media", parley.ChannelSMS, smsForm("NumMedia", "11"), parley.EINVALID, "", ""},
		{"negative media", parley.ChannelSMS, smsForm("NumMedia", "-1"), parley.EINVALID, "", ""},
		{"invalid utf-8", parley.ChannelSMS, smsForm("Body", "\xff\xfe"), parley.EINVALID, "", ""},
		{"huge body", parley.ChannelSMS, smsForm("Body", strings.Repeat("x", parley.MaxBodyBytes+1)), parley.EINVALID, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseMessage(tt.form, tt.ch, "US")
			if got := parley.ErrorCode(err); got != tt.wantErr {
				t.Fatalf("got error %q (%v); want %q", got, err, tt.wantErr)
			}
			if err == nil && (m.From != tt.wantFrom || m.Body != tt.wantBody) {
				t.Errorf("got from %q body %q; want %q %q", m.From, m.Body, tt.wantFrom, tt.wantBody)
			}
		})
	}
}

func TestKeywords(t *testing.T) {
	for body, want := range map[string]string{"STOP": "STOP", " stop\n": "STOP", "Unsubscribe": "STOP", "start": "START", "HELP": "HELP",
		"stop sending me bills": "", "please help": "", "": ""} {
		if got := keyword(inboundMessage{Body: body}); got != want {
			t.Errorf("keyword(%q) = %q; want %q", body, got, want)
		}
	}
	if got := keyword(inboundMessage{Body: "arrêter", OptOutType: "STOP"}); got != "STOP" {
		t.Errorf("Twilio's OptOutType ignored: %q", got)
	}
}

func TestValidEndpoint(t *testing.T) {
	for in, want := range map[string]string{"+1 415 555 0100": "+14155550100", "sip:alice@pbx.example.com": "sip:alice@pbx.example.com",
		"client:alice": "client:alice", "": "", "4155550100": "!", "sip:<x>": "!", "client:": "!", "tel:+1415": "!"} {
		got, err := ValidEndpoint(in)
		if want == "!" {
			if err == nil {
				t.Errorf("ValidEndpoint(%q) accepted %q", in, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("ValidEndpoint(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestSignatureCoversURLAndEveryParameter(t *testing.T) {
	form := smsForm()
	u := "https://parley.example.com/webhooks/twilio/7/messaging"
	sig := Signature("secret", u, form)
	if !ValidSignature("secret", u, form, sig) {
		t.Fatal("own signature does not validate")
	}
	for name, tamper := range map[string]func() (string, url.Values, string){
		"other token": func() (string, url.Values, string) { return u, form, Signature("other", u, form) },
		"other path":  func() (string, url.Values, string) { return strings.Replace(u, "/7/", "/8/", 1), form, sig },
		"other body":  func() (string, url.Values, string) { f := smsForm("Body", "hellO"); return u, f, sig },
		"no sig":      func() (string, url.Values, string) { return u, form, "" },
	} {
		u2, f2, s2 := tamper()
		if ValidSignature("secret", u2, f2, s2) {
			t.Errorf("%s: validates", name)
		}
	}
}

// FuzzParseWebhookForm feeds arbitrary bodies through the form decoding and
// the message parser: they never panic, and what they accept is a valid
// message.
func FuzzParseWebhookForm(f *testing.F) {
	f.Add([]byte(smsForm().Encode()), false)
	f.Add([]byte(smsForm("From", "whatsapp:+8613800138000", "NumMedia", "1", "MediaUrl0", "https://x/y", "MediaContentType0", "image/jpeg", "Body", "").Encode()), true)
	f.Add([]byte("MessageSid=%zz&From=+1"), false)
	f.Add([]byte("NumMedia=99999999999999999999"), false)
	f.Add([]byte(""), true)
	f.Fuzz(func(t *testing.T, body []byte, whatsapp bool) {
		form, err := parseForm(body)
		if err != nil {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("form error code %q", parley.ErrorCode(err))
			}
			return
		}
		ch := parley.ChannelSMS
		if whatsapp {
			ch = parley.ChannelWhatsApp
		}
		m, err := parseMessage(form, ch, "US")
		if err != nil {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("message error code %q", parley.ErrorCode(err))
			}
			return
		}
		if parley.ValidateBody(m.Body) != nil || !utf8.ValidString(m.ProfileName) {
			t.Fatalf("accepted an invalid body %q", m.Body)
		}
		if e, _, err := Normalize(m.From, ""); err != nil || e != m.From || !strings.HasPrefix(m.From, "+") {
			t.Fatalf("accepted sender %q that is not E.164", m.From)
		}
		if !validSid(m.Sid) || len(m.Media) > MaxMedia {
			t.Fatalf("accepted sid %q with %d media", m.Sid, len(m.Media))
		}
		for _, a := range m.Media {
			if !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://") {
				t.Fatalf("accepted media URL %q", a.URL)
			}
		}
	})
}
