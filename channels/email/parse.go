package email

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime"
	"net/mail"
	"path"
	"regexp"
	"strings"
	"time"
)

// DefaultMaxAttachmentBytes is the attachment size limit when none is set.
const DefaultMaxAttachmentBytes = 10 << 20

// maxIDLen bounds a Message-ID we keep; longer ones are hashed.
const maxIDLen = 900

// ParseOptions tune parsing.
type ParseOptions struct {
	// MaxAttachmentBytes refuses larger attachments (recorded, not kept).
	MaxAttachmentBytes int64
}

// Address is a mailbox: a display name and a lower-cased address.
type Address struct {
	Name, Addr string
}

// File is an attachment (or an inline image).
type File struct {
	Name        string
	ContentType string
	Size        int64
	// Data is nil when the file was refused.
	Data []byte
	// Refused says why the file was not kept ("" when kept).
	Refused string
	Inline  bool
}

// Bounce is what a delivery status notification says about one of our mails.
type Bounce struct {
	// OriginalMessageID is the Message-ID of the mail that bounced.
	OriginalMessageID string
	Recipient         string
	Action            string // failed, delayed, delivered, relayed, expanded
	Status            string // e.g. 5.2.2
	Diagnostic        string
}

// Failed reports whether the mail was not delivered (and will not be).
func (b Bounce) Failed() bool {
	return strings.EqualFold(b.Action, "failed") || strings.HasPrefix(b.Status, "5")
}

// Reason is a one-line explanation for the agent.
func (b Bounce) Reason() string {
	parts := []string{}
	if b.Status != "" {
		parts = append(parts, b.Status)
	}
	if b.Recipient != "" {
		parts = append(parts, b.Recipient)
	}
	if b.Diagnostic != "" {
		parts = append(parts, b.Diagnostic)
	}
	if len(parts) == 0 {
		return "bounced"
	}
	return truncate("bounced: "+strings.Join(parts, " — "), 500)
}

// Email is a parsed message. Parse never fails: what it could not read is
// listed in Problems and the rest is filled as well as possible.
type Email struct {
	MessageID  string
	InReplyTo  []string
	References []string
	From       Address
	ReplyTo    Address
	Subject    string
	Date       time.Time
	// Text is the plain text (HTML converted when there is no plain part),
	// quoted history included; Fresh is what the sender wrote above it.
	Text, Fresh string
	// HTML is the sanitised HTML part ("" when none).
	HTML        string
	Attachments []File
	// AutoReply is set for Auto-Submitted, X-Autoreply and bulk mail.
	AutoReply bool
	// Report is the report-type of a multipart/report (delivery-status,
	// disposition-notification).
	Report string
	Bounce *Bounce
	// Problems lists what could not be parsed.
	Problems []string
	// Hash is the SHA-256 of the raw message.
	Hash string
}

// ParseError is the problems joined for display ("" when none).
func (e *Email) ParseError() string {
	return strings.Join(e.Problems, "; ")
}

// DedupeKey identifies the message in its inbox: its Message-ID, or a hash
// of its content when it has none.
func (e *Email) DedupeKey() string {
	if e.MessageID != "" {
		return "mid:" + e.MessageID
	}
	return "sha256:" + e.Hash
}

type walker struct {
	opt      ParseOptions
	e        *Email
	plain    []string
	html     []string
	leaves   int
	charsets []string
}

