package jobs

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestSLATimersFireWithinTheLatencyBudget schedules timers at scattered
// sub-second instants on a real asynq and measures how late each handler
// starts work once it has waited for its instant (what sla.Service.Fire
// does with timers asynq delivers early: it keeps whole seconds).
func TestSLATimersFireWithinTheLatencyBudget(t *testing.T) {
	var mu sync.Mutex
	var late []time.Duration
	done := make(chan struct{}, 100)
	h := Handlers{SLATimer: func(ctx context.Context, clockID int64, kind string, at time.Time) error {
		if d := time.Until(at); d > 0 {
			time.Sleep(d)
		}
		mu.Lock()
		late = append(late, time.Since(at))
		mu.Unlock()
		done <- struct{}{}
		return nil
	}}
	ctx, c := runWorker(t, h)
	const n = 24
	start := time.Now().Add(time.Second)
	for i := range n {
		at := start.Add(time.Duration(i) * 137 * time.Millisecond) // every sub-second phase
		if err := c.ScheduleSLA(ctx, int64(i+1), "breach", at); err != nil {
			t.Fatal(err)
		}
		if err := c.ScheduleSLA(ctx, int64(i+1), "breach", at); err != nil { // idempotent
			t.Fatal(err)
		}
	}
	for range n {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d timers fired", len(late), n)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	slices.Sort(late)
	t.Logf("lateness over %d timers: min %v, median %v, max %v", n, late[0], late[n/2], late[n-1])
	if late[n-1] > 1500*time.Millisecond {
		t.Fatalf("a timer fired %v late; want within 1.5 s", late[n-1])
	}
	select {
	case <-done:
		t.Fatal("a timer scheduled twice fired twice")
	case <-time.After(300 * time.Millisecond):
	}
}
