package crm

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func TestParseBrowserKeepsValidHintsAndExplainsTheRest(t *testing.T) {
	tests := []struct {
		tz, lang string
		want     Browser
		ignored  []string
	}{
		{"Asia/Shanghai", "zh-CN", Browser{Timezone: "Asia/Shanghai", Language: "zh-CN", Region: "CN"}, nil},
		{"Europe/London", "en-gb", Browser{Timezone: "Europe/London", Language: "en-GB", Region: "GB"}, nil},
		{"America/Argentina/Buenos_Aires", "es_AR", Browser{Timezone: "America/Argentina/Buenos_Aires", Language: "es-AR", Region: "AR"}, nil},
		{"UTC", "en", Browser{Timezone: "UTC", Language: "en"}, nil},
		{"", "es-419", Browser{Language: "es-419"}, nil}, // Latin America is not a country
		{"", "zh-Hant-TW-u-ca-chinese", Browser{Language: "zh-Hant-TW", Region: "TW"}, nil},
		{"Mars/Olympus", "en-US", Browser{Language: "en-US", Region: "US"}, []string{"timezone"}},
		{"Local", "", Browser{}, []string{"timezone"}},
		{"../../etc/passwd", "<script>", Browser{}, []string{"language", "timezone"}},
		{"/usr/share/zoneinfo/UTC", "x", Browser{}, []string{"language", "timezone"}},
		{strings.Repeat("A", 65), strings.Repeat("en-", 20), Browser{}, []string{"language", "timezone"}},
		{"  ", " ", Browser{}, nil},
	}
	for _, tt := range tests {
		got, ignored := ParseBrowser(tt.tz, tt.lang)
		if got != tt.want {
			t.Errorf("ParseBrowser(%q, %q) = %+v; want %+v", tt.tz, tt.lang, got, tt.want)
		}
		if keys := slices.Sorted(maps.Keys(ignored)); !slices.Equal(keys, tt.ignored) {
			t.Errorf("ParseBrowser(%q, %q) ignored %v; want %v", tt.tz, tt.lang, ignored, tt.ignored)
		}
	}
}

var regionCode = regexp.MustCompile(`^[A-Z]{2}$`)

func FuzzParseBrowser(f *testing.F) {
	for _, s := range [][2]string{{"Asia/Shanghai", "zh-CN"}, {"Local", "en"}, {"", "es-419"}, {"Etc/GMT+5", "sr-Latn-RS"}, {"../x", "x-private"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, tz, lang string) {
		b, ignored := ParseBrowser(tz, lang)
		if b.Timezone != "" {
			if _, err := time.LoadLocation(b.Timezone); err != nil || b.Timezone == "Local" || len(b.Timezone) > 64 {
				t.Fatalf("accepted time zone %q", b.Timezone)
			}
		} else if strings.TrimSpace(tz) != "" && ignored["timezone"] == "" {
			t.Fatalf("time zone %q neither kept nor explained", tz)
		}
		if b.Language == "" && strings.TrimSpace(lang) != "" && ignored["language"] == "" {
			t.Fatalf("language %q neither kept nor explained", lang)
		}
		if len(b.Language) > 35 {
			t.Fatalf("language %q too long", b.Language)
		}
		if b.Region != "" && (!regionCode.MatchString(b.Region) || b.Language == "") {
			t.Fatalf("region %q from language %q", b.Region, lang)
		}
		// The canonical language parses to itself.
		if b.Language != "" {
			again, _ := ParseBrowser("", b.Language)
			if again.Language != b.Language || again.Region != b.Region {
				t.Fatalf("%q → %+v, then %+v", lang, b, again)
			}
		}
	})
}

func TestCheckPreferredChannelOnlyAcceptsTheCustomersChannels(t *testing.T) {
	ids := []parley.Identity{{Channel: parley.ChannelSMS, Address: "+14155550100"}, {Channel: parley.ChannelWebchat, Address: "visitor:1"}}
	for ch, ok := range map[parley.Channel]bool{"": true, parley.ChannelSMS: true, parley.ChannelWebchat: true, parley.ChannelEmail: false, "fax": false} {
		err := CheckPreferredChannel(ch, ids)
		if (err == nil) != ok {
			t.Errorf("CheckPreferredChannel(%q) = %v; want ok %v", ch, err, ok)
		}
		if err != nil && !strings.Contains(parley.ErrorFields(err)["preferred_channel"], "sms, webchat") {
			t.Errorf("CheckPreferredChannel(%q) fields %v; want the customer's channels named", ch, parley.ErrorFields(err))
		}
	}
}

func TestPatchRecordsWhoSetTheTimezoneAndChecksThePreferredChannel(t *testing.T) {
	p := Profile{Timezone: "Europe/Paris", TimezoneSource: SourceBrowser}
	tz, ch := "Asia/Tokyo", "whatsapp"
	if err := (Patch{Timezone: &tz, PreferredChannel: &ch}).Apply(&p, nil); err != nil {
		t.Fatal(err)
	}
	if p.Timezone != "Asia/Tokyo" || p.TimezoneSource != SourceAgent || p.PreferredChannel != parley.ChannelWhatsApp {
		t.Errorf("after the patch %q (%q), %q; want Asia/Tokyo set by an agent, whatsapp", p.Timezone, p.TimezoneSource, p.PreferredChannel)
	}
	empty := ""
	if err := (Patch{Timezone: &empty, PreferredChannel: &empty}).Apply(&p, nil); err != nil {
		t.Fatal(err)
	}
	if p.Timezone != "" || p.TimezoneSource != "" || p.PreferredChannel != "" {
		t.Errorf("after clearing: %q (%q), %q; want all empty", p.Timezone, p.TimezoneSource, p.PreferredChannel)
	}
	bad, local := "pigeon", "Local"
	err := (Patch{PreferredChannel: &bad, Timezone: &local}).Apply(&p, nil)
	if f := parley.ErrorFields(err); f["preferred_channel"] == "" || f["timezone"] == "" {
		t.Errorf("bad channel and time zone: %v; want both fields reported", err)
	}
}
