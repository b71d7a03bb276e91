package desk

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/routing"
)

// QueueView is one queue on the supervisor's wallboard. Today's figures
// count queue entries since local midnight with the definitions of the
// reports (ROUTING.md).
type QueueView struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Paused  bool   `json:"paused"`
	Waiting int    `json:"waiting"`
	// LongestWaitS is now − OldestEnqueuedAt (0 when nothing waits).
	LongestWaitS     int        `json:"longest_wait_s"`
	OldestEnqueuedAt *time.Time `json:"oldest_enqueued_at"`
	// Offered counts pending offers now.
	Offered int `json:"offered"`
	// Members: available (presence available, busy or not), busy (at least
	// one slot in use), away (presence away).
	AgentsAvailable   int                 `json:"agents_available"`
	AgentsBusy        int                 `json:"agents_busy"`
	AgentsAway        int                 `json:"agents_away"`
	ServiceLevelToday *float64            `json:"service_level_today"`
	AbandonRateToday  *float64            `json:"abandon_rate_today"`
	EnteredToday      int                 `json:"entered_today"`
	AnsweredToday     int                 `json:"answered_today"`
	AbandonedToday    int                 `json:"abandoned_today"`
	ServiceLevel      parley.ServiceLevel `json:"service_level_target"`
	ShortAbandonS     int                 `json:"short_abandon_s"`
}

// ConversationSummary is an agent's current conversation on the wallboard.
type ConversationSummary struct {
	ID           string         `json:"id"`
	Channel      parley.Channel `json:"channel"`
	QueueID      string         `json:"queue_id"`
	CustomerName string         `json:"customer_name"`
	Subject      string         `json:"subject,omitempty"`
	AssignedAt   time.Time      `json:"assigned_at"`
	SubStatus    string         `json:"sub_status,omitempty"`
	Tags         []string       `json:"tags,omitempty"`
}

// AgentView is one agent on the supervisor's wallboard.
type AgentView struct {
	ID     string          `json:"id"`
	Name   string          `json:"name"`
	Role   parley.Role     `json:"role"`
	Status parley.Presence `json:"status"`
	// Since is when the status began (time in status = now − since); null
	// when the router never saw a change.
	Since *time.Time `json:"since"`
	// Reason is why: what the agent or supervisor gave, "missed_offers"
	// when the router set the agent away, "disconnected" when the last
	// socket went.
	Reason string `json:"reason"`
	// SetBy is who set the status ("" the system).
	SetBy         string                `json:"set_by,omitempty"`
	Load          map[parley.Media]int  `json:"load"`
	Capacity      map[parley.Media]int  `json:"capacity"`
	WrapUp        map[parley.Media]int  `json:"wrap_up"`
	MissedOffers  int                   `json:"missed_offers"`
	Conversations []ConversationSummary `json:"conversations"`
}

// WaitingView is a conversation waiting in a queue (the oldest
// MaxWaitingShown are listed), so a supervisor can move it.
type WaitingView struct {
	ID           string         `json:"id"`
	QueueID      string         `json:"queue_id"`
	Channel      parley.Channel `json:"channel"`
	CustomerName string         `json:"customer_name"`
	Subject      string         `json:"subject,omitempty"`
	Priority     int            `json:"priority"`
	EnqueuedAt   time.Time      `json:"enqueued_at"`
	Tags         []string       `json:"tags,omitempty"`
}

// MaxWaitingShown bounds the waiting conversations a snapshot lists.
const MaxWaitingShown = 100

// Snapshot is the supervisor's view of every queue and agent now.
type Snapshot struct {
	Queues  []QueueView   `json:"queues"`
	Agents  []AgentView   `json:"agents"`
	Waiting []WaitingView `json:"waiting"`
	At      time.Time     `json:"at"`
}

// Snapshot reads the live routing state and today's figures.
func (d *Desk) Snapshot(ctx context.Context) (Snapshot, error) {
	return d.Wallboard(0).Snapshot(ctx)
}

// Wallboard computes snapshots, keeping the slowly changing configuration
// (agents, queues and their members) for up to configTTL between calls.
// One wallboard serves every supervisor socket of an instance.
type Wallboard struct {
	d         *Desk
	configTTL time.Duration

	mu      sync.Mutex
	cfgAt   time.Time
	agents  []parley.Agent
	queues  []parley.Queue
	members map[int64][]int64
}

// Wallboard returns a wallboard over d.
func (d *Desk) Wallboard(configTTL time.Duration) *Wallboard {
	return &Wallboard{d: d, configTTL: configTTL}
}

