package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/postgres"
)

// SessionCookie is the name of the login cookie.
const SessionCookie = "parley_session"

const (
	anyone      = parley.RoleAgent
	supervisors = parley.RoleSupervisor
	admins      = parley.RoleAdmin
)

type ctxKey int

const (
	agentKey ctxKey = iota
	tokenKey
)

func agentFrom(ctx context.Context) parley.Agent {
	a, _ := ctx.Value(agentKey).(parley.Agent)
	return a
}

func tokenFrom(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey).(string)
	return t
}

// sessionID names a session in frames without revealing its token.
func sessionID(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:8])
}

// auth requires a logged-in user with at least role. The token comes from
// the Authorization header, the ?token= query (WebSockets) or the session
// cookie; a cookie-authenticated change must come from an allowed Origin.
func (s *Server) auth(role parley.Role, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, cookie := "", false
		if h := r.Header.Get("Authorization"); h != "" {
			var ok bool
			if token, ok = strings.CutPrefix(h, "Bearer "); !ok {
				web.Error(w, r, s.Log, parley.Errorf(parley.EUNAUTHORIZED, "Authorization must be a Bearer token."))
				return
			}
		} else if q := r.URL.Query().Get("token"); q != "" && r.Method == http.MethodGet {
			token = q
		} else if c, err := r.Cookie(SessionCookie); err == nil {
			token, cookie = c.Value, true
		}
		if token == "" {
			web.Error(w, r, s.Log, parley.Errorf(parley.EUNAUTHORIZED, "Log in first."))
			return
		}
		if cookie && r.Method != http.MethodGet && r.Method != http.MethodHead && !s.Origins.Check(r) {
			web.Error(w, r, s.Log, parley.Errorf(parley.EFORBIDDEN, "Cross-origin request refused."))
			return
		}
		agent, err := s.DB.SessionAgent(r.Context(), token)
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if !agent.Role.Can(role) {
			web.Error(w, r, s.Log, parley.Errorf(parley.EFORBIDDEN, "This needs the %s role.", role))
			return
		}
		ctx := context.WithValue(context.WithValue(r.Context(), agentKey, agent), tokenKey, token)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (s *Server) handleLogin() http.Handler {
	type request struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if req.Email == "" || req.Password == "" {
			web.Error(w, r, s.Log, parley.Invalid("Email and password are required.", map[string]string{"email": "required", "password": "required"}))
			return
		}
		token, agent, err := s.DB.Login(r.Context(), req.Email, req.Password)
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.SecureCookies,
			SameSite: http.SameSiteLaxMode, MaxAge: int(postgres.SessionTTL.Seconds())})
		s.Log.Info("login", "agent_id", agent.ID)
		web.JSON(w, http.StatusOK, map[string]any{"token": token, "agent": agent})
	})
}

func (s *Server) handleLogout() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, agent := tokenFrom(r.Context()), agentFrom(r.Context())
		if err := s.DB.Logout(r.Context(), token); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		// Close this session's sockets on every instance.
		s.Bus.Publish(r.Context(), bus.AgentTopic(agent.ID), map[string]string{"type": "session_ended", "session": sessionID(token)})
		http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: s.SecureCookies, MaxAge: -1})
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) handleMe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.JSON(w, http.StatusOK, map[string]any{"agent": agentFrom(r.Context())})
	})
}
