package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/surveys"
)

// SurveyRequest is one survey sent for one conversation.
type SurveyRequest struct {
	ID             int64          `json:"id,string"`
	SurveyID       int64          `json:"survey_id,string"`
	ConversationID int64          `json:"conversation_id,string"`
	CustomerID     int64          `json:"customer_id,string"`
	InboxID        int64          `json:"inbox_id,string"`
	QueueID        int64          `json:"queue_id,string"`
	AgentID        int64          `json:"agent_id,string"`
	AgentIDs       []int64        `json:"agent_ids"`
	Channel        parley.Channel `json:"channel"`
	Locale         string         `json:"locale"`
	Status         string         `json:"status"`
	MessageID      int64          `json:"message_id,string"`
	SentAt         time.Time      `json:"sent_at"`
	ExpiresAt      time.Time      `json:"expires_at"`
	AnsweredAt     time.Time      `json:"answered_at"`
	// Awaiting is the question an SMS/WhatsApp reply answers next ("" when
	// the survey asks nothing more).
	Awaiting string         `json:"awaiting"`
	Answers  []SurveyAnswer `json:"answers"`
}

// SurveyAnswer answers one question (Score nil for text).
type SurveyAnswer struct {
	Question string `json:"question"`
	Kind     string `json:"kind"`
	Score    *int   `json:"score"`
	Comment  string `json:"comment"`
}

// SentSurvey is a survey request the sender just created, with the
// message that carries it (none for web chat).
type SentSurvey struct {
	Request SurveyRequest
	Survey  surveys.Survey
	Message parley.Message
	HasMsg  bool
}

const surveyColumns = `id, name, enabled, channels, queue_ids, trigger, cap_days, reply_window_min, link_ttl_hours, intro, questions, created_at, updated_at`

func scanSurvey(row pgx.Row) (surveys.Survey, error) {
	var s surveys.Survey
	var chs []string
	var queues []int64
	err := row.Scan(&s.ID, &s.Name, &s.Enabled, &chs, &queues, &s.Trigger, &s.CapDays, &s.ReplyWindowMin, &s.LinkTTLHours,
		&s.Intro, &s.Questions, &s.CreatedAt, &s.UpdatedAt)
	for _, c := range chs {
		s.Channels = append(s.Channels, parley.Channel(c))
	}
	s.QueueIDs = surveys.IDs(queues)
	s.Defaults()
	s.CreatedAt, s.UpdatedAt = s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	return s, err
}

func channelStrings(cs []parley.Channel) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

// CreateSurvey stores a validated survey definition.
func (db *DB) CreateSurvey(ctx context.Context, s surveys.Survey) (surveys.Survey, error) {
	s.Defaults()
	if err := s.Validate(); err != nil {
		return s, err
	}
	out, err := scanSurvey(db.pool.QueryRow(ctx, `INSERT INTO surveys (name, enabled, channels, queue_ids, trigger, cap_days, reply_window_min, link_ttl_hours, intro, questions)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING `+surveyColumns,
		s.Name, s.Enabled, channelStrings(s.Channels), []int64(s.QueueIDs), s.Trigger, s.CapDays, s.ReplyWindowMin, s.LinkTTLHours, s.Intro, s.Questions))
	if err != nil {
		return out, fmt.Errorf("create survey: %w", err)
	}
	return out, nil
}

// Surveys returns every survey definition.
func (db *DB) Surveys(ctx context.Context) ([]surveys.Survey, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+surveyColumns+` FROM surveys ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("surveys: %w", err)
	}
	defer rows.Close()
	out := []surveys.Survey{}
	for rows.Next() {
		s, err := scanSurvey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// Survey returns one survey definition.
func (db *DB) Survey(ctx context.Context, id int64) (surveys.Survey, error) {
	s, err := scanSurvey(db.pool.QueryRow(ctx, `SELECT `+surveyColumns+` FROM surveys WHERE id = $1`, id))
	if err != nil {
		return s, notFound(err, "survey", id)
	}
	return s, nil
}

// UpdateSurvey applies patch (a JSON object of the fields to change) to a
// survey and validates the result.
func (db *DB) UpdateSurvey(ctx context.Context, id int64, patch json.RawMessage) (surveys.Survey, error) {
	var out surveys.Survey
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		s, err := scanSurvey(tx.QueryRow(ctx, `SELECT `+surveyColumns+` FROM surveys WHERE id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "survey", id)
		}
		created := s.CreatedAt
		if err := json.Unmarshal(patch, &s); err != nil {
			return parley.Errorf(parley.EINVALID, "Invalid survey patch: %v", err)
		}
		s.ID, s.CreatedAt = id, created
		s.Defaults()
		if err := s.Validate(); err != nil {
			return err
		}
		out, err = scanSurvey(tx.QueryRow(ctx, `UPDATE surveys SET name = $2, enabled = $3, channels = $4, queue_ids = $5, trigger = $6, cap_days = $7,
			reply_window_min = $8, link_ttl_hours = $9, intro = $10, questions = $11, updated_at = now() WHERE id = $1 RETURNING `+surveyColumns,
			id, s.Name, s.Enabled, channelStrings(s.Channels), []int64(s.QueueIDs), s.Trigger, s.CapDays, s.ReplyWindowMin, s.LinkTTLHours, s.Intro, s.Questions))
		return err
	})
	return out, err
}

