package webchat

import (
	"strings"
	"testing"

	"github.com/parleyhq/parley"
)

func TestParseFrame(t *testing.T) {
	tests := []struct {
		name, in string
		wantErr  string // error code; "" for none
	}{
		{"message", `{"type":"message","body":"hi","client_msg_id":"c1"}`, ""},
		{"typing", `{"type":"typing"}`, ""},
		{"not JSON", `hello`, parley.EINVALID},
		{"truncated", `{"type":"message",`, parley.EINVALID},
		{"unknown type", `{"type":"launch"}`, parley.EINVALID},
		{"no client_msg_id", `{"type":"message","body":"hi"}`, parley.EINVALID},
		{"long client_msg_id", `{"type":"message","body":"hi","client_msg_id":"` + strings.Repeat("x", 101) + `"}`, parley.EINVALID},
		{"blank body", `{"type":"message","body":" \n\t","client_msg_id":"c1"}`, parley.EINVALID},
		{"huge body", `{"type":"message","body":"` + strings.Repeat("x", parley.MaxBodyBytes+1) + `","client_msg_id":"c1"}`, parley.EINVALID},
		{"wrong field type", `{"type":"message","body":5,"client_msg_id":"c1"}`, parley.EINVALID},
		{"rating without survey_id", `{"type":"rating","score":5}`, parley.EINVALID},
		{"rating", `{"type":"rating","survey_id":"7","score":5,"comment":"great"}`, ""},
		{"rating without score", `{"type":"rating","survey_id":"7"}`, parley.EINVALID},
		{"rating out of range", `{"type":"rating","survey_id":"7","score":11}`, parley.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFrame([]byte(tt.in))
			if got := parley.ErrorCode(err); got != tt.wantErr {
				t.Errorf("got error %q (%v); want %q", got, err, tt.wantErr)
			}
		})
	}
}

func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{`{"type":"message","body":"hi","client_msg_id":"c1"}`, `{"type":"typing"}`, `{}`, `[]`, `{"type":"message","body":"\u0000"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := parseFrame(data)
		if err != nil {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("error code %q; want invalid", parley.ErrorCode(err))
			}
			return
		}
		switch fr.Type {
		case "typing", "rating":
		case "message":
			if parley.ValidateBody(fr.Body) != nil || parley.ValidateClientMsgID(fr.ClientMsgID, true) != nil {
				t.Fatalf("accepted an invalid message frame %q", data)
			}
		default:
			t.Fatalf("accepted frame type %q", fr.Type)
		}
	})
}
