// Package server is Parley's HTTP surface: the REST API, the agents'
// WebSocket, health and metrics, and the embedded console.
package server

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/agent-ui"
	"github.com/parleyhq/parley/channels/twilio"
	"github.com/parleyhq/parley/channels/webchat"
	"github.com/parleyhq/parley/desk"
	"github.com/parleyhq/parley/gamification"
	"github.com/parleyhq/parley/internal/socket"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/metrics"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/sla"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
)

// Config holds the server's dependencies.
type Config struct {
	DB       *postgres.DB
	Redis    redis.UniversalClient
	Desk     *desk.Desk
	Bus      webchat.Bus
	Webchat  *webchat.Channel
	Twilio   *twilio.Channel
	UI       *agentui.UI
	Sockets  *socket.Registry
	Origins  socket.Origins
	Metrics  *metrics.Metrics
	Gatherer prometheus.Gatherer
	Log      *slog.Logger
	// SecureCookies marks the session cookie Secure (HTTPS deployments).
	SecureCookies bool
	// Gamification serves points, leaderboards and quests (nil: those
	// routes answer unavailable).
	Gamification *gamification.Service
	// SLA serves SLA policies, calendars and clocks (nil: those routes
	// answer unavailable).
	SLA *sla.Service
	// Surveys serves the email survey page (nil: it answers not found).
	Surveys *desk.Surveys
}

// Server serves Parley's HTTP API.
type Server struct {
	Config
	mux *web.Mux
}

// New returns the HTTP handler of Parley.
func New(c Config) *Server {
	s := &Server{Config: c, mux: web.NewMux()}
	s.routes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(sw, r)
	route := r.Pattern
	if route == "" {
		route = "unmatched"
	}
	s.Metrics.HTTPRequests.WithLabelValues(route, statusClass(sw.status)).Inc()
	s.Metrics.HTTPDuration.WithLabelValues(route).Observe(time.Since(start).Seconds())
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection to the WebSocket upgrader.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.status = http.StatusSwitchingProtocols
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func statusClass(code int) string {
	return string(rune('0'+code/100)) + "xx"
}

// api adapts a handler that returns its error: the error is written as the
// API's JSON error (and logged when internal).
func (s *Server) api(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			web.Error(w, r, s.Log, err)
		}
	})
}

func (s *Server) handleHealth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

func (s *Server) handleReady() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		checks := map[string]string{"postgres": "ok", "redis": "ok"}
		ok := true
		if err := s.DB.Ping(ctx); err != nil {
			checks["postgres"], ok = err.Error(), false
		}
		if err := s.Redis.Ping(ctx).Err(); err != nil {
			checks["redis"], ok = err.Error(), false
		}
		if !ok {
			web.JSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "checks": checks})
			return
		}
		web.JSON(w, http.StatusOK, map[string]any{"status": "ok", "checks": checks})
	})
}

func (s *Server) handleMetrics() http.Handler {
	return promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{})
}

func (s *Server) handleDemo() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inboxes, err := s.DB.Inboxes(r.Context())
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		for _, in := range inboxes {
			if in.Channel == parley.ChannelWebchat {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				if err := s.UI.Demo(w, agentui.Demo{InboxID: web.IDString(in.ID)}); err != nil {
					s.Log.Error("render demo page", "error", err)
				}
				return
			}
		}
		web.Error(w, r, s.Log, parley.Errorf(parley.ENOTFOUND, "No web-chat inbox yet: create one (or run `parley seed --demo`)."))
	})
}
