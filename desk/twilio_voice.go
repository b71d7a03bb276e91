package desk

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/channels/twilio"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/surveys"
)

// The Twilio channel's view of the desk: connecting calls through jobs,
// callbacks and voicemails.

func twilioCall(c postgres.Call) twilio.Call {
	return twilio.Call{Sid: c.Sid, InboxID: c.InboxID, ConversationID: c.ConversationID, Caller: c.Caller, State: c.State,
		Language: c.Language, AgentID: c.AgentID, Attempt: c.ConnectAttempt, Mode: c.Mode}
}

// ClaimCallToConnect takes one waiting call (or callback) whose conversation
// an agent accepted, for this instance to hand to the connect job.
func (d *Desk) ClaimCallToConnect(ctx context.Context) (twilio.Call, bool, error) {
	c, ok, err := d.db.ClaimCallToConnect(ctx)
	return twilioCall(c), ok, err
}

// CallInfo returns a call.
func (d *Desk) CallInfo(ctx context.Context, sid string) (twilio.Call, error) {
	c, err := d.db.Call(ctx, sid)
	return twilioCall(c), err
}

// UnclaimCall gives a claimed call back to the connector.
func (d *Desk) UnclaimCall(ctx context.Context, sid string, attempt int) error {
	return d.db.UnclaimCall(ctx, sid, attempt)
}

// CallbackPlaced records the outbound call of an accepted callback; the
// talk starts now.
func (d *Desk) CallbackPlaced(ctx context.Context, sid string, attempt int, newSid string) error {
	c, err := d.db.CallbackPlaced(ctx, sid, attempt, newSid)
	if err != nil {
		return err
	}
	return d.callMeta(ctx, c, map[string]string{"callback_call_sid": newSid, "call_status": "callback-placed",
		"talk_started_at": c.ConnectedAt.UTC().Format("2006-01-02T15:04:05Z07:00")})
}

// RequeueCall puts a call that could not be connected back in its queue:
// the conversation keeps its place (its original enqueue time) and may go
// to the same agent again, the agent's slot is freed and they are told why (frame call_requeued,
// then resolved with reason "requeued" so the console drops it).
func (d *Desk) RequeueCall(ctx context.Context, sid string, attempt int, reason string) error {
	c, conv, agentID, ok, err := d.db.RequeueCall(ctx, sid, attempt, reason)
	if err != nil || !ok {
		return err
	}
	if conv.Status == parley.StatusQueued && agentID != 0 {
		// The agent hears first, then the conversation is routed again
		// (possibly back to them).
		cid := strconv.FormatInt(conv.ID, 10)
		d.publish(ctx, bus.AgentTopic(agentID), map[string]any{"type": "call_requeued", "conversation_id": cid, "reason": reason})
		frame := map[string]any{"type": "resolved", "conversation_id": cid, "reason": "requeued"}
		d.publish(ctx, bus.AgentTopic(agentID), frame)
		d.publish(ctx, bus.ConversationTopic(conv.ID), frame)
		// Not router.Transfer: that excludes the agent, while a failed
		// connect is rarely the agent's fault (and may be their only queue).
		out, err := d.router.Release(ctx, agentID, conv.Channel.Media())
		d.handle(ctx, out)
		if err == nil {
			err = d.enqueue(ctx, conv)
		}
		if err != nil {
			// Committed in PostgreSQL: the reconciler re-queues it.
			d.log.Error("requeue call in routing", "conversation_id", conv.ID, "error", err)
		}
	}
	d.log.Warn("call back in the queue", "call_sid", sid, "conversation_id", c.ConversationID, "agent_id", agentID, "reason", reason)
	return d.callMeta(ctx, c, map[string]string{"connect_error": reason})
}

// OfferOverflow reports whether a waiting caller is offered a callback or
// a voicemail now (once, after the queue's max_wait_s).
func (d *Desk) OfferOverflow(ctx context.Context, sid string) (bool, error) {
	return d.db.OfferOverflow(ctx, sid)
}

// OverflowAt returns when a waiting call reaches its queue's maximum wait.
func (d *Desk) OverflowAt(ctx context.Context, sid string) (time.Time, bool, error) {
	return d.db.OverflowAt(ctx, sid)
}

