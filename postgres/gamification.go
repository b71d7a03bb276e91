package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/gamification"
)

// Gamification is the gamification store (gamification.Store).
type Gamification struct{ db *DB }

// Gamification returns the gamification store.
func (db *DB) Gamification() *Gamification { return &Gamification{db: db} }

var _ gamification.Store = (*Gamification)(nil)

// InTx runs fn in one transaction.
func (g *Gamification) InTx(ctx context.Context, fn func(gamification.Tx) error) error {
	return g.db.inTx(ctx, func(tx pgx.Tx) error { return fn(&gamTx{tx}) })
}

// Lock waits until this session holds the processor's advisory lock. The
// lock lives on one pooled connection, held until Release.
func (g *Gamification) Lock(ctx context.Context) (gamification.Lease, error) {
	return g.db.WaitLease(ctx, "parley:gamification")
}

// Settings returns the stored settings (partial; merged over defaults by
// the service).
func (g *Gamification) Settings(ctx context.Context) (gamification.Settings, error) {
	var raw []byte
	var s gamification.Settings
	if err := g.db.pool.QueryRow(ctx, `SELECT settings FROM gamification_state`).Scan(&raw); err != nil {
		return s, fmt.Errorf("gamification settings: %w", err)
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("decode gamification settings: %w", err)
	}
	return s, nil
}

// SaveSettings stores the settings.
func (g *Gamification) SaveSettings(ctx context.Context, s gamification.Settings, by int64) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if _, err := g.db.pool.Exec(ctx, `UPDATE gamification_state SET settings = $1, settings_by = NULLIF($2, 0), updated_at = now()`, raw, by); err != nil {
		return fmt.Errorf("save gamification settings: %w", err)
	}
	return nil
}

const ledgerColumns = `id, agent_id, rule, points, COALESCE(conversation_id, 0), COALESCE(event_id, 0), dedupe, reason, detail, team_ids, at`

func scanEntry(row pgx.Row) (gamification.Entry, error) {
	var e gamification.Entry
	err := row.Scan(&e.ID, &e.AgentID, &e.Rule, &e.Points, &e.ConversationID, &e.EventID, &e.Dedupe, &e.Reason, &e.Detail, &e.TeamIDs, &e.At)
	e.At = e.At.UTC()
	if len(e.Detail) == 0 {
		e.Detail = nil
	}
	return e, err
}

