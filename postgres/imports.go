package postgres

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
)

// Import is a CSV import's state and validation report.
type Import struct {
	ID         int64             `json:"id,string"`
	Status     string            `json:"status"` // queued, running, done, failed
	Mapping    map[string]string `json:"mapping"`
	Region     string            `json:"region"`
	TotalRows  int               `json:"total_rows"`
	Processed  int               `json:"processed"`
	Created    int               `json:"created"`
	Updated    int               `json:"updated"`
	Failed     int               `json:"failed"`
	Errors     []crm.ImportError `json:"errors"`
	Error      string            `json:"error,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	FinishedAt *time.Time        `json:"finished_at,omitempty"`
}

// maxReportedErrors bounds the validation report kept with an import.
const maxReportedErrors = 1000

const importColumns = `id, status, mapping, region, total_rows, processed, created, updated, failed, errors, error, created_at, finished_at`

func scanImport(row pgx.Row) (Import, error) {
	var im Import
	err := row.Scan(&im.ID, &im.Status, &im.Mapping, &im.Region, &im.TotalRows, &im.Processed, &im.Created, &im.Updated, &im.Failed,
		&im.Errors, &im.Error, &im.CreatedAt, &im.FinishedAt)
	im.CreatedAt = im.CreatedAt.UTC()
	if im.Errors == nil {
		im.Errors = []crm.ImportError{}
	}
	return im, err
}

// CreateImport stores a CSV file to import with its (validated) mapping.
func (db *DB) CreateImport(ctx context.Context, data []byte, mapping map[string]string, region string, total int, by parley.Agent) (Import, error) {
	im, err := scanImport(db.pool.QueryRow(ctx, `INSERT INTO customer_imports (data, mapping, region, total_rows, created_by)
		VALUES ($1, $2, $3, $4, NULLIF($5, 0)) RETURNING `+importColumns, data, mapping, region, total, by.ID))
	if err != nil {
		return im, fmt.Errorf("create import: %w", err)
	}
	return im, nil
}

// Import returns an import's state and report.
func (db *DB) Import(ctx context.Context, id int64) (Import, error) {
	im, err := scanImport(db.pool.QueryRow(ctx, `SELECT `+importColumns+` FROM customer_imports WHERE id = $1`, id))
	if err != nil {
		return im, notFound(err, "import", id)
	}
	return im, nil
}

// importBatch is how many rows one transaction imports (and how often
// progress is written).
const importBatch = 100

// RunImport imports a stored CSV file in batches of rows, each batch in a
// transaction with the progress, so a retried job resumes where it
// stopped. Rows with any error are skipped and reported (row, field,
// reason). An existing active customer with the row's email (profile or
// identity), else its phone, is updated: non-empty cells replace values,
// attributes are merged, tags united; otherwise a customer is created.
// The email and phone become identities unless another customer has them.
// The file is dropped when the import ends.
func (db *DB) RunImport(ctx context.Context, id int64) error {
	var data []byte
	var im Import
	var creator int64
	err := db.pool.QueryRow(ctx, `UPDATE customer_imports SET status = 'running' WHERE id = $1 AND status IN ('queued', 'running')
		RETURNING data, mapping, region, processed, COALESCE(created_by, 0)`, id).Scan(&data, &im.Mapping, &im.Region, &im.Processed, &creator)
	if err == pgx.ErrNoRows {
		return nil // already finished
	} else if err != nil {
		return fmt.Errorf("start import %d: %w", id, err)
	}
	by := parley.Agent{ID: creator, Role: "import"}
	fail := func(cause error) error {
		_, err := db.pool.Exec(ctx, `UPDATE customer_imports SET status = 'failed', error = $2, data = NULL, finished_at = now() WHERE id = $1`, id, cause.Error())
		return err
	}
	header, rows, err := crm.ReadCSV(data)
	if err != nil {
		return fail(err)
	}
	list, err := db.AttributeDefs(ctx)
	if err != nil {
		return err
	}
	defs := crm.DefsByKey(list)
	for start := im.Processed; start < len(rows); start += importBatch {
		end := min(start+importBatch, len(rows))
		err := db.inTx(ctx, func(tx pgx.Tx) error {
			var created, updated, failed int
			var report []crm.ImportError
			for i := start; i < end; i++ {
				pt, errs := crm.ImportRow(i+2, header, rows[i], im.Mapping, im.Region, defs)
				if len(errs) == 0 {
					isNew, err := importInSavepoint(ctx, tx, pt, defs, by)
					if pe := parley.ErrorFields(err); pe != nil {
						for _, k := range slices.Sorted(maps.Keys(pe)) {
							errs = append(errs, crm.ImportError{Row: i + 2, Field: k, Reason: pe[k]})
						}
					} else if err != nil {
						return err
					} else if isNew {
						created++
					} else {
						updated++
					}
				}
				if len(errs) > 0 {
					failed++
					report = append(report, errs...)
				}
			}
			if report == nil {
				report = []crm.ImportError{}
			}
			_, err := tx.Exec(ctx, `UPDATE customer_imports SET processed = $2, created = created + $3, updated = updated + $4, failed = failed + $5,
				errors = CASE WHEN jsonb_array_length(errors) < $6 THEN errors || $7::jsonb ELSE errors END WHERE id = $1`,
				id, end, created, updated, failed, maxReportedErrors, report)
			return err
		})
		if err != nil {
			return fmt.Errorf("import %d rows %d-%d: %w", id, start+2, end+1, err)
		}
	}
	_, err = db.pool.Exec(ctx, `UPDATE customer_imports SET status = 'done', data = NULL, finished_at = now() WHERE id = $1`, id)
	return err
}

// importInSavepoint imports a row in a savepoint, so a row refused late
// leaves nothing behind.
func importInSavepoint(ctx context.Context, tx pgx.Tx, pt crm.Patch, defs map[string]crm.AttributeDef, by parley.Agent) (bool, error) {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return false, err
	}
	isNew, err := importCustomer(ctx, sp, pt, defs, by)
	if err != nil {
		sp.Rollback(ctx)
		return false, err
	}
	return isNew, sp.Commit(ctx)
}

// importCustomer applies one validated row; it reports whether it created
// a customer. A validation error (e.g. a stage rule) comes back as invalid.
func importCustomer(ctx context.Context, tx pgx.Tx, pt crm.Patch, defs map[string]crm.AttributeDef, by parley.Agent) (bool, error) {
	var email, phone string
	if pt.Email != nil {
		email, _ = crm.NormalizeEmail(*pt.Email)
	}
	if pt.Phone != nil {
		phone = *pt.Phone
	}
	var id int64
	err := tx.QueryRow(ctx, `SELECT c.id FROM customers c WHERE c.merged_into IS NULL AND c.erased_at IS NULL AND (
			($1 <> '' AND (lower(c.email) = $1 OR EXISTS (SELECT 1 FROM customer_identities ci WHERE ci.customer_id = c.id AND ci.channel = 'email' AND ci.address = $1)))
			OR ($2 <> '' AND (c.phone = $2 OR EXISTS (SELECT 1 FROM customer_identities ci WHERE ci.customer_id = c.id
				AND ci.channel IN ('sms', 'whatsapp', 'voice') AND ci.address IN ($2, 'whatsapp:' || $2)))))
		ORDER BY ($1 <> '' AND (lower(c.email) = $1 OR EXISTS (SELECT 1 FROM customer_identities ci WHERE ci.customer_id = c.id AND ci.channel = 'email' AND ci.address = $1))) DESC, c.id
		LIMIT 1`, email, phone).Scan(&id)
	isNew := err == pgx.ErrNoRows
	if err != nil && !isNew {
		return false, fmt.Errorf("find customer: %w", err)
	}
	if isNew {
		if err := tx.QueryRow(ctx, `INSERT INTO customers DEFAULT VALUES RETURNING id`).Scan(&id); err != nil {
			return false, fmt.Errorf("create customer: %w", err)
		}
	}
	p, err := getProfile(ctx, tx, id, true)
	if err != nil {
		return false, err
	}
	if pt.Tags != nil {
		tags, _ := crm.MergeTags(p.Tags, *pt.Tags)
		pt.Tags = &tags
	}
	oldStage := p.Stage
	if err := pt.Apply(&p, defs); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, `UPDATE customers SET name = $2, email = $3, phone = $4, company = $5, locale = $6, timezone = $7,
		lifecycle_stage = $8, tags = $9, attributes = $10, timezone_source = $11, updated_at = now() WHERE id = $1`,
		id, p.Name, p.Email, p.Phone, p.Company, p.Locale, p.Timezone, p.Stage, p.Tags, p.Attributes, p.TimezoneSource); err != nil {
		return false, fmt.Errorf("save customer %d: %w", id, err)
	}
	if !isNew && oldStage != p.Stage {
		if err := recordStage(ctx, tx, id, oldStage, p.Stage, crm.ReasonImport, by.ID); err != nil {
			return false, err
		}
	}
	if email != "" {
		if err := addIdentity(ctx, tx, id, parley.Identity{Channel: parley.ChannelEmail, Address: email}); err != nil {
			return false, err
		}
	}
	if phone != "" {
		if err := addIdentity(ctx, tx, id, parley.Identity{Channel: parley.ChannelSMS, Address: phone}); err != nil {
			return false, err
		}
	}
	return isNew, logAccess(ctx, tx, id, by, "import", nil)
}

// exportColumns are the fixed columns of a customer CSV export; one column
// per defined attribute and other_attributes (JSON) follow.
var exportColumns = []string{"id", "name", "email", "phone", "company", "locale", "timezone", "lifecycle_stage", "tags", "created_at"}

// ExportCustomersCSV writes the active customers matching q and filter (a
// segment's, or all) as CSV, newest first, in keyset pages, and logs each
// customer's export.
func (db *DB) ExportCustomersCSV(ctx context.Context, w io.Writer, q string, filter *crm.Filter, by parley.Agent) error {
	list, err := db.AttributeDefs(ctx)
	if err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	head := slices.Clone(exportColumns)
	for _, d := range list {
		head = append(head, "attributes."+d.Key)
	}
	cw.Write(append(head, "other_attributes"))
	var before int64
	for {
		page, err := db.SearchCustomers(ctx, by, q, filter, before, 500)
		if err != nil {
			return err
		}
		ids := make([]int64, 0, len(page))
		for _, p := range page {
			rec := []string{fmt.Sprint(p.ID), p.Name, p.Email, p.Phone, p.Company, p.Locale, p.Timezone, p.Stage,
				strings.Join(p.Tags, ";"), p.CreatedAt.Format(time.RFC3339)}
			other := maps.Clone(p.Attributes)
			for _, d := range list {
				rec = append(rec, p.Attributes[d.Key])
				delete(other, d.Key)
			}
			extra := ""
			if len(other) > 0 {
				b, _ := json.Marshal(other)
				extra = string(b)
			}
			rec = append(rec, extra)
			for i := range rec {
				rec[i] = crm.CSVCell(rec[i])
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
			ids = append(ids, p.ID)
		}
		if len(ids) > 0 {
			if _, err := db.pool.Exec(ctx, `INSERT INTO customer_access_log (customer_id, actor_id, actor_role, action)
				SELECT unnest($1::bigint[]), NULLIF($2, 0), $3, 'csv_export'`, ids, by.ID, string(by.Role)); err != nil {
				return fmt.Errorf("log export: %w", err)
			}
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		if len(page) < 500 {
			return nil
		}
		before = page[len(page)-1].ID
	}
}
