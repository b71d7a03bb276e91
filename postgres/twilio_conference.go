package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/parleyhq/parley"
)

// VoiceConference is the conference that bridges a voice conversation's
// customer and agent (channels/twilio/conference.go).
type VoiceConference struct {
	ConversationID, InboxID       int64
	Name, Sid                     string
	CustomerCallSid, AgentCallSid string
	StartedAt, EndedAt            time.Time
	// Legs are the calls that joined it, in order.
	Legs []ConferenceLeg
}

// ConferenceLeg is one call in a conference.
type ConferenceLeg struct {
	CallSid  string
	Role     string // customer, agent or supervisor
	AgentID  int64
	Mode     string // a supervisor's listen, whisper or barge
	Muted    bool
	Coaching bool
	JoinedAt time.Time
	LeftAt   time.Time
}

// ConferenceConnected records the conference a call was bridged into, with
// the agent's new leg (a reconnect to another agent replaces the leg).
func (db *DB) ConferenceConnected(ctx context.Context, convID, inboxID int64, name, customerSid, agentSid, conferenceSid string) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO voice_conferences (conversation_id, inbox_id, name, conference_sid, customer_call_sid, agent_call_sid)
			VALUES ($1, $2, $3, NULLIF($4, ''), $5, $6)
			ON CONFLICT (conversation_id) DO UPDATE SET agent_call_sid = EXCLUDED.agent_call_sid,
				conference_sid = COALESCE(EXCLUDED.conference_sid, voice_conferences.conference_sid), ended_at = NULL, updated_at = now()`,
			convID, inboxID, name, conferenceSid, customerSid, agentSid); err != nil {
			return fmt.Errorf("record conference of conversation %d: %w", convID, err)
		}
		for role, sid := range map[string]string{"customer": customerSid, "agent": agentSid} {
			if _, err := tx.Exec(ctx, `INSERT INTO voice_conference_legs (call_sid, conversation_id, role) VALUES ($1, $2, $3)
				ON CONFLICT (call_sid) DO NOTHING`, sid, convID, role); err != nil {
				return fmt.Errorf("record %s leg %s: %w", role, sid, err)
			}
		}
		return nil
	})
}

// ConferenceEvent records a conference status callback of inbox inboxID
// about its conference named name: its sid (Twilio's word wins), its start and end, and legs joining, leaving,
// being muted or coaching. Events about unknown conferences are ENOTFOUND;
// replays change nothing.
func (db *DB) ConferenceEvent(ctx context.Context, inboxID int64, name, conferenceSid, event, callSid string, muted, coaching bool, at time.Time) error {
	var convID int64
	err := db.pool.QueryRow(ctx, `UPDATE voice_conferences SET conference_sid = $2,
			started_at = CASE WHEN $3 = 'conference-start' THEN COALESCE(started_at, $4) ELSE started_at END,
			ended_at = CASE WHEN $3 = 'conference-end' THEN COALESCE(ended_at, $4) ELSE ended_at END, updated_at = now()
		WHERE name = $1 AND inbox_id = $5 RETURNING conversation_id`, name, conferenceSid, event, at, inboxID).Scan(&convID)
	if errors.Is(err, pgx.ErrNoRows) {
		return parley.Errorf(parley.ENOTFOUND, "Conference %s not found.", name)
	} else if err != nil {
		return fmt.Errorf("conference event %s of %s: %w", event, name, err)
	}
	if callSid == "" {
		return nil
	}
	switch event {
	case "participant-join", "participant-mute", "participant-unmute", "participant-hold", "participant-unhold", "participant-modify":
		_, err = db.pool.Exec(ctx, `INSERT INTO voice_conference_legs (call_sid, conversation_id, role, muted, coaching, joined_at)
			VALUES ($1, $2, 'supervisor', $3, $4, $5)
			ON CONFLICT (call_sid) DO UPDATE SET muted = $3, coaching = $4, joined_at = COALESCE(voice_conference_legs.joined_at, $5)
			WHERE voice_conference_legs.conversation_id = $2`, callSid, convID, muted, coaching, at)
	case "participant-leave":
		_, err = db.pool.Exec(ctx, `UPDATE voice_conference_legs SET left_at = COALESCE(left_at, $3) WHERE call_sid = $1 AND conversation_id = $2`,
			callSid, convID, at)
	}
	if err != nil {
		return fmt.Errorf("conference leg %s: %w", callSid, err)
	}
	return nil
}

// Conference returns a conversation's conference with its legs.
func (db *DB) Conference(ctx context.Context, convID int64) (VoiceConference, error) {
	c := VoiceConference{ConversationID: convID}
	var sid, agent *string
	var started, ended *time.Time
	err := db.pool.QueryRow(ctx, `SELECT inbox_id, name, conference_sid, customer_call_sid, agent_call_sid, started_at, ended_at
		FROM voice_conferences WHERE conversation_id = $1`, convID).Scan(&c.InboxID, &c.Name, &sid, &c.CustomerCallSid, &agent, &started, &ended)
	if err != nil {
		return c, notFound(err, "conference of conversation", convID)
	}
	if sid != nil {
		c.Sid = *sid
	}
	if agent != nil {
		c.AgentCallSid = *agent
	}
	c.StartedAt, c.EndedAt = nullTime(started), nullTime(ended)
	rows, err := db.pool.Query(ctx, `SELECT call_sid, role, COALESCE(agent_id, 0), mode, muted, coaching, joined_at, left_at
		FROM voice_conference_legs WHERE conversation_id = $1 ORDER BY created_at, call_sid`, convID)
	if err != nil {
		return c, fmt.Errorf("conference legs of conversation %d: %w", convID, err)
	}
	c.Legs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ConferenceLeg, error) {
		var l ConferenceLeg
		var joined, left *time.Time
		err := r.Scan(&l.CallSid, &l.Role, &l.AgentID, &l.Mode, &l.Muted, &l.Coaching, &joined, &left)
		l.JoinedAt, l.LeftAt = nullTime(joined), nullTime(left)
		return l, err
	})
	return c, err
}

// CoachLeg records a supervisor's leg in a conversation's conference and
// what it does now (listen, whisper or barge).
func (db *DB) CoachLeg(ctx context.Context, convID, supervisorID int64, callSid, mode string) error {
	muted, coaching := mode == "listen", mode == "whisper"
	if _, err := db.pool.Exec(ctx, `INSERT INTO voice_conference_legs (call_sid, conversation_id, role, agent_id, mode, muted, coaching)
		VALUES ($1, $2, 'supervisor', $3, $4, $5, $6)
		ON CONFLICT (call_sid) DO UPDATE SET agent_id = $3, mode = $4, muted = $5, coaching = $6
		WHERE voice_conference_legs.conversation_id = $2 AND voice_conference_legs.role = 'supervisor'`,
		callSid, convID, supervisorID, mode, muted, coaching); err != nil {
		return fmt.Errorf("record supervisor leg %s: %w", callSid, err)
	}
	return nil
}
