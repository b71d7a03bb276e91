package twilio

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
	api "github.com/twilio/twilio-go/rest/api/v2010"
	"github.com/twilio/twilio-go/twiml"
)

// An accepted inbound call is bridged through a conference named after its
// conversation: the agent's leg is added first with the Participants API
// (it starts the conference), then the waiting caller's TwiML becomes
// <Dial><Conference>. Both legs end the conference when they leave, so the
// caller's <Dial> completes and its action (the post-call survey) runs when
// the agent hangs up. Supervisors join the same conference to listen
// (muted), whisper (coaching the agent's leg: only the agent hears them) or
// barge (unmuted, coaching off).

// conferencePrefix starts every conference name Parley creates.
const conferencePrefix = "parley-conv-"

// ConferenceName is the conference of a conversation's call.
func ConferenceName(convID int64) string { return conferencePrefix + strconv.FormatInt(convID, 10) }

// conferenceEvents are the conference status callback events Parley asks for.
var conferenceEvents = []string{"start", "end", "join", "leave", "mute", "modify"}

// Conference is what the channel knows of a conversation's conference.
type Conference struct {
	ConversationID, InboxID       int64
	Name, Sid                     string
	CustomerCallSid, AgentCallSid string
	Ended                         bool
	// Coaches maps a supervisor's agent id to their leg's call sid while
	// it is in the conference.
	Coaches map[int64]string
}

// Coaching modes.
const (
	CoachListen  = "listen"
	CoachWhisper = "whisper"
	CoachBarge   = "barge"
)

// connectConference bridges a waiting caller and the agent at endpoint ep
// through the conversation's conference (see above).
func (c *Channel) connectConference(ctx context.Context, log *slog.Logger, inbox parley.InboxConfig, call Call, ep string, l language) error {
	name := ConferenceName(call.ConversationID)
	from := strings.TrimPrefix(inbox.Twilio.From, "whatsapp:")
	status := c.webhookURL(inbox.ID, "/voice/conference", nil)
	rest := c.rest(inbox.Twilio)
	p := &api.CreateParticipantParams{}
	p.SetFrom(from)
	p.SetTo(ep)
	p.SetLabel("agent")
	p.SetBeep("false")
	p.SetStartConferenceOnEnter(true)
	p.SetEndConferenceOnExit(true)
	p.SetConferenceStatusCallback(status)
	p.SetConferenceStatusCallbackEvent(conferenceEvents)
	agent, err := rest.Api.CreateParticipant(name, p)
	if err != nil {
		log.Warn("add agent to conference", "error", err)
		return restError("conference participant", err)
	}
	if agent.CallSid == nil || !validSid(*agent.CallSid, "CA") {
		return fmt.Errorf("twilio conference participant: answer without a call sid")
	}
	conf := &twiml.VoiceConference{Name: name, Beep: "false", StartConferenceOnEnter: "true", EndConferenceOnExit: "true",
		StatusCallback: status, StatusCallbackEvent: strings.Join(conferenceEvents, " "), ParticipantLabel: "customer"}
	if v := inbox.Settings.Voice; v != nil && v.Record {
		conf.Record = "record-from-start"
		conf.RecordingStatusCallback = c.webhookURL(inbox.ID, "/voice/recording", url.Values{"call": {call.Sid}})
	}
	dial := &twiml.VoiceDial{InnerElements: []twiml.Element{conf},
		// When the agent's leg ends the conference, the caller stays for the survey.
		Action: c.webhookURL(inbox.ID, "/voice/after-dial", url.Values{"lang": {l.Skill}})}
	doc, err := twiml.Voice([]twiml.Element{dial})
	if err != nil {
		return err
	}
	u := &api.UpdateCallParams{}
	u.SetTwiml(doc)
	if _, err := rest.Api.UpdateCall(call.Sid, u); err != nil {
		log.Warn("connect call", "error", err)
		// The agent's leg must not wait alone: hang it up (best effort).
		end := &api.UpdateCallParams{}
		end.SetStatus("completed")
		if _, herr := rest.Api.UpdateCall(*agent.CallSid, end); herr != nil {
			log.Warn("hang up the agent's leg", "agent_call_sid", *agent.CallSid, "error", herr)
		}
		return restError("call update", err)
	}
	var confSid string
	if agent.ConferenceSid != nil && validSid(*agent.ConferenceSid, "CF") {
		confSid = *agent.ConferenceSid
	}
	if err := c.backend.ConferenceConnected(ctx, call.ConversationID, inbox.ID, name, call.Sid, *agent.CallSid, confSid); err != nil {
		return err
	}
	if err := c.backend.CallConnected(ctx, call.Sid, ""); err != nil {
		return err
	}
	log.Info("call connected to agent through a conference", "endpoint", ep, "conference", name, "agent_call_sid", *agent.CallSid)
	return nil
}

