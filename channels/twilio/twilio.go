// Package twilio is the Twilio channel: SMS, MMS and WhatsApp messages both
// ways, and voice calls through an IVR to agents. Every webhook is checked
// against its inbox's auth token (X-Twilio-Signature over PARLEY_PUBLIC_URL
// + path); outbound REST calls and TwiML documents go through twilio-go.
package twilio

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/web"
)

// Backend is what the channel needs from the application core (desk.Desk).
type Backend interface {
	parley.Inbox
	Inbox(ctx context.Context, id int64) (parley.InboxConfig, error)

	// Messaging.
	DeliveryStatusOf(ctx context.Context, inboxID, messageID int64, providerID, state, reason string) error
	SetConsent(ctx context.Context, customerID int64, ch parley.Channel, address string, optedOut bool, keyword string) error
	OptedOut(ctx context.Context, ch parley.Channel, address string) (bool, error)
	LastInboundAt(ctx context.Context, customerID, inboxID int64) (time.Time, bool, error)
	SetCustomerPhone(ctx context.Context, customerID int64, phone, region string, attrs map[string]string) error
	CustomerIdentities(ctx context.Context, customerID int64) ([]parley.Identity, error)
	MessageTemplate(ctx context.Context, messageID int64) (contentSid, variables string, ok bool, err error)

	// Voice.
	StartCall(ctx context.Context, inboxID int64, sid, caller string) (state string, convID int64, lang string, err error)
	CallState(ctx context.Context, sid string) (state string, convID int64, lang string, err error)
	QueueCall(ctx context.Context, sid string, convID int64, lang string) error
	CallPosition(ctx context.Context, convID int64) (pos int, status parley.ConversationStatus, err error)
	ClaimCallToConnect(ctx context.Context) (c Call, ok bool, err error)
	CallInfo(ctx context.Context, sid string) (Call, error)
	UnclaimCall(ctx context.Context, sid string, attempt int) error
	RequeueCall(ctx context.Context, sid string, attempt int, reason string) error
	CallConnected(ctx context.Context, sid, failure string) error
	CallbackPlaced(ctx context.Context, sid string, attempt int, newSid string) error
	OfferOverflow(ctx context.Context, sid string) (bool, error)
	ChooseCallMode(ctx context.Context, sid, mode string) (bool, error)
	OverflowAt(ctx context.Context, sid string) (time.Time, bool, error)
	WhileWaiting(ctx context.Context, sid string, fn func(Call) error) (bool, error)
	Voicemail(ctx context.Context, sid, recordingSid, url string, durationS int) error
	StartVoiceSurvey(ctx context.Context, sid, locale string) (VoiceSurvey, bool, error)
	AnswerVoiceSurvey(ctx context.Context, sid string, requestID int64, question, digits, locale string) (ok bool, next VoiceSurvey, err error)
	EndCall(ctx context.Context, sid, status string, durationS int) error
	CallRecording(ctx context.Context, sid, url string, durationS int) error
	AgentVoiceEndpoint(ctx context.Context, agentID int64) (string, error)
	SetAgentVoiceEndpoint(ctx context.Context, agentID int64, endpoint string) error

	// Conferences (conference.go).
	ConferenceConnected(ctx context.Context, convID, inboxID int64, name, customerSid, agentSid, conferenceSid string) error
	ConferenceEvent(ctx context.Context, s ConferenceStatus) error
	Conference(ctx context.Context, convID int64) (Conference, error)
	CoachLeg(ctx context.Context, convID, supervisorID int64, callSid, mode string) error
}

// Call is what the channel knows of a call.
type Call struct {
	Sid            string
	InboxID        int64
	ConversationID int64
	// Caller is the customer's address (E.164, client:, sip: or anonymous:).
	Caller   string
	State    string
	Language string
	AgentID  int64
	// Attempt numbers the hand-overs of the call to the connect job.
	Attempt int
	// Mode is "", "callback" or "voicemail".
	Mode string
}

// Jobs queues the connect job of a call (jobs.Client).
type Jobs interface {
	EnqueueCallConnect(ctx context.Context, sid string, attempt int) error
	ScheduleCallOverflow(ctx context.Context, sid string, at time.Time) error
}

// DefaultAPIBase is Twilio's REST API.
const DefaultAPIBase = "https://api.twilio.com"

// Config configures the channel.
type Config struct {
	// PublicURL is the URL Twilio reaches Parley at (PARLEY_PUBLIC_URL):
	// webhook signatures are computed over it and status callbacks point
	// to it.
	PublicURL string
	// APIBase replaces Twilio's REST host (PARLEY_TWILIO_API_BASE), e.g. a
	// fake Twilio in tests; empty means DefaultAPIBase.
	APIBase string
	// HTTPClient, when set, is used for REST calls as it is (APIBase is then
	// ignored).
	HTTPClient *http.Client
	// ConnectEvery is how often waiting calls accepted by agents are
	// looked for (default 200 ms).
	ConnectEvery time.Duration
	// Jobs runs the connect jobs (with retries); nil connects at once,
	// without retries.
	Jobs Jobs
	// Softphone configures the browser softphone (softphone.go).
	Softphone Softphone
	Log       *slog.Logger
	Now       func() time.Time
}

