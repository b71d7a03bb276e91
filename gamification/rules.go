// Package gamification turns the events outbox into points, levels, badges,
// quests and leaderboards.
//
// The rules are pure functions: Evaluate takes one event and the facts the
// service loaded for it (the conversation, the message, the offer) and
// returns ledger entries; ApplyCap clips an entry to its rule's daily cap.
// The Service runs them as a background job over the events table in id
// order, records the entries in an append-only ledger (idempotent on
// agent, rule and event), keeps leaderboards in Redis sorted sets that it can
// rebuild from the ledger, and tells the agent's console with a "points"
// frame. Nothing here runs on the routing or messaging path.
package gamification

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"
	_ "time/tzdata" // time zones for Settings.TimeZone on hosts without zoneinfo

	"github.com/parleyhq/parley"
)

// Rule keys.
const (
	RuleResolved      = "resolved"       // conversation resolved (not as spam, duplicate or no response)
	RuleFirstResponse = "first_response" // first agent reply within the target
	RuleCSAT          = "csat_good"      // CSAT 4–5 on the agent's conversation
	RuleNPS           = "nps_promoter"   // NPS 9–10
	RuleFCR           = "fcr"            // no repeat contact within the window after resolve
	RulePromptAccept  = "prompt_accept"  // offer accepted within N seconds
	RuleSLAMet        = "sla_met"        // resolution within SLA (sla.met, metric resolution)
	RuleMissedOffer   = "missed_offer"   // penalty: offer timed out
	RuleSLABreach     = "sla_breach"     // penalty: SLA breached on the agent's conversation
	// RuleReopen is not configurable: a reopened conversation takes its
	// resolution points back.
	RuleReopen = "reopen"
)

// Event types the rules read. The outbox writes the first ones today; the
// others are the contract for the SLA and survey features (see
// docs/gamification.md).
const (
	EventConversationResolved = "conversation.resolved"
	EventConversationReopened = "conversation.reopened"
	EventMessageCreated       = "message.created"
	EventOfferAccepted        = "offer.accepted"
	EventOfferTimeout         = "offer.timeout"
	EventSLAMet               = "sla.met"         // payload {"metric": "first_response"|"resolution"}
	EventSLABreached          = "sla.breached"    // payload {"metric": ...}
	EventSurveyAnswered       = "survey.answered" // payload {"kind": "csat"|"nps", "score": n}
)

// NoWork lists the dispositions that earn no resolution or first-contact-
// resolution points: nothing was solved.
var NoWork = []string{"spam", "duplicate", "no_response"}

// Counts reports whether a resolve with disposition d is a resolution.
func Counts(d string) bool { return !slices.Contains(NoWork, d) }

// Sources of the first-response rule.
const (
	SourceReply = "reply" // the first public agent reply, timed from assignment
	SourceSLA   = "sla"   // sla.met events with metric first_response
)

// Rule is one configurable point rule.
type Rule struct {
	Key     string `json:"key"`
	Enabled bool   `json:"enabled"`
	// Points per award; negative for penalties.
	Points int `json:"points"`
	// DailyCap bounds the points (absolute value) one agent gets from this
	// rule in one local day; 0 means no cap.
	DailyCap int `json:"daily_cap"`
	// Threshold means seconds (first_response, prompt_accept), a minimum
	// score (csat_good, nps_promoter) or days (fcr); 0 for the others.
	Threshold int `json:"threshold,omitempty"`
	// Source is where first_response comes from: "reply" or "sla".
	Source string `json:"source,omitempty"`
}

// Penalty reports whether the rule deducts points.
func (r Rule) Penalty() bool { return r.Key == RuleMissedOffer || r.Key == RuleSLABreach }

// Settings are the admin-configurable rules and the time zone that defines
// "a day", "a week" and "a month" for caps, badges and leaderboards.
type Settings struct {
	TimeZone string          `json:"timezone"`
	Rules    map[string]Rule `json:"-"`
}

