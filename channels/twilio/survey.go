package twilio

import (
	"context"
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
	"github.com/twilio/twilio-go/twiml"
)

// SurveyReplier is an optional capability of the Backend: it takes an
// inbound message that answers a survey's "Reply 1–5" (handled true; the
// message is then no new work for agents), with the survey's next question
// as reply when one follows, and lets every other message through.
type SurveyReplier interface {
	SurveyReply(ctx context.Context, inboxID int64, ch parley.Channel, address, providerID, body string) (handled, dup bool, reply string, err error)
}

// surveyReply answers the webhook when the message is a survey answer:
// with the next question, or a thank-you after the last (nothing on a
// replay). It reports whether it did.
func (c *Channel) surveyReply(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, from, sid, body string) bool {
	sr, ok := c.backend.(SurveyReplier)
	if !ok {
		return false
	}
	handled, dup, reply, err := sr.SurveyReply(r.Context(), inbox.ID, inbox.Channel, from, sid, body)
	if err != nil {
		web.Error(w, r, c.log, err)
		return true
	}
	if !handled {
		return false
	}
	var verbs []twiml.Element
	switch {
	case dup:
	case reply != "":
		verbs = append(verbs, &twiml.MessagingMessage{Body: reply})
	default:
		verbs = append(verbs, &twiml.MessagingMessage{Body: "Thank you for your feedback! 感谢您的反馈！"})
	}
	doc, err := twiml.Messages(verbs)
	if err != nil {
		web.Error(w, r, c.log, err)
		return true
	}
	writeTwiML(w, doc)
	return true
}
