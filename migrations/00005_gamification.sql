-- +goose Up
-- Gamification: an append-only points ledger derived from the events outbox,
-- badges, quests, per-agent privacy and the admin-configurable rule set.
-- Leaderboards live in Redis sorted sets and are rebuilt from the ledger.

-- One row: the processor's cursor in the events table, the first-contact-
-- resolution scan's cursor and the admin settings (rules, time zone) as JSON
-- merged over the defaults compiled into package gamification.
CREATE TABLE gamification_state (
    id               boolean PRIMARY KEY DEFAULT true CHECK (id),
    event_cursor     bigint NOT NULL DEFAULT 0,
    fcr_cursor_at    timestamptz NOT NULL DEFAULT 'epoch',
    fcr_cursor_id    bigint NOT NULL DEFAULT 0,
    week_checked     text NOT NULL DEFAULT '',
    settings         jsonb NOT NULL DEFAULT '{}',
    settings_by      bigint REFERENCES agents (id) ON DELETE SET NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
INSERT INTO gamification_state DEFAULT VALUES;

-- Every award and deduction. Never updated or deleted: a reopen is a new,
-- negative row. dedupe makes processing idempotent: "event:<id>" for rows
-- driven by an event (so one event awards a rule to an agent once) and
-- "conversation:<id>" for once-per-conversation rules (first response,
-- first-contact resolution).
CREATE TABLE gamification_ledger (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id        bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    rule            text NOT NULL,
    points          int NOT NULL,
    conversation_id bigint,
    event_id        bigint,
    dedupe          text NOT NULL,
    reason          text NOT NULL DEFAULT '',
    detail          jsonb NOT NULL DEFAULT '{}',
    -- the agent's teams when the row was written, so leaderboards rebuild exactly
    team_ids        bigint[] NOT NULL DEFAULT '{}',
    -- when it was earned (the event's time); day caps and periods use it
    at              timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (agent_id, rule, dedupe)
);
CREATE INDEX gamification_ledger_agent_idx ON gamification_ledger (agent_id, rule, at);
CREATE INDEX gamification_ledger_conversation_idx ON gamification_ledger (conversation_id) WHERE conversation_id IS NOT NULL;
CREATE INDEX gamification_ledger_at_idx ON gamification_ledger (at);

CREATE TABLE gamification_badges (
    agent_id  bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    badge     text NOT NULL,
    earned_at timestamptz NOT NULL,
    PRIMARY KEY (agent_id, badge)
);

-- Per-agent preferences; an agent without a row is public.
CREATE TABLE gamification_agents (
    agent_id   bigint PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    public     boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Time-boxed goals set by supervisors, for one agent or a team.
CREATE TABLE quests (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    title      text NOT NULL,
    scope      text NOT NULL CHECK (scope IN ('agent', 'team')),
    agent_id   bigint REFERENCES agents (id) ON DELETE CASCADE,
    team_id    bigint REFERENCES teams (id) ON DELETE CASCADE,
    metric     text NOT NULL,
    target     int NOT NULL CHECK (target > 0),
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    created_by bigint REFERENCES agents (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((scope = 'agent' AND agent_id IS NOT NULL) OR (scope = 'team' AND team_id IS NOT NULL))
);
CREATE INDEX quests_time_idx ON quests (ends_at);

-- +goose Down
DROP TABLE quests, gamification_agents, gamification_badges, gamification_ledger, gamification_state;
