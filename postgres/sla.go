package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/sla"
)

// SLA is the SLA store (sla.Store).
type SLA struct{ db *DB }

// SLA returns the SLA store.
func (db *DB) SLA() *SLA { return &SLA{db: db} }

var _ sla.Store = (*SLA)(nil)

// InTx runs fn in one transaction.
func (s *SLA) InTx(ctx context.Context, fn func(sla.Tx) error) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error { return fn(&slaTx{tx}) })
}

// Lock waits until this session holds the SLA processor's advisory lock.
func (s *SLA) Lock(ctx context.Context) (sla.Lease, error) {
	return s.db.WaitLease(ctx, "parley:sla")
}

const policyColumns = `id, name, position, enabled, match, targets, business_hours, COALESCE(calendar_id, 0), warn_percent, escalations, created_at, updated_at`

func scanPolicy(row pgx.Row) (sla.Policy, error) {
	var p sla.Policy
	err := row.Scan(&p.ID, &p.Name, &p.Position, &p.Enabled, &p.Match, &p.Targets, &p.BusinessHours, &p.CalendarID, &p.WarnPercent,
		&p.Escalations, &p.CreatedAt, &p.UpdatedAt)
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	p.Defaults()
	return p, err
}

// Policies returns the policies that are not deleted.
func (s *SLA) Policies(ctx context.Context) ([]sla.Policy, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT `+policyColumns+` FROM sla_policies WHERE deleted_at IS NULL ORDER BY position, id`)
	if err != nil {
		return nil, fmt.Errorf("sla policies: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (sla.Policy, error) { return scanPolicy(r) })
}

// Policy returns one policy.
func (s *SLA) Policy(ctx context.Context, id int64) (sla.Policy, error) {
	p, err := scanPolicy(s.db.pool.QueryRow(ctx, `SELECT `+policyColumns+` FROM sla_policies WHERE id = $1 AND deleted_at IS NULL`, id))
	if err != nil {
		return p, notFound(err, "SLA policy", id)
	}
	return p, nil
}

// CreatePolicy stores a new policy and fills its id and times.
func (s *SLA) CreatePolicy(ctx context.Context, p *sla.Policy) error {
	err := s.db.pool.QueryRow(ctx, `INSERT INTO sla_policies (name, position, enabled, match, targets, business_hours, calendar_id, warn_percent, escalations)
		VALUES ($1, $2, $3, $4, $5, $6, NULLIF($7, 0), $8, $9) RETURNING id, created_at, updated_at`,
		p.Name, p.Position, p.Enabled, p.Match, p.Targets, p.BusinessHours, p.CalendarID, p.WarnPercent, p.Escalations).Scan(&p.ID, &p.CreatedAt, &p.UpdatedAt)
	if err != nil {
		return fmt.Errorf("create sla policy: %w", err)
	}
	p.CreatedAt, p.UpdatedAt = p.CreatedAt.UTC(), p.UpdatedAt.UTC()
	return nil
}

// UpdatePolicy stores every field of p.
func (s *SLA) UpdatePolicy(ctx context.Context, p *sla.Policy) error {
	err := s.db.pool.QueryRow(ctx, `UPDATE sla_policies SET name = $2, position = $3, enabled = $4, match = $5, targets = $6, business_hours = $7,
		calendar_id = NULLIF($8, 0), warn_percent = $9, escalations = $10, updated_at = now() WHERE id = $1 AND deleted_at IS NULL RETURNING updated_at`,
		p.ID, p.Name, p.Position, p.Enabled, p.Match, p.Targets, p.BusinessHours, p.CalendarID, p.WarnPercent, p.Escalations).Scan(&p.UpdatedAt)
	if err != nil {
		return notFound(err, "SLA policy", p.ID)
	}
	p.UpdatedAt = p.UpdatedAt.UTC()
	return nil
}

// DeletePolicy retires a policy: it selects no new conversation; clocks
// that ran under it keep their link.
func (s *SLA) DeletePolicy(ctx context.Context, id int64) error {
	tag, err := s.db.pool.Exec(ctx, `UPDATE sla_policies SET deleted_at = now(), enabled = false, updated_at = now() WHERE id = $1 AND deleted_at IS NULL`, id)
	if err != nil {
		return fmt.Errorf("delete sla policy %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENOTFOUND, "SLA policy %d not found.", id)
	}
	return nil
}

// Calendars returns every calendar with its days.
func (s *SLA) Calendars(ctx context.Context) ([]sla.Calendar, error) {
	return s.calendars(ctx, 0)
}

// Calendar returns one calendar with its days.
func (s *SLA) Calendar(ctx context.Context, id int64) (sla.Calendar, error) {
	cs, err := s.calendars(ctx, id)
	if err != nil {
		return sla.Calendar{}, err
	}
	if len(cs) == 0 {
		return sla.Calendar{}, parley.Errorf(parley.ENOTFOUND, "SLA calendar %d not found.", id)
	}
	return cs[0], nil
}

func (s *SLA) calendars(ctx context.Context, id int64) ([]sla.Calendar, error) {
	rows, err := s.db.pool.Query(ctx, `SELECT id, name, timezone, weekly, workday_hours, created_at, updated_at, deleted_at FROM sla_calendars
		WHERE $1 = 0 OR (id = $1 AND deleted_at IS NULL) ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("sla calendars: %w", err)
	}
	cals, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sla.Calendar, error) {
		var c sla.Calendar
		var deleted *time.Time
		err := r.Scan(&c.ID, &c.Name, &c.TimeZone, &c.Weekly, &c.WorkdayHours, &c.CreatedAt, &c.UpdatedAt, &deleted)
		c.CreatedAt, c.UpdatedAt, c.Days, c.DeletedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC(), []sla.Day{}, nullTime(deleted)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("sla calendars: %w", err)
	}
	index := map[int64]int{}
	for i, c := range cals {
		index[c.ID] = i
	}
	rows, err = s.db.pool.Query(ctx, `SELECT calendar_id, to_char(day, 'YYYY-MM-DD'), kind, name, hours FROM sla_calendar_days
		WHERE $1 = 0 OR calendar_id = $1 ORDER BY calendar_id, day`, id)
	if err != nil {
		return nil, fmt.Errorf("sla calendar days: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cal int64
		var d sla.Day
		if err := rows.Scan(&cal, &d.Date, &d.Kind, &d.Name, &d.Hours); err != nil {
			return nil, err
		}
		if len(d.Hours) == 0 {
			d.Hours = nil
		}
		if i, ok := index[cal]; ok {
			cals[i].Days = append(cals[i].Days, d)
		}
	}
	return cals, rows.Err()
}

