package desk

import (
	"context"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
)

// boostPriority raises a new conversation's priority by its customer's CRM
// boost (lifecycle stage, tags, segments; crm.Settings.Boost) before it is
// enqueued. A failure leaves the priority as it was.
func (d *Desk) boostPriority(ctx context.Context, c *parley.Conversation) {
	b, err := d.db.PriorityBoost(ctx, c.CustomerID)
	if err != nil {
		d.log.Warn("crm priority boost", "conversation_id", c.ID, "error", err)
		return
	}
	if b <= 0 {
		return
	}
	conv, _, err := d.db.SLA().SetPriorityAtLeast(ctx, c.ID, min(c.Priority+b, crm.MaxPriority), "crm")
	if err != nil {
		d.log.Warn("crm priority boost", "conversation_id", c.ID, "error", err)
		return
	}
	c.Priority = conv.Priority
}

// Lifecycle moves customers between lifecycle stages by the CRM's rules:
// it follows the events outbox (repeat contacts on conversation.created,
// low CSAT/NPS on survey.answered) and periodically churns inactive
// customers. Its cursor row is locked while it works, so instances take
// turns and every event is handled once.
type Lifecycle struct {
	d *Desk
	// Every is how often the outbox is polled when idle; InactivityEvery
	// how often the inactivity rule runs (across all instances).
	Every, InactivityEvery time.Duration
}

// NewLifecycle returns the lifecycle rules' runner.
func NewLifecycle(d *Desk) *Lifecycle {
	return &Lifecycle{d: d, Every: 500 * time.Millisecond, InactivityEvery: time.Hour}
}

// Run applies the rules until ctx ends.
func (l *Lifecycle) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	var lastInactivity time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n, moved, err := l.d.db.FollowLifecycle(ctx, 200, 5*time.Second)
		if err != nil && ctx.Err() == nil {
			l.d.log.Error("lifecycle rules", "error", err)
		}
		if moved > 0 {
			l.d.log.Info("lifecycle stages moved", "customers", moved)
		}
		if time.Since(lastInactivity) > time.Minute {
			lastInactivity = time.Now()
			if n, err := l.d.db.ChurnInactive(ctx, l.InactivityEvery); err != nil && ctx.Err() == nil {
				l.d.log.Error("lifecycle inactivity rule", "error", err)
			} else if n > 0 {
				l.d.log.Info("inactive customers churned", "customers", n)
			}
		}
		if n == 0 || err != nil {
			t.Reset(l.Every)
		} else {
			t.Reset(0)
		}
	}
}

// QueueImport runs a stored CSV customer import as a background job.
func (d *Desk) QueueImport(ctx context.Context, importID int64) error {
	return d.jobs.EnqueueImport(ctx, importID)
}
