package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/postgres"
	"golang.org/x/crypto/bcrypt"
)

// env is a test deployment: its own database and Redis prefix.
type env struct {
	t    *testing.T
	db   testenv.Database
	vars map[string]string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := testenv.Postgres(t)
	_, prefix := testenv.Redis(t)
	e := &env{t: t, db: db, vars: map[string]string{
		"PARLEY_DATABASE_URL": db.URL,
		"PARLEY_REDIS_URL":    testenv.RedisURL(),
		"PARLEY_REDIS_PREFIX": prefix,
		"PARLEY_HTTP_ADDR":    "127.0.0.1:0",
		"PARLEY_SECRET_KEY":   strings.Repeat("ab", 32),
		"PARLEY_LOG_LEVEL":    "warn",
	}}
	if err := seedDemo(context.Background(), postgres.New(db.Pool, nil).WithPasswordCost(bcrypt.MinCost), io.Discard); err != nil {
		t.Fatalf("seed: %v", err)
	}
	return e
}

// instance is one running `parley serve`.
type instance struct {
	base string
	stop func()
}

// start runs `parley serve` on a free port and waits until it serves.
func (e *env) start() *instance {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	logs := &lockedBuffer{}
	go func() {
		done <- run(ctx, []string{"parley", "serve"}, func(k string) string { return e.vars[k] }, pw, logs)
		pw.Close()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "parley: listening on "); ok {
				addr <- a
			}
		}
	}()
	var base string
	select {
	case base = <-addr:
	case err := <-done:
		cancel()
		e.t.Fatalf("serve ended at start: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		cancel()
		e.t.Fatalf("serve did not start within 30s\n%s", logs.String())
	}
	var once sync.Once
	in := &instance{base: base}
	in.stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					e.t.Errorf("serve returned %v", err)
				}
			case <-time.After(30 * time.Second):
				e.t.Errorf("serve did not stop within 30s")
			}
			if e.t.Failed() {
				e.t.Logf("server log:\n%s", logs.String())
			}
		})
	}
	e.t.Cleanup(in.stop)
	return in
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// do sends a JSON request and decodes the JSON answer into out.
func (in *instance) do(t *testing.T, method, path, token string, body, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, in.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

func (in *instance) login(t *testing.T, email string) string {
	t.Helper()
	var out struct {
		Token string `json:"token"`
	}
	if code := in.do(t, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": DemoPassword}, &out); code != 200 {
		t.Fatalf("login %s: status %d", email, code)
	}
	return out.Token
}

// frame is any frame, decoded loosely.
type frame map[string]any

func (f frame) str(keys ...string) string {
	var v any = map[string]any(f)
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return fmt.Sprint(int64(v))
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// ws is a test WebSocket client that keeps every frame it received.
type ws struct {
	t      *testing.T
	name   string
	conn   *websocket.Conn
	frames chan frame
	closed chan error
}

func dialWS(t *testing.T, base, path string, header http.Header) (*ws, *http.Response, error) {
	t.Helper()
	u, _ := url.Parse(base)
	u.Scheme = "ws"
	full := u.String() + path
	c, resp, err := websocket.DefaultDialer.Dial(full, header)
	if err != nil {
		return nil, resp, err
	}
	w := &ws{t: t, name: path, conn: c, frames: make(chan frame, 1000), closed: make(chan error, 1)}
	go func() {
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				w.closed <- err
				close(w.frames)
				return
			}
			var f frame
			if json.Unmarshal(data, &f) == nil {
				w.frames <- f
			}
		}
	}()
	t.Cleanup(func() { c.Close() })
	return w, resp, nil
}

func (in *instance) agentWS(t *testing.T, token string) *ws {
	t.Helper()
	w, _, err := dialWS(t, in.base, "/api/v1/agent/ws?token="+url.QueryEscape(token), nil)
	if err != nil {
		t.Fatalf("dial agent socket: %v", err)
	}
	w.expect("hello")
	return w
}

func (w *ws) send(v any) {
	w.t.Helper()
	if err := w.conn.WriteJSON(v); err != nil {
		w.t.Fatalf("%s: write: %v", w.name, err)
	}
}

// expect waits for the next frame of type typ (skipping others that match
// none of skip... all other frames are skipped).
func (w *ws) expect(typ string) frame {
	w.t.Helper()
	return w.expectWhere(typ, func(frame) bool { return true })
}

func (w *ws) expectWhere(typ string, ok func(frame) bool) frame {
	w.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case f, open := <-w.frames:
			if !open {
				w.t.Fatalf("%s: socket closed while waiting for %q", w.name, typ)
			}
			if f.str("type") == typ && ok(f) {
				return f
			}
		case <-timeout:
			w.t.Fatalf("%s: no %q frame within 20s", w.name, typ)
		}
	}
}

// quiet asserts that no frame of type typ arrives within d.
func (w *ws) quiet(typ string, d time.Duration) {
	w.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case f, open := <-w.frames:
			if !open {
				return
			}
			if f.str("type") == typ {
				w.t.Fatalf("%s: unexpected %q frame: %v", w.name, typ, f)
			}
		case <-timeout:
			return
		}
	}
}

// visitor is a web-chat customer.
type visitor struct {
	token, customerID string
}

func (in *instance) inboxID(t *testing.T, adminToken string) string {
	t.Helper()
	var out struct {
		Items []struct {
			ID      string `json:"id"`
			Channel string `json:"channel"`
		} `json:"items"`
	}
	in.do(t, "GET", "/api/v1/inboxes", adminToken, nil, &out)
	for _, i := range out.Items {
		if i.Channel == "webchat" {
			return i.ID
		}
	}
	t.Fatal("no web-chat inbox")
	return ""
}

func (in *instance) startVisitor(t *testing.T, inbox, oldToken, name, email, topic string) visitor {
	t.Helper()
	var out struct {
		VisitorToken string `json:"visitor_token"`
		CustomerID   string `json:"customer_id"`
	}
	code := in.do(t, "POST", "/api/v1/webchat/sessions", "", map[string]string{"inbox_id": inbox, "name": name, "email": email, "topic": topic, "locale": "en", "visitor_token": oldToken}, &out)
	if code != 200 {
		t.Fatalf("start visitor: status %d", code)
	}
	return visitor{out.VisitorToken, out.CustomerID}
}

func (in *instance) visitorWS(t *testing.T, v visitor, query string) *ws {
	t.Helper()
	w, _, err := dialWS(t, in.base, "/api/v1/webchat/ws?token="+url.QueryEscape(v.token)+query, nil)
	if err != nil {
		t.Fatalf("dial visitor socket: %v", err)
	}
	w.name = "visitor"
	w.expect("hello")
	return w
}
