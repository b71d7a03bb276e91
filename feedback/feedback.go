// Package feedback holds customer feedback items — complaints, suggestions
// and praise tracked to closure — as pure rules: the settings an admin
// configures (SLA hours per kind, categories, follow-up queues, the
// detractor and complaint-keyword rules), their validation, the status
// machine (open → in_progress → resolved) and the rule decisions. It
// imports only the root package, surveys and the standard library;
// postgres stores items and desk opens them and their follow-up tasks.
package feedback

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/surveys"
)

// Kinds of feedback.
const (
	KindComplaint  = "complaint"
	KindSuggestion = "suggestion"
	KindPraise     = "praise"
)

// Kinds lists every kind.
func Kinds() []string { return []string{KindComplaint, KindSuggestion, KindPraise} }

// Statuses.
const (
	StatusOpen       = "open"
	StatusInProgress = "in_progress"
	StatusResolved   = "resolved"
)

// Sources: who opened an item.
const (
	SourceAgent   = "agent"   // an agent, through the API or the console
	SourceSurvey  = "survey"  // the detractor rule on a survey answer
	SourceKeyword = "keyword" // the complaint-keyword rule on a customer message
)

// CanMove reports whether an item may go from status from to status to:
// open → in_progress → resolved, and in_progress back to open (handed
// back). Resolved is final.
func CanMove(from, to string) bool {
	switch from {
	case StatusOpen:
		return to == StatusInProgress
	case StatusInProgress:
		return to == StatusResolved || to == StatusOpen
	}
	return false
}

// Settings are the admin-configurable feedback rules.
type Settings struct {
	// SLAHours is how long an item of each kind may stay unresolved.
	SLAHours map[string]int `json:"sla_hours"`
	// Categories an item may take; the console offers them.
	Categories []string `json:"categories"`
	// FollowUpQueues names, per kind, the queue a follow-up task is routed
	// to when an item opens ("" or absent: no follow-up).
	FollowUpQueues map[string]string `json:"followup_queues"`
	// OwnerIsAgent gives items opened by rules to the agent who handled
	// the conversation (otherwise they start unassigned).
	OwnerIsAgent bool          `json:"owner_is_agent"`
	Detractor    DetractorRule `json:"detractor"`
	Keywords     KeywordRule   `json:"keywords"`
}

// DetractorRule opens a complaint when a survey answer is at or below a
// threshold: NPS 0–NPSMax, CSAT 1–CSATMax.
type DetractorRule struct {
	Enabled  bool   `json:"enabled"`
	NPSMax   int    `json:"nps_max"`
	CSATMax  int    `json:"csat_max"`
	Category string `json:"category"`
}

// KeywordRule opens a complaint when a customer message contains one of
// the words of any locale (case-insensitive; English words match whole
// words, Chinese ones anywhere in the text). One item per conversation.
type KeywordRule struct {
	Enabled  bool                `json:"enabled"`
	Words    map[string][]string `json:"words"`
	Category string              `json:"category"`
}

// DefaultSettings returns the settings of a fresh deployment.
func DefaultSettings() Settings {
	return Settings{
		SLAHours:       map[string]int{KindComplaint: 24, KindSuggestion: 72, KindPraise: 168},
		Categories:     []string{"service", "billing", "product", "delivery", "website", "other"},
		FollowUpQueues: map[string]string{},
		OwnerIsAgent:   true,
		Detractor:      DetractorRule{Enabled: true, NPSMax: 6, CSATMax: 2, Category: "service"},
		Keywords: KeywordRule{Enabled: true, Category: "service", Words: map[string][]string{
			"en":    {"complaint", "complain", "unacceptable", "terrible", "worst", "disgusted", "refund now", "speak to a manager"},
			"zh-CN": {"投诉", "太差", "差评", "不满意", "退款", "欺骗", "找你们经理"},
		}},
	}
}

