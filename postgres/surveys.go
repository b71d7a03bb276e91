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

const surveyColumns = `id, name, enabled, channels, queue_ids, trigger, cap_days, reply_window_min, link_ttl_hours, intro, questions, created_at, updated_at,
	delay_s, segment_ids`

func scanSurvey(row pgx.Row) (surveys.Survey, error) {
	var s surveys.Survey
	var chs []string
	var queues, segs []int64
	err := row.Scan(&s.ID, &s.Name, &s.Enabled, &chs, &queues, &s.Trigger, &s.CapDays, &s.ReplyWindowMin, &s.LinkTTLHours,
		&s.Intro, &s.Questions, &s.CreatedAt, &s.UpdatedAt, &s.DelayS, &segs)
	for _, c := range chs {
		s.Channels = append(s.Channels, parley.Channel(c))
	}
	s.QueueIDs, s.SegmentIDs = surveys.IDs(queues), surveys.IDs(segs)
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
	if err := checkSegmentIDs(ctx, db.pool, s.SegmentIDs); err != nil {
		return s, err
	}
	out, err := scanSurvey(db.pool.QueryRow(ctx, `INSERT INTO surveys (name, enabled, channels, queue_ids, trigger, cap_days, reply_window_min, link_ttl_hours, intro, questions,
			delay_s, segment_ids)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+surveyColumns,
		s.Name, s.Enabled, channelStrings(s.Channels), []int64(s.QueueIDs), s.Trigger, s.CapDays, s.ReplyWindowMin, s.LinkTTLHours, s.Intro, s.Questions,
		s.DelayS, []int64(s.SegmentIDs)))
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
		if err := checkSegmentIDs(ctx, tx, s.SegmentIDs); err != nil {
			return err
		}
		out, err = scanSurvey(tx.QueryRow(ctx, `UPDATE surveys SET name = $2, enabled = $3, channels = $4, queue_ids = $5, trigger = $6, cap_days = $7,
			reply_window_min = $8, link_ttl_hours = $9, intro = $10, questions = $11, delay_s = $12, segment_ids = $13, updated_at = now()
			WHERE id = $1 RETURNING `+surveyColumns,
			id, s.Name, s.Enabled, channelStrings(s.Channels), []int64(s.QueueIDs), s.Trigger, s.CapDays, s.ReplyWindowMin, s.LinkTTLHours, s.Intro, s.Questions,
			s.DelayS, []int64(s.SegmentIDs)))
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

// ScheduledSurvey is a delayed survey send the caller schedules (an asynq
// task) after the commit.
type ScheduledSurvey struct {
	ConversationID int64
	EventID        int64
	DueAt          time.Time
}

// SendSurveys turns each conversation.resolved event into a survey for the
// first enabled survey that applies (its channels, queues and segments):
// a survey without a delay is sent now, unless the customer got one within
// the survey's cap_days; a delayed one is scheduled (survey_schedules) and
// sent by SendScheduledSurvey. For SMS, WhatsApp and email it stores the
// outbound message whose text body(request, survey) returns, queued for
// delivery. Voice surveys are asked in the call (StartSurvey), never at
// resolution. It returns what it created; the caller sends it, and
// schedules what is due later, after the commit.
func (db *DB) SendSurveys(ctx context.Context, limit int, gapWait time.Duration,
	body func(SurveyRequest, surveys.Survey) string) (out []SentSurvey, later []ScheduledSurvey, processed int, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		out, later, processed = nil, nil, 0
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
			c, err := getConversation(ctx, tx, e.conv, false)
			if err != nil {
				return err
			}
			if c.Channel == parley.ChannelVoice {
				continue // asked after the call's talk, in the call
			}
			def, ok, err := pickSurvey(ctx, tx, c, defs)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if def.DelayS > 0 {
				sc, ok, err := db.scheduleSurvey(ctx, tx, c, def, e.id)
				if err != nil {
					return err
				}
				if ok {
					later = append(later, sc)
				}
				continue
			}
			s, ok, err := createSurveyRequest(ctx, tx, c, def, body)
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
	return out, later, processed, err
}

// scheduleSurvey records the delayed send of def for conversation c
// resolved by event eventID, due def's delay after its resolution (after
// now, when the conversation has no resolution time). A conversation
// resolved again replaces its schedule (the earlier task then finds
// nothing to do); one surveyed already gets none.
func (db *DB) scheduleSurvey(ctx context.Context, tx pgx.Tx, c parley.Conversation, def surveys.Survey, eventID int64) (ScheduledSurvey, bool, error) {
	convID, from := c.ID, c.ResolvedAt
	if from.IsZero() {
		from = db.now()
	}
	sc := ScheduledSurvey{ConversationID: convID, EventID: eventID, DueAt: from.Add(time.Duration(def.DelayS) * time.Second).UTC()}
	tag, err := tx.Exec(ctx, `INSERT INTO survey_schedules (conversation_id, survey_id, event_id, due_at)
		SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM survey_requests WHERE conversation_id = $1)
		ON CONFLICT (conversation_id) DO UPDATE SET survey_id = EXCLUDED.survey_id, event_id = EXCLUDED.event_id, due_at = EXCLUDED.due_at,
			state = 'pending', reason = '', done_at = NULL
		WHERE survey_schedules.state <> 'sent'`, convID, def.ID, eventID, sc.DueAt)
	if err != nil {
		return sc, false, fmt.Errorf("schedule survey of conversation %d: %w", convID, err)
	}
	return sc, tag.RowsAffected() == 1, nil
}

// SendScheduledSurvey sends the delayed survey of a conversation scheduled
// by its conversation.resolved event eventID. It does nothing (ok false)
// when the schedule was handled already or replaced by a later resolution,
// so a retried or repeated task sends once; and it skips the survey, with
// the reason recorded, when the conversation was reopened meanwhile, the
// survey no longer applies (disabled, edited, the customer left its
// segments) or the customer got a survey within its cap_days since.
func (db *DB) SendScheduledSurvey(ctx context.Context, convID, eventID int64,
	body func(SurveyRequest, surveys.Survey) string) (out SentSurvey, ok bool, reason string, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		out, ok, reason = SentSurvey{}, false, ""
		var surveyID, schedEvent int64
		var state string
		err := tx.QueryRow(ctx, `SELECT survey_id, event_id, state FROM survey_schedules WHERE conversation_id = $1 FOR UPDATE`, convID).
			Scan(&surveyID, &schedEvent, &state)
		if errors.Is(err, pgx.ErrNoRows) {
			reason = "not scheduled"
			return nil
		} else if err != nil {
			return fmt.Errorf("survey schedule of conversation %d: %w", convID, err)
		}
		if schedEvent != eventID || state != "pending" {
			reason = "handled already"
			return nil
		}
		c, err := getConversation(ctx, tx, convID, false)
		if err != nil {
			return err
		}
		var reopened bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE conversation_id = $1 AND type = $2 AND id > $3)`,
			convID, EventReopened, eventID).Scan(&reopened); err != nil {
			return fmt.Errorf("survey schedule reopened: %w", err)
		}
		switch {
		case reopened || c.Status != parley.StatusResolved:
			reason = "reopened"
		default:
			def, err := scanSurvey(tx.QueryRow(ctx, `SELECT `+surveyColumns+` FROM surveys WHERE id = $1`, surveyID))
			if err != nil {
				return fmt.Errorf("scheduled survey %d: %w", surveyID, err)
			}
			if applies, err := surveyApplies(ctx, tx, c, def); err != nil {
				return err
			} else if !applies {
				reason = "no longer applies"
				break
			}
			if out, ok, err = createSurveyRequest(ctx, tx, c, def, body); err != nil {
				return err
			} else if !ok {
				reason = "capped"
			}
		}
		state = "sent"
		if !ok {
			state = "skipped"
		}
		if _, err := tx.Exec(ctx, `UPDATE survey_schedules SET state = $2, reason = $3, done_at = now() WHERE conversation_id = $1`,
			convID, state, reason); err != nil {
			return fmt.Errorf("survey schedule done: %w", err)
		}
		return nil
	})
	return out, ok, reason, err
}

