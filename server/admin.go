package server

import (
	"net/http"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/postgres"
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
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		agents, err := s.DB.Agents(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(agents))
		return nil
	})
}

func (s *Server) handleAgent() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "agent")
		if err != nil {
			return err
		}
		a, err := s.DB.Agent(r.Context(), id)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, a)
		return nil
	})
}

func (s *Server) handleCreateAgent() http.Handler {
	type request struct {
		parley.Agent
		Password string `json:"password"`
	}
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		req := request{Agent: parley.Agent{VoiceBlocksDigital: true}}
		if err := web.Decode(w, r, &req); err != nil {
			return err
		}
		a := req.Agent
		if a.Role == "" {
			a.Role = parley.RoleAgent
		}
		if err := s.DB.CreateAgent(r.Context(), &a, req.Password); err != nil {
			return err
		}
		if err := s.Desk.SyncAgent(r.Context(), a); err != nil {
			return err
		}
		web.JSON(w, http.StatusCreated, a)
		return nil
	})
}

func (s *Server) handleUpdateAgent() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "agent")
		if err != nil {
			return err
		}
		var u parley.AgentUpdate
		if err := web.Decode(w, r, &u); err != nil {
			return err
		}
		a, err := s.DB.UpdateAgent(r.Context(), id, u)
		if err != nil {
			return err
		}
		if err := s.Desk.SyncAgent(r.Context(), a); err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, a)
		return nil
	})
}

func (s *Server) handleDeleteAgent() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "agent")
		if err != nil {
			return err
		}
		if err := s.DB.DeleteAgent(r.Context(), id); err != nil {
			return err
		}
		if err := s.Desk.RemoveAgent(r.Context(), id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

func (s *Server) handleQueues() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		qs, err := s.DB.Queues(r.Context())
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, listOf(qs))
		return nil
	})
}

func (s *Server) handleQueue() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "queue")
		if err != nil {
			return err
		}
		q, err := s.DB.Queue(r.Context(), id)
		if err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, q)
		return nil
	})
}

func (s *Server) handleCreateQueue() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		q := parley.Queue{ShortAbandonS: 5}
		if err := web.Decode(w, r, &q); err != nil {
			return err
		}
		if err := s.DB.CreateQueue(r.Context(), &q); err != nil {
			return err
		}
		if err := s.Desk.SyncQueue(r.Context(), q); err != nil {
			return err
		}
		web.JSON(w, http.StatusCreated, q)
		return nil
	})
}

// handleUpdateQueue applies the given fields onto the stored queue.
func (s *Server) handleUpdateQueue() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "queue")
		if err != nil {
			return err
		}
		q, err := s.DB.Queue(r.Context(), id)
		if err != nil {
			return err
		}
		if err := web.Decode(w, r, &q); err != nil {
			return err
		}
		q.ID = id
		if err := s.DB.UpdateQueue(r.Context(), &q); err != nil {
			return err
		}
		if err := s.Desk.SyncQueue(r.Context(), q); err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, q)
		return nil
	})
}

func (s *Server) handleInboxes() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		is, err := s.DB.Inboxes(r.Context())
		if err != nil {
			return err
		}
		// Email inboxes show their IMAP watcher's status, as in GET /inboxes/{id}.
		type inboxWithStatus struct {
			parley.InboxConfig
			Status *postgres.EmailStatus `json:"status,omitempty"`
		}
		out := make([]inboxWithStatus, len(is))
		for i := range is {
			out[i].InboxConfig = is[i].Redacted()
			if is[i].Channel == parley.ChannelEmail {
				st, err := s.DB.EmailStatus(r.Context(), is[i].ID)
				if err != nil {
					return err
				}
				out[i].Status = &st
			}
		}
		web.JSON(w, http.StatusOK, listOf(out))
		return nil
	})
}

func (s *Server) handleInbox() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "inbox")
		if err != nil {
			return err
		}
		in, err := s.DB.Inbox(r.Context(), id)
		if err != nil {
			return err
		}
		if in.Channel == parley.ChannelEmail {
			// An email inbox shows its IMAP watcher's status.
			st, err := s.DB.EmailStatus(r.Context(), id)
			if err != nil {
				return err
			}
			web.JSON(w, http.StatusOK, struct {
				parley.InboxConfig
				Status any `json:"status"`
			}{in.Redacted(), st})
			return nil
		}
		web.JSON(w, http.StatusOK, in.Redacted())
		return nil
	})
}

// supportedChannels are the channels whose adapters exist.
var supportedChannels = map[parley.Channel]bool{
	parley.ChannelWebchat: true,
	parley.ChannelEmail:   true,
	parley.ChannelSMS:     true, parley.ChannelWhatsApp: true, parley.ChannelVoice: true,
}

func (s *Server) handleCreateInbox() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		var in parley.InboxConfig
		if err := web.Decode(w, r, &in); err != nil {
			return err
		}
		if in.Channel.Valid() && !supportedChannels[in.Channel] {
			return parley.Invalid("This channel has no adapter yet.", map[string]string{"channel": "not supported yet"})
		}
		if err := s.DB.CreateInbox(r.Context(), &in); err != nil {
			return err
		}
		web.JSON(w, http.StatusCreated, in.Redacted())
		return nil
	})
}

func (s *Server) handleUpdateInbox() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "inbox")
		if err != nil {
			return err
		}
		in, err := s.DB.Inbox(r.Context(), id)
		if err != nil {
			return err
		}
		channel := in.Channel
		if err := web.Decode(w, r, &in); err != nil {
			return err
		}
		if in.Channel != channel {
			return parley.Invalid("An inbox's channel cannot change.", map[string]string{"channel": "read-only"})
		}
		in.ID = id
		if err := s.DB.UpdateInbox(r.Context(), &in); err != nil {
			return err
		}
		web.JSON(w, http.StatusOK, in.Redacted())
		return nil
	})
}
