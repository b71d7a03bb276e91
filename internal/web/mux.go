package web

import "net/http"

// Router registers handlers by pattern: an *http.ServeMux or a Mux.
type Router interface {
	Handle(pattern string, handler http.Handler)
}

// Mux is an http.ServeMux that remembers the patterns registered on it, so
// the server can describe its own routes (the OpenAPI document).
type Mux struct {
	*http.ServeMux
	patterns []string
}

// NewMux returns an empty Mux.
func NewMux() *Mux { return &Mux{ServeMux: http.NewServeMux()} }

// Handle registers handler for pattern and remembers the pattern.
func (m *Mux) Handle(pattern string, handler http.Handler) {
	m.ServeMux.Handle(pattern, handler)
	m.patterns = append(m.patterns, pattern)
}

// Patterns returns the patterns in the order they were registered.
func (m *Mux) Patterns() []string { return append([]string(nil), m.patterns...) }
