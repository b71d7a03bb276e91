package desk

import (
	"context"
	"strconv"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/postgres"
)

// Supervisor interventions. Each checks the supervisor role, acts through
// the same paths agents use, and writes one audit_log row.

func needSupervisor(by parley.Agent) error {
	if !by.Role.Can(parley.RoleSupervisor) {
		return parley.Errorf(parley.EFORBIDDEN, "This needs the supervisor role.")
	}
	return nil
}

// audit writes an audit row; a failure is logged (the action happened).
func (d *Desk) audit(ctx context.Context, by parley.Agent, action, targetType string, target int64, details map[string]any) {
	if _, err := d.db.Audit(ctx, postgres.AuditEntry{ActorID: by.ID, ActorName: by.Name, Action: action, TargetType: targetType, TargetID: target, Details: details}); err != nil {
		d.log.Error("audit", "action", action, "target_id", target, "error", err)
	}
}

// Audit records an intervention done outside the desk (monitoring).
func (d *Desk) Audit(ctx context.Context, by parley.Agent, action, targetType string, target int64, details map[string]any) {
	d.audit(ctx, by, action, targetType, target, details)
}

// SetAgentPresence is a supervisor setting another agent's presence: the
// agent's sockets are told (with who did it) and it is audited.
func (d *Desk) SetAgentPresence(ctx context.Context, by parley.Agent, agentID int64, p parley.Presence, reason string) error {
	if err := needSupervisor(by); err != nil {
		return err
	}
	if !p.Valid() {
		return parley.Invalid("Unknown presence.", map[string]string{"status": "must be available, away or offline"})
	}
	if _, err := d.db.Agent(ctx, agentID); err != nil {
		return err
	}
	previous, _ := d.router.Presence(ctx, agentID)
	out, err := d.router.SetPresence(ctx, agentID, p)
	d.handle(ctx, out)
	if err != nil {
		return err
	}
	d.publish(ctx, bus.AgentTopic(agentID), map[string]any{"type": "presence", "status": p, "reason": reason,
		"set_by": map[string]any{"id": itoa(by.ID), "name": by.Name}})
	d.presenceChanged(ctx, agentID, p, reason, by.ID)
	d.audit(ctx, by, "agent.presence", "agent", agentID, map[string]any{"status": p, "reason": reason, "previous": previous})
	return nil
}

// Reassign moves a conversation for a supervisor: an assigned one is
// transferred (Transfer), a waiting one is moved to another queue or
// offered to a named agent only, keeping its place in line.
func (d *Desk) Reassign(ctx context.Context, by parley.Agent, convID, toQueue, toAgent int64) (parley.Conversation, error) {
	if err := needSupervisor(by); err != nil {
		return parley.Conversation{}, err
	}
	cur, err := d.db.Conversation(ctx, convID)
	if err != nil {
		return cur, err
	}
	details := map[string]any{"from_queue": itoa(cur.QueueID), "from_status": cur.Status}
	if toQueue != 0 {
		details["to_queue"] = itoa(toQueue)
	}
	if toAgent != 0 {
		details["to_agent"] = itoa(toAgent)
	}
	var conv parley.Conversation
	if cur.Status == parley.StatusQueued {
		conv, err = d.moveQueued(ctx, by, convID, toQueue, toAgent)
	} else {
		details["from_agent"] = itoa(cur.AgentID)
		conv, err = d.Transfer(ctx, by, convID, toQueue, toAgent)
	}
	if err != nil {
		return conv, err
	}
	d.audit(ctx, by, "conversation.transfer", "conversation", convID, details)
	return conv, nil
}

