package postgres

import (
	"context"
	"fmt"
	"time"
)

// QueueToday holds a queue's figures since the start of the day.
type QueueToday struct {
	// Offered counts pending offers now.
	Offered int
	// Answered counts conversations assigned today; InTarget those assigned
	// within the service-level seconds of entering the queue.
	Answered, InTarget int
	// AbandonedLate counts conversations abandoned today after the target
	// (they count against the service level).
	AbandonedLate int
}

// ServiceLevel is answered within target ÷ (answered + abandoned after the
// target) × 100, or -1 when nothing was answered or abandoned.
func (q QueueToday) ServiceLevel() float64 {
	d := q.Answered + q.AbandonedLate
	if d == 0 {
		return -1
	}
	return float64(q.InTarget) * 100 / float64(d)
}

// QueuesToday returns today's figures per queue id; targetS maps queue id to
// its service-level seconds.
func (db *DB) QueuesToday(ctx context.Context, since time.Time, targetS map[int64]int) (map[int64]QueueToday, error) {
	out := map[int64]QueueToday{}
	for id := range targetS {
		out[id] = QueueToday{}
	}
	rows, err := db.pool.Query(ctx, `SELECT queue_id, count(*) FROM offers WHERE state = 'pending' GROUP BY queue_id`)
	if err != nil {
		return nil, fmt.Errorf("pending offers: %w", err)
	}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		q := out[id]
		q.Offered = n
		out[id] = q
	}
	rows.Close()
	for id, target := range targetS {
		q := out[id]
		err := db.pool.QueryRow(ctx, `SELECT
			count(*) FILTER (WHERE assigned_at >= $2),
			count(*) FILTER (WHERE assigned_at >= $2 AND assigned_at - enqueued_at <= make_interval(secs => $3)),
			count(*) FILTER (WHERE status = 'abandoned' AND updated_at >= $2 AND updated_at - enqueued_at > make_interval(secs => $3))
			FROM conversations WHERE queue_id = $1 AND enqueued_at IS NOT NULL AND (assigned_at >= $2 OR updated_at >= $2)`,
			id, since, target).Scan(&q.Answered, &q.InTarget, &q.AbandonedLate)
		if err != nil {
			return nil, fmt.Errorf("queue %d today: %w", id, err)
		}
		out[id] = q
	}
	return out, nil
}
