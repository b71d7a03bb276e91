// Package crm holds Parley's customer data rules: identity normalisation,
// duplicate rules, the merge conflict rule and profile validation. It is
// pure (no I/O); package postgres stores what these rules decide.
package crm

import (
	"fmt"
	"maps"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"github.com/parleyhq/parley"
)

// Lifecycle stages.
const (
	StageLead     = "lead"
	StageProspect = "prospect"
	StageCustomer = "customer"
	StageLoyal    = "loyal"
	StageAtRisk   = "at_risk"
	StageChurned  = "churned"
)

// Stages lists the lifecycle stages in order.
var Stages = []string{StageLead, StageProspect, StageCustomer, StageLoyal, StageAtRisk, StageChurned}

// MergedPrefix prefixes the attributes a merge keeps from the merged
// customer when the target already has a different value.
const MergedPrefix = "merged."

// Profile is a customer with the CRM's profile fields.
type Profile struct {
	parley.Customer
	Company  string `json:"company"`
	Timezone string `json:"timezone"`
	// TimezoneSource is where Timezone came from: "" (unset), "agent" (a
	// user: PATCH or CSV import) or "browser" (web chat). A browser never
	// replaces an agent's value.
	TimezoneSource string `json:"timezone_source"`
	// BrowserRegion (ISO 3166-1) and BrowserLanguage (BCP 47) are what the
	// visitor's browser last reported in web chat.
	BrowserRegion   string `json:"browser_region"`
	BrowserLanguage string `json:"browser_language"`
	// MergedInto is the customer this one was merged into (0: none).
	MergedInto int64      `json:"merged_into,string,omitempty"`
	ErasedAt   *time.Time `json:"erased_at,omitempty"`
}

// Note is an agent's note on a customer.
type Note struct {
	ID         int64     `json:"id,string"`
	CustomerID int64     `json:"customer_id,string"`
	AuthorID   int64     `json:"author_id,string"`
	AuthorName string    `json:"author_name"`
	Body       string    `json:"body"`
	CreatedAt  time.Time `json:"created_at"`
}

// Duplicate is a suggestion that another customer is the same person, with
// the rules that matched.
type Duplicate struct {
	Customer Profile  `json:"customer"`
	Reasons  []string `json:"reasons"`
}

// Duplicate rule names.
const (
	ReasonSameEmail   = "same_email"
	ReasonSamePhone   = "same_phone"
	ReasonSimilarName = "similar_name"
	// ReasonIdentityOwned: an agent typed an identity another customer owns.
	ReasonIdentityOwned = "identity_owned"
)

// Merge is the record of one merge.
type Merge struct {
	ID         int64        `json:"id,string"`
	TargetID   int64        `json:"target_id,string"`
	FromID     int64        `json:"from_id,string"`
	ActorID    int64        `json:"actor_id,string"`
	ActorName  string       `json:"actor_name"`
	Details    MergeDetails `json:"details"`
	CreatedAt  time.Time    `json:"created_at"`
	UnmergedAt *time.Time   `json:"unmerged_at,omitempty"`
}

// MergeDetails is what a merge moved and changed, so unmerge can undo it.
type MergeDetails struct {
	Identities    []parley.Identity `json:"identities"`
	Conversations []int64           `json:"conversations"`
	Notes         []int64           `json:"notes"`
	// Web-chat visitor sessions (hex SHA-256 of their tokens) and consents.
	VisitorSessions []string          `json:"visitor_sessions"`
	Consents        []parley.Identity `json:"consents"`
	// Fields the target had empty and took from the merged customer.
	FilledFields map[string]string `json:"filled_fields"`
	// Attributes added to the target (new keys and merged.<key> copies).
	AddedAttributes []string `json:"added_attributes"`
	AddedTags       []string `json:"added_tags"`
}

// Patch is a partial profile update; nil fields are unchanged.
type Patch struct {
	Name     *string `json:"name"`
	Email    *string `json:"email"`
	Phone    *string `json:"phone"`
	Company  *string `json:"company"`
	Locale   *string `json:"locale"`
	Timezone *string `json:"timezone"`
	// PreferredChannel: "" clears it; otherwise one of the customer's
	// identities' channels (checked with CheckPreferredChannel).
	PreferredChannel *string               `json:"preferred_channel"`
	Stage            *string               `json:"lifecycle_stage"`
	Tags             *[]string             `json:"tags"`
	Attributes       map[string]*AttrValue `json:"attributes"` // a null value removes the key
}