func (w *Wallboard) config(ctx context.Context) ([]parley.Agent, []parley.Queue, map[int64][]int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.configTTL > 0 && w.agents != nil && time.Since(w.cfgAt) < w.configTTL {
		return w.agents, w.queues, w.members, nil
	}
	agents, err := w.d.db.Agents(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	queues, err := w.d.db.Queues(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	members := map[int64][]int64{}
	for _, q := range queues {
		if members[q.ID], err = w.d.db.QueueMembers(ctx, q); err != nil {
			return nil, nil, nil, err
		}
	}
	w.agents, w.queues, w.members, w.cfgAt = agents, queues, members, time.Now()
	return agents, queues, members, nil
}

// stateWorkers bounds the concurrent Redis reads of one snapshot.
const stateWorkers = 16

// Snapshot computes the wallboard now: plain reads of Redis (no routing
// script runs) and four PostgreSQL queries.
func (w *Wallboard) Snapshot(ctx context.Context) (Snapshot, error) {
	d := w.d
	now := d.now()
	snap := Snapshot{Queues: []QueueView{}, Agents: []AgentView{}, Waiting: []WaitingView{}, At: now.UTC()}
	agents, queues, members, err := w.config(ctx)
	if err != nil {
		return snap, err
	}
	// Routing state of every agent, read concurrently.
	states := make([]routing.AgentState, len(agents))
	found := make([]bool, len(agents))
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(stateWorkers, len(agents)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				st, err := d.router.AgentState(ctx, agents[i].ID)
				states[i], found[i] = st, err == nil
			}
		}()
	}
	for i := range agents {
		next <- i
	}
	close(next)
	wg.Wait()

	assigned, err := d.db.AssignedConversations(ctx)
	if err != nil {
		return snap, err
	}
	latest, err := d.db.LatestPresence(ctx)
	if err != nil {
		return snap, err
	}
	y, m, dd := now.Date()
	today, err := d.db.QueueDays(ctx, time.Date(y, m, dd, 0, 0, 0, 0, now.Location()))
	if err != nil {
		return snap, err
	}
	pending, err := d.db.PendingOffers(ctx)
	if err != nil {
		return snap, err
	}
	waiting, err := d.db.Waiting(ctx, MaxWaitingShown)
	if err != nil {
		return snap, err
	}
	for _, c := range waiting {
		enq := c.EnqueuedAt
		if enq.IsZero() {
			enq = c.CreatedAt
		}
		snap.Waiting = append(snap.Waiting, WaitingView{ID: itoa(c.ID), QueueID: itoa(c.QueueID), Channel: c.Channel,
			CustomerName: c.CustomerName, Subject: c.Subject, Priority: c.Priority, EnqueuedAt: enq.UTC(), Tags: c.Tags})
	}

	byID := map[int64]int{}
	for i, a := range agents {
		st := states[i]
		if !found[i] {
			st = routing.AgentState{Presence: parley.PresenceOffline}
		}
		v := AgentView{ID: itoa(a.ID), Name: a.Name, Role: a.Role, Status: st.Presence, Load: nonNil(st.Load), Capacity: a.Capacity,
			WrapUp: nonNil(st.WrapUp), MissedOffers: st.Misses, Conversations: []ConversationSummary{}}
		if !st.Since.IsZero() {
			since := st.Since.UTC()
			v.Since = &since
		}
		if e, ok := latest[a.ID]; ok && e.Status == st.Presence {
			v.Reason = e.Reason
			if e.SetBy != 0 {
				v.SetBy = itoa(e.SetBy)
			}
		}
		if v.Reason == "" && st.Presence == parley.PresenceAway && st.Misses > 0 {
			v.Reason = "missed_offers"
		}
		for _, c := range assigned[a.ID] {
			v.Conversations = append(v.Conversations, ConversationSummary{ID: itoa(c.ID), Channel: c.Channel, QueueID: itoa(c.QueueID),
				CustomerName: c.CustomerName, Subject: c.Subject, AssignedAt: c.AssignedAt, SubStatus: c.SubStatus, Tags: c.Tags})
		}
		byID[a.ID] = len(snap.Agents)
		snap.Agents = append(snap.Agents, v)
	}
	for _, q := range queues {
		waiting, oldest, err := d.router.QueueStats(ctx, q.ID)
		if err != nil {
			return snap, err
		}
		t := today[q.ID]
		v := QueueView{ID: itoa(q.ID), Name: q.Name, Paused: q.Paused, Waiting: waiting, Offered: pending[q.ID], ServiceLevel: q.ServiceLevel,
			ShortAbandonS: q.ShortAbandonS, ServiceLevelToday: t.ServiceLevel(), AbandonRateToday: t.AbandonRate(),
			EnteredToday: t.Entered, AnsweredToday: t.Answered, AbandonedToday: t.Abandoned + t.ShortAbandons}
		if waiting > 0 && !oldest.IsZero() {
			o := oldest.UTC()
			v.OldestEnqueuedAt = &o
			v.LongestWaitS = max(0, int(now.Sub(oldest).Seconds()))
		}
		for _, id := range members[q.ID] {
			i, ok := byID[id]
			if !ok {
				continue
			}
			a := snap.Agents[i]
			switch a.Status {
			case parley.PresenceAvailable:
				v.AgentsAvailable++
			case parley.PresenceAway:
				v.AgentsAway++
			}
			for _, n := range a.Load {
				if n > 0 {
					v.AgentsBusy++
					break
				}
			}
		}
		snap.Queues = append(snap.Queues, v)
	}
	return snap, nil
}

func nonNil(m map[parley.Media]int) map[parley.Media]int {
	if m == nil {
		return map[parley.Media]int{}
	}
	return m
}

// presenceChanged records a presence change in the agents' presence
// history (occupancy reports, the wallboard's reason). setBy is who set it
// (0: the system). A failure is logged: routing already changed.
func (d *Desk) presenceChanged(ctx context.Context, agentID int64, p parley.Presence, reason string, setBy int64) {
	if err := d.db.RecordPresence(ctx, agentID, p, reason, setBy, d.now()); err != nil {
		d.log.Error("record presence", "agent_id", agentID, "error", err)
	}
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