const requestColumns = `r.id, r.survey_id, r.conversation_id, r.customer_id, r.inbox_id, r.queue_id, COALESCE(r.agent_id, 0), r.agent_ids, r.channel,
	r.locale, r.status, COALESCE(r.message_id, 0), r.sent_at, r.expires_at, r.answered_at, COALESCE(r.awaiting, '')`

func scanRequest(row pgx.Row) (SurveyRequest, error) {
	var r SurveyRequest
	var ch string
	var ans *time.Time
	err := row.Scan(&r.ID, &r.SurveyID, &r.ConversationID, &r.CustomerID, &r.InboxID, &r.QueueID, &r.AgentID, &r.AgentIDs, &ch,
		&r.Locale, &r.Status, &r.MessageID, &r.SentAt, &r.ExpiresAt, &ans, &r.Awaiting)
	r.Channel, r.AnsweredAt = parley.Channel(ch), nullTime(ans)
	r.SentAt, r.ExpiresAt = r.SentAt.UTC(), r.ExpiresAt.UTC()
	if r.AgentIDs == nil {
		r.AgentIDs = []int64{}
	}
	r.Answers = []SurveyAnswer{}
	return r, err
}

// SendSurveys is one step of the survey sender: under the lock of its
// cursor row in the events outbox, it turns each conversation.resolved
// event into a survey request for the first enabled survey that applies
// (its channels and queues), unless the customer got one within the
// survey's cap_days. For SMS, WhatsApp and email it stores the outbound
// message whose text body(request, survey) returns, queued for delivery.
// It returns what it created; the caller sends it after the commit.
func (db *DB) SendSurveys(ctx context.Context, limit int, gapWait time.Duration,
	body func(SurveyRequest, surveys.Survey) string) (out []SentSurvey, processed int, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		out, processed = nil, 0
		evs, err := followOutbox(ctx, tx, "survey_state", limit, gapWait)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		var defs []surveys.Survey
		for _, e := range evs {
			if e.typ != "conversation.resolved" || e.conv == 0 {
				continue
			}
			if defs == nil {
				if defs, err = surveysIn(ctx, tx); err != nil {
					return err
				}
			}
			s, ok, err := db.surveyFor(ctx, tx, e.conv, defs, body)
			if err != nil {
				return err
			}
			if ok {
				out = append(out, s)
			}
		}
		processed = len(evs)
		return advanceOutbox(ctx, tx, "survey_state", evs)
	})
	return out, processed, err
}

