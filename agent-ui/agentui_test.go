package agentui

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"sort"
	"strings"
	"testing"
)

func newUI(t *testing.T) *UI {
	t.Helper()
	u, err := New()
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return u
}

func get(t *testing.T, h http.Handler, method, target string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestHandlerServesFilesWithContentTypeAndCacheHeaders(t *testing.T) {
	h := newUI(t).Handler()
	tests := []struct {
		path, contentType, contains string
	}{
		{"/console/", "text/html; charset=utf-8", `id="login-email"`},
		{"/console/c/42", "text/html; charset=utf-8", `id="conversation-list"`},
		{"/console/some/deep/route", "text/html; charset=utf-8", `<script type="module"`},
		{"/assets/style.css", "text/css; charset=utf-8", "--color-accent"},
		{"/assets/console.js", "text/javascript; charset=utf-8", "import"},
		{"/assets/i18n.js", "text/javascript; charset=utf-8", "zh-CN"},
		{"/assets/favicon.svg", "image/svg+xml", "<svg"},
		{"/widget.js", "text/javascript; charset=utf-8", "parley-widget"},
	}
	for _, tt := range tests {
		rec := get(t, h, http.MethodGet, tt.path, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: got status %d; want 200", tt.path, rec.Code)
			continue
		}
		if got := rec.Header().Get("Content-Type"); got != tt.contentType {
			t.Errorf("GET %s: got Content-Type %q; want %q", tt.path, got, tt.contentType)
		}
		if got := rec.Header().Get("Cache-Control"); got != "no-cache" {
			t.Errorf("GET %s: got Cache-Control %q; want no-cache", tt.path, got)
		}
		if etag := rec.Header().Get("ETag"); !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(etag) {
			t.Errorf("GET %s: got ETag %q; want a quoted content hash", tt.path, etag)
		}
		if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("GET %s: got X-Content-Type-Options %q; want nosniff", tt.path, got)
		}
		if !strings.Contains(rec.Body.String(), tt.contains) {
			t.Errorf("GET %s: body lacks %q", tt.path, tt.contains)
		}
	}
}

func TestConsoleIndexHasContentSecurityPolicy(t *testing.T) {
	rec := get(t, newUI(t).Handler(), http.MethodGet, "http://parley.test:8080/console/", nil)
	csp := rec.Header().Get("Content-Security-Policy")
	for _, want := range []string{"script-src 'self'", "connect-src 'self' ws://parley.test:8080 wss://parley.test:8080", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("got CSP %q; want it to contain %q", csp, want)
		}
	}
}

func TestETagsAreContentHashesStableAcrossNew(t *testing.T) {
	a, b := newUI(t), newUI(t)
	seen := map[string]string{}
	for name, asset := range a.assets {
		if other := b.assets[name]; other == nil || other.etag != asset.etag {
			t.Errorf("%s: ETag differs between two New calls", name)
		}
		if prev, dup := seen[asset.etag]; dup && !bytes.Equal(a.assets[prev].body, asset.body) {
			t.Errorf("%s and %s: same ETag for different content", prev, name)
		}
		seen[asset.etag] = name
	}
}

func TestHandlerAnswersIfNoneMatchWithNotModified(t *testing.T) {
	h := newUI(t).Handler()
	for _, p := range []string{"/assets/console.js", "/widget.js", "/console/", "/console/c/7"} {
		first := get(t, h, http.MethodGet, p, nil)
		etag := first.Header().Get("ETag")
		for _, inm := range []string{etag, `"nope", ` + etag, "W/" + etag, "*"} {
			rec := get(t, h, http.MethodGet, p, map[string]string{"If-None-Match": inm})
			if rec.Code != http.StatusNotModified {
				t.Errorf("GET %s with If-None-Match %s: got status %d; want 304", p, inm, rec.Code)
			}
			if rec.Body.Len() != 0 {
				t.Errorf("GET %s with If-None-Match %s: got %d body bytes; want none", p, inm, rec.Body.Len())
			}
			if got := rec.Header().Get("ETag"); got != etag {
				t.Errorf("GET %s 304: got ETag %q; want %q", p, got, etag)
			}
		}
		rec := get(t, h, http.MethodGet, p, map[string]string{"If-None-Match": `"something-else"`})
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Errorf("GET %s with a stale ETag: got status %d with %d bytes; want 200 with the file", p, rec.Code, rec.Body.Len())
		}
	}
}

