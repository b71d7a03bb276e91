package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/feedback"
)

// FeedbackSettings returns the admin settings merged over the defaults.
func (db *DB) FeedbackSettings(ctx context.Context) (feedback.Settings, error) {
	return feedbackSettings(ctx, db.pool)
}

func feedbackSettings(ctx context.Context, q querier) (feedback.Settings, error) {
	s := feedback.DefaultSettings()
	var raw []byte
	if err := q.QueryRow(ctx, `SELECT settings FROM feedback_state`).Scan(&raw); err != nil {
		return s, fmt.Errorf("feedback settings: %w", err)
	}
	if len(raw) > 2 {
		// Stored settings are whole: lists replace the defaults.
		var stored feedback.Settings
		if err := json.Unmarshal(raw, &stored); err != nil {
			return s, fmt.Errorf("decode feedback settings: %w", err)
		}
		return stored, nil
	}
	return s, nil
}

// SaveFeedbackSettings stores validated settings.
func (db *DB) SaveFeedbackSettings(ctx context.Context, s feedback.Settings, by int64) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if _, err := db.pool.Exec(ctx, `UPDATE feedback_state SET settings = $1, settings_by = NULLIF($2, 0), updated_at = now()`, raw, by); err != nil {
		return fmt.Errorf("save feedback settings: %w", err)
	}
	return nil
}

const feedbackColumns = `f.id, f.kind, f.category, f.summary, f.status, f.source, f.keyword, COALESCE(f.owner_id, 0), COALESCE(o.name, ''),
	f.customer_id, COALESCE(cu.name, ''), COALESCE(f.conversation_id, 0), COALESCE(f.survey_request_id, 0), f.survey_question,
	COALESCE(a.kind, ''), a.score, COALESCE(f.message_id, 0), COALESCE(f.created_by, 0), f.due_at,
	COALESCE(f.followup_queue_id, 0), COALESCE(f.followup_conversation_id, 0), f.resolution, f.created_at, f.updated_at, f.resolved_at`

const feedbackFrom = ` FROM feedback_items f
	LEFT JOIN agents o ON o.id = f.owner_id
	LEFT JOIN customers cu ON cu.id = f.customer_id
	LEFT JOIN survey_answers a ON a.request_id = f.survey_request_id AND a.question = f.survey_question`

func scanFeedback(row pgx.Row, now time.Time) (feedback.Item, error) {
	var it feedback.Item
	var res *time.Time
	err := row.Scan(&it.ID, &it.Kind, &it.Category, &it.Summary, &it.Status, &it.Source, &it.Keyword, &it.OwnerID, &it.OwnerName,
		&it.CustomerID, &it.CustomerName, &it.ConversationID, &it.SurveyRequestID, &it.SurveyQuestion,
		&it.SurveyKind, &it.SurveyScore, &it.MessageID, &it.CreatedBy, &it.DueAt,
		&it.FollowUpQueueID, &it.FollowUpConversationID, &it.Resolution, &it.CreatedAt, &it.UpdatedAt, &res)
	it.ResolvedAt = nullTime(res)
	it.DueAt, it.CreatedAt, it.UpdatedAt = it.DueAt.UTC(), it.CreatedAt.UTC(), it.UpdatedAt.UTC()
	it.Overdue = feedback.Overdue(it.Status, it.DueAt, now)
	return it, err
}

func getFeedback(ctx context.Context, q querier, id int64, now time.Time, lock bool) (feedback.Item, error) {
	sql := `SELECT ` + feedbackColumns + feedbackFrom + ` WHERE f.id = $1`
	if lock {
		sql += ` FOR UPDATE OF f`
	}
	it, err := scanFeedback(q.QueryRow(ctx, sql, id), now)
	if err != nil {
		return it, notFound(err, "feedback item", id)
	}
	return it, nil
}

// FeedbackItem returns one item.
func (db *DB) FeedbackItem(ctx context.Context, id int64) (feedback.Item, error) {
	return getFeedback(ctx, db.pool, id, db.now(), false)
}

// CreateFeedbackItem opens an item: its customer comes from its
// conversation when one is given, its due time from the settings' SLA
// hours for its kind. A rule item whose dedupe key exists already is not
// opened again (created false). It writes a feedback.opened event.
func (db *DB) CreateFeedbackItem(ctx context.Context, n feedback.New, s feedback.Settings) (it feedback.Item, created bool, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		it, created, err = createFeedback(ctx, tx, n, s, db.now())
		return err
	})
	return it, created, err
}

