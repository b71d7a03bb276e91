package twilio

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

const (
	testConfSid = "CF0123456789abcdef0123456789abcdef"
	testCallSid = "CA0123456789abcdef0123456789abcdef"
)

func confForm(kv ...string) url.Values {
	return withFields(url.Values{"FriendlyName": {"parley-conv-42"}, "ConferenceSid": {testConfSid}, "StatusCallbackEvent": {"participant-join"},
		"CallSid": {testCallSid}, "Muted": {"true"}, "Coaching": {"false"}, "Timestamp": {"Mon, 02 Mar 2026 09:00:05 +0000"}}, kv...)
}

func TestParseConferenceStatusAcceptsParleyConferencesOnly(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	s, err := ParseConferenceStatus(confForm(), now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "parley-conv-42" || s.Event != "participant-join" || s.CallSid != testCallSid || !s.Muted || s.Coaching ||
		!s.At.Equal(time.Date(2026, 3, 2, 9, 0, 5, 0, time.UTC)) {
		t.Errorf("parsed %+v", s)
	}
	if s, err := ParseConferenceStatus(confForm("StatusCallbackEvent", "conference-end", "CallSid", "<del>", "Muted", "<del>", "Coaching", "<del>", "Timestamp", "<del>"), now); err != nil || !s.At.Equal(now) {
		t.Errorf("conference-end without a timestamp: %+v %v; want at now", s, err)
	}
	for _, bad := range []url.Values{
		confForm("FriendlyName", "sales-standup"),
		confForm("FriendlyName", "parley-conv-0"),
		confForm("FriendlyName", "parley-conv-042"),
		confForm("ConferenceSid", "XX0123456789abcdef0123456789abcdef"),
		confForm("StatusCallbackEvent", "explode"),
		confForm("CallSid", "<del>"),
		confForm("Muted", "maybe"),
		confForm("Timestamp", "yesterday"),
		{"FriendlyName": {"parley-conv-1", "parley-conv-2"}},
	} {
		if _, err := ParseConferenceStatus(bad, now); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("%v: %v; want EINVALID", bad, err)
		}
	}
}

// FuzzParseConferenceStatus: arbitrary bodies never panic, and what is
// accepted names a Parley conference with valid sids.
func FuzzParseConferenceStatus(f *testing.F) {
	f.Add([]byte(confForm().Encode()))
	f.Add([]byte(confForm("StatusCallbackEvent", "conference-start", "CallSid", "<del>").Encode()))
	f.Add([]byte("FriendlyName=parley-conv-%zz"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, body []byte) {
		form, err := parseForm(body)
		if err != nil {
			return
		}
		s, err := ParseConferenceStatus(form, time.Unix(0, 0))
		if err != nil {
			if parley.ErrorCode(err) != parley.EINVALID {
				t.Fatalf("error code %q", parley.ErrorCode(err))
			}
			return
		}
		if !strings.HasPrefix(s.Name, conferencePrefix) || !validSid(s.ConferenceSid, "CF") {
			t.Fatalf("accepted %+v", s)
		}
		if strings.HasPrefix(s.Event, "participant-") && !validSid(s.CallSid, "CA") {
			t.Fatalf("accepted a participant event without a call sid: %+v", s)
		}
	})
}
