package parley

import (
	"strings"
	"time"
)

// Queue is a skills-based routing queue.
type Queue struct {
	ID                int64        `json:"id,string"`
	Name              string       `json:"name"`
	Media             []Media      `json:"media"`
	Priority          int          `json:"priority"`
	OfferTimeoutS     int          `json:"offer_timeout_s"`
	MaxParallelOffers int          `json:"max_parallel_offers"`
	ServiceLevel      ServiceLevel `json:"service_level"`
	// Members are agent ids or "team:<name>".
	Members []string `json:"members"`
	Steps   []Step   `json:"steps"`
	// Aging orders tasks by wait with one priority point worth 60 s instead
	// of strict priority, so nothing starves.
	Aging bool `json:"aging"`
	// ProficiencyFirst prefers the agent most proficient in the required
	// skills before the usual idle/spare-capacity rules.
	ProficiencyFirst bool `json:"proficiency_first"`
	// StickyWindowS: the last agent who helped the customer gets the
	// conversation first while it has waited less than this (0: off).
	StickyWindowS int `json:"sticky_window_s"`
	// WrapUpS keeps the agent's slot busy after a conversation ends.
	WrapUpS int `json:"wrap_up_s"`
	// Paused queues make no new offers; waiting conversations stay.
	Paused bool `json:"paused"`
	// ShortAbandonS: abandons quicker than this are left out of service
	// level and abandon rate.
	ShortAbandonS int `json:"short_abandon_s"`
	// MaxWaitS: a caller waiting this long is offered a callback or a
	// voicemail (voice; 0: never).
	MaxWaitS  int       `json:"max_wait_s"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ServiceLevel is a target such as 80% answered within 20 s.
type ServiceLevel struct {
	Percent int `json:"percent"`
	Seconds int `json:"seconds"`
}

// Step is one escalation step: the skills a conversation requires while the
// step lasts. Steps only widen; after the last one any member is eligible.
type Step struct {
	Require      map[string]int `json:"require"`
	ExpireAfterS int            `json:"expire_after_s"`
	// SkipIfNoAgents skips the step at once when no logged-in member
	// satisfies it.
	SkipIfNoAgents bool `json:"skip_if_no_agents"`
}

// MaxPriority bounds queue and conversation priorities (0..MaxPriority).
const MaxPriority = 100

// Defaults fills unset fields with their defaults.
func (q *Queue) Defaults() {
	if len(q.Media) == 0 {
		q.Media = []Media{MediaChat}
	}
	if q.OfferTimeoutS == 0 {
		q.OfferTimeoutS = 20
	}
	if q.MaxParallelOffers == 0 {
		q.MaxParallelOffers = 1
	}
	if q.ServiceLevel == (ServiceLevel{}) {
		q.ServiceLevel = ServiceLevel{Percent: 80, Seconds: 20}
	}
	if q.Members == nil {
		q.Members = []string{}
	}
	if q.Steps == nil {
		q.Steps = []Step{}
	}
}

// Serves reports whether the queue takes conversations of media m.
func (q Queue) Serves(m Media) bool {
	for _, x := range q.Media {
		if x == m {
			return true
		}
	}
	return false
}

// Validate checks the queue's fields.
func (q Queue) Validate() error {
	f := map[string]string{}
	if strings.TrimSpace(q.Name) == "" {
		f["name"] = "required"
	}
	for _, m := range q.Media {
		if !m.Valid() {
			f["media"] = "must be voice, chat or email"
		}
	}
	if q.Priority < 0 || q.Priority > MaxPriority {
		f["priority"] = "must be 0 to 100"
	}
	if q.OfferTimeoutS < 1 || q.OfferTimeoutS > 3600 {
		f["offer_timeout_s"] = "must be 1 to 3600"
	}
	if q.StickyWindowS < 0 || q.StickyWindowS > 86400 {
		f["sticky_window_s"] = "must be 0 to 86400"
	}
	if q.WrapUpS < 0 || q.WrapUpS > 3600 {
		f["wrap_up_s"] = "must be 0 to 3600"
	}
	if q.ShortAbandonS < 0 || q.ShortAbandonS > 600 {
		f["short_abandon_s"] = "must be 0 to 600"
	}
	if q.MaxWaitS < 0 || q.MaxWaitS > 86400 {
		f["max_wait_s"] = "must be 0 to 86400"
	}
	if q.MaxParallelOffers < 1 || q.MaxParallelOffers > 10 {
		f["max_parallel_offers"] = "must be 1 to 10"
	}
	if q.ServiceLevel.Percent < 1 || q.ServiceLevel.Percent > 100 || q.ServiceLevel.Seconds < 1 {
		f["service_level"] = "percent must be 1 to 100 and seconds positive"
	}
	if len(q.Steps) > 20 {
		f["steps"] = "at most 20 steps"
	}
	for i, s := range q.Steps {
		for k, lvl := range s.Require {
			if k == "" || lvl < 1 || lvl > 5 {
				f["steps"] = "require maps skill names to levels 1 to 5"
			}
		}
		last := i == len(q.Steps)-1
		switch {
		case s.ExpireAfterS < 0:
			f["steps"] = "expire_after_s must not be negative"
		case s.ExpireAfterS == 0 && !last:
			f["steps"] = "only the last step may have no expire_after_s"
		case i > 0 && s.ExpireAfterS != 0 && s.ExpireAfterS <= q.Steps[i-1].ExpireAfterS:
			f["steps"] = "each step's expire_after_s (counted from enqueue) must be later than the previous step's"
		}
	}
	for _, m := range q.Members {
		if m == "" || (strings.HasPrefix(m, "team:") && len(m) == len("team:")) {
			f["members"] = "members are agent ids or team:<name>"
		}
	}
	if len(f) > 0 {
		return Invalid("Invalid queue.", f)
	}
	return nil
}

// InboxConfig is a channel account: where customers write to, its
// credentials, and the queue its conversations go to.
type InboxConfig struct {
	ID       int64         `json:"id,string"`
	Channel  Channel       `json:"channel"`
	Name     string        `json:"name"`
	QueueID  int64         `json:"queue_id,string"`
	Settings InboxSettings `json:"settings"`
	// Address is the inbox's own address (an email inbox's mailbox address).
	Address string `json:"address,omitempty"`
	// Twilio holds the account of sms, whatsapp and voice inboxes.
	Twilio *TwilioAccount `json:"twilio,omitempty"`
	// IMAP and SMTP hold an email inbox's servers.
	IMAP      *MailServer `json:"imap,omitempty"`
	SMTP      *MailServer `json:"smtp,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// TwilioAccount is a Twilio account and the number (or WhatsApp sender) an
// inbox uses. AuthToken is secret: stored sealed, never returned.
type TwilioAccount struct {
	AccountSID string `json:"account_sid"`
	AuthToken  string `json:"auth_token,omitempty"`
	From       string `json:"from"`
}

// MailServer is an IMAP or SMTP server. Password is secret.
type MailServer struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Security string `json:"security"` // tls, starttls or none
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
	// Mailbox is the IMAP folder to watch (default INBOX).
	Mailbox string `json:"mailbox,omitempty"`
	// SentMailbox, when set, receives a copy of every reply (IMAP only).
	SentMailbox string `json:"sent_mailbox,omitempty"`
}

