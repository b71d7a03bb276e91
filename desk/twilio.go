package desk

import (
	"context"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/postgres"
)

// Abandon ends a conversation whose customer left while it was still
// waiting (a caller hung up in the queue, a visitor closed the chat): it is
// marked abandoned in PostgreSQL first, then taken out of routing, which
// cancels its pending offer (the agent gets offer_ended "canceled") and
// lets the freed agent pull other work. A conversation no longer queued is
// ECONFLICT and left alone.
//
// Races: an agent accepting at the same moment either wins in PostgreSQL
// (Abandon is ECONFLICT) or loses there (Accept's Assign is ECONFLICT and
// gives the slot back). If Redis fails after the commit, the reconciler
// drops the task, since only queued conversations are routed.
func (d *Desk) Abandon(ctx context.Context, convID int64, reason string) (parley.Conversation, error) {
	conv, err := d.db.AbandonConversation(ctx, convID, reason)
	if err != nil {
		return conv, err
	}
	out, err := d.router.Remove(ctx, convID)
	d.handle(ctx, out)
	if err != nil {
		d.log.Error("remove abandoned conversation from routing", "conversation_id", convID, "error", err)
	}
	cid := strconv.FormatInt(conv.ID, 10)
	frame := map[string]any{"type": "abandoned", "conversation_id": cid, "reason": reason}
	d.publish(ctx, bus.ConversationTopic(conv.ID), frame)
	if conv.Channel == parley.ChannelWebchat {
		d.publish(ctx, bus.VisitorTopic(conv.CustomerID, conv.InboxID), frame)
	}
	d.log.Info("conversation abandoned", "conversation_id", convID, "reason", reason)
	return conv, nil
}

// ReplyChecker is an optional capability of a Sender: it refuses a reply
// before it is stored, so the agent gets the error at once (WhatsApp's
// 24-hour customer-service window).
type ReplyChecker interface {
	CheckReply(ctx context.Context, conv parley.Conversation) error
}

// CheckReply asks the conversation's channel whether an agent's reply may be
// sent now. Desk.Send calls it before storing a non-private reply.
func (d *Desk) CheckReply(ctx context.Context, convID int64, private bool) error {
	if private {
		return nil
	}
	conv, err := d.db.Conversation(ctx, convID)
	if err != nil {
		return err
	}
	if rc, ok := d.senders[conv.Channel].(ReplyChecker); ok {
		return rc.CheckReply(ctx, conv)
	}
	return nil
}

// The Twilio channel's view of the desk.

// SetConsent records a customer's consent to messages on a channel.
func (d *Desk) SetConsent(ctx context.Context, customerID int64, ch parley.Channel, address string, optedOut bool, keyword string) error {
	status := postgres.ConsentOptedIn
	if optedOut {
		status = postgres.ConsentOptedOut
	}
	return d.db.SetConsent(ctx, customerID, ch, address, status, keyword)
}

// OptedOut reports whether an address opted out of messages on a channel.
func (d *Desk) OptedOut(ctx context.Context, ch parley.Channel, address string) (bool, error) {
	return d.db.OptedOut(ctx, ch, address)
}

// LastInboundAt returns when the customer last wrote to the inbox.
func (d *Desk) LastInboundAt(ctx context.Context, customerID, inboxID int64) (time.Time, bool, error) {
	return d.db.LastInboundAt(ctx, customerID, inboxID)
}

// SetCustomerPhone records a customer's phone, its region and channel
// attributes (WhatsApp profile name).
func (d *Desk) SetCustomerPhone(ctx context.Context, customerID int64, phone, region string, attrs map[string]string) error {
	return d.db.SetCustomerPhone(ctx, customerID, phone, region, attrs)
}

// CustomerIdentities returns how the channels know a customer.
func (d *Desk) CustomerIdentities(ctx context.Context, customerID int64) ([]parley.Identity, error) {
	return d.db.Identities(ctx, customerID)
}

// DeliveryStatusOf records a status callback that names both the message
// (from the callback URL Parley gave) and the provider's id: a callback
// that overtakes the sender storing the provider id still lands. A
// message of another inbox is ENOTFOUND.
func (d *Desk) DeliveryStatusOf(ctx context.Context, inboxID, messageID int64, providerID, state, reason string) error {
	if messageID != 0 {
		m, err := d.db.Message(ctx, messageID)
		if err != nil {
			return err
		}
		conv, err := d.db.Conversation(ctx, m.ConversationID)
		if err != nil {
			return err
		}
		if conv.InboxID != inboxID || m.Direction != parley.DirectionOut {
			return parley.Errorf(parley.ENOTFOUND, "message %d not found.", messageID)
		}
		if _, err := d.db.MessageByProviderID(ctx, inboxID, providerID); parley.ErrorCode(err) == parley.ENOTFOUND {
			if err := d.db.SetProviderID(ctx, messageID, providerID); err != nil {
				return err
			}
		}
	}
	return d.DeliveryStatus(ctx, inboxID, providerID, state, reason)
}

