package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SetMessageTemplate marks an outbound message as a WhatsApp template: its
// delivery sends the content sid and variables (a JSON object) instead of
// the body.
func (db *DB) SetMessageTemplate(ctx context.Context, messageID int64, contentSid, variables string) error {
	if !json.Valid([]byte(variables)) {
		return fmt.Errorf("template variables of message %d are not JSON", messageID)
	}
	if _, err := db.pool.Exec(ctx, `INSERT INTO message_templates (message_id, content_sid, variables) VALUES ($1, $2, $3::jsonb)
		ON CONFLICT (message_id) DO NOTHING`, messageID, contentSid, variables); err != nil {
		return fmt.Errorf("set template of message %d: %w", messageID, err)
	}
	return nil
}

// MessageTemplate returns the content sid and variables of a message sent
// as a template; ok is false for any other message.
func (db *DB) MessageTemplate(ctx context.Context, messageID int64) (contentSid, variables string, ok bool, err error) {
	err = db.pool.QueryRow(ctx, `SELECT content_sid, variables::text FROM message_templates WHERE message_id = $1`, messageID).Scan(&contentSid, &variables)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", false, nil
	} else if err != nil {
		return "", "", false, fmt.Errorf("template of message %d: %w", messageID, err)
	}
	return contentSid, variables, true, nil
}
