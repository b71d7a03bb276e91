package twilio

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
	api "github.com/twilio/twilio-go/rest/api/v2010"
	"github.com/twilio/twilio-go/twiml"
)

// VoicemailMaxSeconds bounds a voicemail's length.
const VoicemailMaxSeconds = 180

// canCallBack reports whether Parley can call a caller back: only a known
// phone number can be.
func (c *Channel) canCallBack(inbox parley.InboxConfig, p callParams) bool {
	addr, _ := callerAddress(p.From, p.Sid, regionOf(inbox.Twilio.From))
	return strings.HasPrefix(addr, "+")
}

// overflowVerbs offer a caller who waited the queue's maximum wait a
// callback (1, keeping their place in the queue) or a voicemail (2); no key
// keeps them on hold.
func (c *Channel) overflowVerbs(inbox parley.InboxConfig, p callParams, l language) []twiml.Element {
	text := l.overflow
	if !c.canCallBack(inbox, p) {
		text = l.overflowNoCallback
	}
	g := &twiml.VoiceGather{NumDigits: "1", Timeout: "6", Input: "dtmf",
		Action:        c.webhookURL(inbox.ID, "/voice/gather", url.Values{"step": {"overflow"}, "lang": {l.Skill}}),
		InnerElements: []twiml.Element{l.say(text)}}
	return []twiml.Element{g, &twiml.VoiceRedirect{Url: c.webhookURL(inbox.ID, "/voice/hold", url.Values{"lang": {l.Skill}})}}
}

// handleOverflow takes the caller's answer to the overflow offer: 1 a
// callback (the conversation keeps its place in the queue as a callback
// task and the caller hangs up), 2 a voicemail (recorded, then the
// conversation waits as a voicemail task); anything else, or a call no
// longer waiting, goes back to hold.
func (c *Channel) handleOverflow(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, p callParams, convID int64, digits string, l language) {
	ctx := r.Context()
	mode := ""
	switch {
	case digits == "1" && c.canCallBack(inbox, p):
		mode = "callback"
	case digits == "2":
		mode = "voicemail"
	}
	var verbs []twiml.Element
	var err error
	ok := false
	if mode != "" && convID != 0 {
		ok, err = c.backend.ChooseCallMode(ctx, p.Sid, mode)
	}
	switch {
	case err != nil:
		web.Error(w, r, c.log, err)
		return
	case ok && mode == "callback":
		c.log.Info("caller chose a callback", "call_sid", p.Sid, "conversation_id", convID)
		verbs = []twiml.Element{l.say(l.callbackOK), &twiml.VoiceHangup{}}
	case ok && mode == "voicemail":
		c.log.Info("caller leaves a voicemail", "call_sid", p.Sid, "conversation_id", convID)
		verbs = []twiml.Element{l.say(l.voicemail), &twiml.VoiceRecord{
			Action:                       c.webhookURL(inbox.ID, "/voice/voicemail", url.Values{"lang": {l.Skill}}),
			MaxLength:                    strconv.Itoa(VoicemailMaxSeconds),
			FinishOnKey:                  "#",
			PlayBeep:                     "true",
			RecordingStatusCallback:      c.webhookURL(inbox.ID, "/voice/recording", url.Values{"kind": {"voicemail"}}),
			RecordingStatusCallbackEvent: "completed",
		}, l.say(l.goodbye), &twiml.VoiceHangup{}}
	default:
		if verbs, err = c.holdVerbs(ctx, inbox, p, convID, l); err != nil {
			web.Error(w, r, c.log, err)
			return
		}
	}
	c.voiceDoc(w, r, verbs)
}

// handleVoicemailDone ends the call after the voicemail was recorded (the
// recording itself arrives with its status callback).
func (c *Channel) handleVoicemailDone(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values) {
	if _, err := parseCall(form); err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	l := findLanguage(languages(inbox), r.URL.Query().Get("lang"))
	c.voiceDoc(w, r, []twiml.Element{l.say(l.goodbye), &twiml.VoiceHangup{}})
}

// scheduleOverflow sets the job that interrupts the caller's hold music at
// their queue's maximum wait (without it the offer waits for the end of the
// music). Failing to schedule it only delays the offer to the next hold
// turn.
func (c *Channel) scheduleOverflow(ctx context.Context, sid string) {
	if c.jobs == nil {
		return
	}
	at, ok, err := c.backend.OverflowAt(ctx, sid)
	if err == nil && ok {
		err = c.jobs.ScheduleCallOverflow(ctx, sid, at)
	}
	if err != nil {
		c.log.Warn("schedule call overflow", "call_sid", sid, "error", err)
	}
}

// CallOverflow is the job run at a waiting caller's maximum wait: it
// redirects the call to the hold loop (REST UpdateCall with the hold URL),
// which offers the callback or voicemail at once. A call no longer waiting,
// or offered already, is left alone; the call is held from the connector
// meanwhile, so an agent's <Dial> is never overwritten.
func (c *Channel) CallOverflow(ctx context.Context, sid string) error {
	call, err := c.backend.CallInfo(ctx, sid)
	if err != nil {
		return err
	}
	inbox, err := c.backend.Inbox(ctx, call.InboxID)
	if err != nil {
		return err
	}
	if inbox.Twilio == nil {
		return parley.Errorf(parley.EINVALID, "Inbox %d has no Twilio account.", inbox.ID)
	}
	l := findLanguage(languages(inbox), call.Language)
	ran, err := c.backend.WhileWaiting(ctx, sid, func(Call) error {
		p := &api.UpdateCallParams{}
		p.SetUrl(c.webhookURL(inbox.ID, "/voice/hold", url.Values{"lang": {l.Skill}}))
		p.SetMethod(http.MethodPost)
		if _, err := c.rest(inbox.Twilio).Api.UpdateCall(sid, p); err != nil {
			return restError("call redirect", err)
		}
		return nil
	})
	if ran && err == nil {
		c.log.Info("waiting caller reached the maximum wait", "call_sid", sid, "conversation_id", call.ConversationID)
	}
	return err
}