// WhileWaiting runs fn while the call still waits, holding it from the
// connector.
func (d *Desk) WhileWaiting(ctx context.Context, sid string, fn func(twilio.Call) error) (bool, error) {
	return d.db.WhileWaiting(ctx, sid, func(c postgres.Call) error { return fn(twilioCall(c)) })
}

// ChooseCallMode records a waiting caller's choice of a callback or a
// voicemail: the conversation stays in its queue as a callback or
// voicemail task (meta call_mode). ok is false when the call no longer
// waits.
func (d *Desk) ChooseCallMode(ctx context.Context, sid, mode string) (bool, error) {
	c, ok, err := d.db.SetCallMode(ctx, sid, mode)
	if err != nil || !ok {
		return ok, err
	}
	return true, d.callMeta(ctx, c, map[string]string{"call_mode": mode})
}

// Voicemail stores a caller's voicemail as a message of their conversation
// (an audio attachment the agent plays in the console) and in its meta. A
// replayed recording callback changes nothing.
func (d *Desk) Voicemail(ctx context.Context, sid, recordingSid, url string, durationS int) error {
	c, err := d.db.Call(ctx, sid)
	if err != nil || c.ConversationID == 0 {
		return err
	}
	conv, err := d.db.Conversation(ctx, c.ConversationID)
	if err != nil {
		return err
	}
	if _, err := d.Receive(ctx, parley.Inbound{
		InboxID:        c.InboxID,
		Identity:       parley.Identity{Channel: parley.ChannelVoice, Address: c.Caller},
		CustomerID:     conv.CustomerID,
		ConversationID: conv.ID,
		DedupeKey:      "voicemail:" + recordingSid,
		Body:           fmt.Sprintf("Voicemail (%d s)", durationS),
		Attachments:    []parley.Attachment{{Name: "voicemail.mp3", ContentType: "audio/mpeg", URL: url + ".mp3"}},
	}); err != nil {
		return err
	}
	return d.callMeta(ctx, c, map[string]string{"voicemail_url": url + ".mp3", "voicemail_duration_s": strconv.Itoa(durationS)})
}

// SendTemplate sends an approved WhatsApp template of the conversation's
// inbox (by name or content sid) with its variables: the message stores the
// rendered text and is delivered as Twilio content (ContentSid and
// ContentVariables), which WhatsApp allows also outside the 24-hour window.
// A resent clientMsgID is stored once.
func (d *Desk) SendTemplate(ctx context.Context, agent parley.Agent, convID int64, name string, vars map[string]string, clientMsgID string) (parley.Message, error) {
	conv, err := d.db.Conversation(ctx, convID)
	if err != nil {
		return parley.Message{}, err
	}
	if conv.Channel != parley.ChannelWhatsApp {
		return parley.Message{}, parley.Invalid("Templates are sent in WhatsApp conversations only.", map[string]string{"template": "not a WhatsApp conversation"})
	}
	inbox, err := d.db.Inbox(ctx, conv.InboxID)
	if err != nil {
		return parley.Message{}, err
	}
	tpl, ok := inbox.Template(name)
	if !ok {
		return parley.Message{}, parley.Invalid("Unknown template.", map[string]string{"template": "not a template of this inbox"})
	}
	body, contentVars, err := tpl.Render(vars)
	if err != nil {
		return parley.Message{}, err
	}
	m, dup, err := d.db.AgentMessage(ctx, convID, agent, body, false, clientMsgID, false)
	if err != nil || dup {
		return m, err
	}
	if err := d.db.SetMessageTemplate(ctx, m.ID, tpl.ContentSid, contentVars); err != nil {
		// Never deliver it as free text: mark it failed for the agent to resend.
		d.setDelivery(ctx, conv, m.ID, parley.DeliveryFailed)
		return m, err
	}
	return d.announceAndDeliver(ctx, agent, convID, m, false)
}

// MessageTemplate returns the content of a message sent as a template.
func (d *Desk) MessageTemplate(ctx context.Context, messageID int64) (contentSid, variables string, ok bool, err error) {
	return d.db.MessageTemplate(ctx, messageID)
}

