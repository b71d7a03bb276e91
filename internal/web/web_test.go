package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/parleyhq/parley"
)

type sample struct {
	Name  string         `json:"name"`
	Count int            `json:"count"`
	Tags  map[string]int `json:"tags"`
}

func decodeSample(body string) (sample, error) {
	var v sample
	r := httptest.NewRequest("POST", "/", strings.NewReader(body))
	return v, Decode(httptest.NewRecorder(), r, &v)
}

func TestDecodeRefusesWhatIsNotOneKnownObject(t *testing.T) {
	for _, tt := range []struct {
		body string
		ok   bool
	}{
		{`{"name":"a","count":1}`, true},
		{``, false},
		{`{"name":"a"} {"name":"b"}`, false},
		{`{"nmae":"a"}`, false},
		{`{"count":"one"}`, false},
		{`{"name":"a"`, false},
		{`{"name":"` + strings.Repeat("x", MaxBody) + `"}`, false},
	} {
		_, err := decodeSample(tt.body)
		if (err == nil) != tt.ok {
			t.Errorf("%.40q: err %v; want ok=%v", tt.body, err, tt.ok)
		}
		if err != nil && parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("%.40q: code %q; want invalid", tt.body, parley.ErrorCode(err))
		}
	}
}

func TestStatusMapsEveryCode(t *testing.T) {
	for code, want := range map[string]int{
		parley.EINVALID: 400, parley.EUNAUTHORIZED: 401, parley.EFORBIDDEN: 403, parley.ENOTFOUND: 404,
		parley.ECONFLICT: 409, parley.ERATELIMITED: 429, parley.EUNAVAILABLE: 503, parley.EINTERNAL: 500,
		parley.EUNPROCESSABLE: 422,
	} {
		if got := Status(code); got != want {
			t.Errorf("Status(%q) = %d; want %d", code, got, want)
		}
	}
	rec := httptest.NewRecorder()
	JSON(rec, http.StatusTeapot, map[string]int{"a": 1})
	if rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("content type %q", rec.Header().Get("Content-Type"))
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(`{"name":"a","count":1,"tags":{"x":1}}`)
	f.Add(`{"name":"\ud800"}`)
	f.Add(`null`)
	f.Fuzz(func(t *testing.T, body string) {
		if _, err := decodeSample(body); err != nil && parley.ErrorCode(err) != parley.EINVALID {
			t.Fatalf("code %q for %q; want invalid", parley.ErrorCode(err), body)
		}
	})
}

func TestDecodeOptionalTakesAnEmptyBodyWithOrWithoutLength(t *testing.T) {
	for _, tt := range []struct {
		name    string
		body    string
		chunked bool // no Content-Length, as a chunked request has
		want    string
		ok      bool
	}{
		{"empty", ``, false, "keep", true},
		{"empty chunked", ``, true, "keep", true},
		{"object", `{"name":"a"}`, false, "a", true},
		{"object chunked", `{"name":"a"}`, true, "a", true},
		{"unknown field", `{"nmae":"a"}`, true, "", false},
		{"broken", `{"name":`, false, "", false},
	} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
		if tt.chunked {
			r.ContentLength = -1
		}
		v := sample{Name: "keep"}
		err := DecodeOptional(httptest.NewRecorder(), r, &v)
		if (err == nil) != tt.ok {
			t.Errorf("%s: err %v; want ok=%v", tt.name, err, tt.ok)
		}
		if err != nil && parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("%s: code %q; want invalid", tt.name, parley.ErrorCode(err))
		}
		if tt.ok && v.Name != tt.want {
			t.Errorf("%s: name %q; want %q", tt.name, v.Name, tt.want)
		}
	}
}
