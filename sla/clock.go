package sla

import (
	"time"

	"github.com/parleyhq/parley"
)

// Status is where a clock is.
type Status string

const (
	Running Status = "running"
	// Paused clocks wait on the customer (pending/snoozed conversations).
	Paused  Status = "paused"
	Stopped Status = "stopped"
)

// Outcomes of a stopped clock.
const (
	OutcomeMet      = "met"
	OutcomeBreached = "breached"
	// OutcomeCanceled: the clock stopped without its goal (the
	// conversation was resolved or abandoned before a reply).
	OutcomeCanceled = "canceled"
	// OutcomeReplaced: a queue or priority change chose another policy; the
	// clock's successor (PreviousID pointing here) carries on.
	OutcomeReplaced = "replaced"
)

// Timer kinds.
const (
	TimerWarning = "warning"
	TimerBreach  = "breach"
)

// Clock is one SLA clock of a conversation. Elapsed is the business time
// counted before RunningSince; while running, WarnAt and DueAt are the
// instants the warning and the breach fall due.
type Clock struct {
	ID             int64  `json:"id,string"`
	ConversationID int64  `json:"conversation_id,string"`
	Kind           Kind   `json:"kind"`
	Cycle          int    `json:"cycle"`
	PolicyID       int64  `json:"policy_id,string,omitempty"`
	TargetS        int    `json:"target_s"`
	BusinessHours  bool   `json:"business_hours"`
	CalendarID     int64  `json:"calendar_id,string,omitempty"`
	WarnPercent    int    `json:"warn_percent"`
	Status         Status `json:"status"`
	Outcome        string `json:"outcome,omitempty"`
	// State is what the console shows: running, paused, warning,
	// breached, met, canceled or replaced.
	State        string        `json:"state"`
	StartedAt    time.Time     `json:"started_at"`
	Elapsed      time.Duration `json:"-"`
	ElapsedS     float64       `json:"elapsed_s"`
	RunningSince time.Time     `json:"running_since,omitzero"`
	WarnAt       time.Time     `json:"warn_at,omitzero"`
	DueAt        time.Time     `json:"due_at,omitzero"`
	WarnedAt     time.Time     `json:"warned_at,omitzero"`
	BreachedAt   time.Time     `json:"breached_at,omitzero"`
	StoppedAt    time.Time     `json:"stopped_at,omitzero"`
	PreviousID   int64         `json:"previous_id,string,omitempty"`

	// Previous is the replaced clock while both are unsaved.
	Previous *Clock `json:"-"`
	// Dirty marks a clock changed since it was loaded.
	Dirty bool `json:"-"`
}

// Target returns the clock's target.
func (c *Clock) Target() time.Duration { return time.Duration(c.TargetS) * time.Second }

// Live reports whether the clock is running or paused.
func (c *Clock) Live() bool { return c.Status == Running || c.Status == Paused }

// ElapsedAt returns the business time counted up to at.
func (c *Clock) ElapsedAt(h *Hours, at time.Time) time.Duration {
	if c.Status != Running {
		return c.Elapsed
	}
	return c.Elapsed + h.Between(c.RunningSince, at)
}

// Describe fills State and ElapsedS for the API and frames.
func (c *Clock) Describe(h *Hours, now time.Time) {
	c.ElapsedS = c.ElapsedAt(h, now).Seconds()
	switch {
	case c.Status == Stopped:
		c.State = c.Outcome
	case !c.BreachedAt.IsZero():
		c.State = "breached"
	case c.Status == Paused:
		c.State = string(Paused)
	case !c.WarnedAt.IsZero():
		c.State = "warning"
	default:
		c.State = string(Running)
	}
}

// schedule recomputes WarnAt and DueAt of a running clock.
func (c *Clock) schedule(h *Hours) {
	if c.Status != Running {
		c.WarnAt, c.DueAt = time.Time{}, time.Time{}
		return
	}
	c.DueAt = h.Add(c.RunningSince, c.Target()-c.Elapsed)
	c.WarnAt = time.Time{}
	if c.WarnedAt.IsZero() && c.BreachedAt.IsZero() {
		warn := c.Target() * time.Duration(c.WarnPercent) / 100
		c.WarnAt = h.Add(c.RunningSince, warn-c.Elapsed)
	}
}

func (c *Clock) pause(h *Hours, at time.Time) bool {
	if c.Status != Running {
		return false
	}
	c.Elapsed = c.ElapsedAt(h, at)
	c.Status, c.RunningSince = Paused, time.Time{}
	c.schedule(h)
	c.Dirty = true
	return true
}

