package server

import (
	"net/http"
	"time"

	"github.com/parleyhq/parley"
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
