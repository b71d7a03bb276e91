-- +goose Up
-- Twilio: customers' messaging consent (STOP/START), live calls and the
-- endpoints agents take calls on.

-- A customer's consent to be messaged on a channel at an address (E.164,
-- WhatsApp numbers without their "whatsapp:" prefix). STOP records
-- opted_out; START (or any later opt-in) records opted_in. No row: never
-- asked, messaging allowed.
CREATE TABLE customer_consents (
    channel     text NOT NULL,
    address     text NOT NULL,
    customer_id bigint REFERENCES customers (id) ON DELETE CASCADE,
    status      text NOT NULL CHECK (status IN ('opted_in', 'opted_out')),
    -- the keyword that changed it (STOP, UNSUBSCRIBE, START ...)
    keyword     text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel, address)
);
CREATE INDEX customer_consents_customer_idx ON customer_consents (customer_id);

-- One row per inbound Twilio call (CallSid): where it is in the IVR, the
-- conversation it became and whether it was connected to an agent.
CREATE TABLE twilio_calls (
    call_sid        text PRIMARY KEY,
    inbox_id        bigint NOT NULL REFERENCES inboxes (id),
    conversation_id bigint REFERENCES conversations (id),
    -- the caller, E.164 (or "anonymous")
    caller          text NOT NULL,
    -- ivr → queued → connecting → connected → ended
    state           text NOT NULL CHECK (state IN ('ivr', 'queued', 'connecting', 'connected', 'ended')),
    language        text NOT NULL DEFAULT '',
    agent_id        bigint REFERENCES agents (id),
    -- Twilio's last CallStatus and the reason a connect failed
    call_status     text NOT NULL DEFAULT '',
    error           text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    queued_at       timestamptz,
    connected_at    timestamptz,
    ended_at        timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX twilio_calls_conversation_idx ON twilio_calls (conversation_id);
-- the connector's work list: calls waiting whose conversation may be assigned
CREATE INDEX twilio_calls_queued_idx ON twilio_calls (conversation_id) WHERE state = 'queued';

-- Where an agent takes calls: an E.164 number, a sip: URI or client:<name>.
CREATE TABLE agent_voice_endpoints (
    agent_id   bigint PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    endpoint   text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE agent_voice_endpoints, twilio_calls, customer_consents;