// StartCall records an inbound call entering the IVR (a replay returns the
// call as it is): its state, conversation (0 while in the IVR) and language.
func (d *Desk) StartCall(ctx context.Context, inboxID int64, sid, caller string) (state string, convID int64, lang string, err error) {
	c, err := d.db.StartCall(ctx, inboxID, sid, caller)
	return c.State, c.ConversationID, c.Language, err
}

// CallState returns a call's state, conversation and language.
func (d *Desk) CallState(ctx context.Context, sid string) (state string, convID int64, lang string, err error) {
	c, err := d.db.Call(ctx, sid)
	return c.State, c.ConversationID, c.Language, err
}

// QueueCall records that a call waits for an agent as conversation convID.
func (d *Desk) QueueCall(ctx context.Context, sid string, convID int64, lang string) error {
	_, err := d.db.QueueCall(ctx, sid, convID, lang)
	return err
}

// CallPosition returns a call's conversation status and, while it is
// queued, its 0-based place in its queue.
func (d *Desk) CallPosition(ctx context.Context, convID int64) (pos int, status parley.ConversationStatus, err error) {
	conv, err := d.db.Conversation(ctx, convID)
	if err != nil {
		return 0, "", err
	}
	pos, _, _, err = d.QueueStatus(ctx, conv)
	return pos, conv.Status, err
}

// CallConnected records the outcome of connecting a call to its agent
// (failure "" for success: the talk starts now) and tells the agent.
func (d *Desk) CallConnected(ctx context.Context, sid, failure string) error {
	c, err := d.db.CallConnected(ctx, sid, failure)
	if err != nil {
		return err
	}
	kv := map[string]string{"call_status": "in-progress"}
	if failure != "" {
		kv = map[string]string{"connect_error": failure}
	} else {
		kv["talk_started_at"] = c.ConnectedAt.Format(time.RFC3339)
	}
	return d.callMeta(ctx, c, kv)
}

// EndCall records a call's final status (completed, busy, failed,
// no-answer, canceled) and Twilio's call duration. A caller who hangs up
// while waiting abandons the conversation (its pending offer is canceled);
// a connected call gets its talk end and duration. A replayed callback
// changes nothing.
func (d *Desk) EndCall(ctx context.Context, sid, status string, durationS int) error {
	c, prev, err := d.db.EndCall(ctx, sid, status)
	if err != nil || prev == postgres.CallEnded || c.ConversationID == 0 {
		return err
	}
	kv := map[string]string{"call_status": status, "call_ended_at": c.EndedAt.Format(time.RFC3339)}
	if durationS >= 0 {
		kv["call_duration_s"] = strconv.Itoa(durationS)
	}
	if prev == postgres.CallConnected && !c.ConnectedAt.IsZero() {
		kv["talk_ended_at"] = c.EndedAt.Format(time.RFC3339)
		kv["talk_duration_s"] = strconv.Itoa(int(c.EndedAt.Sub(c.ConnectedAt).Round(time.Second) / time.Second))
	}
	if err := d.callMeta(ctx, c, kv); err != nil {
		return err
	}
	if prev == postgres.CallQueued {
		if _, err := d.Abandon(ctx, c.ConversationID, "caller_hung_up"); err != nil && parley.ErrorCode(err) != parley.ECONFLICT {
			return err
		}
	}
	return nil
}

// CallRecording stores a call recording's URL and duration on the
// conversation.
func (d *Desk) CallRecording(ctx context.Context, sid, url string, durationS int) error {
	c, err := d.db.Call(ctx, sid)
	if err != nil || c.ConversationID == 0 {
		return err
	}
	return d.callMeta(ctx, c, map[string]string{"recording_url": url, "recording_duration_s": strconv.Itoa(durationS)})
}

// callMeta merges call facts into the conversation's meta and tells whoever
// watches it (the agent's console shows the call's state).
func (d *Desk) callMeta(ctx context.Context, c postgres.Call, kv map[string]string) error {
	conv, err := d.db.SetConversationMeta(ctx, c.ConversationID, kv)
	if err != nil {
		return err
	}
	frame := map[string]any{"type": "call", "conversation_id": strconv.FormatInt(conv.ID, 10), "call_sid": c.Sid, "meta": conv.Meta}
	if conv.AgentID != 0 {
		d.publish(ctx, bus.AgentTopic(conv.AgentID), frame)
	}
	d.publish(ctx, bus.ConversationTopic(conv.ID), frame)
	return nil
}

// AgentVoiceEndpoint returns where an agent takes calls ("" when unset).
func (d *Desk) AgentVoiceEndpoint(ctx context.Context, agentID int64) (string, error) {
	return d.db.AgentVoiceEndpoint(ctx, agentID)
}

// SetAgentVoiceEndpoint sets where an agent takes calls ("" removes it).
func (d *Desk) SetAgentVoiceEndpoint(ctx context.Context, agentID int64, endpoint string) error {
	return d.db.SetAgentVoiceEndpoint(ctx, agentID, endpoint)
}
