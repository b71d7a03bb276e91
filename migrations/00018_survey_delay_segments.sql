-- +goose Up
-- Surveys sent a while after resolution, and surveys for CRM segments only.
ALTER TABLE surveys
    -- 0: sent at resolution; otherwise this many seconds after it
    ADD COLUMN delay_s     int NOT NULL DEFAULT 0,
    -- [] = every customer; otherwise customers in one of these segments
    ADD COLUMN segment_ids bigint[] NOT NULL DEFAULT '{}';

-- A delayed survey send: one per conversation, for its latest resolution
-- (event_id, the conversation.resolved event). The asynq task carries the
-- conversation and the event; a task whose event is no longer the row's
-- (resolved again since) or whose row is done finds nothing to do.
CREATE TABLE survey_schedules (
    conversation_id bigint PRIMARY KEY REFERENCES conversations (id),
    survey_id       bigint NOT NULL REFERENCES surveys (id),
    event_id        bigint NOT NULL,
    due_at          timestamptz NOT NULL,
    -- pending → sent | skipped (reopened, capped, no longer applies)
    state           text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'skipped')),
    reason          text NOT NULL DEFAULT '',
    done_at         timestamptz
);
CREATE INDEX survey_schedules_pending_idx ON survey_schedules (due_at) WHERE state = 'pending';

-- +goose Down
DROP TABLE survey_schedules;
ALTER TABLE surveys DROP COLUMN segment_ids, DROP COLUMN delay_s;
