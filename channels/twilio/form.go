package twilio

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"github.com/parleyhq/parley"
)

// MaxFormBytes bounds a webhook's form body. Twilio's largest (a WhatsApp
// message with ten media and a 1,600-character body) is a few KB.
const MaxFormBytes = 64 << 10

// MaxMedia is the most media Twilio attaches to one message.
const MaxMedia = 10

// readForm reads a webhook's url-encoded form, bounded by MaxFormBytes.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "application/x-www-form-urlencoded" {
		return nil, parley.Errorf(parley.EINVALID, "Twilio webhooks are application/x-www-form-urlencoded.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxFormBytes))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, parley.Errorf(parley.EINVALID, "Webhook body is larger than %d bytes.", MaxFormBytes)
	} else if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "Could not read the webhook body.")
	}
	return parseForm(body)
}

// parseForm decodes a url-encoded body, refusing malformed encoding.
func parseForm(body []byte) (url.Values, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, parley.Errorf(parley.EINVALID, "Malformed form body.")
	}
	return form, nil
}

// sidPattern matches Twilio's 34-character resource ids (SM…, MM…, CA…);
// the documentation's placeholders (SMXXXX…) included.
var sidPattern = regexp.MustCompile(`^[A-Z]{2}[0-9A-Za-z]{32}$`)

// validSid reports whether s is a Twilio sid with one of the prefixes.
func validSid(s string, prefixes ...string) bool {
	if !sidPattern.MatchString(s) {
		return false
	}
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return len(prefixes) == 0
}

// one returns the single value of a form field ("" when absent); a field
// given twice is an error, so no value is silently dropped.
func one(form url.Values, name string) (string, error) {
	vs := form[name]
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		if !utf8.ValidString(vs[0]) {
			return "", parley.Invalid("Invalid webhook.", map[string]string{name: "invalid UTF-8"})
		}
		return vs[0], nil
	}
	return "", parley.Invalid("Invalid webhook.", map[string]string{name: "given more than once"})
}

// inboundMessage is a parsed messaging webhook.
type inboundMessage struct {
	Sid string
	// From is the sender's E.164 number (without "whatsapp:"), Region its
	// ISO 3166 region.
	From, Region string
	Body         string
	ProfileName  string
	Media        []parley.Attachment
	// OptOutType is Twilio's Advanced Opt-Out verdict (STOP, START, HELP)
	// when the account has it on.
	OptOutType string
}

