// Package jobs runs Parley's background work on asynq: delivering outbound
// messages through their channels, with retries and an idempotency key.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/parleyhq/parley"
	"github.com/redis/go-redis/v9"
)

// TypeDeliver delivers one outbound message.
const TypeDeliver = "message:deliver"

// MaxDeliveryRetries bounds the attempts to deliver a message.
const MaxDeliveryRetries = 12

type deliverPayload struct {
	MessageID int64 `json:"message_id"`
}

// Client queues jobs.
type Client struct {
	c     *asynq.Client
	queue string
}

// NewClient returns a client that queues into the named asynq queue.
func NewClient(rdb redis.UniversalClient, queue string) *Client {
	return &Client{c: asynq.NewClientFromRedisClient(rdb), queue: queue}
}

// EnqueueDelivery queues the delivery of a message. The task id is derived
// from the message, so queuing it twice delivers it once.
func (c *Client) EnqueueDelivery(ctx context.Context, messageID int64) error {
	payload, _ := json.Marshal(deliverPayload{MessageID: messageID})
	_, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeDeliver, payload),
		asynq.Queue(c.queue), asynq.TaskID(fmt.Sprintf("deliver:%d", messageID)),
		asynq.MaxRetry(MaxDeliveryRetries), asynq.Timeout(30*time.Second), asynq.Retention(24*time.Hour))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// enqueueOnce queues a task of type typ with payload (as JSON) into the
// client's queue; opts should name a task id, and a task queued already
// under it is no error.
func (c *Client) enqueueOnce(ctx context.Context, typ string, payload any, opts ...asynq.Option) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode %s payload: %w", typ, err)
	}
	_, err = c.c.EnqueueContext(ctx, asynq.NewTask(typ, b), append([]asynq.Option{asynq.Queue(c.queue)}, opts...)...)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// handleJSON routes tasks of type typ to fn with their JSON payload
// decoded; a payload that does not decode is not retried.
func handleJSON[P any](mux *asynq.ServeMux, typ string, fn func(ctx context.Context, p P) error) {
	mux.HandleFunc(typ, func(ctx context.Context, t *asynq.Task) error {
		var p P
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("decode %s payload: %v: %w", typ, err, asynq.SkipRetry)
		}
		return fn(ctx, p)
	})
}

// Handlers are what the jobs do.
type Handlers struct {
	// Deliver sends a stored outbound message through its channel.
	Deliver func(ctx context.Context, messageID int64) error
	// DeliveryFailed is told when a message's retries are exhausted.
	DeliveryFailed func(ctx context.Context, messageID int64)
	// SLATimer fires an SLA clock's warning or breach set for at (jobs/sla.go).
	SLATimer func(ctx context.Context, clockID int64, kind string, at time.Time) error
	// CustomerImport runs a stored CSV customer import (jobs/imports.go).
	CustomerImport func(ctx context.Context, importID int64) error
	// ConnectCall connects a call to its agent (jobs/call.go);
	// ConnectCallFailed is told when its retries are exhausted.
	ConnectCall       func(ctx context.Context, sid string, attempt int) error
	ConnectCallFailed func(ctx context.Context, sid string, attempt int, err error)
	// CallOverflow offers a waiting caller a callback or a voicemail at
	// their queue's maximum wait.
	CallOverflow func(ctx context.Context, sid string) error
	// SendSurvey sends a delayed survey (jobs/surveys.go).
	SendSurvey func(ctx context.Context, convID, eventID int64) error
}

// Worker processes jobs until its context ends, then drains.
type Worker struct {
	srv *asynq.Server
	mux *asynq.ServeMux
}

// NewWorker returns a worker for the named queue.
func NewWorker(rdb redis.UniversalClient, queue string, h Handlers, log *slog.Logger) *Worker {
	alog := &logger{log: log.With("component", "asynq")}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:       10,
		Queues:            map[string]int{queue: 1},
		Logger:            alog,
		LogLevel:          asynq.WarnLevel,
		TaskCheckInterval: 50 * time.Millisecond,
		// Scheduled tasks (SLA timers) move to pending within this; see docs/sla.md.
		DelayedTaskCheckInterval: 250 * time.Millisecond,
		ShutdownTimeout:          10 * time.Second,
		RetryDelayFunc: func(n int, err error, t *asynq.Task) time.Duration {
			if t.Type() == TypeCallConnect {
				return connectRetryDelay(n)
			}
			// 1 s, 2 s, 4 s … capped at 5 minutes.
			return min(time.Duration(1<<min(n, 9))*time.Second, 5*time.Minute)
		},
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			log.Warn("job failed", "type", t.Type(), "retry", retried, "max_retry", maxRetry, "error", err)
			final := retried >= maxRetry || errors.Is(err, asynq.SkipRetry)
			if t.Type() == TypeCallConnect && final {
				callFailed(ctx, h, t, err)
			}
			var p deliverPayload
			if t.Type() == TypeDeliver && json.Unmarshal(t.Payload(), &p) == nil &&
				(retried >= maxRetry || errors.Is(err, asynq.SkipRetry)) && h.DeliveryFailed != nil {
				h.DeliveryFailed(ctx, p.MessageID)
			}
		}),
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeDeliver, func(ctx context.Context, t *asynq.Task) error {
		var p deliverPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("decode %s payload: %v: %w", TypeDeliver, err, asynq.SkipRetry)
		}
		err := h.Deliver(ctx, p.MessageID)
		if c := parley.ErrorCode(err); c == parley.ENOTFOUND || c == parley.EINVALID {
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		return err
	})
	registerSLA(mux, h)
	registerImport(mux, h)
	registerCall(mux, h)
	registerSurvey(mux, h)
	return &Worker{srv: srv, mux: mux}
}

// Run processes jobs until ctx ends, then waits for running jobs (up to the
// shutdown timeout) before returning.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.srv.Start(w.mux); err != nil {
		return fmt.Errorf("start job worker: %w", err)
	}
	<-ctx.Done()
	w.srv.Shutdown()
	return nil
}

// logger adapts slog to asynq's Logger.
type logger struct{ log *slog.Logger }

func (l *logger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }
func (l *logger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...)) }
func (l *logger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...)) }
func (l *logger) Error(args ...any) { l.log.Error(fmt.Sprint(args...)) }
func (l *logger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...)) }