// CreateCalendar stores a calendar and its days.
func (s *SLA) CreateCalendar(ctx context.Context, c *sla.Calendar) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO sla_calendars (name, timezone, weekly, workday_hours) VALUES ($1, $2, $3, $4)
			RETURNING id, created_at, updated_at`, c.Name, c.TimeZone, c.Weekly, nonNilIntervals(c.WorkdayHours)).Scan(&c.ID, &c.CreatedAt, &c.UpdatedAt)
		if isUniqueViolation(err, "") {
			return parley.Invalid("A calendar with that name exists.", map[string]string{"name": "taken"})
		} else if err != nil {
			return fmt.Errorf("create sla calendar: %w", err)
		}
		c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
		return addDays(ctx, tx, c.ID, c.Days)
	})
}

// UpdateCalendar stores a calendar's fields and replaces its days.
func (t *slaTx) UpdateCalendar(ctx context.Context, c *sla.Calendar) error {
	err := t.tx.QueryRow(ctx, `UPDATE sla_calendars SET name = $2, timezone = $3, weekly = $4, workday_hours = $5, updated_at = now()
		WHERE id = $1 AND deleted_at IS NULL RETURNING updated_at`, c.ID, c.Name, c.TimeZone, c.Weekly, nonNilIntervals(c.WorkdayHours)).Scan(&c.UpdatedAt)
	if isUniqueViolation(err, "") {
		return parley.Invalid("A calendar with that name exists.", map[string]string{"name": "taken"})
	} else if err != nil {
		return notFound(err, "SLA calendar", c.ID)
	}
	if _, err := t.tx.Exec(ctx, `DELETE FROM sla_calendar_days WHERE calendar_id = $1`, c.ID); err != nil {
		return fmt.Errorf("replace calendar days: %w", err)
	}
	return addDays(ctx, t.tx, c.ID, c.Days)
}

// AddDays adds or replaces a calendar's days by date.
func (t *slaTx) AddDays(ctx context.Context, calendarID int64, days []sla.Day) error {
	if _, err := t.tx.Exec(ctx, `UPDATE sla_calendars SET updated_at = now() WHERE id = $1`, calendarID); err != nil {
		return err
	}
	return addDays(ctx, t.tx, calendarID, days)
}

// CalendarConversations returns the conversations with a running clock
// counting the calendar's hours, in id order.
func (t *slaTx) CalendarConversations(ctx context.Context, calendarID int64) ([]int64, error) {
	rows, err := t.tx.Query(ctx, `SELECT DISTINCT conversation_id FROM sla_clocks
		WHERE status = 'running' AND business_hours AND calendar_id = $1 ORDER BY conversation_id`, calendarID)
	if err != nil {
		return nil, fmt.Errorf("conversations on sla calendar %d: %w", calendarID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

func nonNilIntervals(ivs []sla.Interval) []sla.Interval {
	if ivs == nil {
		return []sla.Interval{}
	}
	return ivs
}

func addDays(ctx context.Context, tx pgx.Tx, calendarID int64, days []sla.Day) error {
	for _, d := range days {
		if _, err := tx.Exec(ctx, `INSERT INTO sla_calendar_days (calendar_id, day, kind, name, hours) VALUES ($1, $2::date, $3, $4, $5)
			ON CONFLICT (calendar_id, day) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name, hours = EXCLUDED.hours`,
			calendarID, d.Date, d.Kind, d.Name, nonNilIntervals(d.Hours)); err != nil {
			return fmt.Errorf("store calendar day %s: %w", d.Date, err)
		}
	}
	return nil
}

const clockColumns = `id, conversation_id, kind, cycle, COALESCE(policy_id, 0), target_s, business_hours, COALESCE(calendar_id, 0), warn_percent,
	status, outcome, started_at, elapsed_us, running_since, warn_at, due_at, warned_at, breached_at, stopped_at, COALESCE(previous_id, 0)`

func scanClock(row pgx.Row) (sla.Clock, error) {
	var c sla.Clock
	var kind, status string
	var us int64
	var running, warn, due, warned, breached, stopped *time.Time
	err := row.Scan(&c.ID, &c.ConversationID, &kind, &c.Cycle, &c.PolicyID, &c.TargetS, &c.BusinessHours, &c.CalendarID, &c.WarnPercent,
		&status, &c.Outcome, &c.StartedAt, &us, &running, &warn, &due, &warned, &breached, &stopped, &c.PreviousID)
	c.Kind, c.Status, c.Elapsed, c.StartedAt = sla.Kind(kind), sla.Status(status), time.Duration(us)*time.Microsecond, c.StartedAt.UTC()
	c.RunningSince, c.WarnAt, c.DueAt = nullTime(running), nullTime(warn), nullTime(due)
	c.WarnedAt, c.BreachedAt, c.StoppedAt = nullTime(warned), nullTime(breached), nullTime(stopped)
	return c, err
}

func (s *SLA) clocks(ctx context.Context, q querier, where string, args ...any) ([]sla.Clock, error) {
	rows, err := q.Query(ctx, `SELECT `+clockColumns+` FROM sla_clocks `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sla clocks: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (sla.Clock, error) { return scanClock(r) })
}

// Clock returns one clock.
func (s *SLA) Clock(ctx context.Context, id int64) (sla.Clock, error) {
	c, err := scanClock(s.db.pool.QueryRow(ctx, `SELECT `+clockColumns+` FROM sla_clocks WHERE id = $1`, id))
	if err != nil {
		return c, notFound(err, "SLA clock", id)
	}
	return c, nil
}

// TimedClocks returns running clocks with a warning or breach still to fire.
func (s *SLA) TimedClocks(ctx context.Context) ([]sla.Clock, error) {
	return s.clocks(ctx, s.db.pool, `WHERE status = 'running' AND ((warn_at IS NOT NULL AND warned_at IS NULL) OR breached_at IS NULL) ORDER BY due_at`)
}

// AtRisk returns running clocks of open conversations that warned or
// breached, soonest due first.
func (s *SLA) AtRisk(ctx context.Context, limit int) ([]sla.Clock, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	return s.clocks(ctx, s.db.pool, `WHERE status = 'running' AND (warned_at IS NOT NULL OR breached_at IS NOT NULL) ORDER BY due_at LIMIT $1`, limit)
}

type slaTx struct{ tx pgx.Tx }

// eventFacts selects events with the facts the clocks need: the
// conversation and its customer now, and the message of message.created.
const eventFacts = `SELECT e.id, e.type, COALESCE(e.conversation_id, 0), COALESCE(e.agent_id, 0), e.created_at,
	COALESCE(e.payload->>'routed', 'true') <> 'false', COALESCE(e.payload->>'status', ''),
	COALESCE(c.queue_id, 0), COALESCE(c.channel, ''), COALESCE(c.priority, 0), COALESCE(c.created_at, e.created_at),
	COALESCE(cu.attributes->>'tier', ''), COALESCE(cu.tags, '{}'), COALESCE(cu.lifecycle_stage, ''),
	COALESCE(m.direction, ''), COALESCE(m.private, false), COALESCE(m.sender_type, ''), COALESCE(m.sender_id, 0)`

const eventJoins = ` FROM events e
	LEFT JOIN conversations c ON c.id = e.conversation_id
	LEFT JOIN customers cu ON cu.id = c.customer_id
	LEFT JOIN messages m ON e.type = 'message.created' AND m.id = (e.payload->>'message_id')::bigint `

func scanInput(rows pgx.Rows, extra ...any) (sla.Input, error) {
	var in sla.Input
	var ch, dir string
	dest := []any{&in.EventID, &in.Type, &in.ConversationID, &in.AgentID, &in.At, &in.Routed, &in.Status,
		&in.Subject.QueueID, &ch, &in.Subject.Priority, &in.CreatedAt,
		&in.Subject.Tier, &in.Subject.Segments, &in.Subject.Stage, &dir, &in.Private, &in.SenderType, &in.SenderID}
	err := rows.Scan(append(dest, extra...)...)
	in.Subject.Channel, in.Direction = parley.Channel(ch), parley.Direction(dir)
	in.At, in.CreatedAt = in.At.UTC(), in.CreatedAt.UTC()
	return in, err
}

// PendingEvents returns events after the cursor, stopping before a young
// id gap (a transaction that may still commit).
func (t *slaTx) PendingEvents(ctx context.Context, limit int, gapWait time.Duration) ([]sla.Input, error) {
	var cursor int64
	if err := t.tx.QueryRow(ctx, `SELECT event_cursor FROM sla_state FOR UPDATE`).Scan(&cursor); err != nil {
		return nil, fmt.Errorf("sla cursor: %w", err)
	}
	rows, err := t.tx.Query(ctx, eventFacts+`, clock_timestamp() - e.created_at > $3 * interval '1 second'`+eventJoins+
		`WHERE e.id > $1 ORDER BY e.id LIMIT $2`, cursor, limit, gapWait.Seconds())
	if err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	defer rows.Close()
	var out []sla.Input
	prev := cursor
	for rows.Next() {
		var old bool
		in, err := scanInput(rows, &old)
		if err != nil {
			return nil, err
		}
		if in.EventID != prev+1 && !old {
			break
		}
		out = append(out, in)
		prev = in.EventID
	}
	return out, rows.Err()
}

func (t *slaTx) SetCursor(ctx context.Context, id int64) error {
	if _, err := t.tx.Exec(ctx, `UPDATE sla_state SET event_cursor = $1, updated_at = now()`, id); err != nil {
		return fmt.Errorf("move sla cursor: %w", err)
	}
	return nil
}

// ConversationEvents returns a conversation's committed events after an id.
func (t *slaTx) ConversationEvents(ctx context.Context, convID, after int64) ([]sla.Input, error) {
	rows, err := t.tx.Query(ctx, eventFacts+eventJoins+`WHERE e.conversation_id = $1 AND e.id > $2 ORDER BY e.id`, convID, after)
	if err != nil {
		return nil, fmt.Errorf("conversation events: %w", err)
	}
	defer rows.Close()
	var out []sla.Input
	for rows.Next() {
		in, err := scanInput(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// Track locks and loads a conversation's SLA state.
func (t *slaTx) Track(ctx context.Context, convID int64) (*sla.Track, error) {
	if _, err := t.tx.Exec(ctx, `INSERT INTO sla_conversations (conversation_id) VALUES ($1) ON CONFLICT DO NOTHING`, convID); err != nil {
		return nil, fmt.Errorf("sla track of conversation %d: %w", convID, err)
	}
	tr := &sla.Track{ConversationID: convID}
	var unanswered, opened, resolvedAt *time.Time
	var status string
	err := t.tx.QueryRow(ctx, `SELECT COALESCE(s.policy_id, 0), s.started, s.first_replied, s.answered, s.resolved, s.waiting,
			s.unanswered_since, s.opened_at, s.last_event_id, COALESCE(c.agent_id, 0), c.status, c.resolved_at
		FROM sla_conversations s JOIN conversations c ON c.id = s.conversation_id WHERE s.conversation_id = $1 FOR UPDATE OF s`, convID).Scan(
		&tr.PolicyID, &tr.Started, &tr.FirstReplied, &tr.Answered, &tr.Resolved, &tr.Waiting, &unanswered, &opened, &tr.LastEventID,
		&tr.AgentID, &status, &resolvedAt)
	if err != nil {
		return nil, notFound(err, "conversation", convID)
	}
	tr.UnansweredSince, tr.OpenedAt, tr.ResolvedAt = nullTime(unanswered), nullTime(opened), nullTime(resolvedAt)
	tr.ConvStatus = parley.ConversationStatus(status)
	clocks, err := (&SLA{}).clocks(ctx, t.tx, `WHERE conversation_id = $1 ORDER BY id`, convID)
	if err != nil {
		return nil, err
	}
	for i := range clocks {
		tr.Clocks = append(tr.Clocks, &clocks[i])
	}
	return tr, nil
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// SaveTrack writes the track and its new and changed clocks, in order (a
// replaced clock is stopped before its successor is inserted).
func (t *slaTx) SaveTrack(ctx context.Context, tr *sla.Track) error {
	if _, err := t.tx.Exec(ctx, `UPDATE sla_conversations SET policy_id = NULLIF($2, 0), started = $3, first_replied = $4, answered = $5,
		resolved = $6, waiting = $7, unanswered_since = $8, opened_at = $9, last_event_id = $10, updated_at = now() WHERE conversation_id = $1`,
		tr.ConversationID, tr.PolicyID, tr.Started, tr.FirstReplied, tr.Answered, tr.Resolved, tr.Waiting,
		optTime(tr.UnansweredSince), optTime(tr.OpenedAt), tr.LastEventID); err != nil {
		return fmt.Errorf("save sla track %d: %w", tr.ConversationID, err)
	}
	for _, c := range tr.Clocks {
		if c.ID != 0 && !c.Dirty {
			continue
		}
		if c.Previous != nil {
			c.PreviousID = c.Previous.ID
		}
		args := []any{c.ConversationID, string(c.Kind), c.Cycle, c.PolicyID, c.TargetS, c.BusinessHours, c.CalendarID, c.WarnPercent,
			string(c.Status), c.Outcome, c.StartedAt, c.Elapsed.Microseconds(), optTime(c.RunningSince), optTime(c.WarnAt), optTime(c.DueAt),
			optTime(c.WarnedAt), optTime(c.BreachedAt), optTime(c.StoppedAt), c.PreviousID}
		if c.ID == 0 {
			err := t.tx.QueryRow(ctx, `INSERT INTO sla_clocks (conversation_id, kind, cycle, policy_id, target_s, business_hours, calendar_id,
				warn_percent, status, outcome, started_at, elapsed_us, running_since, warn_at, due_at, warned_at, breached_at, stopped_at, previous_id)
				VALUES ($1, $2, $3, NULLIF($4, 0), $5, $6, NULLIF($7, 0), $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, NULLIF($19, 0))
				RETURNING id`, args...).Scan(&c.ID)
			if err != nil {
				return fmt.Errorf("insert sla clock: %w", err)
			}
		} else if _, err := t.tx.Exec(ctx, `UPDATE sla_clocks SET status = $2, outcome = $3, elapsed_us = $4, running_since = $5,
				warn_at = $6, due_at = $7, warned_at = $8, breached_at = $9, stopped_at = $10, updated_at = now() WHERE id = $1`,
			c.ID, string(c.Status), c.Outcome, c.Elapsed.Microseconds(), optTime(c.RunningSince), optTime(c.WarnAt), optTime(c.DueAt),
			optTime(c.WarnedAt), optTime(c.BreachedAt), optTime(c.StoppedAt)); err != nil {
			return fmt.Errorf("update sla clock %d: %w", c.ID, err)
		}
		c.Dirty = false
	}
	tr.Dirty = false
	return nil
}

// WriteEvent appends to the outbox in the transaction.
func (t *slaTx) WriteEvent(ctx context.Context, typ string, convID, agentID int64, payload map[string]any) error {
	return writeEvent(ctx, t.tx, typ, convID, agentID, 0, payload)
}

// SetPriorityAtLeast raises an open conversation's priority to p and
// records conversation.priority_changed; it reports whether it changed.
func (s *SLA) SetPriorityAtLeast(ctx context.Context, convID int64, p int, reason string) (parley.Conversation, bool, error) {
	var c parley.Conversation
	var changed bool
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := getConversation(ctx, tx, convID, true)
		if err != nil {
			return err
		}
		c = cur
		if !cur.Status.Open() || cur.Priority >= p {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET priority = $2, updated_at = now() WHERE id = $1`, convID, p); err != nil {
			return fmt.Errorf("raise priority of conversation %d: %w", convID, err)
		}
		if err := writeEvent(ctx, tx, "conversation.priority_changed", convID, cur.AgentID, cur.CustomerID,
			map[string]any{"from": cur.Priority, "to": p, "reason": reason}); err != nil {
			return err
		}
		changed = true
		c, err = getConversation(ctx, tx, convID, false)
		return err
	})
	return c, changed, err
}

