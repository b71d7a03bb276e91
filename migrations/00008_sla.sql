-- +goose Up
-- SLA: business-hours calendars, policies, per-conversation SLA state and
-- the clocks themselves (history kept: a stopped or replaced clock stays).
-- Deadlines live here; asynq only holds timers rebuilt from these rows.

CREATE TABLE sla_calendars (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    timezone      text NOT NULL,
    -- {"mon": [{"start": "09:00", "end": "18:00"}], ...}
    weekly        jsonb NOT NULL DEFAULT '{}',
    workday_hours jsonb NOT NULL DEFAULT '[]',
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Holidays (closed) and make-up working days (open) of a calendar.
CREATE TABLE sla_calendar_days (
    calendar_id bigint NOT NULL REFERENCES sla_calendars (id) ON DELETE CASCADE,
    day         date NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name        text NOT NULL DEFAULT '',
    -- a workday's own hours ([] = the calendar's workday_hours)
    hours       jsonb NOT NULL DEFAULT '[]',
    PRIMARY KEY (calendar_id, day)
);

CREATE TABLE sla_policies (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL,
    position       int NOT NULL DEFAULT 0,
    enabled        boolean NOT NULL DEFAULT true,
    match          jsonb NOT NULL DEFAULT '{}',
    targets        jsonb NOT NULL DEFAULT '{}',
    business_hours boolean NOT NULL DEFAULT false,
    calendar_id    bigint REFERENCES sla_calendars (id),
    warn_percent   int NOT NULL DEFAULT 75 CHECK (warn_percent BETWEEN 1 AND 99),
    escalations    jsonb NOT NULL DEFAULT '[]',
    -- deleted policies stay for the clocks that ran under them
    deleted_at     timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- One row: the SLA processor's cursor in the events outbox.
CREATE TABLE sla_state (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    event_cursor bigint NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- Start after the events that exist: conversations from before SLA policies
-- existed get no clocks (an API read of one computes them from its history).
INSERT INTO sla_state (event_cursor) SELECT COALESCE(max(id), 0) FROM events;

-- What the clock rules remember of a conversation. last_event_id makes
-- applying events idempotent, so timers may catch a conversation up
-- before they fire.
CREATE TABLE sla_conversations (
    conversation_id  bigint PRIMARY KEY REFERENCES conversations (id),
    policy_id        bigint REFERENCES sla_policies (id),
    started          boolean NOT NULL DEFAULT false,
    first_replied    boolean NOT NULL DEFAULT false,
    answered         boolean NOT NULL DEFAULT false,
    resolved         boolean NOT NULL DEFAULT false,
    waiting          boolean NOT NULL DEFAULT false,
    unanswered_since timestamptz,
    opened_at        timestamptz,
    last_event_id    bigint NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sla_clocks (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id),
    kind            text NOT NULL CHECK (kind IN ('first_response', 'next_response', 'resolution', 'answer')),
    cycle           int NOT NULL DEFAULT 1,
    policy_id       bigint REFERENCES sla_policies (id),
    -- the policy's terms when the clock started (later edits do not move it)
    target_s        int NOT NULL CHECK (target_s > 0),
    business_hours  boolean NOT NULL DEFAULT false,
    calendar_id     bigint REFERENCES sla_calendars (id),
    warn_percent    int NOT NULL DEFAULT 75,
    status          text NOT NULL CHECK (status IN ('running', 'paused', 'stopped')),
    outcome         text NOT NULL DEFAULT '' CHECK (outcome IN ('', 'met', 'breached', 'canceled', 'replaced')),
    started_at      timestamptz NOT NULL,
    -- business time (microseconds) counted before running_since
    elapsed_us      bigint NOT NULL DEFAULT 0,
    running_since   timestamptz,
    warn_at         timestamptz,
    due_at          timestamptz,
    warned_at       timestamptz,
    breached_at     timestamptz,
    stopped_at      timestamptz,
    previous_id     bigint REFERENCES sla_clocks (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'running') = (running_since IS NOT NULL)),
    CHECK ((status = 'stopped') = (outcome <> '' AND stopped_at IS NOT NULL))
);
CREATE INDEX sla_clocks_conversation_idx ON sla_clocks (conversation_id, id);
-- one live clock per conversation and kind
CREATE UNIQUE INDEX sla_clocks_live_key ON sla_clocks (conversation_id, kind) WHERE status IN ('running', 'paused');
-- the reconciler's and the at-risk list's work list
CREATE INDEX sla_clocks_running_idx ON sla_clocks (due_at) WHERE status = 'running';

-- +goose Down
DROP TABLE sla_clocks, sla_conversations, sla_state, sla_policies, sla_calendar_days, sla_calendars;
