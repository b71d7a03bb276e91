package main

import "testing"

// TestOpenAPIDocumentListsEveryRoute: the served document has the routes of
// the running server, with unique operation ids.
func TestOpenAPIDocumentListsEveryRoute(t *testing.T) {
	srv := newEnv(t).start()
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if code := srv.do(t, "GET", "/api/v1/openapi.json", "", nil, &doc); code != 200 || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi.json: %d %q", code, doc.OpenAPI)
	}
	for path, method := range map[string]string{
		"/api/v1/auth/login":                       "post",
		"/api/v1/conversations/{id}/messages":      "get",
		"/api/v1/reports/summary":                  "get",
		"/api/v1/webchat/ws":                       "get",
		"/api/v1/customers/{id}/consents":          "put",
		"/webhooks/twilio/{inbox_id}/voice/status": "post",
	} {
		if doc.Paths[path][method] == nil {
			t.Errorf("%s %s missing", method, path)
		}
	}
	seen, ops := map[string]bool{}, 0
	for _, methods := range doc.Paths {
		for _, op := range methods {
			id, _ := op["operationId"].(string)
			if id == "" || seen[id] {
				t.Errorf("operation id %q empty or repeated", id)
			}
			seen[id] = true
			ops++
		}
	}
	if ops < 100 {
		t.Errorf("%d operations; want every route", ops)
	}
}
