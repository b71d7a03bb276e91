// Package desk is Parley's application core: it turns inbound messages,
// agent actions and routing outcomes into state changes in PostgreSQL (the
// source of truth), routing calls in Redis and frames for the sockets of
// every instance. Channels reach it through parley.Inbox; the server calls
// it for agent actions.
package desk

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/metrics"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/routing"
	"github.com/redis/go-redis/v9"
)

// Publisher fans a frame out to every subscriber of a topic on any instance.
type Publisher interface {
	Publish(ctx context.Context, topic string, v any) error
}

// Jobs queues background work.
type Jobs interface {
	EnqueueDelivery(ctx context.Context, messageID int64) error
	EnqueueImport(ctx context.Context, importID int64) error
	// ScheduleSurvey sets the delayed survey send of a conversation
	// resolved by event eventID for at (once per conversation and event).
	ScheduleSurvey(ctx context.Context, convID, eventID int64, at time.Time) error
}

// Config holds the desk's dependencies.
type Config struct {
	DB     *postgres.DB
	Router *routing.Router
	// Redis and Prefix hold the desk's own live state (agents' sockets).
	Redis   redis.UniversalClient
	Prefix  string
	Bus     Publisher
	Jobs    Jobs
	Senders map[parley.Channel]parley.Sender
	Metrics *metrics.Metrics
	Log     *slog.Logger
	Now     func() time.Time
}

// Desk is the application core. It is safe for concurrent use.
type Desk struct {
	db      *postgres.DB
	router  *routing.Router
	rdb     redis.UniversalClient
	prefix  string
	bus     Publisher
	jobs    Jobs
	senders map[parley.Channel]parley.Sender
	metrics *metrics.Metrics
	log     *slog.Logger
	now     func() time.Time
	wake    chan struct{}
	// snoozeWake tells RunSnoozeWaker a snooze was set.
	snoozeWake chan struct{}
}

// New returns a desk.
func New(c Config) *Desk {
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Desk{db: c.DB, router: c.Router, rdb: c.Redis, prefix: c.Prefix, bus: c.Bus, jobs: c.Jobs, senders: c.Senders, metrics: c.Metrics, log: c.Log, now: c.Now,
		wake: make(chan struct{}, 1), snoozeWake: make(chan struct{}, 1)}
}

// publish sends a frame and logs (but does not fail on) a lost publish: fan-out
// is at-most-once and clients resync by seq.
func (d *Desk) publish(ctx context.Context, topic string, frame any) {
	if err := d.bus.Publish(ctx, topic, frame); err != nil {
		d.log.Warn("publish frame", "topic", topic, "error", err)
	}
}

