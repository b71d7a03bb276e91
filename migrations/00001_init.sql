-- +goose Up
CREATE TABLE teams (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL,
    email         text NOT NULL,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    -- skill name → proficiency 1..5
    skills        jsonb NOT NULL DEFAULT '{}',
    languages     text[] NOT NULL DEFAULT '{}',
    -- media → slots
    capacity      jsonb NOT NULL DEFAULT '{"voice": 1, "chat": 3, "email": 5}',
    deleted_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX agents_email_key ON agents (lower(email)) WHERE deleted_at IS NULL;

CREATE TABLE team_members (
    team_id  bigint NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, agent_id)
);
CREATE INDEX team_members_agent_idx ON team_members (agent_id);

CREATE TABLE sessions (
    token_hash bytea PRIMARY KEY,
    agent_id   bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_agent_idx ON sessions (agent_id);

CREATE TABLE queues (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text NOT NULL UNIQUE,
    media               text[] NOT NULL DEFAULT '{chat}',
    priority            int NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 100),
    offer_timeout_s     int NOT NULL DEFAULT 20 CHECK (offer_timeout_s > 0),
    max_parallel_offers int NOT NULL DEFAULT 1 CHECK (max_parallel_offers > 0),
    service_level       jsonb NOT NULL DEFAULT '{"percent": 80, "seconds": 20}',
    -- agent ids and "team:<name>"
    members             text[] NOT NULL DEFAULT '{}',
    -- [{"require": {"billing": 4}, "expire_after_s": 30}, ...]
    steps               jsonb NOT NULL DEFAULT '[]',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inboxes (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel    text NOT NULL,
    name       text NOT NULL,
    queue_id   bigint NOT NULL REFERENCES queues (id),
    settings   jsonb NOT NULL DEFAULT '{}',
    -- channel credentials, AES-GCM sealed with PARLEY_SECRET_KEY; never returned
    secrets    bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name            text NOT NULL DEFAULT '',
    email           text NOT NULL DEFAULT '',
    phone           text NOT NULL DEFAULT '',
    locale          text NOT NULL DEFAULT '',
    attributes      jsonb NOT NULL DEFAULT '{}',
    tags            text[] NOT NULL DEFAULT '{}',
    lifecycle_stage text NOT NULL DEFAULT 'lead',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customer_identities (
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel     text NOT NULL,
    address     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, address)
);
CREATE INDEX customer_identities_customer_idx ON customer_identities (customer_id);

-- Web-chat visitors' bearer tokens (only the SHA-256 is stored).
CREATE TABLE visitor_sessions (
    token_hash  bytea PRIMARY KEY,
    inbox_id    bigint NOT NULL REFERENCES inboxes (id) ON DELETE CASCADE,
    customer_id bigint NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    -- what the visitor chose in the pre-chat form, used for the next conversation
    topic       text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    inbox_id    bigint NOT NULL REFERENCES inboxes (id),
    queue_id    bigint NOT NULL REFERENCES queues (id),
    channel     text NOT NULL,
    status      text NOT NULL CHECK (status IN ('queued', 'assigned', 'resolved', 'abandoned')),
    agent_id    bigint REFERENCES agents (id),
    topic       text NOT NULL DEFAULT '',
    priority    int NOT NULL DEFAULT 0,
    last_seq    bigint NOT NULL DEFAULT 0,
    disposition text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    enqueued_at timestamptz,
    assigned_at timestamptz,
    resolved_at timestamptz,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_customer_idx ON conversations (customer_id, id DESC);
CREATE INDEX conversations_open_idx ON conversations (status, queue_id) WHERE status IN ('queued', 'assigned');
CREATE INDEX conversations_agent_idx ON conversations (agent_id) WHERE status = 'assigned';
-- at most one open conversation per customer and inbox
CREATE UNIQUE INDEX conversations_one_open ON conversations (customer_id, inbox_id) WHERE status IN ('queued', 'assigned');

CREATE TABLE messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id),
    inbox_id        bigint NOT NULL REFERENCES inboxes (id),
    seq             bigint NOT NULL,
    direction       text NOT NULL CHECK (direction IN ('in', 'out')),
    private         boolean NOT NULL DEFAULT false,
    sender_type     text NOT NULL CHECK (sender_type IN ('customer', 'agent', 'system')),
    sender_id       bigint,
    sender_name     text NOT NULL DEFAULT '',
    channel         text NOT NULL,
    body            text NOT NULL,
    attachments     jsonb NOT NULL DEFAULT '[]',
    delivery        text NOT NULL DEFAULT '',
    -- the message's id at its source (provider id, client_msg_id), unique per inbox
    dedupe_key      text,
    client_msg_id   text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (conversation_id, seq)
);
CREATE UNIQUE INDEX messages_dedupe_key ON messages (inbox_id, dedupe_key) WHERE dedupe_key IS NOT NULL;

CREATE TABLE offers (
    id              text PRIMARY KEY,
    conversation_id bigint NOT NULL REFERENCES conversations (id),
    agent_id        bigint NOT NULL REFERENCES agents (id),
    queue_id        bigint NOT NULL REFERENCES queues (id),
    state           text NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected', 'timeout', 'canceled', 'rescinded')),
    reason          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    expires_at      timestamptz NOT NULL,
    ended_at        timestamptz
);
CREATE INDEX offers_conversation_idx ON offers (conversation_id);
CREATE INDEX offers_agent_idx ON offers (agent_id, created_at);

-- Transactional outbox: every state change writes its event in the same
-- transaction; consumers (jobs, reports, gamification) read it in id order.
CREATE TABLE events (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    type            text NOT NULL,
    conversation_id bigint,
    agent_id        bigint,
    customer_id     bigint,
    payload         jsonb NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_type_idx ON events (type, id);
CREATE INDEX events_conversation_idx ON events (conversation_id) WHERE conversation_id IS NOT NULL;

-- +goose Down
DROP TABLE events, offers, messages, conversations, visitor_sessions, customer_identities,
    customers, inboxes, queues, sessions, team_members, agents, teams;