// Redacted returns the inbox without its secrets, for the API.
func (i InboxConfig) Redacted() InboxConfig {
	if i.Twilio != nil {
		t := *i.Twilio
		t.AuthToken = ""
		i.Twilio = &t
	}
	for _, m := range []**MailServer{&i.IMAP, &i.SMTP} {
		if *m != nil {
			c := **m
			c.Password = ""
			*m = &c
		}
	}
	return i
}

// HasCredentials reports whether the inbox carries channel credentials.
func (i InboxConfig) HasCredentials() bool {
	return i.Twilio != nil || i.IMAP != nil || i.SMTP != nil
}

func validMailServer(m *MailServer, field string, f map[string]string) {
	switch {
	case m == nil:
		f[field] = "required"
	case strings.TrimSpace(m.Host) == "" || m.Port < 1 || m.Port > 65535:
		f[field] = "host and port (1-65535) are required"
	case m.Security != "tls" && m.Security != "starttls" && m.Security != "none":
		f[field] = "security must be tls, starttls or none"
	}
}

// InboxSettings are the channel-specific, non-secret settings of an inbox.
type InboxSettings struct {
	// AllowedOrigins lists the page origins allowed to embed a web chat.
	AllowedOrigins []string `json:"allowed_origins,omitempty"`
	// Topics let a web-chat visitor pick what the chat is about; each topic
	// routes to its own queue.
	Topics   []Topic `json:"topics,omitempty"`
	Greeting string  `json:"greeting,omitempty"`
	// Voice is a voice inbox's IVR (channels/twilio).
	Voice *VoiceSettings `json:"voice,omitempty"`
	// ReopenWindowS: a customer message within this many seconds of the
	// resolution of their latest conversation in the inbox reopens it
	// instead of opening a new one (0: always a new one; not for voice).
	ReopenWindowS int `json:"reopen_window_s,omitempty"`
	// WhatsAppTemplates are a WhatsApp inbox's approved templates
	// (whatsapp.go).
	WhatsAppTemplates []WhatsAppTemplate `json:"whatsapp_templates,omitempty"`
}

