package routing

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley"
)

// SyncQueue creates or replaces a queue's config and members (and each
// member's set of queues). Waiting tasks and pending offers are kept, also
// those of agents no longer members; when Steps or Aging changed, the
// queue's tasks are re-scored and keep their step index (bounded by the
// new number of steps). It does not dispatch: call Dispatch if the change
// may let waiting tasks be offered (e.g. after unpausing).
func (r *Router) SyncQueue(ctx context.Context, q QueueSpec) error {
	if err := q.check(); err != nil {
		return err
	}
	args := []any{id(q.ID), q.config()}
	for _, m := range q.Members {
		args = append(args, id(m))
	}
	_, err := r.run(ctx, "sync queue "+id(q.ID), scriptSyncQueue, 0, args...)
	return err
}

// SyncAgent creates or replaces an agent's skills and capacity. Presence,
// load and timestamps are kept; a new agent is offline. Lowering capacity
// below the load cancels nothing: no new offer is made until the load is
// below the capacity again. It does not dispatch: call Pull if the change
// may let the agent take waiting tasks.
func (r *Router) SyncAgent(ctx context.Context, a AgentSpec) error {
	if err := a.check(); err != nil {
		return err
	}
	vbd := "0"
	if a.VoiceBlocksDigital {
		vbd = "1"
	}
	args := []any{id(a.ID), a.Capacity[parley.MediaVoice], a.Capacity[parley.MediaChat], a.Capacity[parley.MediaEmail], vbd}
	for s, lvl := range a.Skills {
		args = append(args, s, lvl)
	}
	_, err := r.run(ctx, "sync agent "+id(a.ID), scriptSyncAgent, 0, args...)
	return err
}

// RemoveQueue deletes a queue's config and membership. Its tasks stay
// (they are PostgreSQL's business: Remove them, or Enqueue them elsewhere
// after Remove); they are dispatched again if the queue is synced again,
// and Reconcile drops those not in its snapshot. Pending offers for them
// run their course.
func (r *Router) RemoveQueue(ctx context.Context, queueID int64) error {
	_, err := r.run(ctx, "remove queue "+id(queueID), scriptRemoveQueue, 0, id(queueID))
	return err
}

// RemoveAgent deletes an agent: its pending offers are canceled and their
// tasks offered to others; its assigned conversations are forgotten.
// Removing an unknown agent does nothing.
func (r *Router) RemoveAgent(ctx context.Context, agentID int64) (Outcome, error) {
	rep, err := r.run(ctx, "remove agent "+id(agentID), scriptRemoveAgent, smallPool, id(agentID))
	return rep.Outcome, err
}

// Enqueue adds a task to its queue and offers it to its chosen eligible
// agents if any is free. The rest of the queue is not dispatched: the
// router is work-conserving (after every call no free agent is eligible
// for a waiting task), so an arrival can only be offered itself. A task
// already queued or offered is left as it is, even when t names another
// queue or priority (Remove it first to move it). Unknown queue:
// ENOTFOUND.
func (r *Router) Enqueue(ctx context.Context, t Task) (Outcome, error) {
	if err := t.check(r.now()); err != nil {
		return Outcome{}, err
	}
	rep, err := r.run(ctx, "enqueue "+id(t.ConversationID), scriptEnqueue, smallPool, t.args()...)
	return rep.Outcome, err
}

// args are a task's script arguments: conv, queue, media, prio, enq_ms,
// req, pref, target.
func (t Task) args() []any {
	return []any{id(t.ConversationID), id(t.QueueID), string(t.Media), t.Priority,
		t.EnqueuedAt.UnixMilli(), reqString(t.Require), optID(t.PreferredAgent), optID(t.TargetAgent)}
}

// optID is id(n), or "" for 0.
func optID(n int64) string {
	if n == 0 {
		return ""
	}
	return id(n)
}

// Transfer moves an assigned conversation from agentID to another queue
// (or, with t.TargetAgent, to a named agent): one slot of media of
// agentID is released with the wrap-up of the queue the conversation was
// accepted from (remembered for 30 days after Accept; none if unknown),
// and t enters t.QueueID as a new task, agentID excluded from it (unless
// it is the target). t.ConversationID is set to conversationID and
// t.Media to media; set t.EnqueuedAt to now (its zero value) for an
// ordinary transfer, or to the original enqueue time to keep the
// customer's place. The queue is dispatched, the task tried, then
// agentID pulls. A conversation that is already a task stays as it is
// (the slot is still released). Unknown queue or agent: ENOTFOUND.
func (r *Router) Transfer(ctx context.Context, conversationID int64, agentID int64, media parley.Media, t Task) (Outcome, error) {
	t.ConversationID, t.Media = conversationID, media
	if err := t.check(r.now()); err != nil {
		return Outcome{}, err
	}
	ta := t.args() // conv, queue, media, prio, enq, req, pref, target
	args := append([]any{id(conversationID), id(agentID), string(media), ta[1]}, ta[3:]...)
	rep, err := r.run(ctx, "transfer "+id(conversationID), scriptTransfer, smallPool, args...)
	return rep.Outcome, err
}

