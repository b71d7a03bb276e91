package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/channels/twilio/twiliotest"
	"github.com/parleyhq/parley/postgres"
)

const simulateUsage = `Usage: parley simulate sms|whatsapp|call --inbox ID [flags]

Sends correctly signed Twilio webhooks to a running Parley, as Twilio would.
The inbox's auth token and number are read from PARLEY_DATABASE_URL with
PARLEY_SECRET_KEY (or given with --auth-token and --to); signatures are
computed over PARLEY_PUBLIC_URL (or --public-url).

With --fake-api ADDR it also runs a fake Twilio REST API on ADDR until
interrupted: start the server with PARLEY_TWILIO_API_BASE=http://ADDR and
agents' replies (and call connects) are printed here, each message answered
with sent and delivered status callbacks.
`

func simulate(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer, log *slog.Logger) error {
	if len(args) == 0 || (args[0] != "sms" && args[0] != "whatsapp" && args[0] != "call") {
		fmt.Fprint(stdout, simulateUsage)
		return fmt.Errorf("simulate what? sms, whatsapp or call")
	}
	kind := args[0]
	fs := flag.NewFlagSet("simulate "+kind, flag.ContinueOnError)
	fs.SetOutput(stdout)
	inbox := fs.Int64("inbox", 0, "the Twilio inbox id (required)")
	target := fs.String("url", "", "where the server listens (default: the public URL)")
	public := fs.String("public-url", getenv("PARLEY_PUBLIC_URL"), "the URL configured in Twilio (PARLEY_PUBLIC_URL)")
	token := fs.String("auth-token", "", "the inbox's auth token (default: read from the database)")
	accountSID := fs.String("account-sid", "", "the inbox's account sid (default: read from the database)")
	to := fs.String("to", "", "the inbox's number (default: read from the database)")
	from := fs.String("from", "+15558675310", "the customer's number (E.164)")
	body := fs.String("body", "Hello! I need help with my order.", "the message text")
	name := fs.String("name", "Maria", "the WhatsApp profile name")
	count := fs.Int("count", 1, "how many messages or calls (each from its own number when >1)")
	conc := fs.Int("concurrency", 1, "how many at once")
	digits := fs.String("digits", "1,1", "call: the keys pressed in the IVR menus, comma-separated")
	hangup := fs.Duration("hangup-after", 0, "call: hang up after this long (0: leave the call waiting)")
	fakeAPI := fs.String("fake-api", "", "also run a fake Twilio REST API on this address (e.g. 127.0.0.1:9099)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *inbox <= 0 {
		return fmt.Errorf("--inbox is required")
	}
	if *token == "" || *to == "" || *accountSID == "" {
		d, err := connect(ctx, getenv, true, false)
		if err != nil {
			return fmt.Errorf("reading the inbox needs the database (or give --auth-token, --account-sid and --to): %w", err)
		}
		in, err := postgres.New(d.pool, d.box).Inbox(ctx, *inbox)
		d.close()
		if err != nil {
			return err
		}
		if in.Twilio == nil {
			return fmt.Errorf("inbox %d is a %s inbox, not a Twilio one", *inbox, in.Channel)
		}
		if *public == "" {
			*public = d.cfg.PublicURL
		}
		*token, *accountSID = in.Twilio.AuthToken, in.Twilio.AccountSID
		*to = strings.TrimPrefix(in.Twilio.From, "whatsapp:")
	}
	if *public == "" {
		return fmt.Errorf("--public-url (or PARLEY_PUBLIC_URL) is required")
	}
	if *target == "" {
		*target = *public
	}
	hooks := twiliotest.Webhooks{Target: *target, PublicURL: *public, AuthToken: *token}
	base := "/webhooks/twilio/" + strconv.FormatInt(*inbox, 10)

	if *fakeAPI != "" {
		fake, err := twiliotest.NewServerOn(*fakeAPI, *accountSID, *token)
		if err != nil {
			return fmt.Errorf("--fake-api: %w", err)
		}
		defer fake.Close()
		fake.OnMessage = func(r twiliotest.Request) {
			fmt.Fprintf(stdout, "twilio ← message %s to %s: %q\n", r.Sid, r.Form.Get("To"), r.Form.Get("Body"))
			for _, st := range []string{"sent", "delivered"} {
				time.Sleep(300 * time.Millisecond)
				if _, err := hooks.Post(context.Background(), r.Form.Get("StatusCallback"), twiliotest.MessageStatus(*accountSID, r.Sid, st, "")); err != nil {
					log.Warn("status callback", "error", err)
				}
			}
		}
		fmt.Fprintf(stdout, "fake Twilio REST API on %s (start the server with PARLEY_TWILIO_API_BASE=%s)\n", fake.Listener.Addr(), fake.URL)
	}

	var sent, failed atomic.Int64
	start := time.Now()
	sem := make(chan struct{}, max(*conc, 1))
	var wg sync.WaitGroup
	for i := range max(*count, 1) {
		caller := *from
		if *count > 1 && len(caller) > 8 { // vary the last four digits
			caller = fmt.Sprintf("%s%04d", caller[:len(caller)-4], i%10000)
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			var err error
			switch kind {
			case "sms":
				err = expect(hooks.Post(ctx, base+"/messaging", twiliotest.SMS(*accountSID, caller, *to, *body)))
			case "whatsapp":
				err = expect(hooks.Post(ctx, base+"/messaging", twiliotest.WhatsApp(*accountSID, caller, *to, *name, *body)))
			case "call":
				err = simulateCall(ctx, hooks, base, *accountSID, caller, *to, *digits, *hangup, stdout)
			}
			if err != nil {
				failed.Add(1)
				fmt.Fprintf(stdout, "%s from %s: %v\n", kind, caller, err)
				return
			}
			sent.Add(1)
		}()
	}
	wg.Wait()
	el := time.Since(start)
	fmt.Fprintf(stdout, "%d %s sent, %d failed in %s (%.0f/s)\n", sent.Load(), kind, failed.Load(), el.Round(time.Millisecond), float64(sent.Load())/el.Seconds())
	if *fakeAPI != "" {
		fmt.Fprintln(stdout, "fake Twilio running; Ctrl-C to stop")
		<-ctx.Done()
	}
	if failed.Load() > 0 {
		return fmt.Errorf("%d webhooks failed", failed.Load())
	}
	return nil
}

