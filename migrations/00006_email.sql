-- +goose Up
-- Email inboxes: IMAP progress and watcher status per inbox, the parsed and
-- raw form of every imported email, and its attachments.

-- Progress is stored after the message is committed: a crash re-reads at
-- most the last message, which the dedupe key then skips.
CREATE TABLE email_inbox_state (
    inbox_id        bigint PRIMARY KEY REFERENCES inboxes (id) ON DELETE CASCADE,
    mailbox         text NOT NULL DEFAULT '',
    uid_validity    bigint NOT NULL DEFAULT 0,
    last_uid        bigint NOT NULL DEFAULT 0,
    -- connecting, idle, polling, error
    state           text NOT NULL DEFAULT '',
    last_error      text NOT NULL DEFAULT '',
    last_error_at   timestamptz,
    last_success_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per imported email; message_row_id is the Parley message it became
-- (NULL for a bounce that only marked one of our messages failed).
CREATE TABLE email_messages (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    inbox_id       bigint NOT NULL REFERENCES inboxes (id) ON DELETE CASCADE,
    dedupe_key     text NOT NULL,
    message_row_id bigint REFERENCES messages (id),
    -- RFC 5322 Message-ID without angle brackets ('' when missing)
    message_id     text NOT NULL DEFAULT '',
    from_address   text NOT NULL DEFAULT '',
    reply_to       text NOT NULL DEFAULT '',
    subject        text NOT NULL DEFAULT '',
    in_reply_to    text[] NOT NULL DEFAULT '{}',
    refs           text[] NOT NULL DEFAULT '{}',
    -- full plain text, quoted history included
    text_body      text NOT NULL DEFAULT '',
    -- sanitised HTML
    html_body      text NOT NULL DEFAULT '',
    raw            bytea NOT NULL,
    parse_error    text NOT NULL DEFAULT '',
    kind           text NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'auto_reply', 'report', 'bounce')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (inbox_id, dedupe_key)
);
CREATE INDEX email_messages_row_idx ON email_messages (message_row_id);
CREATE INDEX email_messages_message_id_idx ON email_messages (inbox_id, message_id) WHERE message_id <> '';

CREATE TABLE email_attachments (
    email_message_id bigint NOT NULL REFERENCES email_messages (id) ON DELETE CASCADE,
    position         int NOT NULL,
    name             text NOT NULL,
    content_type     text NOT NULL,
    size             bigint NOT NULL,
    inline           boolean NOT NULL DEFAULT false,
    -- NULL when refused (over the size limit)
    data             bytea,
    refused          text NOT NULL DEFAULT '',
    PRIMARY KEY (email_message_id, position)
);

-- +goose Down
DROP TABLE email_attachments, email_messages, email_inbox_state;
