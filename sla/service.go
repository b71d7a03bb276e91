package sla

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
)

// SupervisorsTopic carries SLA warnings, breaches and escalations to every
// supervisor console.
const SupervisorsTopic = "supervisors"

// Store is the SLA storage (package postgres implements it).
type Store interface {
	// InTx runs fn in one transaction, committing when it returns nil.
	InTx(ctx context.Context, fn func(Tx) error) error
	// Lock waits until this instance holds the processor lease.
	Lock(ctx context.Context) (Lease, error)
	Policies(ctx context.Context) ([]Policy, error)
	Policy(ctx context.Context, id int64) (Policy, error)
	CreatePolicy(ctx context.Context, p *Policy) error
	UpdatePolicy(ctx context.Context, p *Policy) error
	DeletePolicy(ctx context.Context, id int64) error
	Calendars(ctx context.Context) ([]Calendar, error)
	Calendar(ctx context.Context, id int64) (Calendar, error)
	CreateCalendar(ctx context.Context, c *Calendar) error
	// DeleteCalendar retires a calendar no live policy uses.
	DeleteCalendar(ctx context.Context, id int64) error
	// Clock returns one clock (not locked).
	Clock(ctx context.Context, id int64) (Clock, error)
	// TimedClocks returns running clocks whose warning or breach has not
	// fired yet.
	TimedClocks(ctx context.Context) ([]Clock, error)
	// AtRisk returns running clocks that warned or breached, soonest due first.
	AtRisk(ctx context.Context, limit int) ([]Clock, error)
}

// Lease is the processor's exclusive right to consume the events.
type Lease interface {
	Alive(ctx context.Context) error
	Release()
}

// Tx is what the processor does inside one transaction.
type Tx interface {
	// PendingEvents returns up to limit events after the cursor in id order
	// with their facts, stopping before an id gap younger than gapWait.
	PendingEvents(ctx context.Context, limit int, gapWait time.Duration) ([]Input, error)
	SetCursor(ctx context.Context, eventID int64) error
	// Track locks and loads a conversation's SLA state and clocks.
	Track(ctx context.Context, conversationID int64) (*Track, error)
	// ConversationEvents returns the committed events of a conversation
	// after an id, with their facts.
	ConversationEvents(ctx context.Context, conversationID, after int64) ([]Input, error)
	// SaveTrack writes the track and its new and changed clocks.
	SaveTrack(ctx context.Context, t *Track) error
	// WriteEvent appends to the events outbox.
	WriteEvent(ctx context.Context, typ string, conversationID, agentID int64, payload map[string]any) error
	// CalendarConversations returns, in id order, the conversations with a
	// running clock that counts the calendar's business hours.
	CalendarConversations(ctx context.Context, calendarID int64) ([]int64, error)
	// UpdateCalendar stores a calendar's fields and replaces its days.
	UpdateCalendar(ctx context.Context, c *Calendar) error
	// AddDays adds or replaces a calendar's exceptions by date.
	AddDays(ctx context.Context, calendarID int64, days []Day) error
}

// Publisher sends frames (the bus).
type Publisher interface {
	Publish(ctx context.Context, topic string, v any) error
}

// Scheduler sets timers (jobs). Scheduling the same clock, kind and
// instant twice sets one timer.
type Scheduler interface {
	ScheduleSLA(ctx context.Context, clockID int64, kind string, at time.Time) error
}

// Escalator acts on a conversation (the desk).
type Escalator interface {
	// RaisePriority sets the priority to at least p.
	RaisePriority(ctx context.Context, conversationID int64, p int) error
	// MoveToQueue moves a conversation still waiting in its queue.
	MoveToQueue(ctx context.Context, conversationID, queueID int64) error
	// Tag adds a tag to the conversation.
	Tag(ctx context.Context, conversationID int64, tag string) error
}

// Config holds the service's dependencies and tuning.
type Config struct {
	Store     Store
	Bus       Publisher
	Timers    Scheduler
	Escalator Escalator
	Log       *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Batch is how many events one transaction processes (500).
	Batch int
	// Poll is the pause when there is nothing to do (200 ms).
	Poll time.Duration
	// GapWait is how long an id gap in the events may be waited for (5 s).
	GapWait time.Duration
	// ReconcileEvery is how often timers are re-created from PostgreSQL
	// (1 min; also when the lease is taken, i.e. at start-up).
	ReconcileEvery time.Duration
	// MaxEarly is how early a timer may be delivered and still wait for
	// its instant (2 s; asynq schedules by whole seconds).
	MaxEarly time.Duration
}