// Parse reads a raw RFC 5322 message.
func Parse(raw []byte, opt ParseOptions) (e *Email) {
	if opt.MaxAttachmentBytes <= 0 {
		opt.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	sum := sha256.Sum256(raw)
	e = &Email{Hash: hex.EncodeToString(sum[:])}
	defer func() {
		if r := recover(); r != nil {
			e.Problems = append(e.Problems, fmt.Sprintf("parser failure: %v", r))
			if e.Text == "" {
				e.Text = noNUL(tidyText(detect(raw)))
				e.Fresh = e.Text
			}
		}
	}()
	h, body, probs := splitHeader(raw)
	e.Problems = append(e.Problems, probs...)
	if len(h) == 0 {
		e.Problems = append(e.Problems, "no header fields")
	}
	w := &walker{opt: opt, e: e}
	w.walk(h, body, 0, false)
	hint := ""
	if len(w.charsets) > 0 {
		hint = w.charsets[0]
	}
	e.readHeader(h, hint)

	switch {
	case len(w.plain) > 0:
		e.Text = tidyText(strings.Join(w.plain, "\n\n"))
	case len(w.html) > 0:
		e.Text = htmlToText(strings.Join(w.html, "\n"))
	}
	if len(w.html) > 0 {
		e.HTML = sanitizeHTML(strings.Join(w.html, "\n"))
	}
	e.Text = noNUL(e.Text)
	e.HTML = noNUL(e.HTML)
	e.Fresh, _ = trimQuoted(e.Text)
	e.Problems = dedupe(e.Problems)
	return e
}

var (
	bracketID   = regexp.MustCompile(`<([^<>\s]+)>`)
	quotedMsgID = regexp.MustCompile(`(?im)^\s*Message-ID:\s*(<[^<>\s]+>)`)
	bareAddr    = regexp.MustCompile(`[^\s<>"',;:()\[\]]+@[^\s<>"',;:()\[\]]+`)
)

func (e *Email) readHeader(h header, hint string) {
	e.Subject = decodeHeaderText(h.get("Subject"), hint)
	e.From = parseAddress(h.get("From"), hint)
	if e.From.Addr == "" {
		for _, k := range []string{"Sender", "Reply-To", "Return-Path"} {
			if a := parseAddress(h.get(k), hint); a.Addr != "" {
				e.From = Address{Name: e.From.Name, Addr: a.Addr}
				break
			}
		}
	}
	if e.From.Addr == "" && h.get("From") != "" {
		e.Problems = append(e.Problems, "unreadable From address")
	}
	e.ReplyTo = parseAddress(h.get("Reply-To"), hint)
	if ids := msgIDs(h.get("Message-ID")); len(ids) > 0 {
		e.MessageID = ids[0]
	}
	e.InReplyTo = msgIDs(h.get("In-Reply-To"))
	e.References = msgIDs(h.get("References"))
	if len(e.References) > 100 {
		e.References = append(e.References[:1], e.References[len(e.References)-99:]...)
	}
	if d := h.get("Date"); d != "" {
		if t, err := mail.ParseDate(d); err == nil {
			e.Date = t
		}
	}
	auto := strings.ToLower(h.get("Auto-Submitted"))
	if auto != "" && !strings.HasPrefix(auto, "no") {
		e.AutoReply = true
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponder"} {
		if v := strings.ToLower(h.get(k)); h.has(k) && v != "no" && v != "false" {
			e.AutoReply = true
		}
	}
	switch strings.ToLower(h.get("Precedence")) {
	case "bulk", "junk", "list", "auto_reply":
		e.AutoReply = true
	}
	if e.Bounce != nil && e.Bounce.OriginalMessageID == "" {
		// Some DSNs quote only the original's headers in the text part.
		if m := quotedMsgID.FindStringSubmatch(e.Text); m != nil {
			e.Bounce.OriginalMessageID = normID(m[1])
		}
	}
}

// msgIDs extracts Message-IDs (without angle brackets).
func msgIDs(v string) []string {
	var out []string
	for _, m := range bracketID.FindAllStringSubmatch(v, -1) {
		if id := normID(m[1]); id != "" {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		for _, tok := range strings.Fields(v) {
			if strings.Contains(tok, "@") {
				if id := normID(tok); id != "" {
					out = append(out, id)
				}
			}
		}
	}
	return out
}

func normID(s string) string {
	s = strings.Trim(strings.TrimSpace(s), "<>")
	s = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return -1
		}
		return r
	}, valid(s))
	if len(s) > maxIDLen {
		sum := sha256.Sum256([]byte(s))
		s = "long-" + hex.EncodeToString(sum[:])
	}
	return s
}

// parseAddress returns the first mailbox of an address header.
func parseAddress(v, hint string) Address {
	if v == "" {
		return Address{}
	}
	v = decodeRaw8bit(v, hint)
	p := mail.AddressParser{WordDecoder: wordDecoder}
	if list, err := p.ParseList(v); err == nil && len(list) > 0 {
		return Address{Name: cleanLine(list[0].Name), Addr: strings.ToLower(cleanLine(list[0].Address))}
	}
	addr := ""
	if m := bracketID.FindStringSubmatch(v); m != nil && strings.Contains(m[1], "@") {
		addr = m[1]
	} else if m := bareAddr.FindString(v); m != "" {
		addr = m
	}
	name := v
	if i := strings.IndexByte(v, '<'); i >= 0 {
		name = v[:i]
	} else if addr != "" {
		name = ""
	}
	name = strings.Trim(decodeHeaderText(name, hint), `"' `)
	return Address{Name: name, Addr: strings.ToLower(cleanLine(strings.Trim(addr, "<>")))}
}

func (w *walker) walk(h header, body []byte, depth int, inAlternative bool) {
	e := w.e
	ct, params := contentType(h)
	if strings.HasPrefix(ct, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" || depth >= maxDepth {
			e.Problems = append(e.Problems, "multipart without a usable boundary")
			w.leaf(h, "text/plain", params, body, inAlternative)
			return
		}
		parts, problem := splitMultipart(body, boundary)
		if problem != "" {
			e.Problems = append(e.Problems, problem)
		}
		if len(parts) == 0 {
			w.leaf(h, "text/plain", params, body, inAlternative)
			return
		}
		if ct == "multipart/report" {
			e.Report = truncate(cleanLine(strings.ToLower(params["report-type"])), 100)
		}
		alt := ct == "multipart/alternative"
		for _, p := range parts {
			ph, pb, probs := splitHeader(p)
			if len(probs) > 0 {
				e.Problems = append(e.Problems, probs...)
			}
			w.walk(ph, pb, depth+1, alt || inAlternative)
		}
		return
	}
	w.leaf(h, ct, params, body, inAlternative)
}

