// Package webchat is the web-chat channel: visitor sessions, the visitor's
// WebSocket and the Sender that delivers agents' replies to it.
package webchat

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/socket"
	"github.com/parleyhq/parley/internal/web"
)

// Backend is what the channel needs from the application core.
type Backend interface {
	parley.Inbox
	Inbox(ctx context.Context, id int64) (parley.InboxConfig, error)
	Inboxes(ctx context.Context) ([]parley.InboxConfig, error)
	// StartVisitor opens a session; browser holds the (validated) time
	// zone, language and region the visitor's browser reported.
	StartVisitor(ctx context.Context, inboxID int64, oldToken, name, email, phone, topic, locale string, browser crm.Browser) (token string, customerID int64, err error)
	Visitor(ctx context.Context, token string) (parley.Visitor, error)
	VisitorConversation(ctx context.Context, customerID, inboxID int64) (parley.Conversation, bool, error)
	CustomerMessages(ctx context.Context, convID, afterSeq int64) ([]parley.Message, error)
	QueueStatus(ctx context.Context, conv parley.Conversation) (pos int, wait time.Duration, queued bool, err error)
	Typing(ctx context.Context, conv parley.Conversation, byCustomer bool)
	Abandon(ctx context.Context, convID int64, reason string) (parley.Conversation, error)
}

// Bus publishes and subscribes frames across instances.
type Bus interface {
	Publish(ctx context.Context, topic string, v any) error
	Subscribe(ctx context.Context, topics ...string) (*bus.Sub, error)
}

// QueueUpdateEvery is how often a waiting visitor is told their position.
const QueueUpdateEvery = 5 * time.Second

// Channel serves web chat.
type Channel struct {
	backend Backend
	bus     Bus
	origins socket.Origins
	sockets *socket.Registry
	log     *slog.Logger
}

// New returns the web-chat channel. origins are allowed in addition to each
// inbox's own allowed_origins.
func New(backend Backend, b Bus, origins socket.Origins, sockets *socket.Registry, log *slog.Logger) *Channel {
	return &Channel{backend: backend, bus: b, origins: origins, sockets: sockets, log: log}
}

// Routes registers the channel's endpoints.
func (c *Channel) Routes(mux web.Router) {
	mux.Handle("GET /api/v1/webchat/inboxes/{id}", c.handleInbox())
	mux.Handle("POST /api/v1/webchat/sessions", c.handleSession())
	mux.Handle("GET /api/v1/webchat/ws", c.handleSocket())
	mux.Handle("OPTIONS /api/v1/webchat/", c.handlePreflight())
}

// cors lets a page on an allowed origin read the answer: the inbox's
// allowed_origins, the server-wide ones, or (without an inbox, as for a
// refused token) those of any web-chat inbox.
func (c *Channel) cors(w http.ResponseWriter, r *http.Request, inbox *parley.InboxConfig) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	var extra []string
	if inbox != nil {
		extra = inbox.Settings.AllowedOrigins
	} else if all, err := c.backend.Inboxes(r.Context()); err == nil {
		for _, in := range all {
			if in.Channel == parley.ChannelWebchat {
				extra = append(extra, in.Settings.AllowedOrigins...)
			}
		}
	}
	w.Header().Add("Vary", "Origin")
	if !c.origins.Check(r, extra...) {
		return false
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	return true
}

// handlePreflight answers browsers' CORS preflight for the widget's calls.
func (c *Channel) handlePreflight() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !c.cors(w, r, nil) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	})
}

// Send delivers an agent's reply to the visitor's sockets on any instance.
// It implements parley.Sender.
func (c *Channel) Send(ctx context.Context, conv parley.Conversation, m parley.Message) (string, error) {
	return "", c.bus.Publish(ctx, bus.VisitorTopic(conv.CustomerID, conv.InboxID),
		map[string]any{"type": "message", "conversation_id": web.IDString(conv.ID), "message": m})
}

func (c *Channel) webchatInbox(ctx context.Context, id int64) (parley.InboxConfig, error) {
	in, err := c.backend.Inbox(ctx, id)
	if err == nil && in.Channel != parley.ChannelWebchat {
		err = parley.Errorf(parley.ENOTFOUND, "Web-chat inbox %d not found.", id)
	}
	return in, err
}

