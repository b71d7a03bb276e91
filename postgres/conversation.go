package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

const conversationColumns = `c.id, c.customer_id, c.inbox_id, c.queue_id, c.channel, c.status, COALESCE(c.agent_id, 0), c.topic, c.priority,
	c.last_seq, c.disposition, c.created_at, c.enqueued_at, c.assigned_at, c.resolved_at, c.updated_at, cu.name,
	c.subject, c.require, c.meta, c.sub_status, c.snoozed_until, c.tags`

func scanConversation(row pgx.Row) (parley.Conversation, error) {
	var c parley.Conversation
	var ch, status string
	var enq, asg, res, snoozed *time.Time
	err := row.Scan(&c.ID, &c.CustomerID, &c.InboxID, &c.QueueID, &ch, &status, &c.AgentID, &c.Topic, &c.Priority,
		&c.LastSeq, &c.Disposition, &c.CreatedAt, &enq, &asg, &res, &c.UpdatedAt, &c.CustomerName,
		&c.Subject, &c.Require, &c.Meta, &c.SubStatus, &snoozed, &c.Tags)
	c.SnoozedUntil = nullTime(snoozed)
	c.Channel, c.Status = parley.Channel(ch), parley.ConversationStatus(status)
	c.EnqueuedAt, c.AssignedAt, c.ResolvedAt = nullTime(enq), nullTime(asg), nullTime(res)
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return c, err
}

func (db *DB) conversations(ctx context.Context, where string, args ...any) ([]parley.Conversation, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+conversationColumns+` FROM conversations c JOIN customers cu ON cu.id = c.customer_id `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list conversations: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Conversation, error) { return scanConversation(r) })
}

func getConversation(ctx context.Context, q querier, id int64, lock bool) (parley.Conversation, error) {
	sql := `SELECT ` + conversationColumns + ` FROM conversations c JOIN customers cu ON cu.id = c.customer_id WHERE c.id = $1`
	if lock {
		sql += ` FOR UPDATE OF c`
	}
	c, err := scanConversation(q.QueryRow(ctx, sql, id))
	if err != nil {
		return c, notFound(err, "conversation", id)
	}
	return c, nil
}

// Conversation returns a conversation by id (without messages).
func (db *DB) Conversation(ctx context.Context, id int64) (parley.Conversation, error) {
	return getConversation(ctx, db.pool, id, false)
}

// ConversationFilter selects conversations for listing; zero fields match all.
type ConversationFilter struct {
	Status  parley.ConversationStatus
	QueueID int64
	AgentID int64
	Channel parley.Channel
	// Tag and SubStatus ("pending", "snoozed") narrow the list when set.
	Tag       string
	SubStatus string
	// Before is the keyset cursor: only ids below it.
	Before int64
	Limit  int
}

// Conversations lists conversations newest first.
func (db *DB) Conversations(ctx context.Context, f ConversationFilter) ([]parley.Conversation, error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	return db.conversations(ctx, `WHERE ($1 = '' OR c.status = $1) AND ($2 = 0 OR c.queue_id = $2) AND ($3 = 0 OR c.agent_id = $3)
		AND ($4 = '' OR c.channel = $4) AND ($5 = 0 OR c.id < $5) AND ($7 = '' OR $7 = ANY(c.tags)) AND ($8 = '' OR c.sub_status = $8)
		ORDER BY c.id DESC LIMIT $6`,
		string(f.Status), f.QueueID, f.AgentID, string(f.Channel), f.Before, f.Limit, f.Tag, f.SubStatus)
}

// AgentConversations returns the conversations assigned to an agent, oldest first.
func (db *DB) AgentConversations(ctx context.Context, agentID int64) ([]parley.Conversation, error) {
	return db.conversations(ctx, `WHERE c.agent_id = $1 AND c.status = 'assigned' ORDER BY c.assigned_at, c.id`, agentID)
}

// OpenConversation returns the customer's open conversation in an inbox, if any.
func (db *DB) OpenConversation(ctx context.Context, customerID, inboxID int64) (parley.Conversation, bool, error) {
	cs, err := db.conversations(ctx, `WHERE c.customer_id = $1 AND c.inbox_id = $2 AND c.status IN ('queued', 'assigned')`, customerID, inboxID)
	if err != nil || len(cs) == 0 {
		return parley.Conversation{}, false, err
	}
	return cs[0], true, nil
}