func expect(r twiliotest.Response, err error) error {
	if err != nil {
		return err
	}
	if r.Status/100 != 2 {
		return fmt.Errorf("status %d: %s", r.Status, strings.TrimSpace(r.Body))
	}
	return nil
}

// simulateCall rings, presses the IVR digits and optionally hangs up.
func simulateCall(ctx context.Context, hooks twiliotest.Webhooks, base, accountSID, from, to, digits string, hangup time.Duration, out io.Writer) error {
	sid := twiliotest.Sid("CA")
	form := func(status string) url.Values { return twiliotest.Call(accountSID, sid, from, to, status) }
	r, err := hooks.Post(ctx, base+"/voice", form("ringing"))
	if err := expect(r, err); err != nil {
		return err
	}
	for _, d := range strings.Split(digits, ",") {
		action := gatherAction(r.Body)
		if action == "" {
			break
		}
		f := form("in-progress")
		f.Set("Digits", strings.TrimSpace(d))
		r, err = hooks.Post(ctx, action, f)
		if err := expect(r, err); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "call %s from %s waiting\n", sid, from)
	if hangup > 0 {
		select {
		case <-time.After(hangup):
		case <-ctx.Done():
		}
		f := form("completed")
		f.Set("CallDuration", strconv.Itoa(int(hangup.Seconds())))
		return expect(hooks.Post(context.WithoutCancel(ctx), base+"/voice/status", f))
	}
	return nil
}

// gatherAction finds the action URL of a TwiML <Gather>.
func gatherAction(twiml string) string {
	i := strings.Index(twiml, "<Gather")
	if i < 0 {
		return ""
	}
	rest := twiml[i:]
	j := strings.Index(rest, `action="`)
	if j < 0 {
		return ""
	}
	rest = rest[j+len(`action="`):]
	k := strings.Index(rest, `"`)
	if k < 0 {
		return ""
	}
	return strings.ReplaceAll(rest[:k], "&amp;", "&")
}
