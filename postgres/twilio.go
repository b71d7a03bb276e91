package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

// Consent states of customer_consents.
const (
	ConsentOptedIn  = "opted_in"
	ConsentOptedOut = "opted_out"
)

// SetConsent records a customer's consent to be messaged on a channel at an
// address (STOP → opted_out, START → opted_in).
func (db *DB) SetConsent(ctx context.Context, customerID int64, ch parley.Channel, address, status, keyword string) error {
	if status != ConsentOptedIn && status != ConsentOptedOut {
		return parley.Errorf(parley.EINVALID, "Unknown consent status %q.", status)
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO customer_consents (channel, address, customer_id, status, keyword)
			VALUES ($1, $2, NULLIF($3, 0), $4, $5)
			ON CONFLICT (channel, address) DO UPDATE SET customer_id = COALESCE(EXCLUDED.customer_id, customer_consents.customer_id),
				status = EXCLUDED.status, keyword = EXCLUDED.keyword, updated_at = now()`,
			string(ch), address, customerID, status, keyword); err != nil {
			return fmt.Errorf("set consent: %w", err)
		}
		return writeEvent(ctx, tx, "customer.consent", 0, 0, customerID, map[string]any{"channel": ch, "status": status, "keyword": keyword})
	})
}

// Consent is a customer's recorded consent on a channel at an address.
type Consent struct {
	Channel parley.Channel `json:"channel"`
	Address string         `json:"address"`
	Status  string         `json:"status"`
	// Source is what changed it: the customer's keyword (STOP, START...) or
	// "agent:<id>" when an agent recorded it.
	Source    string    `json:"source"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Consents lists a customer's recorded consents (no row: never asked,
// messaging allowed).
func (db *DB) Consents(ctx context.Context, customerID int64) ([]Consent, error) {
	rows, err := db.pool.Query(ctx, `SELECT channel, address, status, keyword, updated_at FROM customer_consents
		WHERE customer_id = $1 ORDER BY channel, address`, customerID)
	if err != nil {
		return nil, fmt.Errorf("consents of customer %d: %w", customerID, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Consent, error) {
		var c Consent
		err := row.Scan(&c.Channel, &c.Address, &c.Status, &c.Source, &c.UpdatedAt)
		c.UpdatedAt = c.UpdatedAt.UTC()
		return c, err
	})
}

// OptedOut reports whether the address opted out of messages on the channel.
func (db *DB) OptedOut(ctx context.Context, ch parley.Channel, address string) (bool, error) {
	var out bool
	err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM customer_consents WHERE channel = $1 AND address = $2 AND status = 'opted_out')`,
		string(ch), address).Scan(&out)
	if err != nil {
		return false, fmt.Errorf("consent of %s %s: %w", ch, address, err)
	}
	return out, nil
}

// LastInboundAt returns when the customer last wrote to the inbox (false
// when never).
func (db *DB) LastInboundAt(ctx context.Context, customerID, inboxID int64) (time.Time, bool, error) {
	var at *time.Time
	err := db.pool.QueryRow(ctx, `SELECT max(m.created_at) FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE c.customer_id = $1 AND c.inbox_id = $2 AND m.direction = 'in'`, customerID, inboxID).Scan(&at)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("last inbound of customer %d: %w", customerID, err)
	}
	if at == nil {
		return time.Time{}, false, nil
	}
	return at.UTC(), true, nil
}

// SetCustomerPhone records what a phone channel tells about a customer: the
// phone (kept when one is set), the number's region (ISO 3166 code, in
// attributes.phone_region) and, when given, extra attributes such as the
// WhatsApp profile name. It writes only when something changes.
func (db *DB) SetCustomerPhone(ctx context.Context, customerID int64, phone, region string, attrs map[string]string) error {
	set := map[string]string{}
	for k, v := range attrs {
		if v != "" {
			set[k] = v
		}
	}
	if region != "" {
		set["phone_region"] = region
	}
	_, err := db.pool.Exec(ctx, `UPDATE customers SET phone = CASE WHEN phone = '' THEN $2 ELSE phone END,
		attributes = attributes || $3::jsonb, updated_at = now()
		WHERE id = $1 AND ((phone = '' AND $2 <> '') OR NOT attributes @> $3::jsonb)`, customerID, phone, set)
	if err != nil {
		return fmt.Errorf("set phone of customer %d: %w", customerID, err)
	}
	return nil
}

// AbandonConversation marks a queued conversation abandoned (the customer
// left before an agent took it). A conversation that is no longer queued is
// ECONFLICT: it was assigned (or closed) meanwhile.
func (db *DB) AbandonConversation(ctx context.Context, convID int64, reason string) (parley.Conversation, error) {
	var c parley.Conversation
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := getConversation(ctx, tx, convID, true)
		if err != nil {
			return err
		}
		if cur.Status != parley.StatusQueued {
			return parley.Errorf(parley.ECONFLICT, "Conversation %d is %s, not queued.", convID, cur.Status)
		}
		if _, err := tx.Exec(ctx, `UPDATE conversations SET status = 'abandoned', resolved_at = now(), disposition = $2, updated_at = now()
			WHERE id = $1`, convID, reason); err != nil {
			return fmt.Errorf("abandon conversation %d: %w", convID, err)
		}
		if err := writeEvent(ctx, tx, "conversation.abandoned", convID, 0, cur.CustomerID, map[string]any{"reason": reason, "queue_id": cur.QueueID}); err != nil {
			return err
		}
		c, err = getConversation(ctx, tx, convID, false)
		return err
	})
	return c, err
}

// SetConversationMeta merges kv into a conversation's meta.
func (db *DB) SetConversationMeta(ctx context.Context, convID int64, kv map[string]string) (parley.Conversation, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE conversations SET meta = meta || $2::jsonb, updated_at = now() WHERE id = $1`, convID, kv)
	if err != nil {
		return parley.Conversation{}, fmt.Errorf("set meta of conversation %d: %w", convID, err)
	} else if tag.RowsAffected() == 0 {
		return parley.Conversation{}, parley.Errorf(parley.ENOTFOUND, "conversation %d not found.", convID)
	}
	return db.Conversation(ctx, convID)
}