func (c *Channel) handleInbox() http.Handler {
	type topic struct {
		Name  string `json:"name"`
		Label string `json:"label"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := web.ID(r.PathValue("id"), "inbox")
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		in, err := c.webchatInbox(r.Context(), id)
		if err != nil {
			c.cors(w, r, nil)
			web.Error(w, r, c.log, err)
			return
		}
		c.cors(w, r, &in)
		topics := []topic{}
		for _, t := range in.Settings.Topics {
			topics = append(topics, topic{t.Name, t.Label})
		}
		web.JSON(w, http.StatusOK, map[string]any{"id": web.IDString(in.ID), "name": in.Name, "greeting": in.Settings.Greeting, "topics": topics})
	})
}

func (c *Channel) handleSession() http.Handler {
	type request struct {
		InboxID      string `json:"inbox_id"`
		Name         string `json:"name"`
		Email        string `json:"email"`
		Phone        string `json:"phone"`
		Topic        string `json:"topic"`
		Locale       string `json:"locale"`
		VisitorToken string `json:"visitor_token"`
		// What the browser reports: its IANA time zone and language tag.
		Timezone string `json:"timezone"`
		Language string `json:"language"`
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req request
		if err := web.Decode(w, r, &req); err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		id, err := web.ID(req.InboxID, "inbox")
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		in, err := c.webchatInbox(r.Context(), id)
		if err != nil {
			c.cors(w, r, nil)
			web.Error(w, r, c.log, err)
			return
		}
		if !c.origins.Check(r, in.Settings.AllowedOrigins...) {
			web.Error(w, r, c.log, parley.Errorf(parley.EFORBIDDEN, "This page's origin may not use this chat."))
			return
		}
		c.cors(w, r, &in)
		if len(req.Phone) > 40 {
			web.Error(w, r, c.log, parley.Invalid("Invalid phone number.", map[string]string{"phone": "at most 40 characters"}))
			return
		}
		if err := validSession(req.Name, req.Email, req.Topic, req.Locale, in); err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		// A time zone or language the server does not understand is left
		// out and named in "ignored": it never stops the chat.
		browser, ignored := crm.ParseBrowser(req.Timezone, req.Language)
		tok, cust, err := c.backend.StartVisitor(r.Context(), id, req.VisitorToken, req.Name, req.Email, req.Phone, req.Topic, req.Locale, browser)
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		web.JSON(w, http.StatusOK, map[string]any{"visitor_token": tok, "customer_id": web.IDString(cust), "ignored": ignored})
	})
}

func validSession(name, email, topic, locale string, in parley.InboxConfig) error {
	f := map[string]string{}
	if !utf8.ValidString(name) || len(name) > 200 {
		f["name"] = "at most 200 bytes of UTF-8"
	}
	if email != "" && (len(email) > 254 || !strings.Contains(email, "@") || strings.ContainsAny(email, " \t\r\n<>")) {
		f["email"] = "not an email address"
	}
	if len(locale) > 35 || strings.ContainsFunc(locale, func(r rune) bool {
		return !(r == '-' || r == '_' || r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'))
	}) {
		f["locale"] = "not a language tag"
	}
	if topic != "" {
		known := false
		for _, t := range in.Settings.Topics {
			known = known || strings.EqualFold(t.Name, topic)
		}
		if !known {
			f["topic"] = "unknown topic"
		}
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid chat session.", f)
	}
	return nil
}

// visitorSocket is one visitor's open socket.
type visitorSocket struct {
	c       *Channel
	conn    *socket.Conn
	visitor parley.Visitor
	conv    parley.Conversation
	hasConv bool
	lastSeq int64 // highest seq sent for conv
}

func (c *Channel) handleSocket() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		v, err := c.backend.Visitor(ctx, r.URL.Query().Get("token"))
		if err != nil {
			c.cors(w, r, nil) // the widget reads the 401 to drop a dead token
			web.Error(w, r, c.log, err)
			return
		}
		in, err := c.webchatInbox(ctx, v.InboxID)
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		if !c.origins.Check(r, in.Settings.AllowedOrigins...) {
			web.Error(w, r, c.log, parley.Errorf(parley.EFORBIDDEN, "This page's origin may not use this chat."))
			return
		}
		afterSeq, _ := strconv.ParseInt(r.URL.Query().Get("after_seq"), 10, 64)
		afterConv := r.URL.Query().Get("conversation_id")
		c.sockets.Serve(w, r, func(conn *socket.Conn) {
			ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
			defer cancel()
			s := &visitorSocket{c: c, conn: conn, visitor: v}
			s.run(ctx, afterConv, afterSeq)
		})
	})
}

func (s *visitorSocket) run(ctx context.Context, afterConv string, afterSeq int64) {
	c := s.c
	sub, err := c.bus.Subscribe(ctx, bus.VisitorTopic(s.visitor.CustomerID, s.visitor.InboxID))
	if err != nil {
		c.log.Error("subscribe visitor", "error", err)
		s.conn.Close(1011, "try again")
		return
	}
	defer sub.Close()
	// Subscribed first, then read history: nothing falls between the two;
	// what arrives twice is dropped by seq.
	conv, ok, err := c.backend.VisitorConversation(ctx, s.visitor.CustomerID, s.visitor.InboxID)
	if err != nil {
		c.log.Error("visitor conversation", "error", err)
		s.conn.Close(1011, "try again")
		return
	}
	hello := map[string]any{"type": "hello", "customer_id": web.IDString(s.visitor.CustomerID), "conversation_id": nil, "status": nil}
	if ok {
		s.conv, s.hasConv = conv, true
		hello["conversation_id"], hello["status"] = web.IDString(conv.ID), conv.Status
		if afterConv != web.IDString(conv.ID) {
			afterSeq = 0
		}
		s.lastSeq = afterSeq
	}
	s.conn.Send(hello)
	if ok {
		if err := s.sendHistory(ctx); err != nil {
			c.log.Error("visitor history", "error", err)
			s.conn.Close(1011, "try again")
			return
		}
		s.sendQueue(ctx)
	}
	if ps, ok := c.backend.(PendingSurveyer); ok {
		// A card sent while the visitor was away, or before a reload.
		if f, ok, err := ps.PendingSurvey(ctx, s.visitor.CustomerID, s.visitor.InboxID); err != nil {
			c.log.Error("pending survey", "error", err)
		} else if ok {
			s.conn.Send(f)
		}
	}

	frames := s.conn.Frames()
	tick := time.NewTicker(QueueUpdateEvery)
	defer tick.Stop()
	for {
		select {
		case data, ok := <-frames:
			if !ok {
				return
			}
			s.onFrame(ctx, data)
		case data := <-sub.C:
			s.onEvent(ctx, data)
		case <-sub.Lagged():
			s.conn.Close(1013, "fell behind; reconnect")
			return
		case <-tick.C:
			s.sendQueue(ctx)
		case <-s.conn.Done():
			return
		}
	}
}

func (s *visitorSocket) sendHistory(ctx context.Context) error {
	msgs, err := s.c.backend.CustomerMessages(ctx, s.conv.ID, s.lastSeq)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		s.conn.Send(map[string]any{"type": "message", "conversation_id": web.IDString(s.conv.ID), "message": m})
		s.lastSeq = m.Seq
	}
	return nil
}

// sendQueue tells a waiting visitor their place and estimated wait.
func (s *visitorSocket) sendQueue(ctx context.Context) {
	if !s.hasConv || s.conv.Status != parley.StatusQueued {
		return
	}
	pos, wait, queued, err := s.c.backend.QueueStatus(ctx, s.conv)
	if err != nil {
		s.c.log.Warn("queue status", "conversation_id", s.conv.ID, "error", err)
		return
	}
	if queued {
		s.conn.Send(map[string]any{"type": "queue", "conversation_id": web.IDString(s.conv.ID), "position": pos + 1,
			"estimated_wait_s": int(math.Ceil(wait.Seconds()))})
	}
}

// event is the part of a bus frame the socket looks at.
type event struct {
	Type           string `json:"type"`
	ConversationID string `json:"conversation_id"`
	Message        *struct {
		Seq int64 `json:"seq"`
	} `json:"message"`
}

func (s *visitorSocket) onEvent(ctx context.Context, data []byte) {
	var e event
	if json.Unmarshal(data, &e) != nil {
		return
	}
	if e.ConversationID != "" && (!s.hasConv || e.ConversationID != web.IDString(s.conv.ID)) {
		// A conversation started elsewhere (another tab): follow it.
		id, _ := strconv.ParseInt(e.ConversationID, 10, 64)
		if conv, ok, err := s.c.backend.VisitorConversation(ctx, s.visitor.CustomerID, s.visitor.InboxID); err == nil && ok && conv.ID == id {
			s.conv, s.hasConv, s.lastSeq = conv, true, 0
			if err := s.sendHistory(ctx); err != nil {
				s.c.log.Warn("visitor history", "error", err)
			}
			if e.Type == "message" {
				return // sent with the history
			}
		}
	}
	switch e.Type {
	case "message":
		if e.Message != nil {
			if e.Message.Seq <= s.lastSeq {
				return
			}
			if e.Message.Seq > s.lastSeq+1 {
				// A gap: private notes, or a lost frame. Send what we miss.
				if err := s.sendHistory(ctx); err != nil {
					s.c.log.Warn("visitor history", "error", err)
				}
				return
			}
			s.lastSeq = e.Message.Seq
		}
	case "agent_joined":
		s.conv.Status = parley.StatusAssigned
	case "resolved":
		s.conv.Status = parley.StatusResolved
	case "abandoned":
		s.conv.Status = parley.StatusAbandoned
	}
	s.conn.SendRaw(data)
}

// inbound is a frame from the visitor.
type inbound struct {
	Type        string `json:"type"`
	Body        string `json:"body"`
	ClientMsgID string `json:"client_msg_id"`
}

func (s *visitorSocket) fail(ref string, err error) {
	d := web.Detail(err)
	if d.Code == parley.EINTERNAL {
		s.c.log.Error("visitor frame", "error", err)
	}
	s.conn.Send(map[string]any{"type": "error", "code": d.Code, "message": d.Message, "ref": ref})
}

// parseFrame decodes and validates a visitor's frame. The error's ref is
// the frame's client_msg_id when it has one.
func parseFrame(data []byte) (inbound, error) {
	var f inbound
	if err := json.Unmarshal(data, &f); err != nil {
		return f, parley.Errorf(parley.EINVALID, "Invalid JSON frame.")
	}
	switch f.Type {
	case "message":
		if err := parley.ValidateClientMsgID(f.ClientMsgID, true); err != nil {
			return f, err
		}
		return f, parley.ValidateBody(f.Body)
	case "typing", "leave":
		return f, nil
	case "rating":
		_, err := parseRating(data)
		return f, err
	}
	return f, parley.Errorf(parley.EINVALID, "Unknown frame type %q.", f.Type)
}

func (s *visitorSocket) onFrame(ctx context.Context, data []byte) {
	f, err := parseFrame(data)
	if err != nil {
		ref := f.ClientMsgID
		if parley.ValidateClientMsgID(ref, false) != nil {
			ref = ""
		}
		s.fail(ref, err)
		return
	}
	switch f.Type {
	case "message":
		r, err := s.c.backend.Receive(ctx, parley.Inbound{
			InboxID: s.visitor.InboxID, CustomerID: s.visitor.CustomerID, Topic: s.visitor.Topic, Body: f.Body,
			Identity:  parley.Identity{Channel: parley.ChannelWebchat},
			DedupeKey: fmt.Sprintf("visitor:%d:%s", s.visitor.CustomerID, f.ClientMsgID), ClientMsgID: f.ClientMsgID,
		})
		if err != nil {
			s.fail(f.ClientMsgID, err)
			return
		}
		if !s.hasConv || s.conv.ID != r.Conversation.ID {
			s.conv, s.hasConv, s.lastSeq = r.Conversation, true, 0
			if err := s.sendHistory(ctx); err != nil {
				s.c.log.Warn("visitor history", "error", err)
			}
		} else if r.Message.Seq == s.lastSeq+1 {
			s.conn.Send(map[string]any{"type": "message", "conversation_id": web.IDString(s.conv.ID), "message": r.Message})
			s.lastSeq = r.Message.Seq
		}
		s.conn.Send(map[string]any{"type": "ack", "client_msg_id": f.ClientMsgID, "message_id": web.IDString(r.Message.ID), "seq": r.Message.Seq})
		s.sendQueue(ctx)
	case "rating":
		s.onRating(ctx, data)
	case "typing":
		if s.hasConv && s.conv.Status.Open() {
			s.c.backend.Typing(ctx, s.conv, true)
		}
	case "leave":
		// The visitor gives up waiting: the conversation is abandoned and
		// leaves the queue (the abandoned frame comes back through the bus).
		if !s.hasConv || s.conv.Status != parley.StatusQueued {
			s.fail("", parley.Errorf(parley.ECONFLICT, "Only a conversation waiting in the queue can be left."))
			return
		}
		conv, err := s.c.backend.Abandon(ctx, s.conv.ID, "visitor_left")
		if err != nil {
			s.fail("", err)
			return
		}
		s.conv = conv
	}
}
