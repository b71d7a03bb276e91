package server

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
)

// handleVoiceCoach is a supervisor's listen, whisper or barge on a voice
// conversation's call (POST /api/v1/conversations/{id}/voice/{mode}),
// through the call's Twilio conference; audited conversation.voice_<mode>.
func (s *Server) handleVoiceCoach() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		sup := agentFrom(ctx)
		c, err := s.conversationFor(ctx, sup, r.PathValue("id"))
		if err != nil {
			return err
		}
		if c.Channel != parley.ChannelVoice {
			return parley.Errorf(parley.ECONFLICT, "Conversation %d is not a call.", c.ID)
		}
		if s.Twilio == nil {
			return parley.Errorf(parley.ECONFLICT, "Twilio voice is not configured.")
		}
		mode := r.PathValue("mode")
		res, err := s.Twilio.Coach(ctx, sup.ID, c.ID, mode)
		if err != nil {
			return err
		}
		s.Desk.Audit(ctx, sup, "conversation.voice_"+mode, "conversation", c.ID, map[string]any{
			"agent_id": web.IDString(c.AgentID), "call_sid": res.CallSid, "conference": res.Conference, "joined": res.Joined})
		web.JSON(w, http.StatusOK, res)
		return nil
	})
}
