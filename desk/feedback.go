package desk

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/feedback"
)

// Feedback runs the feedback rules — a detractor survey answer or a
// customer message with a complaint keyword opens a complaint — from the
// events outbox, and opens the follow-up task of each item that asks for
// one: a new conversation routed into the chosen queue, offered to an
// agent like any other work.
type Feedback struct {
	d *Desk
	// Every is how often the outbox is polled when idle.
	Every time.Duration
}

// NewFeedback returns the feedback rule runner.
func NewFeedback(d *Desk) *Feedback { return &Feedback{d: d, Every: 300 * time.Millisecond} }

// Run follows the events outbox until ctx ends. Its cursor row is locked
// while it works, so instances take turns and every event is handled once.
func (f *Feedback) Run(ctx context.Context) error {
	return f.d.follow(ctx, "feedback rules", f.Every, f.Step)
}

// follow runs step until ctx ends: again at once while it finds work,
// after every when idle or failing (failures are logged as what).
func (d *Desk) follow(ctx context.Context, what string, every time.Duration, step func(context.Context) (int, error)) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, err := step(ctx)
		if err != nil && ctx.Err() == nil {
			d.log.Error(what, "error", err)
		}
		if n == 0 || err != nil {
			t.Reset(every)
		} else {
			t.Reset(0)
		}
	}
}

// Step applies the rules to the pending events once, then opens the
// follow-up tasks still to open; it returns how many events it read.
func (f *Feedback) Step(ctx context.Context) (int, error) {
	opened, n, err := f.d.db.ApplyFeedbackRules(ctx, 200, 5*time.Second)
	if err != nil {
		return 0, err
	}
	for _, it := range opened {
		f.d.log.Info("feedback item opened", "feedback_id", it.ID, "source", it.Source, "conversation_id", it.ConversationID)
		f.d.notifyFeedback(ctx, it)
	}
	ids, err := f.d.db.PendingFollowUps(ctx, 50)
	if err != nil {
		return n, err
	}
	for _, id := range ids {
		if err := f.d.openFollowUp(ctx, id); err != nil && ctx.Err() == nil {
			f.d.log.Warn("open follow-up", "feedback_id", id, "error", err)
		}
	}
	return n, nil
}

// notifyFeedback tells the item's owner on their console.
func (d *Desk) notifyFeedback(ctx context.Context, it feedback.Item) {
	if it.OwnerID != 0 {
		d.publish(ctx, bus.AgentTopic(it.OwnerID), map[string]any{"type": "feedback", "item": it})
	}
}

// openFollowUp opens an item's follow-up conversation and routes it.
func (d *Desk) openFollowUp(ctx context.Context, itemID int64) error {
	conv, opened, err := d.db.OpenFollowUp(ctx, itemID)
	if err != nil || !opened {
		return err
	}
	d.log.Info("follow-up task opened", "feedback_id", itemID, "conversation_id", conv.ID, "queue_id", conv.QueueID)
	if err := d.enqueue(ctx, conv); err != nil {
		// Queued in PostgreSQL; the reconciler puts it in Redis.
		d.log.Error("enqueue follow-up", "conversation_id", conv.ID, "error", err)
	}
	return nil
}

// followUpServes refuses (EUNPROCESSABLE) a follow-up queue that does not
// take the media of the channel the customer's follow-up task would use.
func (d *Desk) followUpServes(ctx context.Context, q parley.Queue, customerID, convID int64) error {
	ch, ok, err := d.db.FollowUpChannel(ctx, customerID, convID)
	if err != nil || !ok || q.Serves(ch.Media()) {
		return err
	}
	return &parley.Error{Code: parley.EUNPROCESSABLE, Message: fmt.Sprintf("Queue %s does not take %s conversations: the follow-up would be a %s conversation.",
		q.Name, ch.Media(), ch), Fields: map[string]string{"followup_queue_id": fmt.Sprintf("does not serve %s (the customer's %s channel)", ch.Media(), ch)}}
}

// OpenFeedback opens an item by hand (an agent, through the API or the
// console) and its follow-up task when it has a queue. followUp nil means
// the settings' queue for the item's kind; 0 means none.
func (d *Desk) OpenFeedback(ctx context.Context, by parley.Agent, n feedback.New, followUp *int64) (feedback.Item, error) {
	s, err := d.db.FeedbackSettings(ctx)
	if err != nil {
		return feedback.Item{}, err
	}
	n.Source, n.CreatedBy, n.Dedupe = feedback.SourceAgent, by.ID, ""
	if err := n.Validate(s); err != nil {
		return feedback.Item{}, err
	}
	switch {
	case followUp != nil:
		n.FollowUpQueueID = *followUp
	case s.FollowUpQueues[n.Kind] != "":
		if q, err := strconv.ParseInt(s.FollowUpQueues[n.Kind], 10, 64); err == nil {
			n.FollowUpQueueID = q
		}
	}
	if n.FollowUpQueueID != 0 {
		q, err := d.db.Queue(ctx, n.FollowUpQueueID)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return feedback.Item{}, parley.Invalid("Invalid feedback item.", map[string]string{"followup_queue_id": "no such queue"})
		} else if err != nil {
			return feedback.Item{}, err
		}
		// A queue named here must take the follow-up's channel; the
		// settings' queue for the kind gives way to the inbox's queue
		// instead (OpenFollowUp).
		if followUp != nil {
			if err := d.followUpServes(ctx, q, n.CustomerID, n.ConversationID); err != nil {
				return feedback.Item{}, err
			}
		}
	}
	it, _, err := d.db.CreateFeedbackItem(ctx, n, s)
	if err != nil {
		return it, err
	}
	d.log.Info("feedback item opened", "feedback_id", it.ID, "source", it.Source, "by", by.ID)
	if it.OwnerID != by.ID {
		d.notifyFeedback(ctx, it)
	}
	if it.FollowUpQueueID != 0 {
		if err := d.openFollowUp(ctx, it.ID); err != nil {
			d.log.Warn("open follow-up", "feedback_id", it.ID, "error", err)
		}
		if fresh, err := d.db.FeedbackItem(ctx, it.ID); err == nil {
			it = fresh
		}
	}
	return it, nil
}
