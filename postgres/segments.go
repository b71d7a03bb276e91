package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
)

// filterSQL turns a segment filter into conditions on customers c (active
// customers only), appending its arguments to args.
func filterSQL(f crm.Filter, args *[]any) string {
	arg := func(v any) string {
		*args = append(*args, v)
		return fmt.Sprintf("$%d", len(*args))
	}
	conds := []string{"c.merged_into IS NULL", "c.erased_at IS NULL"}
	if len(f.Stages) > 0 {
		conds = append(conds, "c.lifecycle_stage = ANY ("+arg(f.Stages)+")")
	}
	if len(f.Tags) > 0 {
		conds = append(conds, "c.tags @> "+arg(f.Tags)+"::text[]")
	}
	if len(f.Attributes) > 0 {
		conds = append(conds, "c.attributes @> "+arg(f.Attributes)+"::jsonb")
	}
	if len(f.Channels) > 0 {
		conds = append(conds, "EXISTS (SELECT 1 FROM customer_identities ci WHERE ci.customer_id = c.id AND ci.channel = ANY ("+arg(f.Channels)+"))")
	}
	if f.ContactWithinDays > 0 {
		conds = append(conds, "EXISTS (SELECT 1 FROM conversations cv WHERE cv.customer_id = c.id AND cv.created_at > now() - "+arg(f.ContactWithinDays)+" * interval '1 day')")
	}
	if f.NoContactDays > 0 {
		conds = append(conds, "NOT EXISTS (SELECT 1 FROM conversations cv WHERE cv.customer_id = c.id AND cv.created_at > now() - "+arg(f.NoContactDays)+" * interval '1 day')")
	}
	latest := func(kind string) string {
		return `(SELECT a.score FROM survey_answers a JOIN survey_requests r ON r.id = a.request_id
			WHERE r.customer_id = c.id AND a.kind = '` + kind + `' AND a.score IS NOT NULL ORDER BY a.answered_at DESC LIMIT 1)`
	}
	bound := func(kind, op string, v *int) {
		if v != nil {
			conds = append(conds, latest(kind)+" "+op+" "+arg(*v))
		}
	}
	bound("csat", ">=", f.CSATAtLeast)
	bound("csat", "<=", f.CSATAtMost)
	bound("nps", ">=", f.NPSAtLeast)
	bound("nps", "<=", f.NPSAtMost)
	return strings.Join(conds, " AND ")
}

const segmentColumns = `id, name, filter, priority_boost, created_at`

func scanSegment(row pgx.Row) (crm.Segment, error) {
	var s crm.Segment
	err := row.Scan(&s.ID, &s.Name, &s.Filter, &s.PriorityBoost, &s.CreatedAt)
	s.CreatedAt = s.CreatedAt.UTC()
	return s, err
}

// CreateSegment stores a validated segment.
func (db *DB) CreateSegment(ctx context.Context, s *crm.Segment, by parley.Agent) error {
	err := db.pool.QueryRow(ctx, `INSERT INTO segments (name, filter, priority_boost, created_by) VALUES ($1, $2, $3, NULLIF($4, 0))
		RETURNING id, created_at`, s.Name, s.Filter, s.PriorityBoost, by.ID).Scan(&s.ID, &s.CreatedAt)
	if isUniqueViolation(err, "") {
		return parley.Invalid("A segment of that name exists.", map[string]string{"name": "taken"})
	}
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	s.CreatedAt = s.CreatedAt.UTC()
	return nil
}

// UpdateSegment replaces a segment's name, filter and boost (validated).
func (db *DB) UpdateSegment(ctx context.Context, s *crm.Segment) error {
	err := db.pool.QueryRow(ctx, `UPDATE segments SET name = $2, filter = $3, priority_boost = $4 WHERE id = $1 RETURNING created_at`,
		s.ID, s.Name, s.Filter, s.PriorityBoost).Scan(&s.CreatedAt)
	if isUniqueViolation(err, "") {
		return parley.Invalid("A segment of that name exists.", map[string]string{"name": "taken"})
	}
	if err == pgx.ErrNoRows {
		return parley.Errorf(parley.ENOTFOUND, "segment %d not found.", s.ID)
	}
	if err != nil {
		return fmt.Errorf("update segment %d: %w", s.ID, err)
	}
	s.CreatedAt = s.CreatedAt.UTC()
	return nil
}

