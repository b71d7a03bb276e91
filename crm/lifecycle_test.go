package crm

import (
	"encoding/json"
	"testing"

	"github.com/parleyhq/parley"
)

func TestAttributeDefChecksValuesByType(t *testing.T) {
	cases := []struct {
		def      AttributeDef
		in, want string
		ok       bool
	}{
		{AttributeDef{Type: TypeNumber}, " 42.50 ", "42.5", true},
		{AttributeDef{Type: TypeNumber}, "forty", "", false},
		{AttributeDef{Type: TypeNumber}, "Inf", "", false},
		{AttributeDef{Type: TypeDate}, "2026-02-28", "2026-02-28", true},
		{AttributeDef{Type: TypeDate}, "2026-02-30", "", false},
		{AttributeDef{Type: TypeBoolean}, "TRUE", "true", true},
		{AttributeDef{Type: TypeBoolean}, "yes", "", false},
		{AttributeDef{Type: TypeList, Options: []string{"gold", "silver"}}, "gold", "gold", true},
		{AttributeDef{Type: TypeList, Options: []string{"gold", "silver"}}, "Gold", "", false},
		{AttributeDef{Type: TypeText}, "anything", "anything", true},
	}
	for _, c := range cases {
		got, err := c.def.Check(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%s %q: got %q, %v; want %q (ok %v)", c.def.Type, c.in, got, err, c.want, c.ok)
		}
	}
	bad := []AttributeDef{{Key: "Plan", Type: TypeText}, {Key: "plan", Type: "money"}, {Key: "plan", Type: TypeList}, {Key: "plan", Type: TypeText, Options: []string{"a"}}}
	for _, d := range bad {
		if err := d.Validate(); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("definition %+v: %v; want invalid", d, err)
		}
	}
}

func TestPatchReportsEachBadTypedAttribute(t *testing.T) {
	defs := DefsByKey([]AttributeDef{{Key: "seats", Type: TypeNumber}, {Key: "plan", Type: TypeList, Options: []string{"gold"}}})
	var pt Patch
	if err := json.Unmarshal([]byte(`{"attributes": {"seats": "many", "plan": "bronze", "note": 7, "vip": true}}`), &pt); err != nil {
		t.Fatal(err)
	}
	p := Profile{}
	err := pt.Apply(&p, defs)
	f := parley.ErrorFields(err)
	if f["attributes.seats"] == "" || f["attributes.plan"] != "one of gold" || len(f) != 2 {
		t.Errorf("fields = %v; want attributes.seats and attributes.plan", f)
	}
	pt = Patch{}
	json.Unmarshal([]byte(`{"attributes": {"seats": 12, "plan": "gold", "seen": null}}`), &pt)
	p = Profile{}
	p.Attributes = map[string]string{"seen": "x"}
	if err := pt.Apply(&p, defs); err != nil || p.Attributes["seats"] != "12" || p.Attributes["plan"] != "gold" || len(p.Attributes) != 2 {
		t.Errorf("attributes = %v, %v", p.Attributes, err)
	}
}

func TestLifecycleRules(t *testing.T) {
	s := DefaultSettings()
	if to, ok := s.StageOnPurchase(StageLead, map[string]string{}, map[string]string{"first_purchase_at": "2026-01-02"}); !ok || to != StageCustomer {
		t.Errorf("first purchase from lead: %q %v", to, ok)
	}
	if _, ok := s.StageOnPurchase(StageLoyal, map[string]string{}, map[string]string{"first_purchase_at": "x"}); ok {
		t.Error("first purchase moved a loyal customer")
	}
	if to, ok := s.StageOnContact(StageLead, 2, 2); !ok || to != StageProspect {
		t.Errorf("second contact of a lead: %q %v", to, ok)
	}
	if _, ok := s.StageOnContact(StageCustomer, 9, 4); ok {
		t.Error("4 recent contacts made a customer loyal; want 5")
	}
	if to, ok := s.StageOnContact(StageCustomer, 9, 5); !ok || to != StageLoyal {
		t.Errorf("5 recent contacts: %q %v", to, ok)
	}
	if to, r, ok := s.StageOnSurvey(StageLoyal, "csat", 2); !ok || to != StageAtRisk || r != ReasonLowCSAT {
		t.Errorf("CSAT 2 from loyal: %q %q %v", to, r, ok)
	}
	if _, _, ok := s.StageOnSurvey(StageCustomer, "csat", 3); ok {
		t.Error("CSAT 3 put a customer at risk")
	}
	if _, _, ok := s.StageOnSurvey(StageLead, "nps", 0); ok {
		t.Error("a lead's NPS 0 changed its stage")
	}
	if b := s.Boost(StageAtRisk, []string{"vip"}, 60); b != MaxPriority {
		t.Errorf("boost = %d; want capped at 100", b)
	}
	if b := s.Boost(StageCustomer, []string{"vip"}, 5); b != 35 {
		t.Errorf("boost = %d; want 30 (vip) + 5 (segment)", b)
	}
	bad := Settings{LowCSAT: 9, LoyalWindowDays: 0, StageBoosts: map[string]int{"famous": 1}}
	f := parley.ErrorFields(bad.Validate())
	if f["low_csat"] == "" || f["loyal_window_days"] == "" || f["stage_boosts"] == "" {
		t.Errorf("fields = %v", f)
	}
}

func TestSegmentValidation(t *testing.T) {
	defs := DefsByKey([]AttributeDef{{Key: "seats", Type: TypeNumber}})
	five, eleven := 5, 11
	s := Segment{Name: " Big ", Filter: Filter{Attributes: map[string]string{"seats": "010"}, CSATAtMost: &five}}
	if err := s.Validate(defs); err != nil || s.Name != "Big" || s.Filter.Attributes["seats"] != "10" {
		t.Errorf("segment %+v, %v", s, err)
	}
	bad := Segment{Filter: Filter{Stages: []string{"famous"}, Channels: []string{"fax"}, NPSAtMost: &eleven, Attributes: map[string]string{"seats": "x"}}, PriorityBoost: 101}
	f := parley.ErrorFields(bad.Validate(defs))
	for _, k := range []string{"name", "priority_boost", "filter.lifecycle_stages", "filter.channels", "filter.nps_at_most", "filter.attributes.seats"} {
		if f[k] == "" {
			t.Errorf("no error for %s in %v", k, f)
		}
	}
}
