package crm

import (
	"fmt"
	"slices"
	"strings"

	"github.com/parleyhq/parley"
)

// Reasons for a lifecycle change.
const (
	ReasonHand           = "hand"
	ReasonFirstPurchase  = "first_purchase"
	ReasonRepeatContacts = "repeat_contacts"
	ReasonLowCSAT        = "low_csat"
	ReasonLowNPS         = "low_nps"
	ReasonInactive       = "inactive"
	ReasonImport         = "import"
)

// MaxPriority is the highest conversation priority routing knows.
const MaxPriority = 100

// Settings are the lifecycle rules and the routing boosts, set by admins.
// A threshold of 0 (-1 for NPS) turns its rule off.
type Settings struct {
	// PurchaseAttribute: when this attribute is first set, a lead,
	// prospect or churned customer becomes a customer.
	PurchaseAttribute string `json:"purchase_attribute"`
	// ProspectContacts: a lead with this many conversations becomes a prospect.
	ProspectContacts int `json:"prospect_contacts"`
	// LoyalContacts within LoyalWindowDays: a customer becomes loyal.
	LoyalContacts   int `json:"loyal_contacts"`
	LoyalWindowDays int `json:"loyal_window_days"`
	// LowCSAT (1–5 scale) and LowNPS (0–10): an answer at or below makes a
	// customer or loyal customer at risk.
	LowCSAT int `json:"low_csat"`
	LowNPS  int `json:"low_nps"`
	// InactiveDays: a customer, loyal or at-risk customer without a new
	// conversation for this many days is churned (checked hourly).
	InactiveDays int `json:"inactive_days"`
	// StageBoosts and TagBoosts are added to a new conversation's priority
	// (with the boosts of the segments the customer is in), up to 100.
	StageBoosts map[string]int `json:"stage_boosts"`
	TagBoosts   map[string]int `json:"tag_boosts"`
}

// DefaultSettings are the rules until an admin sets others.
func DefaultSettings() Settings {
	return Settings{PurchaseAttribute: "first_purchase_at", ProspectContacts: 2, LoyalContacts: 5, LoyalWindowDays: 90,
		LowCSAT: 2, LowNPS: 6, InactiveDays: 180,
		StageBoosts: map[string]int{StageAtRisk: 20}, TagBoosts: map[string]int{"vip": 30}}
}

// Validate checks settings.
func (s *Settings) Validate() error {
	f := map[string]string{}
	s.PurchaseAttribute = strings.TrimSpace(s.PurchaseAttribute)
	if s.PurchaseAttribute != "" && !attrKey.MatchString(s.PurchaseAttribute) {
		f["purchase_attribute"] = "an attribute key (a-z, 0-9, _)"
	}
	check := func(name string, v, lo, hi int) {
		if v < lo || v > hi {
			f[name] = fmt.Sprintf("%d to %d", lo, hi)
		}
	}
	check("prospect_contacts", s.ProspectContacts, 0, 1000)
	check("loyal_contacts", s.LoyalContacts, 0, 1000)
	check("loyal_window_days", s.LoyalWindowDays, 1, 3650)
	check("low_csat", s.LowCSAT, 0, 5)
	check("low_nps", s.LowNPS, -1, 10)
	check("inactive_days", s.InactiveDays, 0, 3650)
	if s.StageBoosts == nil {
		s.StageBoosts = map[string]int{}
	}
	if s.TagBoosts == nil {
		s.TagBoosts = map[string]int{}
	}
	for k, v := range s.StageBoosts {
		if !ValidStage(k) {
			f["stage_boosts"] = "keys are lifecycle stages: " + strings.Join(Stages, ", ")
		} else if v < 0 || v > MaxPriority {
			f["stage_boosts"] = "boosts are 0 to 100"
		}
	}
	for k, v := range s.TagBoosts {
		if strings.TrimSpace(k) == "" || v < 0 || v > MaxPriority {
			f["tag_boosts"] = "tags with boosts of 0 to 100"
		}
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid CRM settings.", f)
	}
	return nil
}

// StageOnPurchase is the first-purchase rule: the purchase attribute went
// from unset to set.
func (s Settings) StageOnPurchase(cur string, before, after map[string]string) (string, bool) {
	a := s.PurchaseAttribute
	if a == "" || before[a] != "" || after[a] == "" {
		return "", false
	}
	if cur == StageLead || cur == StageProspect || cur == StageChurned {
		return StageCustomer, true
	}
	return "", false
}

// StageOnContact is the repeat-contacts rule after a new conversation:
// total conversations ever, recent within the loyalty window.
func (s Settings) StageOnContact(cur string, total, recent int) (string, bool) {
	switch {
	case cur == StageLead && s.ProspectContacts > 0 && total >= s.ProspectContacts:
		return StageProspect, true
	case cur == StageCustomer && s.LoyalContacts > 0 && recent >= s.LoyalContacts:
		return StageLoyal, true
	}
	return "", false
}

// StageOnSurvey is the low-satisfaction rule: a CSAT or NPS answer at or
// below its threshold puts a customer or loyal customer at risk.
func (s Settings) StageOnSurvey(cur, kind string, score int) (string, string, bool) {
	if cur != StageCustomer && cur != StageLoyal {
		return "", "", false
	}
	switch {
	case kind == "csat" && s.LowCSAT > 0 && score <= s.LowCSAT:
		return StageAtRisk, ReasonLowCSAT, true
	case kind == "nps" && s.LowNPS >= 0 && score <= s.LowNPS:
		return StageAtRisk, ReasonLowNPS, true
	}
	return "", "", false
}

// InactiveStages are the stages the inactivity rule moves to churned.
var InactiveStages = []string{StageCustomer, StageLoyal, StageAtRisk}

// Boost is the priority added to a new conversation of a customer in stage
// with tags, plus segmentBoost (the customer's segments' boosts).
func (s Settings) Boost(stage string, tags []string, segmentBoost int) int {
	b := s.StageBoosts[stage] + segmentBoost
	for t, v := range s.TagBoosts {
		if slices.Contains(tags, t) {
			b += v
		}
	}
	return min(b, MaxPriority)
}
