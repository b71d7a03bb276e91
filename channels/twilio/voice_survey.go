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

// VoiceSurvey is one question of a post-call survey, in the caller's
// language, answered with the keypad (the intro with the first).
type VoiceSurvey struct {
	RequestID int64
	// Key names the question ("" after the last one).
	Key      string
	Intro    string
	Question string
	// Lo and Hi bound the score (CSAT 1–5, CES 1–7, NPS 0–10, a choice
	// 1–n).
	Lo, Hi int
}

// surveyGather asks a survey's question: one key, or for a scale up to 10
// up to two digits ended by #.
func (c *Channel) surveyGather(inbox parley.InboxConfig, l language, s VoiceSurvey, try int, before string) []twiml.Element {
	keys := l.surveyKeys
	g := &twiml.VoiceGather{NumDigits: "1", Timeout: "8", Input: "dtmf",
		Action: c.webhookURL(inbox.ID, "/voice/survey", url.Values{"r": {strconv.FormatInt(s.RequestID, 10)}, "q": {s.Key}, "lang": {l.Skill}, "try": {strconv.Itoa(try)}})}
	if s.Hi > 9 {
		keys, g.NumDigits, g.FinishOnKey = l.surveyTwoDigits, "2", "#"
	}
	for _, text := range []string{before, s.Intro, s.Question} {
		if text != "" {
			g.InnerElements = append(g.InnerElements, l.say(text))
		}
	}
	g.InnerElements = append(g.InnerElements, l.say(strings.NewReplacer("{lo}", strconv.Itoa(s.Lo), "{hi}", strconv.Itoa(s.Hi)).Replace(keys)))
	// No key: the caller does not want to answer.
	return []twiml.Element{g, l.say(l.goodbye), &twiml.VoiceHangup{}}
}

// handleAfterDial runs when the agent's leg of a connected call ends
// (<Dial action>). A caller still on the line after a completed talk gets
// the post-call survey when one applies to the conversation; otherwise the
// call ends.
func (c *Channel) handleAfterDial(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values) {
	p, err := parseCall(form)
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	dialStatus, err := one(form, "DialCallStatus")
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	l := findLanguage(languages(inbox), r.URL.Query().Get("lang"))
	verbs := []twiml.Element{l.say(l.goodbye), &twiml.VoiceHangup{}}
	switch {
	case p.Status != "in-progress":
		verbs = []twiml.Element{&twiml.VoiceHangup{}} // the caller hung up
	case dialStatus != "completed":
		verbs = []twiml.Element{l.say(l.sorry), &twiml.VoiceHangup{}} // the agent did not answer
	default:
		s, ok, err := c.backend.StartVoiceSurvey(r.Context(), p.Sid, l.Skill)
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		if ok {
			verbs = c.surveyGather(inbox, l, s, 1, "")
		}
	}
	c.voiceDoc(w, r, verbs)
}

// handleSurveyDigits records the caller's keypad answer to a survey
// question (q, the first when absent) and asks the next one, until none is
// left; a key out of range repeats the question (up to maxTries).
func (c *Channel) handleSurveyDigits(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values) {
	p, digits, err := parseGather(form)
	q := r.URL.Query()
	reqID, perr := strconv.ParseInt(q.Get("r"), 10, 64)
	if err == nil && (perr != nil || reqID <= 0) {
		err = parley.Invalid("Invalid survey gather.", map[string]string{"r": "a survey request id"})
	}
	if err != nil {
		web.Error(w, r, c.log, err)
		return
	}
	l := findLanguage(languages(inbox), q.Get("lang"))
	ok, next, err := c.backend.AnswerVoiceSurvey(r.Context(), p.Sid, reqID, q.Get("q"), strings.TrimSuffix(digits, "#"), l.Skill)
	if err != nil && parley.ErrorCode(err) != parley.ECONFLICT && parley.ErrorCode(err) != parley.EINVALID {
		web.Error(w, r, c.log, err)
		return
	}
	verbs := []twiml.Element{l.say(l.surveyThanks), &twiml.VoiceHangup{}}
	switch try, _ := strconv.Atoi(q.Get("try")); {
	case err == nil && !ok && try < maxTries:
		verbs = c.surveyGather(inbox, l, next, try+1, l.retry)
	case err == nil && ok && next.Key != "":
		verbs = c.surveyGather(inbox, l, next, 1, "")
	}
	c.voiceDoc(w, r, verbs)
}