// DefaultRules is the default rule set (documented in docs/gamification.md).
func DefaultRules() []Rule {
	return []Rule{
		{Key: RuleResolved, Enabled: true, Points: 10, DailyCap: 300},
		{Key: RuleFirstResponse, Enabled: true, Points: 5, DailyCap: 100, Threshold: 60, Source: SourceReply},
		{Key: RuleCSAT, Enabled: true, Points: 15, DailyCap: 300, Threshold: 4},
		{Key: RuleNPS, Enabled: true, Points: 10, DailyCap: 200, Threshold: 9},
		{Key: RuleFCR, Enabled: true, Points: 10, DailyCap: 300, Threshold: 7},
		{Key: RulePromptAccept, Enabled: true, Points: 2, DailyCap: 40, Threshold: 10},
		{Key: RuleSLAMet, Enabled: true, Points: 5, DailyCap: 150},
		{Key: RuleMissedOffer, Enabled: true, Points: -3, DailyCap: 30},
		{Key: RuleSLABreach, Enabled: true, Points: -5, DailyCap: 50},
	}
}

// RuleKeys lists the configurable rules in their documented order.
func RuleKeys() []string {
	var out []string
	for _, r := range DefaultRules() {
		out = append(out, r.Key)
	}
	return out
}

// DefaultSettings returns the settings of a fresh deployment.
func DefaultSettings() Settings {
	s := Settings{TimeZone: "UTC", Rules: map[string]Rule{}}
	for _, r := range DefaultRules() {
		s.Rules[r.Key] = r
	}
	return s
}

// settingsJSON is the wire and storage form of Settings: rules as a list in
// documented order.
type settingsJSON struct {
	TimeZone string `json:"timezone"`
	Rules    []Rule `json:"rules"`
}