// Remove takes a conversation out of routing (the customer left, the
// conversation was closed while queued). Its pending offer is canceled
// (reason "canceled") and the freed agent pulls other work. Removing a
// conversation that is not queued does nothing.
func (r *Router) Remove(ctx context.Context, conversationID int64) (Outcome, error) {
	rep, err := r.run(ctx, "remove "+id(conversationID), scriptRemove, smallPool, id(conversationID))
	return rep.Outcome, err
}

// SetPresence sets an agent's presence. Becoming available starts its
// idle time and it pulls work at once. Away or offline cancels its pending
// offers (reason "canceled"; not a miss): their tasks go back at their
// original place and are offered to others at once. Unknown agent:
// ENOTFOUND.
func (r *Router) SetPresence(ctx context.Context, agentID int64, p parley.Presence) (Outcome, error) {
	if !p.Valid() {
		return Outcome{}, parley.Invalid("Invalid presence.", map[string]string{"presence": "must be offline, available or away"})
	}
	rep, err := r.run(ctx, "set presence "+id(agentID), scriptPresence, smallPool, id(agentID), string(p))
	return rep.Outcome, err
}

// Presence returns an agent's presence. Unknown agent: ENOTFOUND.
func (r *Router) Presence(ctx context.Context, agentID int64) (parley.Presence, error) {
	st, err := r.rdb.HGet(ctx, r.key("ag"), id(agentID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", parley.Errorf(parley.ENOTFOUND, "agent %d not found", agentID)
	} else if err != nil {
		return "", fmt.Errorf("routing: presence %d: %w", agentID, err)
	}
	p, _, _ := strings.Cut(st, "|")
	return parley.Presence(p), nil
}

// Accept moves a pending offer to accepted: the slot stays taken (now an
// assigned conversation, freed by Release), the agent's miss streak
// resets and the task is deleted. The task's other pending offers
// (parallel offers) are rescinded (state rescinded, reason
// "accepted_elsewhere"; not a miss, no exclusion) and their agents pull
// other work; they are in the returned Outcome (the accepted offer is
// not in Outcome.Ended).
// Unknown offer (or ended more than an hour ago): ENOTFOUND; another
// agent's offer: EFORBIDDEN; an offer no longer pending: ECONFLICT "offer
// already <state>". An offer past its expiry that the sweeper has not
// timed out yet can still be accepted.
func (r *Router) Accept(ctx context.Context, offerID string, agentID int64) (parley.Offer, Outcome, error) {
	rep, err := r.run(ctx, "accept "+offerID, scriptAccept, smallPool, offerID, id(agentID))
	if len(rep.extra) == 0 {
		return parley.Offer{}, rep.Outcome, err
	}
	o, perr := parseOffer(rep.extra)
	out := rep.Outcome
	out.Ended = slices.DeleteFunc(out.Ended, func(x parley.Offer) bool { return x.ID == o.ID })
	return o, out, errors.Join(err, perr)
}

// Reject moves a pending offer to rejected: the slot is freed, the agent
// excluded for that task, the task put back at its original score and its
// queue dispatched; then the agent pulls other work. Errors as Accept's.
// The rejected offer is also in Outcome.Ended.
func (r *Router) Reject(ctx context.Context, offerID string, agentID int64) (parley.Offer, Outcome, error) {
	rep, err := r.run(ctx, "reject "+offerID, scriptReject, smallPool, offerID, id(agentID))
	if len(rep.extra) == 0 {
		return parley.Offer{}, rep.Outcome, err
	}
	o, perr := parseOffer(rep.extra)
	return o, rep.Outcome, errors.Join(err, perr)
}

// expireBatch is how many due items of each kind one expire.lua call
// handles.
const expireBatch = 100

// ExpireDue fires every timer due at or before Now(), in batches of
// expireBatch per kind, each batch in this order:
//   - offer timeouts: the slot is freed, the agent excluded for the task
//     and its miss streak grown (at MissLimit it is set away, its other
//     offers canceled: Outcome.Away), the task put back at its original
//     score when no other offer of it is pending, its queue dispatched;
//   - wrap-up ends: the slot frees;
//   - step changes: the task moves to its next step (or past several, or
//     to "any member"); a waiting task's queue is dispatched at once; a
//     pending offer is not touched;
//
// then the agents of the first two kinds pull other work. Each offer
// times out once even when several instances sweep at the same time.
func (r *Router) ExpireDue(ctx context.Context) (Outcome, error) {
	var out Outcome
	for {
		rep, err := r.run(ctx, "expire due", scriptExpire, bulkPool)
		out.add(rep.Outcome)
		if err != nil {
			return out, err
		}
		if n, _ := strconv.Atoi(rep.extra[0]); n < expireBatch {
			return out, nil
		}
	}
}

// NextExpiry returns the earliest timer ExpireDue has to fire: an offer
// expiry, a step change or a wrap-up end; false when there is none.
func (r *Router) NextExpiry(ctx context.Context) (time.Time, bool, error) {
	var cmds []*redis.ZSliceCmd
	_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, k := range []string{"expiry", "steps", "wrap"} {
			cmds = append(cmds, p.ZRangeWithScores(ctx, r.key(k), 0, 0))
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("routing: next expiry: %w", err)
	}
	var first int64
	found := false
	for _, c := range cmds {
		if zs := c.Val(); len(zs) > 0 && (!found || int64(zs[0].Score) < first) {
			first, found = int64(zs[0].Score), true
		}
	}
	if !found {
		return time.Time{}, false, nil
	}
	return msTime(first), true, nil
}

// Release frees one assigned slot of media at once: ReleaseAfter with no
// wrap-up.
func (r *Router) Release(ctx context.Context, agentID int64, media parley.Media) (Outcome, error) {
	return r.ReleaseAfter(ctx, agentID, media, 0)
}

// ReleaseAfter ends one assigned conversation of media (resolved or
// transferred; never below 0, and slots held by pending offers are not
// touched). With wrapUp > 0 the slot stays taken (it counts as load, see
// AgentState.WrapUp) until Now + wrapUp, when ExpireDue frees it (a
// timer: see NextExpiry); else it frees at once. Then the agent pulls
// work. Unknown agent: ENOTFOUND.
func (r *Router) ReleaseAfter(ctx context.Context, agentID int64, media parley.Media, wrapUp time.Duration) (Outcome, error) {
	if !media.Valid() {
		return Outcome{}, parley.Invalid("Invalid media.", map[string]string{"media": "must be voice, chat or email"})
	}
	if wrapUp < 0 {
		wrapUp = 0
	}
	rep, err := r.run(ctx, "release "+id(agentID), scriptRelease, smallPool, id(agentID), string(media), wrapUp.Milliseconds())
	return rep.Outcome, err
}

// Dispatch offers as many of a queue's waiting tasks as its free agents
// can take, in queue order; a task no free agent can take does not block
// those behind it (up to ScanDepth such tasks are skipped).
func (r *Router) Dispatch(ctx context.Context, queueID int64) (Outcome, error) {
	rep, err := r.run(ctx, "dispatch "+id(queueID), scriptDispatch, bulkPool, "q"+id(queueID))
	return rep.Outcome, err
}

// Pull lets an available agent with free slots take the best head tasks
// across its queues (highest queue priority, then lowest score), e.g.
// after SyncAgent raised its capacity or skills.
func (r *Router) Pull(ctx context.Context, agentID int64) (Outcome, error) {
	rep, err := r.run(ctx, "pull "+id(agentID), scriptDispatch, smallPool, "a"+id(agentID))
	return rep.Outcome, err
}

// Position returns a conversation's 0-based place among the waiting tasks
// of its queue (0 while it is offered) and whether it is in routing at
// all.
func (r *Router) Position(ctx context.Context, conversationID int64) (pos int, queued bool, err error) {
	rep, err := r.run(ctx, "position "+id(conversationID), scriptPosition, 0, id(conversationID))
	if err != nil || len(rep.extra) == 0 {
		return 0, false, err
	}
	pos, err = strconv.Atoi(rep.extra[0])
	return pos, err == nil, err
}

// QueueStats returns how many tasks of a queue wait for an agent (queued
// or offered, not yet accepted) and the enqueue time of the oldest (zero
// when none).
func (r *Router) QueueStats(ctx context.Context, queueID int64) (waiting int, oldest time.Time, err error) {
	age := r.key("q", id(queueID), "age")
	var card *redis.IntCmd
	var first *redis.ZSliceCmd
	_, err = r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		card = p.ZCard(ctx, age)
		first = p.ZRangeWithScores(ctx, age, 0, 0)
		return nil
	})
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("routing: queue stats %d: %w", queueID, err)
	}
	if zs := first.Val(); len(zs) > 0 {
		oldest = msTime(int64(zs[0].Score))
	}
	return int(card.Val()), oldest, nil
}

