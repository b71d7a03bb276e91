package twilio

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
	"github.com/twilio/twilio-go/twiml"
)

// DefaultHoldMusic is Twilio's public hold music, played when the inbox
// names none.
const DefaultHoldMusic = "http://com.twilio.sounds.music.s3.amazonaws.com/MARKOVICHAMP-Borghestral.mp3"

// voiceTexts are the built-in prompts of a language.
type voiceTexts struct {
	say, voice, prompt, menuItem, hold, retry, sorry, goodbye string
	// overflow offers a callback or a voicemail after the queue's maximum
	// wait (overflowNoCallback when the caller's number is unknown);
	// callbackOK confirms a callback; voicemail asks for the message;
	// calledBack greets a customer Parley calls back.
	overflow, overflowNoCallback, callbackOK, voicemail, calledBack string
	// surveyKeys asks for a key from {lo} to {hi} (surveyTwoDigits when
	// the scale reaches 10); surveyThanks ends the survey.
	surveyKeys, surveyTwoDigits, surveyThanks string
}

var builtinTexts = map[string]voiceTexts{
	"en": {say: "en-US", prompt: "For English, press {digit}.", menuItem: "For {label}, press {digit}.",
		hold:  "Thank you for calling. You are number {position} in the queue. Please hold.",
		retry: "Sorry, that is not a valid choice.", sorry: "Sorry, we could not connect your call. Please try again later.",
		goodbye:            "Thank you for calling. Goodbye.",
		overflow:           "Sorry for the wait. To hang up and keep your place with a call back, press 1. To leave a voicemail, press 2. To keep holding, stay on the line.",
		overflowNoCallback: "Sorry for the wait. To leave a voicemail, press 2. To keep holding, stay on the line.",
		callbackOK:         "Thank you. We will call you back at this number when an agent is free. Goodbye.",
		voicemail:          "Please leave your message after the tone. Press the pound key or hang up when you are done.",
		calledBack:         "Hello, we are calling you back as you asked. Connecting you to an agent.",
		surveyKeys:         "Please press a key from {lo} to {hi}.",
		surveyTwoDigits:    "Please enter a number from {lo} to {hi}, then press the pound key.",
		surveyThanks:       "Thank you for your feedback. Goodbye."},
	"zh": {say: "cmn-CN", voice: "Polly.Zhiyu", prompt: "中文服务请按{digit}。", menuItem: "{label}请按{digit}。",
		hold:  "感谢您的来电。您现在排在第{position}位，请稍候。",
		retry: "对不起，您的选择无效。", sorry: "对不起，现在无法接通，请稍后再拨。", goodbye: "感谢您的来电，再见。",
		overflow:           "抱歉让您久等。挂机并保留排队位置、由我们回电，请按1；留言请按2；继续等待请不要挂机。",
		overflowNoCallback: "抱歉让您久等。留言请按2；继续等待请不要挂机。",
		callbackOK:         "谢谢。客服有空时我们会回电到这个号码。再见。",
		voicemail:          "请在提示音后留言，结束后请按井号键或挂机。",
		calledBack:         "您好，我们按您的要求回电，正在为您转接客服。",
		surveyKeys:         "请按{lo}到{hi}之间的数字键。",
		surveyTwoDigits:    "请输入{lo}到{hi}之间的数字，然后按井号键。",
		surveyThanks:       "感谢您的反馈，再见。"},
}

// language is one IVR language with its texts resolved.
type language struct {
	parley.VoiceLanguage
	voiceTexts
}

// languages returns an inbox's IVR languages (English alone by default).
func languages(inbox parley.InboxConfig) []language {
	var list []parley.VoiceLanguage
	if v := inbox.Settings.Voice; v != nil {
		list = v.Languages
	}
	if len(list) == 0 {
		list = []parley.VoiceLanguage{{Digit: "1", Skill: "en"}}
	}
	out := make([]language, 0, len(list))
	for _, l := range list {
		t, ok := builtinTexts[strings.ToLower(strings.SplitN(l.Skill, "-", 2)[0])]
		if !ok {
			t = builtinTexts["en"]
			t.say = ""
		}
		if l.Say != "" && l.Say != t.say {
			t.say, t.voice = l.Say, ""
		}
		if l.Prompt != "" {
			t.prompt = l.Prompt
		}
		if l.Hold != "" {
			t.hold = l.Hold
		}
		out = append(out, language{l, t})
	}
	return out
}