// MarshalJSON writes the rules as a list in documented order.
func (s Settings) MarshalJSON() ([]byte, error) {
	out := settingsJSON{TimeZone: s.TimeZone}
	for _, k := range RuleKeys() {
		if r, ok := s.Rules[k]; ok {
			out.Rules = append(out.Rules, r)
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads the list form.
func (s *Settings) UnmarshalJSON(b []byte) error {
	var in settingsJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	s.TimeZone, s.Rules = in.TimeZone, map[string]Rule{}
	for _, r := range in.Rules {
		s.Rules[r.Key] = r
	}
	return nil
}

// Merge returns the defaults with stored (possibly partial, possibly older)
// settings laid over them; unknown rules are dropped.
func Merge(stored Settings) Settings {
	out := DefaultSettings()
	if stored.TimeZone != "" {
		out.TimeZone = stored.TimeZone
	}
	for k, r := range stored.Rules {
		if _, ok := out.Rules[k]; ok {
			r.Key = k
			out.Rules[k] = r
		}
	}
	return out
}

// Location returns the settings' time zone (UTC when unknown).
func (s Settings) Location() *time.Location {
	if loc, err := time.LoadLocation(s.TimeZone); err == nil {
		return loc
	}
	return time.UTC
}

// Rule returns the rule with key k (disabled zero rule when unknown).
func (s Settings) Rule(k string) Rule { return s.Rules[k] }

// Validate checks settings an admin submitted.
func (s Settings) Validate() error {
	f := map[string]string{}
	if _, err := time.LoadLocation(s.TimeZone); err != nil || s.TimeZone == "" {
		f["timezone"] = "must be an IANA time zone such as UTC or Asia/Shanghai"
	}
	defaults := DefaultSettings()
	for _, k := range slices.Sorted(maps.Keys(s.Rules)) {
		r := s.Rules[k]
		field := "rules." + k
		if _, ok := defaults.Rules[k]; !ok {
			f[field] = "unknown rule"
			continue
		}
		switch {
		case r.Points < -1000 || r.Points > 1000:
			f[field] = "points must be between -1000 and 1000"
		case r.Penalty() && r.Points > 0:
			f[field] = "a penalty's points must be zero or negative"
		case !r.Penalty() && r.Points < 0:
			f[field] = "an award's points must be zero or positive"
		case r.DailyCap < 0 || r.DailyCap > 100000:
			f[field] = "daily_cap must be between 0 (no cap) and 100000"
		}
		if _, bad := f[field]; bad {
			continue
		}
		switch k {
		case RuleFirstResponse:
			if r.Threshold < 1 || r.Threshold > 86400 {
				f[field] = "threshold (seconds) must be between 1 and 86400"
			} else if r.Source != SourceReply && r.Source != SourceSLA {
				f[field] = `source must be "reply" or "sla"`
			}
		case RulePromptAccept:
			if r.Threshold < 1 || r.Threshold > 3600 {
				f[field] = "threshold (seconds) must be between 1 and 3600"
			}
		case RuleCSAT:
			if r.Threshold < 1 || r.Threshold > 5 {
				f[field] = "threshold (minimum CSAT score) must be between 1 and 5"
			}
		case RuleNPS:
			if r.Threshold < 0 || r.Threshold > 10 {
				f[field] = "threshold (minimum NPS score) must be between 0 and 10"
			}
		case RuleFCR:
			if r.Threshold < 1 || r.Threshold > 60 {
				f[field] = "threshold (days without repeat contact) must be between 1 and 60"
			}
		}
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid gamification rules.", f)
	}
	return nil
}

// Event is one row of the events outbox.
type Event struct {
	ID             int64
	Type           string
	ConversationID int64
	AgentID        int64
	CustomerID     int64
	Payload        map[string]any
	At             time.Time
}

func (e Event) str(k string) string {
	s, _ := e.Payload[k].(string)
	return s
}

func (e Event) num(k string) (float64, bool) {
	switch v := e.Payload[k].(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	}
	return 0, false
}

// Facts are what the service loaded for an event: the rules never query.
type Facts struct {
	Conversation ConversationFacts
	// Message is set for message.created.
	Message *MessageFacts
	// Offer is set for offer.* events.
	Offer *OfferFacts
	// ResolutionPoints is, for conversation.reopened, the net resolution
	// points each agent holds on the conversation.
	ResolutionPoints map[int64]int
}

// ConversationFacts describe the event's conversation (zero when none).
type ConversationFacts struct {
	ID          int64
	Channel     parley.Channel
	CustomerID  int64
	AgentID     int64
	Status      parley.ConversationStatus
	Disposition string
	CreatedAt   time.Time
	AssignedAt  time.Time
	ResolvedAt  time.Time
}

// MessageFacts describe a message.created event's message.
type MessageFacts struct {
	ID         int64
	SenderType string
	SenderID   int64
	Direction  parley.Direction
	Private    bool
	CreatedAt  time.Time
	// FirstAgentReply is true when no public agent reply precedes it in the
	// conversation.
	FirstAgentReply bool
}

// OfferFacts describe an offer.* event's offer.
type OfferFacts struct {
	ID        string
	AgentID   int64
	CreatedAt time.Time
	EndedAt   time.Time
}

// Entry is one ledger row.
type Entry struct {
	ID             int64          `json:"id,string"`
	AgentID        int64          `json:"agent_id,string"`
	Rule           string         `json:"rule"`
	Points         int            `json:"points"`
	ConversationID int64          `json:"conversation_id,string,omitempty"`
	EventID        int64          `json:"event_id,string,omitempty"`
	Dedupe         string         `json:"-"`
	Reason         string         `json:"reason"`
	Detail         map[string]any `json:"detail,omitempty"`
	TeamIDs        []int64        `json:"-"`
	At             time.Time      `json:"at"`
}

func eventDedupe(id int64) string { return fmt.Sprintf("event:%d", id) }

func conversationDedupe(id int64) string { return fmt.Sprintf("conversation:%d", id) }

// Evaluate applies the rules to one event. It is pure: the same event,
// facts and settings give the same entries. Caps are applied afterwards
// (ApplyCap), because they depend on what the ledger already holds.
func Evaluate(ev Event, f Facts, s Settings) []Entry {
	conv := f.Conversation
	entry := func(rule string, agent int64, points int, dedupe, reason string, detail map[string]any) Entry {
		return Entry{AgentID: agent, Rule: rule, Points: points, ConversationID: ev.ConversationID, EventID: ev.ID,
			Dedupe: dedupe, Reason: reason, Detail: detail, At: ev.At}
	}
	on := func(k string) (Rule, bool) {
		r := s.Rule(k)
		return r, r.Enabled && r.Points != 0
	}
	switch ev.Type {
	case EventConversationResolved:
		r, ok := on(RuleResolved)
		agent := ev.AgentID
		if agent == 0 {
			agent = conv.AgentID
		}
		if !ok || agent == 0 || !Counts(ev.str("disposition")) {
			return nil
		}
		return []Entry{entry(RuleResolved, agent, r.Points, eventDedupe(ev.ID),
			fmt.Sprintf("Resolved conversation %d", ev.ConversationID), nil)}

	case EventConversationReopened:
		var out []Entry
		for _, agent := range slices.Sorted(maps.Keys(f.ResolutionPoints)) {
			if p := f.ResolutionPoints[agent]; p > 0 {
				out = append(out, entry(RuleReopen, agent, -p, eventDedupe(ev.ID),
					fmt.Sprintf("Conversation %d reopened: resolution points taken back", ev.ConversationID), map[string]any{"of": RuleResolved}))
			}
		}
		return out

	case EventMessageCreated:
		r, ok := on(RuleFirstResponse)
		m := f.Message
		if !ok || r.Source != SourceReply || m == nil || !m.FirstAgentReply || m.SenderType != parley.SenderAgent ||
			m.Direction != parley.DirectionOut || m.Private || m.SenderID == 0 || m.SenderID != conv.AgentID {
			return nil
		}
		// Timed from when the agent got the conversation: waiting in the
		// queue is not the agent's doing.
		from := conv.AssignedAt
		if from.IsZero() {
			from = conv.CreatedAt
		}
		elapsed := m.CreatedAt.Sub(from)
		if elapsed < 0 {
			elapsed = 0
		}
		if elapsed > time.Duration(r.Threshold)*time.Second {
			return nil
		}
		secs := int(elapsed / time.Second)
		return []Entry{entry(RuleFirstResponse, m.SenderID, r.Points, conversationDedupe(ev.ConversationID),
			fmt.Sprintf("First response in %d s on conversation %d", secs, ev.ConversationID), map[string]any{"elapsed_s": secs})}

	case EventOfferAccepted:
		r, ok := on(RulePromptAccept)
		o := f.Offer
		if !ok || o == nil || ev.AgentID == 0 || o.EndedAt.IsZero() {
			return nil
		}
		elapsed := o.EndedAt.Sub(o.CreatedAt)
		if elapsed > time.Duration(r.Threshold)*time.Second {
			return nil
		}
		secs := int(max(elapsed, 0) / time.Second)
		return []Entry{entry(RulePromptAccept, ev.AgentID, r.Points, eventDedupe(ev.ID),
			fmt.Sprintf("Offer accepted in %d s", secs), map[string]any{"elapsed_s": secs})}

	case EventOfferTimeout:
		r, ok := on(RuleMissedOffer)
		if !ok || ev.AgentID == 0 {
			return nil
		}
		return []Entry{entry(RuleMissedOffer, ev.AgentID, r.Points, eventDedupe(ev.ID),
			fmt.Sprintf("Missed an offer for conversation %d", ev.ConversationID), nil)}

	case EventSLAMet:
		agent := ev.AgentID
		if agent == 0 {
			agent = conv.AgentID
		}
		if agent == 0 {
			return nil
		}
		switch ev.str("metric") {
		case "first_response":
			r, ok := on(RuleFirstResponse)
			if !ok || r.Source != SourceSLA {
				return nil
			}
			return []Entry{entry(RuleFirstResponse, agent, r.Points, conversationDedupe(ev.ConversationID),
				fmt.Sprintf("First response within SLA on conversation %d", ev.ConversationID), nil)}
		case "resolution":
			r, ok := on(RuleSLAMet)
			if !ok {
				return nil
			}
			return []Entry{entry(RuleSLAMet, agent, r.Points, eventDedupe(ev.ID),
				fmt.Sprintf("Resolved within SLA: conversation %d", ev.ConversationID), nil)}
		}

	case EventSLABreached:
		r, ok := on(RuleSLABreach)
		agent := ev.AgentID
		if agent == 0 {
			// A breach while the conversation waited in the queue is no
			// agent's fault.
			agent = conv.AgentID
		}
		if !ok || agent == 0 {
			return nil
		}
		return []Entry{entry(RuleSLABreach, agent, r.Points, eventDedupe(ev.ID),
			fmt.Sprintf("SLA breached (%s) on conversation %d", ev.str("metric"), ev.ConversationID), map[string]any{"metric": ev.str("metric")})}

	case EventSurveyAnswered:
		score, hasScore := ev.num("score")
		agent := conv.AgentID
		if agent == 0 {
			agent = ev.AgentID
		}
		if !hasScore || agent == 0 {
			return nil
		}
		var key, label string
		switch ev.str("kind") {
		case "csat":
			key, label = RuleCSAT, "CSAT"
		case "nps":
			key, label = RuleNPS, "NPS"
		default:
			return nil
		}
		r, ok := on(key)
		if !ok || score < float64(r.Threshold) {
			return nil
		}
		return []Entry{entry(key, agent, r.Points, eventDedupe(ev.ID),
			fmt.Sprintf("%s %g on conversation %d", label, score, ev.ConversationID), map[string]any{"score": score})}
	}
	return nil
}

// FCRCandidate is a resolved conversation whose first-contact-resolution
// window has closed.
type FCRCandidate struct {
	ConversationID int64
	AgentID        int64
	CustomerID     int64
	ResolvedAt     time.Time
	// RepeatContact is true when the customer opened another conversation,
	// or this one was reopened, within the window.
	RepeatContact bool
}

// EvaluateFCR returns the first-contact-resolution award for a candidate
// whose window closed at or before now, or nothing.
func EvaluateFCR(c FCRCandidate, now time.Time, s Settings) []Entry {
	r := s.Rule(RuleFCR)
	if !r.Enabled || r.Points == 0 || c.AgentID == 0 || c.RepeatContact {
		return nil
	}
	closes := c.ResolvedAt.Add(FCRWindow(s))
	if now.Before(closes) {
		return nil
	}
	return []Entry{{AgentID: c.AgentID, Rule: RuleFCR, Points: r.Points, ConversationID: c.ConversationID,
		Dedupe: conversationDedupe(c.ConversationID), At: closes,
		Reason: fmt.Sprintf("First-contact resolution: no repeat contact %d days after conversation %d", r.Threshold, c.ConversationID)}}
}

// FCRWindow is how long after a resolve a repeat contact cancels the award.
func FCRWindow(s Settings) time.Duration {
	d := s.Rule(RuleFCR).Threshold
	if d <= 0 {
		d = 7
	}
	return time.Duration(d) * 24 * time.Hour
}

// ApplyCap clips points to what is left of the rule's daily cap given the
// points (absolute) already earned from it today; 0 means nothing is left.
func ApplyCap(points, sofar, dailyCap int) int {
	if dailyCap <= 0 || points == 0 {
		return points
	}
	left := dailyCap - abs(sofar)
	if left <= 0 {
		return 0
	}
	if abs(points) > left {
		if points < 0 {
			return -left
		}
		return left
	}
	return points
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