// Load returns the slots in use per media (assigned conversations,
// pending offers and wrap-ups). Unknown agent: ENOTFOUND.
func (r *Router) Load(ctx context.Context, agentID int64) (map[parley.Media]int, error) {
	st, err := r.AgentState(ctx, agentID)
	return st.Load, err
}

// AgentState is an agent's routing state.
type AgentState struct {
	Presence parley.Presence
	// Since is when the presence last changed (zero if never).
	Since time.Time
	// Load is the slots in use per media: assigned conversations, pending
	// offers and wrap-ups.
	Load map[parley.Media]int
	// Capacity is the slots per media.
	Capacity map[parley.Media]int
	// WrapUp counts the slots in wrap-up per media (part of Load).
	WrapUp map[parley.Media]int
	// Misses is the streak of consecutive missed offers.
	Misses int
}

// AgentState returns an agent's routing state. Unknown agent: ENOTFOUND.
func (r *Router) AgentState(ctx context.Context, agentID int64) (AgentState, error) {
	rec, err := r.rdb.HGet(ctx, r.key("ag"), id(agentID)).Result()
	if errors.Is(err, redis.Nil) {
		return AgentState{}, parley.Errorf(parley.ENOTFOUND, "agent %d not found", agentID)
	} else if err != nil {
		return AgentState{}, fmt.Errorf("routing: agent state %d: %w", agentID, err)
	}
	return decodeAgent(rec)
}

