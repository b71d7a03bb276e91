package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-smtp"
)

// mailFake is an in-memory IMAP server (go-imap's imapmemserver, with IDLE)
// and an SMTP server that keeps every mail it is given.
type mailFake struct {
	t        *testing.T
	user     *imapmemserver.User
	mem      *imapmemserver.Server
	imapAddr string
	mu       sync.Mutex
	imapSrv  *imapserver.Server
	smtpAddr string
	mails    chan []byte
}

const mailPassword = "app-password"

func newMailFake(t *testing.T) *mailFake {
	t.Helper()
	f := &mailFake{t: t, mem: imapmemserver.New(), user: imapmemserver.NewUser("support@parley.test", mailPassword), mails: make(chan []byte, 100)}
	f.mem.AddUser(f.user)
	for _, mb := range []string{"INBOX", "Sent"} {
		if err := f.user.Create(mb, nil); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.imapAddr = ln.Addr().String()
	f.serveIMAP(ln)

	sln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.smtpAddr = sln.Addr().String()
	s := smtp.NewServer(smtpBackend{f.mails})
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	go s.Serve(sln)
	t.Cleanup(func() {
		s.Close()
		f.mu.Lock()
		f.imapSrv.Close()
		f.mu.Unlock()
	})
	return f
}

func (f *mailFake) serveIMAP(ln net.Listener) {
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return f.mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       nopLogger{},
	})
	f.mu.Lock()
	f.imapSrv = srv
	f.mu.Unlock()
	go srv.Serve(ln)
}

// restartIMAP drops every IMAP connection and serves again on the same port.
func (f *mailFake) restartIMAP() {
	f.t.Helper()
	f.mu.Lock()
	f.imapSrv.Close()
	f.mu.Unlock()
	var ln net.Listener
	var err error
	for i := 0; i < 50; i++ {
		if ln, err = net.Listen("tcp", f.imapAddr); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		f.t.Fatalf("listen again on %s: %v", f.imapAddr, err)
	}
	f.serveIMAP(ln)
}

func (f *mailFake) deliver(raw string) {
	f.t.Helper()
	b := []byte(strings.ReplaceAll(raw, "\n", "\r\n"))
	if _, err := f.user.Append("INBOX", bytes.NewReader(b), &imap.AppendOptions{}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *mailFake) nextMail() *mail.Message {
	f.t.Helper()
	select {
	case raw := <-f.mails:
		m, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			f.t.Fatalf("read sent mail: %v\n%s", err, raw)
		}
		return m
	case <-time.After(20 * time.Second):
		f.t.Fatal("no mail reached the SMTP server within 20s")
	}
	return nil
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}

type smtpBackend struct{ mails chan []byte }

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

type smtpSession struct{ b smtpBackend }

func (s *smtpSession) Reset()                               {}
func (s *smtpSession) Logout() error                        { return nil }
func (s *smtpSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err == nil {
		s.b.mails <- b
	}
	return err
}

// createEmailInbox creates an email inbox on the fake servers and returns its id.
func (in *instance) createEmailInbox(t *testing.T, admin string, f *mailFake, name, password string) string {
	t.Helper()
	var queues struct {
		Items []struct{ ID, Name string } `json:"items"`
	}
	in.do(t, "GET", "/api/v1/queues", admin, nil, &queues)
	queue := ""
	for _, q := range queues.Items {
		if q.Name == "General" {
			queue = q.ID
		}
	}
	host, port, _ := net.SplitHostPort(f.imapAddr)
	shost, sport, _ := net.SplitHostPort(f.smtpAddr)
	p, _ := strconv.Atoi(port)
	sp, _ := strconv.Atoi(sport)
	var out struct {
		ID string `json:"id"`
	}
	code := in.do(t, "POST", "/api/v1/inboxes", admin, map[string]any{
		"channel": "email", "name": name, "queue_id": queue, "address": "support@parley.test",
		"imap": map[string]any{"host": host, "port": p, "security": "none", "username": "support@parley.test", "password": password, "sent_mailbox": "Sent"},
		"smtp": map[string]any{"host": shost, "port": sp, "security": "none"},
	}, &out)
	if code != 201 {
		t.Fatalf("create email inbox: status %d", code)
	}
	return out.ID
}

