package server

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/postgres"
)

// conversationFor returns a conversation the user may see: their own, or any
// for supervisors and admins.
func (s *Server) conversationFor(ctx context.Context, agent parley.Agent, raw string) (parley.Conversation, error) {
	id, err := web.ID(raw, "conversation")
	if err != nil {
		return parley.Conversation{}, err
	}
	c, err := s.DB.Conversation(ctx, id)
	if err != nil {
		return c, err
	}
	if c.AgentID != agent.ID && !agent.Role.Can(parley.RoleSupervisor) {
		return c, parley.Errorf(parley.ENOTFOUND, "conversation %d not found.", id)
	}
	return c, nil
}

func queryInt(r *http.Request, name string) int64 {
	v, _ := strconv.ParseInt(r.URL.Query().Get(name), 10, 64)
	return v
}

func (s *Server) handleConversations() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agent, q := agentFrom(r.Context()), r.URL.Query()
		f := postgres.ConversationFilter{
			Status: parley.ConversationStatus(q.Get("status")), QueueID: queryInt(r, "queue_id"), AgentID: queryInt(r, "agent_id"),
			Channel: parley.Channel(q.Get("channel")), Before: queryInt(r, "cursor"), Limit: int(queryInt(r, "limit")),
			Tag: strings.ToLower(strings.TrimSpace(q.Get("tag"))), SubStatus: q.Get("sub_status"),
		}
		if f.Limit <= 0 || f.Limit > 200 {
			f.Limit = 50
		}
		if !agent.Role.Can(parley.RoleSupervisor) {
			f.AgentID = agent.ID
		}
		convs, err := s.DB.Conversations(r.Context(), f)
		if err != nil {
			return err
		}
		out := listOf(convs)
		if len(convs) == f.Limit {
			out.NextCursor = web.IDString(convs[len(convs)-1].ID)
		}
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

func (s *Server) handleConversation() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.conversationFor(r.Context(), agentFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			return err
		}
		if c.Messages, err = s.DB.Messages(r.Context(), c.ID, 0, 1000, true); err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, c)
		return nil
	})
}

func (s *Server) handleMessages() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		c, err := s.conversationFor(r.Context(), agentFrom(r.Context()), r.PathValue("id"))
		if err != nil {
			return err
		}
		after := queryInt(r, "after_seq")
		if cur := queryInt(r, "cursor"); cur > after {
			after = cur
		}
		limit := int(queryInt(r, "limit"))
		if limit <= 0 || limit > 1000 {
			limit = 200
		}
		msgs, err := s.DB.Messages(r.Context(), c.ID, after, limit, true)
		if err != nil {
			return err
		}
		out := listOf(msgs)
		if len(msgs) == limit {
			out.NextCursor = strconv.FormatInt(msgs[len(msgs)-1].Seq, 10)
		}
		web.JSON(w, http.StatusOK, out)
		return nil
	})
}

func (s *Server) handleSend() http.Handler {
	type request struct {
		Body        string `json:"body"`
		Private     bool   `json:"private"`
		ClientMsgID string `json:"client_msg_id"`
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
		m, err := s.Desk.Send(r.Context(), agent, c.ID, req.Body, req.Private, req.ClientMsgID)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusCreated, m)
		return nil
	})
}

func (s *Server) handleResolve() http.Handler {
	type request struct {
		Disposition string `json:"disposition"`
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
		c, err = s.Desk.Resolve(r.Context(), agent, c.ID, req.Disposition)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, c)
		return nil
	})
}

// handleTimeline pages through a customer's conversations, newest first,
// each with its messages.
func (s *Server) handleTransfer() http.Handler {
	type request struct {
		QueueID string `json:"queue_id"`
		AgentID string `json:"agent_id"`
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
		toQueue, toAgent, err := transferTarget(req.QueueID, req.AgentID)
		if err != nil {
			return err
		}
		c, err = s.Desk.Transfer(r.Context(), agent, c.ID, toQueue, toAgent)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, c)
		return nil
	})
}

// transferTarget parses a transfer's queue_id or agent_id (exactly one).
func transferTarget(queueID, agentID string) (int64, int64, error) {
	if (queueID == "") == (agentID == "") {
		return 0, 0, parley.Invalid("Give either queue_id or agent_id.", map[string]string{"queue_id": "one of queue_id, agent_id"})
	}
	if queueID != "" {
		id, err := web.ID(queueID, "queue")
		return id, 0, err
	}
	id, err := web.ID(agentID, "agent")
	return 0, id, err
}