func findLanguage(langs []language, skill string) language {
	for _, l := range langs {
		if l.Skill == skill {
			return l
		}
	}
	return langs[0]
}

func (l language) say(text string) *twiml.VoiceSay {
	return &twiml.VoiceSay{Message: text, Language: l.voiceTexts.say, Voice: l.voice}
}

// menuText is the spoken topic menu in a language.
func menuText(inbox parley.InboxConfig, l language) string {
	if l.Menu != "" {
		return l.Menu
	}
	var b strings.Builder
	for _, ch := range inbox.Settings.Voice.Menu {
		label := ch.Topic
		for _, t := range inbox.Settings.Topics {
			if strings.EqualFold(t.Name, ch.Topic) && t.Label != "" {
				label = t.Label
			}
		}
		b.WriteString(strings.NewReplacer("{label}", label, "{digit}", ch.Digit).Replace(l.menuItem))
		b.WriteString(" ")
	}
	return strings.TrimSpace(b.String())
}

func hasMenu(inbox parley.InboxConfig) bool {
	return inbox.Settings.Voice != nil && len(inbox.Settings.Voice.Menu) > 0
}

// callParams are the fields every voice webhook carries.
type callParams struct {
	Sid, From, Status string
}

func parseCall(form url.Values) (callParams, error) {
	var p callParams
	var err error
	for name, dst := range map[string]*string{"CallSid": &p.Sid, "From": &p.From, "CallStatus": &p.Status} {
		if *dst, err = one(form, name); err != nil {
			return p, err
		}
	}
	if !validSid(p.Sid, "CA") {
		return p, parley.Invalid("Invalid Twilio voice webhook.", map[string]string{"CallSid": "a Twilio call sid is required"})
	}
	if len(p.From) > 200 || len(p.Status) > 40 {
		return p, parley.Invalid("Invalid Twilio voice webhook.", map[string]string{"From": "too long"})
	}
	return p, nil
}

// callerAddress is how a caller is known: E.164, a client:/sip: identity,
// or (caller id withheld) one anonymous identity per call.
func callerAddress(from, sid, region string) (addr, reg string) {
	lower := strings.ToLower(strings.TrimSpace(from))
	if strings.HasPrefix(lower, "client:") || strings.HasPrefix(lower, "sip:") {
		return lower, ""
	}
	if e164, r, err := Normalize(from, region); err == nil {
		return e164, r
	}
	return "anonymous:" + sid, ""
}

func (c *Channel) voiceDoc(w http.ResponseWriter, r *http.Request, verbs []twiml.Element) {
	doc, err := twiml.Voice(verbs)
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	writeTwiML(w, doc)
}

// handleCall answers an inbound call with the IVR (or, for a call already
// past it, with hold).
func (c *Channel) handleCall(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values) {
	p, err := parseCall(form)
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	caller, _ := callerAddress(p.From, p.Sid, regionOf(inbox.Twilio.From))
	state, convID, lang, err := c.backend.StartCall(r.Context(), inbox.ID, p.Sid, caller)
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	langs := languages(inbox)
	var verbs []twiml.Element
	switch {
	case state != "ivr":
		verbs, err = c.holdVerbs(r.Context(), inbox, p, convID, findLanguage(langs, lang))
	case len(langs) > 1:
		verbs = c.languageMenu(inbox, langs, 1, "")
	case hasMenu(inbox):
		verbs = c.topicMenu(inbox, langs[0], 1, "")
	default:
		verbs, err = c.enqueueCall(r.Context(), inbox, p, langs, langs[0], "")
	}
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	c.voiceDoc(w, r, verbs)
}

func (c *Channel) languageMenu(inbox parley.InboxConfig, langs []language, try int, before string) []twiml.Element {
	g := &twiml.VoiceGather{NumDigits: "1", Timeout: "6", Input: "dtmf",
		Action: c.webhookURL(inbox.ID, "/voice/gather", url.Values{"step": {"language"}, "try": {strconv.Itoa(try)}})}
	if before != "" {
		g.InnerElements = append(g.InnerElements, langs[0].say(before))
	}
	for _, l := range langs {
		g.InnerElements = append(g.InnerElements, l.say(strings.ReplaceAll(l.prompt, "{digit}", l.Digit)))
	}
	// No key pressed: the action gets no Digits and takes the default.
	return []twiml.Element{g, &twiml.VoiceRedirect{Url: g.Action}}
}

