package feedback

import (
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func TestStatusMovesOnlyOpenInProgressResolved(t *testing.T) {
	all := []string{StatusOpen, StatusInProgress, StatusResolved}
	want := map[[2]string]bool{
		{StatusOpen, StatusInProgress}:     true,
		{StatusInProgress, StatusResolved}: true,
		{StatusInProgress, StatusOpen}:     true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := CanMove(from, to); got != want[[2]string{from, to}] {
				t.Errorf("CanMove(%s, %s) = %v; want %v", from, to, got, !got)
			}
		}
	}
	if CanMove("closed", StatusOpen) || CanMove(StatusOpen, "closed") {
		t.Error("unknown statuses move")
	}
}

func TestKeywordRuleMatchesWholeEnglishWordsAndChineseAnywhere(t *testing.T) {
	r := DefaultSettings().Keywords
	for body, want := range map[string]string{
		"I want to file a Complaint about my bill": "complaint",
		"This is TERRIBLE.":                        "terrible",
		"我要投诉你们的客服":                                "投诉",
		"服务太差了":                                    "太差",
		"complaints desk opening hours?":           "", // "complaint" runs on into "s"
		"uncomplainted":                            "",
		"The terriblest pun":                       "",
		"Thanks, all good":                         "",
		"Can I speak to a manager please":          "speak to a manager",
	} {
		if got := r.Match(body); got != want {
			t.Errorf("Match(%q) = %q; want %q", body, got, want)
		}
	}
	r.Enabled = false
	if got := r.Match("complaint"); got != "" {
		t.Errorf("disabled rule matched %q", got)
	}
}

func TestDetractorRuleThresholds(t *testing.T) {
	r := DefaultSettings().Detractor
	cases := []struct {
		kind  string
		score int
		want  bool
	}{
		{"nps", 0, true}, {"nps", 6, true}, {"nps", 7, false}, {"nps", 10, false},
		{"csat", 1, true}, {"csat", 2, true}, {"csat", 3, false},
		{"ces", 7, false}, {"choice", 1, false},
	}
	for _, c := range cases {
		if got := r.Detractor(c.kind, c.score); got != c.want {
			t.Errorf("Detractor(%s, %d) = %v; want %v", c.kind, c.score, got, c.want)
		}
	}
	r.Enabled = false
	if r.Detractor("nps", 0) {
		t.Error("disabled rule fired")
	}
}

func TestDueAndOverdueFollowTheKindsSLA(t *testing.T) {
	s := DefaultSettings()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	if got := s.Due(KindComplaint, at); !got.Equal(at.Add(24 * time.Hour)) {
		t.Errorf("complaint due %v; want 24 h later", got)
	}
	if got := s.Due(KindSuggestion, at); !got.Equal(at.Add(72 * time.Hour)) {
		t.Errorf("suggestion due %v; want 72 h later", got)
	}
	due := s.Due(KindComplaint, at)
	if Overdue(StatusOpen, due, due.Add(-time.Second)) || !Overdue(StatusInProgress, due, due) || Overdue(StatusResolved, due, due.Add(time.Hour)) {
		t.Error("overdue: want late exactly from the due time, never when resolved")
	}
}

func TestSettingsValidationNamesEveryBadField(t *testing.T) {
	s := DefaultSettings()
	if err := s.Validate(func(string) bool { return true }); err != nil {
		t.Fatalf("default settings: %v", err)
	}
	s.SLAHours = map[string]int{KindComplaint: 0, "rant": 5}
	s.Categories = append(s.Categories, "service")
	s.FollowUpQueues = map[string]string{KindComplaint: "99"}
	s.Detractor.NPSMax = 11
	s.Keywords.Category = "nope"
	s.Keywords.Words["fr"] = []string{"plainte"}
	err := s.Validate(func(id string) bool { return id == "1" })
	fields := parley.ErrorFields(err)
	for _, f := range []string{"sla_hours.complaint", "sla_hours.suggestion", "sla_hours.rant", "categories[6]", "followup_queues.complaint",
		"detractor.nps_max", "keywords.category", "keywords.words.fr"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("no error for %s in %v", f, fields)
		}
	}
}

func TestNewItemValidation(t *testing.T) {
	s := DefaultSettings()
	ok := New{Kind: KindSuggestion, Category: "website", ConversationID: 1}
	if err := ok.Validate(s); err != nil {
		t.Fatalf("valid item: %v", err)
	}
	bad := New{Kind: "rant", Category: "weather", Summary: strings.Repeat("x", MaxSummary+1)}
	fields := parley.ErrorFields(bad.Validate(s))
	for _, f := range []string{"kind", "category", "summary", "conversation_id"} {
		if _, ok := fields[f]; !ok {
			t.Errorf("no error for %s in %v", f, fields)
		}
	}
}

func TestFollowUpNoteSaysWhatToDo(t *testing.T) {
	score := 3
	it := Item{ID: 12, Kind: KindComplaint, Category: "billing", SurveyKind: "nps", SurveyScore: &score, ConversationID: 40,
		DueAt: time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC), Summary: "NPS 3: too slow"}
	got := FollowUpNote(it)
	for _, want := range []string{"complaint #12", "category billing", "NPS score 3", "due 2026-03-03 09:00 UTC", "conversation 40", "too slow"} {
		if !strings.Contains(got, want) {
			t.Errorf("note %q lacks %q", got, want)
		}
	}
}