func createFeedback(ctx context.Context, tx pgx.Tx, n feedback.New, s feedback.Settings, now time.Time) (feedback.Item, bool, error) {
	if n.ConversationID != 0 {
		var cust int64
		if err := tx.QueryRow(ctx, `SELECT customer_id FROM conversations WHERE id = $1`, n.ConversationID).Scan(&cust); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return feedback.Item{}, false, parley.Invalid("Invalid feedback item.", map[string]string{"conversation_id": "no such conversation"})
			}
			return feedback.Item{}, false, fmt.Errorf("feedback conversation: %w", err)
		}
		if n.CustomerID != 0 && n.CustomerID != cust {
			return feedback.Item{}, false, parley.Invalid("Invalid feedback item.", map[string]string{"customer_id": "not the conversation's customer"})
		}
		n.CustomerID = cust
	}
	var dedupe *string
	if n.Dedupe != "" {
		dedupe = &n.Dedupe
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO feedback_items (kind, category, summary, source, keyword, owner_id, customer_id, conversation_id,
			survey_request_id, survey_question, message_id, created_by, due_at, followup_queue_id, dedupe)
		VALUES ($1, $2, $3, $4, $5, NULLIF($6, 0), $7, NULLIF($8, 0), NULLIF($9, 0), $10, NULLIF($11, 0), NULLIF($12, 0), $13, NULLIF($14, 0), $15)
		ON CONFLICT (dedupe) DO NOTHING RETURNING id`,
		n.Kind, n.Category, n.Summary, n.Source, n.Keyword, n.OwnerID, n.CustomerID, n.ConversationID,
		n.SurveyRequestID, n.SurveyQuestion, n.MessageID, n.CreatedBy, s.Due(n.Kind, now), n.FollowUpQueueID, dedupe).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return feedback.Item{}, false, nil
	}
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) && pe.SQLState() == "23503" {
		return feedback.Item{}, false, parley.Invalid("Invalid feedback item.", map[string]string{"customer_id": "no such customer, owner or queue"})
	} else if err != nil {
		return feedback.Item{}, false, fmt.Errorf("create feedback item: %w", err)
	}
	if err := writeEvent(ctx, tx, "feedback.opened", n.ConversationID, n.OwnerID, n.CustomerID,
		map[string]any{"feedback_id": strconv.FormatInt(id, 10), "kind": n.Kind, "category": n.Category, "source": n.Source}); err != nil {
		return feedback.Item{}, false, err
	}
	it, err := getFeedback(ctx, tx, id, now, false)
	return it, true, err
}

// FeedbackItemFilter selects items; zero fields match all.
type FeedbackItemFilter struct {
	Status         string
	Kind           string
	Category       string
	OwnerID        int64
	CustomerID     int64
	ConversationID int64
	Source         string
	// Overdue keeps unresolved items past their due time.
	Overdue bool
	// Before is the keyset cursor: only ids below it.
	Before int64
	Limit  int
}

// FeedbackItems lists items newest first.
func (db *DB) FeedbackItems(ctx context.Context, f FeedbackItemFilter) ([]feedback.Item, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	now := db.now()
	rows, err := db.pool.Query(ctx, `SELECT `+feedbackColumns+feedbackFrom+`
		WHERE ($1 = '' OR f.status = $1) AND ($2 = '' OR f.kind = $2) AND ($3 = '' OR f.category = $3) AND ($4 = 0 OR f.owner_id = $4)
		AND ($5 = 0 OR f.customer_id = $5) AND ($6 = 0 OR f.conversation_id = $6) AND ($7 = '' OR f.source = $7)
		AND (NOT $8 OR (f.status <> 'resolved' AND f.due_at <= $9)) AND ($10 = 0 OR f.id < $10)
		ORDER BY f.id DESC LIMIT $11`,
		f.Status, f.Kind, f.Category, f.OwnerID, f.CustomerID, f.ConversationID, f.Source, f.Overdue, now, f.Before, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list feedback items: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (feedback.Item, error) { return scanFeedback(r, now) })
}

// FeedbackPatch changes an item; nil fields stay.
type FeedbackPatch struct {
	Status     *string
	OwnerID    *int64 // 0 unassigns
	Category   *string
	Summary    *string
	Resolution *string
}

// UpdateFeedbackItem applies a patch: status moves only along
// feedback.CanMove (ECONFLICT otherwise), the owner must be an agent. It
// writes a feedback.updated event with what changed.
func (db *DB) UpdateFeedbackItem(ctx context.Context, id int64, p FeedbackPatch, by int64, s feedback.Settings) (feedback.Item, error) {
	var out feedback.Item
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		cur, err := getFeedback(ctx, tx, id, now, true)
		if err != nil {
			return err
		}
		changed := map[string]any{"feedback_id": strconv.FormatInt(id, 10), "by": strconv.FormatInt(by, 10)}
		next := cur
		if p.Status != nil && *p.Status != cur.Status {
			if *p.Status != feedback.StatusOpen && *p.Status != feedback.StatusInProgress && *p.Status != feedback.StatusResolved {
				return parley.Invalid("Invalid feedback update.", map[string]string{"status": "must be open, in_progress or resolved"})
			}
			if !feedback.CanMove(cur.Status, *p.Status) {
				return parley.Errorf(parley.ECONFLICT, "A feedback item cannot go from %s to %s (open → in_progress → resolved).", cur.Status, *p.Status)
			}
			changed["status"], changed["from"] = *p.Status, cur.Status
			next.Status = *p.Status
		}
		if p.OwnerID != nil && *p.OwnerID != cur.OwnerID {
			if *p.OwnerID != 0 {
				var ok bool
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM agents WHERE id = $1 AND deleted_at IS NULL)`, *p.OwnerID).Scan(&ok); err != nil {
					return err
				} else if !ok {
					return parley.Invalid("Invalid feedback update.", map[string]string{"owner_id": "no such agent"})
				}
			}
			changed["owner_id"] = strconv.FormatInt(*p.OwnerID, 10)
			next.OwnerID = *p.OwnerID
		}
		if p.Category != nil && *p.Category != cur.Category {
			if !containsString(s.Categories, *p.Category) {
				return parley.Invalid("Invalid feedback update.", map[string]string{"category": "must be one of: " + strings.Join(s.Categories, ", ")})
			}
			changed["category"] = *p.Category
			next.Category = *p.Category
		}
		for name, v := range map[string]*string{"summary": p.Summary, "resolution": p.Resolution} {
			if v != nil && (utf8.RuneCountInString(*v) > feedback.MaxSummary || !utf8.ValidString(*v)) {
				return parley.Invalid("Invalid feedback update.", map[string]string{name: fmt.Sprintf("at most %d characters", feedback.MaxSummary)})
			}
		}
		if p.Summary != nil {
			next.Summary = *p.Summary
		}
		if p.Resolution != nil {
			next.Resolution = *p.Resolution
		}
		if _, err := tx.Exec(ctx, `UPDATE feedback_items SET status = $2, owner_id = NULLIF($3, 0), category = $4, summary = $5, resolution = $6,
			resolved_at = CASE WHEN $2 = 'resolved' THEN COALESCE(resolved_at, now()) END, updated_at = now() WHERE id = $1`,
			id, next.Status, next.OwnerID, next.Category, next.Summary, next.Resolution); err != nil {
			return fmt.Errorf("update feedback item %d: %w", id, err)
		}
		if err := writeEvent(ctx, tx, "feedback.updated", cur.ConversationID, next.OwnerID, cur.CustomerID, changed); err != nil {
			return err
		}
		out, err = getFeedback(ctx, tx, id, now, false)
		return err
	})
	return out, err
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// ApplyFeedbackRules is one step of the rule runner: under the lock of its
// cursor row in the events outbox, it opens a complaint for each detractor
// survey answer (survey.answered) and for each customer message with a
// complaint keyword (message.created, inbound, public), once per survey
// request and once per conversation. It returns the items it opened.
func (db *DB) ApplyFeedbackRules(ctx context.Context, limit int, gapWait time.Duration) (out []feedback.Item, processed int, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		out, processed = nil, 0
		evs, err := followOutbox(ctx, tx, "feedback_state", limit, gapWait)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		var s *feedback.Settings
		settings := func() (feedback.Settings, error) {
			if s == nil {
				v, err := feedbackSettings(ctx, tx)
				if err != nil {
					return v, err
				}
				s = &v
			}
			return *s, nil
		}
		for _, e := range evs {
			var n feedback.New
			var ok bool
			switch {
			case e.typ == "survey.answered" && e.conv != 0:
				st, err := settings()
				if err != nil {
					return err
				}
				if n, ok, err = detractorItem(ctx, tx, e.conv, e.payload, st); err != nil {
					return err
				}
			case e.typ == "message.created" && e.conv != 0 && e.payload["direction"] == "in" && e.payload["private"] != true:
				st, err := settings()
				if err != nil {
					return err
				}
				if n, ok, err = keywordItem(ctx, tx, e.conv, e.payload, st); err != nil {
					return err
				}
			}
			if !ok {
				continue
			}
			st, _ := settings()
			if q, err := strconv.ParseInt(st.FollowUpQueues[n.Kind], 10, 64); err == nil {
				n.FollowUpQueueID = q
			}
			it, created, err := createFeedback(ctx, tx, n, st, db.now())
			if err != nil {
				return err
			}
			if created {
				out = append(out, it)
			}
		}
		processed = len(evs)
		return advanceOutbox(ctx, tx, "feedback_state", evs)
	})
	return out, processed, err
}

