package agentui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
)

// The browser tests drive the console and the widget in headless Chromium
// against a fake backend that speaks the wire contract, so they check the
// JavaScript without PostgreSQL or Redis.

type frame = map[string]any

type peer struct {
	conn   *websocket.Conn
	query  url.Values
	frames chan frame
}

func (p *peer) send(t *testing.T, f frame) {
	t.Helper()
	if err := p.conn.WriteJSON(f); err != nil {
		t.Fatalf("write %v: %v", f["type"], err)
	}
}

// expect returns the next frame of type typ, skipping typing frames.
func (p *peer) expect(t *testing.T, typ string) frame {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-p.frames:
			if !ok {
				t.Fatalf("socket closed while waiting for a %s frame", typ)
			}
			if f["type"] == typ {
				return f
			}
			if f["type"] != "typing" {
				t.Fatalf("got a %v frame %v; want %s", f["type"], f, typ)
			}
		case <-deadline:
			t.Fatalf("no %s frame within 10s", typ)
		}
	}
}

type fakeBackend struct {
	t            *testing.T
	upgrader     websocket.Upgrader
	agentPeers   chan *peer
	visitorPeers chan *peer
	refuse       atomic.Bool // refuse visitor tokens with 401
	mu           sync.Mutex
	messages     map[string][]frame // conversation id -> messages served by the REST API
	afterSeqs    chan string
}

func newFakeBackend(t *testing.T, ui *UI) (*httptest.Server, *fakeBackend) {
	b := &fakeBackend{
		t:            t,
		agentPeers:   make(chan *peer, 4),
		visitorPeers: make(chan *peer, 4),
		messages:     map[string][]frame{},
		afterSeqs:    make(chan string, 16),
	}
	mux := http.NewServeMux()
	mux.Handle("/console/", ui.Handler())
	mux.Handle("/assets/", ui.Handler())
	mux.Handle("GET /widget.js", ui.Handler())
	mux.HandleFunc("GET /demo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := ui.Demo(w, Demo{InboxID: "inbox-1"}); err != nil {
			t.Error(err)
		}
	})
	mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Email, Password string }
		json.NewDecoder(r.Body).Decode(&in)
		if in.Email != "alice@example.com" || in.Password != "secret" {
			writeJSON(w, 401, frame{"error": frame{"code": "unauthorized", "message": "bad credentials"}})
			return
		}
		writeJSON(w, 200, frame{"token": "tok-1", "agent": testAgent})
	})
	mux.HandleFunc("GET /api/v1/auth/me", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			writeJSON(w, 401, frame{"error": frame{"code": "unauthorized", "message": "no session"}})
			return
		}
		writeJSON(w, 200, frame{"agent": testAgent})
	})
	mux.HandleFunc("POST /api/v1/auth/logout", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/v1/conversations/{id}/messages", func(w http.ResponseWriter, r *http.Request) {
		after, _ := strconv.Atoi(r.URL.Query().Get("after_seq"))
		select {
		case b.afterSeqs <- r.URL.Query().Get("after_seq"):
		default:
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		items := []frame{}
		for _, m := range b.messages[r.PathValue("id")] {
			if m["seq"].(int) > after {
				items = append(items, m)
			}
		}
		writeJSON(w, 200, frame{"items": items, "next_cursor": ""})
	})
	mux.HandleFunc("GET /api/v1/agent/ws", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "tok-1" {
			http.Error(w, "unauthorized", 401)
			return
		}
		b.agentPeers <- b.upgrade(w, r)
	})
	mux.HandleFunc("GET /api/v1/webchat/inboxes/{id}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, frame{"id": r.PathValue("id"), "name": "Acme Support", "greeting": "Hi! Ask us anything.",
			"topics": []frame{{"name": "billing", "label": "Billing"}, {"name": "tech", "label": "Technical"}}})
	})
	mux.HandleFunc("POST /api/v1/webchat/sessions", func(w http.ResponseWriter, r *http.Request) {
		var in frame
		json.NewDecoder(r.Body).Decode(&in)
		if in["inbox_id"] != "inbox-1" || in["name"] != "Wang Wei" || in["topic"] != "tech" {
			writeJSON(w, 400, frame{"error": frame{"code": "invalid", "message": fmt.Sprint(in)}})
			return
		}
		writeJSON(w, 200, frame{"visitor_token": "v-1", "customer_id": "c-9"})
	})
	mux.HandleFunc("GET /api/v1/webchat/ws", func(w http.ResponseWriter, r *http.Request) {
		if b.refuse.Load() || r.URL.Query().Get("token") != "v-1" {
			http.Error(w, "unauthorized", 401)
			return
		}
		b.visitorPeers <- b.upgrade(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, b
}

var testAgent = frame{"id": "5", "name": "Alice Agent", "email": "alice@example.com", "role": "agent"}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (b *fakeBackend) upgrade(w http.ResponseWriter, r *http.Request) *peer {
	conn, err := b.upgrader.Upgrade(w, r, nil)
	if err != nil {
		b.t.Errorf("upgrade: %v", err)
		return nil
	}
	p := &peer{conn: conn, query: r.URL.Query(), frames: make(chan frame, 64)}
	go func() {
		defer close(p.frames)
		for {
			var f frame
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			p.frames <- f
		}
	}()
	b.t.Cleanup(func() { conn.Close() })
	return p
}

func (b *fakeBackend) nextPeer(t *testing.T, c chan *peer) *peer {
	t.Helper()
	select {
	case p := <-c:
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no WebSocket connection within 10s")
		return nil
	}
}

func chromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	for _, p := range []string{os.Getenv("PARLEY_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := exec.LookPath(p); err == nil {
				return p
			}
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium not found (set PARLEY_CHROMIUM; CI installs it with scripts/services.sh --browser)")
	}
	t.Skip("Chromium not found (set PARLEY_CHROMIUM)")
	return ""
}

// browser starts headless Chromium and fails the test on uncaught page
// exceptions and console errors.
func browser(t *testing.T, lang string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("lang", lang),
		chromedp.Flag("accept-lang", lang),
		chromedp.WindowSize(1400, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := ""
			if d.Exception != nil {
				desc = d.Exception.Description
			}
			t.Errorf("page exception at %s:%d: %s %s", d.URL, d.LineNumber+1, d.Text, desc)
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError {
				var parts []string
				for _, a := range ev.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				t.Errorf("console.error: %s", strings.Join(parts, " "))
			}
		}
	}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// screenshot saves the page as PNG into $PARLEY_SCREENSHOTS, when set, for
// looking at the UI by eye.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PARLEY_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// js evaluates expr and returns its value.
func js[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls the JavaScript condition until it is true.
func waitFor(t *testing.T, ctx context.Context, cond string) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 12*time.Second)
	defer cancel()
	if _, err := chromedp.Run(c, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", cond, err)
	}
}