// Service runs the clocks.
type Service struct{ Config }

// New returns a service.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Batch <= 0 {
		c.Batch = 500
	}
	if c.Poll <= 0 {
		c.Poll = 200 * time.Millisecond
	}
	if c.GapWait <= 0 {
		c.GapWait = 5 * time.Second
	}
	if c.ReconcileEvery <= 0 {
		c.ReconcileEvery = time.Minute
	}
	if c.MaxEarly <= 0 {
		c.MaxEarly = 2 * time.Second
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{Config: c}
}

// engine loads the policies (deleted ones too are kept by clocks, but only
// live ones select) and calendars.
func (s *Service) engine(ctx context.Context) (*Engine, error) {
	ps, err := s.Store.Policies(ctx)
	if err != nil {
		return nil, err
	}
	cals, err := s.Store.Calendars(ctx)
	if err != nil {
		return nil, err
	}
	return NewEngine(ps, cals), nil
}

// Run consumes the events until ctx ends. Only the instance holding the
// lease processes; it re-creates the timers from PostgreSQL when it takes
// the lease and every ReconcileEvery.
func (s *Service) Run(ctx context.Context) error {
	for {
		err := s.runLeased(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.Log.Error("sla processor stopped; retrying", "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(5 * time.Second):
		}
	}
}

func (s *Service) runLeased(ctx context.Context) error {
	lease, err := s.Store.Lock(ctx)
	if err != nil {
		return err
	}
	defer lease.Release()
	s.Log.Info("sla processor started")
	var reconciled time.Time
	for {
		n, err := s.ProcessBatch(ctx)
		if err != nil {
			return err
		}
		if time.Since(reconciled) >= s.ReconcileEvery {
			if n, err := s.Reconcile(ctx); err != nil {
				s.Log.Warn("sla timers not reconciled", "error", err)
			} else {
				s.Log.Debug("sla timers reconciled", "clocks", n)
				reconciled = time.Now()
			}
		}
		if n >= s.Batch {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.Poll):
		}
		if err := lease.Alive(ctx); err != nil {
			return fmt.Errorf("sla processor lease lost: %w", err)
		}
	}
}

// relevant lists the event types the clocks read.
var relevant = []string{EventCreated, EventAssigned, EventResolved, EventAbandoned, EventReopened, EventTransferred,
	EventPriorityChanged, EventStatusChanged, EventMessage}

// change is what one transaction did to one conversation, announced after
// the commit.
type change struct {
	track *Track
	notes []Note
	fired *fired
}

type fired struct {
	clock *Clock
	kind  string
}

// ProcessBatch applies the next events to the clocks in one transaction and
// returns how many it consumed.
func (s *Service) ProcessBatch(ctx context.Context) (int, error) {
	var n int
	var changes []change
	var eng *Engine
	err := s.Store.InTx(ctx, func(tx Tx) error {
		n, changes = 0, nil
		events, err := tx.PendingEvents(ctx, s.Batch, s.GapWait)
		if err != nil || len(events) == 0 {
			return err
		}
		byConv := map[int64][]Input{}
		for _, ev := range events {
			if ev.ConversationID != 0 && ev.Subject.Channel != "" && slices.Contains(relevant, ev.Type) {
				byConv[ev.ConversationID] = append(byConv[ev.ConversationID], ev)
			}
		}
		if len(byConv) > 0 {
			if eng, err = s.engine(ctx); err != nil {
				return err
			}
		}
		// Lock tracks in id order.
		ids := make([]int64, 0, len(byConv))
		for id := range byConv {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			c, err := s.apply(ctx, tx, eng, id, byConv[id])
			if err != nil {
				return fmt.Errorf("sla of conversation %d: %w", id, err)
			}
			changes = append(changes, c)
		}
		n = len(events)
		return tx.SetCursor(ctx, events[len(events)-1].EventID)
	})
	if err != nil {
		return 0, fmt.Errorf("process sla events: %w", err)
	}
	for _, c := range changes {
		s.announce(ctx, eng, c)
	}
	return n, nil
}