// ScanLedger calls fn with every entry in id order.
func (g *Gamification) ScanLedger(ctx context.Context, fn func(gamification.Entry) error) error {
	rows, err := g.db.pool.Query(ctx, `SELECT `+ledgerColumns+` FROM gamification_ledger ORDER BY id`)
	if err != nil {
		return fmt.Errorf("scan ledger: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return fmt.Errorf("scan ledger: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Profiles returns names and leaderboard visibility of existing agents.
func (g *Gamification) Profiles(ctx context.Context, ids []int64) (map[int64]gamification.Profile, error) {
	rows, err := g.db.pool.Query(ctx, `SELECT a.id, a.name, COALESCE(ga.public, true) FROM agents a
		LEFT JOIN gamification_agents ga ON ga.agent_id = a.id WHERE a.id = ANY($1) AND a.deleted_at IS NULL`, ids)
	if err != nil {
		return nil, fmt.Errorf("agent profiles: %w", err)
	}
	defer rows.Close()
	out := map[int64]gamification.Profile{}
	for rows.Next() {
		var id int64
		var p gamification.Profile
		if err := rows.Scan(&id, &p.Name, &p.Public); err != nil {
			return nil, err
		}
		out[id] = p
	}
	return out, rows.Err()
}

// SetPublic records whether an agent shows on public leaderboards.
func (g *Gamification) SetPublic(ctx context.Context, agentID int64, public bool) error {
	_, err := g.db.pool.Exec(ctx, `INSERT INTO gamification_agents (agent_id, public) VALUES ($1, $2)
		ON CONFLICT (agent_id) DO UPDATE SET public = EXCLUDED.public, updated_at = now()`, agentID, public)
	if err != nil {
		return fmt.Errorf("set leaderboard visibility of agent %d: %w", agentID, err)
	}
	return nil
}

// AgentTotal returns an agent's cumulative points.
func (g *Gamification) AgentTotal(ctx context.Context, agentID int64) (int, error) {
	var n int
	if err := g.db.pool.QueryRow(ctx, `SELECT COALESCE(SUM(points), 0) FROM gamification_ledger WHERE agent_id = $1`, agentID).Scan(&n); err != nil {
		return 0, fmt.Errorf("points of agent %d: %w", agentID, err)
	}
	return n, nil
}

// AgentBadges returns the badges an agent earned and when.
func (g *Gamification) AgentBadges(ctx context.Context, agentID int64) (map[string]time.Time, error) {
	rows, err := g.db.pool.Query(ctx, `SELECT badge, earned_at FROM gamification_badges WHERE agent_id = $1`, agentID)
	if err != nil {
		return nil, fmt.Errorf("badges of agent %d: %w", agentID, err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var b string
		var at time.Time
		if err := rows.Scan(&b, &at); err != nil {
			return nil, err
		}
		out[b] = at.UTC()
	}
	return out, rows.Err()
}

// RecentEntries returns an agent's latest ledger entries, newest first.
func (g *Gamification) RecentEntries(ctx context.Context, agentID int64, limit int) ([]gamification.Entry, error) {
	rows, err := g.db.pool.Query(ctx, `SELECT `+ledgerColumns+` FROM gamification_ledger WHERE agent_id = $1 ORDER BY id DESC LIMIT $2`, agentID, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger of agent %d: %w", agentID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (gamification.Entry, error) { return scanEntry(r) })
}

// AgentTeams returns the ids of an agent's teams.
func (g *Gamification) AgentTeams(ctx context.Context, agentID int64) ([]int64, error) {
	rows, err := g.db.pool.Query(ctx, `SELECT team_id FROM team_members WHERE agent_id = $1 ORDER BY team_id`, agentID)
	if err != nil {
		return nil, fmt.Errorf("teams of agent %d: %w", agentID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// TeamID returns the id of the team with name.
func (g *Gamification) TeamID(ctx context.Context, name string) (int64, error) {
	var id int64
	if err := g.db.pool.QueryRow(ctx, `SELECT id FROM teams WHERE name = $1`, name).Scan(&id); err != nil {
		return 0, notFound(err, "team", fmt.Sprintf("%q", name))
	}
	return id, nil
}

// TeamNames returns team names by id.
func (g *Gamification) TeamNames(ctx context.Context) (map[int64]string, error) {
	rows, err := g.db.pool.Query(ctx, `SELECT id, name FROM teams`)
	if err != nil {
		return nil, fmt.Errorf("teams: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out[id] = name
	}
	return out, rows.Err()
}

const questColumns = `q.id, q.title, q.scope, COALESCE(q.agent_id, 0), COALESCE(q.team_id, 0), COALESCE(t.name, ''), q.metric, q.target,
	q.starts_at, q.ends_at, COALESCE(q.created_by, 0), q.created_at, q.min_csat::float8`

func scanQuest(row pgx.Row) (gamification.Quest, error) {
	var q gamification.Quest
	err := row.Scan(&q.ID, &q.Title, &q.Scope, &q.AgentID, &q.TeamID, &q.Team, &q.Metric, &q.Target, &q.StartsAt, &q.EndsAt, &q.CreatedBy, &q.CreatedAt,
		&q.MinCSAT)
	q.StartsAt, q.EndsAt, q.CreatedAt = q.StartsAt.UTC(), q.EndsAt.UTC(), q.CreatedAt.UTC()
	return q, err
}

// CreateQuest stores a validated quest.
func (g *Gamification) CreateQuest(ctx context.Context, q *gamification.Quest) error {
	err := g.db.pool.QueryRow(ctx, `INSERT INTO quests (title, scope, agent_id, team_id, metric, target, starts_at, ends_at, created_by, min_csat)
		VALUES ($1, $2, NULLIF($3, 0), NULLIF($4, 0), $5, $6, $7, $8, NULLIF($9, 0), $10) RETURNING id, created_at`,
		q.Title, q.Scope, q.AgentID, q.TeamID, q.Metric, q.Target, q.StartsAt, q.EndsAt, q.CreatedBy, q.MinCSAT).Scan(&q.ID, &q.CreatedAt)
	var pe interface{ SQLState() string }
	if errors.As(err, &pe) && pe.SQLState() == "23503" {
		return parley.Invalid("Invalid quest.", map[string]string{"agent_id": "no such agent"})
	} else if err != nil {
		return fmt.Errorf("create quest: %w", err)
	}
	q.CreatedAt = q.CreatedAt.UTC()
	return nil
}

// Quests lists quests newest first; agentID > 0 keeps the agent's and their
// teams'; a non-zero activeAt keeps those not ended by then.
func (g *Gamification) Quests(ctx context.Context, agentID int64, teamIDs []int64, activeAt time.Time) ([]gamification.Quest, error) {
	var at *time.Time
	if !activeAt.IsZero() {
		at = &activeAt
	}
	if teamIDs == nil {
		teamIDs = []int64{}
	}
	rows, err := g.db.pool.Query(ctx, `SELECT `+questColumns+` FROM quests q LEFT JOIN teams t ON t.id = q.team_id
		WHERE ($1 = 0 OR q.agent_id = $1 OR q.team_id = ANY($2)) AND ($3::timestamptz IS NULL OR q.ends_at > $3)
		ORDER BY q.id DESC LIMIT 200`, agentID, teamIDs, at)
	if err != nil {
		return nil, fmt.Errorf("list quests: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (gamification.Quest, error) { return scanQuest(r) })
}

// Quest returns a quest by id.
func (g *Gamification) Quest(ctx context.Context, id int64) (gamification.Quest, error) {
	q, err := scanQuest(g.db.pool.QueryRow(ctx, `SELECT `+questColumns+` FROM quests q LEFT JOIN teams t ON t.id = q.team_id WHERE q.id = $1`, id))
	if err != nil {
		return q, notFound(err, "quest", id)
	}
	return q, nil
}

// DeleteQuest removes a quest.
func (g *Gamification) DeleteQuest(ctx context.Context, id int64) error {
	tag, err := g.db.pool.Exec(ctx, `DELETE FROM quests WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete quest %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENOTFOUND, "quest %d not found.", id)
	}
	return nil
}

// QuestProgress computes a quest's progress from the ledger.
func (g *Gamification) QuestProgress(ctx context.Context, q gamification.Quest) (int, error) {
	var n int
	err := g.db.pool.QueryRow(ctx, `SELECT COALESCE(SUM(CASE WHEN $1 = 'points' THEN points
			WHEN rule = $1 AND points > 0 THEN 1
			WHEN rule = 'reopen' AND detail->>'of' = $1 THEN -1 ELSE 0 END), 0)
		FROM gamification_ledger WHERE at >= $2 AND at < $3
		AND CASE WHEN $4::bigint > 0 THEN agent_id = $4 ELSE $5::bigint = ANY(team_ids) END`,
		q.Metric, q.StartsAt, q.EndsAt, q.AgentID, q.TeamID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("progress of quest %d: %w", q.ID, err)
	}
	return n, nil
}

// QuestCSAT returns the mean and the number of the CSAT answers given in a
// quest's window on conversations resolved by its agent, or by a current
// member of its team.
func (g *Gamification) QuestCSAT(ctx context.Context, q gamification.Quest) (*float64, int, error) {
	var mean *float64
	var n int
	err := g.db.pool.QueryRow(ctx, `SELECT round(avg(a.score), 2)::float8, count(*)
		FROM survey_answers a JOIN survey_requests r ON r.id = a.request_id
		WHERE a.kind = 'csat' AND a.score IS NOT NULL AND a.answered_at >= $1 AND a.answered_at < $2
		AND CASE WHEN $3::bigint > 0 THEN r.agent_id = $3 ELSE r.agent_id IN (SELECT agent_id FROM team_members WHERE team_id = $4) END`,
		q.StartsAt, q.EndsAt, q.AgentID, q.TeamID).Scan(&mean, &n)
	if err != nil {
		return nil, 0, fmt.Errorf("CSAT of quest %d: %w", q.ID, err)
	}
	return mean, n, nil
}

// gamTx is the processor's transaction.
type gamTx struct{ tx pgx.Tx }

// PendingEvents returns events after the cursor, stopping before a young
// id gap: identity values are taken at insert and committed later, so a gap
// may be a transaction still in flight (or one rolled back, which is why
// gaps older than gapWait are passed).
func (t *gamTx) PendingEvents(ctx context.Context, limit int, gapWait time.Duration) ([]gamification.Event, error) {
	var cursor int64
	if err := t.tx.QueryRow(ctx, `SELECT event_cursor FROM gamification_state FOR UPDATE`).Scan(&cursor); err != nil {
		return nil, fmt.Errorf("gamification cursor: %w", err)
	}
	rows, err := t.tx.Query(ctx, `SELECT id, type, COALESCE(conversation_id, 0), COALESCE(agent_id, 0), COALESCE(customer_id, 0), payload, created_at,
		clock_timestamp() - created_at > $3 * interval '1 second'
		FROM events WHERE id > $1 ORDER BY id LIMIT $2`, cursor, limit, gapWait.Seconds())
	if err != nil {
		return nil, fmt.Errorf("pending events: %w", err)
	}
	defer rows.Close()
	var out []gamification.Event
	prev := cursor
	for rows.Next() {
		var e gamification.Event
		var old bool
		if err := rows.Scan(&e.ID, &e.Type, &e.ConversationID, &e.AgentID, &e.CustomerID, &e.Payload, &e.At, &old); err != nil {
			return nil, err
		}
		if e.ID != prev+1 && !old {
			break
		}
		e.At = e.At.UTC()
		out = append(out, e)
		prev = e.ID
	}
	return out, rows.Err()
}

func (t *gamTx) SetCursor(ctx context.Context, id int64) error {
	if _, err := t.tx.Exec(ctx, `UPDATE gamification_state SET event_cursor = $1, updated_at = now()`, id); err != nil {
		return fmt.Errorf("move gamification cursor: %w", err)
	}
	return nil
}

// Facts loads what the rules need to judge an event.
func (t *gamTx) Facts(ctx context.Context, ev gamification.Event) (gamification.Facts, error) {
	var f gamification.Facts
	if ev.ConversationID != 0 {
		c := &f.Conversation
		var ch, status string
		var asg, res *time.Time
		err := t.tx.QueryRow(ctx, `SELECT id, customer_id, channel, status, COALESCE(agent_id, 0), disposition, created_at, assigned_at, resolved_at
			FROM conversations WHERE id = $1`, ev.ConversationID).Scan(&c.ID, &c.CustomerID, &ch, &status, &c.AgentID, &c.Disposition, &c.CreatedAt, &asg, &res)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return f, fmt.Errorf("conversation %d: %w", ev.ConversationID, err)
		}
		c.Channel, c.Status = parley.Channel(ch), parley.ConversationStatus(status)
		c.AssignedAt, c.ResolvedAt = nullTime(asg), nullTime(res)
	}
	switch {
	case ev.Type == gamification.EventMessageCreated:
		id, ok := payloadInt(ev.Payload, "message_id")
		if !ok {
			return f, nil
		}
		m := &gamification.MessageFacts{ID: id}
		var dir string
		var seq int64
		err := t.tx.QueryRow(ctx, `SELECT sender_type, COALESCE(sender_id, 0), direction, private, created_at, seq FROM messages WHERE id = $1`, id).
			Scan(&m.SenderType, &m.SenderID, &dir, &m.Private, &m.CreatedAt, &seq)
		if errors.Is(err, pgx.ErrNoRows) {
			return f, nil
		} else if err != nil {
			return f, fmt.Errorf("message %d: %w", id, err)
		}
		m.Direction = parley.Direction(dir)
		if err := t.tx.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM messages WHERE conversation_id = $1 AND seq < $2
			AND sender_type = 'agent' AND direction = 'out' AND NOT private)`, ev.ConversationID, seq).Scan(&m.FirstAgentReply); err != nil {
			return f, fmt.Errorf("first reply of conversation %d: %w", ev.ConversationID, err)
		}
		// The assignment as it was when the message was written (a later
		// transfer must not change who answered first).
		var agent int64
		var at time.Time
		err = t.tx.QueryRow(ctx, `SELECT agent_id, created_at FROM events WHERE conversation_id = $1 AND type = 'conversation.assigned' AND id < $2
			ORDER BY id DESC LIMIT 1`, ev.ConversationID, ev.ID).Scan(&agent, &at)
		if err == nil {
			f.Conversation.AgentID, f.Conversation.AssignedAt = agent, at.UTC()
		} else if !errors.Is(err, pgx.ErrNoRows) {
			return f, fmt.Errorf("assignment of conversation %d: %w", ev.ConversationID, err)
		}
		f.Message = m
	case len(ev.Type) > 6 && ev.Type[:6] == "offer.":
		id, _ := ev.Payload["offer_id"].(string)
		if id == "" {
			return f, nil
		}
		o := &gamification.OfferFacts{ID: id}
		var ended *time.Time
		err := t.tx.QueryRow(ctx, `SELECT agent_id, created_at, ended_at FROM offers WHERE id = $1`, id).Scan(&o.AgentID, &o.CreatedAt, &ended)
		if errors.Is(err, pgx.ErrNoRows) {
			return f, nil
		} else if err != nil {
			return f, fmt.Errorf("offer %s: %w", id, err)
		}
		o.EndedAt = nullTime(ended)
		f.Offer = o
	case ev.Type == gamification.EventConversationReopened:
		rows, err := t.tx.Query(ctx, `SELECT agent_id, SUM(points) FROM gamification_ledger WHERE conversation_id = $1
			AND (rule = $2 OR (rule = $3 AND detail->>'of' = $2)) GROUP BY agent_id`, ev.ConversationID, gamification.RuleResolved, gamification.RuleReopen)
		if err != nil {
			return f, fmt.Errorf("resolution points of conversation %d: %w", ev.ConversationID, err)
		}
		defer rows.Close()
		f.ResolutionPoints = map[int64]int{}
		for rows.Next() {
			var agent int64
			var pts int
			if err := rows.Scan(&agent, &pts); err != nil {
				return f, err
			}
			f.ResolutionPoints[agent] = pts
		}
		return f, rows.Err()
	}
	return f, nil
}

func payloadInt(p map[string]any, k string) (int64, bool) {
	switch v := p[k].(type) {
	case float64:
		return int64(v), true
	case string:
		var n int64
		_, err := fmt.Sscan(v, &n)
		return n, err == nil
	}
	return 0, false
}

func (t *gamTx) RulePoints(ctx context.Context, agentID int64, rule string, from, to time.Time) (int, error) {
	var n int
	err := t.tx.QueryRow(ctx, `SELECT COALESCE(SUM(points), 0) FROM gamification_ledger WHERE agent_id = $1 AND rule = $2 AND at >= $3 AND at < $4`,
		agentID, rule, from, to).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("points of agent %d from %s: %w", agentID, rule, err)
	}
	return n, nil
}

func (t *gamTx) Record(ctx context.Context, e gamification.Entry) (gamification.Entry, bool, int, error) {
	detail := e.Detail
	if detail == nil {
		detail = map[string]any{}
	}
	err := t.tx.QueryRow(ctx, `INSERT INTO gamification_ledger (agent_id, rule, points, conversation_id, event_id, dedupe, reason, detail, team_ids, at)
		SELECT a.id, $2, $3, NULLIF($4, 0), NULLIF($5, 0), $6, $7, $8,
			COALESCE((SELECT array_agg(team_id ORDER BY team_id) FROM team_members WHERE agent_id = a.id), '{}'), $9
		FROM agents a WHERE a.id = $1
		ON CONFLICT (agent_id, rule, dedupe) DO NOTHING RETURNING id, team_ids`,
		e.AgentID, e.Rule, e.Points, e.ConversationID, e.EventID, e.Dedupe, e.Reason, detail, e.At).Scan(&e.ID, &e.TeamIDs)
	if errors.Is(err, pgx.ErrNoRows) {
		return e, false, 0, nil
	} else if err != nil {
		return e, false, 0, fmt.Errorf("record %s for agent %d: %w", e.Rule, e.AgentID, err)
	}
	var total int
	if err := t.tx.QueryRow(ctx, `SELECT COALESCE(SUM(points), 0) FROM gamification_ledger WHERE agent_id = $1`, e.AgentID).Scan(&total); err != nil {
		return e, false, 0, fmt.Errorf("points of agent %d: %w", e.AgentID, err)
	}
	return e, true, total, nil
}

func (t *gamTx) CountAwards(ctx context.Context, q gamification.CountQuery) (int, error) {
	var from, to *time.Time
	if !q.From.IsZero() {
		from = &q.From
	}
	if !q.To.IsZero() {
		to = &q.To
	}
	var n int
	err := t.tx.QueryRow(ctx, `SELECT count(*) FROM gamification_ledger WHERE agent_id = $1 AND rule = $2 AND points > 0
		AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
		AND ($5 = 0 OR (detail->>'elapsed_s')::numeric <= $5) AND ($6 = 0 OR (detail->>'score')::numeric = $6)`,
		q.AgentID, q.Rule, from, to, q.MaxSeconds, q.Score).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count %s awards of agent %d: %w", q.Rule, q.AgentID, err)
	}
	return n, nil
}

func (t *gamTx) AwardBadge(ctx context.Context, agentID int64, badge string, at time.Time) (bool, error) {
	tag, err := t.tx.Exec(ctx, `INSERT INTO gamification_badges (agent_id, badge, earned_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, agentID, badge, at)
	if err != nil {
		return false, fmt.Errorf("award badge %s to agent %d: %w", badge, agentID, err)
	}
	return tag.RowsAffected() == 1, nil
}

func (t *gamTx) FCRCandidates(ctx context.Context, closedBy time.Time, window time.Duration, limit int) ([]gamification.FCRCandidate, error) {
	rows, err := t.tx.Query(ctx, `SELECT c.id, COALESCE(c.agent_id, 0), c.customer_id, c.resolved_at,
			EXISTS (SELECT 1 FROM conversations o WHERE o.customer_id = c.customer_id AND o.id <> c.id
				AND o.created_at > c.resolved_at AND o.created_at <= c.resolved_at + $2 * interval '1 second')
			OR EXISTS (SELECT 1 FROM events e WHERE e.conversation_id = c.id AND e.type = 'conversation.reopened')
		FROM conversations c, gamification_state s
		WHERE c.status = 'resolved' AND c.disposition <> ALL($4) AND c.resolved_at <= $1::timestamptz - $2 * interval '1 second'
			AND (c.resolved_at, c.id) > (s.fcr_cursor_at, s.fcr_cursor_id)
		ORDER BY c.resolved_at, c.id LIMIT $3`, closedBy, window.Seconds(), limit, gamification.NoWork)
	if err != nil {
		return nil, fmt.Errorf("fcr candidates: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (gamification.FCRCandidate, error) {
		var c gamification.FCRCandidate
		err := r.Scan(&c.ConversationID, &c.AgentID, &c.CustomerID, &c.ResolvedAt, &c.RepeatContact)
		c.ResolvedAt = c.ResolvedAt.UTC()
		return c, err
	})
}

func (t *gamTx) SetFCRCursor(ctx context.Context, at time.Time, convID int64) error {
	if _, err := t.tx.Exec(ctx, `UPDATE gamification_state SET fcr_cursor_at = $1, fcr_cursor_id = $2`, at, convID); err != nil {
		return fmt.Errorf("move fcr cursor: %w", err)
	}
	return nil
}

func (t *gamTx) WeekChecked(ctx context.Context) (string, error) {
	var w string
	if err := t.tx.QueryRow(ctx, `SELECT week_checked FROM gamification_state FOR UPDATE`).Scan(&w); err != nil {
		return "", fmt.Errorf("week checked: %w", err)
	}
	return w, nil
}

func (t *gamTx) SetWeekChecked(ctx context.Context, week string) error {
	if _, err := t.tx.Exec(ctx, `UPDATE gamification_state SET week_checked = $1`, week); err != nil {
		return fmt.Errorf("set week checked: %w", err)
	}
	return nil
}

func (t *gamTx) CleanWeekAgents(ctx context.Context, from, to time.Time, minResolved int) ([]int64, error) {
	rows, err := t.tx.Query(ctx, `SELECT agent_id FROM events WHERE type = 'conversation.resolved' AND agent_id IS NOT NULL
			AND created_at >= $1 AND created_at < $2 GROUP BY agent_id HAVING count(*) >= $3
		EXCEPT
		SELECT agent_id FROM events WHERE type IN ('offer.timeout', 'sla.breached') AND agent_id IS NOT NULL
			AND created_at >= $1 AND created_at < $2
		ORDER BY 1`, from, to, minResolved)
	if err != nil {
		return nil, fmt.Errorf("clean week agents: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
