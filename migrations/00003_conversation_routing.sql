-- +goose Up
-- What a channel knows about a conversation beyond the common columns.
ALTER TABLE conversations ADD COLUMN subject text NOT NULL DEFAULT '';
-- skills required on top of the queue's steps (e.g. chosen in an IVR)
ALTER TABLE conversations ADD COLUMN require jsonb NOT NULL DEFAULT '{}';
-- channel facts: call sid, recording url, duration ...
ALTER TABLE conversations ADD COLUMN meta jsonb NOT NULL DEFAULT '{}';
-- Email threads: a customer may have several open email conversations.
DROP INDEX conversations_one_open;
CREATE UNIQUE INDEX conversations_one_open ON conversations (customer_id, inbox_id)
    WHERE status IN ('queued', 'assigned') AND channel <> 'email';

-- +goose Down
DROP INDEX conversations_one_open;
CREATE UNIQUE INDEX conversations_one_open ON conversations (customer_id, inbox_id) WHERE status IN ('queued', 'assigned');
ALTER TABLE conversations DROP COLUMN meta;
ALTER TABLE conversations DROP COLUMN require;
ALTER TABLE conversations DROP COLUMN subject;
