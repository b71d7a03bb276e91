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
	Attempt int    `json:"attempt,omitempty"`
	// AtUS is when an overflow is due, in Unix microseconds.
	AtUS int64 `json:"at_us,omitempty"`
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
		return permanent(h.ConnectCall(ctx, p.CallSid, p.Attempt))
	})
	if h.CallOverflow == nil {
		return
	}
	mux.HandleFunc(TypeCallOverflow, func(ctx context.Context, t *asynq.Task) error {
		var p callPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("decode %s payload: %v: %w", TypeCallOverflow, err, asynq.SkipRetry)
		}
		if wait := time.Until(time.UnixMicro(p.AtUS)); wait > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		return permanent(h.CallOverflow(ctx, p.CallSid))
	})
}

// permanent marks EINVALID and ENOTFOUND errors as not to be retried.
func permanent(err error) error {
	if c := parley.ErrorCode(err); c == parley.ENOTFOUND || c == parley.EINVALID {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}

// callFailed tells h.ConnectCallFailed about a connect job that will not be
// retried.
func callFailed(ctx context.Context, h Handlers, t *asynq.Task, err error) {
	var p callPayload
	if h.ConnectCallFailed != nil && json.Unmarshal(t.Payload(), &p) == nil {
		h.ConnectCallFailed(ctx, p.CallSid, p.Attempt, err)
	}
}

// TypeCallOverflow interrupts a waiting caller's hold music when they reach
// their queue's maximum wait, so the callback/voicemail offer comes on
// time.
const TypeCallOverflow = "call:overflow"

// ScheduleCallOverflow schedules the overflow of a waiting call at at (once
// per call: the task id names it). asynq schedules by whole seconds, so the
// handler waits for the instant.
func (c *Client) ScheduleCallOverflow(ctx context.Context, sid string, at time.Time) error {
	payload, _ := json.Marshal(callPayload{CallSid: sid, AtUS: at.UnixMicro()})
	_, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeCallOverflow, payload),
		asynq.Queue(c.queue), asynq.TaskID("call-overflow:"+sid), asynq.ProcessAt(at),
		asynq.MaxRetry(2), asynq.Timeout(30*time.Second), asynq.Retention(time.Hour))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}
