package desk

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/surveys"
)

// Surveys sends customer feedback surveys when conversations are resolved
// and records the answers that come back through the channels: a card in
// the chat widget, a numbered SMS/WhatsApp reply, a signed email link.
type Surveys struct {
	d         *Desk
	signer    *surveys.Signer
	publicURL string
	// Every is how often the outbox is polled when idle.
	Every time.Duration
}

// NewSurveys returns the survey sender. secret (PARLEY_SECRET_KEY) signs
// the email links; publicURL is where customers reach the answer page.
func NewSurveys(d *Desk, secret []byte, publicURL string) *Surveys {
	return &Surveys{d: d, signer: surveys.NewSigner(secret), publicURL: strings.TrimRight(publicURL, "/"), Every: 300 * time.Millisecond}
}

// Run follows the events outbox and sends a survey for each resolved
// conversation a survey applies to. Its cursor row is locked while it
// works, so instances take turns and every resolution is handled once.
func (s *Surveys) Run(ctx context.Context) error {
	return s.d.follow(ctx, "send surveys", s.Every, s.Step)
}

// Step handles the pending events once and returns how many it read.
func (s *Surveys) Step(ctx context.Context) (int, error) {
	sent, n, err := s.d.db.SendSurveys(ctx, 200, 5*time.Second, s.body)
	if err != nil {
		return 0, err
	}
	for _, x := range sent {
		s.deliver(ctx, x)
	}
	return n, nil
}

func (s *Surveys) deliver(ctx context.Context, x postgres.SentSurvey) {
	r := x.Request
	s.d.log.Info("survey sent", "survey_request_id", r.ID, "conversation_id", r.ConversationID, "channel", r.Channel)
	if !x.HasMsg {
		if r.Channel == parley.ChannelWebchat {
			s.d.publish(ctx, bus.VisitorTopic(r.CustomerID, r.InboxID), SurveyFrame(r, x.Survey))
		}
		return
	}
	conv, err := s.d.db.Conversation(ctx, r.ConversationID)
	if err != nil {
		s.d.log.Error("survey conversation", "conversation_id", r.ConversationID, "error", err)
		return
	}
	s.d.publish(ctx, bus.ConversationTopic(conv.ID), map[string]any{"type": "message", "conversation_id": strconv.FormatInt(conv.ID, 10), "message": x.Message})
	if err := s.d.jobs.EnqueueDelivery(ctx, x.Message.ID); err != nil {
		s.d.log.Error("queue survey delivery", "message_id", x.Message.ID, "error", err)
		s.d.setDelivery(ctx, conv, x.Message.ID, parley.DeliveryFailed)
	}
}

// body is the text of the message that carries a survey: a numbered-reply
// prompt for SMS and WhatsApp, one signed link per score for email.
func (s *Surveys) body(r postgres.SurveyRequest, sv surveys.Survey) string {
	if r.Channel != parley.ChannelEmail {
		return sv.Prompt(r.Locale)
	}
	q := sv.Questions[0]
	lo, hi, _ := q.Range()
	tok := s.signer.Sign(r.ID, r.ExpiresAt)
	var b strings.Builder
	if intro := sv.Intro.In(r.Locale); intro != "" {
		b.WriteString(intro + "\n\n")
	}
	b.WriteString(q.Text.In(r.Locale) + "\n\n")
	for n := hi; n >= lo; n-- {
		label := strconv.Itoa(n)
		if q.Kind == surveys.KindChoice {
			label = q.Choices[n-1].In(r.Locale)
		}
		fmt.Fprintf(&b, "%s: %s\n", label, s.Link(tok, n))
	}
	return b.String()
}

// Link is the answer page's URL for a token, with a score chosen.
func (s *Surveys) Link(token string, score int) string {
	return s.publicURL + "/s/" + url.PathEscape(token) + "?score=" + strconv.Itoa(score)
}

// SurveyFrame is the web-chat frame that shows the rating card.
func SurveyFrame(r postgres.SurveyRequest, sv surveys.Survey) map[string]any {
	var qs []map[string]any
	for _, q := range sv.Questions {
		lo, hi, scored := q.Range()
		item := map[string]any{"key": q.Key, "kind": q.Kind, "text": q.Text.In(r.Locale)}
		if scored {
			item["min"], item["max"] = lo, hi
		}
		if q.Kind == surveys.KindChoice {
			var cs []string
			for _, c := range q.Choices {
				cs = append(cs, c.In(r.Locale))
			}
			item["choices"] = cs
		}
		qs = append(qs, item)
	}
	return map[string]any{"type": "survey", "survey_id": strconv.FormatInt(r.ID, 10), "conversation_id": strconv.FormatInt(r.ConversationID, 10),
		"intro": sv.Intro.In(r.Locale), "questions": qs}
}