func eventually(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *env) count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.db.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func customerMail(id, subject, body string, headers ...string) string {
	h := ""
	for _, x := range headers {
		h += x + "\n"
	}
	return fmt.Sprintf("From: Mei Lin <Mei@Example.com>\nTo: support@parley.test\nSubject: %s\nMessage-ID: <%s>\nDate: Mon, 3 Mar 2025 10:00:00 +0800\n%sContent-Type: text/plain; charset=utf-8\n\n%s\n", subject, id, h, body)
}

func TestEmailThreadReplyBounceAutoReplyAndMalformed(t *testing.T) {
	e := newEnv(t)
	f := newMailFake(t)
	f.deliver(customerMail("t1@example.com", "Invoice 42", "Where is invoice 42?"))
	f.deliver(customerMail("t2@example.com", "Re: Invoice 42", "Any news?\n\nOn Mon, Mei wrote:\n> Where is invoice 42?", "In-Reply-To: <t1@example.com>", "References: <t1@example.com>"))
	f.deliver(customerMail("t3@example.com", "Re: Invoice 42", "Hello??", "In-Reply-To: <t2@example.com>", "References: <t1@example.com> <t2@example.com>"))

	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	alice := srv.agentWS(t, srv.login(t, "agent1@parley.test"))
	alice.send(map[string]any{"type": "presence", "status": "available"})
	alice.expect("presence")
	inbox := srv.createEmailInbox(t, admin, f, "Support", mailPassword)

	// The three-message thread is one conversation, offered once.
	eventually(t, "thread imported", 20*time.Second, func() bool {
		return e.count(t, `SELECT count(*) FROM messages WHERE inbox_id = $1::bigint`, inbox) == 3
	})
	_, conv := acceptNext(t, alice)
	if got, want := e.transcript(t, conv), []string{"Where is invoice 42?", "Any news?", "Hello??"}; !equal(got, want) {
		t.Errorf("transcript %q; want %q", got, want)
	}
	if n := e.count(t, `SELECT count(*) FROM conversations WHERE inbox_id = $1::bigint`, inbox); n != 1 {
		t.Errorf("%d conversations; want 1", n)
	}
	var subject, identity string
	e.db.Pool.QueryRow(context.Background(), `SELECT c.subject, ci.address FROM conversations c JOIN customer_identities ci ON ci.customer_id = c.customer_id
		WHERE c.id = $1::bigint AND ci.channel = 'email'`, conv).Scan(&subject, &identity)
	if subject != "Invoice 42" || identity != "mei@example.com" {
		t.Errorf("subject %q identity %q; want Invoice 42, mei@example.com", subject, identity)
	}

	// The agent's reply reaches the SMTP server threaded, and the Sent folder.
	alice.send(map[string]any{"type": "send", "conversation_id": conv, "body": "Sorry! Invoice 42 is attached to your account now.\n\nAlice", "client_msg_id": "r1"})
	alice.expect("ack")
	m := f.nextMail()
	from, _ := mail.ParseAddress(m.Header.Get("From"))
	subj, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if from == nil || from.Name != "Alice Chen via Support" || from.Address != "support@parley.test" {
		t.Errorf("From %q", m.Header.Get("From"))
	}
	if subj != "Re: Invoice 42" || m.Header.Get("To") != "<mei@example.com>" || !strings.Contains(m.Header.Get("Reply-To"), "support@parley.test") {
		t.Errorf("Subject %q To %q Reply-To %q", subj, m.Header.Get("To"), m.Header.Get("Reply-To"))
	}
	if got := m.Header.Get("In-Reply-To"); got != "<t3@example.com>" {
		t.Errorf("In-Reply-To %q; want <t3@example.com>", got)
	}
	if got := m.Header.Get("References"); !strings.Contains(got, "<t1@example.com>") || !strings.Contains(got, "<t2@example.com>") || !strings.Contains(got, "<t3@example.com>") {
		t.Errorf("References %q", got)
	}
	ourID := strings.Trim(m.Header.Get("Message-Id"), "<>")
	if !strings.HasPrefix(ourID, "parley.") || !strings.HasSuffix(ourID, "@parley.test") {
		t.Errorf("Message-ID %q", ourID)
	}
	if ct := m.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type %q; want multipart/alternative", ct)
	}
	body, _ := io.ReadAll(m.Body)
	if !strings.Contains(string(body), "text/plain") || !strings.Contains(string(body), "text/html") {
		t.Errorf("body lacks a text or an HTML part:\n%s", body)
	}
	eventually(t, "reply marked sent with its Message-ID", 10*time.Second, func() bool {
		return e.count(t, `SELECT count(*) FROM messages WHERE conversation_id = $1::bigint AND direction = 'out' AND delivery = 'sent' AND provider_id = $2`, conv, ourID) == 1
	})
	if st, _ := f.user.Status("Sent", &imap.StatusOptions{NumMessages: true}); st == nil || *st.NumMessages != 1 {
		t.Errorf("Sent folder status %+v; want 1 message", st)
	}

	// The customer answers our reply: same conversation.
	f.deliver(customerMail("t4@example.com", "Re: Invoice 42", "Got it, thanks!", "In-Reply-To: <"+ourID+">", "References: <t1@example.com> <"+ourID+">"))
	alice.expectWhere("message", func(fr frame) bool {
		return fr.str("message", "body") == "Got it, thanks!" && fr.str("conversation_id") == conv
	})

	// A new subject from the same customer is a new conversation.
	f.deliver(customerMail("n1@example.com", "Password reset", "I cannot log in."))
	offer := alice.expect("offer")
	if offer.str("offer", "conversation", "id") == conv {
		t.Errorf("a new subject continued the old conversation")
	}

	// An auto-reply is stored without routing work.
	f.deliver("From: Bob <bob@example.org>\nTo: support@parley.test\nSubject: Out of office\nMessage-ID: <ooo@example.org>\nAuto-Submitted: auto-replied\n\nI am away until Monday.\n")
	eventually(t, "auto-reply stored", 15*time.Second, func() bool {
		return e.count(t, `SELECT count(*) FROM messages WHERE inbox_id = $1::bigint AND dedupe_key = 'mid:ooo@example.org'`, inbox) == 1
	})
	alice.quiet("offer", 500*time.Millisecond)
	if n := e.count(t, `SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
		WHERE m.dedupe_key = 'mid:ooo@example.org' AND c.status = 'resolved'`); n != 1 {
		t.Errorf("auto-reply's conversation is not resolved")
	}
	if n := e.count(t, `SELECT count(*) FROM offers o JOIN messages m ON m.conversation_id = o.conversation_id WHERE m.dedupe_key = 'mid:ooo@example.org'`); n != 0 {
		t.Errorf("auto-reply got %d offers", n)
	}

	// A bounce of our reply marks it failed with the reason.
	f.deliver(`From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: support@parley.test
Subject: Undelivered Mail Returned to Sender
Message-ID: <bounce1@mx.example.com>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.
--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; mei@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown
--B
Content-Type: text/rfc822-headers

Message-ID: <` + ourID + `>
Subject: Re: Invoice 42
--B--
`)
	eventually(t, "bounce marks the reply failed", 15*time.Second, func() bool {
		return e.count(t, `SELECT count(*) FROM messages WHERE provider_id = $1 AND delivery = 'failed' AND delivery_error LIKE '%5.1.1%'`, ourID) == 1
	})
	alice.expectWhere("delivery", func(fr frame) bool { return fr.str("delivery") == "failed" })

	// A malformed message is stored with its parse error shown.
	f.deliver("From: broken@example.net\nSubject: broken\nMessage-ID: <broken@example.net>\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain; charset=x-unknown-charset-9\n\nhalf a messa")
	eventually(t, "malformed message stored", 15*time.Second, func() bool {
		return e.count(t, `SELECT count(*) FROM messages m JOIN email_messages em ON em.message_row_id = m.id
			WHERE m.dedupe_key = 'mid:broken@example.net' AND em.parse_error <> '' AND m.body LIKE '%could not be read completely%' AND m.body LIKE '%half a messa%'`) == 1
	})

	// The inbox shows its watcher's status.
	var got struct {
		Status struct {
			State         string `json:"state"`
			LastSuccessAt string `json:"last_success_at"`
		} `json:"status"`
		IMAP struct {
			Password string `json:"password"`
		} `json:"imap"`
	}
	srv.do(t, "GET", "/api/v1/inboxes/"+inbox, admin, nil, &got)
	if got.Status.State != "idle" || got.Status.LastSuccessAt == "" || got.IMAP.Password != "" {
		t.Errorf("inbox status %+v (password %q); want idle with a last success and no password", got.Status, got.IMAP.Password)
	}
}

