// Package twiliotest is a fake Twilio for tests and demos: an HTTP server
// that answers the REST calls Parley makes (Messages, Calls) and records
// them, and a client that sends correctly signed webhooks to a Parley
// server, as Twilio would.
package twiliotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	twilio "github.com/parleyhq/parley/channels/twilio"
)

// Request is one REST request the fake received.
type Request struct {
	Method string
	// Path is e.g. /2010-04-01/Accounts/AC…/Messages.json.
	Path string
	// AccountSID and AuthToken are the request's basic-auth credentials.
	AccountSID, AuthToken string
	Form                  url.Values
	// Sid is the sid the fake answered with (a new SM… for messages, the
	// call's CA… for call updates).
	Sid string
	// Conference is the conference name or sid of participant requests.
	Conference string
	At         time.Time
}

// Kind names the request: "message" (create), "call-create" (an outbound
// call), "call-update", "participant-create" (a conference participant:
// Conference is the path's conference name or sid), "participant-update"
// or "other".
func (r Request) Kind() string {
	switch {
	case r.Method == http.MethodPost && strings.Contains(r.Path, "/Conferences/") && strings.HasSuffix(r.Path, "/Participants.json"):
		return "participant-create"
	case r.Method == http.MethodPost && strings.Contains(r.Path, "/Conferences/") && strings.Contains(r.Path, "/Participants/"):
		return "participant-update"
	case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/Messages.json"):
		return "message"
	case r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/Calls.json"):
		return "call-create"
	case r.Method == http.MethodPost && strings.Contains(r.Path, "/Calls/"):
		return "call-update"
	}
	return "other"
}

// Server is a fake Twilio REST API.
type Server struct {
	*httptest.Server
	// AccountSID and AuthToken are the credentials it accepts; empty
	// accepts any.
	AccountSID, AuthToken string

	mu       sync.Mutex
	requests []Request
	// conferences maps conference names to their sids (CF…).
	conferences map[string]string
	failures    []failure
	changed     chan struct{}
	// OnMessage, when set, is called (in its own goroutine) after each
	// message is created, e.g. to send status callbacks.
	OnMessage func(Request)
}

type failure struct {
	status, code int
	message      string
}

// NewServer starts a fake Twilio on a random local port. Close it when done.
func NewServer(accountSID, authToken string) *Server {
	s := &Server{AccountSID: accountSID, AuthToken: authToken, changed: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// NewServerOn starts a fake Twilio listening on addr (for `parley simulate`).
func NewServerOn(addr, accountSID, authToken string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{AccountSID: accountSID, AuthToken: authToken, changed: make(chan struct{})}
	s.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(s.serve)}}
	s.Server.Start()
	return s, nil
}

// Fail makes the next REST request fail with an HTTP status and Twilio
// error code (e.g. 400, 21610 unsubscribed recipient; 503 for a retry).
func (s *Server) Fail(status, code int, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{status, code, message})
}

// Requests returns every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// WaitFor waits until a request matching ok arrives and returns it.
func (s *Server) WaitFor(timeout time.Duration, ok func(Request) bool) (Request, bool) {
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		for _, r := range s.requests {
			if ok(r) {
				s.mu.Unlock()
				return r, true
			}
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			return Request{}, false
		}
	}
}