func (c *Clock) resume(h *Hours, at time.Time) bool {
	if c.Status != Paused {
		return false
	}
	c.Status, c.RunningSince = Running, at
	c.schedule(h)
	c.Dirty = true
	return true
}

// stop ends a live clock at at. satisfied says its goal was reached (a
// reply, the resolution, the answer); replaced that a new policy's clock
// takes over. It returns the outcome.
func (c *Clock) stop(h *Hours, at time.Time, satisfied, replaced bool) string {
	if !c.Live() {
		return ""
	}
	c.Elapsed = c.ElapsedAt(h, at)
	if c.BreachedAt.IsZero() && satisfied && c.Elapsed > c.Target() {
		// The goal came after the deadline but before the breach timer
		// was handled: it is a breach all the same.
		c.BreachedAt = c.DueAt
		if c.BreachedAt.IsZero() || c.BreachedAt.After(at) {
			c.BreachedAt = at
		}
	}
	switch {
	case replaced:
		c.Outcome = OutcomeReplaced
	case !c.BreachedAt.IsZero():
		c.Outcome = OutcomeBreached
	case satisfied:
		c.Outcome = OutcomeMet
	default:
		c.Outcome = OutcomeCanceled
	}
	c.Status, c.StoppedAt, c.RunningSince, c.WarnAt = Stopped, at, time.Time{}, time.Time{}
	c.Dirty = true
	return c.Outcome
}

// Fire marks a warning or a breach of a running clock at now and reports
// whether it was due (a stopped, paused or rescheduled clock, or one that
// already fired, is not).
func (c *Clock) Fire(kind string, now time.Time) bool {
	if c.Status != Running {
		return false
	}
	switch kind {
	case TimerWarning:
		if !c.WarnedAt.IsZero() || !c.BreachedAt.IsZero() || c.WarnAt.IsZero() || now.Before(c.WarnAt) {
			return false
		}
		c.WarnedAt, c.WarnAt = now, time.Time{}
	case TimerBreach:
		if !c.BreachedAt.IsZero() || c.DueAt.IsZero() || now.Before(c.DueAt) {
			return false
		}
		c.BreachedAt, c.WarnAt = now, time.Time{}
		if c.WarnedAt.IsZero() {
			c.WarnedAt = now
		}
	default:
		return false
	}
	c.Dirty = true
	return true
}

// Event types the engine reads from the outbox.
const (
	EventCreated     = "conversation.created"
	EventAssigned    = "conversation.assigned"
	EventResolved    = "conversation.resolved"
	EventAbandoned   = "conversation.abandoned"
	EventReopened    = "conversation.reopened"
	EventTransferred = "conversation.transferred"
	// EventPriorityChanged is written when a conversation's priority
	// changes (an SLA escalation, an admin).
	EventPriorityChanged = "conversation.priority_changed"
	// EventStatusChanged {"status": "pending"|"snoozed"|"open"} is the
	// contract for the waiting-on-customer statuses (not written yet by
	// the desk): pending and snoozed pause the clocks, open resumes them.
	EventStatusChanged = "conversation.status_changed"
	EventMessage       = "message.created"

	EventWarning  = "sla.warning"
	EventBreached = "sla.breached"
	EventMet      = "sla.met"
)

// Input is an outbox event with the facts the engine needs.
type Input struct {
	EventID        int64
	ConversationID int64
	Type           string
	At             time.Time
	// Subject is the conversation as it is now (for policy selection).
	Subject Subject
	// CreatedAt is the conversation's creation.
	CreatedAt time.Time
	// Routed is false for a conversation created already resolved.
	Routed bool
	// message.created
	Direction  parley.Direction
	Private    bool
	SenderType string
	SenderID   int64
	// AgentID is the event's agent.
	AgentID int64
	// Status of conversation.status_changed.
	Status string
}

// Track is the SLA state of one conversation.
type Track struct {
	ConversationID int64
	PolicyID       int64
	Started        bool
	FirstReplied   bool
	Answered       bool
	Resolved       bool
	// Waiting is true while the conversation waits on the customer.
	Waiting bool
	// UnansweredSince is the oldest customer message no agent answered.
	UnansweredSince time.Time
	// OpenedAt starts the resolution clock: creation or the last reopen.
	OpenedAt    time.Time
	LastEventID int64
	Clocks      []*Clock
	Dirty       bool

	// Filled on load, not stored: the conversation now.
	AgentID    int64
	ConvStatus parley.ConversationStatus
	ResolvedAt time.Time
}

// Note is a change worth telling: a clock started, paused, resumed or stopped.
type Note struct {
	Clock *Clock
	State string
	// AgentID is who met the clock (the replying agent), when known.
	AgentID int64
	// NewBreach is set when stopping found the deadline passed before any
	// breach timer recorded it.
	NewBreach bool
}

