package twilio

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
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
