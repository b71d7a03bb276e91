package routing

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/parleyhq/parley"
)

// Snapshot is the routing state according to PostgreSQL.
type Snapshot struct {
	Queues []QueueSpec
	Agents []AgentSpec
	// Tasks are the conversations queued in PostgreSQL (offered ones
	// included).
	Tasks []Task
	// Assigned counts each agent's open assigned conversations per media.
	Assigned map[int64]map[parley.Media]int
}

// Reconcile rebuilds the routing state from s in one atomic script, then
// dispatches every queue (highest priority first):
//   - queue and agent configs are replaced; queues and agents not in s
//     are removed;
//   - a pending offer stays when its agent is in s and available and its
//     task is in s (same queue and media) and still offered by it; other
//     pending offers are canceled, as are the newest kept offers of an
//     agent whose assigned conversations leave no room for them;
//   - each agent's load becomes Assigned plus its kept offers; presence
//     and timestamps are kept (a new agent is offline);
//   - every task of s is written from s (priority, skills, enqueued_at,
//     preferred and target agent; a target not in s is dropped), waiting
//     at its original score unless an offer of it stayed; exclusions and
//     the step already recorded (same queue) are kept, then expired steps
//     are passed; tasks not in s are removed;
//   - wrap-ups in progress and miss streaks are kept.
//
// After Redis lost everything, Reconcile restores the same queue order:
// scores derive from priority and enqueued_at alone.
func (r *Router) Reconcile(ctx context.Context, s Snapshot) (Outcome, error) {
	payload, err := r.snapshotJSON(s)
	if err != nil {
		return Outcome{}, err
	}
	rep, err := r.run(ctx, "reconcile", scriptReconcile, bulkPool, payload)
	return rep.Outcome, err
}

// The snapshot as reconcile.lua reads it: ids are strings (Lua numbers are
// doubles), maps and lists are never null.
type (
	snapQueue struct {
		ID      string   `json:"id"`
		Cfg     string   `json:"cfg"`
		Members []string `json:"members"`
	}
	snapAgent struct {
		ID     string         `json:"id"`
		Skills map[string]int `json:"skills"`
		Cap    map[string]int `json:"cap"`
		Asg    map[string]int `json:"asg"`
		VBD    string         `json:"vbd"`
	}
	snapTask struct {
		Conv   string `json:"conv"`
		Queue  string `json:"queue"`
		Media  string `json:"media"`
		Prio   int    `json:"prio"`
		Enq    int64  `json:"enq"`
		Req    string `json:"req"`
		Pref   string `json:"pref"`
		Target string `json:"target"`
	}
	snapshot struct {
		Queues []snapQueue `json:"queues"`
		Agents []snapAgent `json:"agents"`
		Tasks  []snapTask  `json:"tasks"`
	}
)

func (r *Router) snapshotJSON(s Snapshot) (string, error) {
	out := snapshot{Queues: []snapQueue{}, Agents: []snapAgent{}, Tasks: []snapTask{}}
	seen := map[string]bool{}
	dup := func(kind string, n int64) error {
		k := kind + id(n)
		if seen[k] {
			return parley.Invalid("Invalid snapshot.", map[string]string{kind: fmt.Sprintf("%d appears twice", n)})
		}
		seen[k] = true
		return nil
	}
	for _, q := range s.Queues {
		if err := q.check(); err != nil {
			return "", err
		}
		if err := dup("queues", q.ID); err != nil {
			return "", err
		}
		sq := snapQueue{ID: id(q.ID), Cfg: q.config(), Members: []string{}}
		for _, m := range q.Members {
			sq.Members = append(sq.Members, id(m))
		}
		out.Queues = append(out.Queues, sq)
	}
	for _, a := range s.Agents {
		if err := a.check(); err != nil {
			return "", err
		}
		if err := dup("agents", a.ID); err != nil {
			return "", err
		}
		sa := snapAgent{ID: id(a.ID), Skills: map[string]int{}, Cap: map[string]int{}, Asg: map[string]int{}, VBD: "0"}
		if a.VoiceBlocksDigital {
			sa.VBD = "1"
		}
		for k, v := range a.Skills {
			sa.Skills[k] = v
		}
		for m, n := range a.Capacity {
			sa.Cap[string(m)] = n
		}
		for m, n := range s.Assigned[a.ID] {
			if n > 0 {
				sa.Asg[string(m)] = n
			}
		}
		out.Agents = append(out.Agents, sa)
	}
	now := r.now()
	for _, t := range s.Tasks {
		if err := t.check(now); err != nil {
			return "", err
		}
		if err := dup("tasks", t.ConversationID); err != nil {
			return "", err
		}
		out.Tasks = append(out.Tasks, snapTask{
			Conv: id(t.ConversationID), Queue: id(t.QueueID), Media: string(t.Media),
			Prio: t.Priority, Enq: t.EnqueuedAt.UnixMilli(), Req: reqString(t.Require),
			Pref: optID(t.PreferredAgent), Target: optID(t.TargetAgent),
		})
	}
	b, err := json.Marshal(out)
	return string(b), err
}
