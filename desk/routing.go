package desk

import (
	"context"
	"fmt"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/routing"
)

// RunSweeper ends offers whose time ran out, waking at the earliest expiry.
// Every instance may run it: the router's compare-and-set ends each offer once.
func (d *Desk) RunSweeper(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-d.wake:
		}
		out, err := d.router.ExpireDue(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Error("expire offers", "error", err)
		}
		d.handle(ctx, out)
		wait := time.Second
		if next, ok, err := d.router.NextExpiry(ctx); err == nil && ok {
			wait = min(wait, max(next.Sub(d.now()), 5*time.Millisecond))
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// Reconcile rebuilds the routing state in Redis from PostgreSQL.
func (d *Desk) Reconcile(ctx context.Context) error {
	var s routing.Snapshot
	queues, err := d.db.Queues(ctx)
	if err != nil {
		return err
	}
	byID := map[int64]parley.Queue{}
	for _, q := range queues {
		spec, err := d.queueSpec(ctx, q)
		if err != nil {
			return err
		}
		s.Queues = append(s.Queues, spec)
		byID[q.ID] = q
	}
	agents, err := d.db.Agents(ctx)
	if err != nil {
		return err
	}
	for _, a := range agents {
		s.Agents = append(s.Agents, agentSpec(a))
	}
	convs, err := d.db.QueuedConversations(ctx)
	if err != nil {
		return err
	}
	for _, c := range convs {
		t, err := d.task(ctx, c, byID[c.QueueID])
		if err != nil {
			return err
		}
		s.Tasks = append(s.Tasks, t)
	}
	if s.Assigned, err = d.db.AssignedLoad(ctx); err != nil {
		return err
	}
	out, err := d.router.Reconcile(ctx, s)
	d.handle(ctx, out)
	if err != nil {
		return fmt.Errorf("reconcile routing: %w", err)
	}
	d.log.Info("routing reconciled", "queues", len(s.Queues), "agents", len(s.Agents), "waiting", len(s.Tasks))
	return nil
}

func (d *Desk) queueSpec(ctx context.Context, q parley.Queue) (routing.QueueSpec, error) {
	members, err := d.db.QueueMembers(ctx, q)
	if err != nil {
		return routing.QueueSpec{}, err
	}
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	spec := routing.QueueSpec{ID: q.ID, Priority: q.Priority, OfferTimeout: sec(q.OfferTimeoutS), Members: members,
		MaxParallelOffers: q.MaxParallelOffers, Aging: q.Aging, ProficiencyFirst: q.ProficiencyFirst,
		StickyWindow: sec(q.StickyWindowS), WrapUp: sec(q.WrapUpS), Paused: q.Paused}
	for _, st := range q.Steps {
		spec.Steps = append(spec.Steps, routing.StepSpec{Require: st.Require, ExpireAfter: sec(st.ExpireAfterS), SkipIfNoAgents: st.SkipIfNoAgents})
	}
	return spec, nil
}

func agentSpec(a parley.Agent) routing.AgentSpec {
	return routing.AgentSpec{ID: a.ID, Skills: a.Proficiencies(), Capacity: a.Capacity, VoiceBlocksDigital: a.VoiceBlocksDigital}
}

// SyncQueue pushes a created or changed queue to the router.
func (d *Desk) SyncQueue(ctx context.Context, q parley.Queue) error {
	spec, err := d.queueSpec(ctx, q)
	if err != nil {
		return err
	}
	if err := d.router.SyncQueue(ctx, spec); err != nil {
		return err
	}
	out, err := d.router.Dispatch(ctx, q.ID)
	d.handle(ctx, out)
	return err
}

// SyncAgent pushes a created or changed agent to the router, and the queues
// whose membership may have changed with its teams.
func (d *Desk) SyncAgent(ctx context.Context, a parley.Agent) error {
	if err := d.router.SyncAgent(ctx, agentSpec(a)); err != nil {
		return err
	}
	queues, err := d.db.Queues(ctx)
	if err != nil {
		return err
	}
	for _, q := range queues {
		if err := d.SyncQueue(ctx, q); err != nil {
			return err
		}
	}
	out, err := d.router.Pull(ctx, a.ID)
	d.handle(ctx, out)
	return err
}

// RemoveAgent takes a deleted agent out of routing.
func (d *Desk) RemoveAgent(ctx context.Context, id int64) error {
	out, err := d.router.RemoveAgent(ctx, id)
	d.handle(ctx, out)
	return err
}

// QueueStatus tells a waiting customer where they stand.
func (d *Desk) QueueStatus(ctx context.Context, conv parley.Conversation) (pos int, wait time.Duration, queued bool, err error) {
	if conv.Status != parley.StatusQueued {
		return 0, 0, false, nil
	}
	pos, queued, err = d.router.Position(ctx, conv.ID)
	if err != nil || !queued {
		return pos, 0, queued, err
	}
	available, free, err := d.router.Staffed(ctx, conv.QueueID)
	if err != nil {
		return pos, 0, queued, err
	}
	aht, err := d.db.MeanHandleTime(ctx, conv.QueueID)
	if err != nil {
		return pos, 0, queued, err
	}
	return pos, EstimatedWait(pos, free[conv.Channel.Media()], available, aht), queued, nil
}

// EstimatedWait is the wait of the task at 0-based position pos: nothing
// while a free slot is waiting for it, otherwise each task ahead beyond the
// free slots needs one handle time, shared by the available agents:
// max(0, pos + 1 − free) × AHT ÷ max(1, available).
func EstimatedWait(pos, free, available int, aht time.Duration) time.Duration {
	ahead := pos + 1 - free
	if ahead <= 0 {
		return 0
	}
	return time.Duration(ahead) * aht / time.Duration(max(available, 1))
}
