package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/internal/socket"
	"github.com/parleyhq/parley/internal/web"
)

// heartbeatEvery refreshes an agent socket's liveness record.
const heartbeatEvery = 30 * time.Second

// agentFrame is a frame from an agent's console.
type agentFrame struct {
	Type           string `json:"type"`
	Status         string `json:"status"`
	Reason         string `json:"reason"`
	OfferID        string `json:"offer_id"`
	ConversationID string `json:"conversation_id"`
	Body           string `json:"body"`
	ClientMsgID    string `json:"client_msg_id"`
	QueueID        string `json:"queue_id"`
	AgentID        string `json:"agent_id"`
	Private        bool   `json:"private"`
	Disposition    string `json:"disposition"`
}

func (s *Server) handleAgentSocket() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.Origins.Check(r) {
			web.Error(w, r, s.Log, parley.Errorf(parley.EFORBIDDEN, "Origin not allowed."))
			return
		}
		agent, token := agentFrom(r.Context()), tokenFrom(r.Context())
		s.Sockets.Serve(w, r, func(conn *socket.Conn) {
			ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
			defer cancel()
			s.runAgentSocket(ctx, conn, agent, sessionID(token))
		})
	})
}

func (s *Server) runAgentSocket(ctx context.Context, conn *socket.Conn, agent parley.Agent, session string) {
	b := make([]byte, 8)
	rand.Read(b)
	sockID := hex.EncodeToString(b)
	log := s.Log.With("agent_id", agent.ID, "socket", sockID)
	sub, err := s.Bus.Subscribe(ctx, bus.AgentTopic(agent.ID))
	if err != nil {
		log.Error("subscribe agent", "error", err)
		conn.Close(1011, "try again")
		return
	}
	defer sub.Close()
	if err := s.Desk.SocketAlive(ctx, agent.ID, sockID); err != nil {
		log.Error("record socket", "error", err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Desk.SocketGone(ctx, agent.ID, sockID); err != nil {
			log.Error("forget socket", "error", err)
		}
	}()
	hello, err := s.Desk.Hello(ctx, agent)
	if err != nil {
		log.Error("hello", "error", err)
		conn.Close(1011, "try again")
		return
	}
	conn.Send(hello)

	frames := conn.Frames()
	beat := time.NewTicker(heartbeatEvery)
	defer beat.Stop()
	for {
		select {
		case data, ok := <-frames:
			if !ok {
				return
			}
			s.onAgentFrame(ctx, conn, agent, data)
		case data := <-sub.C:
			var e struct {
				Type    string `json:"type"`
				Session string `json:"session"`
			}
			if json.Unmarshal(data, &e) == nil && e.Type == "session_ended" {
				if e.Session == session {
					conn.Close(4001, "logged out")
					return
				}
				continue
			}
			conn.SendRaw(data)
		case <-sub.Lagged():
			conn.Close(1013, "fell behind; reconnect")
			return
		case <-beat.C:
			if err := s.Desk.SocketAlive(ctx, agent.ID, sockID); err != nil {
				log.Warn("refresh socket", "error", err)
			}
		case <-conn.Done():
			return
		}
	}
}

func sendError(conn *socket.Conn, ref string, err error) {
	d := web.Detail(err)
	conn.Send(map[string]any{"type": "error", "code": d.Code, "message": d.Message, "fields": d.Fields, "ref": ref})
}

func (s *Server) onAgentFrame(ctx context.Context, conn *socket.Conn, agent parley.Agent, data []byte) {
	var f agentFrame
	if err := json.Unmarshal(data, &f); err != nil {
		sendError(conn, "", parley.Errorf(parley.EINVALID, "Invalid JSON frame."))
		return
	}
	fail := func(ref string, err error) {
		if parley.ErrorCode(err) == parley.EINTERNAL {
			s.Log.Error("agent frame", "type", f.Type, "agent_id", agent.ID, "error", err)
		}
		sendError(conn, ref, err)
	}
	// Refresh the agent: a role or skill change applies at once.
	if fresh, err := s.DB.Agent(ctx, agent.ID); err == nil {
		agent = fresh
	}
	switch f.Type {
	case "presence":
		if err := s.Desk.SetPresence(ctx, agent.ID, parley.Presence(f.Status), f.Reason); err != nil {
			fail("", err)
		}
	case "accept":
		if _, _, err := s.Desk.Accept(ctx, agent, f.OfferID); err != nil {
			fail(f.OfferID, err)
		}
	case "reject":
		if err := s.Desk.Reject(ctx, agent, f.OfferID, f.Reason); err != nil {
			fail(f.OfferID, err)
		}
	case "send":
		if f.ClientMsgID == "" {
			fail("", parley.Invalid("client_msg_id is required.", map[string]string{"client_msg_id": "required"}))
			return
		}
		id, err := web.ID(f.ConversationID, "conversation")
		if err != nil {
			fail(f.ClientMsgID, err)
			return
		}
		m, err := s.Desk.Send(ctx, agent, id, f.Body, f.Private, f.ClientMsgID)
		if err != nil {
			fail(f.ClientMsgID, err)
			return
		}
		conn.Send(map[string]any{"type": "ack", "client_msg_id": f.ClientMsgID, "message_id": web.IDString(m.ID), "seq": m.Seq, "conversation_id": f.ConversationID})
	case "typing":
		c, err := s.conversationFor(ctx, agent, f.ConversationID)
		if err == nil && c.Status == parley.StatusAssigned {
			s.Desk.Typing(ctx, c, false)
		}
	case "resolve":
		id, err := web.ID(f.ConversationID, "conversation")
		if err == nil {
			_, err = s.Desk.Resolve(ctx, agent, id, f.Disposition)
		}
		if err != nil {
			fail(f.ConversationID, err)
		}
	case "transfer":
		id, err := web.ID(f.ConversationID, "conversation")
		if err == nil {
			var toQueue, toAgent int64
			if toQueue, toAgent, err = transferTarget(f.QueueID, f.AgentID); err == nil {
				_, err = s.Desk.Transfer(ctx, agent, id, toQueue, toAgent)
			}
		}
		if err != nil {
			fail(f.ConversationID, err)
		}
	default:
		fail("", parley.Errorf(parley.EINVALID, "Unknown frame type %q.", f.Type))
	}
}