func (w *walker) leaf(h header, ct string, params map[string]string, body []byte, inAlternative bool) {
	e := w.e
	w.leaves++
	if w.leaves > maxParts {
		if w.leaves == maxParts+1 {
			e.Problems = append(e.Problems, "too many parts; the rest were skipped")
		}
		return
	}
	data, problem := decodeTransfer(h.get("Content-Transfer-Encoding"), body)
	if problem != "" {
		e.Problems = append(e.Problems, problem)
	}
	disp, dparams := parseMediaHeader(h.get("Content-Disposition"), "")
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = fileName(decodeHeaderText(name, params["charset"]))
	switch ct {
	case "message/delivery-status":
		e.Bounce = mergeBounce(e.Bounce, parseDSN(data))
		return
	case "text/rfc822-headers", "message/rfc822-headers":
		w.original(data)
		return
	case "message/rfc822", "message/global":
		if e.Report == "delivery-status" {
			w.original(data)
		}
		if name == "" {
			name = "message.eml"
		}
	}
	isBody := (ct == "text/plain" || ct == "text/html") && disp != "attachment" && (name == "" || disp == "inline")
	if isBody {
		if cs, ok := params["charset"]; ok {
			w.charsets = append(w.charsets, cs)
		}
		text, problem := decodeCharset(params["charset"], data)
		if problem != "" {
			e.Problems = append(e.Problems, problem)
		}
		if ct == "text/html" {
			w.html = append(w.html, text)
		} else {
			w.plain = append(w.plain, text)
		}
		return
	}
	if inAlternative && strings.HasPrefix(ct, "text/") && name == "" {
		return // another rendering of the body (text/enriched, ...)
	}
	if name == "" {
		name = fmt.Sprintf("attachment-%d%s", len(e.Attachments)+1, extension(ct))
	}
	f := File{Name: name, ContentType: truncate(cleanLine(ct), 255), Size: int64(len(data)), Inline: disp == "inline" || h.get("Content-ID") != ""}
	if f.Size > w.opt.MaxAttachmentBytes {
		f.Refused = fmt.Sprintf("larger than the %s limit", humanSize(w.opt.MaxAttachmentBytes))
	} else {
		f.Data = data
	}
	e.Attachments = append(e.Attachments, f)
}

// original reads the Message-ID of the bounced mail from its quoted header.
func (w *walker) original(data []byte) {
	h, _, _ := splitHeader(data)
	if ids := msgIDs(h.get("Message-ID")); len(ids) > 0 {
		if w.e.Bounce == nil {
			w.e.Bounce = &Bounce{}
		}
		if w.e.Bounce.OriginalMessageID == "" {
			w.e.Bounce.OriginalMessageID = ids[0]
		}
	}
}

// parseDSN reads a message/delivery-status body: the per-message fields,
// then per-recipient blocks; the first recipient that failed wins.
func parseDSN(data []byte) *Bounce {
	b := &Bounce{}
	var cur Bounce
	flush := func() {
		if cur.Action == "" && cur.Status == "" {
			return
		}
		if b.Action == "" || (!b.Failed() && cur.Failed()) {
			orig := b.OriginalMessageID
			*b = cur
			b.OriginalMessageID = orig
		}
		cur = Bounce{}
	}
	for _, line := range strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = cleanLine(v)
		switch strings.ToLower(strings.TrimSpace(k)) {
		case "action":
			cur.Action = strings.ToLower(v)
		case "status":
			if f := strings.Fields(v); len(f) > 0 {
				cur.Status = f[0]
			}
		case "final-recipient", "original-recipient":
			if cur.Recipient == "" {
				_, addr, found := strings.Cut(v, ";")
				if !found {
					addr = v
				}
				cur.Recipient = strings.ToLower(strings.TrimSpace(addr))
			}
		case "diagnostic-code":
			_, diag, found := strings.Cut(v, ";")
			if !found {
				diag = v
			}
			cur.Diagnostic = truncate(strings.TrimSpace(diag), 300)
		}
	}
	flush()
	return b
}

func mergeBounce(old, b *Bounce) *Bounce {
	if old != nil && b.OriginalMessageID == "" {
		b.OriginalMessageID = old.OriginalMessageID
	}
	return b
}

// fileName keeps the base name of an attachment, without path or controls.
func fileName(s string) string {
	s = strings.ReplaceAll(s, `\`, "/")
	s = path.Base(s)
	if s == "." || s == "/" || s == ".." {
		return ""
	}
	return truncate(cleanLine(s), 255)
}

func extension(ct string) string {
	if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
		return exts[0]
	}
	switch ct {
	case "message/rfc822":
		return ".eml"
	case "text/plain":
		return ".txt"
	}
	return ".bin"
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !isRuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// noNUL drops NUL characters, which PostgreSQL text cannot hold.
func noNUL(s string) string { return strings.ReplaceAll(s, "\x00", "") }

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