// answersFor turns a score and a comment into answers: the score answers
// the first question, the comment the first text question (or goes with
// the score).
func answersFor(sv surveys.Survey, score int, comment string) []postgres.SurveyAnswer {
	comment = strings.TrimSpace(comment)
	out := []postgres.SurveyAnswer{{Question: sv.Questions[0].Key, Kind: sv.Questions[0].Kind, Score: &score}}
	if comment == "" {
		return out
	}
	for _, q := range sv.Questions[1:] {
		if q.Kind == surveys.KindText {
			return append(out, postgres.SurveyAnswer{Question: q.Key, Kind: q.Kind, Comment: comment})
		}
	}
	out[0].Comment = comment
	return out
}

// AnswerRating records a web-chat visitor's rating of a survey sent to
// them (their customer and inbox): accepted once, ECONFLICT afterwards.
func (d *Desk) AnswerRating(ctx context.Context, customerID, inboxID int64, surveyID string, score int, comment string) error {
	id, err := strconv.ParseInt(surveyID, 10, 64)
	if err != nil || id <= 0 {
		return parley.Invalid("Invalid rating.", map[string]string{"survey_id": "must be a survey id"})
	}
	r, sv, err := d.db.SurveyRequest(ctx, id)
	if err != nil {
		return err
	}
	if r.CustomerID != customerID || r.InboxID != inboxID || r.Channel != parley.ChannelWebchat {
		return parley.Errorf(parley.ENOTFOUND, "survey %d not found.", id)
	}
	if _, _, err = d.db.AnswerSurvey(ctx, id, answersFor(sv, score, comment), ""); err != nil {
		return err
	}
	d.log.Info("survey answered", "survey_request_id", id, "conversation_id", r.ConversationID, "channel", r.Channel)
	return nil
}

// SurveyReply looks at an inbound SMS or WhatsApp message from address:
// when a survey sent there awaits its numbered reply and the message is
// one ("4", "4 thanks"), it is recorded as the answer and handled is true:
// the message is then no new work. Any other message lapses the survey
// and is routed as usual. A replayed provider id is handled again without
// recording anything.
func (d *Desk) SurveyReply(ctx context.Context, inboxID int64, ch parley.Channel, address, providerID, body string) (handled, dup bool, err error) {
	r, sv, ok, err := d.db.PendingReply(ctx, inboxID, ch, address, providerID)
	if err != nil || !ok {
		return false, false, err
	}
	score, comment, isAnswer := surveys.ParseReply(sv.Questions[0], body)
	if r.Status != "sent" {
		return true, true, nil // the replay of the answer
	}
	if !isAnswer {
		return false, false, d.db.LapseSurvey(ctx, r.ID)
	}
	_, dup, err = d.db.AnswerSurvey(ctx, r.ID, answersFor(sv, score, comment), providerID)
	if parley.ErrorCode(err) == parley.ECONFLICT || parley.ErrorCode(err) == parley.EINVALID {
		return false, false, nil // answered or expired meanwhile: an ordinary message
	}
	if err != nil {
		return false, false, err
	}
	d.log.Info("survey answered", "survey_request_id", r.ID, "conversation_id", r.ConversationID, "channel", ch)
	return true, dup, nil
}

// LinkSurvey returns the request and survey of a signed email link:
// EUNAUTHORIZED when tampered with, EINVALID when expired.
func (s *Surveys) LinkSurvey(ctx context.Context, token string) (postgres.SurveyRequest, surveys.Survey, error) {
	id, err := s.signer.Verify(token, s.d.now())
	if err != nil {
		return postgres.SurveyRequest{}, surveys.Survey{}, err
	}
	return s.d.db.SurveyRequest(ctx, id)
}

// AnswerLink records the answer given on the page of a signed email link,
// once.
func (s *Surveys) AnswerLink(ctx context.Context, token string, score int, comment string) error {
	r, sv, err := s.LinkSurvey(ctx, token)
	if err != nil {
		return err
	}
	if _, _, err := s.d.db.AnswerSurvey(ctx, r.ID, answersFor(sv, score, comment), ""); err != nil {
		return err
	}
	s.d.log.Info("survey answered", "survey_request_id", r.ID, "conversation_id", r.ConversationID, "channel", r.Channel)
	return nil
}

// DB returns the store (for the survey handlers).
func (s *Surveys) DB() *postgres.DB { return s.d.db }
