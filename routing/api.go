package routing

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley"
)

// SyncQueue creates or replaces a queue's config and members (and each
// member's set of queues). Waiting tasks and pending offers are kept, also
// those of agents no longer members. It does not dispatch: call Dispatch
// if the change may let waiting tasks be offered.
func (r *Router) SyncQueue(ctx context.Context, q QueueSpec) error {
	if err := q.check(); err != nil {
		return err
	}
	args := []any{id(q.ID), q.Priority, q.OfferTimeout.Milliseconds()}
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
	args := []any{id(a.ID), a.Capacity[parley.MediaVoice], a.Capacity[parley.MediaChat], a.Capacity[parley.MediaEmail]}
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

// Enqueue adds a task to its queue, then dispatches the queue and, if the
// task still waits, tries it on its own (so ScanDepth unofferable tasks
// ahead of it cannot keep it from a free agent). A task already queued or
// offered is left as it is, even when t names another queue or priority
// (Remove it first to move it); its queue is dispatched all the same.
// Unknown queue: ENOTFOUND.
func (r *Router) Enqueue(ctx context.Context, t Task) (Outcome, error) {
	if err := t.check(r.now()); err != nil {
		return Outcome{}, err
	}
	score := Score(t.Priority, t.EnqueuedAt)
	rep, err := r.run(ctx, "enqueue "+id(t.ConversationID), scriptEnqueue, smallPool,
		id(t.ConversationID), id(t.QueueID), string(t.Media), t.Priority,
		t.EnqueuedAt.UnixMilli(), strconv.FormatInt(score, 10), t.requireJSON())
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
	p, err := r.rdb.HGet(ctx, r.key("a", id(agentID)), "presence").Result()
	if errors.Is(err, redis.Nil) {
		return "", parley.Errorf(parley.ENOTFOUND, "agent %d not found", agentID)
	} else if err != nil {
		return "", fmt.Errorf("routing: presence %d: %w", agentID, err)
	}
	return parley.Presence(p), nil
}

// Accept moves a pending offer to accepted: the slot stays taken (now an
// assigned conversation, freed by Release) and the task is deleted.
// Unknown offer (or ended more than an hour ago): ENOTFOUND; another
// agent's offer: EFORBIDDEN; an offer no longer pending: ECONFLICT "offer
// already <state>". An offer past its expiry that the sweeper has not
// timed out yet can still be accepted.
func (r *Router) Accept(ctx context.Context, offerID string, agentID int64) (parley.Offer, error) {
	rep, err := r.run(ctx, "accept "+offerID, scriptAccept, 0, offerID, id(agentID))
	if err != nil {
		return parley.Offer{}, err
	}
	return parseOffer(rep.extra)
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

// expireBatch is how many due offers one expire.lua call handles.
const expireBatch = 100

// ExpireDue times out every pending offer whose expiry is at or before
// Now(), in batches of expireBatch: the slot is freed, the agent excluded
// for the task, the task put back at its original score, its queue
// dispatched and the agent left to pull other work. Each offer times out
// once even when several instances sweep at the same time.
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

// NextExpiry returns the earliest expiry of a pending offer; false when
// there is none.
func (r *Router) NextExpiry(ctx context.Context) (time.Time, bool, error) {
	zs, err := r.rdb.ZRangeWithScores(ctx, r.key("expiry"), 0, 0).Result()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("routing: next expiry: %w", err)
	}
	if len(zs) == 0 {
		return time.Time{}, false, nil
	}
	return msTime(int64(zs[0].Score)), true, nil
}

// Release frees one assigned slot of media (an assigned conversation was
// resolved or transferred; never below 0, and slots held by pending offers
// are not touched), then the agent pulls work. Unknown agent: ENOTFOUND.
func (r *Router) Release(ctx context.Context, agentID int64, media parley.Media) (Outcome, error) {
	if !media.Valid() {
		return Outcome{}, parley.Invalid("Invalid media.", map[string]string{"media": "must be voice, chat or email"})
	}
	rep, err := r.run(ctx, "release "+id(agentID), scriptRelease, smallPool, id(agentID), string(media))
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

// Load returns the slots in use per media (assigned conversations plus
// pending offers). Unknown agent: ENOTFOUND.
func (r *Router) Load(ctx context.Context, agentID int64) (map[parley.Media]int, error) {
	fields := []string{"presence"}
	for _, m := range parley.AllMedia {
		fields = append(fields, "asg:"+string(m), "pend:"+string(m))
	}
	v, err := r.rdb.HMGet(ctx, r.key("a", id(agentID)), fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("routing: load %d: %w", agentID, err)
	}
	if v[0] == nil {
		return nil, parley.Errorf(parley.ENOTFOUND, "agent %d not found", agentID)
	}
	load := make(map[parley.Media]int, len(parley.AllMedia))
	for i, m := range parley.AllMedia {
		for _, x := range v[1+2*i : 3+2*i] {
			s, _ := x.(string)
			n, _ := strconv.Atoi(s)
			load[m] += n
		}
	}
	return load, nil
}
