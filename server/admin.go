package server

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
)

// list is the v1 list envelope.
type list[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

func listOf[T any](items []T) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items}
}

func (s *Server) handleAgents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		agents, err := s.DB.Agents(r.Context())
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusOK, listOf(agents))
	})
}

func (s *Server) handleAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := web.ID(r.PathValue("id"), "agent")
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		a, err := s.DB.Agent(r.Context(), id)
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusOK, a)
	})
}

func (s *Server) handleCreateAgent() http.Handler {
	type request struct {
		parley.Agent
		Password string `json:"password"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := request{Agent: parley.Agent{VoiceBlocksDigital: true}}
		if err := web.Decode(w, r, &req); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		a := req.Agent
		if a.Role == "" {
			a.Role = parley.RoleAgent
		}
		if err := s.DB.CreateAgent(r.Context(), &a, req.Password); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if err := s.Desk.SyncAgent(r.Context(), a); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusCreated, a)
	})
}

func (s *Server) handleUpdateAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := web.ID(r.PathValue("id"), "agent")
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		var u parley.AgentUpdate
		if err := web.Decode(w, r, &u); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		a, err := s.DB.UpdateAgent(r.Context(), id, u)
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if err := s.Desk.SyncAgent(r.Context(), a); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusOK, a)
	})
}

func (s *Server) handleDeleteAgent() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := web.ID(r.PathValue("id"), "agent")
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if err := s.DB.DeleteAgent(r.Context(), id); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if err := s.Desk.RemoveAgent(r.Context(), id); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func (s *Server) handleQueues() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		qs, err := s.DB.Queues(r.Context())
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusOK, listOf(qs))
	})
}

func (s *Server) handleQueue() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := web.ID(r.PathValue("id"), "queue")
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		q, err := s.DB.Queue(r.Context(), id)
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusOK, q)
	})
}

func (s *Server) handleCreateQueue() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := parley.Queue{ShortAbandonS: 5}
		if err := web.Decode(w, r, &q); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if err := s.DB.CreateQueue(r.Context(), &q); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if err := s.Desk.SyncQueue(r.Context(), q); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusCreated, q)
	})
}

// handleUpdateQueue applies the given fields onto the stored queue.
func (s *Server) handleUpdateQueue() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := web.ID(r.PathValue("id"), "queue")
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		q, err := s.DB.Queue(r.Context(), id)
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if err := web.Decode(w, r, &q); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		q.ID = id
		if err := s.DB.UpdateQueue(r.Context(), &q); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if err := s.Desk.SyncQueue(r.Context(), q); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusOK, q)
	})
}

func (s *Server) handleInboxes() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		is, err := s.DB.Inboxes(r.Context())
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		for i := range is {
			is[i] = is[i].Redacted()
		}
		web.JSON(w, http.StatusOK, listOf(is))
	})
}

func (s *Server) handleInbox() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := web.ID(r.PathValue("id"), "inbox")
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		in, err := s.DB.Inbox(r.Context(), id)
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusOK, in.Redacted())
	})
}

// supportedChannels are the channels whose adapters exist.
var supportedChannels = map[parley.Channel]bool{
	parley.ChannelWebchat: true,
}

func (s *Server) handleCreateInbox() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in parley.InboxConfig
		if err := web.Decode(w, r, &in); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if in.Channel.Valid() && !supportedChannels[in.Channel] {
			web.Error(w, r, s.Log, parley.Invalid("This channel has no adapter yet.", map[string]string{"channel": "supported: webchat"}))
			return
		}
		if err := s.DB.CreateInbox(r.Context(), &in); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusCreated, in.Redacted())
	})
}

func (s *Server) handleUpdateInbox() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := web.ID(r.PathValue("id"), "inbox")
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		in, err := s.DB.Inbox(r.Context(), id)
		if err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		channel := in.Channel
		if err := web.Decode(w, r, &in); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		if in.Channel != channel {
			web.Error(w, r, s.Log, parley.Invalid("An inbox's channel cannot change.", map[string]string{"channel": "read-only"}))
			return
		}
		in.ID = id
		if err := s.DB.UpdateInbox(r.Context(), &in); err != nil {
			web.Error(w, r, s.Log, err)
			return
		}
		web.JSON(w, http.StatusOK, in.Redacted())
	})
}
