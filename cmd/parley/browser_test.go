package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/parleyhq/parley/internal/testenv"
)

// chromium finds Debian's Chromium (make test installs it).
func chromium(t *testing.T) string {
	for _, p := range []string{os.Getenv("PARLEY_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p == "" {
			continue
		}
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	testenv.Unavailable(t, "Chromium not found: apt-get install chromium (make test does)")
	return ""
}

// newBrowser starts headless Chromium with the flags this closed network
// needs; extra options (a time zone, a language) come last and win.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("lang", "en-US"),
		chromedp.WindowSize(1400, 900),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Listen(ctx, func(ev any) {
		if ev, ok := ev.(*runtime.EventExceptionThrown); ok {
			d := ev.ExceptionDetails
			desc := ""
			if d.Exception != nil {
				desc = d.Exception.Description
			}
			t.Errorf("page exception at %s:%d: %s %s", d.URL, d.LineNumber+1, d.Text, desc)
		}
	}); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		shot := filepath.Join(t.TempDir(), "failure.png")
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		text, _ := chromedp.Run(dctx, chromedp.Evaluate[string](`document.body.innerText`))
		if png, err := chromedp.Run(dctx, chromedp.CaptureScreenshot()); err == nil {
			os.WriteFile(shot, png, 0o644)
		}
		t.Fatalf("%s: %v (screenshot %s)\npage text:\n%s", what, err, shot, text)
	}
}

// waitJS polls a JavaScript condition until it is true.
func waitJS(cond string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := chromedp.Poll[bool](cond, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(25*time.Second))(ctx, tg)
		return err
	})
}

// value evaluates a JavaScript expression.
func value[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func TestConsoleInBrowserAcceptsOfferAndRepliesToWidget(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	// Two browsers, like two people: a background tab of one headless
	// browser stops answering while the other tab is driven.
	agent, customer := newBrowser(t), newBrowser(t)

	step(t, agent, "log in",
		chromedp.Navigate(srv.base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("login-email")),
		chromedp.SendKeys(chromedp.ID("login-email"), "agent1@parley.test"),
		chromedp.SendKeys(chromedp.ID("login-password"), DemoPassword),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.ID("presence")),
	)
	step(t, agent, "go available",
		chromedp.SetValue(chromedp.ID("presence"), "available"),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool](`document.getElementById('presence').dispatchEvent(new Event('change', {bubbles: true}))`)(ctx, tg)
			return err
		}),
	)
	// No need to wait for the presence to land: a chat that arrives first
	// waits in the queue and is offered as soon as the agent is available.
	step(t, customer, "open the widget and start a billing chat",
		chromedp.Navigate(srv.base+"/demo"),
		chromedp.WaitVisible(chromedp.ID("parley-launcher")),
		chromedp.Click(chromedp.ID("parley-launcher")),
		waitJS(`document.querySelectorAll('#parley-prechat-topic option').length >= 2`),
		chromedp.SendKeys(chromedp.ID("parley-prechat-name"), "Mei Lin"),
		chromedp.SendKeys(chromedp.ID("parley-prechat-email"), "mei@example.com"),
		chromedp.SetValue(chromedp.ID("parley-prechat-topic"), "billing"),
		chromedp.Click(chromedp.ID("parley-prechat-start")),
		chromedp.WaitVisible(chromedp.ID("parley-input")),
		chromedp.SendKeys(chromedp.ID("parley-input"), "My invoice shows <b>two</b> charges"),
		chromedp.Click(chromedp.ID("parley-send")),
	)
	step(t, agent, "accept the offer",
		chromedp.WaitVisible(chromedp.ID("offer-accept")),
		chromedp.Click(chromedp.ID("offer-accept")),
		waitJS(`[...document.querySelectorAll('#thread .message')].some(m => m.textContent.includes('My invoice shows <b>two</b> charges'))`),
	)
	step(t, agent, "reply",
		chromedp.SendKeys(chromedp.ID("reply-input"), "Sorry about that, Mei: refunding one now."),
		chromedp.Click(chromedp.ID("reply-send")),
	)
	step(t, customer, "see the reply",
		waitJS(`[...document.querySelectorAll('#parley-messages .parley-msg')].some(m => m.textContent.includes('refunding one now'))`),
	)
	// Customer text is rendered as text: no <b> element was created.
	if bold := value[int](t, agent, `document.querySelectorAll('#thread b').length`); bold != 0 {
		t.Errorf("customer HTML was rendered as markup (%d <b> elements)", bold)
	}
	if dir := os.Getenv("PARLEY_SCREENSHOTS"); dir != "" {
		for name, ctx := range map[string]context.Context{"console.png": agent, "widget.png": customer} {
			if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
				os.WriteFile(filepath.Join(dir, name), png, 0o644)
			}
		}
	}
	var body string
	e.db.Pool.QueryRow(context.Background(), `SELECT string_agg(body, '|' ORDER BY seq) FROM messages`).Scan(&body)
	if !strings.Contains(body, "two</b> charges|Sorry about that") {
		t.Errorf("stored transcript %q", body)
	}
}