func (d *Desk) moveQueued(ctx context.Context, by parley.Agent, convID, toQueue, toAgent int64) (parley.Conversation, error) {
	conv, err := d.db.MoveQueued(ctx, convID, by, toQueue, toAgent)
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
	// Take the task out (its pending offer is canceled) and put it back
	// with its original enqueue time, in its new queue or for the agent.
	out, err := d.router.Remove(ctx, convID)
	d.handle(ctx, out)
	if err != nil {
		return conv, err
	}
	out, err = d.router.Enqueue(ctx, t)
	d.handle(ctx, out)
	if err != nil {
		return conv, err
	}
	// An accept that won the race before Remove assigned it meanwhile:
	// take the fresh task out again so nobody is offered it twice.
	if fresh, err := d.db.Conversation(ctx, convID); err == nil && fresh.Status != parley.StatusQueued {
		out, _ := d.router.Remove(ctx, convID)
		d.handle(ctx, out)
		return fresh, parley.Errorf(parley.ECONFLICT, "Conversation %d was accepted meanwhile.", convID)
	}
	d.publish(ctx, bus.ConversationTopic(convID), map[string]any{"type": "moved", "conversation_id": itoa(convID),
		"queue_id": itoa(conv.QueueID), "agent_id": optItoa(toAgent)})
	return conv, nil
}

func optItoa(id int64) string {
	if id == 0 {
		return ""
	}
	return itoa(id)
}

// SetQueuePaused pauses (no new offers; waiting conversations stay) or
// resumes a queue.
func (d *Desk) SetQueuePaused(ctx context.Context, by parley.Agent, queueID int64, paused bool) (parley.Queue, error) {
	if err := needSupervisor(by); err != nil {
		return parley.Queue{}, err
	}
	q, err := d.db.SetQueuePaused(ctx, queueID, paused)
	if err != nil {
		return q, err
	}
	if err := d.SyncQueue(ctx, q); err != nil {
		return q, err
	}
	action := "queue.unpause"
	if paused {
		action = "queue.pause"
	}
	d.audit(ctx, by, action, "queue", queueID, map[string]any{"name": q.Name})
	return q, nil
}

// Whisper adds a private note from a supervisor to a conversation: its
// agent sees it, the customer never does.
func (d *Desk) Whisper(ctx context.Context, by parley.Agent, convID int64, body, clientMsgID string) (parley.Message, error) {
	return d.supervisorMessage(ctx, by, convID, body, clientMsgID, true)
}

// Barge sends a message from the supervisor to the customer, visibly
// joining the conversation; its agent sees it too.
func (d *Desk) Barge(ctx context.Context, by parley.Agent, convID int64, body, clientMsgID string) (parley.Message, error) {
	return d.supervisorMessage(ctx, by, convID, body, clientMsgID, false)
}

func (d *Desk) supervisorMessage(ctx context.Context, by parley.Agent, convID int64, body, clientMsgID string, private bool) (parley.Message, error) {
	if err := needSupervisor(by); err != nil {
		return parley.Message{}, err
	}
	m, dup, err := d.db.AgentMessage(ctx, convID, by, body, private, clientMsgID, true)
	if err != nil || dup {
		return m, err
	}
	conv, err := d.db.Conversation(ctx, convID)
	if err != nil {
		return m, err
	}
	frame := map[string]any{"type": "message", "conversation_id": strconv.FormatInt(convID, 10), "message": m}
	if conv.AgentID != 0 && conv.AgentID != by.ID {
		d.publish(ctx, bus.AgentTopic(conv.AgentID), frame)
	}
	d.publish(ctx, bus.ConversationTopic(convID), frame)
	action := "conversation.barge"
	if private {
		action = "conversation.whisper"
	} else if err := d.jobs.EnqueueDelivery(ctx, m.ID); err != nil {
		d.log.Error("queue delivery", "message_id", m.ID, "error", err)
		d.setDelivery(ctx, conv, m.ID, parley.DeliveryFailed)
	}
	d.audit(ctx, by, action, "conversation", convID, map[string]any{"message_id": itoa(m.ID), "agent_id": optItoa(conv.AgentID)})
	return m, nil
}
