-- +goose Up
-- Supervisor cockpit: the audit log of interventions and the agents'
-- presence history (for occupancy and the wallboard's "reason").

-- One row per supervisor intervention (presence change, transfer, pause,
-- monitor, whisper, barge ...). Append-only.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- who did it (NULL once the agent row is gone; actor_name keeps the name)
    actor_id    bigint REFERENCES agents (id) ON DELETE SET NULL,
    actor_name  text NOT NULL DEFAULT '',
    -- what: agent.presence, conversation.transfer, conversation.monitor,
    -- conversation.unmonitor, conversation.whisper, conversation.barge,
    -- queue.pause, queue.unpause
    action      text NOT NULL,
    -- the target: "agent", "conversation" or "queue", and its id
    target_type text NOT NULL,
    target_id   bigint NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id, id);

-- Every presence change of every agent, whoever made it (the agent, a
-- supervisor, the router after missed offers, a lost socket).
CREATE TABLE agent_presence_log (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    agent_id bigint NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    status   text NOT NULL CHECK (status IN ('offline', 'available', 'away')),
    reason   text NOT NULL DEFAULT '',
    -- who set it: the agent themself, a supervisor's id, or NULL for the system
    set_by   bigint,
    at       timestamptz NOT NULL
);
CREATE INDEX agent_presence_log_agent_idx ON agent_presence_log (agent_id, at DESC, id DESC);
CREATE INDEX agent_presence_log_at_idx ON agent_presence_log (at);

-- Reports and the wallboard read by time and pending state.
CREATE INDEX conversations_enqueued_idx ON conversations (enqueued_at);
CREATE INDEX conversations_resolved_idx ON conversations (resolved_at);
CREATE INDEX offers_created_idx ON offers (created_at);
CREATE INDEX offers_pending_idx ON offers (queue_id) WHERE state = 'pending';

-- +goose Down
DROP INDEX offers_pending_idx, offers_created_idx, conversations_resolved_idx, conversations_enqueued_idx;
DROP TABLE agent_presence_log, audit_log;