// MaxReopenWindowS bounds InboxSettings.ReopenWindowS (30 days).
const MaxReopenWindowS = 30 * 24 * 3600

// VoiceSettings configure a voice inbox's IVR: a language menu, then a topic
// menu whose choices are the inbox's Topics (each routing to its queue),
// then hold while the call waits for an agent.
type VoiceSettings struct {
	// Languages are offered first when there are two or more ("1 English,
	// 2 中文"); the first is the default. The chosen language's Skill is
	// required of the agent.
	Languages []VoiceLanguage `json:"languages,omitempty"`
	// Menu maps keypad digits to topic names of Settings.Topics.
	Menu []VoiceChoice `json:"menu,omitempty"`
	// HoldMusicURL is played while the caller waits (default: Twilio's).
	HoldMusicURL string `json:"hold_music_url,omitempty"`
	// Record records connected calls (the recording URL lands in the
	// conversation's meta).
	Record bool `json:"record,omitempty"`
}

// VoiceLanguage is one language of an IVR. Empty texts get built-in English
// or Chinese defaults (by Skill "en"/"zh").
type VoiceLanguage struct {
	Digit string `json:"digit"`
	// Skill is the routing skill the language requires, e.g. "en", "zh".
	Skill string `json:"skill"`
	// Say is Twilio's <Say> language, e.g. "en-US", "cmn-CN".
	Say string `json:"say,omitempty"`
	// Prompt offers this language in the language menu ("For English, press 1.").
	Prompt string `json:"prompt,omitempty"`
	// Menu speaks the topic menu; Hold is said while waiting, with
	// {position} replaced by the caller's place in the queue.
	Menu string `json:"menu,omitempty"`
	Hold string `json:"hold,omitempty"`
}

// VoiceChoice is one entry of the topic menu.
type VoiceChoice struct {
	Digit string `json:"digit"`
	Topic string `json:"topic"`
}

// Topic maps a customer-chosen subject to a queue.
type Topic struct {
	Name    string `json:"name"`
	Label   string `json:"label"`
	QueueID int64  `json:"queue_id,string"`
}

// QueueFor returns the queue a conversation on topic goes to.
func (i InboxConfig) QueueFor(topic string) int64 {
	for _, t := range i.Settings.Topics {
		if strings.EqualFold(t.Name, topic) && t.QueueID != 0 {
			return t.QueueID
		}
	}
	return i.QueueID
}

// Validate checks the inbox's fields.
func (i InboxConfig) Validate() error {
	f := map[string]string{}
	if !i.Channel.Valid() {
		f["channel"] = "unknown channel"
	}
	if strings.TrimSpace(i.Name) == "" {
		f["name"] = "required"
	}
	if i.QueueID == 0 {
		f["queue_id"] = "required"
	}
	for _, t := range i.Settings.Topics {
		if t.Name == "" {
			f["topics"] = "every topic needs a name"
		}
	}
	if w := i.Settings.ReopenWindowS; w < 0 || w > MaxReopenWindowS || (w > 0 && i.Channel == ChannelVoice) {
		f["reopen_window_s"] = "0 to 2592000 seconds (30 days); 0 for voice"
	}
	validTemplates(i.Settings.WhatsAppTemplates, f)
	if len(i.Settings.WhatsAppTemplates) > 0 && i.Channel != ChannelWhatsApp {
		f["whatsapp_templates"] = "only WhatsApp inboxes have templates"
	}
	switch i.Channel {
	case ChannelSMS, ChannelWhatsApp, ChannelVoice:
		if t := i.Twilio; t == nil || t.AccountSID == "" || t.AuthToken == "" || t.From == "" {
			f["twilio"] = "account_sid, auth_token and from are required"
		}
	case ChannelEmail:
		if !strings.Contains(i.Address, "@") {
			f["address"] = "the inbox's email address is required"
		}
		validMailServer(i.IMAP, "imap", f)
		validMailServer(i.SMTP, "smtp", f)
	}
	if len(f) > 0 {
		return Invalid("Invalid inbox.", f)
	}
	return nil
}