func newSid(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	form, _ := url.ParseQuery(string(body))
	req := Request{Method: r.Method, Path: r.URL.Path, AccountSID: user, AuthToken: pass, Form: form, At: time.Now()}
	writeErr := func(status, code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg, "status": status, "more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)})
	}
	s.mu.Lock()
	var fail *failure
	if len(s.failures) > 0 {
		fail = &s.failures[0]
		s.failures = s.failures[1:]
	}
	s.mu.Unlock()
	switch {
	case s.AccountSID != "" && (user != s.AccountSID || pass != s.AuthToken):
		writeErr(http.StatusUnauthorized, 20003, "Authenticate")
		s.record(req)
		return
	case fail != nil:
		writeErr(fail.status, fail.code, fail.message)
		s.record(req)
		return
	}
	var answer map[string]any
	switch req.Kind() {
	case "message":
		req.Sid = newSid("SM")
		answer = map[string]any{"sid": req.Sid, "account_sid": user, "status": "queued", "to": form.Get("To"), "from": form.Get("From"), "body": form.Get("Body")}
		w.WriteHeader(http.StatusCreated)
	case "call-create":
		req.Sid = newSid("CA")
		answer = map[string]any{"sid": req.Sid, "account_sid": user, "status": "queued", "to": form.Get("To"), "from": form.Get("From"), "direction": "outbound-api"}
		w.WriteHeader(http.StatusCreated)
	case "call-update":
		parts := strings.Split(strings.TrimSuffix(req.Path, ".json"), "/")
		req.Sid = parts[len(parts)-1]
		answer = map[string]any{"sid": req.Sid, "account_sid": user, "status": "in-progress"}
	case "participant-create", "participant-update":
		parts := strings.Split(strings.TrimSuffix(req.Path, ".json"), "/")
		i := slices.Index(parts, "Conferences")
		req.Conference = parts[i+1]
		conf := s.conferenceSid(req.Conference)
		if req.Kind() == "participant-create" {
			req.Sid = newSid("CA")
			w.WriteHeader(http.StatusCreated)
		} else {
			req.Sid = parts[len(parts)-1]
		}
		answer = map[string]any{"call_sid": req.Sid, "conference_sid": conf, "account_sid": user, "label": form.Get("Label"),
			"muted": form.Get("Muted") == "true", "coaching": form.Get("Coaching") == "true", "call_sid_to_coach": form.Get("CallSidToCoach"), "status": "queued"}
	default:
		writeErr(http.StatusNotFound, 20404, "The requested resource was not found")
		s.record(req)
		return
	}
	s.record(req)
	json.NewEncoder(w).Encode(answer)
	if req.Kind() == "message" && s.OnMessage != nil {
		go s.OnMessage(req)
	}
}

// ConferenceSid returns the sid the fake gave the conference called name
// (as its status callbacks would carry it).
func (s *Server) ConferenceSid(name string) string { return s.conferenceSid(name) }

// conferenceSid returns the sid of a conference given by name or sid,
// making one up for a new name.
func (s *Server) conferenceSid(nameOrSid string) string {
	if strings.HasPrefix(nameOrSid, "CF") && len(nameOrSid) == 34 {
		return nameOrSid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conferences == nil {
		s.conferences = map[string]string{}
	}
	if sid, ok := s.conferences[nameOrSid]; ok {
		return sid
	}
	sid := newSid("CF")
	s.conferences[nameOrSid] = sid
	return sid
}

// ConferenceStatus is a conference status callback's form (event
// conference-start, participant-join, …; callSid "" for conference events).
func ConferenceStatus(accountSID, name, conferenceSid, event, callSid string, muted, coaching bool) url.Values {
	f := url.Values{"AccountSid": {accountSID}, "FriendlyName": {name}, "ConferenceSid": {conferenceSid}, "StatusCallbackEvent": {event},
		"Timestamp": {time.Now().UTC().Format(time.RFC1123Z)}}
	if callSid != "" {
		f.Set("CallSid", callSid)
		f.Set("Muted", fmt.Sprint(muted))
		f.Set("Coaching", fmt.Sprint(coaching))
	}
	return f
}

func (s *Server) record(r Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, r)
	close(s.changed)
	s.changed = make(chan struct{})
}

// Webhooks sends signed webhooks to a Parley server, as Twilio does.
type Webhooks struct {
	// Target is where requests go (e.g. http://127.0.0.1:8080).
	Target string
	// PublicURL is what the inbox's webhooks are configured with in Twilio
	// (PARLEY_PUBLIC_URL): signatures are computed over it. Empty means
	// Target.
	PublicURL string
	AuthToken string
	Client    *http.Client
}

// Response is a webhook's answer.
type Response struct {
	Status int
	Body   string
}

