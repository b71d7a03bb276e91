-- +goose Up
-- Waiting on the customer: an assigned conversation may be pending (until
-- the customer writes) or snoozed (until snoozed_until or the customer
-- writes). The routing status (queued/assigned/resolved/abandoned) is
-- unchanged: the conversation keeps its agent and its slot.
ALTER TABLE conversations
    ADD COLUMN sub_status    text NOT NULL DEFAULT '' CHECK (sub_status IN ('', 'pending', 'snoozed')),
    ADD COLUMN snoozed_until timestamptz,
    ADD COLUMN tags          text[] NOT NULL DEFAULT '{}',
    ADD CONSTRAINT conversations_snooze_has_time CHECK ((sub_status = 'snoozed') = (snoozed_until IS NOT NULL));

CREATE INDEX conversations_snoozed_idx ON conversations (snoozed_until) WHERE sub_status = 'snoozed';
CREATE INDEX conversations_tags_idx ON conversations USING gin (tags);

-- A deleted calendar is retired: running clocks keep counting with it.
ALTER TABLE sla_calendars ADD COLUMN deleted_at timestamptz;

-- +goose Down
ALTER TABLE sla_calendars DROP COLUMN deleted_at;
DROP INDEX conversations_tags_idx;
DROP INDEX conversations_snoozed_idx;
ALTER TABLE conversations DROP CONSTRAINT conversations_snooze_has_time,
    DROP COLUMN tags, DROP COLUMN snoozed_until, DROP COLUMN sub_status;