// Call states of twilio_calls.
const (
	CallIVR        = "ivr"
	CallQueued     = "queued"
	CallConnecting = "connecting"
	CallConnected  = "connected"
	CallEnded      = "ended"
)

// Call is an inbound Twilio call.
type Call struct {
	Sid            string
	InboxID        int64
	ConversationID int64
	Caller         string
	State          string
	Language       string
	AgentID        int64
	CallStatus     string
	Error          string
	CreatedAt      time.Time
	QueuedAt       time.Time
	ConnectedAt    time.Time
	EndedAt        time.Time
	// ConnectAttempt numbers the hand-overs of the call to the connect job.
	ConnectAttempt int
	// Mode is what the caller chose after the queue's maximum wait: "",
	// CallbackMode or VoicemailMode.
	Mode string
	// Direction is "inbound", or "outbound" for a call Parley placed.
	Direction string
}

// callCols lists the call columns, qualified with alias ("" or "t.").
func callCols(a string) string {
	return a + `call_sid, ` + a + `inbox_id, COALESCE(` + a + `conversation_id, 0), ` + a + `caller, ` + a + `state, ` + a + `language, COALESCE(` +
		a + `agent_id, 0), ` + a + `call_status, ` + a + `error, ` + a + `created_at, ` + a + `queued_at, ` + a + `connected_at, ` + a + `ended_at, ` + a + `connect_attempt, ` + a + `mode, ` + a + `direction`
}

var callColumns = callCols("")

func scanCall(row pgx.Row) (Call, error) {
	var c Call
	var q, conn, end *time.Time
	err := row.Scan(&c.Sid, &c.InboxID, &c.ConversationID, &c.Caller, &c.State, &c.Language, &c.AgentID, &c.CallStatus, &c.Error,
		&c.CreatedAt, &q, &conn, &end, &c.ConnectAttempt, &c.Mode, &c.Direction)
	c.CreatedAt = c.CreatedAt.UTC()
	c.QueuedAt, c.ConnectedAt, c.EndedAt = nullTime(q), nullTime(conn), nullTime(end)
	return c, err
}

// StartCall records a new inbound call in the IVR; a call seen before is
// returned as it is.
func (db *DB) StartCall(ctx context.Context, inboxID int64, sid, caller string) (Call, error) {
	if _, err := db.pool.Exec(ctx, `INSERT INTO twilio_calls (call_sid, inbox_id, caller, state) VALUES ($1, $2, $3, 'ivr')
		ON CONFLICT (call_sid) DO NOTHING`, sid, inboxID, caller); err != nil {
		return Call{}, fmt.Errorf("start call %s: %w", sid, err)
	}
	return db.Call(ctx, sid)
}

// Call returns a call by its CallSid.
func (db *DB) Call(ctx context.Context, sid string) (Call, error) {
	c, err := scanCall(db.pool.QueryRow(ctx, `SELECT `+callColumns+` FROM twilio_calls WHERE call_sid = $1`, sid))
	if err != nil {
		return c, notFound(err, "call", sid)
	}
	return c, nil
}

// QueueCall records that a call left the IVR as a conversation waiting for
// an agent. A call already queued (a replayed webhook) is left as it is.
func (db *DB) QueueCall(ctx context.Context, sid string, convID int64, language string) (Call, error) {
	if _, err := db.pool.Exec(ctx, `UPDATE twilio_calls SET state = 'queued', conversation_id = $2, language = $3, queued_at = now(), updated_at = now()
		WHERE call_sid = $1 AND state = 'ivr'`, sid, convID, language); err != nil {
		return Call{}, fmt.Errorf("queue call %s: %w", sid, err)
	}
	return db.Call(ctx, sid)
}

// StaleConnect is how long a call may stay connecting: longer than its
// connect job's attempts and retries can take, so such a call was lost (an
// instance died between claiming it and queuing its job) and is claimed
// again with a new attempt.
const StaleConnect = 5 * time.Minute