func TestHandlerAnswersHEADWithoutBody(t *testing.T) {
	rec := get(t, newUI(t).Handler(), http.MethodHead, "/assets/style.css", nil)
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD: got status %d with %d bytes; want 200 with none", rec.Code, rec.Body.Len())
	}
}

func TestHandlerUnknownPathsAreNotFound(t *testing.T) {
	h := newUI(t).Handler()
	for _, p := range []string{"/assets/nope.js", "/assets/", "/assets/../agentui.go", "/assets/static/console.js", "/console/missing.js", "/console/c/1/photo.png", "/other", "/widget.css"} {
		if rec := get(t, h, http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: got status %d; want 404", p, rec.Code)
		}
	}
}

func TestHandlerRejectsWritesWithMethodNotAllowed(t *testing.T) {
	h := newUI(t).Handler()
	for _, p := range []string{"/assets/console.js", "/widget.js", "/console/"} {
		rec := get(t, h, http.MethodPost, p, nil)
		if rec.Code != http.StatusMethodNotAllowed {
			t.Errorf("POST %s: got status %d; want 405", p, rec.Code)
		}
		if got := rec.Header().Get("Allow"); got != "GET, HEAD" {
			t.Errorf("POST %s: got Allow %q; want \"GET, HEAD\"", p, got)
		}
	}
}

func TestConsoleWithoutSlashRedirects(t *testing.T) {
	rec := get(t, newUI(t).Handler(), http.MethodGet, "/console?x=1", nil)
	if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/console/?x=1" {
		t.Errorf("GET /console: got %d to %q; want 301 to /console/?x=1", rec.Code, rec.Header().Get("Location"))
	}
}

func TestWidgetIsLoadableFromOtherOrigins(t *testing.T) {
	rec := get(t, newUI(t).Handler(), http.MethodGet, "/widget.js", nil)
	if got := rec.Header().Get("Cross-Origin-Resource-Policy"); got != "cross-origin" {
		t.Errorf("got Cross-Origin-Resource-Policy %q; want cross-origin", got)
	}
	if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "*" {
		t.Errorf("got Access-Control-Allow-Origin %q; want *", got)
	}
}

func TestDemoEscapesInboxID(t *testing.T) {
	u := newUI(t)
	var buf bytes.Buffer
	evil := `"><script>alert(1)</script><x a="`
	if err := u.Demo(&buf, Demo{InboxID: evil, Title: "<b>Acme</b>"}); err != nil {
		t.Fatalf("Demo: %v", err)
	}
	page := buf.String()
	for _, bad := range []string{"<script>alert(1)", `data-inbox=""><`, "<b>Acme</b>"} {
		if strings.Contains(page, bad) {
			t.Errorf("demo page contains unescaped %q", bad)
		}
	}
	if !strings.Contains(page, `data-inbox="&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;x a=&#34;"`) {
		t.Errorf("demo page lacks the escaped inbox id in the widget tag:\n%s", page)
	}
	if !strings.Contains(page, "&lt;b&gt;Acme&lt;/b&gt;") {
		t.Errorf("demo page lacks the escaped title")
	}
}

func TestDemoEmbedsWidgetForInbox(t *testing.T) {
	var buf bytes.Buffer
	if err := newUI(t).Demo(&buf, Demo{InboxID: "17"}); err != nil {
		t.Fatalf("Demo: %v", err)
	}
	page := buf.String()
	for _, want := range []string{`<script src="/widget.js" data-inbox="17" async></script>`, `data-i18n="demo.title">Acme Cloud — support</title>`} {
		if !strings.Contains(page, want) {
			t.Errorf("demo page lacks %q", want)
		}
	}
}

// embeddedFiles returns the embedded files whose names end in ext.
func embeddedFiles(t *testing.T, ext string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(name) != ext {
			return err
		}
		b, err := fs.ReadFile(files, name)
		out[name] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("no embedded %s files", ext)
	}
	return out
}

func TestScriptsNeverParseHTML(t *testing.T) {
	for name, src := range embeddedFiles(t, ".js") {
		for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"} {
			if strings.Contains(src, sink) {
				t.Errorf("%s uses %s; render text with textContent or createTextNode", name, sink)
			}
		}
	}
}