func (c *Channel) topicMenu(inbox parley.InboxConfig, l language, try int, before string) []twiml.Element {
	g := &twiml.VoiceGather{NumDigits: "1", Timeout: "6", Input: "dtmf",
		Action: c.webhookURL(inbox.ID, "/voice/gather", url.Values{"step": {"menu"}, "lang": {l.Skill}, "try": {strconv.Itoa(try)}})}
	if before != "" {
		g.InnerElements = append(g.InnerElements, l.say(before))
	}
	g.InnerElements = append(g.InnerElements, l.say(menuText(inbox, l)))
	return []twiml.Element{g, &twiml.VoiceRedirect{Url: g.Action}}
}

var digitsPattern = regexp.MustCompile(`^[0-9*#]{0,20}$`)

// parseGather reads a <Gather> action: the call and the keys pressed.
func parseGather(form url.Values) (callParams, string, error) {
	p, err := parseCall(form)
	if err != nil {
		return p, "", err
	}
	digits, err := one(form, "Digits")
	if err == nil && !digitsPattern.MatchString(digits) {
		err = parley.Invalid("Invalid Twilio gather.", map[string]string{"Digits": "keypad digits only"})
	}
	return p, digits, err
}

// maxTries bounds how often a menu is repeated after an invalid key.
const maxTries = 3

// handleGather takes a menu choice: the language, then the topic; then
// the call is enqueued.
func (c *Channel) handleGather(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values) {
	p, digits, err := parseGather(form)
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	ctx, q := r.Context(), r.URL.Query()
	caller, _ := callerAddress(p.From, p.Sid, regionOf(inbox.Twilio.From))
	state, convID, lang, err := c.backend.StartCall(ctx, inbox.ID, p.Sid, caller)
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	langs := languages(inbox)
	if q.Get("step") == "overflow" {
		c.handleOverflow(w, r, inbox, p, convID, digits, findLanguage(langs, q.Get("lang")))
		return
	}
	if state != "ivr" { // a replayed gather: the call already waits
		verbs, err := c.holdVerbs(ctx, inbox, p, convID, findLanguage(langs, lang))
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		c.voiceDoc(w, r, verbs)
		return
	}
	try, _ := strconv.Atoi(q.Get("try"))
	var verbs []twiml.Element
	switch q.Get("step") {
	case "language":
		l, ok := langs[0], digits == ""
		for _, x := range langs {
			if x.Digit == digits {
				l, ok = x, true
			}
		}
		switch {
		case !ok && try < maxTries:
			verbs = c.languageMenu(inbox, langs, try+1, langs[0].retry)
		case hasMenu(inbox):
			verbs = c.topicMenu(inbox, l, 1, "")
		default:
			verbs, err = c.enqueueCall(ctx, inbox, p, langs, l, "")
		}
	case "menu":
		l := findLanguage(langs, q.Get("lang"))
		topic, ok := "", digits == ""
		for _, ch := range inbox.Settings.Voice.Menu {
			if ch.Digit == digits {
				topic, ok = ch.Topic, true
			}
		}
		if !ok && try < maxTries {
			verbs = c.topicMenu(inbox, l, try+1, l.retry)
		} else {
			verbs, err = c.enqueueCall(ctx, inbox, p, langs, l, topic)
		}
	default:
		err = parley.Invalid("Invalid gather step.", map[string]string{"step": "language or menu"})
	}
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	c.voiceDoc(w, r, verbs)
}

// enqueueCall turns a call that left the IVR into a conversation (channel
// voice) routed like any other, and holds the caller. The CallSid is the
// message's dedupe key, so a replayed webhook enqueues nothing more.
func (c *Channel) enqueueCall(ctx context.Context, inbox parley.InboxConfig, p callParams, langs []language, l language, topic string) ([]twiml.Element, error) {
	caller, region := callerAddress(p.From, p.Sid, regionOf(inbox.Twilio.From))
	in := parley.Inbound{
		InboxID:      inbox.ID,
		Identity:     parley.Identity{Channel: parley.ChannelVoice, Address: caller},
		DedupeKey:    "call:" + p.Sid,
		Body:         "Incoming call",
		Topic:        topic,
		CustomerName: caller,
		Meta:         map[string]string{"call_sid": p.Sid, "address": caller, "language": l.Skill, "call_status": "queued"},
	}
	if strings.HasPrefix(caller, "anonymous:") {
		in.CustomerName = "Anonymous caller"
	}
	if len(langs) > 1 && l.Skill != "" {
		in.Require = map[string]int{l.Skill: 1}
	}
	rcpt, err := c.backend.Receive(ctx, in)
	if err != nil {
		return nil, err
	}
	if !rcpt.Duplicate && region != "" {
		if err := c.backend.SetCustomerPhone(ctx, rcpt.Message.Sender.ID, caller, region, nil); err != nil {
			c.log.Warn("record caller phone", "customer_id", rcpt.Message.Sender.ID, "error", err)
		}
	}
	if err := c.backend.QueueCall(ctx, p.Sid, rcpt.Conversation.ID, l.Skill); err != nil {
		return nil, err
	}
	c.scheduleOverflow(ctx, p.Sid)
	c.log.Info("call queued", "call_sid", p.Sid, "conversation_id", rcpt.Conversation.ID, "language", l.Skill, "topic", topic)
	return c.holdVerbs(ctx, inbox, p, rcpt.Conversation.ID, l)
}

