package jobs

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/parleyhq/parley/internal/testenv"
)

// runWorker runs a worker with h on a fresh queue of the test Redis until
// the test ends, and returns a client of that queue.
func runWorker(t *testing.T, h Handlers) (context.Context, *Client) {
	t.Helper()
	rdb, prefix := testenv.Redis(t)
	queue := prefix + "-jobs"
	w := NewWorker(rdb, queue, h, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { w.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped }) // before the Redis client closes
	return ctx, NewClient(rdb, queue)
}

// TestDelayedSurveyTaskRunsOnceAtItsTime schedules a survey send twice on a
// real asynq and checks it runs once, not before its time, with its
// conversation and event.
func TestDelayedSurveyTaskRunsOnceAtItsTime(t *testing.T) {
	type call struct {
		conv, event int64
		at          time.Time
	}
	calls := make(chan call, 10)
	h := Handlers{SendSurvey: func(ctx context.Context, convID, eventID int64) error {
		calls <- call{convID, eventID, time.Now()}
		return nil
	}}
	ctx, c := runWorker(t, h)
	at := time.Now().Add(2 * time.Second)
	for range 2 { // Reschedule at start-up sets a pending send again
		if err := c.ScheduleSurvey(ctx, 7, 42, at); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case got := <-calls:
		if got.conv != 7 || got.event != 42 {
			t.Errorf("ran for conversation %d, event %d; want 7, 42", got.conv, got.event)
		}
		// asynq keeps whole seconds: up to a second early.
		if got.at.Before(at.Add(-time.Second)) {
			t.Errorf("ran %v before its time", at.Sub(got.at))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the delayed survey never ran")
	}
	select {
	case <-calls:
		t.Fatal("a survey scheduled twice ran twice")
	case <-time.After(700 * time.Millisecond):
	}
}
