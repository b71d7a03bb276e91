package desk

import (
	"context"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
)

// RaisePriority raises an open conversation's priority to at least p (an
// SLA escalation). A conversation waiting in a queue is re-queued with its
// original enqueue time, so it moves ahead without losing its place; a
// pending offer for it is canceled and made again.
func (d *Desk) RaisePriority(ctx context.Context, convID int64, p int) error {
	conv, changed, err := d.db.SLA().SetPriorityAtLeast(ctx, convID, p, "sla")
	if err != nil || !changed {
		return err
	}
	d.publish(ctx, bus.ConversationTopic(convID), map[string]any{"type": "priority", "conversation_id": strconv.FormatInt(convID, 10), "priority": conv.Priority})
	if conv.Status == parley.StatusQueued {
		return d.requeue(ctx, conv)
	}
	return nil
}

// MoveToQueue moves a conversation still waiting in its queue to another
// queue (an SLA escalation), keeping its enqueue time. An assigned
// conversation stays with its agent.
func (d *Desk) MoveToQueue(ctx context.Context, convID, queueID int64) error {
	conv, moved, err := d.db.SLA().MoveQueued(ctx, convID, queueID, "sla")
	if err != nil || !moved {
		return err
	}
	return d.requeue(ctx, conv)
}

// requeue takes a queued conversation out of routing and enqueues it again
// as PostgreSQL now has it.
func (d *Desk) requeue(ctx context.Context, conv parley.Conversation) error {
	out, err := d.router.Remove(ctx, conv.ID)
	d.handle(ctx, out)
	if err != nil {
		return err
	}
	// Only a conversation still waiting goes back (an accept may have won).
	if conv, err = d.db.Conversation(ctx, conv.ID); err != nil || conv.Status != parley.StatusQueued {
		return err
	}
	return d.enqueue(ctx, conv)
}
