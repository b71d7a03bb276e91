package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeSLATimer fires an SLA clock's warning or breach at its instant.
const TypeSLATimer = "sla:timer"

type slaPayload struct {
	ClockID int64  `json:"clock_id"`
	Kind    string `json:"kind"`
	// AtUS is the instant in Unix microseconds (PostgreSQL's precision).
	AtUS int64 `json:"at_us"`
}

// ScheduleSLA sets a timer for an SLA clock's warning or breach at at. The
// task id names the clock, the kind and the instant, so scheduling the same
// timer twice (the reconciler, a replayed event) sets it once, while a moved
// deadline gets a new timer and the old one finds nothing to do. asynq keeps
// scheduled tasks by whole seconds, so a timer may arrive up to a second
// early: the handler waits for the instant.
func (c *Client) ScheduleSLA(ctx context.Context, clockID int64, kind string, at time.Time) error {
	return c.enqueueOnce(ctx, TypeSLATimer, slaPayload{ClockID: clockID, Kind: kind, AtUS: at.UnixMicro()},
		asynq.TaskID(fmt.Sprintf("sla:%d:%s:%d", clockID, kind, at.UnixMicro())),
		asynq.ProcessAt(at), asynq.MaxRetry(5), asynq.Timeout(30*time.Second))
}

// registerSLA routes SLA timers to h.SLATimer.
func registerSLA(mux *asynq.ServeMux, h Handlers) {
	if h.SLATimer == nil {
		return
	}
	handleJSON(mux, TypeSLATimer, func(ctx context.Context, p slaPayload) error {
		return h.SLATimer(ctx, p.ClockID, p.Kind, time.UnixMicro(p.AtUS))
	})
}
