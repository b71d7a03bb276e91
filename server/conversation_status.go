package server

import (
	"net/http"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
)

// conversationStatusRoutes: pending/snoozed, reopen and tags of
// conversations (docs/api.md, docs/sla.md).
func (s *Server) conversationStatusRoutes(m *web.Mux) {
	m.Handle("POST /api/v1/conversations/{id}/status", s.auth(anyone, s.handleConversationStatus()))
	m.Handle("POST /api/v1/conversations/{id}/reopen", s.auth(anyone, s.handleReopen()))
	m.Handle("POST /api/v1/conversations/{id}/tags", s.auth(anyone, s.handleConversationTags()))
	m.Handle("GET /api/v1/conversations/tags", s.auth(anyone, s.handleTagsInUse()))
}

func (s *Server) handleConversationStatus() http.Handler {
	type request struct {
		Status string `json:"status"`
		Until  string `json:"until"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		c, err := s.conversationFor(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		var until time.Time
		if req.Until != "" {
			if until, err = time.Parse(time.RFC3339, req.Until); err != nil {
				return parley.Invalid("Invalid until.", map[string]string{"until": "RFC 3339 time, e.g. 2026-05-06T09:00:00+08:00"})
			}
		}
		if req.Status != parley.SubSnoozed && req.Until != "" {
			return parley.Invalid("until is only for snoozed.", map[string]string{"until": "only with status snoozed"})
		}
		c, err = s.Desk.SetStatus(r.Context(), agent, c.ID, req.Status, until)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, c)
		return nil
	})
}

func (s *Server) handleReopen() http.Handler {
	type request struct {
		AgentID string `json:"agent_id"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		c, err := s.conversationFor(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		var req request
		if err := web.DecodeOptional(w, r, &req); err != nil {
			return err
		}
		var to int64
		if req.AgentID != "" {
			if to, err = web.ID(req.AgentID, "agent"); err != nil {
				return err
			}
		}
		c, err = s.Desk.Reopen(r.Context(), agent, c.ID, to)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, c)
		return nil
	})
}

func (s *Server) handleConversationTags() http.Handler {
	type request struct {
		Add    []string `json:"add"`
		Remove []string `json:"remove"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent := agentFrom(r.Context())
		c, err := s.conversationFor(r.Context(), agent, r.PathValue("id"))
		if err != nil {
			return err
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		if len(req.Add)+len(req.Remove) == 0 {
			return parley.Invalid("Nothing to change.", map[string]string{"add": "add or remove at least one tag"})
		}
		c, err = s.Desk.ChangeTags(r.Context(), agent, c.ID, req.Add, req.Remove)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, c)
		return nil
	})
}

func (s *Server) handleTagsInUse() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		tags, err := s.DB.ConversationTags(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(tags))
		return nil
	})
}
