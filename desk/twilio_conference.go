package desk

import (
	"context"

	"github.com/parleyhq/parley/channels/twilio"
)

// Conferences of voice calls (channels/twilio/conference.go).

// ConferenceConnected records the conference a call was bridged into.
func (d *Desk) ConferenceConnected(ctx context.Context, convID, inboxID int64, name, customerSid, agentSid, conferenceSid string) error {
	return d.db.ConferenceConnected(ctx, convID, inboxID, name, customerSid, agentSid, conferenceSid)
}

// ConferenceEvent records a conference status callback.
func (d *Desk) ConferenceEvent(ctx context.Context, s twilio.ConferenceStatus) error {
	return d.db.ConferenceEvent(ctx, s.InboxID, s.Name, s.ConferenceSid, s.Event, s.CallSid, s.Muted, s.Coaching, s.At)
}

// Conference returns a conversation's conference, with the supervisors'
// legs still in it.
func (d *Desk) Conference(ctx context.Context, convID int64) (twilio.Conference, error) {
	vc, err := d.db.Conference(ctx, convID)
	if err != nil {
		return twilio.Conference{}, err
	}
	c := twilio.Conference{ConversationID: vc.ConversationID, InboxID: vc.InboxID, Name: vc.Name, Sid: vc.Sid,
		CustomerCallSid: vc.CustomerCallSid, AgentCallSid: vc.AgentCallSid, Ended: !vc.EndedAt.IsZero(), Coaches: map[int64]string{}}
	for _, l := range vc.Legs {
		if l.Role == "supervisor" && l.AgentID != 0 && l.LeftAt.IsZero() {
			c.Coaches[l.AgentID] = l.CallSid
		}
	}
	return c, nil
}

// CoachLeg records a supervisor's leg and its mode.
func (d *Desk) CoachLeg(ctx context.Context, convID, supervisorID int64, callSid, mode string) error {
	return d.db.CoachLeg(ctx, convID, supervisorID, callSid, mode)
}