// Engine applies events to tracks with a set of policies and calendars.
type Engine struct {
	Policies  []Policy
	Calendars map[int64]*Hours
}

// NewEngine sorts the policies and compiles the calendars (a calendar that
// does not compile counts as 24/7).
func NewEngine(ps []Policy, cals []Calendar) *Engine {
	e := &Engine{Policies: append([]Policy(nil), ps...), Calendars: map[int64]*Hours{}}
	SortPolicies(e.Policies)
	for _, c := range cals {
		if h, err := c.Compile(); err == nil {
			e.Calendars[c.ID] = h
		}
	}
	return e
}

// Hours returns a clock's calendar (nil: 24/7).
func (e *Engine) Hours(c *Clock) *Hours {
	if !c.BusinessHours {
		return nil
	}
	return e.Calendars[c.CalendarID]
}

func (e *Engine) policy(id int64) (Policy, bool) {
	for _, p := range e.Policies {
		if p.ID == id {
			return p, true
		}
	}
	return Policy{}, false
}

// Live returns the track's live clock of a kind.
func (t *Track) Live(k Kind) *Clock {
	for _, c := range t.Clocks {
		if c.Kind == k && c.Live() {
			return c
		}
	}
	return nil
}

func (t *Track) nextCycle(k Kind) int {
	n := 0
	for _, c := range t.Clocks {
		if c.Kind == k && c.Cycle > n {
			n = c.Cycle
		}
	}
	return n + 1
}

// kindsFor lists the clocks a channel runs.
func kindsFor(ch parley.Channel) []Kind {
	if ch == parley.ChannelVoice {
		return []Kind{Answer, Resolution}
	}
	return []Kind{FirstResponse, NextResponse, Resolution}
}

// start adds a clock of kind under p, begun at startedAt with elapsed
// already counted, running from at (paused while the track waits).
func (e *Engine) start(t *Track, p Policy, k Kind, startedAt time.Time, elapsed time.Duration, at time.Time, cycle int) *Clock {
	target := p.Targets.Of(k)
	if target <= 0 {
		return nil
	}
	c := &Clock{ConversationID: t.ConversationID, Kind: k, Cycle: cycle, PolicyID: p.ID, TargetS: int(target / time.Second),
		BusinessHours: p.BusinessHours, CalendarID: p.CalendarID, WarnPercent: p.WarnPercent, StartedAt: startedAt,
		Elapsed: elapsed, Status: Running, RunningSince: at, Dirty: true}
	if c.WarnPercent == 0 {
		c.WarnPercent = DefaultWarnPercent
	}
	if t.Waiting {
		c.Status, c.RunningSince = Paused, time.Time{}
	}
	c.schedule(e.Hours(c))
	t.Clocks = append(t.Clocks, c)
	return c
}

