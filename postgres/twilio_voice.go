package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/surveys"
)

// Modes a caller may choose after the queue's maximum wait (twilio_calls.mode
// and state).
const (
	CallbackMode  = "callback"
	VoicemailMode = "voicemail"
)

// UnclaimCall gives a call claimed for connecting back to the connector (its
// connect job could not be queued): it waits again as before.
func (db *DB) UnclaimCall(ctx context.Context, sid string, attempt int) error {
	if _, err := db.pool.Exec(ctx, `UPDATE twilio_calls SET state = CASE WHEN mode = 'callback' THEN 'callback' ELSE 'queued' END,
		agent_id = NULL, updated_at = now() WHERE call_sid = $1 AND state = 'connecting' AND connect_attempt = $2`, sid, attempt); err != nil {
		return fmt.Errorf("unclaim call %s: %w", sid, err)
	}
	return nil
}

// RequeueCall puts back in its queue a call that could not be connected to
// the agent who accepted it (connect attempt attempt): the conversation is
// queued again with its original enqueue time (it keeps its place), with a
// private note saying why, and the call waits again. ok is false when the
// attempt is stale (the call was connected, ended or claimed again
// meanwhile): nothing changes. agentID is the agent who lost it.
func (db *DB) RequeueCall(ctx context.Context, sid string, attempt int, reason string) (c Call, conv parley.Conversation, agentID int64, ok bool, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		cur, err := scanCall(tx.QueryRow(ctx, `SELECT `+callColumns+` FROM twilio_calls WHERE call_sid = $1 FOR UPDATE`, sid))
		if err != nil {
			return notFound(err, "call", sid)
		}
		if cur.State != CallConnecting || cur.ConnectAttempt != attempt || cur.ConversationID == 0 {
			c, conv = cur, parley.Conversation{}
			return nil
		}
		cv, err := getConversation(ctx, tx, cur.ConversationID, true)
		if err != nil {
			return err
		}
		agentID = cur.AgentID
		if cv.Status == parley.StatusAssigned && cv.AgentID == cur.AgentID {
			if _, err := tx.Exec(ctx, `UPDATE conversations SET status = 'queued', agent_id = NULL, assigned_at = NULL, updated_at = now()
				WHERE id = $1`, cv.ID); err != nil {
				return fmt.Errorf("requeue conversation %d: %w", cv.ID, err)
			}
			if _, err := insertMessage(ctx, tx, cv.ID, cv.InboxID, parley.Message{
				Direction: parley.DirectionOut, Private: true, Channel: cv.Channel,
				Sender: parley.MessageSender{Type: parley.SenderSystem, Name: "Parley"},
				Body:   "The call could not be connected to the agent (" + reason + "); it is back in the queue.",
			}, ""); err != nil {
				return err
			}
			if err := writeEvent(ctx, tx, "conversation.requeued", cv.ID, cur.AgentID, cv.CustomerID,
				map[string]any{"reason": "call_connect_failed", "queue_id": cv.QueueID}); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE twilio_calls SET state = CASE WHEN mode = 'callback' THEN 'callback' ELSE 'queued' END,
			agent_id = NULL, error = $2, updated_at = now() WHERE call_sid = $1`, sid, reason); err != nil {
			return fmt.Errorf("requeue call %s: %w", sid, err)
		}
		if c, err = scanCall(tx.QueryRow(ctx, `SELECT `+callColumns+` FROM twilio_calls WHERE call_sid = $1`, sid)); err != nil {
			return err
		}
		conv, err = getConversation(ctx, tx, cv.ID, false)
		ok = err == nil
		return err
	})
	return c, conv, agentID, ok, err
}

// OfferOverflow reports whether a waiting caller is to be offered a callback
// or a voicemail now: the call has waited its queue's max_wait_s and was not
// offered before. It marks the offer made, so it is made once.
func (db *DB) OfferOverflow(ctx context.Context, sid string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE twilio_calls t SET overflow_offered_at = now(), updated_at = now()
		FROM conversations v JOIN queues q ON q.id = v.queue_id
		WHERE t.call_sid = $1 AND t.state = 'queued' AND t.overflow_offered_at IS NULL AND t.direction = 'inbound'
			AND v.id = t.conversation_id AND v.status = 'queued'
			AND q.max_wait_s > 0 AND t.queued_at <= now() - make_interval(secs => q.max_wait_s)`, sid)
	if err != nil {
		return false, fmt.Errorf("overflow of call %s: %w", sid, err)
	}
	return tag.RowsAffected() == 1, nil
}

