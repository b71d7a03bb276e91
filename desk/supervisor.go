package desk

import (
	"context"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
)

// QueueView is one queue on the supervisor's wallboard.
type QueueView struct {
	ID                string              `json:"id"`
	Name              string              `json:"name"`
	Paused            bool                `json:"paused"`
	Waiting           int                 `json:"waiting"`
	LongestWaitS      int                 `json:"longest_wait_s"`
	Offered           int                 `json:"offered"`
	AgentsAvailable   int                 `json:"agents_available"`
	ServiceLevelToday *float64            `json:"service_level_today"`
	ServiceLevel      parley.ServiceLevel `json:"service_level_target"`
}

// AgentView is one agent on the supervisor's wallboard.
type AgentView struct {
	ID            string                `json:"id"`
	Name          string                `json:"name"`
	Status        parley.Presence       `json:"status"`
	Load          map[parley.Media]int  `json:"load"`
	Capacity      map[parley.Media]int  `json:"capacity"`
	Conversations []parley.Conversation `json:"conversations"`
}

// Snapshot is the supervisor's view of every queue and agent now.
type Snapshot struct {
	Queues []QueueView `json:"queues"`
	Agents []AgentView `json:"agents"`
	At     time.Time   `json:"at"`
}

// Snapshot reads the live routing state and today's figures.
func (d *Desk) Snapshot(ctx context.Context) (Snapshot, error) {
	now := d.now()
	snap := Snapshot{Queues: []QueueView{}, Agents: []AgentView{}, At: now.UTC()}
	agents, err := d.db.Agents(ctx)
	if err != nil {
		return snap, err
	}
	assigned, err := d.db.AssignedConversations(ctx)
	if err != nil {
		return snap, err
	}
	presence := map[int64]parley.Presence{}
	for _, a := range agents {
		p, err := d.router.Presence(ctx, a.ID)
		if err != nil {
			p = parley.PresenceOffline
		}
		presence[a.ID] = p
		load, err := d.router.Load(ctx, a.ID)
		if err != nil {
			load = map[parley.Media]int{}
		}
		convs := assigned[a.ID]
		if convs == nil {
			convs = []parley.Conversation{}
		}
		snap.Agents = append(snap.Agents, AgentView{ID: itoa(a.ID), Name: a.Name, Status: p, Load: load, Capacity: a.Capacity, Conversations: convs})
	}
	queues, err := d.db.Queues(ctx)
	if err != nil {
		return snap, err
	}
	targets := map[int64]int{}
	for _, q := range queues {
		targets[q.ID] = q.ServiceLevel.Seconds
	}
	y, m, dd := now.Date()
	today, err := d.db.QueuesToday(ctx, time.Date(y, m, dd, 0, 0, 0, 0, now.Location()), targets)
	if err != nil {
		return snap, err
	}
	for _, q := range queues {
		waiting, oldest, err := d.router.QueueStats(ctx, q.ID)
		if err != nil {
			return snap, err
		}
		v := QueueView{ID: itoa(q.ID), Name: q.Name, Paused: q.Paused, Waiting: waiting, Offered: today[q.ID].Offered, ServiceLevel: q.ServiceLevel}
		if waiting > 0 && !oldest.IsZero() {
			v.LongestWaitS = int(now.Sub(oldest).Seconds())
		}
		if sl := today[q.ID].ServiceLevel(); sl >= 0 {
			v.ServiceLevelToday = &sl
		}
		members, err := d.db.QueueMembers(ctx, q)
		if err != nil {
			return snap, err
		}
		for _, id := range members {
			if presence[id] == parley.PresenceAvailable {
				v.AgentsAvailable++
			}
		}
		snap.Queues = append(snap.Queues, v)
	}
	return snap, nil
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
