package crm

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"golang.org/x/text/language"
)

// Where a profile's time zone came from (Profile.TimezoneSource).
const (
	SourceAgent   = "agent"
	SourceBrowser = "browser"
)

// ValidTimezone reports whether tz is an IANA time zone name such as
// Asia/Shanghai or UTC (not "", not "Local", at most 64 characters).
func ValidTimezone(tz string) bool {
	if tz == "" || tz == "Local" || len(tz) > 64 || strings.ContainsFunc(tz, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+-", r))
	}) || strings.HasPrefix(tz, "/") || strings.Contains(tz, "//") {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}

var allChannels = []parley.Channel{parley.ChannelVoice, parley.ChannelSMS, parley.ChannelWhatsApp, parley.ChannelEmail,
	parley.ChannelWebchat, parley.ChannelTelegram, parley.ChannelMessenger, parley.ChannelWeChat}

func channelNames() []string {
	out := make([]string, len(allChannels))
	for i, c := range allChannels {
		out[i] = string(c)
	}
	return out
}

// CheckPreferredChannel checks that a preferred channel is "" or the
// channel of one of the customer's identities.
func CheckPreferredChannel(ch parley.Channel, ids []parley.Identity) error {
	if ch == "" || slices.ContainsFunc(ids, func(i parley.Identity) bool { return i.Channel == ch }) {
		return nil
	}
	var have []string
	for _, i := range ids {
		if !slices.Contains(have, string(i.Channel)) {
			have = append(have, string(i.Channel))
		}
	}
	want := "the channel of one of the customer's identities"
	if len(have) > 0 {
		want = "one of the customer's channels: " + strings.Join(have, ", ")
	}
	return parley.Invalid("Invalid preferred channel.", map[string]string{"preferred_channel": want})
}

// Browser is what a visitor's browser tells about them: its IANA time zone
// (Intl.DateTimeFormat().resolvedOptions().timeZone) and its language tag
// (navigator.language), whose region subtag is the region.
type Browser struct {
	Timezone string `json:"timezone,omitempty"`
	Language string `json:"language,omitempty"`
	Region   string `json:"region,omitempty"`
}

// ParseBrowser validates a browser's time zone and language tag. A value
// that is not valid is left out of the result and explained in ignored
// (field → reason), so a bad value never stops a chat. The language is
// returned in canonical form ("en-gb" → "en-GB") and the region is its
// explicit region subtag when that is a country ("en-GB" → "GB"; "en",
// "es-419": none).
func ParseBrowser(timezone, lang string) (b Browser, ignored map[string]string) {
	ignored = map[string]string{}
	if tz := strings.TrimSpace(timezone); tz != "" {
		if ValidTimezone(tz) {
			b.Timezone = tz
		} else {
			ignored["timezone"] = "not an IANA time zone such as Asia/Shanghai"
		}
	}
	if l := strings.TrimSpace(lang); l != "" {
		tag, err := parseLanguage(l)
		if err != nil {
			ignored["language"] = err.Error()
		} else {
			b.Language = tag.String()
			if r, conf := tag.Region(); conf == language.Exact && r.IsCountry() {
				b.Region = r.String()
			}
		}
	}
	return b, ignored
}

func parseLanguage(s string) (language.Tag, error) {
	bad := fmt.Errorf("not a language tag such as en-GB")
	if len(s) > 35 || strings.ContainsFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) {
		return language.Und, bad
	}
	tag, err := language.Parse(strings.ReplaceAll(s, "_", "-"))
	if err != nil || tag == language.Und {
		return language.Und, bad
	}
	// Keep the language, script and region: extensions and variants are
	// noise here (and make the tag long).
	base, _ := tag.Base()
	script, sconf := tag.Script()
	region, rconf := tag.Region()
	out := base.String()
	if sconf == language.Exact {
		out += "-" + script.String()
	}
	if rconf == language.Exact {
		out += "-" + region.String()
	}
	t, err := language.Parse(out)
	if err != nil || t == language.Und {
		return language.Und, bad
	}
	return t, nil
}