// ConferenceStatus is a parsed conference status callback.
type ConferenceStatus struct {
	// InboxID is the inbox whose (signed) webhook carried it.
	InboxID                             int64
	Name, ConferenceSid, Event, CallSid string
	Muted, Coaching                     bool
	At                                  time.Time
}

// ParseConferenceStatus checks a conference status callback's form:
// FriendlyName (a Parley conference), ConferenceSid, StatusCallbackEvent,
// and for participant events CallSid, Muted and Coaching; Timestamp (RFC
// 1123) when present, else now.
func ParseConferenceStatus(form url.Values, now time.Time) (ConferenceStatus, error) {
	var s ConferenceStatus
	vals := map[string]string{}
	for _, name := range []string{"FriendlyName", "ConferenceSid", "StatusCallbackEvent", "CallSid", "Muted", "Coaching", "Timestamp"} {
		v, err := one(form, name)
		if err != nil {
			return s, err
		}
		vals[name] = v
	}
	bad := func(field, why string) (ConferenceStatus, error) {
		return ConferenceStatus{}, parley.Invalid("Invalid Twilio conference status callback.", map[string]string{field: why})
	}
	s.Name, s.ConferenceSid, s.Event, s.CallSid = vals["FriendlyName"], vals["ConferenceSid"], vals["StatusCallbackEvent"], vals["CallSid"]
	if id, err := strconv.ParseInt(strings.TrimPrefix(s.Name, conferencePrefix), 10, 64); !strings.HasPrefix(s.Name, conferencePrefix) || err != nil || id <= 0 ||
		ConferenceName(id) != s.Name {
		return bad("FriendlyName", "a Parley conference name ("+conferencePrefix+"<conversation id>)")
	}
	if !validSid(s.ConferenceSid, "CF") {
		return bad("ConferenceSid", "a Twilio conference sid (CF…)")
	}
	switch {
	case s.Event == "conference-start" || s.Event == "conference-end":
	case strings.HasPrefix(s.Event, "participant-") && len(s.Event) <= 40:
		if !validSid(s.CallSid, "CA") {
			return bad("CallSid", "a Twilio call sid (CA…) for participant events")
		}
	default:
		return bad("StatusCallbackEvent", "conference-start, conference-end or participant-…")
	}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"Muted", &s.Muted}, {"Coaching", &s.Coaching}} {
		switch vals[f.name] {
		case "", "false":
		case "true":
			*f.dst = true
		default:
			return bad(f.name, "true or false")
		}
	}
	s.At = now
	if ts := vals["Timestamp"]; ts != "" {
		at, err := time.Parse(time.RFC1123Z, ts)
		if err != nil {
			if at, err = time.Parse(time.RFC1123, ts); err != nil {
				return bad("Timestamp", "RFC 1123, e.g. Mon, 02 Mar 2026 09:00:00 +0000")
			}
		}
		s.At = at.UTC()
	}
	return s, nil
}