func msg(conv string, seq int, dir, senderType, name, body string) frame {
	return frame{"id": fmt.Sprintf("m%s-%d", conv, seq), "conversation_id": conv, "seq": seq, "direction": dir, "private": false,
		"sender": frame{"type": senderType, "id": "x", "name": name}, "channel": "webchat", "body": body, "attachments": []any{},
		"created_at": time.Now().UTC().Format(time.RFC3339)}
}

func TestBrowserConsoleHandlesOffersRepliesGapsAndReconnects(t *testing.T) {
	ui := newUI(t)
	srv, b := newFakeBackend(t, ui)
	ctx := browser(t, "en-US")

	do(t, ctx, chromedp.Navigate(srv.URL+"/console/"))
	waitFor(t, ctx, `!document.getElementById('login-view').hidden`)
	screenshot(t, ctx, "login")

	// Wrong password shows the error; the right one signs in.
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("login-email"), "alice@example.com"),
		chromedp.SendKeys(chromedp.ID("login-password"), "wrong"),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	waitFor(t, ctx, `document.getElementById('login-error').textContent === 'Wrong email or password.'`)
	js[chromedp.Void](t, ctx, `document.getElementById('login-password').value = ''`)
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("login-password"), "secret"),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	agent := b.nextPeer(t, b.agentPeers)
	if got := agent.query.Get("token"); got != "tok-1" {
		t.Fatalf("agent socket token: got %q; want tok-1", got)
	}
	agent.send(t, frame{"type": "hello", "agent": testAgent, "presence": "offline", "conversations": []any{}})
	waitFor(t, ctx, `document.getElementById('connection').dataset.state === 'online'`)
	if got := js[string](t, ctx, `document.getElementById('agent-name').textContent`); got != "Alice Agent" {
		t.Errorf("agent name: got %q; want Alice Agent", got)
	}

	js[chromedp.Void](t, ctx, `(() => { const s = document.getElementById('presence'); s.value = 'available'; s.dispatchEvent(new Event('change')); })()`)
	if f := agent.expect(t, "presence"); f["status"] != "available" {
		t.Errorf("presence frame: got %v; want available", f)
	}

	// An offer whose customer name is markup renders it as text.
	evil := `<img src=x onerror="window.pwned=1">`
	conv := frame{"id": "c1", "customer_id": "cu1", "channel": "webchat", "status": "queued", "topic": "billing", "last_seq": 2,
		"customer_name": evil, "messages": []frame{msg("c1", 1, "in", "customer", evil, "Hello, my invoice is wrong"), msg("c1", 2, "in", "customer", evil, "<b>urgent</b>")}}
	customer := frame{"id": "cu1", "name": evil, "email": "cu@example.com", "phone": "+14155550100", "lifecycle_stage": "customer", "preferred_channel": "sms",
		"tags": []string{"vip"}, "attributes": frame{"plan": "pro"}, "identities": []frame{{"channel": "sms", "address": "+14155550100"}},
		"past_conversations": []frame{{"id": "c0", "channel": "email", "status": "resolved", "created_at": "2025-01-02T03:04:05Z",
			"messages": []frame{msg("c0", 1, "in", "customer", "x", "old question")}}}}
	expires := time.Now().Add(20 * time.Second).UTC().Format(time.RFC3339)
	agent.send(t, frame{"type": "offer", "offer": frame{"id": "o1", "expires_at": expires, "queue": frame{"id": "q1", "name": "Billing"}, "conversation": conv, "customer": customer}})
	waitFor(t, ctx, `document.querySelectorAll('.offer-card').length === 1 && !!document.getElementById('offer-accept')`)
	if got := js[string](t, ctx, `document.querySelector('.offer-card .offer-customer').textContent`); got != evil {
		t.Errorf("offer customer name: got %q; want the raw text %q", got, evil)
	}
	if got := js[string](t, ctx, `document.querySelector('.offer-card .offer-prefers')?.textContent || ''`); got != "Prefers SMS" {
		t.Errorf("offer preferred channel: got %q; want Prefers SMS", got)
	}
	if js[bool](t, ctx, `!!document.querySelector('.offer-card img') || !!window.pwned`) {
		t.Error("customer text was parsed as HTML")
	}
	if got := js[string](t, ctx, `document.querySelector('.offer-card .offer-countdown').textContent`); !strings.HasSuffix(got, " s") {
		t.Errorf("countdown: got %q; want seconds", got)
	}

	// A second offer stacks; it ends elsewhere and its card goes away.
	agent.send(t, frame{"type": "offer", "offer": frame{"id": "o2", "expires_at": time.Now().Add(60 * time.Second).UTC().Format(time.RFC3339),
		"queue": frame{"id": "q2", "name": "Tech"}, "conversation": frame{"id": "c2", "channel": "sms", "customer_name": "Bob", "messages": []any{}}, "customer": frame{"id": "cu2", "name": "Bob"}}})
	waitFor(t, ctx, `document.querySelectorAll('.offer-card').length === 2`)
	screenshot(t, ctx, "console-offers")
	agent.send(t, frame{"type": "offer_ended", "offer_id": "o2", "reason": "accepted_elsewhere"})
	waitFor(t, ctx, `document.querySelector('.offer-card[data-offer-id="o2"] .offer-status')?.textContent === 'Accepted by another agent'`)
	waitFor(t, ctx, `document.querySelectorAll('.offer-card').length === 1`)

	do(t, ctx, chromedp.Click(chromedp.ID("offer-accept")))
	if f := agent.expect(t, "accept"); f["offer_id"] != "o1" {
		t.Errorf("accept frame: got %v; want offer o1", f)
	}
	conv["status"] = "assigned"
	agent.send(t, frame{"type": "offer_ended", "offer_id": "o1", "reason": "accepted"})
	agent.send(t, frame{"type": "assigned", "conversation": conv, "customer": customer})
	waitFor(t, ctx, `document.querySelectorAll('#conversation-list li[data-id="c1"]').length === 1 && document.querySelectorAll('#thread .message').length === 2`)
	waitFor(t, ctx, `document.querySelectorAll('.offer-card').length === 0`)
	if got := js[string](t, ctx, `document.querySelector('#thread .message:nth-child(2) .message-body').textContent`); got != "<b>urgent</b>" {
		t.Errorf("message body: got %q; want the raw text", got)
	}
	if got := js[string](t, ctx, `document.querySelector('#customer-panel .customer-name').textContent`); got != evil {
		t.Errorf("customer panel name: got %q", got)
	}
	if got := js[int](t, ctx, `document.querySelectorAll('#customer-panel details.past-conversation').length`); got != 1 {
		t.Errorf("past conversations: got %d; want 1", got)
	}
	if js[bool](t, ctx, `!!document.querySelector('#customer-panel img, #thread img') || !!window.pwned`) {
		t.Error("customer text was parsed as HTML in the thread or panel")
	}

	// Enter sends with a fresh client_msg_id; the message is pending until acked.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("reply-input"), "Let me check that"))
	if f := agent.expect(t, "typing"); f["conversation_id"] != "c1" {
		t.Errorf("typing frame: got %v", f)
	}
	do(t, ctx, chromedp.SendKeys(chromedp.ID("reply-input"), "\r"))
	send := agent.expect(t, "send")
	cid, _ := send["client_msg_id"].(string)
	if send["conversation_id"] != "c1" || send["body"] != "Let me check that" || send["private"] != false || len(cid) != 36 {
		t.Fatalf("send frame: got %v", send)
	}
	waitFor(t, ctx, `document.querySelectorAll('#thread .message-pending').length === 1`)
	agent.send(t, frame{"type": "ack", "client_msg_id": cid, "message_id": "m-out-3", "seq": 3})
	reply := msg("c1", 3, "out", "agent", "Alice Agent", "Let me check that")
	reply["id"], reply["client_msg_id"], reply["sender"] = "m-out-3", cid, frame{"type": "agent", "id": "5", "name": "Alice Agent"}
	agent.send(t, frame{"type": "message", "conversation_id": "c1", "message": reply})
	agent.send(t, frame{"type": "delivery", "conversation_id": "c1", "message_id": "m-out-3", "delivery": "delivered"})
	waitFor(t, ctx, `document.querySelectorAll('#thread .message').length === 3 && !document.querySelector('#thread .message-pending') && document.querySelector('#thread .message-out .delivery')?.dataset.delivery === 'delivered'`)

	// A private note.
	js[chromedp.Void](t, ctx, `document.getElementById('reply-private').click()`)
	do(t, ctx, chromedp.SendKeys(chromedp.ID("reply-input"), "VIP, be nice"), chromedp.Click(chromedp.ID("reply-send")))
	if f := agent.expect(t, "send"); f["private"] != true {
		t.Errorf("note frame: got %v; want private", f)
	}

	// A message after a gap makes the console fetch the missing ones.
	b.mu.Lock()
	b.messages["c1"] = []frame{msg("c1", 4, "in", "customer", "Cu", "four"), msg("c1", 5, "in", "customer", "Cu", "five"), msg("c1", 6, "in", "customer", "Cu", "six")}
	b.mu.Unlock()
	agent.send(t, frame{"type": "message", "conversation_id": "c1", "message": msg("c1", 6, "in", "customer", "Cu", "six")})
	select {
	case after := <-b.afterSeqs:
		if after != "3" {
			t.Errorf("resync after_seq: got %s; want 3", after)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no resync request after a gap")
	}
	waitFor(t, ctx, `[...document.querySelectorAll('#thread .message[data-seq]')].map(e => e.dataset.seq).join(',') === '1,2,3,4,5,6'`)
	agent.send(t, frame{"type": "message", "conversation_id": "c1", "message": msg("c1", 5, "in", "customer", "Cu", "five")})

	agent.send(t, frame{"type": "typing", "conversation_id": "c1"})
	waitFor(t, ctx, `document.getElementById('typing-indicator').textContent.includes('typing')`)
	screenshot(t, ctx, "console-thread")

	// The socket drops: the console reconnects, re-sends its presence and
	// takes the hello's conversations.
	agent.conn.Close()
	agent = b.nextPeer(t, b.agentPeers)
	conv["last_seq"] = 7
	conv["messages"] = []frame{}
	b.mu.Lock()
	b.messages["c1"] = append(b.messages["c1"], msg("c1", 7, "in", "customer", "Cu", "seven"))
	b.mu.Unlock()
	agent.send(t, frame{"type": "hello", "agent": testAgent, "presence": "offline", "conversations": []frame{{"conversation": conv, "customer": customer}}})
	if f := agent.expect(t, "presence"); f["status"] != "available" {
		t.Errorf("presence after reconnect: got %v; want available", f)
	}
	waitFor(t, ctx, `document.querySelectorAll('#thread .message[data-seq]').length === 7`)
	if got := js[int](t, ctx, `document.querySelectorAll('#thread .message').length`); got != 8 {
		t.Errorf("thread after reconnect: got %d messages; want 7 stored and the pending note", got)
	}
	// The unacknowledged note is sent again with the same id.
	if f := agent.expect(t, "send"); f["private"] != true {
		t.Errorf("re-sent note: got %v", f)
	}

	do(t, ctx, chromedp.Click(chromedp.ID("resolve")))
	if f := agent.expect(t, "resolve"); f["conversation_id"] != "c1" || f["disposition"] != "resolved" {
		t.Errorf("resolve frame: got %v", f)
	}
	agent.send(t, frame{"type": "resolved", "conversation_id": "c1"})
	waitFor(t, ctx, `!document.getElementById('conversation-banner').hidden && document.getElementById('reply-input').disabled`)

	// Language switch.
	js[chromedp.Void](t, ctx, `(() => { const s = document.getElementById('language'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change')); })()`)
	waitFor(t, ctx, `document.getElementById('logout').textContent === '退出登录' && document.documentElement.lang === 'zh-CN'`)
	screenshot(t, ctx, "console-zh")

	// A reload keeps the session (token in localStorage, GET /auth/me).
	do(t, ctx, chromedp.Reload())
	agent = b.nextPeer(t, b.agentPeers)
	agent.send(t, frame{"type": "hello", "agent": testAgent, "presence": "available", "conversations": []any{}})
	waitFor(t, ctx, `!document.getElementById('app-view').hidden && document.getElementById('connection').dataset.state === 'online'`)

	do(t, ctx, chromedp.Click(chromedp.ID("logout")))
	waitFor(t, ctx, `!document.getElementById('login-view').hidden && localStorage.getItem('parley.token') === null`)
}

