-- +goose Up
-- CRM (issue 6): profile fields, notes, merges that can be undone, an
-- append-only log of who viewed or exported a customer, and search indexes.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

ALTER TABLE customers ADD COLUMN company text NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN timezone text NOT NULL DEFAULT '';
-- set on the customer that was merged into another (it stays for unmerge)
ALTER TABLE customers ADD COLUMN merged_into bigint REFERENCES customers (id);
-- set when the customer's personal data was erased (row kept, anonymised)
ALTER TABLE customers ADD COLUMN erased_at timestamptz;

-- Search (name, email, phone: substring, case-insensitive) and duplicates.
CREATE INDEX customers_name_trgm ON customers USING gin (lower(name) gin_trgm_ops);
CREATE INDEX customers_email_trgm ON customers USING gin (lower(email) gin_trgm_ops);
CREATE INDEX customers_phone_trgm ON customers USING gin (phone gin_trgm_ops);
CREATE INDEX customers_email_idx ON customers (lower(email)) WHERE email <> '';
CREATE INDEX customers_phone_idx ON customers (phone) WHERE phone <> '';
CREATE INDEX customers_name_key_idx ON customers (lower(regexp_replace(btrim(name), '\s+', ' ', 'g'))) WHERE name <> '';
CREATE INDEX customer_identities_address_idx ON customer_identities (address);

CREATE TABLE customer_notes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    author_id   bigint REFERENCES agents (id) ON DELETE SET NULL,
    author_name text NOT NULL DEFAULT '',
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_notes_customer_idx ON customer_notes (customer_id, id DESC);

-- One row per merge; details holds what moved so unmerge can move it back.
CREATE TABLE customer_merges (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    target_id   bigint NOT NULL REFERENCES customers (id),
    from_id     bigint NOT NULL REFERENCES customers (id),
    actor_id    bigint REFERENCES agents (id) ON DELETE SET NULL,
    actor_name  text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    unmerged_at timestamptz,
    unmerged_by bigint REFERENCES agents (id) ON DELETE SET NULL
);
CREATE INDEX customer_merges_target_idx ON customer_merges (target_id, id DESC);
CREATE INDEX customer_merges_from_idx ON customer_merges (from_id, id DESC);

-- Every view, export, change, merge and erasure of a customer by a user.
-- Append-only: a trigger refuses UPDATE and DELETE. Holds ids, no personal data.
CREATE TABLE customer_access_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL,
    actor_id    bigint,
    actor_role  text NOT NULL DEFAULT '',
    action      text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customer_access_log_customer_idx ON customer_access_log (customer_id, id DESC);

-- +goose StatementBegin
CREATE FUNCTION customer_access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'customer_access_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER customer_access_log_append_only BEFORE UPDATE OR DELETE ON customer_access_log
    FOR EACH ROW EXECUTE FUNCTION customer_access_log_append_only();

-- +goose Down
DROP TABLE customer_access_log, customer_merges, customer_notes;
DROP FUNCTION customer_access_log_append_only();
DROP INDEX customer_identities_address_idx, customers_name_key_idx, customers_phone_idx, customers_email_idx,
    customers_phone_trgm, customers_email_trgm, customers_name_trgm;
ALTER TABLE customers DROP COLUMN erased_at, DROP COLUMN merged_into, DROP COLUMN timezone, DROP COLUMN company;
