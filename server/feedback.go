package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/feedback"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/postgres"
)

// feedbackRoutes registers feedback items (complaints, suggestions, praise),
// their settings and their report.
func (s *Server) feedbackRoutes(m *web.Mux) {
	m.Handle("GET /api/v1/feedback", s.auth(anyone, s.handleFeedbackItems()))
	m.Handle("POST /api/v1/feedback", s.auth(anyone, s.handleCreateFeedback()))
	m.Handle("GET /api/v1/feedback/settings", s.auth(anyone, s.handleFeedbackSettings()))
	m.Handle("PUT /api/v1/feedback/settings", s.auth(admins, s.handleUpdateFeedbackSettings()))
	m.Handle("GET /api/v1/feedback/{id}", s.auth(anyone, s.handleFeedbackItem()))
	m.Handle("PATCH /api/v1/feedback/{id}", s.auth(anyone, s.handleUpdateFeedback()))
	m.Handle("GET /api/v1/reports/feedback-items", s.auth(supervisors, s.handleFeedbackItemsReport()))
}

// mayHandle reports whether an agent may see and work an item: their own
// (owner or opener), or any for supervisors.
func mayHandle(a parley.Agent, it feedback.Item) bool {
	return a.Role.Can(parley.RoleSupervisor) || it.OwnerID == a.ID || it.CreatedBy == a.ID
}

func (s *Server) handleFeedbackItems() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		viewer := agentFrom(r.Context())
		q := r.URL.Query()
		f := postgres.FeedbackItemFilter{Status: q.Get("status"), Kind: q.Get("kind"), Category: q.Get("category"), Source: q.Get("source"),
			Overdue: q.Get("overdue") == "true"}
		bad := map[string]string{}
		if f.Status != "" && !slices.Contains([]string{feedback.StatusOpen, feedback.StatusInProgress, feedback.StatusResolved}, f.Status) {
			bad["status"] = "open, in_progress or resolved"
		}
		if f.Kind != "" && !slices.Contains(feedback.Kinds(), f.Kind) {
			bad["kind"] = "complaint, suggestion or praise"
		}
		for name, dst := range map[string]*int64{"owner_id": &f.OwnerID, "customer_id": &f.CustomerID, "conversation_id": &f.ConversationID, "cursor": &f.Before} {
			if v := q.Get(name); v != "" {
				id, err := strconv.ParseInt(v, 10, 64)
				if err != nil || id <= 0 {
					bad[name] = "an id"
				}
				*dst = id
			}
		}
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 200 {
				bad["limit"] = "1 to 200"
			}
			f.Limit = n
		}
		if len(bad) > 0 {
			return parley.Invalid("Invalid feedback filter.", bad)
		}
		if q.Get("mine") == "true" || !viewer.Role.Can(parley.RoleSupervisor) {
			f.OwnerID = viewer.ID
		}
		if f.Limit == 0 {
			f.Limit = 50
		}
		items, err := s.DB.FeedbackItems(r.Context(), f)
		if err != nil {
			return err
		}
		out := map[string]any{"items": listOf(items).Items, "next_cursor": ""}
		if len(items) == f.Limit {
			out["next_cursor"] = web.IDString(items[len(items)-1].ID)
		}
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

func (s *Server) handleFeedbackItem() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		it, err := s.feedbackFor(r)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, it)
		return nil
	})
}

func (s *Server) feedbackFor(r *http.Request) (feedback.Item, error) {
	id, err := web.ID(r.PathValue("id"), "feedback item")
	if err != nil {
		return feedback.Item{}, err
	}
	it, err := s.DB.FeedbackItem(r.Context(), id)
	if err != nil {
		return it, err
	}
	if !mayHandle(agentFrom(r.Context()), it) {
		return it, parley.Errorf(parley.ENOTFOUND, "feedback item %d not found.", id)
	}
	return it, nil
}

// optionalID parses an id field: "" is 0.
func optionalID(v, field string, bad map[string]string) int64 {
	if v == "" {
		return 0
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		bad[field] = "an id"
	}
	return id
}

