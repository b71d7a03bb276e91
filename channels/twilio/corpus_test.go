package twilio

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/twilio/twilio-go/client"
)

// corpusDir returns ../shared/fixtures/twilio next to the repository (found
// by walking up to go.mod). Without it the test is skipped, except under
// CI=true where the corpus must be there.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
	corpus := filepath.Join(dir, "..", "shared", "fixtures", "twilio")
	if _, err := os.Stat(corpus); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("fixture corpus %s missing: %v", corpus, err)
		}
		t.Skipf("fixture corpus %s missing: %v", corpus, err)
	}
	return corpus
}

func loadForm(t *testing.T, path string) url.Values {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	form := url.Values{}
	for k, v := range m {
		form.Set(k, v)
	}
	return form
}

func TestCorpusSignatureVectorsValidate(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(corpusDir(t), "signature-test-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Vectors []struct {
			Name      string            `json:"name"`
			AuthToken string            `json:"auth_token"`
			URL       string            `json:"url"`
			SignedURL string            `json:"signed_url"`
			Params    map[string]string `json:"params"`
			List      [][2]string       `json:"params_list"`
			Body      string            `json:"body"`
			Expected  string            `json:"expected_signature"`
		} `json:"vectors"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	for _, v := range file.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			form := url.Values{}
			for k, val := range v.Params {
				form.Add(k, val)
			}
			for _, kv := range v.List {
				form.Add(kv[0], kv[1])
			}
			if v.Body != "" { // JSON body: twilio-go checks the URL and bodySHA256
				rv := client.NewRequestValidator(v.AuthToken)
				if !rv.ValidateBody(v.URL, []byte(v.Body), v.Expected) {
					t.Errorf("JSON-body vector does not validate")
				}
				if rv.ValidateBody(v.URL, []byte(v.Body+" "), v.Expected) {
					t.Errorf("JSON-body vector validates a changed body")
				}
				return
			}
			if !ValidSignature(v.AuthToken, v.URL, form, v.Expected) {
				t.Errorf("signature %s does not validate for %s", v.Expected, v.URL)
			}
			signed := v.URL
			if v.SignedURL != "" {
				signed = v.SignedURL
			}
			if got := Signature(v.AuthToken, signed, form); got != v.Expected {
				t.Errorf("Signature = %s; want %s", got, v.Expected)
			}
			if ValidSignature(v.AuthToken+"x", v.URL, form, v.Expected) {
				t.Errorf("validates with the wrong token")
			}
			form.Set("Tampered", "1")
			if ValidSignature(v.AuthToken, v.URL, form, v.Expected) {
				t.Errorf("validates a tampered form")
			}
		})
	}
}

func TestCorpusPayloadsParse(t *testing.T) {
	dir := corpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", dir, err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == "signature-test-vectors.json" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			form := loadForm(t, f)
			switch {
			case strings.HasPrefix(name, "sms-") || strings.HasPrefix(name, "mms-") || strings.HasPrefix(name, "whatsapp-"):
				ch := parley.ChannelSMS
				if strings.HasPrefix(name, "whatsapp-") {
					ch = parley.ChannelWhatsApp
				}
				m, err := parseMessage(form, ch, "US")
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				if m.From != "+15558675310" || m.Region != "US" {
					t.Errorf("from %q region %q; want +15558675310 US", m.From, m.Region)
				}
				if n := form.Get("NumMedia"); n != "" && n != "0" && len(m.Media) != int(n[0]-'0') {
					t.Errorf("%d media; want %s", len(m.Media), n)
				}
				for i, a := range m.Media {
					if a.URL != form.Get("MediaUrl"+string(rune('0'+i))) || a.ContentType != form.Get("MediaContentType"+string(rune('0'+i))) {
						t.Errorf("media %d = %+v", i, a)
					}
				}
				if b := form.Get("Body"); b != "" && m.Body != b {
					t.Errorf("body %q; want %q", m.Body, b)
				}
				if p := form.Get("ProfileName"); m.ProfileName != p {
					t.Errorf("profile name %q; want %q", m.ProfileName, p)
				}
				// The same message on the other kind of inbox is refused.
				other := parley.ChannelWhatsApp
				if ch == parley.ChannelWhatsApp {
					other = parley.ChannelSMS
				}
				if _, err := parseMessage(form, other, "US"); parley.ErrorCode(err) != parley.EINVALID {
					t.Errorf("parsed on a %s inbox: %v", other, err)
				}
			case strings.HasPrefix(name, "message-status-"):
				s, err := parseMessageStatus(form, url.Values{})
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				want := strings.TrimSuffix(strings.TrimPrefix(name, "message-status-"), ".json")
				if s.State != want {
					t.Errorf("state %q; want %q", s.State, want)
				}
				if code := form.Get("ErrorCode"); code != "" && !strings.Contains(s.Reason, code) {
					t.Errorf("reason %q lacks error code %s", s.Reason, code)
				}
			case strings.HasPrefix(name, "voice-recording-"):
				if !validSid(form.Get("CallSid"), "CA") || form.Get("RecordingUrl") == "" {
					t.Errorf("recording callback lacks CallSid or RecordingUrl")
				}
			case strings.HasPrefix(name, "voice-"):
				p, err := parseCall(form)
				if err != nil {
					t.Fatalf("parse: %v", err)
				}
				if addr, region := callerAddress(p.From, p.Sid, "US"); addr != "+15558675310" || region != "US" {
					t.Errorf("caller %q %q", addr, region)
				}
				if d := form.Get("Digits"); d != "" && !digitsPattern.MatchString(d) {
					t.Errorf("digits %q refused", d)
				}
			default:
				t.Fatalf("no parser for fixture %s", name)
			}
		})
	}
}
