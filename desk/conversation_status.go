package desk

import (
	"context"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
)

// statusFrame tells the agent and watchers a conversation's sub-status.
func statusFrame(c parley.Conversation, reason string) map[string]any {
	f := map[string]any{"type": "conversation_status", "conversation_id": strconv.FormatInt(c.ID, 10),
		"status": c.Status, "sub_status": c.SubStatus, "reason": reason}
	if !c.SnoozedUntil.IsZero() {
		f["snoozed_until"] = c.SnoozedUntil
	}
	return f
}

func (d *Desk) publishToConversation(ctx context.Context, c parley.Conversation, frame map[string]any) {
	if c.AgentID != 0 {
		d.publish(ctx, bus.AgentTopic(c.AgentID), frame)
	}
	d.publish(ctx, bus.ConversationTopic(c.ID), frame)
}

// SetStatus makes an assigned conversation pending, snoozed until until,
// or open again. Its agent may, and supervisors (audited) for anyone's.
// The SLA clocks pause while it waits (conversation.status_changed).
func (d *Desk) SetStatus(ctx context.Context, by parley.Agent, convID int64, status string, until time.Time) (parley.Conversation, error) {
	c, changed, err := d.db.SetSubStatus(ctx, convID, by, status, until, d.now(), by.Role.Can(parley.RoleSupervisor))
	if err != nil || !changed {
		return c, err
	}
	d.publishToConversation(ctx, c, statusFrame(c, "agent"))
	if c.AgentID != by.ID {
		details := map[string]any{"status": status}
		if !c.SnoozedUntil.IsZero() {
			details["until"] = c.SnoozedUntil
		}
		d.audit(ctx, by, "conversation.status", "conversation", convID, details)
	}
	if status == parley.SubSnoozed {
		d.wakeSnoozer()
	}
	return c, nil
}

func (d *Desk) wakeSnoozer() {
	select {
	case d.snoozeWake <- struct{}{}:
	default:
	}
}

// RunSnoozeWaker makes snoozed conversations open again when their time
// comes, waking at the earliest snooze (at least every second, so a snooze
// set on another instance is late by at most a second). Every instance may
// run it: each conversation wakes once.
func (d *Desk) RunSnoozeWaker(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-d.snoozeWake:
		}
		woken, err := d.db.WakeSnoozed(ctx, d.now())
		if err != nil && ctx.Err() == nil {
			d.log.Error("wake snoozed conversations", "error", err)
		}
		for _, c := range woken {
			d.log.Info("snooze ended", "conversation_id", c.ID, "agent_id", c.AgentID)
			d.publishToConversation(ctx, c, statusFrame(c, "timer"))
		}
		wait := time.Second
		if len(woken) == 100 {
			wait = 0
		} else if next, ok, err := d.db.NextSnoozeWake(ctx); err == nil && ok {
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

// Reopen puts a resolved conversation back to work. An agent reopening
// their own conversation gets it back as a direct offer (accepted like any
// offer, so capacity holds); a supervisor may name an agent (toAgent) or
// leave it to the queue (a sticky queue prefers the last agent). The
// outbox gets conversation.reopened: the SLA starts a new resolution cycle
// and gamification takes the resolution points back.
func (d *Desk) Reopen(ctx context.Context, by parley.Agent, convID, toAgent int64) (parley.Conversation, error) {
	supervisor := by.Role.Can(parley.RoleSupervisor)
	if toAgent != 0 && !supervisor && toAgent != by.ID {
		return parley.Conversation{}, parley.Errorf(parley.EFORBIDDEN, "Only supervisors may reopen a conversation for someone else.")
	}
	if toAgent != 0 {
		if _, err := d.db.Agent(ctx, toAgent); err != nil {
			return parley.Conversation{}, err
		}
	}
	c, previous, err := d.db.Reopen(ctx, convID, by, supervisor)
	if err != nil {
		return c, err
	}
	if toAgent == 0 && !supervisor {
		toAgent = by.ID
	}
	q, err := d.db.Queue(ctx, c.QueueID)
	if err != nil {
		return c, err
	}
	t, err := d.task(ctx, c, q)
	if err != nil {
		return c, err
	}
	t.TargetAgent = toAgent
	out, err := d.router.Enqueue(ctx, t)
	d.handle(ctx, out)
	if err != nil {
		// Committed as queued: the reconciler puts it in Redis.
		d.log.Error("enqueue reopened conversation", "conversation_id", c.ID, "error", err)
	}
	frame := map[string]any{"type": "reopened", "conversation_id": strconv.FormatInt(c.ID, 10), "by": map[string]any{"id": itoa(by.ID), "name": by.Name}}
	if previous != 0 {
		d.publish(ctx, bus.AgentTopic(previous), frame)
	}
	d.publish(ctx, bus.ConversationTopic(c.ID), frame)
	if supervisor && previous != by.ID {
		details := map[string]any{"previous_agent": itoa(previous)}
		if toAgent != 0 {
			details["to_agent"] = itoa(toAgent)
		}
		d.audit(ctx, by, "conversation.reopen", "conversation", convID, details)
	}
	d.log.Info("conversation reopened", "conversation_id", c.ID, "by", by.ID, "to_agent", toAgent)
	return c, nil
}

// ChangeTags adds and removes tags of a conversation the agent may see.
func (d *Desk) ChangeTags(ctx context.Context, by parley.Agent, convID int64, add, remove []string) (parley.Conversation, error) {
	c, changed, err := d.db.ChangeTags(ctx, convID, add, remove, by.ID, "agent")
	if err != nil || !changed {
		return c, err
	}
	d.publishToConversation(ctx, c, tagsFrame(c))
	return c, nil
}

func tagsFrame(c parley.Conversation) map[string]any {
	return map[string]any{"type": "tags", "conversation_id": strconv.FormatInt(c.ID, 10), "tags": c.Tags}
}

// Tag adds a tag to a conversation (an SLA escalation).
func (d *Desk) Tag(ctx context.Context, convID int64, tag string) error {
	c, changed, err := d.db.ChangeTags(ctx, convID, []string{tag}, nil, 0, "sla")
	if err != nil || !changed {
		return err
	}
	d.publishToConversation(ctx, c, tagsFrame(c))
	return nil
}
