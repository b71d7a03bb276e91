package server

import (
	"net/http"
	"regexp"
	"strings"

	"github.com/parleyhq/parley/internal/web"
)

// handleOpenAPI serves GET /api/v1/openapi.json: an OpenAPI 3.1 document
// of every route the server registered, built from the routes themselves
// (so it cannot fall behind them): each operation with its path
// parameters. Request and response bodies, roles and errors are described
// in docs/api.md, which the document links to.
func (s *Server) handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		web.JSON(w, http.StatusOK, openAPI(s.mux.Patterns()))
	})
}

var pathParam = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(\.\.\.)?\}`)

// openAPI builds the document from ServeMux patterns "METHOD /path";
// patterns without a method, and the "{$}" anchor, are left out.
func openAPI(patterns []string) map[string]any {
	paths := map[string]map[string]any{}
	for _, p := range patterns {
		method, path, ok := strings.Cut(p, " ")
		if !ok || strings.Contains(path, "{$}") || !strings.HasPrefix(path, "/") {
			continue
		}
		var params []map[string]any
		for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
			params = append(params, map[string]any{"name": m[1], "in": "path", "required": true, "schema": map[string]string{"type": "string"}})
		}
		path = pathParam.ReplaceAllString(path, "{$1}")
		op := map[string]any{
			"operationId": operationID(method, path),
			"tags":        []string{tag(path)},
			"responses":   map[string]any{"default": map[string]string{"description": "See docs/api.md; errors are {\"error\":{\"code\",\"message\",\"fields\"}}."}},
		}
		if params != nil {
			op["parameters"] = params
		}
		if paths[path] == nil {
			paths[path] = map[string]any{}
		}
		paths[path][strings.ToLower(method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]string{
			"title":   "Parley API",
			"version": "v1",
			"description": "Every route Parley serves. Bodies, roles and frames are documented in docs/api.md. " +
				"Authenticated routes take `Authorization: Bearer <token>` from POST /api/v1/auth/login; " +
				"web-chat routes take the visitor token, provider webhooks their signature.",
		},
		"components": map[string]any{"securitySchemes": map[string]any{"bearer": map[string]string{"type": "http", "scheme": "bearer"}}},
		"paths":      paths,
	}
}

// tag groups an operation by the first segment after /api/v1 (or the
// first segment of other paths).
func tag(path string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(path, "/api/v1"), "/")
	first, _, _ := strings.Cut(rest, "/")
	if first == "" {
		return "root"
	}
	return first
}

// operationID is the method and the path's words, e.g.
// "get_conversations_id_messages".
func operationID(method, path string) string {
	words := []string{strings.ToLower(method)}
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/api/v1"), "/") {
		seg = strings.Trim(seg, "{}")
		seg = strings.NewReplacer("-", "_", ".", "_").Replace(seg)
		if seg != "" {
			words = append(words, seg)
		}
	}
	return strings.Join(words, "_")
}
