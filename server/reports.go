package server

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/postgres"
)

func (s *Server) handleSetAgentPresence() http.Handler {
	type request struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "agent")
		if err != nil {
			return err
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		if err := s.Desk.SetAgentPresence(r.Context(), agentFrom(r.Context()), id, parley.Presence(req.Status), req.Reason); err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, map[string]any{"agent_id": web.IDString(id), "status": req.Status, "reason": req.Reason})
		return nil
	})
}

func (s *Server) handleReassign() http.Handler {
	type request struct {
		QueueID string `json:"queue_id"`
		AgentID string `json:"agent_id"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "conversation")
		if err != nil {
			return err
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		toQueue, toAgent, err := transferTarget(req.QueueID, req.AgentID)
		if err != nil {
			return err
		}
		c, err := s.Desk.Reassign(r.Context(), agentFrom(r.Context()), id, toQueue, toAgent)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, c)
		return nil
	})
}

func (s *Server) handlePauseQueue(paused bool) http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "queue")
		if err != nil {
			return err
		}
		q, err := s.Desk.SetQueuePaused(r.Context(), agentFrom(r.Context()), id, paused)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, q)
		return nil
	})
}

func (s *Server) handleAudit() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		limit := int(queryInt(r, "limit"))
		if limit <= 0 || limit > 500 {
			limit = 100
		}
		items, err := s.DB.AuditLog(r.Context(), queryInt(r, "cursor"), limit)
		if err != nil {
			return err
		}
		out := listOf(items)
		if len(items) == limit {
			out.NextCursor = web.IDString(items[len(items)-1].ID)
		}
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

// reportFilter parses from, to (RFC 3339; default: today in tz), tz,
// queue_id, agent_id, team_id, channel, tag, segment_id and group.
func reportFilter(r *http.Request) (postgres.ReportFilter, error) {
	q := r.URL.Query()
	f := postgres.ReportFilter{Group: q.Get("group"), Channel: parley.Channel(q.Get("channel")), Loc: time.UTC}
	bad := map[string]string{}
	if tz := q.Get("tz"); tz != "" {
		loc, err := time.LoadLocation(tz)
		if err != nil {
			bad["tz"] = "unknown time zone"
		} else {
			f.Loc = loc
		}
	}
	now := time.Now().In(f.Loc)
	y, m, d := now.Date()
	f.From, f.To = time.Date(y, m, d, 0, 0, 0, 0, f.Loc), time.Date(y, m, d+1, 0, 0, 0, 0, f.Loc)
	parseFilterParams(q, bad, &f.From, &f.To, &f.QueueID, &f.AgentID)
	if v := q.Get("team_id"); v != "" {
		if id, err := strconv.ParseInt(v, 10, 64); err != nil || id <= 0 {
			bad["team_id"] = "an id"
		} else {
			f.TeamID = id
		}
	}
	if v := q.Get("segment_id"); v != "" {
		if id, err := strconv.ParseInt(v, 10, 64); err != nil || id <= 0 {
			bad["segment_id"] = "an id"
		} else {
			f.SegmentID = id
		}
	}
	f.Tag = strings.ToLower(strings.TrimSpace(q.Get("tag")))
	if len(bad) > 0 {
		return f, parley.Invalid("Invalid report filter.", bad)
	}
	return f, f.Validate()
}

func (s *Server) handleReport() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		f, err := reportFilter(r)
		if err != nil {
			return err
		}
		data, err := s.DB.ReportData(r.Context(), f)
		if err != nil {
			return err
		}
		rep := postgres.ComputeReport(data, f)
		if r.URL.Query().Get("format") == "csv" || strings.Contains(r.Header.Get("Accept"), "text/csv") {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
			w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="parley-report-%s.csv"`, f.From.UTC().Format("20060102T1504Z")))
			return writeReportCSV(w, rep)
		}
		web.JSON(w, http.StatusOK, rep)
		return nil
	})
}

// reportColumns are the CSV columns: one row per bucket, then the total.
var reportColumns = []string{"from", "to",
	"service_level_pct", "answered_within_target", "answered", "abandoned_after_target", "short_abandons",
	"asa_s", "aht_s", "handled", "abandon_rate_pct", "entered", "abandoned",
	"occupancy_pct", "slot_utilisation_pct", "offer_acceptance_pct", "offers", "accepted", "rejected", "timeout", "canceled", "rescinded", "pending",
	"fcr_pct", "sla_met_pct", "csat_pct", "nps", "ces"}

func writeReportCSV(w http.ResponseWriter, rep postgres.Report) error {
	cw := csv.NewWriter(w)
	cw.Write(reportColumns)
	num := func(f postgres.Figure) string {
		if f.Value == nil {
			return ""
		}
		return strconv.FormatFloat(*f.Value, 'f', 4, 64)
	}
	row := func(x postgres.Figures) []string {
		c := func(f postgres.Figure, k string) string { return strconv.Itoa(f.Counts[k]) }
		o := x.OfferAcceptance
		return []string{x.From.Format(time.RFC3339), x.To.Format(time.RFC3339),
			num(x.ServiceLevel), c(x.ServiceLevel, "answered_within"), c(x.ServiceLevel, "answered"), c(x.ServiceLevel, "abandoned_after_target"), c(x.ServiceLevel, "short_abandons"),
			num(x.ASA), num(x.AHT), c(x.AHT, "handled"), num(x.AbandonRate), c(x.AbandonRate, "entered"), c(x.AbandonRate, "abandoned"),
			num(x.Occupancy), num(x.SlotUtilisation), num(o), c(o, "offers"), c(o, "accepted"), c(o, "rejected"), c(o, "timeout"), c(o, "canceled"), c(o, "rescinded"), c(o, "pending"),
			num(x.FCR), num(x.SLAMet), num(x.CSAT), num(x.NPS), num(x.CES)}
	}
	for _, b := range rep.Series {
		cw.Write(row(b))
	}
	cw.Write(row(rep.Summary))
	cw.Flush()
	return cw.Error()
}

// parseFilterParams reads a report's from and to (RFC 3339) and queue_id and
// agent_id into the given fields when present, noting malformed ones in bad.
func parseFilterParams(q url.Values, bad map[string]string, from, to *time.Time, queueID, agentID *int64) {
	for name, dst := range map[string]*time.Time{"from": from, "to": to} {
		if v := q.Get(name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad[name] = "RFC 3339 time, e.g. 2026-03-02T00:00:00Z"
			}
			*dst = t
		}
	}
	for name, dst := range map[string]*int64{"queue_id": queueID, "agent_id": agentID} {
		if v := q.Get(name); v != "" {
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				bad[name] = "an id"
			}
			*dst = id
		}
	}
}

// handleTeams lists the teams {"items":[{"id","name"}]}, e.g. for the
// reports' team filter.
func (s *Server) handleTeams() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		teams, err := s.DB.Teams(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(teams))
		return nil
	})
}
