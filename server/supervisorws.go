package server

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/desk"
	"github.com/parleyhq/parley/internal/socket"
	"github.com/parleyhq/parley/internal/web"
	"github.com/parleyhq/parley/sla"
)

// The supervisor socket (GET /api/v1/supervisor/ws): a full snapshot on
// connect, then deltas. ONE loop per instance (supervisorHub) computes the
// snapshot at most every WallboardEvery while at least one supervisor
// socket is open here, diffs it against the previous one and sends the
// same encoded delta to every local supervisor socket; nothing runs on the
// routing path (plain Redis reads, no script).

// WallboardEvery is the wallboard's refresh period: a change reaches
// supervisors within this plus one snapshot's computation.
const WallboardEvery = 500 * time.Millisecond

// wallboardConfigTTL is how long agents, queues and members are cached.
const wallboardConfigTTL = 5 * time.Second

// maxMonitored bounds the conversations one socket monitors at once.
const maxMonitored = 20

// supervisorRoutes adds the cockpit's routes: socket, interventions,
// audit log and reports.
func (s *Server) supervisorRoutes(m *web.Mux) {
	hub := &supervisorHub{s: s, wb: s.Desk.Wallboard(wallboardConfigTTL), every: WallboardEvery, clients: map[*supClient]struct{}{}}
	m.Handle("GET /api/v1/supervisor/ws", s.auth(supervisors, s.handleSupervisorSocket(hub)))
	m.Handle("POST /api/v1/agents/{id}/presence", s.auth(supervisors, s.handleSetAgentPresence()))
	m.Handle("POST /api/v1/conversations/{id}/reassign", s.auth(supervisors, s.handleReassign()))
	m.Handle("POST /api/v1/conversations/{id}/voice/{mode}", s.auth(supervisors, s.handleVoiceCoach()))
	m.Handle("POST /api/v1/queues/{id}/pause", s.auth(supervisors, s.handlePauseQueue(true)))
	m.Handle("POST /api/v1/queues/{id}/unpause", s.auth(supervisors, s.handlePauseQueue(false)))
	m.Handle("GET /api/v1/audit", s.auth(admins, s.handleAudit()))
	m.Handle("GET /api/v1/reports/summary", s.auth(supervisors, s.handleReport()))
	m.Handle("GET /api/v1/teams", s.auth(supervisors, s.handleTeams()))
}

type supClient struct {
	conn   *socket.Conn
	primed bool // got a full snapshot
}

type supervisorHub struct {
	s     *Server
	wb    *desk.Wallboard
	every time.Duration

	mu      sync.Mutex
	clients map[*supClient]struct{}
	running bool
	// The last snapshot, encoded: the whole frame and each view by id.
	full    []byte
	queues  map[string][]byte
	agents  map[string][]byte
	waiting []byte
}

// join registers a socket; it gets the current snapshot at once when the
// loop has one, else with the loop's first computation.
func (h *supervisorHub) join(conn *socket.Conn) *supClient {
	c := &supClient{conn: conn}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.clients[c] = struct{}{}
	if h.full != nil {
		c.primed = conn.SendRaw(h.full)
	}
	if !h.running {
		h.running = true
		go h.run()
	}
	return c
}

