-- +goose Up
-- Feedback items: complaints, suggestions and praise tracked to closure,
-- opened by agents or by rules (detractor survey answers, complaint
-- keywords), each with its own due time and an optional follow-up task (a
-- conversation routed into a chosen queue).

-- One row: the rule runner's cursor in the events outbox and the admin
-- settings (JSON merged over the defaults compiled into package feedback).
CREATE TABLE feedback_state (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),
    event_cursor bigint NOT NULL,
    settings     jsonb NOT NULL DEFAULT '{}',
    settings_by  bigint REFERENCES agents (id) ON DELETE SET NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- Start after the events already written: old answers and messages open nothing.
INSERT INTO feedback_state (event_cursor) SELECT COALESCE(max(id), 0) FROM events;

CREATE TABLE feedback_items (
    id                       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                     text NOT NULL CHECK (kind IN ('complaint', 'suggestion', 'praise')),
    category                 text NOT NULL,
    summary                  text NOT NULL DEFAULT '',
    status                   text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'resolved')),
    source                   text NOT NULL CHECK (source IN ('agent', 'survey', 'keyword')),
    keyword                  text NOT NULL DEFAULT '',
    owner_id                 bigint REFERENCES agents (id) ON DELETE SET NULL,
    customer_id              bigint NOT NULL REFERENCES customers (id),
    conversation_id          bigint REFERENCES conversations (id),
    survey_request_id        bigint REFERENCES survey_requests (id),
    survey_question          text NOT NULL DEFAULT '',
    message_id               bigint REFERENCES messages (id),
    created_by               bigint REFERENCES agents (id) ON DELETE SET NULL,
    due_at                   timestamptz NOT NULL,
    followup_queue_id        bigint REFERENCES queues (id),
    followup_conversation_id bigint REFERENCES conversations (id),
    resolution               text NOT NULL DEFAULT '',
    -- rule items: "survey:<request id>", "keyword:<conversation id>"
    dedupe                   text UNIQUE,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    resolved_at              timestamptz
);
CREATE INDEX feedback_items_status_idx ON feedback_items (status, due_at);
CREATE INDEX feedback_items_owner_idx ON feedback_items (owner_id, status);
CREATE INDEX feedback_items_customer_idx ON feedback_items (customer_id);
CREATE INDEX feedback_items_created_idx ON feedback_items (created_at);
-- follow-ups still to open (the customer had an open conversation in the inbox)
CREATE INDEX feedback_items_followup_idx ON feedback_items (id)
    WHERE followup_queue_id IS NOT NULL AND followup_conversation_id IS NULL AND status <> 'resolved';

-- Multi-question surveys: the question an SMS/WhatsApp reply answers next,
-- and the provider id of each answer (replays).
ALTER TABLE survey_requests ADD COLUMN awaiting text;
UPDATE survey_requests SET awaiting = (SELECT s.questions->0->>'key' FROM surveys s WHERE s.id = survey_id) WHERE status = 'sent';
ALTER TABLE survey_answers ADD COLUMN answer_key text;

-- Rating-conditioned quests: the mean CSAT the quest's conversations must
-- reach for the quest to count as completed.
ALTER TABLE quests ADD COLUMN min_csat numeric(3, 2) CHECK (min_csat IS NULL OR (min_csat >= 1 AND min_csat <= 5));

-- +goose Down
ALTER TABLE quests DROP COLUMN min_csat;
ALTER TABLE survey_answers DROP COLUMN answer_key;
ALTER TABLE survey_requests DROP COLUMN awaiting;
DROP TABLE feedback_items;
DROP TABLE feedback_state;