// MoveQueued moves a conversation waiting in its queue to another queue
// (keeping its enqueue time) and records conversation.transferred; it
// reports whether it moved.
func (s *SLA) MoveQueued(ctx context.Context, convID, queueID int64, reason string) (parley.Conversation, bool, error) {
	var c parley.Conversation
	var moved bool
	err := s.db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := getConversation(ctx, tx, convID, true)
		if err != nil {
			return err
		}
		c = cur
		if cur.Status != parley.StatusQueued || cur.QueueID == queueID {
			return nil
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM queues WHERE id = $1)`, queueID).Scan(&exists); err != nil {
			return err
		} else if !exists {
			return parley.Errorf(parley.ENOTFOUND, "queue %d not found.", queueID)
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET queue_id = $2, updated_at = now() WHERE id = $1`, convID, queueID); err != nil {
			return fmt.Errorf("move conversation %d: %w", convID, err)
		}
		if err := writeEvent(ctx, tx, "conversation.transferred", convID, 0, cur.CustomerID,
			map[string]any{"by": 0, "from_queue": cur.QueueID, "to_queue": queueID, "to_agent": 0, "reason": reason}); err != nil {
			return err
		}
		moved = true
		c, err = getConversation(ctx, tx, convID, false)
		return err
	})
	return c, moved, err
}
