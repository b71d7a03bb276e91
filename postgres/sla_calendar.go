package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

// DeleteCalendar retires a calendar: it disappears from lists and cannot be
// chosen again, while clocks that started with it keep counting its hours.
// ECONFLICT while a policy that is not retired uses it (its name is freed
// for a new calendar).
func (s *SLA) DeleteCalendar(ctx context.Context, id int64) error {
	return s.db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT name FROM sla_policies WHERE calendar_id = $1 AND deleted_at IS NULL ORDER BY position, id`, id)
		if err != nil {
			return fmt.Errorf("policies of calendar %d: %w", id, err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return fmt.Errorf("policies of calendar %d: %w", id, err)
		}
		if len(names) > 0 {
			return parley.Errorf(parley.ECONFLICT, "The calendar is used by the policies %s; change or delete them first.", strings.Join(names, ", "))
		}
		tag, err := tx.Exec(ctx, `UPDATE sla_calendars SET deleted_at = now(), updated_at = now(), name = name || ' (deleted ' || id || ')'
			WHERE id = $1 AND deleted_at IS NULL`, id)
		if err != nil {
			return fmt.Errorf("delete calendar %d: %w", id, err)
		} else if tag.RowsAffected() == 0 {
			return parley.Errorf(parley.ENOTFOUND, "SLA calendar %d not found.", id)
		}
		return nil
	})
}