// PendingSurveySchedules returns the delayed sends not yet handled (to
// schedule their tasks again at start-up: Redis may have lost them).
func (db *DB) PendingSurveySchedules(ctx context.Context) ([]ScheduledSurvey, error) {
	rows, err := db.pool.Query(ctx, `SELECT conversation_id, event_id, due_at FROM survey_schedules WHERE state = 'pending' ORDER BY due_at`)
	if err != nil {
		return nil, fmt.Errorf("pending survey schedules: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ScheduledSurvey, error) {
		var s ScheduledSurvey
		err := r.Scan(&s.ConversationID, &s.EventID, &s.DueAt)
		s.DueAt = s.DueAt.UTC()
		return s, err
	})
	if err != nil {
		return nil, fmt.Errorf("pending survey schedules: %w", err)
	}
	return out, nil
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

// surveyApplies reports whether def goes to conversation c: enabled, for
// its channel and queue, and for its customer's segments.
func surveyApplies(ctx context.Context, q querier, c parley.Conversation, def surveys.Survey) (bool, error) {
	if !def.Applies(c.QueueID, c.Channel) {
		return false, nil
	}
	return inAnySegment(ctx, q, c.CustomerID, def.SegmentIDs)
}

// pickSurvey returns the first of defs that applies to conversation c.
func pickSurvey(ctx context.Context, q querier, c parley.Conversation, defs []surveys.Survey) (surveys.Survey, bool, error) {
	for _, s := range defs {
		ok, err := surveyApplies(ctx, q, c, s)
		if err != nil || ok {
			return s, ok, err
		}
	}
	return surveys.Survey{}, false, nil
}

// surveyFor creates the survey request of a conversation for the first of
// defs that applies, now (the voice post-call survey).
func (db *DB) surveyFor(ctx context.Context, tx pgx.Tx, convID int64, defs []surveys.Survey,
	body func(SurveyRequest, surveys.Survey) string) (SentSurvey, bool, error) {
	c, err := getConversation(ctx, tx, convID, false)
	if err != nil {
		return SentSurvey{}, false, err
	}
	def, ok, err := pickSurvey(ctx, tx, c, defs)
	if err != nil || !ok {
		return SentSurvey{}, false, err
	}
	return createSurveyRequest(ctx, tx, c, def, body)
}

// createSurveyRequest creates the survey request of def for conversation
// c, unless the customer got a survey within def's cap_days or the
// conversation has one: ok is then false.
func createSurveyRequest(ctx context.Context, tx pgx.Tx, c parley.Conversation, def surveys.Survey,
	body func(SurveyRequest, surveys.Survey) string) (SentSurvey, bool, error) {
	var out SentSurvey
	convID := c.ID
	if def.CapDays > 0 {
		// Sends for one customer take turns, so two (a delayed one and one at
		// resolution) cannot both pass the cap.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('parley-survey-cap:' || $1::bigint, 0))`, c.CustomerID); err != nil {
			return out, false, fmt.Errorf("survey frequency cap lock: %w", err)
		}
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

// PendingWebchatSurvey returns the rating card a web-chat visitor has not
// answered yet: the survey sent for their latest conversation in the inbox
// (still resolved), unanswered and not expired. ok is false when there is
// none.
func (db *DB) PendingWebchatSurvey(ctx context.Context, customerID, inboxID int64) (r SurveyRequest, s surveys.Survey, ok bool, err error) {
	r, err = scanRequest(db.pool.QueryRow(ctx, `SELECT `+requestColumns+` FROM survey_requests r
		JOIN conversations c ON c.id = r.conversation_id AND c.status = 'resolved'
		WHERE r.customer_id = $1 AND r.inbox_id = $2 AND r.channel = 'webchat' AND r.status = 'sent' AND r.expires_at > now()
		AND r.conversation_id = (SELECT max(id) FROM conversations WHERE customer_id = $1 AND inbox_id = $2)`, customerID, inboxID))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, s, false, nil
	} else if err != nil {
		return r, s, false, fmt.Errorf("pending web-chat survey: %w", err)
	}
	s, err = db.Survey(ctx, r.SurveyID)
	return r, s, err == nil, err
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
// conversation (the next question of an SMS/WhatsApp survey, sent as the
// webhook's reply) in the given delivery state.
func (db *DB) AddSurveyMessage(ctx context.Context, r SurveyRequest, body, delivery string) (parley.Message, error) {
	var m parley.Message
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		m, err = insertMessage(ctx, tx, r.ConversationID, r.InboxID, parley.Message{
			Direction: parley.DirectionOut, Channel: r.Channel, Body: body, Delivery: delivery,
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