func surveysIn(ctx context.Context, tx pgx.Tx) ([]surveys.Survey, error) {
	rows, err := tx.Query(ctx, `SELECT `+surveyColumns+` FROM surveys WHERE enabled ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("surveys: %w", err)
	}
	defer rows.Close()
	out := []surveys.Survey{}
	for rows.Next() {
		s, err := scanSurvey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func (db *DB) surveyFor(ctx context.Context, tx pgx.Tx, convID int64, defs []surveys.Survey,
	body func(SurveyRequest, surveys.Survey) string) (SentSurvey, bool, error) {
	var out SentSurvey
	c, err := getConversation(ctx, tx, convID, false)
	if err != nil {
		return out, false, err
	}
	var def surveys.Survey
	found := false
	for _, s := range defs {
		if s.Applies(c.QueueID, c.Channel) {
			def, found = s, true
			break
		}
	}
	if !found {
		return out, false, nil
	}
	if def.CapDays > 0 {
		var recent bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM survey_requests WHERE customer_id = $1 AND sent_at > now() - $2 * interval '1 day')`,
			c.CustomerID, def.CapDays).Scan(&recent); err != nil {
			return out, false, fmt.Errorf("survey frequency cap: %w", err)
		}
		if recent {
			return out, false, nil
		}
	}
	ttl := time.Duration(def.LinkTTLHours) * time.Hour
	if c.Channel == parley.ChannelSMS || c.Channel == parley.ChannelWhatsApp {
		ttl = time.Duration(def.ReplyWindowMin) * time.Minute
	}
	r, err := scanRequest(tx.QueryRow(ctx, `INSERT INTO survey_requests AS r (survey_id, conversation_id, customer_id, inbox_id, queue_id, agent_id, agent_ids,
			channel, locale, expires_at, awaiting)
		SELECT $1, c.id, c.customer_id, c.inbox_id, c.queue_id, c.agent_id,
			ARRAY(SELECT DISTINCT a FROM (SELECT agent_id AS a FROM events WHERE conversation_id = c.id AND type = 'conversation.assigned' AND agent_id IS NOT NULL
				UNION SELECT c.agent_id WHERE c.agent_id IS NOT NULL) x ORDER BY a),
			c.channel, cu.locale, now() + $3 * interval '1 second', $4
		FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $2
		ON CONFLICT (conversation_id) DO NOTHING RETURNING `+requestColumns, def.ID, convID, ttl.Seconds(), def.Questions[0].Key))
	if errors.Is(err, pgx.ErrNoRows) {
		return out, false, nil // surveyed already
	} else if err != nil {
		return out, false, fmt.Errorf("create survey request: %w", err)
	}
	out.Request, out.Survey = r, def
	switch c.Channel {
	case parley.ChannelSMS, parley.ChannelWhatsApp, parley.ChannelEmail:
		m, err := insertMessage(ctx, tx, convID, c.InboxID, parley.Message{
			Direction: parley.DirectionOut, Channel: c.Channel, Body: body(r, def), Delivery: parley.DeliveryQueued,
			Sender: parley.MessageSender{Type: parley.SenderSystem, Name: "Parley"},
		}, "")
		if err != nil {
			return out, false, err
		}
		if _, err := tx.Exec(ctx, `UPDATE survey_requests SET message_id = $2 WHERE id = $1`, r.ID, m.ID); err != nil {
			return out, false, fmt.Errorf("link survey message: %w", err)
		}
		out.Request.MessageID, out.Message, out.HasMsg = m.ID, m, true
	}
	return out, true, nil
}

// SurveyRequest returns a request with its answers and its survey.
func (db *DB) SurveyRequest(ctx context.Context, id int64) (SurveyRequest, surveys.Survey, error) {
	r, err := scanRequest(db.pool.QueryRow(ctx, `SELECT `+requestColumns+` FROM survey_requests r WHERE r.id = $1`, id))
	if err != nil {
		return r, surveys.Survey{}, notFound(err, "survey request", id)
	}
	if r.Answers, err = answersOf(ctx, db.pool, r.ID); err != nil {
		return r, surveys.Survey{}, err
	}
	s, err := db.Survey(ctx, r.SurveyID)
	return r, s, err
}

