package email

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
)

// Limits that keep a hostile message from costing much.
const (
	maxDepth      = 16  // nested multiparts
	maxParts      = 500 // leaf parts per message
	maxHeaderSize = 256 << 10
)

// field is one header field, its value raw (unfolded, undecoded).
type field struct {
	Key, Value string
}

// header is a leniently parsed header block.
type header []field

// get returns the first value of key (case-insensitive), trimmed.
func (h header) get(key string) string {
	for _, f := range h {
		if strings.EqualFold(f.Key, key) {
			return strings.TrimSpace(f.Value)
		}
	}
	return ""
}

func (h header) has(key string) bool {
	for _, f := range h {
		if strings.EqualFold(f.Key, key) {
			return true
		}
	}
	return false
}

// splitHeader separates a header block from the body and parses it
// leniently: a continuation with nothing to continue, a line without a colon
// and an empty field name are skipped and reported; CRLF, LF and mixed line
// endings are accepted. A message with no blank line is all header.
func splitHeader(raw []byte) (h header, body []byte, problems []string) {
	rest := raw
	var cur *field
	var cont []string // continuation lines of cur
	skipped := 0
	flush := func() {
		if cur != nil && len(cont) > 0 {
			cur.Value = strings.Join(append([]string{cur.Value}, cont...), " ")
		}
		cur, cont = nil, nil
	}
	defer flush()
	for len(rest) > 0 {
		line, next, _ := bytes.Cut(rest, []byte("\n"))
		if len(next) == 0 && !bytes.HasSuffix(rest, []byte("\n")) {
			next = nil
		}
		rest = next
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			flush()
			return h, rest, problems
		}
		if len(raw)-len(rest) > maxHeaderSize {
			problems = append(problems, "header block too large")
			return h, rest, problems
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur != nil {
				cont = append(cont, strings.TrimSpace(string(line)))
			} else {
				skipped++
			}
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		key := strings.TrimSpace(string(k))
		flush()
		if !ok || key == "" {
			skipped++
			continue
		}
		h = append(h, field{Key: key, Value: strings.TrimSpace(string(v))})
		cur = &h[len(h)-1]
	}
	if skipped > 0 {
		problems = append(problems, "malformed header lines skipped")
	}
	return h, nil, problems
}

// contentType returns the lower-cased media type and its parameters
// (parameter names lower-cased), defaulting to text/plain.
func contentType(h header) (string, map[string]string) {
	return parseMediaHeader(h.get("Content-Type"), "text/plain")
}

func parseMediaHeader(v, def string) (string, map[string]string) {
	if v == "" {
		return def, map[string]string{}
	}
	t, params, err := mime.ParseMediaType(v)
	if err != nil {
		// Lenient fallback: "type/sub; a = b; c="d"".
		params = map[string]string{}
		parts := strings.Split(v, ";")
		t = strings.ToLower(strings.TrimSpace(parts[0]))
		for _, p := range parts[1:] {
			k, val, ok := strings.Cut(p, "=")
			if !ok {
				continue
			}
			k = strings.ToLower(strings.TrimSpace(k))
			val = strings.Trim(strings.TrimSpace(val), `"`)
			if k != "" {
				params[k] = val
			}
		}
	}
	if t == "" || !strings.Contains(t, "/") {
		if def != "" {
			t = def
		}
	}
	return strings.ToLower(t), params
}

// decodeTransfer undoes a Content-Transfer-Encoding, leniently: unknown
// encodings and broken data leave the bytes as they are (problem reported).
func decodeTransfer(enc string, body []byte) ([]byte, string) {
	switch strings.ToLower(strings.TrimSpace(enc)) {
	case "base64":
		return decodeBase64(body)
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil {
			return lenientQP(body), ""
		}
		return out, ""
	case "", "7bit", "8bit", "binary":
		return body, ""
	default:
		return body, "unknown transfer encoding " + strings.TrimSpace(enc)
	}
}

// decodeBase64 ignores characters outside the alphabet and missing padding.
func decodeBase64(body []byte) ([]byte, string) {
	clean := make([]byte, 0, len(body))
	for _, c := range body {
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/':
			clean = append(clean, c)
		case c == '=':
			// padding: stop at the first one
			goto done
		}
	}
done:
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out, err := base64.RawStdEncoding.DecodeString(string(clean))
	if err != nil {
		return body, "invalid base64"
	}
	return out, ""
}

// lenientQP decodes quoted-printable, keeping malformed escapes as they are.
func lenientQP(body []byte) []byte {
	var out bytes.Buffer
	for i := 0; i < len(body); i++ {
		c := body[i]
		if c != '=' {
			out.WriteByte(c)
			continue
		}
		if i+1 < len(body) && body[i+1] == '\n' {
			i++
			continue
		}
		if i+2 < len(body) && body[i+1] == '\r' && body[i+2] == '\n' {
			i += 2
			continue
		}
		if i+2 < len(body) && isHex(body[i+1]) && isHex(body[i+2]) {
			out.WriteByte(unhex(body[i+1])<<4 | unhex(body[i+2]))
			i += 2
			continue
		}
		out.WriteByte(c)
	}
	return out.Bytes()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// splitMultipart cuts a multipart body at its boundary lines. A missing
// closing delimiter ends the last part at the end of the data (reported).
func splitMultipart(body []byte, boundary string) (parts [][]byte, problem string) {
	delim := []byte("--" + boundary)
	var cur []byte
	inPart, closed := false, false
	start := 0
	rest := body
	pos := 0
	for len(rest) > 0 {
		line, next, found := bytes.Cut(rest, []byte("\n"))
		lineStart := pos
		pos += len(line)
		if found {
			pos++
		}
		rest = next
		if !found {
			rest = nil
		}
		t := bytes.TrimRight(line, " \t\r")
		if bytes.HasPrefix(t, delim) {
			tail := t[len(delim):]
			if len(tail) == 0 || bytes.Equal(tail, []byte("--")) {
				if inPart {
					cur = body[start:trimEOL(body, lineStart)]
					parts = append(parts, cur)
				}
				if len(tail) == 2 {
					closed = true
					break
				}
				inPart = true
				start = pos
				continue
			}
		}
	}
	if !closed {
		if inPart && start <= len(body) {
			parts = append(parts, body[start:])
		}
		problem = "multipart body without closing boundary"
		if len(parts) == 0 {
			problem = "multipart body without any boundary"
		}
	}
	return parts, problem
}

// trimEOL returns the index before the line break that precedes i.
func trimEOL(b []byte, i int) int {
	if i > 0 && b[i-1] == '\n' {
		i--
		if i > 0 && b[i-1] == '\r' {
			i--
		}
	}
	return i
}
