package server

import (
	"net/http"

	"github.com/parleyhq/parley/internal/web"
)

func (s *Server) handleSnapshot() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		snap, err := s.Desk.Snapshot(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, snap)
		return nil
	})
}