// SetCallMode records a waiting caller's choice of a callback or a
// voicemail: the call leaves the hold loop (the caller hangs up) while its
// conversation keeps its place in the queue. ok is false when the call no
// longer waits (an agent took it meanwhile).
func (db *DB) SetCallMode(ctx context.Context, sid, mode string) (Call, bool, error) {
	if mode != CallbackMode && mode != VoicemailMode {
		return Call{}, false, parley.Invalid("Invalid call mode.", map[string]string{"mode": "callback or voicemail"})
	}
	c, err := scanCall(db.pool.QueryRow(ctx, `UPDATE twilio_calls SET state = $2, mode = $2, updated_at = now()
		WHERE call_sid = $1 AND state = 'queued' RETURNING `+callColumns, sid, mode))
	if errors.Is(err, pgx.ErrNoRows) {
		c, err = db.Call(ctx, sid)
		return c, false, err
	} else if err != nil {
		return c, false, fmt.Errorf("set mode of call %s: %w", sid, err)
	}
	return c, true, nil
}

// CallbackPlaced records that the callback of a call (claimed as connect
// attempt attempt) was placed as the outbound call newSid: the original
// call is done and the outbound call is the conversation's live call.
func (db *DB) CallbackPlaced(ctx context.Context, sid string, attempt int, newSid string) (Call, error) {
	var c Call
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		orig, err := scanCall(tx.QueryRow(ctx, `SELECT `+callColumns+` FROM twilio_calls WHERE call_sid = $1 FOR UPDATE`, sid))
		if err != nil {
			return notFound(err, "call", sid)
		}
		if orig.State != CallConnecting || orig.ConnectAttempt != attempt {
			return parley.Errorf(parley.ECONFLICT, "Call %s is no longer being connected.", sid)
		}
		if _, err := tx.Exec(ctx, `UPDATE twilio_calls SET state = 'ended', ended_at = COALESCE(ended_at, now()), updated_at = now()
			WHERE call_sid = $1`, sid); err != nil {
			return fmt.Errorf("end called-back call %s: %w", sid, err)
		}
		c, err = scanCall(tx.QueryRow(ctx, `INSERT INTO twilio_calls (call_sid, inbox_id, conversation_id, caller, state, language, agent_id,
				queued_at, connected_at, direction)
			VALUES ($1, $2, $3, $4, 'connected', $5, $6, now(), now(), 'outbound')
			ON CONFLICT (call_sid) DO UPDATE SET updated_at = now() RETURNING `+callColumns,
			newSid, orig.InboxID, orig.ConversationID, orig.Caller, orig.Language, orig.AgentID))
		if err != nil {
			return fmt.Errorf("record callback call %s: %w", newSid, err)
		}
		return nil
	})
	return c, err
}

// StartSurvey creates, at the end of a call's talk, the survey request of a
// voice conversation when an enabled survey applies (its channels and
// queues, the frequency cap), as a resolution would; ok is false when none
// applies or the conversation was surveyed already.
func (db *DB) StartSurvey(ctx context.Context, convID int64) (r SurveyRequest, s surveys.Survey, ok bool, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		defs, err := surveysIn(ctx, tx)
		if err != nil {
			return err
		}
		sent, found, err := db.surveyFor(ctx, tx, convID, defs, func(SurveyRequest, surveys.Survey) string { return "" })
		r, s, ok = sent.Request, sent.Survey, found
		return err
	})
	return r, s, ok, err
}

// OverflowAt returns when a waiting call reaches its queue's max_wait_s (ok
// false when the queue has none).
func (db *DB) OverflowAt(ctx context.Context, sid string) (at time.Time, ok bool, err error) {
	err = db.pool.QueryRow(ctx, `SELECT t.queued_at + make_interval(secs => q.max_wait_s)
		FROM twilio_calls t JOIN conversations v ON v.id = t.conversation_id JOIN queues q ON q.id = v.queue_id
		WHERE t.call_sid = $1 AND t.queued_at IS NOT NULL AND q.max_wait_s > 0`, sid).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, false, nil
	} else if err != nil {
		return time.Time{}, false, fmt.Errorf("overflow time of call %s: %w", sid, err)
	}
	return at, true, nil
}

// WhileWaiting runs fn while holding the row of a call that still waits in
// its queue (state queued, conversation queued) and was not offered a
// callback or voicemail yet, so the connector cannot claim it meanwhile (it
// skips locked rows). ran is false, and fn not called, otherwise.
func (db *DB) WhileWaiting(ctx context.Context, sid string, fn func(Call) error) (ran bool, err error) {
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		c, err := scanCall(tx.QueryRow(ctx, `SELECT `+callCols("t.")+` FROM twilio_calls t JOIN conversations v ON v.id = t.conversation_id
			WHERE t.call_sid = $1 AND t.state = 'queued' AND t.overflow_offered_at IS NULL AND v.status = 'queued' FOR UPDATE OF t`, sid))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("lock waiting call %s: %w", sid, err)
		}
		ran = true
		return fn(c)
	})
	return ran, err
}