// holdVerbs keep a waiting caller on hold: their place in the queue, hold
// music, then back here; once, after the queue's maximum wait, the offer
// of a callback or a voicemail instead. An accepted call pauses until the
// connector replaces its TwiML with the agent's <Dial>; a conversation
// closed meanwhile ends the call.
func (c *Channel) holdVerbs(ctx context.Context, inbox parley.InboxConfig, p callParams, convID int64, l language) ([]twiml.Element, error) {
	hold := &twiml.VoiceRedirect{Url: c.webhookURL(inbox.ID, "/voice/hold", url.Values{"lang": {l.Skill}})}
	pos, status, err := c.backend.CallPosition(ctx, convID)
	if err != nil {
		return nil, err
	}
	switch status {
	case parley.StatusQueued:
		if due, err := c.backend.OfferOverflow(ctx, p.Sid); err != nil {
			return nil, err
		} else if due {
			return c.overflowVerbs(inbox, p, l), nil
		}
		music := DefaultHoldMusic
		if v := inbox.Settings.Voice; v != nil && v.HoldMusicURL != "" {
			music = v.HoldMusicURL
		}
		return []twiml.Element{l.say(strings.ReplaceAll(l.hold, "{position}", strconv.Itoa(pos+1))), &twiml.VoicePlay{Url: music}, hold}, nil
	case parley.StatusAssigned:
		return []twiml.Element{&twiml.VoicePause{Length: "2"}, hold}, nil
	}
	return []twiml.Element{l.say(l.goodbye), &twiml.VoiceHangup{}}, nil
}

// handleHold is the hold loop's Redirect target.
func (c *Channel) handleHold(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values) {
	p, err := parseCall(form)
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	l := findLanguage(languages(inbox), r.URL.Query().Get("lang"))
	state, convID, _, err := c.backend.CallState(r.Context(), p.Sid)
	var verbs []twiml.Element
	switch {
	case parley.ErrorCode(err) == parley.ENOTFOUND || (err == nil && (convID == 0 || state == "ended")):
		verbs = []twiml.Element{l.say(l.goodbye), &twiml.VoiceHangup{}}
	case err != nil:
		web.Error(w, r, c.log, err)
		return
	case state == "connecting" || state == "connected":
		verbs = []twiml.Element{&twiml.VoicePause{Length: "2"}, &twiml.VoiceRedirect{Url: c.webhookURL(inbox.ID, "/voice/hold", url.Values{"lang": {l.Skill}})}}
	default:
		if verbs, err = c.holdVerbs(r.Context(), inbox, p, convID, l); err != nil {
			web.Error(w, r, c.log, err)
			return
		}
	}
	c.voiceDoc(w, r, verbs)
}

// finalCallStatus lists the CallStatus values that end a call.
var finalCallStatus = map[string]bool{"completed": true, "busy": true, "failed": true, "no-answer": true, "canceled": true}