// ClaimCallToConnect takes one queued call (or callback, or a call stuck
// connecting for StaleConnect) whose conversation an agent has accepted and
// moves it to connecting with the next connect attempt, so exactly one
// instance hands it to the connect job. ok is false when there is none.
func (db *DB) ClaimCallToConnect(ctx context.Context) (c Call, ok bool, err error) {
	c, err = scanCall(db.pool.QueryRow(ctx, `UPDATE twilio_calls t SET state = 'connecting', agent_id = v.agent_id,
			connect_attempt = t.connect_attempt + 1, updated_at = now()
		FROM conversations v
		WHERE t.call_sid = (SELECT c.call_sid FROM twilio_calls c JOIN conversations cv ON cv.id = c.conversation_id
				WHERE (c.state IN ('queued', 'callback') OR (c.state = 'connecting' AND c.updated_at < now() - $1 * interval '1 second'))
					AND cv.status = 'assigned' ORDER BY c.queued_at LIMIT 1 FOR UPDATE OF c SKIP LOCKED)
			AND v.id = t.conversation_id
		RETURNING `+callCols("t."), StaleConnect.Seconds()))
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	} else if err != nil {
		return c, false, fmt.Errorf("claim call to connect: %w", err)
	}
	return c, true, nil
}

// CallConnected records the outcome of connecting a call to its agent: on
// success the talk starts now; on failure the reason is kept and the call
// is left for the caller to hang up.
func (db *DB) CallConnected(ctx context.Context, sid string, failure string) (Call, error) {
	var err error
	if failure == "" {
		_, err = db.pool.Exec(ctx, `UPDATE twilio_calls SET state = 'connected', connected_at = now(), updated_at = now()
			WHERE call_sid = $1 AND state = 'connecting'`, sid)
	} else {
		_, err = db.pool.Exec(ctx, `UPDATE twilio_calls SET error = $2, updated_at = now() WHERE call_sid = $1`, sid, failure)
	}
	if err != nil {
		return Call{}, fmt.Errorf("record connect of call %s: %w", sid, err)
	}
	return db.Call(ctx, sid)
}

// EndCall records a call's final status. prev is the state the call was in
// before; a call already ended (a replayed callback) changes nothing and
// returns prev "ended". A caller who chose a callback or a voicemail hangs
// up as planned: the call keeps its state (the conversation still waits).
func (db *DB) EndCall(ctx context.Context, sid, status string) (c Call, prev string, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var ended *time.Time
		if err := tx.QueryRow(ctx, `SELECT state, ended_at FROM twilio_calls WHERE call_sid = $1 FOR UPDATE`, sid).Scan(&prev, &ended); err != nil {
			return notFound(err, "call", sid)
		}
		if ended != nil {
			prev = CallEnded
		}
		if prev != CallEnded {
			if _, err := tx.Exec(ctx, `UPDATE twilio_calls SET state = CASE WHEN state IN ('callback', 'voicemail') THEN state ELSE 'ended' END,
				call_status = $2, ended_at = now(), updated_at = now() WHERE call_sid = $1`, sid, status); err != nil {
				return fmt.Errorf("end call %s: %w", sid, err)
			}
		}
		c, err = scanCall(tx.QueryRow(ctx, `SELECT `+callColumns+` FROM twilio_calls WHERE call_sid = $1`, sid))
		return err
	})
	return c, prev, err
}

// CallOfConversation returns the latest call of a conversation.
func (db *DB) CallOfConversation(ctx context.Context, convID int64) (Call, error) {
	c, err := scanCall(db.pool.QueryRow(ctx, `SELECT `+callColumns+` FROM twilio_calls WHERE conversation_id = $1
		ORDER BY created_at DESC LIMIT 1`, convID))
	if err != nil {
		return c, notFound(err, "call of conversation", convID)
	}
	return c, nil
}

// SetAgentVoiceEndpoint sets (or, with "", removes) where an agent takes calls.
func (db *DB) SetAgentVoiceEndpoint(ctx context.Context, agentID int64, endpoint string) error {
	if _, err := db.Agent(ctx, agentID); err != nil {
		return err
	}
	var err error
	if endpoint == "" {
		_, err = db.pool.Exec(ctx, `DELETE FROM agent_voice_endpoints WHERE agent_id = $1`, agentID)
	} else {
		_, err = db.pool.Exec(ctx, `INSERT INTO agent_voice_endpoints (agent_id, endpoint) VALUES ($1, $2)
			ON CONFLICT (agent_id) DO UPDATE SET endpoint = EXCLUDED.endpoint, updated_at = now()`, agentID, endpoint)
	}
	if err != nil {
		return fmt.Errorf("set voice endpoint of agent %d: %w", agentID, err)
	}
	return nil
}

// AgentVoiceEndpoint returns where an agent takes calls ("" when not set).
func (db *DB) AgentVoiceEndpoint(ctx context.Context, agentID int64) (string, error) {
	var ep string
	err := db.pool.QueryRow(ctx, `SELECT endpoint FROM agent_voice_endpoints WHERE agent_id = $1`, agentID).Scan(&ep)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("voice endpoint of agent %d: %w", agentID, err)
	}
	return ep, nil
}
