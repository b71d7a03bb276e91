package email

import (
	"context"
	"crypto/tls"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/parleyhq/parley"
)

// Watcher states shown on the inbox.
const (
	StateConnecting = "connecting"
	StateIdle       = "idle"
	StatePolling    = "polling"
	StateError      = "error"
	StateStandby    = "standby" // another instance holds the lease
)

type watch struct {
	cancel  context.CancelFunc
	done    chan struct{}
	updated time.Time
}

// Run watches every email inbox until ctx ends: one goroutine per inbox,
// each taking the inbox's lease so exactly one instance imports it. A failing
// inbox never stops the others. Changed inbox settings restart its watcher.
func (c *Channel) Run(ctx context.Context) error {
	running := map[int64]*watch{}
	stopAll := func() {
		for id, w := range running {
			w.cancel()
			<-w.done
			delete(running, id)
		}
	}
	defer stopAll()
	t := time.NewTicker(c.cfg.Rescan)
	defer t.Stop()
	for {
		inboxes, err := c.cfg.Store.Inboxes(ctx)
		if err != nil && ctx.Err() == nil {
			c.log.Warn("list email inboxes", "error", err)
		}
		if err == nil {
			seen := map[int64]bool{}
			for _, in := range inboxes {
				if in.Channel != parley.ChannelEmail || in.IMAP == nil {
					continue
				}
				seen[in.ID] = true
				if w := running[in.ID]; w != nil {
					if w.updated.Equal(in.UpdatedAt) {
						continue
					}
					w.cancel()
					<-w.done
				}
				wctx, cancel := context.WithCancel(ctx)
				w := &watch{cancel: cancel, done: make(chan struct{}), updated: in.UpdatedAt}
				running[in.ID] = w
				go func(in parley.InboxConfig) {
					defer close(w.done)
					c.watchInbox(wctx, in)
				}(in)
			}
			for id, w := range running {
				if !seen[id] {
					w.cancel()
					<-w.done
					delete(running, id)
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// watchInbox keeps one inbox imported: lease, connect, import, wait, and on
// failure record the error and reconnect with exponential backoff.
func (c *Channel) watchInbox(ctx context.Context, inbox parley.InboxConfig) {
	log := c.log.With("inbox_id", inbox.ID)
	backoff := time.Second
	for ctx.Err() == nil {
		lease, ok, err := c.cfg.Store.Lease(ctx, inbox.ID)
		if err != nil || !ok {
			if err != nil && ctx.Err() == nil {
				log.Warn("take email lease", "error", err)
			}
			sleep(ctx, c.cfg.LeaseRetry)
			continue
		}
		err = c.session(ctx, inbox, lease)
		lease.Release()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			log.Warn("imap session ended", "error", err, "retry_in", backoff.String())
			c.status(inbox.ID, StateError, err.Error())
			sleep(ctx, backoff+rand.N(backoff/4+1))
			backoff = min(2*backoff, c.cfg.MaxBackoff)
			continue
		}
		backoff = time.Second
	}
}

func (c *Channel) status(inboxID int64, state, lastError string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.cfg.Store.SetStatus(ctx, inboxID, state, truncate(lastError, 1000)); err != nil {
		c.log.Warn("record email inbox status", "inbox_id", inboxID, "error", err)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// dialIMAP connects and logs in. news receives a value when the server
// reports new messages (during IDLE).
func (c *Channel) dialIMAP(s *parley.MailServer, news chan<- struct{}) (*imapclient.Client, error) {
	opts := &imapclient.Options{
		TLSConfig:   c.tlsConfig(s.Host),
		WordDecoder: wordDecoder,
		Dialer:      &net.Dialer{Timeout: 30 * time.Second},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil && news != nil {
				select {
				case news <- struct{}{}:
				default:
				}
			}
		}},
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	var cl *imapclient.Client
	var err error
	switch s.Security {
	case "tls":
		cl, err = imapclient.DialTLS(addr, opts)
	case "starttls":
		cl, err = imapclient.DialStartTLS(addr, opts)
	default:
		cl, err = imapclient.DialInsecure(addr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", addr, err)
	}
	if err := cl.Login(s.Username, s.Password).Wait(); err != nil {
		cl.Close()
		return nil, fmt.Errorf("log in to %s as %s: %w", addr, s.Username, err)
	}
	return cl, nil
}

func (c *Channel) tlsConfig(host string) *tls.Config {
	cfg := &tls.Config{}
	if c.cfg.TLSConfig != nil {
		cfg = c.cfg.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	return cfg
}

func mailboxOf(s *parley.MailServer) string {
	if strings.TrimSpace(s.Mailbox) == "" {
		return "INBOX"
	}
	return s.Mailbox
}

// session imports the inbox's folder until an error, the end of ctx or the
// loss of the lease.
func (c *Channel) session(ctx context.Context, inbox parley.InboxConfig, lease Lease) error {
	c.status(inbox.ID, StateConnecting, "")
	news := make(chan struct{}, 1)
	cl, err := c.dialIMAP(inbox.IMAP, news)
	if err != nil {
		return err
	}
	var closeOnce sync.Once
	closeConn := func() { closeOnce.Do(func() { cl.Close() }) }
	defer closeConn()
	// Unblock network calls when ctx ends.
	stop := context.AfterFunc(ctx, closeConn)
	defer stop()

	idle := cl.Caps().Has(imap.CapIdle)
	state := StatePolling
	if idle {
		state = StateIdle
	}
	mailbox := mailboxOf(inbox.IMAP)
	for {
		if err := lease.Alive(ctx); err != nil {
			return err
		}
		if err := c.sync(ctx, cl, inbox, mailbox); err != nil {
			return err
		}
		c.status(inbox.ID, state, "")
		if idle {
			// Collect what arrived during the sync before idling: some
			// servers only report it after the next command.
			if err := cl.Noop().Wait(); err != nil {
				return fmt.Errorf("noop: %w", err)
			}
			select {
			case <-news:
				continue
			default:
			}
			cmd, err := cl.Idle()
			if err != nil {
				return fmt.Errorf("idle: %w", err)
			}
			t := time.NewTimer(c.cfg.IdleRefresh)
			select {
			case <-ctx.Done():
			case <-news:
			case <-t.C:
			case <-cl.Closed():
			}
			t.Stop()
			if ctx.Err() != nil {
				return nil
			}
			if err := cmd.Close(); err != nil {
				return fmt.Errorf("end idle: %w", err)
			}
			if err := cmd.Wait(); err != nil {
				return fmt.Errorf("idle: %w", err)
			}
		} else {
			sleep(ctx, c.cfg.PollInterval)
			if ctx.Err() != nil {
				return nil
			}
			if err := cl.Noop().Wait(); err != nil {
				return fmt.Errorf("noop: %w", err)
			}
		}
	}
}

// sync imports every message above the stored progress, in UID order,
// recording progress after each committed message. A new UIDVALIDITY starts
// over from the first message; dedupe keys keep it from importing twice.
func (c *Channel) sync(ctx context.Context, cl *imapclient.Client, inbox parley.InboxConfig, mailbox string) error {
	sel, err := cl.Select(mailbox, &imap.SelectOptions{ReadOnly: true}).Wait()
	if err != nil {
		return fmt.Errorf("select %s: %w", mailbox, err)
	}
	prog, err := c.cfg.Store.Progress(ctx, inbox.ID)
	if err != nil {
		return err
	}
	if prog.Mailbox != mailbox || prog.UIDValidity != sel.UIDValidity {
		if prog.UIDValidity != 0 {
			c.log.Info("uidvalidity changed: rescanning", "inbox_id", inbox.ID, "mailbox", mailbox, "old", prog.UIDValidity, "new", sel.UIDValidity)
		}
		prog = Progress{Mailbox: mailbox, UIDValidity: sel.UIDValidity}
		if err := c.cfg.Store.SetProgress(ctx, inbox.ID, prog); err != nil {
			return err
		}
	}
	if sel.NumMessages == 0 || (sel.UIDNext != 0 && uint32(sel.UIDNext) <= prog.LastUID+1) {
		return nil
	}
	found, err := cl.UIDSearch(&imap.SearchCriteria{UID: []imap.UIDSet{{imap.UIDRange{Start: imap.UID(prog.LastUID + 1), Stop: 0}}}}, nil).Wait()
	if err != nil {
		return fmt.Errorf("search %s: %w", mailbox, err)
	}
	var uids []imap.UID
	for _, u := range found.AllUIDs() {
		if uint32(u) > prog.LastUID {
			uids = append(uids, u)
		}
	}
	slices.Sort(uids)
	for len(uids) > 0 {
		n := min(len(uids), 20)
		if err := c.fetchBatch(ctx, cl, inbox, prog, uids[:n]); err != nil {
			return err
		}
		uids = uids[n:]
	}
	return nil
}

func (c *Channel) fetchBatch(ctx context.Context, cl *imapclient.Client, inbox parley.InboxConfig, prog Progress, uids []imap.UID) error {
	sizes, err := cl.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
	if err != nil {
		return fmt.Errorf("fetch sizes: %w", err)
	}
	size := map[imap.UID]int64{}
	for _, m := range sizes {
		size[m.UID] = m.RFC822Size
	}
	var small, large []imap.UID
	for _, u := range uids {
		if size[u] > c.cfg.MaxMessageBytes {
			large = append(large, u)
		} else {
			small = append(small, u)
		}
	}
	whole := &imap.FetchItemBodySection{Peek: true}
	head := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, Peek: true}
	raw := map[imap.UID][]byte{}
	for _, part := range []struct {
		uids []imap.UID
		sec  *imap.FetchItemBodySection
	}{{small, whole}, {large, head}} {
		if len(part.uids) == 0 {
			continue
		}
		msgs, err := cl.Fetch(imap.UIDSetNum(part.uids...), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{part.sec}}).Collect()
		if err != nil {
			return fmt.Errorf("fetch messages: %w", err)
		}
		for _, m := range msgs {
			b := m.FindBodySection(part.sec)
			if part.sec == head {
				b = append(b, fmt.Appendf(nil, "\r\n[Parley: this email is %d bytes, over the %d-byte import limit; only its header was imported.]\r\n", size[m.UID], c.cfg.MaxMessageBytes)...)
			}
			raw[m.UID] = b
		}
	}
	for _, u := range uids {
		b, ok := raw[u]
		if !ok {
			continue // expunged meanwhile
		}
		if err := c.Ingest(ctx, inbox, b); err != nil {
			return err
		}
		prog.LastUID = uint32(u)
		if err := c.cfg.Store.SetProgress(ctx, inbox.ID, prog); err != nil {
			return err
		}
	}
	return nil
}
