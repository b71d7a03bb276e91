package server

import (
	"net/http"
	"slices"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/gamification"
	"github.com/parleyhq/parley/internal/web"
)

// game returns the gamification service, or EUNAVAILABLE when this server
// was built without one.
func (s *Server) game() (*gamification.Service, error) {
	if s.Gamification == nil {
		return nil, parley.Errorf(parley.EUNAVAILABLE, "Gamification is not enabled on this server.")
	}
	return s.Gamification, nil
}

// gameAPI is s.api for handlers that need the gamification service.
func (s *Server) gameAPI(fn func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		g, err := s.game()
		if err != nil {
			return err
		}
		return fn(g, w, r)
	})
}

func (s *Server) handleGamificationRules() http.Handler {
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		st, err := g.Settings(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, st)
		return nil
	})
}

func (s *Server) handleUpdateGamificationRules() http.Handler {
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		var p gamification.SettingsPatch
		if err := web.Decode(w, r, &p); err != nil {
			return err
		}
		st, err := g.UpdateSettings(r.Context(), p, agentFrom(r.Context()).ID)
		if err != nil {
			return err
		}
		s.Log.Info("gamification rules changed", "agent_id", agentFrom(r.Context()).ID)
		web.JSON(w, http.StatusOK, st)
		return nil
	})
}

func (s *Server) handleGamificationCatalog() http.Handler {
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		web.JSON(w, http.StatusOK, g.Catalog())
		return nil
	})
}

func (s *Server) handleMyAchievements() http.Handler {
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		a, err := g.Achievements(r.Context(), agentFrom(r.Context()).ID)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, a)
		return nil
	})
}

func (s *Server) handleUpdateMyGamification() http.Handler {
	type request struct {
		Public *bool `json:"public"`
	}
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		if req.Public == nil {
			return parley.Invalid("Nothing to change.", map[string]string{"public": "required: true or false"})
		}
		me := agentFrom(r.Context()).ID
		if err := g.SetPublic(r.Context(), me, *req.Public); err != nil {
			return err
		}
		a, err := g.Achievements(r.Context(), me)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, a)
		return nil
	})
}

// handleAchievements serves an agent's progress to themselves and to
// supervisors.
func (s *Server) handleAchievements() http.Handler {
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "agent")
		if err != nil {
			return err
		}
		viewer := agentFrom(r.Context())
		if id != viewer.ID && !viewer.Role.Can(parley.RoleSupervisor) {
			return parley.Errorf(parley.EFORBIDDEN, "Only supervisors may see another agent's achievements.")
		}
		a, err := g.Achievements(r.Context(), id)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, a)
		return nil
	})
}

func (s *Server) handleLeaderboard() http.Handler {
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		period := r.URL.Query().Get("period")
		if period == "" {
			period = gamification.PeriodWeek
		}
		var team int64
		name := r.URL.Query().Get("team")
		if name != "" {
			var err error
			if team, err = g.TeamID(r.Context(), name); err != nil {
				return err
			}
		}
		b, err := g.Leaderboard(r.Context(), agentFrom(r.Context()).ID, period, team)
		if err != nil {
			return err
		}
		b.Team = name
		web.JSON(w, http.StatusOK, b)
		return nil
	})
}

func (s *Server) handleTeamStandings() http.Handler {
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		period := r.URL.Query().Get("period")
		if period == "" {
			period = gamification.PeriodWeek
		}
		ts, err := g.TeamStandings(r.Context(), period)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, map[string]any{"period": period, "items": ts})
		return nil
	})
}

func (s *Server) handleCreateQuest() http.Handler {
	type request struct {
		Title    string    `json:"title"`
		Scope    string    `json:"scope"`
		AgentID  int64     `json:"agent_id,string"`
		Team     string    `json:"team"`
		Metric   string    `json:"metric"`
		Target   int       `json:"target"`
		StartsAt time.Time `json:"starts_at"`
		EndsAt   time.Time `json:"ends_at"`
		MinCSAT  *float64  `json:"min_csat"`
	}
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		q := gamification.Quest{Title: req.Title, Scope: req.Scope, AgentID: req.AgentID, Team: req.Team, Metric: req.Metric,
			Target: req.Target, StartsAt: req.StartsAt, EndsAt: req.EndsAt, MinCSAT: req.MinCSAT, CreatedBy: agentFrom(r.Context()).ID}
		if q.Scope == gamification.QuestAgent && q.AgentID > 0 {
			if _, err := s.DB.Agent(r.Context(), q.AgentID); err != nil {
				if parley.ErrorCode(err) == parley.ENOTFOUND {
					return parley.Invalid("Invalid quest.", map[string]string{"agent_id": "no such agent"})
				}
				return err
			}
		}
		if q.Scope == gamification.QuestTeam && q.Team == "" {
			return parley.Invalid("Invalid quest.", map[string]string{"team": "required for a team quest: the name of an existing team"})
		}
		if err := g.CreateQuest(r.Context(), &q); err != nil {
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Invalid("Invalid quest.", map[string]string{"team": "no such team"})
			}
			return err
		}
		web.JSON(w, http.StatusCreated, q)
		return nil
	})
}

// handleQuests lists quests with live progress: an agent gets their own and
// their teams' that have not ended; supervisors every quest (?active=true
// for those not ended).
func (s *Server) handleQuests() http.Handler {
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		viewer := agentFrom(r.Context())
		var qs []gamification.Quest
		var err error
		if viewer.Role.Can(parley.RoleSupervisor) {
			qs, err = g.QuestsFor(r.Context(), 0, r.URL.Query().Get("active") == "true")
		} else {
			qs, err = g.QuestsFor(r.Context(), viewer.ID, true)
		}
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(qs))
		return nil
	})
}

func (s *Server) handleQuest() http.Handler {
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "quest")
		if err != nil {
			return err
		}
		q, err := g.Quest(r.Context(), id)
		if err != nil {
			return err
		}
		viewer := agentFrom(r.Context())
		if !viewer.Role.Can(parley.RoleSupervisor) && q.AgentID != viewer.ID && !(q.Team != "" && slices.Contains(viewer.Teams, q.Team)) {
			return parley.Errorf(parley.ENOTFOUND, "quest %d not found.", id)
		}
		web.JSON(w, http.StatusOK, q)
		return nil
	})
}

func (s *Server) handleDeleteQuest() http.Handler {
	return s.gameAPI(func(g *gamification.Service, w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "quest")
		if err != nil {
			return err
		}
		if err := g.DeleteQuest(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}