func TestBrowserWidgetChatsQueuesResendsAndForgetsRefusedTokens(t *testing.T) {
	ui := newUI(t)
	srv, b := newFakeBackend(t, ui)
	ctx := browser(t, "zh-CN")

	do(t, ctx, chromedp.Navigate(srv.URL+"/demo"))
	waitFor(t, ctx, `!!document.getElementById('parley-launcher')`)
	if got := js[string](t, ctx, `document.querySelector('.demo-hero h1').textContent`); got != "需要什么帮助？" {
		t.Errorf("demo heading in zh-CN: got %q", got)
	}
	do(t, ctx, chromedp.Click(chromedp.ID("parley-launcher")))
	waitFor(t, ctx, `!document.getElementById('parley-prechat').hidden && document.querySelectorAll('#parley-prechat-topic option').length === 2`)
	screenshot(t, ctx, "widget-prechat")
	if got := js[string](t, ctx, `document.getElementById('parley-title').textContent`); got != "Acme Support" {
		t.Errorf("widget title: got %q; want the inbox name", got)
	}
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("parley-prechat-name"), "Wang Wei"),
		chromedp.SetValue(chromedp.ID("parley-prechat-topic"), "tech"),
		chromedp.Click(chromedp.ID("parley-prechat-start")),
	)
	visitor := b.nextPeer(t, b.visitorPeers)
	if visitor.query.Get("after_seq") != "0" {
		t.Errorf("first connect after_seq: got %q; want 0", visitor.query.Get("after_seq"))
	}
	visitor.send(t, frame{"type": "hello", "customer_id": "c-9", "conversation_id": "k1", "status": "queued"})
	visitor.send(t, frame{"type": "queue", "position": 2, "estimated_wait_s": 90})
	waitFor(t, ctx, `document.getElementById('parley-status').textContent === '您当前排在第 2 位，预计等待约 2 分钟'`)

	// A message that is not acknowledged before the socket drops is sent
	// again, with the same client_msg_id, after the reconnect.
	do(t, ctx, chromedp.SendKeys(chromedp.ID("parley-input"), "我的服务器连不上\r"))
	first := visitor.expect(t, "message")
	cid, _ := first["client_msg_id"].(string)
	if first["body"] != "我的服务器连不上" || len(cid) != 36 {
		t.Fatalf("message frame: got %v", first)
	}
	waitFor(t, ctx, `document.querySelectorAll('#parley-messages .parley-msg.parley-in.parley-pending').length === 1`)
	visitor.conn.Close()
	visitor = b.nextPeer(t, b.visitorPeers)
	visitor.send(t, frame{"type": "hello", "customer_id": "c-9", "conversation_id": "k1", "status": "queued"})
	again := visitor.expect(t, "message")
	if again["client_msg_id"] != cid {
		t.Errorf("re-sent client_msg_id: got %v; want %s", again["client_msg_id"], cid)
	}
	visitor.send(t, frame{"type": "ack", "client_msg_id": cid, "message_id": "w1", "seq": 1})
	own := msg("k1", 1, "in", "customer", "Wang Wei", "我的服务器连不上")
	own["id"], own["client_msg_id"] = "w1", cid
	visitor.send(t, frame{"type": "message", "message": own})
	visitor.send(t, frame{"type": "agent_joined", "agent": frame{"name": "Alice"}})
	visitor.send(t, frame{"type": "typing"})
	waitFor(t, ctx, `document.getElementById('parley-typing').textContent === 'Alice 正在输入…'`)
	visitor.send(t, frame{"type": "message", "message": msg("k1", 3, "out", "agent", "Alice", "<b>Hi</b>, checking now")})
	waitFor(t, ctx, `document.querySelectorAll('#parley-messages .parley-msg.parley-out').length === 1`)
	screenshot(t, ctx, "widget-chat")
	if got := js[string](t, ctx, `document.querySelector('#parley-messages .parley-out .parley-text').textContent`); got != "<b>Hi</b>, checking now" {
		t.Errorf("agent message: got %q; want the raw text", got)
	}
	if got := js[int](t, ctx, `document.querySelectorAll('#parley-messages .parley-in').length`); got != 1 {
		t.Errorf("own messages: got %d; want 1 (no duplicate after ack and echo)", got)
	}
	if !js[bool](t, ctx, `document.getElementById('parley-status').textContent === 'Alice 已加入对话' && !document.querySelector('#parley-messages b')`) {
		t.Error("status or rendering wrong after agent_joined")
	}
	visitor.send(t, frame{"type": "resolved"})
	waitFor(t, ctx, `document.getElementById('parley-status').textContent.startsWith('本次对话已结束')`)

	// A returning visitor goes straight to the chat and resumes after the last seq.
	do(t, ctx, chromedp.Reload())
	visitor = b.nextPeer(t, b.visitorPeers)
	if got := visitor.query.Get("after_seq"); got != "3" {
		t.Errorf("reconnect after reload: got after_seq %q; want 3", got)
	}
	waitFor(t, ctx, `!document.getElementById('parley-chat').hidden && document.querySelectorAll('#parley-messages .parley-msg').length >= 2`)

	// A refused token is forgotten and the form comes back.
	b.refuse.Store(true)
	visitor.conn.Close()
	waitFor(t, ctx, `!document.getElementById('parley-prechat').hidden && localStorage.getItem('parley:inbox-1:token') === null`)
}
