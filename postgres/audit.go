package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

// AuditEntry is one supervisor intervention.
type AuditEntry struct {
	ID         int64          `json:"id,string"`
	ActorID    int64          `json:"actor_id,string"`
	ActorName  string         `json:"actor_name"`
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   int64          `json:"target_id,string"`
	Details    map[string]any `json:"details"`
	CreatedAt  time.Time      `json:"created_at"`
}

// Audit appends an intervention to the audit log.
func (db *DB) Audit(ctx context.Context, e AuditEntry) (AuditEntry, error) {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	err := db.pool.QueryRow(ctx, `INSERT INTO audit_log (actor_id, actor_name, action, target_type, target_id, details)
		VALUES (NULLIF($1, 0), $2, $3, $4, $5, $6) RETURNING id, created_at`,
		e.ActorID, e.ActorName, e.Action, e.TargetType, e.TargetID, e.Details).Scan(&e.ID, &e.CreatedAt)
	if err != nil {
		return e, fmt.Errorf("audit %s: %w", e.Action, err)
	}
	e.CreatedAt = e.CreatedAt.UTC()
	return e, nil
}

// AuditLog returns up to limit entries with id below before (0: newest),
// newest first.
func (db *DB) AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	rows, err := db.pool.Query(ctx, `SELECT id, COALESCE(actor_id, 0), actor_name, action, target_type, target_id, details, created_at
		FROM audit_log WHERE ($1 = 0 OR id < $1) ORDER BY id DESC LIMIT $2`, before, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		err := r.Scan(&e.ID, &e.ActorID, &e.ActorName, &e.Action, &e.TargetType, &e.TargetID, &e.Details, &e.CreatedAt)
		e.CreatedAt = e.CreatedAt.UTC()
		return e, err
	})
}

// RecordPresence appends an agent's presence change to its history. setBy
// is who set it (the agent, a supervisor; 0 for the system).
func (db *DB) RecordPresence(ctx context.Context, agentID int64, p parley.Presence, reason string, setBy int64, at time.Time) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO agent_presence_log (agent_id, status, reason, set_by, at) VALUES ($1, $2, $3, NULLIF($4, 0), $5)`,
		agentID, string(p), reason, setBy, at)
	if err != nil {
		return fmt.Errorf("record presence of agent %d: %w", agentID, err)
	}
	return nil
}

// PresenceEntry is an agent's presence since At, and why.
type PresenceEntry struct {
	AgentID int64
	Status  parley.Presence
	Reason  string
	SetBy   int64
	At      time.Time
}

// LatestPresence returns the last recorded presence of every agent that has one.
func (db *DB) LatestPresence(ctx context.Context) (map[int64]PresenceEntry, error) {
	rows, err := db.pool.Query(ctx, `SELECT a.id, l.status, l.reason, COALESCE(l.set_by, 0), l.at FROM agents a
		CROSS JOIN LATERAL (SELECT status, reason, set_by, at FROM agent_presence_log WHERE agent_id = a.id ORDER BY at DESC, id DESC LIMIT 1) l
		WHERE a.deleted_at IS NULL`)
	if err != nil {
		return nil, fmt.Errorf("latest presence: %w", err)
	}
	defer rows.Close()
	out := map[int64]PresenceEntry{}
	for rows.Next() {
		var e PresenceEntry
		var st string
		if err := rows.Scan(&e.AgentID, &st, &e.Reason, &e.SetBy, &e.At); err != nil {
			return nil, err
		}
		e.Status, e.At = parley.Presence(st), e.At.UTC()
		out[e.AgentID] = e
	}
	return out, rows.Err()
}

// SetQueuePaused pauses or unpauses a queue (one column: a concurrent
// edit of other fields is kept).
func (db *DB) SetQueuePaused(ctx context.Context, id int64, paused bool) (parley.Queue, error) {
	q, err := scanQueue(db.pool.QueryRow(ctx, `UPDATE queues SET paused = $2, updated_at = now() WHERE id = $1 RETURNING `+queueColumns, id, paused))
	if err != nil {
		return q, notFound(err, "queue", id)
	}
	return q, nil
}

// MoveQueued moves a conversation that is still waiting to another queue
// (toQueue, or its own when 0) and/or towards a named agent, keeping its
// place (enqueued_at): a private system note and a conversation.transferred
// event record it. A conversation no longer queued is ECONFLICT.
func (db *DB) MoveQueued(ctx context.Context, convID int64, by parley.Agent, toQueue, toAgent int64) (parley.Conversation, error) {
	var c parley.Conversation
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := getConversation(ctx, tx, convID, true)
		if err != nil {
			return err
		}
		if cur.Status != parley.StatusQueued {
			return parley.Errorf(parley.ECONFLICT, "Conversation %d is %s, no longer waiting.", convID, cur.Status)
		}
		if toQueue == 0 {
			toQueue = cur.QueueID
		}
		var target string
		if err := tx.QueryRow(ctx, `SELECT name FROM queues WHERE id = $1`, toQueue).Scan(&target); err != nil {
			return notFound(err, "queue", toQueue)
		}
		if toAgent != 0 {
			if err := tx.QueryRow(ctx, `SELECT name FROM agents WHERE id = $1 AND deleted_at IS NULL`, toAgent).Scan(&target); err != nil {
				return notFound(err, "agent", toAgent)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET queue_id = $2, updated_at = now() WHERE id = $1`, convID, toQueue); err != nil {
			return fmt.Errorf("move conversation %d: %w", convID, err)
		}
		if _, err := insertMessage(ctx, tx, convID, cur.InboxID, parley.Message{
			Direction: parley.DirectionOut, Private: true, Channel: cur.Channel,
			Sender: parley.MessageSender{Type: parley.SenderSystem, Name: "Parley"},
			Body:   fmt.Sprintf("%s moved the waiting conversation to %s.", by.Name, target),
		}, ""); err != nil {
			return err
		}
		if err := writeEvent(ctx, tx, "conversation.transferred", convID, 0, cur.CustomerID,
			map[string]any{"by": by.ID, "to_queue": toQueue, "to_agent": toAgent, "from_queue": cur.QueueID, "waiting": true}); err != nil {
			return err
		}
		c, err = getConversation(ctx, tx, convID, false)
		return err
	})
	return c, err
}