// apply loads a conversation's track, applies the events after its last
// one, records sla.met (and late sla.breached) events and saves it.
func (s *Service) apply(ctx context.Context, tx Tx, eng *Engine, convID int64, events []Input) (change, error) {
	t, err := tx.Track(ctx, convID)
	if err != nil {
		return change{}, err
	}
	c := change{track: t}
	for _, ev := range events {
		c.notes = append(c.notes, eng.Apply(t, ev)...)
	}
	// Belt and braces: whatever the outbox says, a conversation that is
	// closed in PostgreSQL has no running clock. Its remaining committed
	// events come first (a reply before the resolve still counts).
	if !t.ConvStatus.Open() && t.ConvStatus != "" && !t.Resolved && t.Started {
		rest, err := tx.ConversationEvents(ctx, convID, t.LastEventID)
		if err != nil {
			return c, err
		}
		for _, ev := range rest {
			c.notes = append(c.notes, eng.Apply(t, ev)...)
		}
	}
	if !t.ConvStatus.Open() && t.ConvStatus != "" && !t.Resolved && t.Started {
		at := t.ResolvedAt
		if at.IsZero() {
			at = s.Now()
		}
		typ := EventResolved
		if t.ConvStatus == parley.StatusAbandoned {
			typ = EventAbandoned
		}
		c.notes = append(c.notes, eng.Apply(t, Input{Type: typ, At: at})...)
	}
	for _, n := range c.notes {
		switch {
		case n.State == OutcomeMet:
			if err := tx.WriteEvent(ctx, EventMet, convID, n.AgentID, eventPayload(n.Clock, eng)); err != nil {
				return c, err
			}
		case n.NewBreach:
			if err := tx.WriteEvent(ctx, EventBreached, convID, t.AgentID, eventPayload(n.Clock, eng)); err != nil {
				return c, err
			}
		}
	}
	return c, tx.SaveTrack(ctx, t)
}

func eventPayload(c *Clock, eng *Engine) map[string]any {
	p := map[string]any{"metric": string(c.Kind), "clock_id": c.ID, "cycle": c.Cycle, "policy_id": c.PolicyID,
		"target_s": c.TargetS, "elapsed_s": c.ElapsedAt(eng.Hours(c), c.StoppedAt).Seconds()}
	if !c.DueAt.IsZero() {
		p["due_at"] = c.DueAt.UTC()
	}
	if !c.BreachedAt.IsZero() && !c.DueAt.IsZero() {
		p["lateness_ms"] = c.BreachedAt.Sub(c.DueAt).Milliseconds()
	}
	return p
}

// Frame is the `sla` frame agents and supervisors receive.
func Frame(c *Clock, eng *Engine, now time.Time) map[string]any {
	c.Describe(eng.Hours(c), now)
	f := map[string]any{"type": "sla", "conversation_id": strconv.FormatInt(c.ConversationID, 10), "clock": c.Kind,
		"clock_id": strconv.FormatInt(c.ID, 10), "state": c.State, "status": c.Status, "target_s": c.TargetS, "elapsed_s": c.ElapsedS}
	if !c.DueAt.IsZero() {
		f["due_at"] = c.DueAt.UTC()
	}
	if !c.WarnAt.IsZero() {
		f["warn_at"] = c.WarnAt.UTC()
	}
	return f
}

// announce publishes the frames of a committed change, schedules the timers
// of its running clocks and runs the escalations of a fired timer.
func (s *Service) announce(ctx context.Context, eng *Engine, c change) {
	now := s.Now()
	for _, n := range c.notes {
		if n.Clock.ID == 0 {
			continue
		}
		s.publish(ctx, c.track, Frame(n.Clock, eng, now), false)
		if n.Clock.Status == Running {
			s.schedule(ctx, n.Clock)
		}
	}
	if f := c.fired; f != nil {
		frame := Frame(f.clock, eng, now)
		s.publish(ctx, c.track, frame, true)
		s.escalate(ctx, eng, c.track, f)
	}
}