// LatestConversation returns the customer's most recent conversation in an inbox.
func (db *DB) LatestConversation(ctx context.Context, customerID, inboxID int64) (parley.Conversation, bool, error) {
	cs, err := db.conversations(ctx, `WHERE c.customer_id = $1 AND c.inbox_id = $2 ORDER BY c.id DESC LIMIT 1`, customerID, inboxID)
	if err != nil || len(cs) == 0 {
		return parley.Conversation{}, false, err
	}
	return cs[0], true, nil
}

// QueuedConversations returns every conversation waiting in a queue, in order
// of arrival, for rebuilding the routing state.
func (db *DB) QueuedConversations(ctx context.Context) ([]parley.Conversation, error) {
	return db.conversations(ctx, `WHERE c.status = 'queued' ORDER BY c.enqueued_at, c.id`)
}

// AssignedLoad returns, per agent, the open assigned conversations per media.
func (db *DB) AssignedLoad(ctx context.Context) (map[int64]map[parley.Media]int, error) {
	rows, err := db.pool.Query(ctx, `SELECT agent_id, channel, count(*) FROM conversations WHERE status = 'assigned' GROUP BY agent_id, channel`)
	if err != nil {
		return nil, fmt.Errorf("assigned load: %w", err)
	}
	defer rows.Close()
	out := map[int64]map[parley.Media]int{}
	for rows.Next() {
		var agent int64
		var ch string
		var n int
		if err := rows.Scan(&agent, &ch, &n); err != nil {
			return nil, err
		}
		if out[agent] == nil {
			out[agent] = map[parley.Media]int{}
		}
		out[agent][parley.Channel(ch).Media()] += n
	}
	return out, rows.Err()
}

// errRetry asks Receive to run its transaction again after losing a race.
var errRetry = errors.New("retry")

// Receive persists an inbound customer message exactly once: it resolves the
// customer, continues their open conversation in the inbox or opens a new one
// (queued), and stores the message with the next seq. A message whose dedupe
// key was seen before returns the stored one with Duplicate set. created
// reports whether a new conversation was opened.
func (db *DB) Receive(ctx context.Context, in parley.Inbound, inbox parley.InboxConfig) (r parley.Receipt, created bool, err error) {
	if err := parley.ValidateBody(in.Body); err != nil {
		return r, false, err
	}
	for attempt := 0; attempt < 5; attempt++ {
		r, created = parley.Receipt{}, false
		err = db.inTx(ctx, func(tx pgx.Tx) error {
			if in.DedupeKey != "" {
				m, err := scanMessage(tx.QueryRow(ctx, `SELECT `+messageColumns+` FROM messages m WHERE inbox_id = $1 AND dedupe_key = $2`, in.InboxID, in.DedupeKey))
				if err == nil {
					r.Message, r.Duplicate = m, true
					r.Conversation, err = getConversation(ctx, tx, m.ConversationID, false)
					return err
				} else if err != pgx.ErrNoRows {
					return fmt.Errorf("find duplicate: %w", err)
				}
			}
			customerID := in.CustomerID
			if customerID == 0 {
				if customerID, err = findOrCreateCustomer(ctx, tx, in.Identity, in.CustomerName); err != nil {
					return err
				}
			}
			var convID int64
			err := pgx.ErrNoRows
			switch {
			case in.ConversationID != 0:
				err = tx.QueryRow(ctx, `SELECT id FROM conversations WHERE id = $1 AND customer_id = $2 AND inbox_id = $3
					AND status IN ('queued', 'assigned') FOR UPDATE`, in.ConversationID, customerID, inbox.ID).Scan(&convID)
			case !in.NewConversation:
				err = tx.QueryRow(ctx, `SELECT id FROM conversations WHERE customer_id = $1 AND inbox_id = $2
					AND status IN ('queued', 'assigned') ORDER BY id DESC LIMIT 1 FOR UPDATE`, customerID, inbox.ID).Scan(&convID)
			}
			if err == pgx.ErrNoRows && !in.NoRouting && !in.NewConversation && inbox.Settings.ReopenWindowS > 0 {
				convID, created, err = reopenForCustomer(ctx, tx, in, inbox, customerID) // the inbox's reopen window
			}
			if err == pgx.ErrNoRows {
				convID, created, err = openConversation(ctx, tx, in, inbox, customerID)
			}
			if errors.Is(err, errRetry) {
				return err
			} else if err != nil {
				return fmt.Errorf("open conversation: %w", err)
			}
			r.Message, err = insertMessage(ctx, tx, convID, in.InboxID, parley.Message{
				Direction: parley.DirectionIn, Sender: parley.MessageSender{Type: parley.SenderCustomer, ID: customerID},
				Channel: inbox.Channel, Body: in.Body, Attachments: in.Attachments, ClientMsgID: in.ClientMsgID,
			}, in.DedupeKey)
			if isUniqueViolation(err, "messages_dedupe_key") {
				return errRetry
			} else if err != nil {
				return err
			}
			if _, err := reopenSub(ctx, tx, convID, "customer"); err != nil { // a pending or snoozed conversation is open again
				return err
			}
			r.Conversation, err = getConversation(ctx, tx, convID, false)
			return err
		})
		if !errors.Is(err, errRetry) {
			return r, created, err
		}
	}
	return r, false, fmt.Errorf("receive message: too much contention")
}