// parseMessage reads an inbound SMS, MMS or WhatsApp message webhook for an
// inbox of channel ch. region is the default region for numbers given
// without a country code (the inbox number's).
func parseMessage(form url.Values, ch parley.Channel, region string) (inboundMessage, error) {
	var m inboundMessage
	vals := map[string]string{}
	for _, name := range []string{"MessageSid", "From", "Body", "NumMedia", "ProfileName", "OptOutType"} {
		v, err := one(form, name)
		if err != nil {
			return m, err
		}
		vals[name] = v
	}
	sid, from, body := vals["MessageSid"], vals["From"], vals["Body"]
	numMedia, profile, optOut := vals["NumMedia"], vals["ProfileName"], vals["OptOutType"]
	f := map[string]string{}
	if !validSid(sid, "SM", "MM", "IM") {
		f["MessageSid"] = "a Twilio message sid is required"
	}
	addr, isWhatsApp := strings.CutPrefix(from, "whatsapp:")
	switch {
	case ch == parley.ChannelWhatsApp && !isWhatsApp:
		f["From"] = "a WhatsApp inbox expects whatsapp:+<number>"
	case ch != parley.ChannelWhatsApp && isWhatsApp:
		f["From"] = "a WhatsApp sender on an SMS inbox"
	}
	e164, reg, err := Normalize(addr, region)
	if err != nil {
		f["From"] = err.Error()
	}
	if len(body) > parley.MaxBodyBytes {
		f["Body"] = fmt.Sprintf("longer than %d bytes", parley.MaxBodyBytes)
	}
	if len(profile) > 200 {
		f["ProfileName"] = "longer than 200 bytes"
	}
	n := 0
	if numMedia != "" {
		if n, err = strconv.Atoi(numMedia); err != nil || n < 0 || n > MaxMedia {
			f["NumMedia"] = fmt.Sprintf("must be 0 to %d", MaxMedia)
			n = 0
		}
	}
	for i := range n {
		u, err1 := one(form, "MediaUrl"+strconv.Itoa(i))
		ct, err2 := one(form, "MediaContentType"+strconv.Itoa(i))
		pu, perr := url.Parse(u)
		if err1 != nil || err2 != nil || perr != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" || len(u) > 2048 {
			f["MediaUrl"+strconv.Itoa(i)] = "an http(s) URL is required"
			continue
		}
		if _, _, err := mime.ParseMediaType(ct); err != nil || len(ct) > 200 {
			ct = "application/octet-stream"
		}
		m.Media = append(m.Media, parley.Attachment{Name: mediaName(i, ct), ContentType: ct, URL: u})
	}
	if len(f) > 0 {
		return inboundMessage{}, parley.Invalid("Invalid Twilio message webhook.", f)
	}
	if strings.TrimSpace(body) == "" {
		switch len(m.Media) {
		case 0:
			return inboundMessage{}, parley.Invalid("Invalid Twilio message webhook.", map[string]string{"Body": "empty, and no media"})
		case 1:
			body = "(attachment)"
		default:
			body = fmt.Sprintf("(%d attachments)", len(m.Media))
		}
	}
	m.Sid, m.From, m.Region, m.Body, m.ProfileName, m.OptOutType = sid, e164, reg, body, strings.TrimSpace(profile), strings.ToUpper(optOut)
	return m, nil
}

func mediaName(i int, contentType string) string {
	ext := ""
	if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
		ext = exts[0]
	}
	return fmt.Sprintf("media-%d%s", i+1, ext)
}

// Normalize returns a phone number in E.164 and its ISO 3166 region. A
// number without a country code is read in defaultRegion. Numbers that are
// possible (right length for their country) are accepted even when
// libphonenumber's metadata calls them unassigned: a customer must not be
// refused because the metadata is older than their number.
func Normalize(raw, defaultRegion string) (e164, region string, err error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 40 {
		return "", "", errors.New("a phone number is required")
	}
	if defaultRegion == "" {
		defaultRegion = "ZZ"
	}
	n, err := phonenumbers.Parse(raw, defaultRegion)
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", "", fmt.Errorf("not a phone number")
	}
	region = phonenumbers.GetRegionCodeForNumber(n)
	if region == "" || region == "ZZ" {
		region = phonenumbers.GetRegionCodeForCountryCode(int(n.GetCountryCode()))
	}
	if region == "ZZ" {
		region = ""
	}
	return phonenumbers.Format(n, phonenumbers.E164), region, nil
}

// regionOf returns the region of an inbox's own number ("" when it is not
// a phone number, e.g. a Messaging Service sid).
func regionOf(from string) string {
	from, _ = strings.CutPrefix(from, "whatsapp:")
	_, r, err := Normalize(from, "")
	if err != nil {
		return ""
	}
	return r
}

// keyword classifies a message as an opt-out, opt-in or help request, the
// way Twilio's default opt-out handling does (the whole message, any case).
func keyword(m inboundMessage) string {
	if t := m.OptOutType; t == "STOP" || t == "START" || t == "HELP" {
		return t
	}
	switch strings.ToUpper(strings.TrimSpace(m.Body)) {
	case "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE", "STOP ALL", "退订":
		return "STOP"
	case "START", "YES", "UNSTOP", "OPTIN":
		return "START"
	case "HELP", "INFO":
		return "HELP"
	}
	return ""
}
