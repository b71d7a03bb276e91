-- +goose Up
-- Twilio voice and WhatsApp: connect attempts through jobs, callbacks and
-- voicemails after a queue's maximum wait, and WhatsApp templates.

-- connect_attempt numbers each hand-over of a call to the connect job
-- (the job's idempotency key); mode says what a caller chose after the
-- queue's maximum wait ('' waiting, 'callback', 'voicemail'); direction
-- is 'outbound' for the calls Parley places to call customers back.
ALTER TABLE twilio_calls
    ADD COLUMN connect_attempt int NOT NULL DEFAULT 0,
    ADD COLUMN mode text NOT NULL DEFAULT '' CHECK (mode IN ('', 'callback', 'voicemail')),
    ADD COLUMN overflow_offered_at timestamptz,
    ADD COLUMN direction text NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound'));
-- callback and voicemail: the caller hung up; the conversation waits in its
-- queue as a callback or voicemail task.
ALTER TABLE twilio_calls DROP CONSTRAINT twilio_calls_state_check;
ALTER TABLE twilio_calls ADD CONSTRAINT twilio_calls_state_check
    CHECK (state IN ('ivr', 'queued', 'connecting', 'connected', 'ended', 'callback', 'voicemail'));
DROP INDEX twilio_calls_queued_idx;
CREATE INDEX twilio_calls_queued_idx ON twilio_calls (conversation_id) WHERE state IN ('queued', 'callback');

-- After this many seconds of waiting, callers are offered a callback or a
-- voicemail (0: never).
ALTER TABLE queues ADD COLUMN max_wait_s int NOT NULL DEFAULT 0;

-- An outbound WhatsApp message sent as an approved template (Twilio Content
-- API): the content sid and its variables go to Twilio instead of a body.
CREATE TABLE message_templates (
    message_id  bigint PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    content_sid text NOT NULL,
    variables   jsonb NOT NULL DEFAULT '{}'
);

-- +goose Down
DROP TABLE message_templates;
ALTER TABLE queues DROP COLUMN max_wait_s;
DROP INDEX twilio_calls_queued_idx;
CREATE INDEX twilio_calls_queued_idx ON twilio_calls (conversation_id) WHERE state = 'queued';
ALTER TABLE twilio_calls DROP CONSTRAINT twilio_calls_state_check;
ALTER TABLE twilio_calls ADD CONSTRAINT twilio_calls_state_check
    CHECK (state IN ('ivr', 'queued', 'connecting', 'connected', 'ended'));
ALTER TABLE twilio_calls DROP COLUMN direction, DROP COLUMN overflow_offered_at, DROP COLUMN mode, DROP COLUMN connect_attempt;