// openConversation starts a conversation for an inbound message: queued for
// routing, or already resolved when in.NoRouting.
func openConversation(ctx context.Context, tx pgx.Tx, in parley.Inbound, inbox parley.InboxConfig, customerID int64) (int64, bool, error) {
	queue := in.QueueID
	if queue == 0 {
		queue = inbox.QueueFor(in.Topic)
	}
	status := parley.StatusQueued
	if in.NoRouting {
		status = parley.StatusResolved
	}
	require, meta := in.Require, in.Meta
	if require == nil {
		require = map[string]int{}
	}
	if meta == nil {
		meta = map[string]string{}
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO conversations (customer_id, inbox_id, queue_id, channel, status, topic, priority, subject, require, meta,
			enqueued_at, resolved_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $5 = 'queued' THEN now() END, CASE WHEN $5 = 'resolved' THEN now() END)
		RETURNING id`,
		customerID, inbox.ID, queue, string(inbox.Channel), string(status), in.Topic, in.Priority, in.Subject, require, meta).Scan(&id)
	if isUniqueViolation(err, "conversations_one_open") {
		return 0, false, errRetry
	} else if err != nil {
		return 0, false, err
	}
	err = writeEvent(ctx, tx, "conversation.created", id, 0, customerID, map[string]any{"channel": inbox.Channel, "topic": in.Topic, "routed": !in.NoRouting})
	return id, !in.NoRouting, err
}

// Assign gives a queued conversation to the agent whose offer was accepted.
func (db *DB) Assign(ctx context.Context, o parley.Offer) (parley.Conversation, error) {
	var c parley.Conversation
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE conversations SET status = 'assigned', agent_id = $2, assigned_at = $3, updated_at = now()
			WHERE id = $1 AND status = 'queued'`, o.ConversationID, o.AgentID, o.EndedAt)
		if err != nil {
			return fmt.Errorf("assign conversation %d: %w", o.ConversationID, err)
		} else if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.ECONFLICT, "Conversation %d is no longer waiting.", o.ConversationID)
		}
		if err := endOffer(ctx, tx, o); err != nil {
			return err
		}
		if err := writeEvent(ctx, tx, "conversation.assigned", o.ConversationID, o.AgentID, 0, map[string]any{"offer_id": o.ID, "queue_id": o.QueueID}); err != nil {
			return err
		}
		c, err = getConversation(ctx, tx, o.ConversationID, false)
		return err
	})
	return c, err
}