// handle records routing outcomes in PostgreSQL and tells the agents.
func (d *Desk) handle(ctx context.Context, out routing.Outcome) {
	for _, o := range out.Ended {
		if err := d.db.EndOffer(ctx, o); err != nil {
			d.log.Error("record offer end", "offer_id", o.ID, "error", err)
		}
		d.metrics.Offers.WithLabelValues(string(o.State)).Inc()
		reason := string(o.State)
		if o.State == parley.OfferRescinded && o.Reason == "accepted_elsewhere" {
			reason = o.Reason
		}
		d.publish(ctx, bus.AgentTopic(o.AgentID), map[string]any{"type": "offer_ended", "offer_id": o.ID, "reason": reason})
		d.log.Info("offer ended", "offer_id", o.ID, "conversation_id", o.ConversationID, "agent_id", o.AgentID, "state", o.State)
	}
	for _, o := range out.Offered {
		d.metrics.Offers.WithLabelValues("created").Inc()
		if err := d.db.RecordOffer(ctx, o); err != nil {
			d.log.Error("record offer", "offer_id", o.ID, "error", err)
		}
		frame, err := d.offerFrame(ctx, o)
		if err != nil {
			d.log.Error("build offer frame", "offer_id", o.ID, "error", err)
			continue
		}
		d.publish(ctx, bus.AgentTopic(o.AgentID), frame)
		d.log.Info("offered", "offer_id", o.ID, "conversation_id", o.ConversationID, "agent_id", o.AgentID)
	}
	for _, a := range out.Away {
		d.log.Info("agent set away", "agent_id", a.AgentID, "reason", a.Reason)
		d.presenceChanged(ctx, a.AgentID, parley.PresenceAway, a.Reason, 0)
		d.publish(ctx, bus.AgentTopic(a.AgentID), map[string]any{"type": "presence", "status": parley.PresenceAway, "reason": a.Reason})
	}
	if len(out.Offered) > 0 {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}

func (d *Desk) offerFrame(ctx context.Context, o parley.Offer) (map[string]any, error) {
	conv, cust, err := d.ConversationView(ctx, o.ConversationID)
	if err != nil {
		return nil, err
	}
	q, err := d.db.Queue(ctx, o.QueueID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"type": "offer", "offer": map[string]any{
		"id": o.ID, "expires_at": o.ExpiresAt.UTC(), "created_at": o.CreatedAt.UTC(),
		"queue":        map[string]any{"id": strconv.FormatInt(q.ID, 10), "name": q.Name},
		"conversation": conv, "customer": cust,
	}}, nil
}

// ConversationView returns a conversation with its messages and its
// customer's 360.
func (d *Desk) ConversationView(ctx context.Context, id int64) (parley.Conversation, parley.Customer360, error) {
	conv, err := d.db.Conversation(ctx, id)
	if err != nil {
		return conv, parley.Customer360{}, err
	}
	if conv.Messages, err = d.db.Messages(ctx, id, 0, 1000, true); err != nil {
		return conv, parley.Customer360{}, err
	}
	cust, err := d.db.Customer360(ctx, conv.CustomerID, conv.ID, 10)
	return conv, cust, err
}

// task turns a queued conversation into a routing task.
func (d *Desk) task(ctx context.Context, c parley.Conversation, q parley.Queue) (routing.Task, error) {
	enq := c.EnqueuedAt
	if enq.IsZero() {
		enq = c.CreatedAt
	}
	t := routing.Task{ConversationID: c.ID, QueueID: c.QueueID, Media: c.Channel.Media(), Priority: c.Priority,
		EnqueuedAt: enq, Require: c.Require}
	if q.StickyWindowS > 0 {
		var err error
		if t.PreferredAgent, err = d.db.LastAgentOf(ctx, c.CustomerID, c.ID); err != nil {
			return t, err
		}
	}
	return t, nil
}

// Receive persists an inbound message exactly once and routes a new
// conversation. It implements parley.Inbox.
func (d *Desk) Receive(ctx context.Context, in parley.Inbound) (parley.Receipt, error) {
	inbox, err := d.db.Inbox(ctx, in.InboxID)
	if err != nil {
		return parley.Receipt{}, err
	}
	r, created, err := d.db.Receive(ctx, in, inbox)
	if err != nil || r.Duplicate {
		return r, err
	}
	d.metrics.Inbound.WithLabelValues(string(inbox.Channel)).Inc()
	d.publishMessage(ctx, r.Conversation, r.Message)
	if r.Conversation.Status == parley.StatusAssigned {
		d.publish(ctx, bus.AgentTopic(r.Conversation.AgentID), map[string]any{"type": "message", "conversation_id": strconv.FormatInt(r.Conversation.ID, 10), "message": r.Message})
	}
	if created {
		d.boostPriority(ctx, &r.Conversation) // CRM: stage, tag and segment boosts
		if err := d.enqueue(ctx, r.Conversation); err != nil {
			// The conversation is committed and queued in PostgreSQL; the
			// reconciler puts it in Redis. The customer's message is safe.
			d.log.Error("enqueue conversation", "conversation_id", r.Conversation.ID, "error", err)
		}
	}
	return r, nil
}

func (d *Desk) enqueue(ctx context.Context, c parley.Conversation) error {
	q, err := d.db.Queue(ctx, c.QueueID)
	if err != nil {
		return err
	}
	t, err := d.task(ctx, c, q)
	if err != nil {
		return err
	}
	out, err := d.router.Enqueue(ctx, t)
	d.handle(ctx, out) // a failed call may still have committed offers
	return err
}

// publishMessage sends a new message to whoever watches its conversation:
// supervisors (conversation topic) and, unless private, the customer.
func (d *Desk) publishMessage(ctx context.Context, c parley.Conversation, m parley.Message) {
	cid := strconv.FormatInt(c.ID, 10)
	d.publish(ctx, bus.ConversationTopic(c.ID), map[string]any{"type": "message", "conversation_id": cid, "message": m})
	if m.Direction == parley.DirectionIn && c.Channel == parley.ChannelWebchat {
		d.publish(ctx, bus.VisitorTopic(c.CustomerID, c.InboxID), map[string]any{"type": "message", "conversation_id": cid, "message": m})
	}
}

// Accept assigns the offered conversation to the agent.
func (d *Desk) Accept(ctx context.Context, agent parley.Agent, offerID string) (parley.Conversation, parley.Customer360, error) {
	o, out, err := d.router.Accept(ctx, offerID, agent.ID)
	d.handle(ctx, out) // rescinded parallel offers, and what their agents pulled
	if err != nil {
		return parley.Conversation{}, parley.Customer360{}, err
	}
	conv, err := d.db.Assign(ctx, o)
	if err != nil {
		// The conversation left the queue meanwhile (or PostgreSQL failed):
		// give the slot back so capacity stays exact.
		if c, cerr := d.db.Conversation(ctx, o.ConversationID); cerr == nil {
			out, _ := d.router.Release(ctx, agent.ID, c.Channel.Media())
			d.handle(ctx, out)
		}
		return conv, parley.Customer360{}, err
	}
	conv, cust, err := d.ConversationView(ctx, conv.ID)
	if err != nil {
		return conv, cust, err
	}
	d.metrics.Offers.WithLabelValues(string(parley.OfferAccepted)).Inc()
	d.publish(ctx, bus.AgentTopic(agent.ID), map[string]any{"type": "assigned", "conversation": conv, "customer": cust})
	if conv.Channel == parley.ChannelWebchat {
		d.publish(ctx, bus.VisitorTopic(conv.CustomerID, conv.InboxID), map[string]any{"type": "agent_joined", "conversation_id": strconv.FormatInt(conv.ID, 10), "agent": map[string]any{"name": agent.Name}})
	}
	d.log.Info("offer accepted", "offer_id", o.ID, "conversation_id", o.ConversationID, "agent_id", agent.ID)
	return conv, cust, nil
}

// Reject ends an offer the agent declined; the conversation goes to someone else.
func (d *Desk) Reject(ctx context.Context, agent parley.Agent, offerID, reason string) error {
	o, out, err := d.router.Reject(ctx, offerID, agent.ID)
	if err != nil {
		d.handle(ctx, out)
		return err
	}
	for i := range out.Ended {
		if out.Ended[i].ID == o.ID {
			out.Ended[i].Reason = reason
		}
	}
	d.handle(ctx, out)
	return nil
}

// SetPresence changes an agent's routing status and tells all their sockets.
func (d *Desk) SetPresence(ctx context.Context, agentID int64, p parley.Presence, reason string) error {
	if !p.Valid() {
		return parley.Invalid("Unknown presence.", map[string]string{"status": "must be available, away or offline"})
	}
	out, err := d.router.SetPresence(ctx, agentID, p)
	d.handle(ctx, out)
	if err != nil {
		return err
	}
	d.publish(ctx, bus.AgentTopic(agentID), map[string]any{"type": "presence", "status": p, "reason": reason})
	d.presenceChanged(ctx, agentID, p, reason, agentID)
	return nil
}

// Presence returns an agent's routing status.
func (d *Desk) Presence(ctx context.Context, agentID int64) (parley.Presence, error) {
	return d.router.Presence(ctx, agentID)
}

// Send stores an agent's reply or private note and queues its delivery.
func (d *Desk) Send(ctx context.Context, agent parley.Agent, convID int64, body string, private bool, clientMsgID string) (parley.Message, error) {
	if err := d.CheckReply(ctx, convID, private); err != nil {
		return parley.Message{}, err
	}
	m, dup, err := d.db.AgentMessage(ctx, convID, agent, body, private, clientMsgID, false)
	if err != nil || dup {
		return m, err
	}
	return d.announceAndDeliver(ctx, agent, convID, m, private)
}

// announceAndDeliver shows a stored agent message to the agent's consoles
// and watchers and, unless private, queues its delivery.
func (d *Desk) announceAndDeliver(ctx context.Context, agent parley.Agent, convID int64, m parley.Message, private bool) (parley.Message, error) {
	conv, err := d.db.Conversation(ctx, convID)
	if err != nil {
		return m, err
	}
	cid := strconv.FormatInt(convID, 10)
	frame := map[string]any{"type": "message", "conversation_id": cid, "message": m}
	d.publish(ctx, bus.AgentTopic(agent.ID), frame)
	d.publish(ctx, bus.ConversationTopic(convID), frame)
	if !private {
		if err := d.jobs.EnqueueDelivery(ctx, m.ID); err != nil {
			// Stored but not queued: mark it failed so the agent sees it and
			// can resend; nothing is silently lost.
			d.log.Error("queue delivery", "message_id", m.ID, "error", err)
			d.setDelivery(ctx, conv, m.ID, parley.DeliveryFailed)
		}
	}
	return m, nil
}

// Deliver sends a stored outbound message through its channel. Jobs call
// it, with retries; a message already sent is not sent again.
func (d *Desk) Deliver(ctx context.Context, messageID int64) error {
	m, err := d.db.Message(ctx, messageID)
	if err != nil {
		return err
	}
	if m.Direction != parley.DirectionOut || m.Private || !parley.DeliveryAdvances(m.Delivery, parley.DeliverySent) {
		return nil
	}
	conv, err := d.db.Conversation(ctx, m.ConversationID)
	if err != nil {
		return err
	}
	s, ok := d.senders[conv.Channel]
	if !ok {
		d.setDelivery(ctx, conv, m.ID, parley.DeliveryFailed)
		return parley.Errorf(parley.EINVALID, "No sender for channel %s.", conv.Channel)
	}
	providerID, err := s.Send(ctx, conv, m)
	if err != nil {
		d.metrics.DeliveryFailures.WithLabelValues(string(conv.Channel)).Inc()
		return fmt.Errorf("deliver message %d: %w", m.ID, err)
	}
	if providerID != "" {
		if err := d.db.SetProviderID(ctx, m.ID, providerID); err != nil {
			return err
		}
	}
	d.setDelivery(ctx, conv, m.ID, parley.DeliverySent)
	return nil
}

// DeliveryFailed records that retries are exhausted.
func (d *Desk) DeliveryFailed(ctx context.Context, messageID int64) {
	m, err := d.db.Message(ctx, messageID)
	if err != nil {
		return
	}
	if conv, err := d.db.Conversation(ctx, m.ConversationID); err == nil {
		d.setDelivery(ctx, conv, messageID, parley.DeliveryFailed)
	}
}

// DeliveryStatus records a provider's status callback for an outbound
// message it knows by its own id (e.g. Twilio's MessageStatus). States only
// move forward (queued → sent → delivered; failed is final); a callback for an
// unknown id is ENOTFOUND.
func (d *Desk) DeliveryStatus(ctx context.Context, inboxID int64, providerID, state, reason string) error {
	m, err := d.db.MessageByProviderID(ctx, inboxID, providerID)
	if err != nil {
		return err
	}
	if !parley.DeliveryAdvances(m.Delivery, state) {
		return nil
	}
	if reason != "" {
		if err := d.db.SetDeliveryError(ctx, m.ID, reason); err != nil {
			return err
		}
	}
	conv, err := d.db.Conversation(ctx, m.ConversationID)
	if err != nil {
		return err
	}
	d.setDelivery(ctx, conv, m.ID, state)
	return nil
}

func (d *Desk) setDelivery(ctx context.Context, conv parley.Conversation, msgID int64, state string) {
	if changed, err := d.db.SetDelivery(ctx, msgID, state); err != nil {
		d.log.Error("set delivery", "message_id", msgID, "error", err)
		return
	} else if !changed {
		return
	}
	frame := map[string]any{"type": "delivery", "conversation_id": strconv.FormatInt(conv.ID, 10), "message_id": strconv.FormatInt(msgID, 10), "delivery": state}
	if conv.AgentID != 0 {
		d.publish(ctx, bus.AgentTopic(conv.AgentID), frame)
	}
	d.publish(ctx, bus.ConversationTopic(conv.ID), frame)
}

// Typing tells the other side of a conversation that someone is typing.
func (d *Desk) Typing(ctx context.Context, conv parley.Conversation, byCustomer bool) {
	cid := strconv.FormatInt(conv.ID, 10)
	if byCustomer {
		// The caller's copy may predate the assignment.
		if fresh, err := d.db.Conversation(ctx, conv.ID); err == nil {
			conv = fresh
		}
		if conv.AgentID != 0 && conv.Status == parley.StatusAssigned {
			d.publish(ctx, bus.AgentTopic(conv.AgentID), map[string]any{"type": "typing", "conversation_id": cid})
		}
		return
	}
	if conv.Channel == parley.ChannelWebchat {
		d.publish(ctx, bus.VisitorTopic(conv.CustomerID, conv.InboxID), map[string]any{"type": "typing", "conversation_id": cid})
	}
}

// Resolve closes a conversation and frees the agent's slot.
func (d *Desk) Resolve(ctx context.Context, agent parley.Agent, convID int64, disposition string) (parley.Conversation, error) {
	conv, err := d.db.Resolve(ctx, convID, agent.ID, disposition, agent.Role.Can(parley.RoleSupervisor))
	if err != nil {
		return conv, err
	}
	var wrapUp time.Duration
	if q, err := d.db.Queue(ctx, conv.QueueID); err == nil {
		wrapUp = time.Duration(q.WrapUpS) * time.Second
	}
	out, err := d.router.ReleaseAfter(ctx, conv.AgentID, conv.Channel.Media(), wrapUp)
	if err != nil {
		d.log.Error("release slot", "agent_id", conv.AgentID, "error", err)
	}
	d.handle(ctx, out)
	cid := strconv.FormatInt(conv.ID, 10)
	frame := map[string]any{"type": "resolved", "conversation_id": cid}
	d.publish(ctx, bus.AgentTopic(conv.AgentID), frame)
	d.publish(ctx, bus.ConversationTopic(conv.ID), frame)
	if conv.Channel == parley.ChannelWebchat {
		d.publish(ctx, bus.VisitorTopic(conv.CustomerID, conv.InboxID), frame)
	}
	return conv, nil
}

// Transfer hands an assigned conversation to another queue, or to a named
// agent (toAgent) who gets it as an offer; the first agent's slot is freed
// after the old queue's wrap-up.
func (d *Desk) Transfer(ctx context.Context, by parley.Agent, convID, toQueue, toAgent int64) (parley.Conversation, error) {
	conv, from, err := d.db.Transfer(ctx, convID, by, toQueue, toAgent, by.Role.Can(parley.RoleSupervisor))
	if err != nil {
		return conv, err
	}
	q, err := d.db.Queue(ctx, conv.QueueID)
	if err != nil {
		return conv, err
	}
	t, err := d.task(ctx, conv, q)
	if err != nil {
		return conv, err
	}
	t.TargetAgent = toAgent
	out, err := d.router.Transfer(ctx, conv.ID, from, conv.Channel.Media(), t)
	d.handle(ctx, out)
	if err != nil {
		return conv, err
	}
	frame := map[string]any{"type": "resolved", "conversation_id": strconv.FormatInt(conv.ID, 10), "reason": "transferred"}
	d.publish(ctx, bus.AgentTopic(from), frame)
	d.publish(ctx, bus.ConversationTopic(conv.ID), frame)
	return conv, nil
}