// NormalizeEmail lower-cases and checks an email address.
func NormalizeEmail(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || len(s) > 254 {
		return "", fmt.Errorf("not an email address")
	}
	return s, nil
}

// NormalizePhone returns a phone number in E.164 ("+" and the country code
// are required unless defaultRegion is given).
func NormalizePhone(raw, defaultRegion string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 40 {
		return "", fmt.Errorf("a phone number is required")
	}
	if defaultRegion == "" {
		defaultRegion = "ZZ"
	}
	n, err := phonenumbers.Parse(raw, defaultRegion)
	if err != nil || !phonenumbers.IsPossibleNumber(n) {
		return "", fmt.Errorf("not a phone number (use E.164, e.g. +14155550100)")
	}
	return phonenumbers.Format(n, phonenumbers.E164), nil
}

// PhoneRegion is the region (ISO 3166-1 alpha-2, e.g. "CN") of an E.164
// number, "" when it has none.
func PhoneRegion(e164 string) string {
	n, err := phonenumbers.Parse(e164, "ZZ")
	if err != nil {
		return ""
	}
	r := phonenumbers.GetRegionCodeForNumber(n)
	if r == "ZZ" || r == "001" {
		return ""
	}
	return r
}

// Region is the customer's region derived from their phone numbers: the
// phone field first, then their phone identities in order ("" without a
// phone).
func Region(phone string, ids []parley.Identity) string {
	if r := PhoneRegion(phone); r != "" {
		return r
	}
	for _, i := range ids {
		if IsPhoneChannel(i.Channel) {
			if r := PhoneRegion(i.Address); r != "" {
				return r
			}
		}
	}
	return ""
}

// IsPhoneChannel reports whether a channel's addresses are phone numbers.
func IsPhoneChannel(c parley.Channel) bool {
	return c == parley.ChannelSMS || c == parley.ChannelWhatsApp || c == parley.ChannelVoice
}

// NormalizeIdentity validates an identity typed by a user: emails are
// lower-cased, phone-based channels become E.164, other addresses trimmed.
func NormalizeIdentity(id parley.Identity) (parley.Identity, error) {
	if !id.Channel.Valid() {
		return id, parley.Invalid("Unknown channel.", map[string]string{"channel": "one of voice, sms, whatsapp, email, webchat, telegram, messenger, wechat"})
	}
	var err error
	switch {
	case id.Channel == parley.ChannelEmail:
		id.Address, err = NormalizeEmail(id.Address)
	case IsPhoneChannel(id.Channel):
		id.Address, err = NormalizePhone(strings.TrimPrefix(strings.TrimSpace(id.Address), "whatsapp:"), "")
	default:
		id.Address = strings.TrimSpace(id.Address)
		if id.Address == "" || len(id.Address) > 200 {
			err = fmt.Errorf("an address of 1 to 200 characters is required")
		}
	}
	if err != nil {
		return id, parley.Invalid("Invalid address.", map[string]string{"address": err.Error()})
	}
	return id, nil
}

// NameKey is the form names are compared in: lower-case, single spaces.
// Names of fewer than two words give "" (too common to suggest a match).
func NameKey(name string) string {
	f := strings.Fields(strings.ToLower(name))
	if len(f) < 2 {
		return ""
	}
	return strings.Join(f, " ")
}

// MergeAttributes applies the merge conflict rule: the target's value wins;
// a different value of the merged customer is kept under merged.<key>; keys
// only the merged customer has are copied. It returns the result and the
// keys it added.
func MergeAttributes(target, from map[string]string) (map[string]string, []string) {
	out := maps.Clone(target)
	if out == nil {
		out = map[string]string{}
	}
	var added []string
	for _, k := range slices.Sorted(maps.Keys(from)) {
		v := from[k]
		cur, ok := out[k]
		switch {
		case !ok:
			out[k] = v
			added = append(added, k)
		case cur != v:
			mk := MergedPrefix + k
			if _, taken := out[mk]; !taken {
				out[mk] = v
				added = append(added, mk)
			}
		}
	}
	return out, added
}

