package twilio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	api "github.com/twilio/twilio-go/rest/api/v2010"
	"github.com/twilio/twilio-go/twiml"
)

// RunConnector hands waiting calls accepted by agents to the connect job,
// until ctx ends. It polls PostgreSQL (calls queued, or callbacks, whose
// conversation is now assigned) and claims each call with a new connect
// attempt before queuing its job, so every instance may run it and each
// acceptance is connected once.
func (c *Channel) RunConnector(ctx context.Context) error {
	t := time.NewTicker(c.connectEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for ctx.Err() == nil {
			call, ok, err := c.backend.ClaimCallToConnect(ctx)
			if err != nil {
				if ctx.Err() == nil {
					c.log.Error("claim call to connect", "error", err)
				}
				break
			}
			if !ok {
				break
			}
			c.dispatch(ctx, call)
		}
	}
}

// dispatch queues a claimed call's connect job (or, without jobs, connects
// it at once). A job that cannot be queued gives the call back, so the next
// turn claims it again.
func (c *Channel) dispatch(ctx context.Context, call Call) {
	if c.jobs == nil {
		if err := c.ConnectCall(ctx, call.Sid, call.Attempt); err != nil {
			c.ConnectCallFailed(ctx, call.Sid, call.Attempt, err)
		}
		return
	}
	if err := c.jobs.EnqueueCallConnect(ctx, call.Sid, call.Attempt); err != nil {
		c.log.Error("queue call connect", "call_sid", call.Sid, "error", err)
		if err := c.backend.UnclaimCall(ctx, call.Sid, call.Attempt); err != nil {
			c.log.Error("give back call", "call_sid", call.Sid, "error", err)
		}
	}
}

// ConnectCall is the connect job of a call claimed as connect attempt
// attempt: it bridges the waiting caller and the agent's endpoint through
// the conversation's conference (conference.go), or, for a callback, calls
// the customer and dials the agent (a two-party <Dial>). A stale attempt (the call was connected, ended or re-queued
// meanwhile) does nothing, so the job may run twice. Network errors and
// Twilio's 5xx/429 are returned for a retry; an agent without an endpoint
// or Twilio's 4xx are permanent (EINVALID).
func (c *Channel) ConnectCall(ctx context.Context, sid string, attempt int) error {
	call, err := c.backend.CallInfo(ctx, sid)
	if err != nil {
		return err
	}
	if call.State != "connecting" || call.Attempt != attempt {
		c.log.Info("stale call connect", "call_sid", sid, "attempt", attempt, "state", call.State)
		return nil
	}
	log := c.log.With("call_sid", sid, "conversation_id", call.ConversationID, "agent_id", call.AgentID, "attempt", attempt)
	inbox, err := c.backend.Inbox(ctx, call.InboxID)
	if err != nil {
		return err
	}
	if inbox.Twilio == nil {
		return parley.Errorf(parley.EINVALID, "Inbox %d has no Twilio account.", inbox.ID)
	}
	ep, err := c.backend.AgentVoiceEndpoint(ctx, call.AgentID)
	if err != nil {
		return err
	}
	if ep == "" {
		return parley.Errorf(parley.EINVALID, "the agent has no voice endpoint (PUT /api/v1/agents/%d/voice-endpoint)", call.AgentID)
	}
	l := findLanguage(languages(inbox), call.Language)
	if call.Mode != "callback" {
		return c.connectConference(ctx, log, inbox, call, ep, l)
	}
	from := strings.TrimPrefix(inbox.Twilio.From, "whatsapp:")
	dial := &twiml.VoiceDial{CallerId: from, InnerElements: []twiml.Element{endpointNoun(ep)},
		// When the agent's leg ends the caller stays for the survey.
		Action: c.webhookURL(inbox.ID, "/voice/after-dial", url.Values{"lang": {l.Skill}})}
	if v := inbox.Settings.Voice; v != nil && v.Record {
		dial.Record = "record-from-answer-dual"
		dial.RecordingStatusCallback = c.webhookURL(inbox.ID, "/voice/recording", nil)
	}
	return c.placeCallback(ctx, log, inbox, call, l, dial)
}

// placeCallback calls back a customer who chose a callback: when they
// answer they hear a greeting and are connected to the agent.
func (c *Channel) placeCallback(ctx context.Context, log *slog.Logger, inbox parley.InboxConfig, call Call, l language, dial *twiml.VoiceDial) error {
	if !strings.HasPrefix(call.Caller, "+") {
		return parley.Errorf(parley.EINVALID, "the caller's number is unknown (%s): no callback possible", call.Caller)
	}
	doc, err := twiml.Voice([]twiml.Element{l.say(l.calledBack), dial})
	if err != nil {
		return err
	}
	p := &api.CreateCallParams{}
	p.SetTo(call.Caller)
	p.SetFrom(dial.CallerId)
	p.SetTwiml(doc)
	p.SetStatusCallback(c.webhookURL(inbox.ID, "/voice/status", nil))
	res, err := c.rest(inbox.Twilio).Api.CreateCall(p)
	if err != nil {
		return restError("callback call", err)
	}
	if res.Sid == nil || !validSid(*res.Sid, "CA") {
		return fmt.Errorf("twilio callback call: answer without a call sid")
	}
	if err := c.backend.CallbackPlaced(ctx, call.Sid, call.Attempt, *res.Sid); err != nil {
		return err
	}
	log.Info("callback placed", "callback_sid", *res.Sid)
	return nil
}

// ConnectCallFailed is told when a call's connect job gave up: the
// conversation goes back to its queue (keeping its place) and the agent is
// told why.
func (c *Channel) ConnectCallFailed(ctx context.Context, sid string, attempt int, err error) {
	reason := err.Error()
	var pe *parley.Error
	if errors.As(err, &pe) {
		reason = pe.Message
	}
	c.log.Warn("call not connected; back in the queue", "call_sid", sid, "attempt", attempt, "error", err)
	if err := c.backend.RequeueCall(ctx, sid, attempt, reason); err != nil {
		c.log.Error("requeue call", "call_sid", sid, "error", err)
	}
}
