package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"html"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"github.com/parleyhq/parley"
)

// maxReferences bounds the References header: the first and the latest.
const maxReferences = 20

// Send delivers an agent's reply by SMTP and returns its Message-ID, which
// bounces later name. The Message-ID and Date derive from the message, so a
// retried send is the same mail (receivers collapse duplicates by
// Message-ID). A copy goes to the Sent folder when the inbox names one.
func (c *Channel) Send(ctx context.Context, conv parley.Conversation, m parley.Message) (string, error) {
	inbox, err := c.cfg.Store.Inbox(ctx, conv.InboxID)
	if err != nil {
		return "", err
	}
	if inbox.SMTP == nil || inbox.Address == "" {
		return "", parley.Errorf(parley.EINVALID, "Inbox %d has no SMTP server or address.", inbox.ID)
	}
	reply, err := c.cfg.Store.ReplyContext(ctx, conv.ID)
	if err != nil {
		return "", err
	}
	if reply.To == "" {
		return "", parley.Errorf(parley.EINVALID, "Conversation %d has no customer email address to reply to.", conv.ID)
	}
	id := MessageID(m.ID, inbox)
	raw, err := Compose(inbox, conv, m, reply, id)
	if err != nil {
		return "", err
	}
	if err := c.sendSMTP(ctx, inbox.SMTP, inbox.Address, reply.To, raw); err != nil {
		return "", err
	}
	if inbox.IMAP != nil && inbox.IMAP.SentMailbox != "" {
		// The mail is sent: a failed copy must not make the job send it again.
		if err := c.appendSent(ctx, inbox.IMAP, raw, m.CreatedAt); err != nil {
			c.log.Warn("append reply to the Sent folder", "inbox_id", inbox.ID, "message_id", m.ID, "error", err)
		}
	}
	return id, nil
}

// Compose builds the reply: From "<agent> via <inbox>", Reply-To the inbox,
// Subject "Re: <conversation subject>", In-Reply-To and References to the
// thread, and a text and an HTML part.
func Compose(inbox parley.InboxConfig, conv parley.Conversation, m parley.Message, reply Reply, id string) ([]byte, error) {
	var h mail.Header
	date := m.CreatedAt
	if date.IsZero() {
		date = time.Now()
	}
	h.SetDate(date)
	name := inbox.Name
	if m.Sender.Name != "" {
		name = m.Sender.Name + " via " + inbox.Name
	}
	h.SetAddressList("From", []*mail.Address{{Name: name, Address: inbox.Address}})
	h.SetAddressList("Reply-To", []*mail.Address{{Name: inbox.Name, Address: inbox.Address}})
	h.SetAddressList("To", []*mail.Address{{Address: reply.To}})
	h.SetSubject(replySubject(conv.Subject))
	h.SetMessageID(id)
	refs := slicesWithout(reply.MessageIDs, id)
	if len(refs) > maxReferences {
		refs = append(refs[:1:1], refs[len(refs)-maxReferences+1:]...)
	}
	inReplyTo := reply.InReplyTo
	if inReplyTo == "" && len(refs) > 0 {
		inReplyTo = refs[len(refs)-1]
	}
	if inReplyTo != "" {
		h.SetMsgIDList("In-Reply-To", []string{inReplyTo})
	}
	if len(refs) > 0 {
		h.SetMsgIDList("References", refs)
	}
	h.Set("X-Parley-Conversation", strconv.FormatInt(conv.ID, 10))
	var buf bytes.Buffer
	w, err := mail.CreateInlineWriter(&buf, h)
	if err != nil {
		return nil, fmt.Errorf("compose email: %w", err)
	}
	for _, part := range []struct{ typ, body string }{
		{"text/plain", m.Body},
		{"text/html", textToHTML(m.Body)},
	} {
		var ph mail.InlineHeader
		ph.SetContentType(part.typ, map[string]string{"charset": "utf-8"})
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		pw, err := w.CreatePart(ph)
		if err != nil {
			return nil, fmt.Errorf("compose email: %w", err)
		}
		if _, err := pw.Write([]byte(part.body)); err != nil {
			return nil, err
		}
		if err := pw.Close(); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compose email: %w", err)
	}
	return buf.Bytes(), nil
}

func slicesWithout(ss []string, x string) []string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		if s != x {
			out = append(out, s)
		}
	}
	return out
}

func replySubject(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || s == "(no subject)" {
		return "Re: your message"
	}
	if l := strings.ToLower(s); strings.HasPrefix(l, "re:") || strings.HasPrefix(l, "re：") {
		return s
	}
	return "Re: " + s
}

// textToHTML renders an agent's plain text as escaped HTML paragraphs.
func textToHTML(s string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html><html><body>")
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(p), "\n", "<br>"))
		b.WriteString("</p>")
	}
	b.WriteString("</body></html>")
	return b.String()
}

// sendSMTP submits one mail over TLS, STARTTLS or plain SMTP, authenticating
// with PLAIN (or LOGIN, which Outlook offers) when a username is set.
func (c *Channel) sendSMTP(ctx context.Context, s *parley.MailServer, from, to string, raw []byte) error {
	addr := net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
	d := &net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	conn.SetDeadline(deadline)
	var cl *smtp.Client
	switch s.Security {
	case "tls":
		cl = smtp.NewClient(tls.Client(conn, c.tlsConfig(s.Host)))
	case "starttls":
		if cl, err = smtp.NewClientStartTLS(conn, c.tlsConfig(s.Host)); err != nil {
			conn.Close()
			return fmt.Errorf("starttls with %s: %w", addr, err)
		}
	default:
		cl = smtp.NewClient(conn)
	}
	defer cl.Close()
	if err := cl.Hello(domainOf(from)); err != nil {
		return fmt.Errorf("hello %s: %w", addr, err)
	}
	if s.Username != "" {
		var auth sasl.Client
		if !cl.SupportsAuth("PLAIN") && cl.SupportsAuth("LOGIN") {
			auth = sasl.NewLoginClient(s.Username, s.Password)
		} else {
			auth = sasl.NewPlainClient("", s.Username, s.Password)
		}
		if err := cl.Auth(auth); err != nil {
			return fmt.Errorf("authenticate to %s as %s: %w", addr, s.Username, err)
		}
	}
	if err := cl.SendMail(from, []string{to}, bytes.NewReader(raw)); err != nil {
		return fmt.Errorf("send mail through %s: %w", addr, err)
	}
	return cl.Quit()
}

// appendSent stores a copy of a sent mail in the IMAP Sent folder, seen.
func (c *Channel) appendSent(ctx context.Context, s *parley.MailServer, raw []byte, at time.Time) error {
	cl, err := c.dialIMAP(s, nil)
	if err != nil {
		return err
	}
	defer cl.Close()
	stop := context.AfterFunc(ctx, func() { cl.Close() })
	defer stop()
	cmd := cl.Append(s.SentMailbox, int64(len(raw)), &imap.AppendOptions{Flags: []imap.Flag{imap.FlagSeen}, Time: at})
	if _, err := cmd.Write(raw); err != nil {
		cmd.Close()
		return fmt.Errorf("append to %s: %w", s.SentMailbox, err)
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("append to %s: %w", s.SentMailbox, err)
	}
	if _, err := cmd.Wait(); err != nil {
		return fmt.Errorf("append to %s: %w", s.SentMailbox, err)
	}
	return cl.Logout().Wait()
}