func (s *Server) handleCreateFeedback() http.Handler {
	type request struct {
		Kind           string `json:"kind"`
		Category       string `json:"category"`
		Summary        string `json:"summary"`
		ConversationID string `json:"conversation_id"`
		CustomerID     string `json:"customer_id"`
		OwnerID        string `json:"owner_id"`
		// FollowUpQueueID: absent → the settings' queue for the kind; "" → none.
		FollowUpQueueID *string `json:"followup_queue_id"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		viewer := agentFrom(r.Context())
		bad := map[string]string{}
		n := feedback.New{Kind: req.Kind, Category: req.Category, Summary: req.Summary,
			CustomerID: optionalID(req.CustomerID, "customer_id", bad), OwnerID: optionalID(req.OwnerID, "owner_id", bad)}
		var followUp *int64
		if req.FollowUpQueueID != nil {
			q := optionalID(*req.FollowUpQueueID, "followup_queue_id", bad)
			followUp = &q
		}
		if len(bad) > 0 {
			return parley.Invalid("Invalid feedback item.", bad)
		}
		if req.ConversationID != "" {
			c, err := s.conversationFor(r.Context(), viewer, req.ConversationID)
			if parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Invalid("Invalid feedback item.", map[string]string{"conversation_id": "no such conversation of yours"})
			} else if err != nil {
				return err
			}
			n.ConversationID = c.ID
		} else if !viewer.Role.Can(parley.RoleSupervisor) {
			return parley.Invalid("Invalid feedback item.", map[string]string{"conversation_id": "required: the conversation the feedback came from"})
		}
		if n.OwnerID == 0 {
			n.OwnerID = viewer.ID
		} else if n.OwnerID != viewer.ID {
			if !viewer.Role.Can(parley.RoleSupervisor) {
				return parley.Errorf(parley.EFORBIDDEN, "Only supervisors give feedback items to other agents.")
			}
			if _, err := s.DB.Agent(r.Context(), n.OwnerID); parley.ErrorCode(err) == parley.ENOTFOUND {
				return parley.Invalid("Invalid feedback item.", map[string]string{"owner_id": "no such agent"})
			} else if err != nil {
				return err
			}
		}
		it, err := s.Desk.OpenFeedback(r.Context(), viewer, n, followUp)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusCreated, it)
		return nil
	})
}

func (s *Server) handleUpdateFeedback() http.Handler {
	type request struct {
		Status     *string `json:"status"`
		OwnerID    *string `json:"owner_id"`
		Category   *string `json:"category"`
		Summary    *string `json:"summary"`
		Resolution *string `json:"resolution"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		it, err := s.feedbackFor(r)
		if err != nil {
			return err
		}
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		viewer := agentFrom(r.Context())
		p := postgres.FeedbackPatch{Status: req.Status, Category: req.Category, Summary: req.Summary, Resolution: req.Resolution}
		if req.OwnerID != nil {
			bad := map[string]string{}
			owner := optionalID(*req.OwnerID, "owner_id", bad)
			if len(bad) > 0 {
				return parley.Invalid("Invalid feedback update.", bad)
			}
			if owner != it.OwnerID && !viewer.Role.Can(parley.RoleSupervisor) {
				return parley.Errorf(parley.EFORBIDDEN, "Only supervisors assign feedback items.")
			}
			p.OwnerID = &owner
		}
		st, err := s.DB.FeedbackSettings(r.Context())
		if err != nil {
			return err
		}
		out, err := s.DB.UpdateFeedbackItem(r.Context(), it.ID, p, viewer.ID, st)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

func (s *Server) handleFeedbackSettings() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		st, err := s.DB.FeedbackSettings(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, st)
		return nil
	})
}

// followUpQueuesServeInboxes refuses (EUNPROCESSABLE) a follow-up queue
// that takes none of the media of the inboxes' channels: no follow-up
// task could ever wait there (a task whose channel the queue does not take
// goes to its inbox's queue).
func (s *Server) followUpQueuesServeInboxes(ctx context.Context, st feedback.Settings) error {
	inboxes, err := s.DB.Inboxes(ctx)
	if err != nil {
		return err
	}
	bad := map[string]string{}
	for kind, id := range st.FollowUpQueues {
		n, err := strconv.ParseInt(id, 10, 64)
		if id == "" || err != nil {
			continue
		}
		q, err := s.DB.Queue(ctx, n)
		if err != nil {
			return err
		}
		var media []string
		serves := false
		for _, in := range inboxes {
			m := in.Channel.Media()
			serves = serves || q.Serves(m)
			if !slices.Contains(media, string(m)) {
				media = append(media, string(m))
			}
		}
		if !serves && len(inboxes) > 0 {
			bad["followup_queues."+kind] = fmt.Sprintf("queue %s takes none of the inboxes' media (%s)", q.Name, strings.Join(media, ", "))
		}
	}
	if len(bad) > 0 {
		return &parley.Error{Code: parley.EUNPROCESSABLE, Message: "A follow-up queue does not take the media of any inbox.", Fields: bad}
	}
	return nil
}

func (s *Server) handleUpdateFeedbackSettings() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		// Fields left out keep their current value.
		st, err := s.DB.FeedbackSettings(r.Context())
		if err != nil {
			return err
		}
		if err := web.Decode(w, r, &st); err != nil {
			return err
		}
		if st.FollowUpQueues == nil {
			st.FollowUpQueues = map[string]string{}
		}
		err = st.Validate(func(id string) bool {
			n, err := strconv.ParseInt(id, 10, 64)
			if err != nil || n <= 0 {
				return false
			}
			_, err = s.DB.Queue(r.Context(), n)
			return err == nil
		})
		if err != nil {
			return err
		}
		if err := s.followUpQueuesServeInboxes(r.Context(), st); err != nil {
			return err
		}
		if err := s.DB.SaveFeedbackSettings(r.Context(), st, agentFrom(r.Context()).ID); err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, st)
		return nil
	})
}

func (s *Server) handleFeedbackItemsReport() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		q := r.URL.Query()
		var f postgres.FeedbackFilter
		bad := map[string]string{}
		parseFilterParams(q, bad, &f.From, &f.To, &f.QueueID, &f.AgentID)
		for _, k := range []string{"queue_id", "agent_id", "channel"} {
			if q.Has(k) {
				bad[k] = "not a filter of this report (from, to)"
			}
		}
		if len(bad) > 0 {
			return parley.Invalid("Invalid report filter.", bad)
		}
		cats, weeks, err := s.DB.FeedbackItemsReport(r.Context(), f.From, f.To)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, map[string]any{"from": q.Get("from"), "to": q.Get("to"), "categories": cats, "weeks": weeks})
		return nil
	})
}