func detractorItem(ctx context.Context, tx pgx.Tx, convID int64, payload map[string]any, s feedback.Settings) (feedback.New, bool, error) {
	kind, _ := payload["kind"].(string)
	score, isNum := payload["score"].(float64)
	if !isNum || !s.Detractor.Detractor(kind, int(score)) {
		return feedback.New{}, false, nil
	}
	var n feedback.New
	var agent int64
	var comments []string
	err := tx.QueryRow(ctx, `SELECT r.id, r.customer_id, COALESCE(r.agent_id, 0),
			COALESCE((SELECT question FROM survey_answers WHERE request_id = r.id AND kind = $2 AND score = $3 ORDER BY answered_at, question LIMIT 1), ''),
			ARRAY(SELECT comment FROM survey_answers WHERE request_id = r.id AND comment <> '' ORDER BY answered_at, question)
		FROM survey_requests r WHERE r.conversation_id = $1`, convID, kind, int(score)).
		Scan(&n.SurveyRequestID, &n.CustomerID, &agent, &n.SurveyQuestion, &comments)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, false, nil
	} else if err != nil {
		return n, false, fmt.Errorf("detractor survey request: %w", err)
	}
	n.Kind, n.Category, n.Source, n.ConversationID = feedback.KindComplaint, s.Detractor.Category, feedback.SourceSurvey, convID
	n.Summary = fmt.Sprintf("%s %d", strings.ToUpper(kind), int(score))
	if len(comments) > 0 {
		n.Summary += ": " + strings.Join(comments, " / ")
	}
	n.Summary = truncateRunes(n.Summary, feedback.MaxSummary)
	if s.OwnerIsAgent {
		n.OwnerID = agent
	}
	n.Dedupe = "survey:" + strconv.FormatInt(n.SurveyRequestID, 10)
	return n, true, nil
}

