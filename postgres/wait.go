package postgres

import (
	"context"
	"fmt"
	"time"
)

// DefaultHandleTime is assumed for a queue with no resolved conversation yet.
const DefaultHandleTime = 3 * time.Minute

// EstimatedWait estimates how long the conversation at 0-based position pos
// of a queue will wait: (pos + 1) × the queue's mean handle time (assignment
// to resolution, last 50 resolved conversations) ÷ the number of agents
// handling the queue's conversations now (at least 1).
func (db *DB) EstimatedWait(ctx context.Context, queueID int64, pos int) (time.Duration, error) {
	var aht float64
	var agents int
	err := db.pool.QueryRow(ctx, `SELECT
		COALESCE((SELECT avg(extract(epoch FROM resolved_at - assigned_at)) FROM (
			SELECT resolved_at, assigned_at FROM conversations WHERE queue_id = $1 AND status = 'resolved' AND assigned_at IS NOT NULL
			ORDER BY resolved_at DESC LIMIT 50) r), 0),
		(SELECT count(DISTINCT agent_id) FROM conversations WHERE queue_id = $1 AND status = 'assigned')`, queueID).Scan(&aht, &agents)
	if err != nil {
		return 0, fmt.Errorf("estimate wait in queue %d: %w", queueID, err)
	}
	handle := DefaultHandleTime
	if aht > 0 {
		handle = time.Duration(aht * float64(time.Second))
	}
	return time.Duration(pos+1) * handle / time.Duration(max(agents, 1)), nil
}
