package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeCustomerImport runs one CSV customer import.
const TypeCustomerImport = "crm:import"

type importPayload struct {
	ImportID int64 `json:"import_id"`
}

// EnqueueImport queues a stored CSV import (once per import). The job
// resumes from the import's progress when retried.
func (c *Client) EnqueueImport(ctx context.Context, importID int64) error {
	payload, _ := json.Marshal(importPayload{ImportID: importID})
	_, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeCustomerImport, payload),
		asynq.Queue(c.queue), asynq.TaskID(fmt.Sprintf("import:%d", importID)),
		asynq.MaxRetry(5), asynq.Timeout(30*time.Minute), asynq.Retention(24*time.Hour))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

// registerImport routes import jobs to h.CustomerImport.
func registerImport(mux *asynq.ServeMux, h Handlers) {
	if h.CustomerImport == nil {
		return
	}
	mux.HandleFunc(TypeCustomerImport, func(ctx context.Context, t *asynq.Task) error {
		var p importPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil {
			return fmt.Errorf("decode %s payload: %v: %w", TypeCustomerImport, err, asynq.SkipRetry)
		}
		return h.CustomerImport(ctx, p.ImportID)
	})
}
