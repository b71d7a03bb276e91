package server

import (
	"net/http"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/channels/twilio"
	"github.com/parleyhq/parley/internal/web"
)

// handleWhatsAppTemplates lists the approved templates an agent may send in
// a WhatsApp conversation, with the state of its 24-hour window.
func (s *Server) handleWhatsAppTemplates() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		c, err := s.conversationFor(ctx, agentFrom(ctx), r.PathValue("id"))
		if err != nil {
			return err
		}
		out := struct {
			WindowOpen     bool                      `json:"window_open"`
			WindowClosesAt *time.Time                `json:"window_closes_at"`
			Items          []parley.WhatsAppTemplate `json:"items"`
		}{Items: []parley.WhatsAppTemplate{}}
		if c.Channel != parley.ChannelWhatsApp {
			web.JSON(w, http.StatusOK, out)
			return nil
		}
		inbox, err := s.DB.Inbox(ctx, c.InboxID)
		if err != nil {
			return err
		}
		if t := inbox.Settings.WhatsAppTemplates; t != nil {
			out.Items = t
		}
		if s.Twilio != nil {
			open, closes, err := s.Twilio.WhatsAppWindowOf(ctx, c)
			if err != nil {
				return err
			}
			out.WindowOpen = open
			if !closes.IsZero() {
				closes = closes.UTC()
				out.WindowClosesAt = &closes
			}
		}
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

// handleSendTemplate sends an approved WhatsApp template in a conversation.
func (s *Server) handleSendTemplate() http.Handler {
	type request struct {
		Template    string            `json:"template"`
		Variables   map[string]string `json:"variables"`
		ClientMsgID string            `json:"client_msg_id"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		agent := agentFrom(ctx)
		c, err := s.conversationFor(ctx, agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		if req.Template == "" {
			return parley.Invalid("Which template?", map[string]string{"template": "required"})
		}
		m, err := s.Desk.SendTemplate(ctx, agent, c.ID, req.Template, req.Variables, req.ClientMsgID)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusCreated, m)
		return nil
	})
}

// handleSoftphone tells the console whether the browser softphone is
// configured, where the Twilio Voice SDK is, and the agent's identity.
func (s *Server) handleSoftphone() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		agent := agentFrom(ctx)
		enabled, sdk := s.Twilio.SoftphoneConfig()
		out := map[string]any{"enabled": enabled}
		if enabled {
			ep, err := s.Desk.AgentVoiceEndpoint(ctx, agent.ID)
			if err != nil {
				return err
			}
			id := twilio.SoftphoneIdentity(agent.ID)
			out["sdk_url"], out["identity"], out["endpoint"] = sdk, id, ep
			out["takes_calls"] = ep == "client:"+id
		}
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

// handleVoiceToken mints the agent's Twilio Voice access token; with
// "take_calls": true the agent's voice endpoint becomes their browser
// (client:<identity>), so accepted calls ring in the console.
func (s *Server) handleVoiceToken() http.Handler {
	type request struct {
		TakeCalls bool `json:"take_calls"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		ctx := r.Context()
		agent := agentFrom(ctx)
		var req request
		if err := web.DecodeOptional(w, r, &req); err != nil {
			return err
		}
		token, identity, exp, err := s.Twilio.VoiceToken(agent.ID)
		if err != nil {
			return err
		}
		if req.TakeCalls {
			if err := s.Desk.SetAgentVoiceEndpoint(ctx, agent.ID, "client:"+identity); err != nil {
				return err
			}
		}
		ep, err := s.Desk.AgentVoiceEndpoint(ctx, agent.ID)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, map[string]any{"token": token, "identity": identity, "expires_at": exp.UTC(), "endpoint": ep})
		return nil
	})
}