var i18nBlock = regexp.MustCompile(`(?s)/\* i18n:begin \*/(.*?)/\* i18n:end \*/`)

func stringTables(t *testing.T, name, src string) map[string]map[string]string {
	t.Helper()
	m := i18nBlock.FindStringSubmatch(src)
	if m == nil {
		t.Fatalf("%s: no i18n:begin/i18n:end block", name)
	}
	var tables map[string]map[string]string
	if err := json.Unmarshal([]byte(m[1]), &tables); err != nil {
		t.Fatalf("%s: the i18n block is not strict JSON: %v", name, err)
	}
	return tables
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestI18nTablesCoverEveryKeyInBothLanguages(t *testing.T) {
	scripts := embeddedFiles(t, ".js")
	tables := stringTables(t, "i18n.js", scripts["static/i18n.js"])
	en, zh := tables["en"], tables["zh-CN"]
	if len(tables) != 2 || en == nil || zh == nil {
		t.Fatalf("got languages %v; want en and zh-CN", tables)
	}
	for _, k := range keys(en) {
		if v, ok := zh[k]; !ok || strings.TrimSpace(v) == "" {
			t.Errorf("zh-CN lacks %q", k)
		}
		if strings.TrimSpace(en[k]) == "" {
			t.Errorf("en has an empty %q", k)
		}
	}
	for _, k := range keys(zh) {
		if _, ok := en[k]; !ok {
			t.Errorf("en lacks %q (present in zh-CN)", k)
		}
	}

	used := map[string][]string{}
	call := regexp.MustCompile(`\b(?:t|tOr)\(\s*'([^']+)'\s*[,)]`)
	for name, src := range scripts {
		for _, m := range call.FindAllStringSubmatch(src, -1) {
			used[m[1]] = append(used[m[1]], name)
		}
	}
	attr := regexp.MustCompile(`data-i18n(?:-[a-z-]+)?="([^"]*)"`)
	actions := regexp.MustCompile(`\{\{[^}]*\}\}`)
	for name, src := range embeddedFiles(t, ".html") {
		for _, m := range attr.FindAllStringSubmatch(actions.ReplaceAllString(src, ""), -1) {
			used[m[1]] = append(used[m[1]], name)
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d translated keys in use; the scan is broken", len(used))
	}
	for k, where := range used {
		if _, ok := en[k]; !ok {
			t.Errorf("%v use %q, which is not in the i18n table", where, k)
		}
	}
}

func TestWidgetCarriesTheI18nWidgetStrings(t *testing.T) {
	scripts := embeddedFiles(t, ".js")
	shared := stringTables(t, "i18n.js", scripts["static/i18n.js"])
	widget := stringTables(t, "widget.js", scripts["static/widget.js"])
	for _, lang := range []string{"en", "zh-CN"} {
		want := map[string]string{}
		for k, v := range shared[lang] {
			if strings.HasPrefix(k, "widget.") {
				want[k] = v
			}
		}
		got := widget[lang]
		if strings.Join(keys(got), ",") != strings.Join(keys(want), ",") {
			t.Errorf("%s: widget.js has keys %v; i18n.js has %v", lang, keys(got), keys(want))
			continue
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s %s: widget.js says %q; i18n.js says %q", lang, k, got[k], v)
			}
		}
	}
}

func TestWidgetIsAClassicScript(t *testing.T) {
	src := embeddedFiles(t, ".js")["static/widget.js"]
	if regexp.MustCompile(`(?m)^\s*(import|export)\b`).MatchString(src) {
		t.Error("widget.js uses import/export; it must run as a classic script on foreign pages")
	}
}

func TestPagesReferenceEmbeddedAssets(t *testing.T) {
	u := newUI(t)
	ref := regexp.MustCompile(`(?:src|href)="/assets/([^"]+)"|from '\./([^']+)'`)
	for name, src := range embeddedFiles(t, ".html") {
		for _, m := range ref.FindAllStringSubmatch(src, -1) {
			if u.assets[m[1]] == nil {
				t.Errorf("%s refers to /assets/%s, which is not embedded", name, m[1])
			}
		}
	}
	for name, src := range embeddedFiles(t, ".js") {
		for _, m := range ref.FindAllStringSubmatch(src, -1) {
			if u.assets[m[2]] == nil {
				t.Errorf("%s imports ./%s, which is not embedded", name, m[2])
			}
		}
	}
}
