package postgres

import (
	"context"
	"fmt"
	"time"
)

// DefaultHandleTime is assumed for a queue with no resolved conversation yet.
const DefaultHandleTime = 3 * time.Minute

// MeanHandleTime is the mean time from assignment to resolution of the
// queue's last 50 resolved conversations (DefaultHandleTime without any).
func (db *DB) MeanHandleTime(ctx context.Context, queueID int64) (time.Duration, error) {
	var aht float64
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(avg(extract(epoch FROM resolved_at - assigned_at)), 0) FROM (
			SELECT resolved_at, assigned_at FROM conversations WHERE queue_id = $1 AND status = 'resolved' AND assigned_at IS NOT NULL
			ORDER BY resolved_at DESC LIMIT 50) r`, queueID).Scan(&aht)
	if err != nil {
		return 0, fmt.Errorf("mean handle time of queue %d: %w", queueID, err)
	}
	if aht <= 0 {
		return DefaultHandleTime, nil
	}
	return time.Duration(aht * float64(time.Second)), nil
}
