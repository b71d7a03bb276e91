package server

import (
	"reflect"
	"testing"
)

func TestOpenAPIFromPatterns(t *testing.T) {
	doc := openAPI([]string{
		"GET /api/v1/conversations/{id}/messages",
		"POST /api/v1/conversations/{id}/messages",
		"GET /assets/{file...}",
		"GET /{$}",
		"/no-method",
	})
	paths := doc["paths"].(map[string]map[string]any)
	if len(paths) != 2 {
		t.Fatalf("paths %v; want the messages path and /assets/{file}", paths)
	}
	msgs := paths["/api/v1/conversations/{id}/messages"]
	get, post := msgs["get"].(map[string]any), msgs["post"].(map[string]any)
	if get == nil || post == nil {
		t.Fatalf("operations %v", msgs)
	}
	if get["operationId"] != "get_conversations_id_messages" || post["operationId"] != "post_conversations_id_messages" {
		t.Errorf("operation ids %v, %v", get["operationId"], post["operationId"])
	}
	if !reflect.DeepEqual(get["tags"], []string{"conversations"}) {
		t.Errorf("tags %v", get["tags"])
	}
	params := get["parameters"].([]map[string]any)
	if len(params) != 1 || params[0]["name"] != "id" || params[0]["in"] != "path" || params[0]["required"] != true {
		t.Errorf("parameters %v", params)
	}
	if a := paths["/assets/{file}"]["get"].(map[string]any); a["parameters"].([]map[string]any)[0]["name"] != "file" {
		t.Errorf("wildcard parameter: %v", a["parameters"])
	}
}
