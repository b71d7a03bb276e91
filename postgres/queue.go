package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

const queueColumns = `id, name, media, priority, offer_timeout_s, max_parallel_offers, service_level, members, steps,
	aging, proficiency_first, sticky_window_s, wrap_up_s, paused, short_abandon_s, created_at, updated_at, max_wait_s`

func scanQueue(row pgx.Row) (parley.Queue, error) {
	var q parley.Queue
	var media []string
	err := row.Scan(&q.ID, &q.Name, &media, &q.Priority, &q.OfferTimeoutS, &q.MaxParallelOffers, &q.ServiceLevel,
		&q.Members, &q.Steps, &q.Aging, &q.ProficiencyFirst, &q.StickyWindowS, &q.WrapUpS, &q.Paused, &q.ShortAbandonS,
		&q.CreatedAt, &q.UpdatedAt, &q.MaxWaitS)
	for _, m := range media {
		q.Media = append(q.Media, parley.Media(m))
	}
	q.CreatedAt, q.UpdatedAt = q.CreatedAt.UTC(), q.UpdatedAt.UTC()
	return q, err
}

// CreateQueue stores a new queue.
func (db *DB) CreateQueue(ctx context.Context, q *parley.Queue) error {
	q.Defaults()
	if err := q.Validate(); err != nil {
		return err
	}
	got, err := scanQueue(db.pool.QueryRow(ctx, `INSERT INTO queues (name, media, priority, offer_timeout_s, max_parallel_offers, service_level, members, steps,
			aging, proficiency_first, sticky_window_s, wrap_up_s, paused, short_abandon_s, max_wait_s)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING `+queueColumns,
		q.Name, mediaStrings(q.Media), q.Priority, q.OfferTimeoutS, q.MaxParallelOffers, q.ServiceLevel, q.Members, q.Steps,
		q.Aging, q.ProficiencyFirst, q.StickyWindowS, q.WrapUpS, q.Paused, q.ShortAbandonS, q.MaxWaitS))
	if isUniqueViolation(err, "queues_name_key") {
		return parley.Invalid("Invalid queue.", map[string]string{"name": "already in use"})
	} else if err != nil {
		return fmt.Errorf("insert queue: %w", err)
	}
	*q = got
	return nil
}

// Queue returns a queue by id.
func (db *DB) Queue(ctx context.Context, id int64) (parley.Queue, error) {
	q, err := scanQueue(db.pool.QueryRow(ctx, `SELECT `+queueColumns+` FROM queues WHERE id = $1`, id))
	if err != nil {
		return q, notFound(err, "queue", id)
	}
	return q, nil
}

// Queues returns every queue ordered by id.
func (db *DB) Queues(ctx context.Context) ([]parley.Queue, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+queueColumns+` FROM queues ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list queues: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (parley.Queue, error) { return scanQueue(r) })
}

// UpdateQueue replaces a queue's settings.
func (db *DB) UpdateQueue(ctx context.Context, q *parley.Queue) error {
	q.Defaults()
	if err := q.Validate(); err != nil {
		return err
	}
	got, err := scanQueue(db.pool.QueryRow(ctx, `UPDATE queues SET name = $2, media = $3, priority = $4, offer_timeout_s = $5,
		max_parallel_offers = $6, service_level = $7, members = $8, steps = $9, aging = $10, proficiency_first = $11,
		sticky_window_s = $12, wrap_up_s = $13, paused = $14, short_abandon_s = $15, max_wait_s = $16, updated_at = now() WHERE id = $1 RETURNING `+queueColumns,
		q.ID, q.Name, mediaStrings(q.Media), q.Priority, q.OfferTimeoutS, q.MaxParallelOffers, q.ServiceLevel, q.Members, q.Steps,
		q.Aging, q.ProficiencyFirst, q.StickyWindowS, q.WrapUpS, q.Paused, q.ShortAbandonS, q.MaxWaitS))
	if isUniqueViolation(err, "queues_name_key") {
		return parley.Invalid("Invalid queue.", map[string]string{"name": "already in use"})
	} else if err != nil {
		return notFound(err, "queue", q.ID)
	}
	*q = got
	return nil
}

// QueueMembers expands a queue's members (agent ids and team:<name>) to the
// ids of existing agents.
func (db *DB) QueueMembers(ctx context.Context, q parley.Queue) ([]int64, error) {
	var ids []int64
	var teams []string
	for _, m := range q.Members {
		if name, ok := strings.CutPrefix(m, "team:"); ok {
			teams = append(teams, name)
		} else if id, err := strconv.ParseInt(m, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	rows, err := db.pool.Query(ctx, `SELECT id FROM agents WHERE deleted_at IS NULL AND (id = ANY($1) OR id IN (
		SELECT tm.agent_id FROM team_members tm JOIN teams t ON t.id = tm.team_id WHERE t.name = ANY($2))) ORDER BY id`, ids, teams)
	if err != nil {
		return nil, fmt.Errorf("queue %d members: %w", q.ID, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