// Segments lists the segments by name.
func (db *DB) Segments(ctx context.Context) ([]crm.Segment, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+segmentColumns+` FROM segments ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("segments: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.Segment, error) { return scanSegment(r) })
	if out == nil {
		out = []crm.Segment{}
	}
	return out, err
}

// Segment returns a segment.
func (db *DB) Segment(ctx context.Context, id int64) (crm.Segment, error) {
	s, err := scanSegment(db.pool.QueryRow(ctx, `SELECT `+segmentColumns+` FROM segments WHERE id = $1`, id))
	if err != nil {
		return s, notFound(err, "segment", id)
	}
	return s, nil
}

// DeleteSegment removes a segment.
func (db *DB) DeleteSegment(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM segments WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("delete segment %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENOTFOUND, "segment %d not found.", id)
	}
	return nil
}

// SegmentSize counts a filter's members.
func (db *DB) SegmentSize(ctx context.Context, f crm.Filter) (int, error) {
	var args []any
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM customers c WHERE `+filterSQL(f, &args), args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("segment size: %w", err)
	}
	return n, nil
}

// segmentBoost sums the priority boosts of the segments the customer is in.
func (db *DB) segmentBoost(ctx context.Context, customerID int64) (int, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+segmentColumns+` FROM segments WHERE priority_boost > 0 ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("boosting segments: %w", err)
	}
	segs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.Segment, error) { return scanSegment(r) })
	if err != nil {
		return 0, fmt.Errorf("boosting segments: %w", err)
	}
	total := 0
	for _, s := range segs {
		in, err := inSegment(ctx, db.pool, customerID, s)
		if err != nil {
			return 0, err
		}
		if in {
			total += s.PriorityBoost
		}
	}
	return total, nil
}

// inSegment reports whether a customer is a member of segment s (its
// filter holds for them now).
func inSegment(ctx context.Context, q querier, customerID int64, s crm.Segment) (bool, error) {
	args := []any{customerID}
	var in bool
	if err := q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customers c WHERE c.id = $1 AND `+filterSQL(s.Filter, &args)+`)`, args...).Scan(&in); err != nil {
		return false, fmt.Errorf("segment %d membership: %w", s.ID, err)
	}
	return in, nil
}

// inAnySegment reports whether a customer is a member of at least one of
// the segments ids; no ids means every customer. A deleted segment has no
// members.
func inAnySegment(ctx context.Context, q querier, customerID int64, ids []int64) (bool, error) {
	if len(ids) == 0 {
		return true, nil
	}
	rows, err := q.Query(ctx, `SELECT `+segmentColumns+` FROM segments WHERE id = ANY ($1) ORDER BY id`, ids)
	if err != nil {
		return false, fmt.Errorf("segments %v: %w", ids, err)
	}
	segs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (crm.Segment, error) { return scanSegment(r) })
	if err != nil {
		return false, fmt.Errorf("segments %v: %w", ids, err)
	}
	for _, s := range segs {
		if in, err := inSegment(ctx, q, customerID, s); err != nil || in {
			return in, err
		}
	}
	return false, nil
}

// checkSegmentIDs refuses ids that name no segment (EINVALID on
// segment_ids[i]).
func checkSegmentIDs(ctx context.Context, q querier, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := q.Query(ctx, `SELECT id FROM segments WHERE id = ANY ($1)`, ids)
	if err != nil {
		return fmt.Errorf("check segments: %w", err)
	}
	found, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("check segments: %w", err)
	}
	f := map[string]string{}
	for i, id := range ids {
		if !slices.Contains(found, id) {
			f[fmt.Sprintf("segment_ids[%d]", i)] = fmt.Sprintf("no segment %d", id)
		}
	}
	if len(f) > 0 {
		return parley.Invalid("Unknown segment.", f)
	}
	return nil
}
