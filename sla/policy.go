package sla

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
)

// Kind names a clock.
type Kind string

const (
	// FirstResponse runs from the conversation's creation to the first
	// public agent reply.
	FirstResponse Kind = "first_response"
	// NextResponse runs from the oldest customer message no agent has
	// answered to the next public agent reply.
	NextResponse Kind = "next_response"
	// Resolution runs from creation (or a reopen) to resolution.
	Resolution Kind = "resolution"
	// Answer (voice) runs from creation to the call's assignment to an agent.
	Answer Kind = "answer"
)

// Kinds lists the clocks in a stable order.
var Kinds = []Kind{FirstResponse, NextResponse, Resolution, Answer}

// DefaultWarnPercent is the share of a target at which a warning fires.
const DefaultWarnPercent = 75

// Escalation triggers.
const (
	OnWarning = "warning"
	OnBreach  = "breach"
)

// Escalation actions.
const (
	// ActionRaisePriority raises the conversation's priority to at least
	// Priority (a queued conversation is re-queued at its old place).
	ActionRaisePriority = "raise_priority"
	// ActionNotifySupervisors sends an sla_escalation frame to the
	// supervisors topic.
	ActionNotifySupervisors = "notify_supervisors"
	// ActionMoveQueue moves a conversation still waiting in its queue to
	// QueueID (an assigned conversation stays with its agent).
	ActionMoveQueue = "move_queue"
	// ActionTag adds Tag to the conversation's tags.
	ActionTag = "tag"
)

// IDs is a list of ids written as JSON strings (numbers are accepted).
type IDs []int64

// MarshalJSON writes the ids as strings.
func (ids IDs) MarshalJSON() ([]byte, error) {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatInt(id, 10)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads strings or numbers.
func (ids *IDs) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(IDs, 0, len(raw))
	for _, r := range raw {
		s := strings.Trim(string(r), `"`)
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("id %s: %w", r, err)
		}
		out = append(out, id)
	}
	*ids = out
	return nil
}

// Match says which conversations a policy applies to. Every non-empty field
// must match; an empty Match matches everything.
type Match struct {
	QueueIDs IDs              `json:"queue_ids,omitempty"`
	Channels []parley.Channel `json:"channels,omitempty"`
	// MinPriority and MaxPriority bound the conversation's priority.
	MinPriority *int `json:"min_priority,omitempty"`
	MaxPriority *int `json:"max_priority,omitempty"`
	// Tiers match the customer attribute "tier".
	Tiers []string `json:"tiers,omitempty"`
	// Segments match any of the customer's tags.
	Segments []string `json:"segments,omitempty"`
	// Stages match the customer's lifecycle stage.
	Stages []string `json:"lifecycle_stages,omitempty"`
}

// Targets are the clocks' targets in seconds; 0 runs no such clock.
type Targets struct {
	FirstResponseS int `json:"first_response_s,omitempty"`
	NextResponseS  int `json:"next_response_s,omitempty"`
	ResolutionS    int `json:"resolution_s,omitempty"`
	// AnswerS is the voice target: answered within this many seconds.
	AnswerS int `json:"answer_s,omitempty"`
}

// Of returns the target of a kind of clock (0: none).
func (t Targets) Of(k Kind) time.Duration {
	var s int
	switch k {
	case FirstResponse:
		s = t.FirstResponseS
	case NextResponse:
		s = t.NextResponseS
	case Resolution:
		s = t.ResolutionS
	case Answer:
		s = t.AnswerS
	}
	return time.Duration(s) * time.Second
}

// Escalation is an action taken when a clock warns or breaches.
type Escalation struct {
	On string `json:"on"`
	// Kinds limits the escalation to some clocks (default: all).
	Kinds    []Kind `json:"kinds,omitempty"`
	Action   string `json:"action"`
	Priority int    `json:"priority,omitempty"`
	QueueID  int64  `json:"queue_id,string,omitempty"`
	Tag      string `json:"tag,omitempty"`
}

// Applies reports whether the escalation is for a clock kind and trigger.
func (e Escalation) Applies(on string, k Kind) bool {
	return e.On == on && (len(e.Kinds) == 0 || slices.Contains(e.Kinds, k))
}