func (s *Service) publish(ctx context.Context, t *Track, frame map[string]any, supervisors bool) {
	if s.Bus == nil {
		return
	}
	topics := []string{bus.ConversationTopic(t.ConversationID)}
	if t.AgentID != 0 {
		topics = append(topics, bus.AgentTopic(t.AgentID))
	}
	if supervisors {
		topics = append(topics, SupervisorsTopic)
	}
	for _, topic := range topics {
		if err := s.Bus.Publish(ctx, topic, frame); err != nil {
			s.Log.Warn("publish sla frame", "topic", topic, "error", err)
		}
	}
}

// schedule sets a running clock's pending timers.
func (s *Service) schedule(ctx context.Context, c *Clock) {
	if s.Timers == nil || c.Status != Running {
		return
	}
	if !c.WarnAt.IsZero() && c.WarnedAt.IsZero() && c.BreachedAt.IsZero() {
		if err := s.Timers.ScheduleSLA(ctx, c.ID, TimerWarning, c.WarnAt); err != nil {
			s.Log.Warn("schedule sla warning; the reconciler will retry", "clock_id", c.ID, "error", err)
		}
	}
	if !c.DueAt.IsZero() && c.BreachedAt.IsZero() {
		if err := s.Timers.ScheduleSLA(ctx, c.ID, TimerBreach, c.DueAt); err != nil {
			s.Log.Warn("schedule sla breach; the reconciler will retry", "clock_id", c.ID, "error", err)
		}
	}
}

// Reconcile re-creates every pending timer from PostgreSQL (after Redis
// lost them); timers that exist already are left as they are.
func (s *Service) Reconcile(ctx context.Context) (int, error) {
	clocks, err := s.Store.TimedClocks(ctx)
	if err != nil {
		return 0, err
	}
	for i := range clocks {
		s.schedule(ctx, &clocks[i])
	}
	return len(clocks), nil
}

// Fire handles a warning or breach timer of a clock, set for at. A timer
// for a clock that stopped, paused or moved its deadline does nothing;
// one delivered early waits for its instant. Before firing, the
// conversation's pending events are applied, so a reply or a resolve
// that happened before the deadline always wins.
func (s *Service) Fire(ctx context.Context, clockID int64, kind string, at time.Time) error {
	cur, err := s.Store.Clock(ctx, clockID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return nil
	} else if err != nil {
		return err
	}
	want := cur.DueAt
	if kind == TimerWarning {
		want = cur.WarnAt
	}
	if cur.Status != Running || want.IsZero() || want.UnixMicro() != at.UnixMicro() {
		return nil // stale: the clock moved on and set its own timers
	}
	if early := at.Sub(s.Now()); early > s.MaxEarly {
		return fmt.Errorf("sla timer of clock %d delivered %v early", clockID, early)
	} else if early > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(early):
		}
	}
	eng, err := s.engine(ctx)
	if err != nil {
		return err
	}
	var c change
	err = s.Store.InTx(ctx, func(tx Tx) error {
		t, err := tx.Track(ctx, cur.ConversationID)
		if err != nil {
			return err
		}
		events, err := tx.ConversationEvents(ctx, cur.ConversationID, t.LastEventID)
		if err != nil {
			return err
		}
		if c, err = s.apply(ctx, tx, eng, cur.ConversationID, events); err != nil {
			return err
		}
		now := s.Now()
		for _, clk := range c.track.Clocks {
			if clk.ID != clockID || !clk.Fire(kind, now) {
				continue
			}
			c.fired = &fired{clock: clk, kind: kind}
			typ := EventWarning
			if kind == TimerBreach {
				typ = EventBreached
			}
			p := eventPayload(clk, eng)
			p["lateness_ms"] = now.Sub(at).Milliseconds()
			if err := tx.WriteEvent(ctx, typ, clk.ConversationID, c.track.AgentID, p); err != nil {
				return err
			}
			s.Log.Info("sla timer fired", "clock_id", clockID, "conversation_id", clk.ConversationID, "kind", kind,
				"clock", clk.Kind, "lateness_ms", now.Sub(at).Milliseconds())
		}
		return tx.SaveTrack(ctx, c.track)
	})
	if err != nil {
		return fmt.Errorf("fire sla %s of clock %d: %w", kind, clockID, err)
	}
	s.announce(ctx, eng, c)
	return nil
}