func keywordItem(ctx context.Context, tx pgx.Tx, convID int64, payload map[string]any, s feedback.Settings) (feedback.New, bool, error) {
	if !s.Keywords.Enabled {
		return feedback.New{}, false, nil
	}
	msgID, _ := payload["message_id"].(float64)
	var n feedback.New
	var body string
	var agent int64
	err := tx.QueryRow(ctx, `SELECT m.body, c.customer_id, COALESCE(c.agent_id, 0) FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.id = $1 AND m.sender_type = 'customer'`, int64(msgID)).Scan(&body, &n.CustomerID, &agent)
	if errors.Is(err, pgx.ErrNoRows) {
		return n, false, nil
	} else if err != nil {
		return n, false, fmt.Errorf("keyword message: %w", err)
	}
	w := s.Keywords.Match(body)
	if w == "" {
		return n, false, nil
	}
	n.Kind, n.Category, n.Source, n.ConversationID, n.Keyword = feedback.KindComplaint, s.Keywords.Category, feedback.SourceKeyword, convID, w
	n.MessageID = int64(msgID)
	n.Summary = truncateRunes(body, feedback.MaxSummary)
	if s.OwnerIsAgent {
		n.OwnerID = agent
	}
	n.Dedupe = "keyword:" + strconv.FormatInt(convID, 10)
	return n, true, nil
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// PendingFollowUps returns unresolved items whose follow-up task is still
// to open, oldest first.
func (db *DB) PendingFollowUps(ctx context.Context, limit int) ([]int64, error) {
	rows, err := db.pool.Query(ctx, `SELECT id FROM feedback_items
		WHERE followup_queue_id IS NOT NULL AND followup_conversation_id IS NULL AND status <> 'resolved' ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("pending follow-ups: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// followUpInbox returns the inbox, channel and inbox queue of the
// follow-up task of a customer's item: those of its conversation convID,
// or of the customer's latest conversation (convID 0). ok is false when
// the customer has none.
func followUpInbox(ctx context.Context, q querier, customerID, convID int64) (inboxID int64, channel string, queueID int64, ok bool, err error) {
	err = q.QueryRow(ctx, `SELECT i.id, i.channel, i.queue_id FROM conversations c JOIN inboxes i ON i.id = c.inbox_id
		WHERE CASE WHEN $2 = 0 THEN c.customer_id = $1 ELSE c.id = $2 END ORDER BY c.id DESC LIMIT 1`, customerID, convID).Scan(&inboxID, &channel, &queueID)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, "", 0, false, nil
	} else if err != nil {
		return 0, "", 0, false, fmt.Errorf("follow-up inbox: %w", err)
	}
	return inboxID, channel, queueID, true, nil
}

// FollowUpChannel returns the channel a follow-up task of a customer's
// item would use (see OpenFollowUp); ok is false when there is none.
func (db *DB) FollowUpChannel(ctx context.Context, customerID, convID int64) (parley.Channel, bool, error) {
	_, ch, _, ok, err := followUpInbox(ctx, db.pool, customerID, convID)
	return parley.Channel(ch), ok, err
}

// OpenFollowUp opens the follow-up task of an item: a new conversation
// with its customer in the inbox of the item's conversation (or of the
// customer's latest one), queued in the item's follow-up queue, with a
// private note saying what to do. When the item's queue does not take
// the channel's media, the inbox's own queue does (and becomes the item's
// follow-up queue). It returns opened false when there is
// nothing to do, or when the customer has an open conversation in that
// inbox (one open conversation per customer and inbox): the runner tries
// again later. The conversation is queued in PostgreSQL; the caller
// enqueues it for routing.
func (db *DB) OpenFollowUp(ctx context.Context, itemID int64) (conv parley.Conversation, opened bool, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		now := db.now()
		it, err := getFeedback(ctx, tx, itemID, now, true)
		if err != nil {
			return err
		}
		if it.FollowUpQueueID == 0 || it.FollowUpConversationID != 0 || it.Status == feedback.StatusResolved {
			return nil
		}
		inboxID, channel, inboxQueue, ok, err := followUpInbox(ctx, tx, it.CustomerID, it.ConversationID)
		if err != nil {
			return err
		}
		if !ok {
			return parley.Errorf(parley.EINVALID, "Customer %d has no conversation to follow up on.", it.CustomerID)
		}
		// A queue that does not take the channel's media (the settings'
		// queue for the kind, say voice for a chat complaint) would hold the
		// task where no agent slot fits it: the inbox's own queue takes it.
		var media []string
		if err := tx.QueryRow(ctx, `SELECT media FROM queues WHERE id = $1`, it.FollowUpQueueID).Scan(&media); err != nil {
			return fmt.Errorf("follow-up queue %d: %w", it.FollowUpQueueID, err)
		}
		if !slices.Contains(media, string(parley.Channel(channel).Media())) {
			it.FollowUpQueueID = inboxQueue
			if _, err := tx.Exec(ctx, `UPDATE feedback_items SET followup_queue_id = $2 WHERE id = $1`, it.ID, inboxQueue); err != nil {
				return fmt.Errorf("follow-up queue of item %d: %w", it.ID, err)
			}
		}
		var busy bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE customer_id = $1 AND inbox_id = $2
			AND status IN ('queued', 'assigned') AND channel <> 'email')`, it.CustomerID, inboxID).Scan(&busy); err != nil {
			return fmt.Errorf("open conversation check: %w", err)
		}
		if busy {
			return nil
		}
		fid := strconv.FormatInt(it.ID, 10)
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO conversations (customer_id, inbox_id, queue_id, channel, status, topic, priority, subject, meta, enqueued_at)
			VALUES ($1, $2, $3, $4, 'queued', 'follow-up', 0, $5, $6, now()) RETURNING id`,
			it.CustomerID, inboxID, it.FollowUpQueueID, channel, feedback.FollowUpSubject(it), map[string]string{"feedback_id": fid}).Scan(&id); err != nil {
			return fmt.Errorf("open follow-up conversation: %w", err)
		}
		if err := writeEvent(ctx, tx, "conversation.created", id, 0, it.CustomerID,
			map[string]any{"channel": channel, "topic": "follow-up", "routed": true, "feedback_id": fid}); err != nil {
			return err
		}
		if _, err := insertMessage(ctx, tx, id, inboxID, parley.Message{
			Direction: parley.DirectionOut, Private: true, Channel: parley.Channel(channel),
			Sender: parley.MessageSender{Type: parley.SenderSystem, Name: "Parley"}, Body: feedback.FollowUpNote(it),
		}, ""); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE feedback_items SET followup_conversation_id = $2, updated_at = now() WHERE id = $1`, it.ID, id); err != nil {
			return fmt.Errorf("link follow-up: %w", err)
		}
		if conv, err = getConversation(ctx, tx, id, false); err != nil {
			return err
		}
		opened = true
		return nil
	})
	if isUniqueViolation(err, "conversations_one_open") {
		return conv, false, nil // the customer wrote meanwhile: try later
	}
	return conv, opened, err
}