// Validate checks settings; queueOK reports whether a queue id exists.
func (s Settings) Validate(queueOK func(id string) bool) error {
	f := map[string]string{}
	for _, k := range Kinds() {
		if h := s.SLAHours[k]; h < 1 || h > 24*365 {
			f["sla_hours."+k] = "required, between 1 and 8760 hours"
		}
	}
	for k := range s.SLAHours {
		if !slices.Contains(Kinds(), k) {
			f["sla_hours."+k] = "not a kind (complaint, suggestion, praise)"
		}
	}
	if len(s.Categories) == 0 || len(s.Categories) > 50 {
		f["categories"] = "one to fifty categories"
	}
	seen := map[string]bool{}
	for i, c := range s.Categories {
		if !validCategory(c) || seen[c] {
			f[fmt.Sprintf("categories[%d]", i)] = "unique, 1 to 60 characters"
		}
		seen[c] = true
	}
	for k, q := range s.FollowUpQueues {
		if !slices.Contains(Kinds(), k) {
			f["followup_queues."+k] = "not a kind (complaint, suggestion, praise)"
		} else if q != "" && !queueOK(q) {
			f["followup_queues."+k] = "no such queue"
		}
	}
	if s.Detractor.NPSMax < 0 || s.Detractor.NPSMax > 10 {
		f["detractor.nps_max"] = "between 0 and 10"
	}
	if s.Detractor.CSATMax < 1 || s.Detractor.CSATMax > 5 {
		f["detractor.csat_max"] = "between 1 and 5"
	}
	if !seen[s.Detractor.Category] {
		f["detractor.category"] = "one of the categories"
	}
	if !seen[s.Keywords.Category] {
		f["keywords.category"] = "one of the categories"
	}
	n := 0
	for loc, ws := range s.Keywords.Words {
		if !slices.Contains(surveys.Locales, loc) {
			f["keywords.words."+loc] = "locale must be en or zh-CN"
		}
		for i, w := range ws {
			n++
			if strings.TrimSpace(w) == "" || utf8.RuneCountInString(w) > 60 || !utf8.ValidString(w) {
				f[fmt.Sprintf("keywords.words.%s[%d]", loc, i)] = "1 to 60 characters"
			}
		}
	}
	if n > 500 {
		f["keywords.words"] = "at most 500 words"
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid feedback settings.", f)
	}
	return nil
}

func validCategory(c string) bool {
	n := utf8.RuneCountInString(c)
	return utf8.ValidString(c) && strings.TrimSpace(c) == c && n >= 1 && n <= 60
}

// Due returns when an item of kind opened at opened is due.
func (s Settings) Due(kind string, opened time.Time) time.Time {
	h := s.SLAHours[kind]
	if h <= 0 {
		h = DefaultSettings().SLAHours[kind]
	}
	return opened.Add(time.Duration(h) * time.Hour)
}

// Overdue reports whether an item is late: not resolved and past due.
func Overdue(status string, due, now time.Time) bool {
	return status != StatusResolved && !now.Before(due)
}

// Detractor reports whether a survey answer opens a complaint under the
// rule; CES and other kinds never do.
func (r DetractorRule) Detractor(kind string, score int) bool {
	if !r.Enabled {
		return false
	}
	switch kind {
	case surveys.KindNPS:
		return score <= r.NPSMax
	case surveys.KindCSAT:
		return score <= r.CSATMax
	}
	return false
}

// Match returns the first complaint keyword found in body ("" for none).
func (r KeywordRule) Match(body string) string {
	if !r.Enabled {
		return ""
	}
	text := strings.ToLower(body)
	for _, loc := range surveys.Locales {
		for _, w := range r.Words[loc] {
			w = strings.ToLower(strings.TrimSpace(w))
			if w != "" && containsWord(text, w) {
				return w
			}
		}
	}
	return ""
}

// containsWord finds w in text; a match that begins or ends with a Latin
// letter or digit must not run on into one ("complaint" is not found in
// "complaints" but "投诉" is found in "我要投诉").
func containsWord(text, w string) bool {
	for i := 0; i <= len(text)-len(w); {
		j := strings.Index(text[i:], w)
		if j < 0 {
			return false
		}
		start, end := i+j, i+j+len(w)
		before, _ := utf8.DecodeLastRuneInString(text[:start])
		after, _ := utf8.DecodeRuneInString(text[end:])
		first, _ := utf8.DecodeRuneInString(w)
		last, _ := utf8.DecodeLastRuneInString(w)
		okBefore := start == 0 || !wordRune(first) || !wordRune(before)
		okAfter := end == len(text) || !wordRune(last) || !wordRune(after)
		if okBefore && okAfter {
			return true
		}
		_, size := utf8.DecodeRuneInString(text[start:])
		i = start + size
	}
	return false
}

