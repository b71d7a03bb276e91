package server

import (
	"net/http"

	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/sla"
)

// handleUpdateSLACalendar changes the fields the body names: objects
// (weekly) field by field, lists (days, workday_hours) whole.
func (s *Server) handleUpdateSLACalendar() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "SLA calendar")
		if err != nil {
			return err
		}
		c, err := svc.Store.Calendar(r.Context(), id)
		if err != nil {
			return err
		}
		if err := web.Decode(w, r, &c); err != nil {
			return err
		}
		c.ID = id
		if err := svc.UpdateCalendar(r.Context(), &c); err != nil {
			return err
		}
		s.Log.Info("sla calendar changed", "calendar_id", id, "agent_id", agentFrom(r.Context()).ID)
		if c, err = svc.Store.Calendar(r.Context(), id); err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, c)
		return nil
	})
}

func (s *Server) handleDeleteSLACalendar() http.Handler {
	return s.slaAPI(func(svc *sla.Service, w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "SLA calendar")
		if err != nil {
			return err
		}
		if err := svc.Store.DeleteCalendar(r.Context(), id); err != nil {
			return err
		}
		s.Log.Info("sla calendar deleted", "calendar_id", id, "agent_id", agentFrom(r.Context()).ID)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// liveCalendars leaves out retired calendars.
func liveCalendars(cs []sla.Calendar) []sla.Calendar {
	out := cs[:0:0]
	for _, c := range cs {
		if c.DeletedAt.IsZero() {
			out = append(out, c)
		}
	}
	return out
}