// decodeAgent reads an agent's record (see lib.lua): "presence|since|
// idle|last|miss|ndirect|wseq|asg x3|pend x3|wrap x3|vbd|cap x3|offers|
// skills", media in the order voice, chat, email.
func decodeAgent(rec string) (AgentState, error) {
	f := strings.SplitN(rec, "|", 22)
	if len(f) != 22 {
		return AgentState{}, errReply
	}
	var n [20]int
	for i := 1; i < 20; i++ {
		x, err := strconv.Atoi(f[i])
		if err != nil {
			return AgentState{}, errReply
		}
		n[i] = x
	}
	// n: since 1, idle 2, last 3, miss 4, ndirect 5, wseq 6, asg 7..9,
	// pend 10..12, wrap 13..15, vbd 16, cap 17..19.
	a := AgentState{Presence: parley.Presence(f[0]), Misses: n[4],
		Load: map[parley.Media]int{}, Capacity: map[parley.Media]int{}, WrapUp: map[parley.Media]int{}}
	if n[1] > 0 {
		a.Since = msTime(int64(n[1]))
	}
	for i, m := range []parley.Media{parley.MediaVoice, parley.MediaChat, parley.MediaEmail} {
		a.Capacity[m] = n[17+i]
		a.WrapUp[m] = n[13+i]
		a.Load[m] = n[7+i] + n[10+i] + n[13+i]
	}
	return a, nil
}

// Staffed returns how many members of a queue are available now and
// their free slots per media (capacity minus load; no chat or email slot
// of an agent whose voice blocks digital while on voice), e.g. for an
// estimated wait time.
func (r *Router) Staffed(ctx context.Context, queueID int64) (available int, freeSlots map[parley.Media]int, err error) {
	rep, err := r.run(ctx, "staffed "+id(queueID), scriptStaffed, 0, id(queueID))
	if err != nil {
		return 0, nil, err
	}
	if len(rep.extra) != 4 {
		return 0, nil, errReply
	}
	n := make([]int, 4)
	for i, s := range rep.extra {
		n[i], _ = strconv.Atoi(s)
	}
	return n[0], map[parley.Media]int{parley.MediaVoice: n[1], parley.MediaChat: n[2], parley.MediaEmail: n[3]}, nil
}

// Step returns the current 0-based escalation step of a waiting or
// offered task: len(QueueSpec.Steps) means any member may take it (a
// direct transfer reports 0). ok is false when the conversation is not
// in routing.
func (r *Router) Step(ctx context.Context, conversationID int64) (step int, ok bool, err error) {
	v, err := r.rdb.HGet(ctx, r.key("t", id(conversationID)), "step").Result()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("routing: step %d: %w", conversationID, err)
	}
	step, _ = strconv.Atoi(v)
	return step, true, nil
}
