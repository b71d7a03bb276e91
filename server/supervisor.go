package server

import (
	"net/http"

	"github.com/parleyhq/parley/internal/web"
)

func (s *Server) handleSnapshot() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		snap, err := s.Desk.Snapshot(r.Context())
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusOK, snap)
	})
}
