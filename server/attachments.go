package server

import (
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
)

// handleAttachment streams a stored attachment of an imported email to a
// user who may see the message's conversation. Unknown and refused
// attachments are not found.
func (s *Server) handleAttachment() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "message")
		if err != nil {
			return err
		}
		index, err := strconv.Atoi(r.PathValue("index"))
		if err != nil || index < 0 {
			return parley.Errorf(parley.ENOTFOUND, "attachment %q not found.", r.PathValue("index"))
		}
		if err := s.checkMessageVisible(r, id); err != nil {
			return err
		}
		a, err := s.DB.EmailAttachmentFile(r.Context(), id, index)
		if err != nil {
			return err
		}
		ct := a.ContentType
		if ct == "" || strings.ContainsAny(ct, "\r\n") {
			ct = "application/octet-stream"
		}
		h := w.Header()
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(a.Data)))
		h.Set("Content-Disposition", contentDisposition(a.Name))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		h.Set("Cache-Control", "private, no-store")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(a.Data)
		return nil
	})
}

// checkMessageVisible returns ENOTFOUND unless the user may see the
// conversation of message id.
func (s *Server) checkMessageVisible(r *http.Request, id int64) error {
	m, err := s.DB.Message(r.Context(), id)
	if err != nil {
		return err
	}
	if _, err := s.conversationFor(r.Context(), agentFrom(r.Context()), web.IDString(m.ConversationID)); err != nil {
		if parley.ErrorCode(err) == parley.ENOTFOUND {
			return parley.Errorf(parley.ENOTFOUND, "message %d not found.", id)
		}
		return err
	}
	return nil
}

// emailHTMLPolicy confines the stored (already sanitised) HTML of an email:
// no scripts, no fetches but inline images, a sandboxed document.
const emailHTMLPolicy = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; sandbox"

// handleMessageHTML serves the sanitised HTML of an imported email to a user
// who may see the message's conversation, for the console to frame. A
// message without HTML is not found.
func (s *Server) handleMessageHTML() http.Handler {
	return s.api(func(w http.ResponseWriter, r *http.Request) error {
		id, err := web.ID(r.PathValue("id"), "message")
		if err != nil {
			return err
		}
		if err := s.checkMessageVisible(r, id); err != nil {
			return err
		}
		body, err := s.DB.EmailHTML(r.Context(), id)
		if err != nil {
			return err
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(body)))
		h.Set("Content-Security-Policy", emailHTMLPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "private, no-store")
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Referrer-Policy", "no-referrer")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, body)
		return nil
	})
}

// contentDisposition makes a download of name: an ASCII fallback and the
// exact name RFC 5987 encoded.
func contentDisposition(name string) string {
	if name == "" {
		name = "attachment"
	}
	var ascii strings.Builder
	for _, r := range name {
		if r >= 0x20 && r < 0x7f && r != '"' && r != '\\' && r != '/' {
			ascii.WriteRune(r)
		} else {
			ascii.WriteByte('_')
		}
	}
	const hex = "0123456789ABCDEF"
	var enc strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			enc.WriteByte(c) // RFC 5987 attr-char
		} else {
			enc.WriteByte('%')
			enc.WriteByte(hex[c>>4])
			enc.WriteByte(hex[c&15])
		}
	}
	return `attachment; filename="` + ascii.String() + `"; filename*=UTF-8''` + enc.String()
}
