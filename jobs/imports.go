package jobs

import (
	"context"
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
	return c.enqueueOnce(ctx, TypeCustomerImport, importPayload{ImportID: importID},
		asynq.TaskID(fmt.Sprintf("import:%d", importID)),
		asynq.MaxRetry(5), asynq.Timeout(30*time.Minute), asynq.Retention(24*time.Hour))
}

// registerImport routes import jobs to h.CustomerImport.
func registerImport(mux *asynq.ServeMux, h Handlers) {
	if h.CustomerImport == nil {
		return
	}
	handleJSON(mux, TypeCustomerImport, func(ctx context.Context, p importPayload) error {
		return h.CustomerImport(ctx, p.ImportID)
	})
}
