package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"

	"github.com/twilio/twilio-go/client"
)

// ValidSignature reports whether sig is Twilio's X-Twilio-Signature of a
// form POST to rawURL (the URL Twilio requested, query included) signed with
// authToken. twilio-go's RequestValidator checks it (with and without the
// default port); it takes one value per parameter, so a form that repeats
// a name is checked here by the same documented algorithm over every pair.
func ValidSignature(authToken, rawURL string, form url.Values, sig string) bool {
	if sig == "" || authToken == "" {
		return false
	}
	params := make(map[string]string, len(form))
	for k, vs := range form {
		if len(vs) != 1 {
			return validRepeated(authToken, rawURL, form, sig)
		}
		params[k] = vs[0]
	}
	v := client.NewRequestValidator(authToken)
	return v.Validate(rawURL, params, sig)
}

func validRepeated(authToken, rawURL string, form url.Values, sig string) bool {
	for _, u := range portVariants(rawURL) {
		if hmac.Equal([]byte(Signature(authToken, u, form)), []byte(sig)) {
			return true
		}
	}
	return false
}

// portVariants returns rawURL as given, with its scheme's default port and
// without any port: Twilio's libraries accept all three.
func portVariants(rawURL string) []string {
	out := []string{rawURL}
	u, err := url.Parse(rawURL)
	if err != nil {
		return out
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	def := "80"
	if u.Scheme == "https" {
		def = "443"
	}
	with, without := *u, *u
	with.Host, without.Host = host+":"+def, host
	return append(out, with.String(), without.String())
}

// Signature computes Twilio's X-Twilio-Signature of a form POST: base64 of
// HMAC-SHA1(authToken, url + every name+value pair sorted by name, then
// value). The fake Twilio signs its webhooks with it; twilio-go only
// validates.
func Signature(authToken, rawURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(rawURL)
	for _, k := range keys {
		vs := append([]string(nil), form[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	h := hmac.New(sha1.New, []byte(authToken))
	h.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}
