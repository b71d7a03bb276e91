// Package surveys holds customer feedback surveys: definitions (CSAT, NPS,
// CES, choice and text questions with localised texts), their validation,
// the scoring formulas, the numbered-reply parser for SMS/WhatsApp and the
// signed, expiring tokens of the email answer page. It imports only the
// root package and the standard library; postgres stores surveys and desk
// sends them.
package surveys

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/parleyhq/parley"
)

// Question kinds.
const (
	KindCSAT   = "csat"   // 1–5
	KindNPS    = "nps"    // 0–10
	KindCES    = "ces"    // 1–7
	KindChoice = "choice" // one of Choices (answered by its 1-based number)
	KindText   = "text"   // free text
)

// Locales every text must have.
var Locales = []string{"en", "zh-CN"}

// Texts is a localised string: locale → text.
type Texts map[string]string

// In returns the text in locale, falling back to English.
func (t Texts) In(locale string) string {
	if s, ok := t[locale]; ok && s != "" {
		return s
	}
	if strings.HasPrefix(strings.ToLower(locale), "zh") && t["zh-CN"] != "" {
		return t["zh-CN"]
	}
	return t["en"]
}

// Question is one question of a survey.
type Question struct {
	Key     string  `json:"key"`
	Kind    string  `json:"kind"`
	Text    Texts   `json:"text"`
	Choices []Texts `json:"choices,omitempty"`
}

// Range returns the scale of a scored question (choice: 1..len(choices));
// ok is false for text.
func (q Question) Range() (lo, hi int, ok bool) {
	switch q.Kind {
	case KindCSAT:
		return 1, 5, true
	case KindNPS:
		return 0, 10, true
	case KindCES:
		return 1, 7, true
	case KindChoice:
		return 1, len(q.Choices), true
	}
	return 0, 0, false
}

// IDs are ids written as JSON strings, as everywhere in the API; numbers
// are accepted too.
type IDs []int64

// MarshalJSON writes the ids as strings.
func (ids IDs) MarshalJSON() ([]byte, error) {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = strconv.FormatInt(id, 10)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads ids written as strings or numbers.
func (ids *IDs) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make(IDs, 0, len(raw))
	for _, r := range raw {
		var s string
		if json.Unmarshal(r, &s) != nil {
			s = string(r)
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return fmt.Errorf("%s is not an id", r)
		}
		out = append(out, id)
	}
	*ids = out
	return nil
}

