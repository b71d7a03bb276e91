package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parleyhq/parley"
)

// TypeCallConnect connects a waiting call to the agent who accepted it (or
// places an accepted callback) through the provider's REST API.
const TypeCallConnect = "call:connect"

// MaxConnectRetries bounds the retries of connecting a call: the caller is
// waiting, so they are few and quick (see connectRetryDelay); then the
// conversation goes back to its queue.
const MaxConnectRetries = 3

type callPayload struct {
	CallSid string `json:"call_sid"`
	Attempt int    `json:"attempt"`
}

// EnqueueCallConnect queues connect attempt attempt of a call. The task id
// names the call and the attempt, so queuing it twice connects once, while
// a call put back in the queue and accepted again gets a new attempt.
func (c *Client) EnqueueCallConnect(ctx context.Context, sid string, attempt int) error {
	payload, _ := json.Marshal(callPayload{CallSid: sid, Attempt: attempt})
	_, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeCallConnect, payload),
		asynq.Queue(c.queue), asynq.TaskID(fmt.Sprintf("call-connect:%s:%d", sid, attempt)),
		asynq.MaxRetry(MaxConnectRetries), asynq.Timeout(30*time.Second), asynq.Retention(time.Hour))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// connectRetryDelay waits 1 s, 2 s, 4 s (at most 8 s) between attempts to
// connect a call (asynq schedules retries by whole seconds).
func connectRetryDelay(n int) time.Duration {
	return min(time.Second<<min(n, 3), 8*time.Second)
}

// registerCall routes call jobs to h.ConnectCall; a permanent error
// (EINVALID, ENOTFOUND) is not retried.
func registerCall(mux *asynq.ServeMux, h Handlers) {
	if h.ConnectCall == nil {
		return
	}
	mux.HandleFunc(TypeCallConnect, func(ctx context.Context, t *asynq.Task) error {
		var p callPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("decode %s payload: %v: %w", TypeCallConnect, err, asynq.SkipRetry)
		}
		err := h.ConnectCall(ctx, p.CallSid, p.Attempt)
		if c := parley.ErrorCode(err); c == parley.ENOTFOUND || c == parley.EINVALID {
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		return err
	})
}

// callFailed tells h.ConnectCallFailed about a connect job that will not be
// retried.
func callFailed(ctx context.Context, h Handlers, t *asynq.Task, err error) {
	var p callPayload
	if h.ConnectCallFailed != nil && json.Unmarshal(t.Payload(), &p) == nil {
		h.ConnectCallFailed(ctx, p.CallSid, p.Attempt, err)
	}
}