func (h *supervisorHub) leave(c *supClient) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// run computes, diffs and fans out until no socket is left.
func (h *supervisorHub) run() {
	tick := time.NewTicker(h.every)
	defer tick.Stop()
	for {
		h.mu.Lock()
		if len(h.clients) == 0 {
			h.running, h.full, h.queues, h.agents, h.waiting = false, nil, nil, nil, nil
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		snap, err := h.wb.Snapshot(ctx)
		cancel()
		if err != nil {
			h.s.Log.Warn("wallboard snapshot", "error", err)
		} else {
			h.publish(snap)
		}
		<-tick.C
	}
}

// wallboardDiff encodes snap and returns the full frame and the delta
// frame against the previous encoding (nil when nothing changed). Queues
// and agents are sent when they changed; the waiting list whole when it
// changed.
func wallboardDiff(snap desk.Snapshot, prevQ, prevA map[string][]byte, prevW []byte) (full, delta []byte, queues, agents map[string][]byte, waiting []byte) {
	queues, agents = make(map[string][]byte, len(snap.Queues)), make(map[string][]byte, len(snap.Agents))
	var changedQ, changedA []json.RawMessage
	allQ, allA := make([]json.RawMessage, 0, len(snap.Queues)), make([]json.RawMessage, 0, len(snap.Agents))
	for _, q := range snap.Queues {
		b, _ := json.Marshal(q)
		queues[q.ID] = b
		allQ = append(allQ, b)
		if !bytes.Equal(prevQ[q.ID], b) {
			changedQ = append(changedQ, b)
		}
	}
	for _, a := range snap.Agents {
		b, _ := json.Marshal(a)
		agents[a.ID] = b
		allA = append(allA, b)
		if !bytes.Equal(prevA[a.ID], b) {
			changedA = append(changedA, b)
		}
	}
	var goneQ, goneA []string
	for id := range prevQ {
		if _, ok := queues[id]; !ok {
			goneQ = append(goneQ, id)
		}
	}
	for id := range prevA {
		if _, ok := agents[id]; !ok {
			goneA = append(goneA, id)
		}
	}
	waiting, _ = json.Marshal(snap.Waiting)
	full, _ = json.Marshal(map[string]any{"type": "snapshot", "at": snap.At, "queues": allQ, "agents": allA, "waiting": json.RawMessage(waiting)})
	waitingChanged := !bytes.Equal(prevW, waiting)
	if len(changedQ)+len(changedA)+len(goneQ)+len(goneA) > 0 || waitingChanged {
		d := map[string]any{"type": "delta", "at": snap.At, "queues": nonNilRaw(changedQ), "agents": nonNilRaw(changedA)}
		if waitingChanged {
			d["waiting"] = json.RawMessage(waiting)
		}
		if len(goneQ) > 0 {
			d["removed_queues"] = goneQ
		}
		if len(goneA) > 0 {
			d["removed_agents"] = goneA
		}
		delta, _ = json.Marshal(d)
	}
	return full, delta, queues, agents, waiting
}

func nonNilRaw(l []json.RawMessage) []json.RawMessage {
	if l == nil {
		return []json.RawMessage{}
	}
	return l
}

func (h *supervisorHub) publish(snap desk.Snapshot) {
	h.mu.Lock()
	defer h.mu.Unlock()
	full, delta, queues, agents, waiting := wallboardDiff(snap, h.queues, h.agents, h.waiting)
	h.full, h.queues, h.agents, h.waiting = full, queues, agents, waiting
	for c := range h.clients {
		switch {
		case !c.primed:
			c.primed = c.conn.SendRaw(full)
		case delta != nil:
			c.conn.SendRaw(delta)
		}
	}
}

// supFrame is a frame from a supervisor's cockpit.
type supFrame struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	AgentID        string `json:"agent_id"`
	QueueID        string `json:"queue_id"`
	Status         string `json:"status"`
	Reason         string `json:"reason"`
	Body           string `json:"body"`
	ClientMsgID    string `json:"client_msg_id"`
	Paused         bool   `json:"paused"`
}

func (s *Server) handleSupervisorSocket(hub *supervisorHub) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.Origins.Check(r) {
			web.Error(w, r, s.Log, parley.Errorf(parley.EFORBIDDEN, "Origin not allowed."))
			return
		}
		sup, token := agentFrom(r.Context()), tokenFrom(r.Context())
		s.Sockets.Serve(w, r, func(conn *socket.Conn) {
			ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
			defer cancel()
			s.runSupervisorSocket(ctx, conn, hub, sup, sessionID(token))
		})
	})
}

func (s *Server) runSupervisorSocket(ctx context.Context, conn *socket.Conn, hub *supervisorHub, sup parley.Agent, session string) {
	log := s.Log.With("supervisor_id", sup.ID)
	// Own topic: only for session_ended (logout closes the cockpit too);
	// the supervisors topic: SLA warnings, breaches and escalations.
	sub, err := s.Bus.Subscribe(ctx, bus.AgentTopic(sup.ID), sla.SupervisorsTopic)
	if err != nil {
		log.Error("subscribe supervisor", "error", err)
		conn.Close(1011, "try again")
		return
	}
	defer sub.Close()
	c := hub.join(conn)
	defer hub.leave(c)
	monitored := map[int64]bool{}

	frames := conn.Frames()
	for {
		select {
		case data, ok := <-frames:
			if !ok {
				return
			}
			s.onSupervisorFrame(ctx, conn, sup, sub, monitored, data)
		case data := <-sub.C:
			var e struct {
				Type           string `json:"type"`
				Session        string `json:"session"`
				ConversationID string `json:"conversation_id"`
			}
			if json.Unmarshal(data, &e) != nil {
				continue
			}
			if e.Type == "session_ended" {
				if e.Session == session {
					conn.Close(4001, "logged out")
					return
				}
				continue
			}
			if strings.HasPrefix(e.Type, "sla") {
				conn.SendRaw(data) // sla, sla_escalation (supervisors topic)
				continue
			}
			// Only frames of monitored conversations are forwarded; the
			// supervisor's own agent frames belong to their agent console.
			if id, err := web.ID(e.ConversationID, "conversation"); err == nil && monitored[id] {
				conn.SendRaw(monitorFrame(data))
			}
		case <-sub.Lagged():
			conn.Close(1013, "fell behind; reconnect")
			return
		case <-conn.Done():
			return
		}
	}
}

