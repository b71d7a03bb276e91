package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley/crm"
)

// CRMSettings returns the lifecycle rules and routing boosts (the defaults
// until an admin sets them).
func (db *DB) CRMSettings(ctx context.Context) (crm.Settings, error) {
	return crmSettings(ctx, db.pool, false)
}

func crmSettings(ctx context.Context, q querier, lock bool) (crm.Settings, error) {
	sql := `SELECT settings FROM crm_settings`
	if lock {
		sql += ` FOR UPDATE`
	}
	var raw []byte
	if err := q.QueryRow(ctx, sql).Scan(&raw); err != nil {
		return crm.Settings{}, fmt.Errorf("crm settings: %w", err)
	}
	s := crm.DefaultSettings()
	if string(raw) == "{}" {
		return s, nil
	}
	s.StageBoosts, s.TagBoosts = nil, nil
	if err := json.Unmarshal(raw, &s); err != nil {
		return s, fmt.Errorf("crm settings: %w", err)
	}
	return s, nil
}

// SetCRMSettings stores validated settings.
func (db *DB) SetCRMSettings(ctx context.Context, s crm.Settings) error {
	if _, err := db.pool.Exec(ctx, `UPDATE crm_settings SET settings = $1, updated_at = now()`, s); err != nil {
		return fmt.Errorf("save crm settings: %w", err)
	}
	return nil
}

// setStage moves a customer to a stage and records the change (history,
// customer.lifecycle event).
func setStage(ctx context.Context, tx pgx.Tx, customerID int64, from, to, reason string, actorID int64) error {
	if _, err := tx.Exec(ctx, `UPDATE customers SET lifecycle_stage = $2, updated_at = now() WHERE id = $1`, customerID, to); err != nil {
		return fmt.Errorf("set stage of customer %d: %w", customerID, err)
	}
	return recordStage(ctx, tx, customerID, from, to, reason, actorID)
}

func recordStage(ctx context.Context, tx pgx.Tx, customerID int64, from, to, reason string, actorID int64) error {
	if _, err := tx.Exec(ctx, `INSERT INTO customer_lifecycle_changes (customer_id, from_stage, to_stage, reason, actor_id)
		VALUES ($1, $2, $3, $4, NULLIF($5, 0))`, customerID, from, to, reason, actorID); err != nil {
		return fmt.Errorf("record stage change of customer %d: %w", customerID, err)
	}
	return writeEvent(ctx, tx, "customer.lifecycle", 0, actorID, customerID, map[string]any{"from": from, "to": to, "by": reason})
}

// FollowLifecycle is one step of the lifecycle rules: under the lock of its
// cursor row it reads the events outbox and applies the repeat-contacts
// rule to conversation.created and the low-satisfaction rule to
// survey.answered. It returns how many events it read and stages it moved.
func (db *DB) FollowLifecycle(ctx context.Context, limit int, gapWait time.Duration) (processed, moved int, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		processed, moved = 0, 0
		evs, err := followOutbox(ctx, tx, "crm_settings", limit, gapWait)
		if err != nil || len(evs) == 0 {
			return err
		}
		s, err := crmSettings(ctx, tx, false)
		if err != nil {
			return err
		}
		for _, e := range evs {
			if e.customer == 0 || (e.typ != "conversation.created" && e.typ != "survey.answered") {
				continue
			}
			p, err := getProfile(ctx, tx, e.customer, true)
			if err != nil {
				return err
			}
			if p.MergedInto != 0 || p.ErasedAt != nil {
				continue
			}
			to, reason, ok := "", "", false
			if e.typ == "conversation.created" {
				var total, recent int
				if err := tx.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE created_at > now() - $2 * interval '1 day')
					FROM conversations WHERE customer_id = $1`, e.customer, s.LoyalWindowDays).Scan(&total, &recent); err != nil {
					return fmt.Errorf("count contacts: %w", err)
				}
				to, ok = s.StageOnContact(p.Stage, total, recent)
				reason = crm.ReasonRepeatContacts
			} else {
				kind, _ := e.payload["kind"].(string)
				if score, isNum := e.payload["score"].(float64); isNum {
					to, reason, ok = s.StageOnSurvey(p.Stage, kind, int(score))
				}
			}
			if ok {
				if err := setStage(ctx, tx, p.ID, p.Stage, to, reason, 0); err != nil {
					return err
				}
				moved++
			}
		}
		processed = len(evs)
		return advanceOutbox(ctx, tx, "crm_settings", evs)
	})
	return processed, moved, err
}

// ChurnInactive is the inactivity rule, run at most once per every across
// instances: customers, loyal and at-risk customers whose last
// conversation (or creation, without one) is older than the inactive days
// become churned. It returns how many moved.
func (db *DB) ChurnInactive(ctx context.Context, every time.Duration) (int, error) {
	moved := 0
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		moved = 0
		var due bool
		if err := tx.QueryRow(ctx, `SELECT inactivity_checked_at IS NULL OR inactivity_checked_at < now() - $1 * interval '1 second'
			FROM crm_settings FOR UPDATE`, every.Seconds()).Scan(&due); err != nil {
			return fmt.Errorf("crm inactivity check: %w", err)
		}
		if !due {
			return nil
		}
		s, err := crmSettings(ctx, tx, false)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE crm_settings SET inactivity_checked_at = now()`); err != nil {
			return err
		}
		if s.InactiveDays == 0 {
			return nil
		}
		rows, err := tx.Query(ctx, `SELECT c.id, c.lifecycle_stage FROM customers c
			WHERE c.lifecycle_stage = ANY ($1) AND c.merged_into IS NULL AND c.erased_at IS NULL
			AND COALESCE((SELECT max(cv.created_at) FROM conversations cv WHERE cv.customer_id = c.id), c.created_at) < now() - $2 * interval '1 day'
			ORDER BY c.id FOR UPDATE OF c`, crm.InactiveStages, s.InactiveDays)
		if err != nil {
			return fmt.Errorf("inactive customers: %w", err)
		}
		type cs struct {
			id    int64
			stage string
		}
		list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (cs, error) {
			var c cs
			return c, r.Scan(&c.id, &c.stage)
		})
		if err != nil {
			return fmt.Errorf("inactive customers: %w", err)
		}
		for _, c := range list {
			if err := setStage(ctx, tx, c.id, c.stage, crm.StageChurned, crm.ReasonInactive, 0); err != nil {
				return err
			}
		}
		moved = len(list)
		return nil
	})
	return moved, err
}

// PriorityBoost is the priority a new conversation of the customer gets
// on top of its own: the boost of its stage, its tags and the segments it
// is in (crm.Settings.Boost).
func (db *DB) PriorityBoost(ctx context.Context, customerID int64) (int, error) {
	s, err := db.CRMSettings(ctx)
	if err != nil {
		return 0, err
	}
	p, err := db.Profile(ctx, customerID)
	if err != nil {
		return 0, err
	}
	seg, err := db.segmentBoost(ctx, customerID)
	if err != nil {
		return 0, err
	}
	return s.Boost(p.Stage, p.Tags, seg), nil
}