func TestEmailRestartAndUIDValidityResetDuplicateNothing(t *testing.T) {
	e := newEnv(t)
	f := newMailFake(t)
	for i := 1; i <= 6; i++ {
		f.deliver(customerMail(fmt.Sprintf("m%d@example.com", i), fmt.Sprintf("Question %d", i), fmt.Sprintf("Question number %d", i)))
	}
	// One message without a Message-ID: deduped by content.
	f.deliver("From: anon@example.com\nSubject: no id\n\nI have no Message-ID.\n")
	const total = 7
	srv := e.start()
	admin := srv.login(t, "admin@parley.test")
	inbox := srv.createEmailInbox(t, admin, f, "Support", mailPassword)
	// A second inbox with a wrong password fails on its own.
	bad := srv.createEmailInbox(t, admin, f, "Broken", "wrong-password")
	messages := func() int {
		return e.count(t, `SELECT count(*) FROM messages WHERE inbox_id = $1::bigint`, inbox)
	}
	eventually(t, "first messages imported", 20*time.Second, func() bool { return messages() > 0 })
	srv.stop() // restart while importing
	srv = e.start()
	eventually(t, "all messages imported", 20*time.Second, func() bool { return messages() == total })

	// Lose the stored progress (as if the instance died between commit and
	// recording progress): the re-read duplicates nothing.
	if _, err := e.db.Pool.Exec(context.Background(), `UPDATE email_inbox_state SET last_uid = 2 WHERE inbox_id = $1::bigint`, inbox); err != nil {
		t.Fatal(err)
	}
	srv.stop()
	srv = e.start()
	eventually(t, "progress caught up", 20*time.Second, func() bool {
		return e.count(t, `SELECT last_uid FROM email_inbox_state WHERE inbox_id = $1::bigint`, inbox) == total
	})
	if n := messages(); n != total {
		t.Errorf("%d messages after a lost progress; want %d", n, total)
	}

	// The server re-creates the mailbox: a new UIDVALIDITY, the same mails
	// plus one new. Only the new one is imported.
	var before uint32
	e.db.Pool.QueryRow(context.Background(), `SELECT uid_validity FROM email_inbox_state WHERE inbox_id = $1::bigint`, inbox).Scan(&before)
	if err := f.user.Delete("INBOX"); err != nil {
		t.Fatal(err)
	}
	if err := f.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 6; i++ {
		f.deliver(customerMail(fmt.Sprintf("m%d@example.com", i), fmt.Sprintf("Question %d", i), fmt.Sprintf("Question number %d", i)))
	}
	f.deliver("From: anon@example.com\nSubject: no id\n\nI have no Message-ID.\n")
	f.deliver(customerMail("m7@example.com", "Question 7", "Question number 7"))
	f.restartIMAP()
	eventually(t, "new mailbox rescanned", 30*time.Second, func() bool {
		var v uint32
		var last int
		e.db.Pool.QueryRow(context.Background(), `SELECT uid_validity, last_uid FROM email_inbox_state WHERE inbox_id = $1::bigint`, inbox).Scan(&v, &last)
		return v != before && last == total+1
	})
	if n := messages(); n != total+1 {
		t.Errorf("%d messages after a UIDVALIDITY reset; want %d", n, total+1)
	}
	if n := e.count(t, `SELECT count(*) FROM (SELECT dedupe_key FROM messages WHERE inbox_id = $1::bigint GROUP BY dedupe_key HAVING count(*) > 1) d`, inbox); n != 0 {
		t.Errorf("%d duplicated messages", n)
	}

	var st struct {
		Status struct {
			State     string `json:"state"`
			LastError string `json:"last_error"`
		} `json:"status"`
	}
	srv.do(t, "GET", "/api/v1/inboxes/"+bad, admin, nil, &st)
	if st.Status.State != "error" || !strings.Contains(st.Status.LastError, "log in") {
		t.Errorf("broken inbox status %+v; want error naming the login", st.Status)
	}
	if n := e.count(t, `SELECT count(*) FROM messages WHERE inbox_id = $1::bigint`, bad); n != 0 {
		t.Errorf("broken inbox imported %d messages", n)
	}
}