// handleCallStatus records a call's end: a caller who hangs up while
// queued abandons the conversation; a connected call gets its talk end and
// duration. Replays change nothing.
func (c *Channel) handleCallStatus(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values) {
	p, err := parseCall(form)
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	dur := -1
	if d, err := one(form, "CallDuration"); err != nil {
		web.Error(w, r, c.log, err)
		return
	} else if d != "" {
		if dur, err = strconv.Atoi(d); err != nil || dur < 0 {
			web.Error(w, r, c.log, parley.Invalid("Invalid Twilio call status.", map[string]string{"CallDuration": "seconds"}))
			return
		}
	}
	if finalCallStatus[p.Status] {
		err = c.backend.EndCall(r.Context(), p.Sid, p.Status, dur)
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			err = nil // a call Parley never answered
		}
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleRecording stores a finished recording's URL on the conversation;
// a voicemail (?kind=voicemail) becomes a message with the recording.
func (c *Channel) handleRecording(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values) {
	vals := map[string]string{}
	for _, name := range []string{"CallSid", "RecordingSid", "RecordingUrl", "RecordingStatus", "RecordingDuration"} {
		v, err := one(form, name)
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		vals[name] = v
	}
	if vals["CallSid"] == "" {
		// A conference's recording names the conference, not a call: the
		// callback URL carries the customer's call (conference.go).
		vals["CallSid"] = r.URL.Query().Get("call")
	}
	u, err := url.Parse(vals["RecordingUrl"])
	dur, derr := strconv.Atoi(vals["RecordingDuration"])
	if !validSid(vals["CallSid"], "CA") || err != nil || (u.Scheme != "https" && u.Scheme != "http") || derr != nil {
		web.Error(w, r, c.log, parley.Invalid("Invalid Twilio recording callback.", map[string]string{"RecordingUrl": "CallSid, RecordingUrl and RecordingDuration are required"}))
		return
	}
	voicemail := r.URL.Query().Get("kind") == "voicemail"
	if voicemail && !validSid(vals["RecordingSid"], "RE") {
		web.Error(w, r, c.log, parley.Invalid("Invalid Twilio recording callback.", map[string]string{"RecordingSid": "a Twilio recording sid is required"}))
		return
	}
	if vals["RecordingStatus"] == "completed" {
		if voicemail {
			err = c.backend.Voicemail(r.Context(), vals["CallSid"], vals["RecordingSid"], vals["RecordingUrl"], dur)
		} else {
			err = c.backend.CallRecording(r.Context(), vals["CallSid"], vals["RecordingUrl"], dur)
		}
		if err != nil && parley.ErrorCode(err) != parley.ENOTFOUND {
			web.Error(w, r, c.log, err)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// endpointNoun is the <Dial> noun for an agent endpoint.
func endpointNoun(ep string) twiml.Element {
	switch {
	case strings.HasPrefix(ep, "sip:"):
		return &twiml.VoiceSip{SipUrl: ep}
	case strings.HasPrefix(ep, "client:"):
		return &twiml.VoiceClient{Identity: strings.TrimPrefix(ep, "client:")}
	}
	return &twiml.VoiceNumber{PhoneNumber: ep}
}

var clientPattern = regexp.MustCompile(`^client:[A-Za-z0-9_.@-]{1,121}$`)

// ValidEndpoint normalises an agent's voice endpoint: an E.164 number, a
// sip: URI or client:<identity>.
func ValidEndpoint(ep string) (string, error) {
	ep = strings.TrimSpace(ep)
	bad := parley.Invalid("Invalid voice endpoint.", map[string]string{"endpoint": "an E.164 number (+15551234567), a sip: URI or client:<identity>"})
	switch {
	case ep == "":
		return "", nil
	case strings.HasPrefix(ep, "sip:"):
		u, err := url.Parse(ep)
		if err != nil || len(ep) > 255 || strings.ContainsAny(ep, " \t\r\n<>\"") || !strings.Contains(u.Opaque, "@") && u.Opaque == "" {
			return "", bad
		}
		return ep, nil
	case strings.HasPrefix(ep, "client:"):
		if !clientPattern.MatchString(ep) {
			return "", bad
		}
		return ep, nil
	}
	if !strings.HasPrefix(ep, "+") {
		return "", bad
	}
	e164, _, err := Normalize(ep, "")
	if err != nil {
		return "", bad
	}
	return e164, nil
}

func (c *Channel) handleGetVoiceEndpoint() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := web.ID(r.PathValue("id"), "agent")
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		ep, err := c.backend.AgentVoiceEndpoint(r.Context(), id)
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		web.JSON(w, http.StatusOK, map[string]string{"agent_id": web.IDString(id), "endpoint": ep})
	})
}

func (c *Channel) handleSetVoiceEndpoint() http.Handler {
	type request struct {
		Endpoint string `json:"endpoint"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := web.ID(r.PathValue("id"), "agent")
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		ep, err := ValidEndpoint(req.Endpoint)
		if err == nil {
			err = c.backend.SetAgentVoiceEndpoint(r.Context(), id, ep)
		}
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		web.JSON(w, http.StatusOK, map[string]string{"agent_id": web.IDString(id), "endpoint": ep})
	})
}