// monitorFrame marks a forwarded conversation frame: {"type":"monitor",
// "frame":{...}} so the cockpit never mistakes it for its own.
func monitorFrame(data []byte) []byte {
	b, _ := json.Marshal(map[string]any{"type": "monitor_frame", "frame": json.RawMessage(data)})
	return b
}

func (s *Server) onSupervisorFrame(ctx context.Context, conn *socket.Conn, sup parley.Agent, sub *bus.Sub, monitored map[int64]bool, data []byte) {
	var f supFrame
	if err := json.Unmarshal(data, &f); err != nil {
		sendError(conn, "", parley.Errorf(parley.EINVALID, "Invalid JSON frame."))
		return
	}
	fail := func(ref string, err error) {
		if parley.ErrorCode(err) == parley.EINTERNAL {
			s.Log.Error("supervisor frame", "type", f.Type, "supervisor_id", sup.ID, "error", err)
		}
		sendError(conn, ref, err)
	}
	// Refresh the supervisor: a demotion applies at once.
	if fresh, err := s.DB.Agent(ctx, sup.ID); err == nil {
		sup = fresh
	}
	if !sup.Role.Can(parley.RoleSupervisor) {
		conn.Close(4003, "supervisor role required")
		return
	}
	switch f.Type {
	case "monitor":
		id, err := web.ID(f.ConversationID, "conversation")
		if err != nil {
			fail(f.ConversationID, err)
			return
		}
		if !monitored[id] && len(monitored) >= maxMonitored {
			fail(f.ConversationID, parley.Errorf(parley.EINVALID, "At most %d conversations can be monitored at once.", maxMonitored))
			return
		}
		// Subscribe first, then read the history: nothing falls between.
		if err := sub.Add(ctx, bus.ConversationTopic(id)); err != nil {
			fail(f.ConversationID, err)
			return
		}
		conv, err := s.DB.Conversation(ctx, id)
		if err == nil {
			conv.Messages, err = s.DB.Messages(ctx, id, 0, 1000, true)
		}
		if err != nil {
			sub.Remove(ctx, bus.ConversationTopic(id))
			fail(f.ConversationID, err)
			return
		}
		if !monitored[id] {
			s.Desk.Audit(ctx, sup, "conversation.monitor", "conversation", id, map[string]any{"agent_id": web.IDString(conv.AgentID)})
		}
		monitored[id] = true
		conn.Send(map[string]any{"type": "monitoring", "conversation_id": f.ConversationID, "conversation": conv})
	case "unmonitor":
		id, err := web.ID(f.ConversationID, "conversation")
		if err != nil {
			fail(f.ConversationID, err)
			return
		}
		if monitored[id] {
			sub.Remove(ctx, bus.ConversationTopic(id))
			delete(monitored, id)
			s.Desk.Audit(ctx, sup, "conversation.unmonitor", "conversation", id, nil)
		}
		conn.Send(map[string]any{"type": "unmonitored", "conversation_id": f.ConversationID})
	case "whisper", "barge":
		id, err := web.ID(f.ConversationID, "conversation")
		if err != nil {
			fail(f.ClientMsgID, err)
			return
		}
		send := s.Desk.Whisper
		if f.Type == "barge" {
			send = s.Desk.Barge
		}
		m, err := send(ctx, sup, id, f.Body, f.ClientMsgID)
		if err != nil {
			fail(f.ClientMsgID, err)
			return
		}
		conn.Send(map[string]any{"type": "ack", "client_msg_id": f.ClientMsgID, "message_id": web.IDString(m.ID), "seq": m.Seq, "conversation_id": f.ConversationID})
	case "presence":
		id, err := web.ID(f.AgentID, "agent")
		if err == nil {
			err = s.Desk.SetAgentPresence(ctx, sup, id, parley.Presence(f.Status), f.Reason)
		}
		if err != nil {
			fail(f.AgentID, err)
		}
	case "transfer":
		id, err := web.ID(f.ConversationID, "conversation")
		if err == nil {
			var toQueue, toAgent int64
			if toQueue, toAgent, err = transferTarget(f.QueueID, f.AgentID); err == nil {
				_, err = s.Desk.Reassign(ctx, sup, id, toQueue, toAgent)
			}
		}
		if err != nil {
			fail(f.ConversationID, err)
		}
	case "pause":
		id, err := web.ID(f.QueueID, "queue")
		if err == nil {
			_, err = s.Desk.SetQueuePaused(ctx, sup, id, f.Paused)
		}
		if err != nil {
			fail(f.QueueID, err)
		}
	default:
		fail("", parley.Errorf(parley.EINVALID, "Unknown frame type %q.", f.Type))
	}
}