// Survey is a survey definition.
type Survey struct {
	ID      int64  `json:"id,string"`
	Name    string `json:"name"`
	Enabled bool   `json:"enabled"`
	// Channels and QueueIDs select the conversations that get the survey;
	// empty means all.
	Channels []parley.Channel `json:"channels"`
	QueueIDs IDs              `json:"queue_ids"`
	// SegmentIDs limits the survey to customers in at least one of these
	// CRM segments; empty means every customer.
	SegmentIDs IDs `json:"segment_ids"`
	// Trigger is what sends it: "resolved" (the conversation's resolution).
	Trigger string `json:"trigger"`
	// DelayS is how long after the resolution it is sent, in seconds (0:
	// at once). A conversation reopened meanwhile gets none.
	DelayS int `json:"delay_s"`
	// CapDays: at most one survey per customer per CapDays days (0: no cap).
	CapDays int `json:"cap_days"`
	// ReplyWindowMin: how long an SMS/WhatsApp reply counts as the answer.
	ReplyWindowMin int `json:"reply_window_min"`
	// LinkTTLHours: how long an email link works.
	LinkTTLHours int        `json:"link_ttl_hours"`
	Intro        Texts      `json:"intro"`
	Questions    []Question `json:"questions"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
}

// Defaults fills unset settings.
func (s *Survey) Defaults() {
	if s.Trigger == "" {
		s.Trigger = "resolved"
	}
	if s.ReplyWindowMin == 0 {
		s.ReplyWindowMin = 24 * 60
	}
	if s.LinkTTLHours == 0 {
		s.LinkTTLHours = 7 * 24
	}
	if s.Intro == nil {
		s.Intro = Texts{}
	}
	if s.Channels == nil {
		s.Channels = []parley.Channel{}
	}
	if s.QueueIDs == nil {
		s.QueueIDs = IDs{}
	}
	if s.SegmentIDs == nil {
		s.SegmentIDs = IDs{}
	}
}

// MaxDelayS bounds a survey's delay: 30 days.
const MaxDelayS = 30 * 24 * 3600

// Validate checks a definition; the error is EINVALID with one entry per
// bad field.
func (s Survey) Validate() error {
	f := map[string]string{}
	if strings.TrimSpace(s.Name) == "" || len(s.Name) > 200 {
		f["name"] = "required, at most 200 bytes"
	}
	if s.Trigger != "resolved" {
		f["trigger"] = `must be "resolved"`
	}
	if s.DelayS < 0 || s.DelayS > MaxDelayS {
		f["delay_s"] = fmt.Sprintf("must be between 0 and %d", MaxDelayS)
	}
	if len(s.SegmentIDs) > 20 {
		f["segment_ids"] = "at most 20 segments"
	}
	if s.CapDays < 0 || s.CapDays > 3650 {
		f["cap_days"] = "must be between 0 and 3650"
	}
	if s.ReplyWindowMin < 1 || s.ReplyWindowMin > 7*24*60 {
		f["reply_window_min"] = "must be between 1 and 10080"
	}
	if s.LinkTTLHours < 1 || s.LinkTTLHours > 90*24 {
		f["link_ttl_hours"] = "must be between 1 and 2160"
	}
	for i, ch := range s.Channels {
		switch ch {
		case parley.ChannelWebchat, parley.ChannelSMS, parley.ChannelWhatsApp, parley.ChannelEmail, parley.ChannelVoice:
		default:
			f[fmt.Sprintf("channels[%d]", i)] = "must be webchat, sms, whatsapp, email or voice"
		}
	}
	if len(s.Questions) == 0 || len(s.Questions) > 10 {
		f["questions"] = "one to ten questions"
	}
	keys := map[string]bool{}
	for i, q := range s.Questions {
		p := fmt.Sprintf("questions[%d]", i)
		if q.Key == "" || len(q.Key) > 40 || keys[q.Key] {
			f[p+".key"] = "required, unique, at most 40 bytes"
		}
		keys[q.Key] = true
		switch q.Kind {
		case KindCSAT, KindNPS, KindCES, KindText:
		case KindChoice:
			if len(q.Choices) < 2 || len(q.Choices) > 9 {
				f[p+".choices"] = "two to nine choices"
			}
			for j, c := range q.Choices {
				if missing := missingLocales(c); missing != "" {
					f[fmt.Sprintf("%s.choices[%d]", p, j)] = "missing " + missing
				}
			}
		default:
			f[p+".kind"] = "must be csat, nps, ces, choice or text"
		}
		if missing := missingLocales(q.Text); missing != "" {
			f[p+".text"] = "missing " + missing
		}
	}
	if len(s.Questions) > 0 {
		if _, _, ok := s.Questions[0].Range(); !ok {
			f["questions[0].kind"] = "the first question must be scored (csat, nps, ces or choice)"
		}
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid survey.", f)
	}
	return nil
}

func missingLocales(t Texts) string {
	var m []string
	for _, l := range Locales {
		if strings.TrimSpace(t[l]) == "" {
			m = append(m, l)
		}
	}
	return strings.Join(m, ", ")
}

// Applies reports whether the survey is sent for a conversation in queue
// on channel (its segments are checked by the store).
func (s Survey) Applies(queueID int64, ch parley.Channel) bool {
	if !s.Enabled || s.Trigger != "resolved" || len(s.Questions) == 0 {
		return false
	}
	okCh := len(s.Channels) == 0
	for _, c := range s.Channels {
		okCh = okCh || c == ch
	}
	okQ := len(s.QueueIDs) == 0
	for _, q := range s.QueueIDs {
		okQ = okQ || q == queueID
	}
	return okCh && okQ
}

// CheckScore checks an answer to a scored question.
func (q Question) CheckScore(score int) error {
	lo, hi, ok := q.Range()
	if !ok {
		return parley.Errorf(parley.EINVALID, "Question %s takes text, not a score.", q.Key)
	}
	if score < lo || score > hi {
		return parley.Invalid("Score out of range.", map[string]string{"score": fmt.Sprintf("must be between %d and %d", lo, hi)})
	}
	return nil
}

// ParseReply reads a numbered SMS/WhatsApp reply ("4", " 4.", "4 thanks",
// "４") as a score for q: the first run of digits, in range, at the start
// of the text. ok is false for anything else: the message is then not an
// answer.
func ParseReply(q Question, body string) (score int, comment string, ok bool) {
	s := strings.TrimSpace(body)
	i := 0
	var digits strings.Builder
	for _, r := range s {
		if !unicode.IsDigit(r) {
			break
		}
		if r >= '０' && r <= '９' {
			r = '0' + (r - '０')
		}
		digits.WriteRune(r)
		i += len(string(r))
		if digits.Len() > 2 {
			return 0, "", false
		}
	}
	if digits.Len() == 0 {
		return 0, "", false
	}
	rest := s[i:]
	if rest != "" {
		r := []rune(rest)[0]
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return 0, "", false // "4pm", "10am"
		}
	}
	n, err := strconv.Atoi(digits.String())
	if err != nil || q.CheckScore(n) != nil {
		return 0, "", false
	}
	comment = strings.TrimSpace(strings.TrimLeft(rest, ".,;:!)-/ 。，！"))
	return n, comment, true
}

// Prompt is the text of a numbered-reply survey in a locale: the intro
// and the first question.
func (s Survey) Prompt(locale string) string {
	var b strings.Builder
	if intro := s.Intro.In(locale); intro != "" {
		b.WriteString(intro)
		b.WriteString("\n")
	}
	b.WriteString(s.Questions[0].Prompt(locale))
	return b.String()
}

// Prompt is the numbered-reply text of one question: its text, the
// numbered choices, and what to reply ("Reply 1–5."; a text question takes
// the whole reply).
func (q Question) Prompt(locale string) string {
	var b strings.Builder
	zh := strings.HasPrefix(strings.ToLower(locale), "zh")
	b.WriteString(q.Text.In(locale))
	if q.Kind == KindChoice {
		for i, c := range q.Choices {
			fmt.Fprintf(&b, "\n%d. %s", i+1, c.In(locale))
		}
	}
	lo, hi, scored := q.Range()
	switch {
	case !scored && zh:
		b.WriteString("\n请直接回复您的意见。")
	case !scored:
		b.WriteString("\nReply with your answer.")
	case zh:
		fmt.Fprintf(&b, "\n请回复 %d–%d。", lo, hi)
	default:
		fmt.Fprintf(&b, "\nReply %d–%d.", lo, hi)
	}
	return b.String()
}

// Question returns the question with key.
func (s Survey) Question(key string) (Question, bool) {
	for _, q := range s.Questions {
		if q.Key == key {
			return q, true
		}
	}
	return Question{}, false
}
