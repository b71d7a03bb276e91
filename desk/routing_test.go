package desk

import (
	"testing"
	"time"
)

func TestEstimatedWait(t *testing.T) {
	aht := 4 * time.Minute
	for _, tt := range []struct {
		pos, free, available int
		want                 time.Duration
	}{
		{0, 1, 1, 0},               // a free slot is waiting for it
		{2, 3, 2, 0},               // enough free slots for everyone ahead
		{0, 0, 0, 4 * time.Minute}, // nobody available: one handle time per task
		{3, 0, 2, 8 * time.Minute}, // 4 tasks shared by 2 agents
		{5, 2, 4, 4 * time.Minute}, // 4 tasks beyond the free slots, 4 agents
	} {
		if got := EstimatedWait(tt.pos, tt.free, tt.available, aht); got != tt.want {
			t.Errorf("EstimatedWait(%d, %d, %d) = %v; want %v", tt.pos, tt.free, tt.available, got, tt.want)
		}
	}
}
