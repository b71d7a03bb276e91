package email

import (
	"fmt"
	"strings"

	"github.com/parleyhq/parley"
)

// Body is what the agent reads: a note when the message could not be parsed
// completely, what the sender wrote (quoted history trimmed), and a note per
// refused attachment. It is valid UTF-8, never blank and at most
// parley.MaxBodyBytes long; the full text, the HTML and the raw message are
// kept beside it.
func (e *Email) Body() string {
	var head, tail []string
	if p := e.ParseError(); p != "" {
		head = append(head, "[Parley: this email could not be read completely ("+truncate(p, 300)+"). The original message is kept.]")
	}
	if e.Bounce != nil {
		head = append(head, "[Parley: delivery status notification — "+e.Bounce.Reason()+"]")
	}
	for _, f := range e.Attachments {
		if f.Refused != "" {
			tail = append(tail, fmt.Sprintf("[Parley: attachment %q (%s, %s) was refused: %s.]", f.Name, f.ContentType, humanSize(f.Size), f.Refused))
		}
	}
	text := e.Fresh
	if strings.TrimSpace(text) == "" {
		text = e.Text
	}
	if strings.TrimSpace(text) == "" {
		if len(e.Attachments) > 0 {
			text = "(no text; see the attachments)"
		} else {
			text = "(empty message)"
		}
	}
	prefix := strings.Join(head, "\n")
	if prefix != "" {
		prefix += "\n\n"
	}
	suffix := strings.Join(tail, "\n")
	if suffix != "" {
		suffix = "\n\n" + suffix
	}
	const more = "\n[… the rest of this email is kept but not shown]"
	room := parley.MaxBodyBytes - len(prefix) - len(suffix)
	if room < 1024 {
		prefix, suffix = truncate(prefix, 1024), truncate(suffix, 1024)
		room = parley.MaxBodyBytes - len(prefix) - len(suffix)
	}
	if len(text) > room {
		text = truncate(text, room-len(more)) + more
	}
	return valid(prefix + text + suffix)
}

// NoRouting reports whether the message is stored without routing work:
// auto-replies, bulk mail, delivery and read reports.
func (e *Email) NoRouting() bool {
	return e.AutoReply || e.Report != "" || e.Bounce != nil
}

// Identity is the sender as a customer identity. A message without a
// readable sender gets an identity of its own, so unknown senders are never
// merged into one customer.
func (e *Email) Identity() parley.Identity {
	addr := e.From.Addr
	if addr == "" || len(addr) > 320 {
		addr = "unknown-" + e.Hash[:16] + "@invalid"
	}
	return parley.Identity{Channel: parley.ChannelEmail, Address: addr}
}

// Inbound is the message as Parley's normalised inbound message (without
// threading, which needs the store).
func (e *Email) Inbound(inboxID int64) parley.Inbound {
	var files []parley.Attachment
	for _, f := range e.Attachments {
		files = append(files, parley.Attachment{Name: f.Name, ContentType: f.ContentType, Size: f.Size, Refused: f.Refused})
	}
	subject := e.Subject
	if subject == "" {
		subject = "(no subject)"
	}
	name := e.From.Name
	if name == "" {
		name = e.From.Addr
	}
	return parley.Inbound{
		InboxID:      inboxID,
		Identity:     e.Identity(),
		DedupeKey:    e.DedupeKey(),
		Body:         e.Body(),
		Attachments:  files,
		CustomerName: truncate(name, 200),
		Subject:      truncate(subject, 500),
		NoRouting:    e.NoRouting(),
	}
}

// threadIDs lists the Message-IDs a message answers, most specific first:
// In-Reply-To, then References from the newest.
func (e *Email) threadIDs() []string {
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range e.InReplyTo {
		add(id)
	}
	for i := len(e.References) - 1; i >= 0; i-- {
		add(e.References[i])
	}
	return out
}

// normSubject strips reply and forward prefixes for comparing subjects.
func normSubject(s string) string {
	s = strings.TrimSpace(s)
	for {
		l := strings.ToLower(s)
		cut := false
		for _, p := range []string{"re:", "re：", "fw:", "fwd:", "aw:", "wg:", "sv:", "antw:", "回复:", "回复：", "答复:", "答复：", "回覆:", "回覆：", "转发:", "转发：", "轉寄:"} {
			if strings.HasPrefix(l, p) {
				s = strings.TrimSpace(s[len(p):])
				cut = true
				break
			}
		}
		if !cut {
			return strings.ToLower(strings.Join(strings.Fields(s), " "))
		}
	}
}
