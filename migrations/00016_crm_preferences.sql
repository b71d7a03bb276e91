-- +goose Up
-- CRM (issue 6), third part: a customer's preferred channel, and the time
-- zone, region and language their browser reported in web chat.

-- one of the channels of the customer's identities ('' when none chosen)
ALTER TABLE customers ADD COLUMN preferred_channel text NOT NULL DEFAULT '';
-- where timezone came from: '' (unset), 'agent' (PATCH or CSV import: a
-- user's value, never replaced by a browser's) or 'browser' (web chat)
ALTER TABLE customers ADD COLUMN timezone_source text NOT NULL DEFAULT ''
    CHECK (timezone_source IN ('', 'agent', 'browser'));
-- the region (ISO 3166-1) and language tag of the visitor's browser
ALTER TABLE customers ADD COLUMN browser_region text NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN browser_language text NOT NULL DEFAULT '';
-- time zones stored so far were typed by users (PATCH, import, merge)
UPDATE customers SET timezone_source = 'agent' WHERE timezone <> '';

-- +goose Down
ALTER TABLE customers DROP COLUMN browser_language, DROP COLUMN browser_region,
    DROP COLUMN timezone_source, DROP COLUMN preferred_channel;
