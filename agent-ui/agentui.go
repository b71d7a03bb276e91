// Package agentui serves the agent console, the embeddable web-chat widget
// and the demo page. The files are embedded with go:embed and need no build
// step: modern JavaScript modules, one stylesheet and an html/template.
//
// Mount Handler without stripping prefixes, for example:
//
//	ui, err := agentui.New()
//	mux.Handle("/console/", ui.Handler())
//	mux.Handle("/assets/", ui.Handler())
//	mux.Handle("GET /widget.js", ui.Handler())
package agentui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
)

//go:embed static templates
var files embed.FS

// UI holds the parsed templates and the static files with their ETags.
type UI struct {
	assets map[string]*asset // by path below static/, e.g. "console.js"
	index  *asset
	widget *asset
	demo   *template.Template
	// softphoneOrigin is the origin of the Twilio Voice JS SDK when the
	// browser softphone is configured (AllowSoftphone).
	softphoneOrigin string
}

// AllowSoftphone lets the console load the Twilio Voice JS SDK from sdkURL's
// origin and reach Twilio's voice servers (the browser softphone).
func (u *UI) AllowSoftphone(sdkURL string) {
	if p, err := url.Parse(sdkURL); err == nil && (p.Scheme == "https" || p.Scheme == "http") && validHost(p.Host) {
		u.softphoneOrigin = p.Scheme + "://" + p.Host
	}
}

// Demo is the data of the demo page.
type Demo struct {
	InboxID string // web-chat inbox the embedded widget talks to
	Title   string // page title; empty for the translated default
}

type asset struct {
	name        string
	body        []byte
	contentType string
	etag        string
}

var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".json": "application/json",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".txt":  "text/plain; charset=utf-8",
}

// New reads the embedded files once, computing each one's ETag, and parses
// the demo template.
func New() (*UI, error) {
	static, err := fs.Sub(files, "static")
	if err != nil {
		return nil, fmt.Errorf("agentui: static files: %w", err)
	}
	u := &UI{assets: make(map[string]*asset)}
	err = fs.WalkDir(static, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			return fmt.Errorf("no content type for %s", name)
		}
		body, err := fs.ReadFile(static, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		u.assets[name] = &asset{
			name:        name,
			body:        body,
			contentType: ct,
			etag:        `"` + hex.EncodeToString(sum[:16]) + `"`,
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("agentui: read static files: %w", err)
	}
	if u.index = u.assets["index.html"]; u.index == nil {
		return nil, fmt.Errorf("agentui: static/index.html is missing")
	}
	if u.widget = u.assets["widget.js"]; u.widget == nil {
		return nil, fmt.Errorf("agentui: static/widget.js is missing")
	}
	u.demo, err = template.ParseFS(files, "templates/demo.html")
	if err != nil {
		return nil, fmt.Errorf("agentui: parse demo template: %w", err)
	}
	return u, nil
}

// Handler serves GET (and HEAD) /console/ and every extension-less path
// below it (the console's index.html, which routes on the client),
// /assets/<file> and /widget.js. Responses carry an ETag, Cache-Control:
// no-cache and honour If-None-Match.
func (u *UI) Handler() http.Handler {
	return http.HandlerFunc(u.serveHTTP)
}

func (u *UI) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	var a *asset
	switch {
	case p == "/widget.js":
		a = u.widget
	case strings.HasPrefix(p, "/assets/"):
		a = u.assets[strings.TrimPrefix(p, "/assets/")]
	case p == "/console":
		if !allowMethod(w, r) {
			return
		}
		target := "/console/"
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusMovedPermanently)
		return
	case strings.HasPrefix(p, "/console/") && path.Ext(p) == "":
		a = u.index
	}
	if a == nil {
		http.NotFound(w, r)
		return
	}
	if !allowMethod(w, r) {
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	switch a {
	case u.index:
		h.Set("Content-Security-Policy", consoleCSP(r.Host, u.softphoneOrigin))
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
	case u.widget:
		// The widget runs on other sites' pages.
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	}
	// ServeContent answers If-None-Match (304), HEAD and Range requests.
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}

func allowMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	return false
}

// consoleCSP allows the console's own scripts, styles and API (plus, when
// configured, the Twilio Voice SDK and Twilio's voice servers). The
// WebSocket is named explicitly because older browsers do not let 'self'
// cover ws: and wss:.
func consoleCSP(host, softphoneOrigin string) string {
	connect, script := "'self'", "'self'"
	if validHost(host) {
		connect += " ws://" + host + " wss://" + host
	}
	if softphoneOrigin != "" {
		// The Twilio Voice SDK: its script, Twilio's signalling and event
		// servers.
		script += " " + softphoneOrigin
		connect += " https://*.twilio.com wss://*.twilio.com"
	}
	// Media: call recordings and voicemails are played from Twilio.
	return "default-src 'self'; script-src " + script + "; style-src 'self'; img-src 'self' data: https:; media-src 'self' https:; " +
		"connect-src " + connect + "; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}

func validHost(host string) bool {
	if host == "" || len(host) > 255 {
		return false
	}
	for _, c := range host {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)
		if !ok {
			return false
		}
	}
	return true
}

// Demo renders the demo page ("Acme Cloud — support") with the widget
// embedded for d.InboxID.
func (u *UI) Demo(w io.Writer, d Demo) error {
	if err := u.demo.Execute(w, d); err != nil {
		return fmt.Errorf("agentui: render demo page: %w", err)
	}
	return nil
}