// escalate runs the policy's actions for a fired warning or breach.
// Escalations are at-most-once: a crash between the commit and here skips
// them (the warning or breach itself is recorded).
func (s *Service) escalate(ctx context.Context, eng *Engine, t *Track, f *fired) {
	p, ok := eng.policy(f.clock.PolicyID)
	if !ok {
		return
	}
	on := OnWarning
	if f.kind == TimerBreach {
		on = OnBreach
	}
	for _, e := range p.Escalations {
		if !e.Applies(on, f.clock.Kind) {
			continue
		}
		var err error
		switch e.Action {
		case ActionRaisePriority:
			if s.Escalator != nil {
				err = s.Escalator.RaisePriority(ctx, t.ConversationID, e.Priority)
			}
		case ActionMoveQueue:
			if s.Escalator != nil {
				err = s.Escalator.MoveToQueue(ctx, t.ConversationID, e.QueueID)
			}
		case ActionTag:
			if s.Escalator != nil {
				err = s.Escalator.Tag(ctx, t.ConversationID, e.Tag)
			}
		case ActionNotifySupervisors:
			if s.Bus != nil {
				frame := Frame(f.clock, eng, s.Now())
				frame["type"], frame["policy"], frame["on"] = "sla_escalation", p.Name, on
				if t.AgentID != 0 {
					frame["agent_id"] = strconv.FormatInt(t.AgentID, 10)
				}
				err = s.Bus.Publish(ctx, SupervisorsTopic, frame)
			}
		}
		if err != nil {
			s.Log.Warn("sla escalation failed", "conversation_id", t.ConversationID, "action", e.Action, "error", err)
		} else {
			s.Log.Info("sla escalation", "conversation_id", t.ConversationID, "action", e.Action, "on", on, "clock", f.clock.Kind)
		}
	}
}