// Post sends a form to a webhook path (/webhooks/twilio/3/messaging, with
// any query) or to a full public URL (a StatusCallback Parley gave Twilio),
// signed with the auth token.
func (h Webhooks) Post(ctx context.Context, pathOrURL string, form url.Values) (Response, error) {
	return h.post(ctx, pathOrURL, form, true)
}

// PostUnsigned sends a form without X-Twilio-Signature.
func (h Webhooks) PostUnsigned(ctx context.Context, pathOrURL string, form url.Values) (Response, error) {
	return h.post(ctx, pathOrURL, form, false)
}

func (h Webhooks) post(ctx context.Context, pathOrURL string, form url.Values, sign bool) (Response, error) {
	public := strings.TrimRight(h.PublicURL, "/")
	if public == "" {
		public = strings.TrimRight(h.Target, "/")
	}
	path := strings.TrimPrefix(pathOrURL, public)
	if strings.HasPrefix(path, "http://") || strings.HasPrefix(path, "https://") {
		return Response{}, fmt.Errorf("twiliotest: %s is not under the public URL %s", pathOrURL, public)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(h.Target, "/")+path, strings.NewReader(form.Encode()))
	if err != nil {
		return Response{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "TwilioProxy/1.1")
	if sign {
		req.Header.Set("X-Twilio-Signature", twilio.Signature(h.AuthToken, public+path, form))
	}
	hc := h.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return Response{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Body: string(b)}, nil
}

// Sid returns a new random sid with a prefix (SM, MM, CA …).
func Sid(prefix string) string { return newSid(prefix) }

// SMS returns the form of an inbound SMS.
func SMS(accountSID, from, to, body string) url.Values {
	sid := newSid("SM")
	return url.Values{"MessageSid": {sid}, "SmsMessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {accountSID},
		"From": {from}, "To": {to}, "Body": {body}, "NumMedia": {"0"}, "NumSegments": {"1"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}}
}

// WhatsApp returns the form of an inbound WhatsApp text (numbers E.164,
// without the whatsapp: prefix).
func WhatsApp(accountSID, from, to, profileName, body string) url.Values {
	sid := newSid("SM")
	return url.Values{"MessageSid": {sid}, "SmsMessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {accountSID},
		"From": {"whatsapp:" + from}, "To": {"whatsapp:" + to}, "Body": {body}, "NumMedia": {"0"}, "ProfileName": {profileName},
		"WaId": {strings.TrimPrefix(from, "+")}, "MessageType": {"text"}, "SmsStatus": {"received"}, "ApiVersion": {"2010-04-01"}}
}

// MessageStatus returns the form of a message status callback.
func MessageStatus(accountSID, messageSid, status, errorCode string) url.Values {
	f := url.Values{"MessageSid": {messageSid}, "SmsSid": {messageSid}, "AccountSid": {accountSID}, "MessageStatus": {status},
		"SmsStatus": {status}, "ApiVersion": {"2010-04-01"}}
	if errorCode != "" {
		f.Set("ErrorCode", errorCode)
	}
	return f
}

// Call returns the form of a voice webhook of a call (CallStatus status).
func Call(accountSID, callSid, from, to, status string) url.Values {
	return url.Values{"CallSid": {callSid}, "AccountSid": {accountSID}, "From": {from}, "To": {to}, "Caller": {from}, "Called": {to},
		"CallStatus": {status}, "Direction": {"inbound"}, "ApiVersion": {"2010-04-01"}}
}

// Recording returns the form of a recording status callback (completed).
func Recording(accountSID, callSid, recordingSid, recordingURL string, durationS int) url.Values {
	return url.Values{"AccountSid": {accountSID}, "CallSid": {callSid}, "RecordingSid": {recordingSid}, "RecordingUrl": {recordingURL},
		"RecordingStatus": {"completed"}, "RecordingDuration": {fmt.Sprint(durationS)}, "RecordingChannels": {"1"}, "RecordingSource": {"RecordVerb"}}
}