// handleConference records a conference status callback (the conference's
// sid, start and end; legs joining, leaving, muted or coaching).
func (c *Channel) handleConference(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values) {
	s, err := ParseConferenceStatus(form, c.now())
	s.InboxID = inbox.ID
	if err == nil {
		err = c.backend.ConferenceEvent(r.Context(), s)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			err = nil // not a conference Parley bridged for this inbox
		}
	}
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// CoachResult is what a coaching intervention did.
type CoachResult struct {
	ConversationID int64  `json:"conversation_id,string"`
	Mode           string `json:"mode"`
	Conference     string `json:"conference"`
	CallSid        string `json:"call_sid"`
	// Joined is true when the supervisor's leg was added (false: an
	// existing leg changed mode).
	Joined bool `json:"joined"`
}

// Coach puts a supervisor into a conversation's call conference, or changes
// what their leg does: listen (muted), whisper (heard by the agent only:
// coaching the agent's leg) or barge (heard by both). The supervisor's
// phone, SIP or browser client is their voice endpoint.
func (c *Channel) Coach(ctx context.Context, supervisorID, convID int64, mode string) (CoachResult, error) {
	res := CoachResult{ConversationID: convID, Mode: mode}
	if mode != CoachListen && mode != CoachWhisper && mode != CoachBarge {
		return res, parley.Invalid("Invalid coaching mode.", map[string]string{"mode": "listen, whisper or barge"})
	}
	conf, err := c.backend.Conference(ctx, convID)
	if parley.ErrorCode(err) == parley.ENOTFOUND {
		return res, parley.Errorf(parley.ECONFLICT, "Conversation %d has no call connected through a conference.", convID)
	} else if err != nil {
		return res, err
	}
	if conf.Ended || conf.AgentCallSid == "" {
		return res, parley.Errorf(parley.ECONFLICT, "The call of conversation %d has ended.", convID)
	}
	res.Conference = conf.Name
	inbox, err := c.backend.Inbox(ctx, conf.InboxID)
	if err != nil {
		return res, err
	}
	if inbox.Twilio == nil {
		return res, parley.Errorf(parley.EINVALID, "Inbox %d has no Twilio account.", inbox.ID)
	}
	target := conf.Sid
	if target == "" {
		target = conf.Name
	}
	rest := c.rest(inbox.Twilio)
	if leg, ok := conf.Coaches[supervisorID]; ok && conf.Sid != "" {
		p := &api.UpdateParticipantParams{}
		p.SetMuted(mode == CoachListen)
		p.SetCoaching(mode == CoachWhisper)
		if mode == CoachWhisper {
			p.SetCallSidToCoach(conf.AgentCallSid)
		}
		if _, err := rest.Api.UpdateParticipant(conf.Sid, leg, p); err != nil {
			return res, restError("conference participant update", err)
		}
		res.CallSid = leg
	} else {
		ep, err := c.backend.AgentVoiceEndpoint(ctx, supervisorID)
		if err != nil {
			return res, err
		}
		if ep == "" {
			return res, parley.Errorf(parley.EINVALID, "You have no voice endpoint to join the call with (PUT /api/v1/agents/%d/voice-endpoint).", supervisorID)
		}
		p := &api.CreateParticipantParams{}
		p.SetFrom(strings.TrimPrefix(inbox.Twilio.From, "whatsapp:"))
		p.SetTo(ep)
		p.SetLabel("supervisor-" + strconv.FormatInt(supervisorID, 10))
		p.SetBeep("false")
		p.SetStartConferenceOnEnter(false)
		p.SetEndConferenceOnExit(false)
		p.SetMuted(mode == CoachListen)
		if mode == CoachWhisper {
			p.SetCoaching(true)
			p.SetCallSidToCoach(conf.AgentCallSid)
		}
		leg, err := rest.Api.CreateParticipant(target, p)
		if err != nil {
			return res, restError("conference participant", err)
		}
		if leg.CallSid == nil || !validSid(*leg.CallSid, "CA") {
			return res, fmt.Errorf("twilio conference participant: answer without a call sid")
		}
		res.CallSid, res.Joined = *leg.CallSid, true
	}
	if err := c.backend.CoachLeg(ctx, convID, supervisorID, res.CallSid, mode); err != nil {
		return res, err
	}
	return res, nil
}