// Channel serves Twilio inboxes (channels sms, whatsapp and voice).
type Channel struct {
	backend      Backend
	publicURL    string
	http         *http.Client
	connectEvery time.Duration
	jobs         Jobs
	softphone    Softphone
	log          *slog.Logger
	now          func() time.Time
}

// New returns the Twilio channel.
func New(backend Backend, c Config) (*Channel, error) {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.ConnectEvery <= 0 {
		c.ConnectEvery = 200 * time.Millisecond
	}
	hc := c.HTTPClient
	if hc == nil {
		var err error
		if hc, err = NewHTTPClient(c.APIBase); err != nil {
			return nil, err
		}
	}
	return &Channel{backend: backend, publicURL: strings.TrimRight(c.PublicURL, "/"), http: hc,
		connectEvery: c.ConnectEvery, jobs: c.Jobs, softphone: c.Softphone, log: c.Log, now: c.Now}, nil
}

// Routes registers the webhooks and, wrapped in admin (the server's
// admin-only authentication), the agents' voice endpoint settings. A nil
// channel registers nothing.
func (c *Channel) Routes(mux web.Router, admin func(http.Handler) http.Handler) {
	if c == nil {
		return
	}
	messaging := []parley.Channel{parley.ChannelSMS, parley.ChannelWhatsApp}
	voice := []parley.Channel{parley.ChannelVoice}
	mux.Handle("POST /webhooks/twilio/{inbox_id}/messaging", c.webhook(messaging, c.handleMessage))
	mux.Handle("POST /webhooks/twilio/{inbox_id}/messaging/status", c.webhook(messaging, c.handleMessageStatus))
	mux.Handle("POST /webhooks/twilio/{inbox_id}/voice", c.webhook(voice, c.handleCall))
	mux.Handle("POST /webhooks/twilio/{inbox_id}/voice/gather", c.webhook(voice, c.handleGather))
	mux.Handle("POST /webhooks/twilio/{inbox_id}/voice/hold", c.webhook(voice, c.handleHold))
	mux.Handle("POST /webhooks/twilio/{inbox_id}/voice/status", c.webhook(voice, c.handleCallStatus))
	mux.Handle("POST /webhooks/twilio/{inbox_id}/voice/recording", c.webhook(voice, c.handleRecording))
	mux.Handle("POST /webhooks/twilio/{inbox_id}/voice/voicemail", c.webhook(voice, c.handleVoicemailDone))
	mux.Handle("POST /webhooks/twilio/{inbox_id}/voice/after-dial", c.webhook(voice, c.handleAfterDial))
	mux.Handle("POST /webhooks/twilio/{inbox_id}/voice/survey", c.webhook(voice, c.handleSurveyDigits))
	mux.Handle("POST /webhooks/twilio/{inbox_id}/voice/conference", c.webhook(voice, c.handleConference))
	mux.Handle("GET /api/v1/agents/{id}/voice-endpoint", admin(c.handleGetVoiceEndpoint()))
	mux.Handle("PUT /api/v1/agents/{id}/voice-endpoint", admin(c.handleSetVoiceEndpoint()))
}

// webhookFunc handles a verified webhook.
type webhookFunc func(w http.ResponseWriter, r *http.Request, inbox parley.InboxConfig, form url.Values)

// webhook finds the inbox, reads the form and checks X-Twilio-Signature
// against the inbox's auth token before anything else happens: a missing
// or bad signature gets 403 and nothing is written.
func (c *Channel) webhook(channels []parley.Channel, h webhookFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := web.ID(r.PathValue("inbox_id"), "inbox")
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		inbox, err := c.backend.Inbox(r.Context(), id)
		if err == nil && (inbox.Twilio == nil || !hasChannel(channels, inbox.Channel)) {
			err = parley.Errorf(parley.ENOTFOUND, "Twilio %s inbox %d not found.", channels[0], id)
		}
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		form, err := readForm(w, r)
		if err != nil {
			web.Error(w, r, c.log, err)
			return
		}
		if !ValidSignature(inbox.Twilio.AuthToken, c.publicURL+r.URL.RequestURI(), form, r.Header.Get("X-Twilio-Signature")) {
			c.log.Warn("twilio webhook with a bad signature", "inbox_id", id, "path", r.URL.Path,
				"hint", "PARLEY_PUBLIC_URL must be the URL configured in Twilio's console")
			web.Error(w, r, c.log, parley.Errorf(parley.EFORBIDDEN, "Invalid X-Twilio-Signature."))
			return
		}
		h(w, r, inbox, form)
	})
}

func hasChannel(list []parley.Channel, ch parley.Channel) bool {
	for _, c := range list {
		if c == ch {
			return true
		}
	}
	return false
}

// writeTwiML answers a webhook with a TwiML document.
func writeTwiML(w http.ResponseWriter, doc string) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(doc))
}

// webhookURL is the public URL of one of an inbox's webhooks.
func (c *Channel) webhookURL(inboxID int64, path string, query url.Values) string {
	u := c.publicURL + "/webhooks/twilio/" + web.IDString(inboxID) + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	return u
}
