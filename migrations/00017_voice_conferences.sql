-- +goose Up
-- Accepted Twilio calls are bridged through a named conference per
-- conversation (channels/twilio/conference.go), so supervisors can listen,
-- whisper and barge. The conference and its legs are recorded here, from
-- the connect job and the conference status callbacks, so any instance
-- can act on them.
CREATE TABLE voice_conferences (
    conversation_id   bigint PRIMARY KEY REFERENCES conversations (id),
    inbox_id          bigint NOT NULL REFERENCES inboxes (id),
    name              text NOT NULL UNIQUE,
    conference_sid    text,
    customer_call_sid text NOT NULL,
    agent_call_sid    text,
    started_at        timestamptz,
    ended_at          timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

-- One row per leg (call) that joined a conference: the customer, the agent
-- and supervisors (agent_id is the supervisor; mode listen, whisper or barge).
CREATE TABLE voice_conference_legs (
    call_sid        text PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES voice_conferences (conversation_id),
    role            text NOT NULL CHECK (role IN ('customer', 'agent', 'supervisor')),
    agent_id        bigint REFERENCES agents (id),
    mode            text NOT NULL DEFAULT '' CHECK (mode IN ('', 'listen', 'whisper', 'barge')),
    muted           boolean NOT NULL DEFAULT false,
    coaching        boolean NOT NULL DEFAULT false,
    joined_at       timestamptz,
    left_at         timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX voice_conference_legs_conversation_idx ON voice_conference_legs (conversation_id);

-- +goose Down
DROP TABLE voice_conference_legs;
DROP TABLE voice_conferences;
