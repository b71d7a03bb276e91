-- +goose Up
-- CRM (issue 6), second part: typed attribute definitions, lifecycle
-- history and rules, segments, CSV imports, and a customer-ordered index of
-- messages for the timeline.

-- Custom attributes an admin defines; PATCH validates values against them.
CREATE TABLE customer_attribute_defs (
    key        text PRIMARY KEY,
    label      text NOT NULL DEFAULT '',
    type       text NOT NULL CHECK (type IN ('text', 'number', 'date', 'boolean', 'list')),
    -- allowed values of a list attribute
    options    text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every lifecycle stage change, by hand or by a rule.
CREATE TABLE customer_lifecycle_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    from_stage  text NOT NULL,
    to_stage    text NOT NULL,
    -- hand, first_purchase, repeat_contacts, low_csat, inactive
    reason      text NOT NULL,
    actor_id    bigint REFERENCES agents (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_lifecycle_changes_customer_idx ON customer_lifecycle_changes (customer_id, created_at DESC, id DESC);

-- One row: the lifecycle rules and routing boosts (JSON, see crm.Settings)
-- and the lifecycle follower's position in the events outbox.
CREATE TABLE crm_settings (
    settings     jsonb NOT NULL DEFAULT '{}',
    event_cursor bigint NOT NULL,
    inactivity_checked_at timestamptz,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
INSERT INTO crm_settings (event_cursor) SELECT COALESCE(max(id), 0) FROM events;

-- Saved customer filters.
CREATE TABLE segments (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name           text NOT NULL UNIQUE,
    filter         jsonb NOT NULL DEFAULT '{}',
    -- added to the priority of a new conversation of a member
    priority_boost int NOT NULL DEFAULT 0,
    created_by     bigint REFERENCES agents (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- CSV imports: the file, the mapping, progress and the validation report.
CREATE TABLE customer_imports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'done', 'failed')),
    mapping     jsonb NOT NULL DEFAULT '{}',
    region      text NOT NULL DEFAULT '',
    data        bytea,
    total_rows  int NOT NULL DEFAULT 0,
    processed   int NOT NULL DEFAULT 0,
    created     int NOT NULL DEFAULT 0,
    updated     int NOT NULL DEFAULT 0,
    failed      int NOT NULL DEFAULT 0,
    errors      jsonb NOT NULL DEFAULT '[]',
    error       text NOT NULL DEFAULT '',
    created_by  bigint REFERENCES agents (id) ON DELETE SET NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

-- The timeline pages through a customer's messages across conversations:
-- messages carry their conversation's customer, kept by triggers (new
-- messages, and conversations moved by a merge or unmerge).
ALTER TABLE messages ADD COLUMN customer_id bigint;
UPDATE messages m SET customer_id = c.customer_id FROM conversations c WHERE c.id = m.conversation_id;
CREATE INDEX messages_customer_idx ON messages (customer_id, created_at DESC, id DESC);
CREATE INDEX customer_notes_customer_time_idx ON customer_notes (customer_id, created_at DESC, id DESC);
CREATE INDEX conversations_customer_time_idx ON conversations (customer_id, created_at DESC, id DESC);

-- +goose StatementBegin
CREATE FUNCTION messages_set_customer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT customer_id INTO NEW.customer_id FROM conversations WHERE id = NEW.conversation_id;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER messages_set_customer BEFORE INSERT ON messages
    FOR EACH ROW EXECUTE FUNCTION messages_set_customer();

-- +goose StatementBegin
CREATE FUNCTION conversations_move_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE messages SET customer_id = NEW.customer_id WHERE conversation_id = NEW.id;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER conversations_move_messages AFTER UPDATE OF customer_id ON conversations
    FOR EACH ROW WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id) EXECUTE FUNCTION conversations_move_messages();

-- +goose Down
DROP TRIGGER conversations_move_messages ON conversations;
DROP FUNCTION conversations_move_messages();
DROP TRIGGER messages_set_customer ON messages;
DROP FUNCTION messages_set_customer();
DROP INDEX conversations_customer_time_idx, customer_notes_customer_time_idx, messages_customer_idx;
ALTER TABLE messages DROP COLUMN customer_id;
DROP TABLE customer_imports, segments, crm_settings, customer_lifecycle_changes, customer_attribute_defs;
