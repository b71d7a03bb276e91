package crm

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Filter is a segment's saved filter. Every condition given must hold; an
// empty filter matches every active customer.
type Filter struct {
	// Stages: the customer is in one of these lifecycle stages.
	Stages []string `json:"lifecycle_stages,omitempty"`
	// Tags: the customer has every one of these tags.
	Tags []string `json:"tags,omitempty"`
	// Attributes: each attribute equals the value (canonical form, see
	// AttributeDef.Check).
	Attributes map[string]string `json:"attributes,omitempty"`
	// Channels: the customer has an identity on one of these channels.
	Channels []string `json:"channels,omitempty"`
	// ContactWithinDays: a conversation started within this many days.
	ContactWithinDays int `json:"contact_within_days,omitempty"`
	// NoContactDays: no conversation started within this many days.
	NoContactDays int `json:"no_contact_days,omitempty"`
	// The customer's latest CSAT (1–5) and NPS (0–10) answer is within the bounds.
	CSATAtLeast *int `json:"csat_at_least,omitempty"`
	CSATAtMost  *int `json:"csat_at_most,omitempty"`
	NPSAtLeast  *int `json:"nps_at_least,omitempty"`
	NPSAtMost   *int `json:"nps_at_most,omitempty"`
}

// Segment is a named saved filter. PriorityBoost is added to a new
// conversation's priority when its customer is a member.
type Segment struct {
	ID            int64     `json:"id,string"`
	Name          string    `json:"name"`
	Filter        Filter    `json:"filter"`
	PriorityBoost int       `json:"priority_boost"`
	CreatedAt     time.Time `json:"created_at"`
	// Size is the number of members (when asked for).
	Size *int `json:"size,omitempty"`
}

// Validate checks a segment and its filter against the attribute
// definitions (values of defined attributes are put in canonical form).
func (s *Segment) Validate(defs map[string]AttributeDef) error {
	f := map[string]string{}
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" || utf8.RuneCountInString(s.Name) > 100 {
		f["name"] = "1 to 100 characters"
	}
	if s.PriorityBoost < 0 || s.PriorityBoost > MaxPriority {
		f["priority_boost"] = "0 to 100"
	}
	fl := &s.Filter
	for _, st := range fl.Stages {
		if !ValidStage(st) {
			f["filter.lifecycle_stages"] = "stages are " + strings.Join(Stages, ", ")
		}
	}
	for _, c := range fl.Channels {
		if !parley.Channel(c).Valid() {
			f["filter.channels"] = "channels are voice, sms, whatsapp, email, webchat, telegram, messenger, wechat"
		}
	}
	for _, t := range fl.Tags {
		if strings.TrimSpace(t) == "" {
			f["filter.tags"] = "tags are not empty"
		}
	}
	for k, v := range fl.Attributes {
		d, ok := defs[k]
		if !ok {
			d = AttributeDef{Key: k, Type: TypeText}
		}
		cv, err := d.Check(v)
		if err != nil {
			f["filter.attributes."+k] = err.Error()
			continue
		}
		fl.Attributes[k] = cv
	}
	days := func(name string, v int) {
		if v < 0 || v > 3650 {
			f["filter."+name] = "0 to 3650 days"
		}
	}
	days("contact_within_days", fl.ContactWithinDays)
	days("no_contact_days", fl.NoContactDays)
	score := func(name string, v *int, lo, hi int) {
		if v != nil && (*v < lo || *v > hi) {
			f["filter."+name] = fmt.Sprintf("a score of %d to %d", lo, hi)
		}
	}
	score("csat_at_least", fl.CSATAtLeast, 1, 5)
	score("csat_at_most", fl.CSATAtMost, 1, 5)
	score("nps_at_least", fl.NPSAtLeast, 0, 10)
	score("nps_at_most", fl.NPSAtMost, 0, 10)
	fl.Stages = slices.Compact(slices.Sorted(slices.Values(fl.Stages)))
	if len(f) > 0 {
		return parley.Invalid("Invalid segment.", f)
	}
	return nil
}