// FeedbackCategoryCount is one row of the feedback report's categories.
type FeedbackCategoryCount struct {
	Category string `json:"category"`
	Kind     string `json:"kind"`
	Count    int    `json:"count"`
	Open     int    `json:"open"`
	Overdue  int    `json:"overdue"`
}

// FeedbackWeek is one week of the feedback report's trend.
type FeedbackWeek struct {
	Week       string `json:"week"` // Monday, YYYY-MM-DD (UTC)
	Complaint  int    `json:"complaint"`
	Suggestion int    `json:"suggestion"`
	Praise     int    `json:"praise"`
	Total      int    `json:"total"`
}

// FeedbackItemsReport counts items opened in [from, to) (zero: open
// ended) by category and kind, most frequent first, and by ISO week.
func (db *DB) FeedbackItemsReport(ctx context.Context, from, to time.Time) ([]FeedbackCategoryCount, []FeedbackWeek, error) {
	var f, t *time.Time
	if !from.IsZero() {
		f = &from
	}
	if !to.IsZero() {
		t = &to
	}
	where := `($1::timestamptz IS NULL OR created_at >= $1) AND ($2::timestamptz IS NULL OR created_at < $2)`
	rows, err := db.pool.Query(ctx, `SELECT category, kind, count(*), count(*) FILTER (WHERE status <> 'resolved'),
			count(*) FILTER (WHERE status <> 'resolved' AND due_at <= $3)
		FROM feedback_items WHERE `+where+` GROUP BY category, kind ORDER BY count(*) DESC, category, kind`, f, t, db.now())
	if err != nil {
		return nil, nil, fmt.Errorf("feedback categories: %w", err)
	}
	cats, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FeedbackCategoryCount, error) {
		var c FeedbackCategoryCount
		err := r.Scan(&c.Category, &c.Kind, &c.Count, &c.Open, &c.Overdue)
		return c, err
	})
	if err != nil {
		return nil, nil, err
	}
	rows, err = db.pool.Query(ctx, `SELECT to_char(date_trunc('week', created_at AT TIME ZONE 'UTC'), 'YYYY-MM-DD'),
			count(*) FILTER (WHERE kind = 'complaint'), count(*) FILTER (WHERE kind = 'suggestion'), count(*) FILTER (WHERE kind = 'praise'), count(*)
		FROM feedback_items WHERE `+where+` GROUP BY 1 ORDER BY 1`, f, t)
	if err != nil {
		return nil, nil, fmt.Errorf("feedback weeks: %w", err)
	}
	weeks, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FeedbackWeek, error) {
		var w FeedbackWeek
		err := r.Scan(&w.Week, &w.Complaint, &w.Suggestion, &w.Praise, &w.Total)
		return w, err
	})
	if cats == nil {
		cats = []FeedbackCategoryCount{}
	}
	if weeks == nil {
		weeks = []FeedbackWeek{}
	}
	return cats, weeks, err
}
