-- +goose Up
CREATE TABLE surveys (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL,
    enabled          boolean NOT NULL DEFAULT true,
    channels         text[] NOT NULL DEFAULT '{}',
    queue_ids        bigint[] NOT NULL DEFAULT '{}',
    trigger          text NOT NULL DEFAULT 'resolved',
    cap_days         int NOT NULL DEFAULT 0,
    reply_window_min int NOT NULL DEFAULT 1440,
    link_ttl_hours   int NOT NULL DEFAULT 168,
    intro            jsonb NOT NULL DEFAULT '{}',
    questions        jsonb NOT NULL DEFAULT '[]',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One survey sent for one conversation.
CREATE TABLE survey_requests (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survey_id       bigint NOT NULL REFERENCES surveys (id),
    conversation_id bigint NOT NULL REFERENCES conversations (id) UNIQUE,
    customer_id     bigint NOT NULL REFERENCES customers (id),
    inbox_id        bigint NOT NULL REFERENCES inboxes (id),
    queue_id        bigint NOT NULL REFERENCES queues (id),
    -- the agent who resolved it, and every agent who handled it
    agent_id        bigint REFERENCES agents (id),
    agent_ids       bigint[] NOT NULL DEFAULT '{}',
    channel         text NOT NULL,
    locale          text NOT NULL DEFAULT '',
    -- sent → answered; sent → lapsed (SMS: the next message was no answer)
    status          text NOT NULL DEFAULT 'sent' CHECK (status IN ('sent', 'answered', 'lapsed')),
    -- the outbound message carrying it (SMS, WhatsApp, email)
    message_id      bigint REFERENCES messages (id),
    -- the inbound message that answered it (provider id, for replays)
    answer_key      text,
    sent_at         timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    answered_at     timestamptz
);
CREATE INDEX survey_requests_customer_idx ON survey_requests (customer_id, sent_at DESC);
CREATE INDEX survey_requests_sent_idx ON survey_requests (sent_at);

CREATE TABLE survey_answers (
    request_id  bigint NOT NULL REFERENCES survey_requests (id) ON DELETE CASCADE,
    question    text NOT NULL,
    kind        text NOT NULL,
    score       int,
    comment     text NOT NULL DEFAULT '',
    answered_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, question)
);

-- The survey sender's position in the events outbox.
CREATE TABLE survey_state (
    event_cursor bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- Start after the events already written: old resolutions get no survey.
INSERT INTO survey_state (event_cursor) SELECT COALESCE(max(id), 0) FROM events;

-- +goose Down
DROP TABLE survey_state;
DROP TABLE survey_answers;
DROP TABLE survey_requests;
DROP TABLE surveys;