func answersOf(ctx context.Context, q querier, reqID int64) ([]SurveyAnswer, error) {
	rows, err := q.Query(ctx, `SELECT question, kind, score, comment FROM survey_answers WHERE request_id = $1 ORDER BY question`, reqID)
	if err != nil {
		return nil, fmt.Errorf("survey answers: %w", err)
	}
	defer rows.Close()
	out := []SurveyAnswer{}
	for rows.Next() {
		var a SurveyAnswer
		if err := rows.Scan(&a.Question, &a.Kind, &a.Score, &a.Comment); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// AnswerSurvey records answers to a request. The first answer must
// include the first question and marks the request answered; later ones
// answer further questions, each question once: a question answered before
// is ECONFLICT, unless answerKey ("" for none) is the key its answer was
// recorded with, which returns dup (a provider's replay). A request that
// lapsed, or has nothing left to answer, is ECONFLICT; an expired one
// EINVALID. Each scored CSAT, NPS or CES answer writes a survey.answered
// event with payload {"kind", "score"} in the same transaction. The
// request's Awaiting becomes the next unanswered question in order ("" when
// none is left).
func (db *DB) AnswerSurvey(ctx context.Context, reqID int64, answers []SurveyAnswer, answerKey string) (r SurveyRequest, dup bool, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		r, err = scanRequest(tx.QueryRow(ctx, `SELECT `+requestColumns+` FROM survey_requests r WHERE r.id = $1 FOR UPDATE`, reqID))
		if err != nil {
			return notFound(err, "survey request", reqID)
		}
		if answerKey != "" {
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM survey_answers WHERE request_id = $1 AND answer_key = $2)`,
				reqID, answerKey).Scan(&dup); err != nil {
				return err
			}
			if dup {
				return nil
			}
		}
		s, err := scanSurvey(tx.QueryRow(ctx, `SELECT `+surveyColumns+` FROM surveys WHERE id = $1`, r.SurveyID))
		if err != nil {
			return err
		}
		done, err := answersOf(ctx, tx, reqID)
		if err != nil {
			return err
		}
		answered := map[string]bool{}
		for _, a := range done {
			answered[a.Question] = true
		}
		if r.Status == "lapsed" || len(answered) >= len(s.Questions) {
			return parley.Errorf(parley.ECONFLICT, "This survey was answered already.")
		}
		if !db.now().Before(r.ExpiresAt) {
			return parley.Errorf(parley.EINVALID, "This survey has expired.")
		}
		if len(answers) == 0 {
			return parley.Invalid("Invalid answer.", map[string]string{"answers": "at least one answer"})
		}
		byKey := map[string]surveys.Question{}
		for _, q := range s.Questions {
			byKey[q.Key] = q
		}
		first := false
		for i, a := range answers {
			q, ok := byKey[a.Question]
			if !ok || answers[i].Question == "" {
				return parley.Invalid("Invalid answer.", map[string]string{fmt.Sprintf("answers[%d].question", i): "unknown question"})
			}
			if answered[a.Question] {
				return parley.Errorf(parley.ECONFLICT, "This question was answered already.")
			}
			answered[a.Question] = true
			first = first || a.Question == s.Questions[0].Key
			if len(a.Comment) > 2000 {
				return parley.Invalid("Invalid answer.", map[string]string{fmt.Sprintf("answers[%d].comment", i): "at most 2000 bytes"})
			}
			if q.Kind == surveys.KindText {
				a.Score = nil
			} else {
				if a.Score == nil {
					return parley.Invalid("Invalid answer.", map[string]string{fmt.Sprintf("answers[%d].score", i): "required"})
				}
				if err := q.CheckScore(*a.Score); err != nil {
					return err
				}
			}
			if _, err := tx.Exec(ctx, `INSERT INTO survey_answers (request_id, question, kind, score, comment, answer_key) VALUES ($1, $2, $3, $4, $5, NULLIF($6, ''))`,
				reqID, q.Key, q.Kind, a.Score, a.Comment, answerKey); err != nil {
				return fmt.Errorf("record survey answer: %w", err)
			}
			switch q.Kind {
			case surveys.KindCSAT, surveys.KindNPS, surveys.KindCES:
				if err := writeEvent(ctx, tx, "survey.answered", r.ConversationID, r.AgentID, r.CustomerID,
					map[string]any{"kind": q.Kind, "score": *a.Score}); err != nil {
					return err
				}
			}
		}
		if r.Status == "sent" && !first {
			return parley.Invalid("Invalid answer.", map[string]string{"answers": "the first question is answered first"})
		}
		r.Awaiting = ""
		for _, q := range s.Questions {
			if !answered[q.Key] {
				r.Awaiting = q.Key
				break
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE survey_requests SET status = 'answered', answered_at = COALESCE(answered_at, now()),
			answer_key = COALESCE(NULLIF($2, ''), answer_key), awaiting = NULLIF($3, '') WHERE id = $1`, reqID, answerKey, r.Awaiting); err != nil {
			return fmt.Errorf("answer survey request: %w", err)
		}
		r.Status = "answered"
		r.Answers, err = answersOf(ctx, tx, reqID)
		return err
	})
	return r, dup, err
}