// Apply applies one event to the track and returns what changed. Events
// at or before the track's LastEventID are ignored, so applying twice is
// harmless.
func (e *Engine) Apply(t *Track, in Input) []Note {
	if in.EventID != 0 {
		if in.EventID <= t.LastEventID {
			return nil
		}
		t.LastEventID = in.EventID
		t.Dirty = true
	}
	var notes []Note
	note := func(c *Clock, state string, agent int64) {
		if c != nil && state != "" {
			notes = append(notes, Note{Clock: c, State: state, AgentID: agent})
		}
	}
	stopClock := func(c *Clock, satisfied bool, agent int64) {
		was := !c.BreachedAt.IsZero()
		if out := c.stop(e.Hours(c), in.At, satisfied, false); out != "" {
			notes = append(notes, Note{Clock: c, State: out, AgentID: agent, NewBreach: !was && !c.BreachedAt.IsZero()})
		}
	}
	stop := func(k Kind, satisfied bool, agent int64) {
		if c := t.Live(k); c != nil {
			stopClock(c, satisfied, agent)
		}
	}
	switch in.Type {
	case EventCreated:
		if t.Started {
			return nil
		}
		t.Started, t.OpenedAt = true, in.At
		if !in.Routed {
			t.Resolved = true
			return nil
		}
		p, ok := Select(e.Policies, in.Subject)
		if !ok {
			return nil
		}
		t.PolicyID = p.ID
		for _, k := range kindsFor(in.Subject.Channel) {
			if k != NextResponse {
				note(e.start(t, p, k, in.At, 0, in.At, t.nextCycle(k)), string(Running), 0)
			}
		}

	case EventMessage:
		if t.Resolved {
			return nil
		}
		switch {
		case in.Direction == parley.DirectionIn:
			if t.Waiting {
				notes = append(notes, e.setWaiting(t, false, in.At)...)
			}
			if t.UnansweredSince.IsZero() {
				t.UnansweredSince = in.At
			}
			if t.FirstReplied && t.Live(NextResponse) == nil && in.Subject.Channel != parley.ChannelVoice {
				if p, ok := e.policy(t.PolicyID); ok {
					note(e.start(t, p, NextResponse, t.UnansweredSince, 0, t.UnansweredSince, t.nextCycle(NextResponse)), string(Running), 0)
				}
			}
		case in.Direction == parley.DirectionOut && !in.Private && in.SenderType == parley.SenderAgent:
			t.UnansweredSince = time.Time{}
			t.FirstReplied = true
			stop(FirstResponse, true, in.SenderID)
			stop(NextResponse, true, in.SenderID)
		}

	case EventAssigned:
		t.Answered = true
		stop(Answer, true, in.AgentID)

	case EventResolved, EventAbandoned:
		if t.Resolved {
			return nil
		}
		t.Resolved, t.Waiting = true, false
		for _, c := range t.Clocks {
			if c.Live() {
				stopClock(c, c.Kind == Resolution && in.Type == EventResolved, in.AgentID)
			}
		}

	case EventReopened:
		if !t.Resolved {
			return nil
		}
		t.Resolved, t.OpenedAt = false, in.At
		if p, ok := e.policy(t.PolicyID); ok {
			note(e.start(t, p, Resolution, in.At, 0, in.At, t.nextCycle(Resolution)), string(Running), 0)
		}

	case EventTransferred, EventPriorityChanged:
		if t.Resolved || !t.Started {
			return nil
		}
		notes = append(notes, e.Reevaluate(t, in)...)

	case EventStatusChanged:
		if t.Resolved {
			return nil
		}
		switch in.Status {
		case "pending", "snoozed":
			notes = append(notes, e.setWaiting(t, true, in.At)...)
		case "open":
			notes = append(notes, e.setWaiting(t, false, in.At)...)
		}
	}
	return notes
}

func (e *Engine) setWaiting(t *Track, waiting bool, at time.Time) []Note {
	if t.Waiting == waiting {
		return nil
	}
	t.Waiting = waiting
	var notes []Note
	for _, c := range t.Clocks {
		if waiting && c.pause(e.Hours(c), at) {
			notes = append(notes, Note{Clock: c, State: string(Paused)})
		} else if !waiting && c.resume(e.Hours(c), at) {
			notes = append(notes, Note{Clock: c, State: string(Running)})
		}
	}
	return notes
}

// Reevaluate chooses the policy again (after a queue or priority change).
// When it changes, every live clock that has not breached is stopped as
// replaced and a successor under the new policy keeps its start and the
// business time already counted; a breached clock keeps its policy.
// Clocks the old policy did not run start as if they had run from their
// usual start.
func (e *Engine) Reevaluate(t *Track, in Input) []Note {
	p, ok := Select(e.Policies, in.Subject)
	if p.ID == t.PolicyID {
		return nil
	}
	t.PolicyID = p.ID
	var notes []Note
	for _, k := range kindsFor(in.Subject.Channel) {
		old := t.Live(k)
		var startedAt time.Time
		var elapsed time.Duration
		var cycle int
		switch {
		case old != nil && !old.BreachedAt.IsZero():
			continue
		case old != nil:
			startedAt, elapsed, cycle = old.StartedAt, old.ElapsedAt(e.Hours(old), in.At), old.Cycle
			old.stop(e.Hours(old), in.At, false, true)
			notes = append(notes, Note{Clock: old, State: OutcomeReplaced})
		case k == FirstResponse && !t.FirstReplied:
			startedAt = in.CreatedAt
		case k == NextResponse && t.FirstReplied && !t.UnansweredSince.IsZero():
			startedAt = t.UnansweredSince
		case k == Resolution:
			startedAt = t.OpenedAt
		case k == Answer && !t.Answered:
			startedAt = in.CreatedAt
		default:
			continue
		}
		if !ok {
			continue
		}
		if old == nil {
			cycle = t.nextCycle(k)
			if startedAt.IsZero() {
				startedAt = in.At
			}
			probe := &Clock{BusinessHours: p.BusinessHours, CalendarID: p.CalendarID}
			elapsed = e.Hours(probe).Between(startedAt, in.At)
		}
		if c := e.start(t, p, k, startedAt, elapsed, in.At, cycle); c != nil {
			c.Previous = old
			if old != nil {
				c.PreviousID = old.ID
			}
			notes = append(notes, Note{Clock: c, State: string(c.Status)})
		}
	}
	return notes
}
