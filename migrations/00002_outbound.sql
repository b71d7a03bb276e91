-- +goose Up
-- The provider's id of an outbound message (Twilio MessageSid, email
-- Message-ID), so status callbacks and bounces find their message.
ALTER TABLE messages ADD COLUMN provider_id text NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN delivery_error text NOT NULL DEFAULT '';
CREATE INDEX messages_provider_id_idx ON messages (inbox_id, provider_id) WHERE provider_id <> '';

-- +goose Down
DROP INDEX messages_provider_id_idx;
ALTER TABLE messages DROP COLUMN delivery_error;
ALTER TABLE messages DROP COLUMN provider_id;
