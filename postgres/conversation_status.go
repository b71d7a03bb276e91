package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

// The waiting-on-customer sub-statuses, reopening and tags. Every change
// writes its outbox event in the same transaction: the SLA clocks read
// conversation.status_changed ({"status": "pending"|"snoozed"|"open"}) and
// conversation.reopened; gamification takes resolution points back on
// conversation.reopened.

// EventStatusChanged is written when a conversation's sub-status changes.
const EventStatusChanged = "conversation.status_changed"

// MaxSnooze bounds how far ahead a conversation may be snoozed.
const MaxSnooze = 366 * 24 * time.Hour

// SetSubStatus makes an assigned conversation pending, snoozed until until,
// or open again (status parley.SubPending, SubSnoozed or SubOpen). Only its
// agent may, unless force. changed is false when it already was so.
func (db *DB) SetSubStatus(ctx context.Context, convID int64, by parley.Agent, status string, until, now time.Time, force bool) (c parley.Conversation, changed bool, err error) {
	var sub string
	var untilArg *time.Time
	switch status {
	case parley.SubOpen, "":
		status = parley.SubOpen
	case parley.SubPending:
		sub = parley.SubPending
	case parley.SubSnoozed:
		sub = parley.SubSnoozed
		if until.IsZero() || !until.After(now) || until.Sub(now) > MaxSnooze {
			return c, false, parley.Invalid("A snooze needs a time in the future, within a year.", map[string]string{"until": "RFC 3339 time after now, within 366 days"})
		}
		until = until.UTC().Truncate(time.Microsecond)
		untilArg = &until
	default:
		return c, false, parley.Invalid("Unknown status.", map[string]string{"status": "must be open, pending or snoozed"})
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := getConversation(ctx, tx, convID, true)
		if err != nil {
			return err
		}
		if cur.Status != parley.StatusAssigned {
			return parley.Errorf(parley.ECONFLICT, "Conversation %d is %s; only an assigned conversation can be pending or snoozed.", convID, cur.Status)
		}
		if cur.AgentID != by.ID && !force {
			return parley.Errorf(parley.EFORBIDDEN, "Conversation %d is not assigned to you.", convID)
		}
		if cur.SubStatus == sub && (sub != parley.SubSnoozed || cur.SnoozedUntil.Equal(until)) {
			c = cur
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET sub_status = $2, snoozed_until = $3, updated_at = now() WHERE id = $1`,
			convID, sub, untilArg); err != nil {
			return fmt.Errorf("set status of conversation %d: %w", convID, err)
		}
		payload := map[string]any{"status": status, "from": subName(cur.SubStatus), "by": by.ID, "reason": "agent"}
		if untilArg != nil {
			payload["until"] = until
		}
		if err := writeEvent(ctx, tx, EventStatusChanged, convID, cur.AgentID, cur.CustomerID, payload); err != nil {
			return err
		}
		changed = true
		c, err = getConversation(ctx, tx, convID, false)
		return err
	})
	return c, changed, err
}

func subName(sub string) string {
	if sub == "" {
		return parley.SubOpen
	}
	return sub
}

// reopenSub makes a waiting conversation open again in the caller's
// transaction (the customer wrote, a transfer), writing the event. It
// reports whether it was waiting.
func reopenSub(ctx context.Context, tx pgx.Tx, convID int64, reason string) (bool, error) {
	var agent, customer int64
	var from string
	err := tx.QueryRow(ctx, `UPDATE conversations n SET sub_status = '', snoozed_until = NULL, updated_at = now()
		FROM (SELECT id, sub_status FROM conversations WHERE id = $1 FOR UPDATE) o
		WHERE n.id = o.id AND o.sub_status <> '' RETURNING COALESCE(n.agent_id, 0), n.customer_id, o.sub_status`, convID).Scan(&agent, &customer, &from)
	if err == pgx.ErrNoRows {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("reopen status of conversation %d: %w", convID, err)
	}
	return true, writeEvent(ctx, tx, EventStatusChanged, convID, agent, customer, map[string]any{"status": parley.SubOpen, "from": from, "reason": reason})
}

// WakeSnoozed makes open again the snoozed conversations whose time came
// (at most 100 per call), writing conversation.status_changed with reason
// "timer". Instances may run it concurrently: each conversation wakes once.
func (db *DB) WakeSnoozed(ctx context.Context, now time.Time) ([]parley.Conversation, error) {
	var out []parley.Conversation
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id FROM conversations WHERE sub_status = 'snoozed' AND snoozed_until <= $1
			ORDER BY snoozed_until LIMIT 100 FOR UPDATE SKIP LOCKED`, now)
		if err != nil {
			return fmt.Errorf("due snoozes: %w", err)
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("due snoozes: %w", err)
		}
		for _, id := range ids {
			if _, err := reopenSub(ctx, tx, id, "timer"); err != nil {
				return err
			}
			c, err := getConversation(ctx, tx, id, false)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// NextSnoozeWake returns the earliest snoozed_until (ok false when none).
func (db *DB) NextSnoozeWake(ctx context.Context) (time.Time, bool, error) {
	var at *time.Time
	if err := db.pool.QueryRow(ctx, `SELECT min(snoozed_until) FROM conversations WHERE sub_status = 'snoozed'`).Scan(&at); err != nil {
		return time.Time{}, false, fmt.Errorf("next snooze: %w", err)
	}
	return nullTime(at), at != nil, nil
}

// EventReopened is written when a resolved conversation is reopened.
const EventReopened = "conversation.reopened"

// Reopen puts a resolved conversation back in its queue (status queued,
// enqueued now) for another cycle; a private system note records it. Only
// its last agent may, unless force. ECONFLICT when the customer already has
// another open conversation in the inbox.
func (db *DB) Reopen(ctx context.Context, convID int64, by parley.Agent, force bool) (c parley.Conversation, previousAgent int64, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := getConversation(ctx, tx, convID, true)
		if err != nil {
			return err
		}
		if cur.Status != parley.StatusResolved {
			return parley.Errorf(parley.ECONFLICT, "Conversation %d is %s; only a resolved conversation can be reopened.", convID, cur.Status)
		}
		if cur.AgentID != by.ID && !force {
			return parley.Errorf(parley.EFORBIDDEN, "Conversation %d was not yours.", convID)
		}
		var other int64
		if err := tx.QueryRow(ctx, `SELECT COALESCE((SELECT id FROM conversations WHERE customer_id = $1 AND inbox_id = $2
			AND status IN ('queued', 'assigned') LIMIT 1), 0)`, cur.CustomerID, cur.InboxID).Scan(&other); err != nil {
			return fmt.Errorf("find open conversation: %w", err)
		}
		if other != 0 {
			return parley.Errorf(parley.ECONFLICT, "The customer has another open conversation (%d) in this inbox; continue that one.", other)
		}
		previousAgent = cur.AgentID
		err = reopenTx(ctx, tx, cur, by.ID, "agent", fmt.Sprintf("%s reopened the conversation.", by.Name))
		if isUniqueViolation(err, "conversations_one_open") {
			return parley.Errorf(parley.ECONFLICT, "The customer has another open conversation in this inbox; continue that one.")
		} else if err != nil {
			return err
		}
		c, err = getConversation(ctx, tx, convID, false)
		return err
	})
	return c, previousAgent, err
}

// reopenTx puts a resolved conversation back in its queue in the caller's
// transaction, writing conversation.reopened and a private system note.
func reopenTx(ctx context.Context, tx pgx.Tx, cur parley.Conversation, by int64, reason, note string) error {
	_, err := tx.Exec(ctx, `UPDATE conversations SET status = 'queued', agent_id = NULL, assigned_at = NULL, resolved_at = NULL,
		disposition = '', sub_status = '', snoozed_until = NULL, enqueued_at = now(), updated_at = now() WHERE id = $1`, cur.ID)
	if err != nil {
		return fmt.Errorf("reopen conversation %d: %w", cur.ID, err)
	}
	if err := writeEvent(ctx, tx, EventReopened, cur.ID, cur.AgentID, cur.CustomerID,
		map[string]any{"by": by, "previous_agent": cur.AgentID, "disposition": cur.Disposition, "reason": reason}); err != nil {
		return err
	}
	_, err = insertMessage(ctx, tx, cur.ID, cur.InboxID, parley.Message{
		Direction: parley.DirectionOut, Private: true, Channel: cur.Channel,
		Sender: parley.MessageSender{Type: parley.SenderSystem, Name: "Parley"}, Body: note,
	}, "")
	return err
}

// reopenForCustomer reopens, for an inbound message, the customer's
// conversation in the inbox resolved within the inbox's reopen window (the
// one an email reply threads to, else the latest; never one resolved as
// spam). pgx.ErrNoRows when there is none; errRetry when a concurrent
// message opened a conversation first.
func reopenForCustomer(ctx context.Context, tx pgx.Tx, in parley.Inbound, inbox parley.InboxConfig, customerID int64) (int64, bool, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM conversations WHERE customer_id = $1 AND inbox_id = $2 AND status = 'resolved'
		AND disposition <> 'spam' AND resolved_at > now() - make_interval(secs => $3) AND ($4 = 0 OR id = $4)
		ORDER BY resolved_at DESC LIMIT 1 FOR UPDATE`, customerID, inbox.ID, inbox.Settings.ReopenWindowS, in.ConversationID).Scan(&id)
	if err != nil {
		return 0, false, err
	}
	cur, err := getConversation(ctx, tx, id, false)
	if err != nil {
		return 0, false, err
	}
	err = reopenTx(ctx, tx, cur, 0, "customer", "The customer wrote again: the conversation is reopened.")
	if isUniqueViolation(err, "conversations_one_open") {
		return 0, false, errRetry
	}
	return id, err == nil, err
}

// EventTagsChanged is written when a conversation's tags change.
const EventTagsChanged = "conversation.tags_changed"

// ChangeTags adds and removes tags of a conversation (any status). by is
// the agent (0 for the system, e.g. an SLA escalation). changed is false
// when nothing changed.
func (db *DB) ChangeTags(ctx context.Context, convID int64, add, remove []string, by int64, reason string) (c parley.Conversation, changed bool, err error) {
	if add, err = parley.NormalizeTags(add); err != nil {
		return c, false, err
	}
	if remove, err = parley.NormalizeTags(remove); err != nil {
		return c, false, err
	}
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := getConversation(ctx, tx, convID, true)
		if err != nil {
			return err
		}
		tags := slices.DeleteFunc(slices.Clone(cur.Tags), func(t string) bool { return slices.Contains(remove, t) })
		var added, removed []string
		for _, t := range cur.Tags {
			if !slices.Contains(tags, t) {
				removed = append(removed, t)
			}
		}
		for _, t := range add {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
				added = append(added, t)
			}
		}
		if len(added) == 0 && len(removed) == 0 {
			c = cur
			return nil
		}
		if len(tags) > parley.MaxTags {
			return parley.Invalid(fmt.Sprintf("A conversation has at most %d tags.", parley.MaxTags), map[string]string{"tags": "too many"})
		}
		slices.Sort(tags)
		if _, err := tx.Exec(ctx, `UPDATE conversations SET tags = $2, updated_at = now() WHERE id = $1`, convID, tags); err != nil {
			return fmt.Errorf("tag conversation %d: %w", convID, err)
		}
		if err := writeEvent(ctx, tx, EventTagsChanged, convID, cur.AgentID, cur.CustomerID,
			map[string]any{"added": nonNil(added), "removed": nonNil(removed), "by": by, "reason": reason}); err != nil {
			return err
		}
		changed = true
		c, err = getConversation(ctx, tx, convID, false)
		return err
	})
	return c, changed, err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ConversationTags lists the tags in use with their number of
// conversations, most used first (at most 200).
func (db *DB) ConversationTags(ctx context.Context) ([]TagCount, error) {
	rows, err := db.pool.Query(ctx, `SELECT t, count(*) FROM conversations, unnest(tags) AS t GROUP BY t ORDER BY count(*) DESC, t LIMIT 200`)
	if err != nil {
		return nil, fmt.Errorf("conversation tags: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TagCount, error) {
		var tc TagCount
		return tc, r.Scan(&tc.Tag, &tc.Conversations)
	})
}

// TagCount is a tag and how many conversations carry it.
type TagCount struct {
	Tag           string `json:"tag"`
	Conversations int    `json:"conversations"`
}