// Resolve closes an assigned conversation. Only its agent may, unless force.
func (db *DB) Resolve(ctx context.Context, convID, agentID int64, disposition string, force bool) (parley.Conversation, error) {
	var c parley.Conversation
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := getConversation(ctx, tx, convID, true)
		if err != nil {
			return err
		}
		if cur.Status != parley.StatusAssigned {
			return parley.Errorf(parley.ECONFLICT, "Conversation %d is %s, not assigned.", convID, cur.Status)
		}
		if cur.AgentID != agentID && !force {
			return parley.Errorf(parley.EFORBIDDEN, "Conversation %d is not assigned to you.", convID)
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET status = 'resolved', resolved_at = now(), disposition = $2, sub_status = '', snoozed_until = NULL, updated_at = now() WHERE id = $1`,
			convID, disposition); err != nil {
			return fmt.Errorf("resolve conversation %d: %w", convID, err)
		}
		if err := writeEvent(ctx, tx, "conversation.resolved", convID, cur.AgentID, cur.CustomerID, map[string]any{"disposition": disposition, "by": agentID}); err != nil {
			return err
		}
		c, err = getConversation(ctx, tx, convID, false)
		return err
	})
	return c, err
}

// AssignedConversations returns every assigned conversation, by agent.
func (db *DB) AssignedConversations(ctx context.Context) (map[int64][]parley.Conversation, error) {
	convs, err := db.conversations(ctx, `WHERE c.status = 'assigned' ORDER BY c.assigned_at, c.id`)
	if err != nil {
		return nil, err
	}
	out := map[int64][]parley.Conversation{}
	for _, c := range convs {
		out[c.AgentID] = append(out[c.AgentID], c)
	}
	return out, nil
}

// LastAgentOf returns the agent of the customer's most recent assigned
// conversation other than exclude (0 when none): the sticky agent.
func (db *DB) LastAgentOf(ctx context.Context, customerID, exclude int64) (int64, error) {
	var id int64
	err := db.pool.QueryRow(ctx, `SELECT COALESCE((SELECT agent_id FROM conversations WHERE customer_id = $1 AND id <> $2
		AND agent_id IS NOT NULL ORDER BY assigned_at DESC NULLS LAST LIMIT 1), 0)`, customerID, exclude).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("last agent of customer %d: %w", customerID, err)
	}
	return id, nil
}

// Transfer puts an assigned conversation back in a queue (toQueue, or its
// own when 0) for another agent; a private system note records it. Only its
// agent may, unless force.
func (db *DB) Transfer(ctx context.Context, convID int64, by parley.Agent, toQueue, toAgent int64, force bool) (parley.Conversation, int64, error) {
	var c parley.Conversation
	var from int64
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := getConversation(ctx, tx, convID, true)
		if err != nil {
			return err
		}
		if cur.Status != parley.StatusAssigned {
			return parley.Errorf(parley.ECONFLICT, "Conversation %d is %s; only an assigned conversation can be transferred.", convID, cur.Status)
		}
		if cur.AgentID != by.ID && !force {
			return parley.Errorf(parley.EFORBIDDEN, "Conversation %d is not assigned to you.", convID)
		}
		if toAgent == cur.AgentID {
			return parley.Invalid("The conversation is already with that agent.", map[string]string{"agent_id": "same agent"})
		}
		from = cur.AgentID
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
		if _, err := reopenSub(ctx, tx, convID, "transfer"); err != nil { // waiting on the customer ends with the agent
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET status = 'queued', queue_id = $2, agent_id = NULL, assigned_at = NULL,
			enqueued_at = now(), updated_at = now() WHERE id = $1`, convID, toQueue); err != nil {
			return fmt.Errorf("transfer conversation %d: %w", convID, err)
		}
		if _, err := insertMessage(ctx, tx, convID, cur.InboxID, parley.Message{
			Direction: parley.DirectionOut, Private: true, Channel: cur.Channel,
			Sender: parley.MessageSender{Type: parley.SenderSystem, Name: "Parley"},
			Body:   fmt.Sprintf("%s transferred the conversation to %s.", by.Name, target),
		}, ""); err != nil {
			return err
		}
		if err := writeEvent(ctx, tx, "conversation.transferred", convID, from, cur.CustomerID,
			map[string]any{"by": by.ID, "to_queue": toQueue, "to_agent": toAgent}); err != nil {
			return err
		}
		c, err = getConversation(ctx, tx, convID, false)
		return err
	})
	return c, from, err
}
