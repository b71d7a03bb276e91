package server

import (
	"errors"
	"io"
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/sla"
)

// slaAPI is s.api for handlers that need the SLA service.
func (s *Server) slaAPI(fn func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		if s.SLA == nil {
			return parley.Errorf(parley.EUNAVAILABLE, "SLA is not enabled on this server.")
		}
		return fn(s.SLA, w, r)
	})
}

func (s *Server) handleSLAPolicies() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		ps, err := svc.Policies(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(ps))
		return nil
	})
}

func (s *Server) handleSLAPolicy() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "SLA policy")
		if err != nil {
			return err
		}
		p, err := svc.Store.Policy(r.Context(), id)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, p)
		return nil
	})
}

func (s *Server) handleCreateSLAPolicy() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		p := sla.Policy{Enabled: true}
		if err := web.Decode(w, r, &p); err != nil {
			return err
		}
		p.ID = 0
		if err := svc.CreatePolicy(r.Context(), &p); err != nil {
			return err
		}
		s.Log.Info("sla policy created", "policy_id", p.ID, "agent_id", agentFrom(r.Context()).ID)
		web.JSON(w, http.StatusCreated, p)
		return nil
	})
}

// handleUpdateSLAPolicy replaces the fields the body names. Running clocks
// keep the terms they started with.
func (s *Server) handleUpdateSLAPolicy() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "SLA policy")
		if err != nil {
			return err
		}
		p, err := svc.Store.Policy(r.Context(), id)
		if err != nil {
			return err
		}
		if err := web.Decode(w, r, &p); err != nil {
			return err
		}
		p.ID = id
		if err := svc.UpdatePolicy(r.Context(), &p); err != nil {
			return err
		}
		s.Log.Info("sla policy changed", "policy_id", p.ID, "agent_id", agentFrom(r.Context()).ID)
		web.JSON(w, http.StatusOK, p)
		return nil
	})
}

func (s *Server) handleDeleteSLAPolicy() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "SLA policy")
		if err != nil {
			return err
		}
		if err := svc.Store.DeletePolicy(r.Context(), id); err != nil {
			return err
		}
		s.Log.Info("sla policy deleted", "policy_id", id, "agent_id", agentFrom(r.Context()).ID)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *Server) handleSLACalendars() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		cs, err := svc.Store.Calendars(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(liveCalendars(cs)))
		return nil
	})
}

func (s *Server) handleSLACalendar() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "SLA calendar")
		if err != nil {
			return err
		}
		c, err := svc.Store.Calendar(r.Context(), id)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, c)
		return nil
	})
}

func (s *Server) handleCreateSLACalendar() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		var c sla.Calendar
		if err := web.Decode(w, r, &c); err != nil {
			return err
		}
		c.ID = 0
		if err := svc.CreateCalendar(r.Context(), &c); err != nil {
			return err
		}
		web.JSON(w, http.StatusCreated, c)
		return nil
	})
}

// handleImportSLADays adds holidays and make-up working days to a calendar
// from a JSON list of dates ("2026-10-01" or {date, kind, name, hours}) or
// an object with such a "days" list (e.g. sla/testdata/cn-2026.json).
func (s *Server) handleImportSLADays() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "SLA calendar")
		if err != nil {
			return err
		}
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, web.MaxBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return parley.Errorf(parley.EINVALID, "Request body is larger than %d bytes.", web.MaxBody)
		} else if err != nil {
			return err
		}
		days, err := sla.ParseDays(data)
		if err != nil {
			return err
		}
		c, err := svc.ImportDays(r.Context(), id, days)
		if err != nil {
			return err
		}
		s.Log.Info("sla calendar days imported", "calendar_id", id, "days", len(days), "agent_id", agentFrom(r.Context()).ID)
		web.JSON(w, http.StatusOK, c)
		return nil
	})
}

// handleConversationSLA returns a conversation's clocks (history included)
// to whoever may see the conversation.
func (s *Server) handleConversationSLA() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		c, err := s.conversationFor(r.Context(), agentFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			return err
		}
		clocks, err := svc.Clocks(r.Context(), c.ID)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(clocks))
		return nil
	})
}

// handleSLAAtRisk lists running clocks that warned or breached.
func (s *Server) handleSLAAtRisk() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		cs, err := svc.AtRisk(r.Context(), int(queryInt(r, "limit")))
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(cs))
		return nil
	})
}