// PendingReply returns the survey request an SMS/WhatsApp reply from
// address in the inbox would answer: the customer's latest request sent on
// that channel and inbox that awaits a question within its reply window,
// or the one whose answer was recorded from the inbound message with that
// provider id (a replay: dup).
func (db *DB) PendingReply(ctx context.Context, inboxID int64, ch parley.Channel, address, providerID string) (r SurveyRequest, s surveys.Survey, ok, dup bool, err error) {
	r, err = scanRequest(db.pool.QueryRow(ctx, `SELECT `+requestColumns+` FROM survey_requests r
		JOIN customer_identities i ON i.customer_id = r.customer_id AND i.channel = $2 AND i.address = $3
		WHERE r.inbox_id = $1 AND r.channel = $2
		AND ((r.status IN ('sent', 'answered') AND r.awaiting IS NOT NULL AND r.expires_at > now())
			OR EXISTS (SELECT 1 FROM survey_answers a WHERE a.request_id = r.id AND a.answer_key = $4))
		ORDER BY r.id DESC LIMIT 1`, inboxID, string(ch), address, providerID))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, s, false, false, nil
	} else if err != nil {
		return r, s, false, false, fmt.Errorf("pending survey reply: %w", err)
	}
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM survey_answers WHERE request_id = $1 AND answer_key = $2)`, r.ID, providerID).Scan(&dup); err != nil {
		return r, s, false, false, fmt.Errorf("survey reply replay: %w", err)
	}
	s, err = db.Survey(ctx, r.SurveyID)
	return r, s, err == nil, dup, err
}

// StopAsking closes a request whose numbered reply never came: the
// customer's next message was something else. A request nobody answered
// lapses; a partly answered one keeps its answers and asks no more.
func (db *DB) StopAsking(ctx context.Context, reqID int64) error {
	if _, err := db.pool.Exec(ctx, `UPDATE survey_requests SET status = CASE WHEN status = 'sent' THEN 'lapsed' ELSE status END, awaiting = NULL
		WHERE id = $1`, reqID); err != nil {
		return fmt.Errorf("stop survey request %d: %w", reqID, err)
	}
	return nil
}

// AddSurveyMessage stores an outbound system message in a survey's
// conversation (the next question of an SMS/WhatsApp survey), queued for
// delivery.
func (db *DB) AddSurveyMessage(ctx context.Context, r SurveyRequest, body string) (parley.Message, error) {
	var m parley.Message
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		m, err = insertMessage(ctx, tx, r.ConversationID, r.InboxID, parley.Message{
			Direction: parley.DirectionOut, Channel: r.Channel, Body: body, Delivery: parley.DeliveryQueued,
			Sender: parley.MessageSender{Type: parley.SenderSystem, Name: "Parley"},
		}, "")
		return err
	})
	return m, err
}

// FeedbackFilter selects survey requests for a report. Zero fields select
// all.
type FeedbackFilter struct {
	From, To time.Time
	QueueID  int64
	AgentID  int64
	Channel  parley.Channel
}

// FeedbackReport computes CSAT, NPS, CES (answers given in [From, To)) and
// the response rate (requests sent in [From, To)) for the filter. AgentID
// matches the agent who resolved the conversation.
func (db *DB) FeedbackReport(ctx context.Context, f FeedbackFilter) (surveys.Scores, error) {
	where := `($1::timestamptz IS NULL OR %[1]s >= $1) AND ($2::timestamptz IS NULL OR %[1]s < $2)
		AND ($3::bigint = 0 OR r.queue_id = $3) AND ($4::bigint = 0 OR r.agent_id = $4) AND ($5 = '' OR r.channel = $5)`
	var from, to *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.To.IsZero() {
		to = &f.To
	}
	args := []any{from, to, f.QueueID, f.AgentID, string(f.Channel)}
	var sent, answered int
	if err := db.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE r.status = 'answered') FROM survey_requests r WHERE `+
		fmt.Sprintf(where, "r.sent_at"), args...).Scan(&sent, &answered); err != nil {
		return surveys.Scores{}, fmt.Errorf("feedback response rate: %w", err)
	}
	rows, err := db.pool.Query(ctx, `SELECT a.kind, a.score FROM survey_answers a JOIN survey_requests r ON r.id = a.request_id
		WHERE a.score IS NOT NULL AND `+fmt.Sprintf(where, "a.answered_at"), args...)
	if err != nil {
		return surveys.Scores{}, fmt.Errorf("feedback answers: %w", err)
	}
	defer rows.Close()
	var as []surveys.Answer
	for rows.Next() {
		var a surveys.Answer
		if err := rows.Scan(&a.Kind, &a.Score); err != nil {
			return surveys.Scores{}, err
		}
		as = append(as, a)
	}
	if err := rows.Err(); err != nil {
		return surveys.Scores{}, err
	}
	return surveys.Compute(as, sent, answered), nil
}

// CustomerSurveys returns a customer's latest survey requests with their
// answers, newest first.
func (db *DB) CustomerSurveys(ctx context.Context, customerID int64, limit int) ([]SurveyRequest, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+requestColumns+` FROM survey_requests r WHERE r.customer_id = $1 ORDER BY r.id DESC LIMIT $2`, customerID, limit)
	if err != nil {
		return nil, fmt.Errorf("customer surveys: %w", err)
	}
	out := []SurveyRequest{}
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Answers, err = answersOf(ctx, db.pool, out[i].ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}