// wordRune is a letter or digit of an alphabetic script (not CJK, whose
// words are not separated by spaces).
func wordRune(r rune) bool {
	if unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r) {
		return false
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// Item is one feedback item.
type Item struct {
	ID       int64  `json:"id,string"`
	Kind     string `json:"kind"`
	Category string `json:"category"`
	Summary  string `json:"summary"`
	Status   string `json:"status"`
	Source   string `json:"source"`
	// Keyword is the complaint keyword that opened it (source keyword).
	Keyword                string    `json:"keyword,omitempty"`
	OwnerID                int64     `json:"owner_id,string,omitempty"`
	OwnerName              string    `json:"owner_name,omitempty"`
	CustomerID             int64     `json:"customer_id,string"`
	CustomerName           string    `json:"customer_name"`
	ConversationID         int64     `json:"conversation_id,string,omitempty"`
	SurveyRequestID        int64     `json:"survey_request_id,string,omitempty"`
	SurveyQuestion         string    `json:"survey_question,omitempty"`
	SurveyKind             string    `json:"survey_kind,omitempty"`
	SurveyScore            *int      `json:"survey_score,omitempty"`
	MessageID              int64     `json:"message_id,string,omitempty"`
	CreatedBy              int64     `json:"created_by,string,omitempty"`
	DueAt                  time.Time `json:"due_at"`
	Overdue                bool      `json:"overdue"`
	FollowUpQueueID        int64     `json:"followup_queue_id,string,omitempty"`
	FollowUpConversationID int64     `json:"followup_conversation_id,string,omitempty"`
	Resolution             string    `json:"resolution,omitempty"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
	ResolvedAt             time.Time `json:"resolved_at,omitzero"`
}

// New is what opens an item.
type New struct {
	Kind            string
	Category        string
	Summary         string
	Source          string
	Keyword         string
	OwnerID         int64
	CustomerID      int64
	ConversationID  int64
	SurveyRequestID int64
	SurveyQuestion  string
	MessageID       int64
	CreatedBy       int64
	FollowUpQueueID int64
	// Dedupe makes rule items idempotent: "survey:<request id>",
	// "keyword:<conversation id>"; "" for items opened by hand.
	Dedupe string
}

// MaxSummary bounds an item's summary and resolution (characters).
const MaxSummary = 2000

// Validate checks an item opened by hand against the settings.
func (n New) Validate(s Settings) error {
	f := map[string]string{}
	if !slices.Contains(Kinds(), n.Kind) {
		f["kind"] = "must be complaint, suggestion or praise"
	}
	if !slices.Contains(s.Categories, n.Category) {
		f["category"] = "must be one of: " + strings.Join(s.Categories, ", ")
	}
	if utf8.RuneCountInString(n.Summary) > MaxSummary || !utf8.ValidString(n.Summary) {
		f["summary"] = fmt.Sprintf("at most %d characters", MaxSummary)
	}
	if n.CustomerID <= 0 && n.ConversationID <= 0 {
		f["conversation_id"] = "a conversation or a customer is required"
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid feedback item.", f)
	}
	return nil
}

// FollowUpSubject is the subject of a follow-up task's conversation.
func FollowUpSubject(it Item) string {
	return fmt.Sprintf("Follow-up of %s #%d (%s)", it.Kind, it.ID, it.Category)
}

// FollowUpNote is the private note that tells the offered agent what to do.
func FollowUpNote(it Item) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Follow-up task for %s #%d (category %s", it.Kind, it.ID, it.Category)
	if it.SurveyKind != "" && it.SurveyScore != nil {
		fmt.Fprintf(&b, "; %s score %d", strings.ToUpper(it.SurveyKind), *it.SurveyScore)
	}
	if it.Keyword != "" {
		fmt.Fprintf(&b, "; keyword %q", it.Keyword)
	}
	fmt.Fprintf(&b, "), due %s. Contact the customer back", it.DueAt.UTC().Format("2006-01-02 15:04 UTC"))
	if it.ConversationID != 0 {
		fmt.Fprintf(&b, " about conversation %d", it.ConversationID)
	}
	b.WriteString(".")
	if s := strings.TrimSpace(it.Summary); s != "" {
		b.WriteString("\n\n")
		b.WriteString(s)
	}
	return b.String()
}
