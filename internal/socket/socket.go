// Package socket wraps gorilla/websocket connections the way every Parley
// socket (agents, supervisors, web-chat visitors) needs them: an Origin
// check, a read limit, heartbeats, one writer goroutine and a registry that
// closes every socket with a close frame at shutdown.
package socket

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

const (
	// ReadLimit is the largest frame a client may send; a larger one closes
	// the socket with 1009 (message too big).
	ReadLimit   = 64 << 10
	writeWait   = 10 * time.Second
	pongWait    = 60 * time.Second
	pingEvery   = 25 * time.Second
	sendBacklog = 512
)

// Origins decides which page origins may open sockets: the server's own
// origin always, plus the configured ones ("*" allows any).
type Origins struct {
	Allowed []string
}

// Check reports whether r's Origin header is acceptable. A request without
// Origin (not from a browser) is accepted: it still has to authenticate.
func (o Origins) Check(r *http.Request, extra ...string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, list := range [][]string{o.Allowed, extra} {
		for _, a := range list {
			if a == "*" || strings.EqualFold(strings.TrimRight(a, "/"), origin) {
				return true
			}
		}
	}
	return false
}

// Registry tracks open sockets so shutdown can close them all and wait for
// their handlers to finish.
type Registry struct {
	mu       sync.Mutex
	conns    map[*Conn]struct{}
	handlers sync.WaitGroup
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{conns: map[*Conn]struct{}{}} }

// CloseAll sends every socket a close frame (1001, going away).
func (g *Registry) CloseAll() {
	g.mu.Lock()
	conns := make([]*Conn, 0, len(g.conns))
	for c := range g.conns {
		conns = append(conns, c)
	}
	g.mu.Unlock()
	for _, c := range conns {
		c.Close(websocket.CloseGoingAway, "server shutting down")
	}
}

// Wait blocks until every socket handler returned, or ctx ends.
func (g *Registry) Wait(done <-chan struct{}) bool {
	finished := make(chan struct{})
	go func() {
		g.handlers.Wait()
		close(finished)
	}()
	select {
	case <-finished:
		return true
	case <-done:
		return false
	}
}

// Len returns how many sockets are open.
func (g *Registry) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.conns)
}

// Conn is one WebSocket. Send may be called from any goroutine; Read from one.
type Conn struct {
	ws       *websocket.Conn
	reg      *Registry
	send     chan []byte
	done     chan struct{}
	once     sync.Once
	closeMsg []byte
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	// Origin is checked by the caller (Upgrade), which answers 403 itself.
	CheckOrigin: func(*http.Request) bool { return true },
}

// Serve completes the WebSocket handshake and runs handle with the socket;
// the socket is closed when handle returns. The caller checked the Origin
// and authenticated the request before. A failed handshake has been
// answered by the upgrader.
func (g *Registry) Serve(w http.ResponseWriter, r *http.Request, handle func(*Conn)) {
	g.handlers.Add(1)
	defer g.handlers.Done()
	c, err := upgrade(w, r, g)
	if err != nil {
		return
	}
	defer c.Close(websocket.CloseNormalClosure, "")
	handle(c)
}

func upgrade(w http.ResponseWriter, r *http.Request, reg *Registry) (*Conn, error) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(ReadLimit)
	ws.SetReadDeadline(time.Now().Add(pongWait))
	ws.SetPongHandler(func(string) error { return ws.SetReadDeadline(time.Now().Add(pongWait)) })
	c := &Conn{ws: ws, reg: reg, send: make(chan []byte, sendBacklog), done: make(chan struct{})}
	reg.mu.Lock()
	reg.conns[c] = struct{}{}
	reg.mu.Unlock()
	go c.writeLoop()
	return c, nil
}

// Done is closed when the socket is closed.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Send queues v as a JSON text frame. It reports false when the socket is
// closed; a client that does not keep up is disconnected (1008).
func (c *Conn) Send(v any) bool {
	data, err := json.Marshal(v)
	if err != nil {
		return false
	}
	return c.SendRaw(data)
}

// SendRaw queues an already encoded JSON frame.
func (c *Conn) SendRaw(data []byte) bool {
	select {
	case <-c.done:
		return false
	default:
	}
	select {
	case c.send <- data:
		return true
	case <-c.done:
		return false
	default:
		c.Close(websocket.ClosePolicyViolation, "client too slow")
		return false
	}
}

// Read returns the next text frame. Any error ends the socket.
func (c *Conn) Read() ([]byte, error) {
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				c.Close(websocket.CloseMessageTooBig, "frame too large")
			} else {
				c.Close(websocket.CloseNormalClosure, "")
			}
			return nil, err
		}
		if typ == websocket.TextMessage && !utf8.Valid(data) {
			c.Send(map[string]string{"type": "error", "code": "invalid", "message": "Frame is not valid UTF-8; nothing was stored."})
			continue
		}
		if typ == websocket.TextMessage {
			return data, nil
		}
		c.Send(map[string]string{"type": "error", "code": "invalid", "message": "Binary frames are not accepted."})
	}
}

// Frames reads the socket in its own goroutine and delivers each text
// frame; the channel closes when the socket ends. Call it once, instead of
// Read, from the goroutine that serves the socket.
func (c *Conn) Frames() <-chan []byte {
	frames := make(chan []byte)
	go func() {
		defer close(frames)
		for {
			data, err := c.Read()
			if err != nil {
				return
			}
			select {
			case frames <- data:
			case <-c.done:
				return
			}
		}
	}()
	return frames
}

// Close sends a close frame with code and reason and ends the socket.
func (c *Conn) Close(code int, reason string) {
	c.once.Do(func() {
		c.closeMsg = websocket.FormatCloseMessage(code, reason)
		close(c.done)
		c.reg.mu.Lock()
		delete(c.reg.conns, c)
		c.reg.mu.Unlock()
	})
}

func (c *Conn) writeLoop() {
	ping := time.NewTicker(pingEvery)
	defer func() {
		ping.Stop()
		c.ws.Close()
	}()
	for {
		select {
		case data := <-c.send:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
				c.Close(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.Close(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-c.done:
			// Flush what was queued before the close, then say goodbye.
		flush:
			for {
				select {
				case data := <-c.send:
					c.ws.SetWriteDeadline(time.Now().Add(writeWait))
					if c.ws.WriteMessage(websocket.TextMessage, data) != nil {
						return
					}
				default:
					break flush
				}
			}
			c.ws.WriteControl(websocket.CloseMessage, c.closeMsg, time.Now().Add(writeWait))
			return
		}
	}
}
