package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
)

// AttributeDefs returns the custom attribute definitions by key.
func (db *DB) AttributeDefs(ctx context.Context) ([]crm.AttributeDef, error) {
	return attributeDefs(ctx, db.pool)
}

func attributeDefs(ctx context.Context, q querier) ([]crm.AttributeDef, error) {
	rows, err := q.Query(ctx, `SELECT key, label, type, options FROM customer_attribute_defs ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("attribute definitions: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[crm.AttributeDef])
	if out == nil {
		out = []crm.AttributeDef{}
	}
	return out, err
}

// PutAttributeDef creates or replaces a (validated) definition; created
// reports which. Values already stored are not rewritten.
func (db *DB) PutAttributeDef(ctx context.Context, d crm.AttributeDef) (created bool, err error) {
	err = db.pool.QueryRow(ctx, `INSERT INTO customer_attribute_defs (key, label, type, options) VALUES ($1, $2, $3, $4)
		ON CONFLICT (key) DO UPDATE SET label = EXCLUDED.label, type = EXCLUDED.type, options = EXCLUDED.options, updated_at = now()
		RETURNING xmax = 0`, d.Key, d.Label, d.Type, d.Options).Scan(&created)
	if err != nil {
		return false, fmt.Errorf("save attribute definition %s: %w", d.Key, err)
	}
	return created, nil
}

// DeleteAttributeDef removes a definition (values stay, as free text).
func (db *DB) DeleteAttributeDef(ctx context.Context, key string) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM customer_attribute_defs WHERE key = $1`, key)
	if err != nil {
		return fmt.Errorf("delete attribute definition %s: %w", key, err)
	}
	if tag.RowsAffected() == 0 {
		return parley.Errorf(parley.ENOTFOUND, "Attribute %q is not defined.", key)
	}
	return nil
}