// MergeTags returns the union of tags (target's order first) and the tags
// added.
func MergeTags(target, from []string) ([]string, []string) {
	out := slices.Clone(target)
	if out == nil {
		out = []string{}
	}
	var added []string
	for _, t := range from {
		if !slices.Contains(out, t) {
			out = append(out, t)
			added = append(added, t)
		}
	}
	return out, added
}

// ValidStage reports whether s is a lifecycle stage.
func ValidStage(s string) bool { return slices.Contains(Stages, s) }

// Apply validates a patch and applies it to p. Values of attributes with a
// definition in defs are checked against its type and stored canonically;
// a bad one is reported under the field "attributes.<key>".
func (pt Patch) Apply(p *Profile, defs map[string]AttributeDef) error {
	f := map[string]string{}
	text := func(name string, v *string, dst *string, max int) {
		if v == nil {
			return
		}
		s := strings.TrimSpace(*v)
		if utf8.RuneCountInString(s) > max {
			f[name] = fmt.Sprintf("at most %d characters", max)
			return
		}
		*dst = s
	}
	text("name", pt.Name, &p.Name, 200)
	text("company", pt.Company, &p.Company, 200)
	text("locale", pt.Locale, &p.Locale, 35)
	if pt.Email != nil {
		if strings.TrimSpace(*pt.Email) == "" {
			p.Email = ""
		} else if e, err := NormalizeEmail(*pt.Email); err != nil {
			f["email"] = err.Error()
		} else {
			p.Email = e
		}
	}
	if pt.Phone != nil {
		if strings.TrimSpace(*pt.Phone) == "" {
			p.Phone = ""
		} else if ph, err := NormalizePhone(*pt.Phone, ""); err != nil {
			f["phone"] = err.Error()
		} else {
			p.Phone = ph
		}
	}
	if pt.Timezone != nil {
		tz := strings.TrimSpace(*pt.Timezone)
		if tz == "" {
			p.Timezone, p.TimezoneSource = "", ""
		} else if !ValidTimezone(tz) {
			f["timezone"] = "an IANA time zone such as Asia/Shanghai"
		} else {
			p.Timezone, p.TimezoneSource = tz, SourceAgent
		}
	}
	if pt.PreferredChannel != nil {
		ch := parley.Channel(strings.TrimSpace(*pt.PreferredChannel))
		if ch != "" && !ch.Valid() {
			f["preferred_channel"] = "one of " + strings.Join(channelNames(), ", ")
		} else {
			p.PreferredChannel = ch
		}
	}
	if pt.Stage != nil {
		if !ValidStage(*pt.Stage) {
			f["lifecycle_stage"] = "one of " + strings.Join(Stages, ", ")
		} else {
			p.Stage = *pt.Stage
		}
	}
	if pt.Tags != nil {
		tags := []string{}
		for _, t := range *pt.Tags {
			t = strings.TrimSpace(t)
			if t == "" || utf8.RuneCountInString(t) > 50 {
				f["tags"] = "tags are 1 to 50 characters"
				break
			}
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		if len(tags) > 50 {
			f["tags"] = "at most 50 tags"
		}
		p.Tags = tags
	}
	if pt.Attributes != nil {
		attrs := maps.Clone(p.Attributes)
		if attrs == nil {
			attrs = map[string]string{}
		}
		for k, v := range pt.Attributes {
			if k == "" || len(k) > 64 || strings.ContainsAny(k, " \t\n") {
				f["attributes"] = "keys are 1 to 64 characters without spaces"
				continue
			}
			if v == nil {
				delete(attrs, k)
				continue
			}
			def, ok := defs[k]
			if !ok {
				def = AttributeDef{Key: k, Type: TypeText}
			}
			if cv, err := def.Check(string(*v)); err != nil {
				f["attributes."+k] = err.Error()
			} else {
				attrs[k] = cv
			}
		}
		if len(attrs) > 200 {
			f["attributes"] = "at most 200 attributes"
		}
		p.Attributes = attrs
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid customer.", f)
	}
	return nil
}
