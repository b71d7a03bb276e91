package desk

import (
	"context"
	"fmt"
	"net/url"
	"slices"
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
// conversation a survey applies to (or schedules it, for a survey with a
// delay). Its cursor row is locked while it works, so instances take turns
// and every resolution is handled once. At start it schedules again the
// delayed sends still pending: Redis may have lost their tasks.
func (s *Surveys) Run(ctx context.Context) error {
	if err := s.Reschedule(ctx); err != nil && ctx.Err() == nil {
		s.d.log.Error("reschedule delayed surveys", "error", err)
	}
	return s.d.follow(ctx, "send surveys", s.Every, s.Step)
}

// Step handles the pending events once and returns how many it read.
func (s *Surveys) Step(ctx context.Context) (int, error) {
	sent, later, n, err := s.d.db.SendSurveys(ctx, 200, 5*time.Second, s.body)
	if err != nil {
		return 0, err
	}
	for _, x := range sent {
		s.deliver(ctx, x)
	}
	for _, sc := range later {
		s.schedule(ctx, sc)
	}
	return n, nil
}

func (s *Surveys) schedule(ctx context.Context, sc postgres.ScheduledSurvey) {
	if err := s.d.jobs.ScheduleSurvey(ctx, sc.ConversationID, sc.EventID, sc.DueAt); err != nil {
		// Still pending in PostgreSQL: Reschedule sets it at the next start.
		s.d.log.Error("schedule survey", "conversation_id", sc.ConversationID, "due_at", sc.DueAt, "error", err)
		return
	}
	s.d.log.Info("survey scheduled", "conversation_id", sc.ConversationID, "due_at", sc.DueAt)
}

// Reschedule sets the task of every delayed send still pending (a task
// set already is not set twice; one that fires twice sends once).
func (s *Surveys) Reschedule(ctx context.Context) error {
	pending, err := s.d.db.PendingSurveySchedules(ctx)
	if err != nil {
		return err
	}
	for _, sc := range pending {
		s.schedule(ctx, sc)
	}
	return nil
}

// SendScheduled is the job of a delayed survey send: it sends the survey
// of a conversation resolved by event eventID unless it was reopened
// meanwhile, the survey no longer applies or the customer's frequency cap
// forbids it. A repeated or retried job sends once.
func (s *Surveys) SendScheduled(ctx context.Context, convID, eventID int64) error {
	x, ok, reason, err := s.d.db.SendScheduledSurvey(ctx, convID, eventID, s.body)
	if err != nil {
		return err
	}
	if !ok {
		s.d.log.Info("delayed survey not sent", "conversation_id", convID, "event_id", eventID, "reason", reason)
		return nil
	}
	s.deliver(ctx, x)
	return nil
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

// PendingSurvey returns the survey frame of a rating card a web-chat
// visitor has not answered (sent while they were away, or before they
// reloaded the page), to show it again when they reconnect.
func (d *Desk) PendingSurvey(ctx context.Context, customerID, inboxID int64) (map[string]any, bool, error) {
	r, sv, ok, err := d.db.PendingWebchatSurvey(ctx, customerID, inboxID)
	if err != nil || !ok {
		return nil, false, err
	}
	return SurveyFrame(r, sv), true, nil
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

// AnswerRating records a web-chat visitor's answer to a survey sent to
// them (their customer and inbox). question "" answers the first question
// with score and comment; otherwise it names the question answered (a
// score for a scored one, the comment for a text one). Each question is
// answered once: ECONFLICT afterwards.
func (d *Desk) AnswerRating(ctx context.Context, customerID, inboxID int64, surveyID, question string, score *int, comment string) error {
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
	answers, err := answerOf(sv, question, score, comment)
	if err != nil {
		return err
	}
	if _, _, err = d.db.AnswerSurvey(ctx, id, answers, ""); err != nil {
		return err
	}
	d.log.Info("survey answered", "survey_request_id", id, "conversation_id", r.ConversationID, "channel", r.Channel, "question", question)
	return nil
}

// answerOf is the answer to one question: the first one ("" or its key)
// takes a score and a comment (see answersFor), a later scored one a score,
// a text one the comment.
func answerOf(sv surveys.Survey, key string, score *int, comment string) ([]postgres.SurveyAnswer, error) {
	if key == "" || key == sv.Questions[0].Key {
		if score == nil {
			return nil, parley.Invalid("Invalid rating.", map[string]string{"score": "required"})
		}
		return answersFor(sv, *score, comment), nil
	}
	q, ok := sv.Question(key)
	if !ok {
		return nil, parley.Invalid("Invalid rating.", map[string]string{"question": "no such question in this survey"})
	}
	comment = strings.TrimSpace(comment)
	if _, _, scored := q.Range(); scored {
		if score == nil {
			return nil, parley.Invalid("Invalid rating.", map[string]string{"score": "required"})
		}
		return []postgres.SurveyAnswer{{Question: q.Key, Kind: q.Kind, Score: score, Comment: comment}}, nil
	}
	if comment == "" {
		return nil, parley.Invalid("Invalid rating.", map[string]string{"comment": "required for a text question"})
	}
	return []postgres.SurveyAnswer{{Question: q.Key, Kind: q.Kind, Comment: comment}}, nil
}

// SurveyReply looks at an inbound SMS or WhatsApp message from address:
// when a survey sent there awaits a reply to one of its questions and the
// message is one ("4", "4 thanks" for a scored question, any text for a
// text question), it is recorded as the answer and handled is true: the
// message is then no new work. reply is the next question's prompt, if
// any: the channel sends it as its answer to the webhook (and it is stored
// in the conversation as sent). Any other message stops the survey and is
// routed as usual. A replayed provider id is handled again without
// recording or asking anything.
func (d *Desk) SurveyReply(ctx context.Context, inboxID int64, ch parley.Channel, address, providerID, body string) (handled, dup bool, reply string, err error) {
	r, sv, ok, dup, err := d.db.PendingReply(ctx, inboxID, ch, address, providerID)
	if err != nil || !ok {
		return false, false, "", err
	}
	if dup {
		return true, true, "", nil // the replay of an answer
	}
	q, found := sv.Question(r.Awaiting)
	if !found {
		return false, false, "", nil
	}
	var answers []postgres.SurveyAnswer
	if _, _, scored := q.Range(); scored {
		score, comment, isAnswer := surveys.ParseReply(q, body)
		if !isAnswer {
			return false, false, "", d.db.StopAsking(ctx, r.ID)
		}
		answers, _ = answerOf(sv, q.Key, &score, comment)
	} else {
		text := strings.TrimSpace(body)
		if text == "" {
			return false, false, "", d.db.StopAsking(ctx, r.ID)
		}
		answers = []postgres.SurveyAnswer{{Question: q.Key, Kind: q.Kind, Comment: text}}
	}
	out, dup, err := d.db.AnswerSurvey(ctx, r.ID, answers, providerID)
	if parley.ErrorCode(err) == parley.ECONFLICT || parley.ErrorCode(err) == parley.EINVALID {
		return false, false, "", nil // answered or expired meanwhile: an ordinary message
	}
	if err != nil {
		return false, false, "", err
	}
	d.log.Info("survey answered", "survey_request_id", r.ID, "conversation_id", r.ConversationID, "channel", ch, "question", q.Key)
	if next, ok := sv.Question(out.Awaiting); ok && !dup {
		reply = next.Prompt(out.Locale)
		d.recordReply(ctx, out, reply)
	}
	return true, dup, reply, nil
}

// recordReply stores the next question of an SMS/WhatsApp survey, sent as
// the webhook's answer, in the conversation (delivered already: no job).
func (d *Desk) recordReply(ctx context.Context, r postgres.SurveyRequest, body string) {
	m, err := d.db.AddSurveyMessage(ctx, r, body, parley.DeliverySent)
	if err != nil {
		d.log.Error("record next survey question", "survey_request_id", r.ID, "error", err)
		return
	}
	d.publish(ctx, bus.ConversationTopic(r.ConversationID), map[string]any{"type": "message", "conversation_id": strconv.FormatInt(r.ConversationID, 10), "message": m})
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

// AnswerLink records the answers given on the page of a signed email
// link: score and comment for the first question, and more (question key
// → the score's digits or the text) for the others; empty values are
// skipped. The first question is answered once.
func (s *Surveys) AnswerLink(ctx context.Context, token string, score int, comment string, more map[string]string) error {
	r, sv, err := s.LinkSurvey(ctx, token)
	if err != nil {
		return err
	}
	answers := answersFor(sv, score, comment)
	for _, q := range sv.Questions[1:] {
		v := strings.TrimSpace(more[q.Key])
		if v == "" || slices.ContainsFunc(answers, func(a postgres.SurveyAnswer) bool { return a.Question == q.Key }) {
			continue
		}
		var n *int
		if _, _, scored := q.Range(); scored {
			x, err := strconv.Atoi(v)
			if err != nil {
				return parley.Invalid("Invalid answer.", map[string]string{"q_" + q.Key: "a number"})
			}
			n, v = &x, ""
		}
		answers = append(answers, postgres.SurveyAnswer{Question: q.Key, Kind: q.Kind, Score: n, Comment: v})
	}
	if _, _, err := s.d.db.AnswerSurvey(ctx, r.ID, answers, ""); err != nil {
		return err
	}
	s.d.log.Info("survey answered", "survey_request_id", r.ID, "conversation_id", r.ConversationID, "channel", r.Channel)
	return nil
}

// DB returns the store (for the survey handlers).
func (s *Surveys) DB() *postgres.DB { return s.d.db }