// Policy is an SLA policy. Policies are tried by ascending Position (then
// id); the first enabled one that matches a conversation applies.
type Policy struct {
	ID       int64   `json:"id,string"`
	Name     string  `json:"name"`
	Position int     `json:"position"`
	Enabled  bool    `json:"enabled"`
	Match    Match   `json:"match"`
	Targets  Targets `json:"targets"`
	// BusinessHours counts only the working time of CalendarID; otherwise
	// clocks run 24/7.
	BusinessHours bool  `json:"business_hours"`
	CalendarID    int64 `json:"calendar_id,string,omitempty"`
	// WarnPercent is the share of a target at which a warning fires.
	WarnPercent int          `json:"warn_percent"`
	Escalations []Escalation `json:"escalations"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// Defaults fills unset fields.
func (p *Policy) Defaults() {
	if p.WarnPercent == 0 {
		p.WarnPercent = DefaultWarnPercent
	}
	if p.Escalations == nil {
		p.Escalations = []Escalation{}
	}
}

const maxTargetS = 366 * 24 * 3600

// Validate checks the policy's fields (not that its calendar exists).
func (p Policy) Validate() error {
	f := map[string]string{}
	if strings.TrimSpace(p.Name) == "" {
		f["name"] = "required"
	}
	t := p.Targets
	for k, v := range map[string]int{"first_response_s": t.FirstResponseS, "next_response_s": t.NextResponseS, "resolution_s": t.ResolutionS, "answer_s": t.AnswerS} {
		if v < 0 || v > maxTargetS {
			f["targets."+k] = "must be 0 (none) to one year in seconds"
		}
	}
	if t == (Targets{}) {
		f["targets"] = "at least one target is required"
	}
	if p.WarnPercent < 1 || p.WarnPercent > 99 {
		f["warn_percent"] = "must be 1 to 99"
	}
	if p.BusinessHours && p.CalendarID == 0 {
		f["calendar_id"] = "required for business hours"
	}
	for _, c := range p.Match.Channels {
		if !c.Valid() {
			f["match.channels"] = "unknown channel"
		}
	}
	if lo, hi := p.Match.MinPriority, p.Match.MaxPriority; (lo != nil && (*lo < 0 || *lo > parley.MaxPriority)) ||
		(hi != nil && (*hi < 0 || *hi > parley.MaxPriority)) || (lo != nil && hi != nil && *lo > *hi) {
		f["match"] = "priorities must be 0 to 100, min at most max"
	}
	for i, e := range p.Escalations {
		key := fmt.Sprintf("escalations.%d", i)
		if e.On != OnWarning && e.On != OnBreach {
			f[key] = "on must be warning or breach"
		}
		for _, k := range e.Kinds {
			if !slices.Contains(Kinds, k) {
				f[key] = "unknown clock kind"
			}
		}
		switch e.Action {
		case ActionRaisePriority:
			if e.Priority < 1 || e.Priority > parley.MaxPriority {
				f[key] = "raise_priority needs priority 1 to 100"
			}
		case ActionMoveQueue:
			if e.QueueID == 0 {
				f[key] = "move_queue needs queue_id"
			}
		case ActionNotifySupervisors:
		case ActionTag:
			if _, err := parley.NormalizeTag(e.Tag); err != nil || e.Tag != strings.ToLower(strings.TrimSpace(e.Tag)) {
				f[key] = "tag needs a tag: 1 to 50 lower-case letters, digits, '-', '_', '.' or ':'"
			}
		default:
			f[key] = "action must be raise_priority, notify_supervisors, move_queue or tag"
		}
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid SLA policy.", f)
	}
	return nil
}

// Subject is what policies match on: a conversation and its customer.
type Subject struct {
	QueueID  int64
	Channel  parley.Channel
	Priority int
	Tier     string
	Segments []string
	Stage    string
}

// Matches reports whether m selects s.
func (m Match) Matches(s Subject) bool {
	switch {
	case len(m.QueueIDs) > 0 && !slices.Contains(m.QueueIDs, s.QueueID):
	case len(m.Channels) > 0 && !slices.Contains(m.Channels, s.Channel):
	case m.MinPriority != nil && s.Priority < *m.MinPriority:
	case m.MaxPriority != nil && s.Priority > *m.MaxPriority:
	case len(m.Tiers) > 0 && !containsFold(m.Tiers, s.Tier):
	case len(m.Stages) > 0 && !containsFold(m.Stages, s.Stage):
	case len(m.Segments) > 0 && !slices.ContainsFunc(s.Segments, func(seg string) bool { return containsFold(m.Segments, seg) }):
	default:
		return true
	}
	return false
}

func containsFold(list []string, v string) bool {
	return v != "" && slices.ContainsFunc(list, func(x string) bool { return strings.EqualFold(x, v) })
}

// SortPolicies orders policies as they are tried.
func SortPolicies(ps []Policy) {
	slices.SortStableFunc(ps, func(a, b Policy) int {
		if a.Position != b.Position {
			return a.Position - b.Position
		}
		return int(a.ID - b.ID)
	})
}

// Select returns the first enabled policy (in SortPolicies order) that
// matches s.
func Select(ps []Policy, s Subject) (Policy, bool) {
	sorted := slices.Clone(ps)
	SortPolicies(sorted)
	for _, p := range sorted {
		if p.Enabled && p.Match.Matches(s) {
			return p, true
		}
	}
	return Policy{}, false
}
