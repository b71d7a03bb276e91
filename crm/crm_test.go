package crm

import (
	"maps"
	"slices"
	"testing"

	"github.com/parleyhq/parley"
)

func TestCustomerIdentityNormalisation(t *testing.T) {
	for _, c := range []struct {
		in   parley.Identity
		want string
		ok   bool
	}{
		{parley.Identity{Channel: "email", Address: " Mei.Ling@Example.COM "}, "mei.ling@example.com", true},
		{parley.Identity{Channel: "sms", Address: "+1 (415) 555-0123"}, "+14155550123", true},
		{parley.Identity{Channel: "whatsapp", Address: "whatsapp:+8613800138000"}, "+8613800138000", true},
		{parley.Identity{Channel: "sms", Address: "555-0123"}, "", false},
		{parley.Identity{Channel: "email", Address: "not an email"}, "", false},
		{parley.Identity{Channel: "fax", Address: "1"}, "", false},
		{parley.Identity{Channel: "telegram", Address: " 12345 "}, "12345", true},
	} {
		got, err := NormalizeIdentity(c.in)
		if (err == nil) != c.ok || (c.ok && got.Address != c.want) {
			t.Errorf("NormalizeIdentity(%v) = %q, %v; want %q ok=%v", c.in, got.Address, err, c.want, c.ok)
		}
	}
}

func TestCustomerMergeRuleKeepsTargetAndMergedCopy(t *testing.T) {
	got, added := MergeAttributes(map[string]string{"plan": "gold", "a": "1"}, map[string]string{"plan": "silver", "a": "1", "region": "CA"})
	want := map[string]string{"plan": "gold", "a": "1", "merged.plan": "silver", "region": "CA"}
	if !maps.Equal(got, want) || !slices.Equal(added, []string{"merged.plan", "region"}) {
		t.Errorf("MergeAttributes = %v, %v; want %v, [merged.plan region]", got, added, want)
	}
	tags, addedTags := MergeTags([]string{"vip"}, []string{"sms", "vip"})
	if !slices.Equal(tags, []string{"vip", "sms"}) || !slices.Equal(addedTags, []string{"sms"}) {
		t.Errorf("MergeTags = %v, %v", tags, addedTags)
	}
}

func TestCustomerNameKeyNeedsTwoWords(t *testing.T) {
	if NameKey("  Mei   LING ") != "mei ling" || NameKey("Alex") != "" {
		t.Errorf("NameKey: %q %q", NameKey("  Mei   LING "), NameKey("Alex"))
	}
}

func TestCustomerPatchValidates(t *testing.T) {
	p := Profile{Customer: parley.Customer{Stage: StageLead}}
	bad, tz := "famous", "Mars/Base"
	if err := (Patch{Stage: &bad, Timezone: &tz}).Apply(&p, nil); parley.ErrorCode(err) != parley.EINVALID || len(parley.ErrorFields(err)) != 2 {
		t.Errorf("bad patch: %v %v", err, parley.ErrorFields(err))
	}
	st, ph := StageAtRisk, "+44 20 7946 0958"
	if err := (Patch{Stage: &st, Phone: &ph}).Apply(&p, nil); err != nil || p.Stage != StageAtRisk || p.Phone != "+442079460958" {
		t.Errorf("good patch: %v %+v", err, p)
	}
}

func TestCustomerRegionFromPhones(t *testing.T) {
	tests := []struct {
		name  string
		phone string
		ids   []parley.Identity
		want  string
	}{
		{"phone field", "+8613800138000", nil, "CN"},
		{"phone field first", "+14155550100", []parley.Identity{{Channel: parley.ChannelSMS, Address: "+8613800138000"}}, "US"},
		{"first phone identity", "", []parley.Identity{
			{Channel: parley.ChannelEmail, Address: "a@example.com"},
			{Channel: parley.ChannelWhatsApp, Address: "+33142685300"},
			{Channel: parley.ChannelSMS, Address: "+8613800138000"}}, "FR"},
		{"no phone", "", []parley.Identity{{Channel: parley.ChannelWebchat, Address: "visitor:1"}}, ""},
		{"not a number", "12", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Region(tt.phone, tt.ids); got != tt.want {
				t.Errorf("Region(%q, %v) = %q; want %q", tt.phone, tt.ids, got, tt.want)
			}
		})
	}
}