// Clocks returns a conversation's clocks, oldest first, after applying its
// pending events (so a reply just sent shows as met).
func (s *Service) Clocks(ctx context.Context, convID int64) ([]Clock, error) {
	eng, err := s.engine(ctx)
	if err != nil {
		return nil, err
	}
	var c change
	err = s.Store.InTx(ctx, func(tx Tx) error {
		t, err := tx.Track(ctx, convID)
		if err != nil {
			return err
		}
		events, err := tx.ConversationEvents(ctx, convID, t.LastEventID)
		if err != nil {
			return err
		}
		c, err = s.apply(ctx, tx, eng, convID, events)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.announce(ctx, eng, c)
	now := s.Now()
	out := make([]Clock, 0, len(c.track.Clocks))
	for _, clk := range c.track.Clocks {
		clk.Describe(eng.Hours(clk), now)
		out = append(out, *clk)
	}
	return out, nil
}

// AtRisk returns running clocks that have warned or breached.
func (s *Service) AtRisk(ctx context.Context, limit int) ([]Clock, error) {
	eng, err := s.engine(ctx)
	if err != nil {
		return nil, err
	}
	cs, err := s.Store.AtRisk(ctx, limit)
	now := s.Now()
	for i := range cs {
		cs[i].Describe(eng.Hours(&cs[i]), now)
	}
	return cs, err
}

// Policies returns the policies in the order they are tried.
func (s *Service) Policies(ctx context.Context) ([]Policy, error) {
	ps, err := s.Store.Policies(ctx)
	SortPolicies(ps)
	return ps, err
}

// checkPolicy validates p and that its calendar exists.
func (s *Service) checkPolicy(ctx context.Context, p *Policy) error {
	p.Defaults()
	if err := p.Validate(); err != nil {
		return err
	}
	if p.CalendarID != 0 {
		if _, err := s.Store.Calendar(ctx, p.CalendarID); parley.ErrorCode(err) == parley.ENOTFOUND {
			return parley.Invalid("Invalid SLA policy.", map[string]string{"calendar_id": "no such calendar"})
		} else if err != nil {
			return err
		}
	}
	return nil
}

// CreatePolicy validates and stores a new policy. New conversations use it;
// running clocks keep the terms they started with.
func (s *Service) CreatePolicy(ctx context.Context, p *Policy) error {
	if err := s.checkPolicy(ctx, p); err != nil {
		return err
	}
	return s.Store.CreatePolicy(ctx, p)
}

// UpdatePolicy validates and stores a changed policy.
func (s *Service) UpdatePolicy(ctx context.Context, p *Policy) error {
	if err := s.checkPolicy(ctx, p); err != nil {
		return err
	}
	return s.Store.UpdatePolicy(ctx, p)
}

// CreateCalendar validates and stores a calendar.
func (s *Service) CreateCalendar(ctx context.Context, c *Calendar) error {
	if c.Days == nil {
		c.Days = []Day{}
	}
	if _, err := c.Compile(); err != nil {
		return err
	}
	return s.Store.CreateCalendar(ctx, c)
}

// UpdateCalendar validates and stores a changed calendar (its days are
// replaced) and moves the deadlines of the running clocks that count its
// hours (see changeCalendar).
func (s *Service) UpdateCalendar(ctx context.Context, c *Calendar) error {
	if c.Days == nil {
		c.Days = []Day{}
	}
	return s.changeCalendar(ctx, *c, func(tx Tx) error { return tx.UpdateCalendar(ctx, c) })
}

// ImportDays merges a list of holidays and make-up working days into a
// calendar, moves the deadlines of the running clocks that count its hours
// and returns it.
func (s *Service) ImportDays(ctx context.Context, calendarID int64, days []Day) (Calendar, error) {
	c, err := s.Store.Calendar(ctx, calendarID)
	if err != nil {
		return c, err
	}
	c.Days = MergeDays(c.Days, days)
	if err := s.changeCalendar(ctx, c, func(tx Tx) error { return tx.AddDays(ctx, calendarID, days) }); err != nil {
		return c, err
	}
	return s.Store.Calendar(ctx, calendarID)
}

// changeCalendar stores a change of calendar cal (given as it will be) with
// store and, in the same transaction, moves the running clocks that count
// its hours. With their conversations' tracks locked, their pending events
// are applied first under the old hours; then the business time each
// clock counted up to now is kept as counted (old hours) and its warning
// and breach are computed again from now under the new hours. After the
// commit the clocks get new timers (those set for the old instants find
// the deadline moved and do nothing) and their agents new `sla` frames.
// A clock already overdue under the new hours breaches at once.
func (s *Service) changeCalendar(ctx context.Context, cal Calendar, store func(Tx) error) error {
	hours, err := cal.Compile()
	if err != nil {
		return err
	}
	old, err := s.engine(ctx)
	if err != nil {
		return err
	}
	eng := &Engine{Policies: old.Policies, Calendars: maps.Clone(old.Calendars)}
	eng.Calendars[cal.ID] = hours
	var changes []change
	err = s.Store.InTx(ctx, func(tx Tx) error {
		changes = nil
		ids, err := tx.CalendarConversations(ctx, cal.ID)
		if err != nil {
			return err
		}
		for _, id := range ids {
			t, err := tx.Track(ctx, id)
			if err != nil {
				return err
			}
			events, err := tx.ConversationEvents(ctx, id, t.LastEventID)
			if err != nil {
				return err
			}
			c, err := s.apply(ctx, tx, old, id, events)
			if err != nil {
				return fmt.Errorf("sla of conversation %d: %w", id, err)
			}
			changes = append(changes, c)
		}
		if err := store(tx); err != nil {
			return err
		}
		now := s.Now()
		for i := range changes {
			for _, clk := range changes[i].track.Clocks {
				if clk.Status != Running || !clk.BusinessHours || clk.CalendarID != cal.ID {
					continue
				}
				clk.Elapsed, clk.RunningSince = clk.ElapsedAt(old.Hours(clk), now), now
				clk.schedule(hours)
				clk.Dirty = true
				changes[i].notes = append(changes[i].notes, Note{Clock: clk, State: string(Running)})
			}
			if err := tx.SaveTrack(ctx, changes[i].track); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("change sla calendar %d: %w", cal.ID, err)
	}
	for _, c := range changes {
		s.announce(ctx, eng, c)
	}
	return nil
}