// StartVoiceSurvey starts the post-call survey of a call whose talk just
// ended (the caller is still on the line): when a survey applies to its
// conversation, the request is created (linked to the conversation, its
// agents, queue and customer) and its first question returned in locale.
func (d *Desk) StartVoiceSurvey(ctx context.Context, sid, locale string) (twilio.VoiceSurvey, bool, error) {
	c, err := d.db.Call(ctx, sid)
	if err != nil || c.ConversationID == 0 {
		return twilio.VoiceSurvey{}, false, err
	}
	r, sv, ok, err := d.db.StartSurvey(ctx, c.ConversationID)
	if err != nil || !ok {
		return twilio.VoiceSurvey{}, false, err
	}
	d.log.Info("voice survey started", "survey_request_id", r.ID, "conversation_id", r.ConversationID, "call_sid", sid)
	vs := voiceQuestion(r, sv.Questions[0], locale)
	vs.Intro = sv.Intro.In(locale)
	return vs, true, nil
}

// voiceQuestion is question q of request r, asked in locale.
func voiceQuestion(r postgres.SurveyRequest, q surveys.Question, locale string) twilio.VoiceSurvey {
	lo, hi, _ := q.Range()
	return twilio.VoiceSurvey{RequestID: r.ID, Key: q.Key, Question: q.Text.In(locale), Lo: lo, Hi: hi}
}

// AnswerVoiceSurvey records the keypad answer of a call's survey to the
// question key ("" the first). A key out of the question's range records
// nothing: ok is false and next is the question to ask again (in locale).
// Otherwise ok is true and next is the following scored question not yet
// answered (a keypad cannot answer a text question), or none (Key "") when
// the survey is over. A replayed answer (same call and question) is
// accepted again without recording anything; an answered or expired
// request is ECONFLICT or EINVALID.
func (d *Desk) AnswerVoiceSurvey(ctx context.Context, sid string, requestID int64, key, digits, locale string) (bool, twilio.VoiceSurvey, error) {
	c, err := d.db.Call(ctx, sid)
	if err != nil {
		return false, twilio.VoiceSurvey{}, err
	}
	r, sv, err := d.db.SurveyRequest(ctx, requestID)
	if err != nil {
		return false, twilio.VoiceSurvey{}, err
	}
	if r.ConversationID != c.ConversationID || r.Channel != parley.ChannelVoice {
		return false, twilio.VoiceSurvey{}, parley.Errorf(parley.ENOTFOUND, "survey %d not found.", requestID)
	}
	q := sv.Questions[0]
	if key != "" {
		var ok bool
		if q, ok = sv.Question(key); !ok {
			return false, twilio.VoiceSurvey{}, parley.Invalid("Invalid survey gather.", map[string]string{"q": "no such question in this survey"})
		}
	}
	score, err := strconv.Atoi(digits)
	if err != nil || q.CheckScore(score) != nil {
		return false, voiceQuestion(r, q, locale), nil
	}
	out, dup, err := d.db.AnswerSurvey(ctx, requestID, []postgres.SurveyAnswer{{Question: q.Key, Kind: q.Kind, Score: &score}}, "call:"+sid+":"+q.Key)
	if err != nil {
		return false, twilio.VoiceSurvey{}, err
	}
	if dup {
		if out, _, err = d.db.SurveyRequest(ctx, requestID); err != nil {
			return false, twilio.VoiceSurvey{}, err
		}
	} else {
		d.log.Info("survey answered", "survey_request_id", requestID, "conversation_id", r.ConversationID, "channel", parley.ChannelVoice, "question", q.Key)
	}
	answered := map[string]bool{}
	for _, a := range out.Answers {
		answered[a.Question] = true
	}
	after := false
	for _, n := range sv.Questions {
		_, _, scored := n.Range()
		if after && scored && !answered[n.Key] {
			return true, voiceQuestion(r, n, locale), nil
		}
		after = after || n.Key == q.Key
	}
	return true, twilio.VoiceSurvey{}, nil
}
