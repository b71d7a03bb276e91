package gamification

import "time"

// Level is a rank reached at a number of cumulative points.
type Level struct {
	Number int    `json:"number"`
	Key    string `json:"key"`
	Name   string `json:"name"`
	Points int    `json:"points"`
}

// Levels is the level table (docs/gamification.md): cumulative points, net
// of penalties and clawbacks, never below zero.
var Levels = []Level{
	{1, "rookie", "Rookie", 0},
	{2, "apprentice", "Apprentice", 100},
	{3, "pro", "Pro", 300},
	{4, "expert", "Expert", 700},
	{5, "master", "Master", 1500},
	{6, "legend", "Legend", 3000},
	{7, "grandmaster", "Grandmaster", 6000},
}

// LevelFor returns the level reached with total points and the next one
// (ok false at the top).
func LevelFor(total int) (cur Level, next Level, ok bool) {
	i := 0
	for j, l := range Levels {
		if total >= l.Points {
			i = j
		}
	}
	if i+1 < len(Levels) {
		return Levels[i], Levels[i+1], true
	}
	return Levels[i], Level{}, false
}

// Window is the span a badge counts over.
type Window string

const (
	WindowAll Window = "all"
	WindowDay Window = "day"
)

// Badge is an achievement earned once, when a count reaches its threshold.
type Badge struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Counted badges: Threshold ledger awards of Rule within Window (with
	// detail elapsed_s ≤ MaxSeconds, or score == Score, when set).
	Rule       string `json:"-"`
	Threshold  int    `json:"threshold"`
	Window     Window `json:"-"`
	MaxSeconds int    `json:"-"`
	Score      int    `json:"-"`
	// Scheduled badges are checked when a period closes (clean_week).
	Scheduled bool `json:"-"`
}

// Badge keys.
const (
	BadgeFirstResolution = "first_resolution"
	BadgeQuickDraw       = "quick_draw"
	BadgeOnTheBall       = "on_the_ball"
	BadgeCentury         = "century"
	BadgeOneAndDone      = "one_and_done"
	BadgeFiveStar        = "five_star_50"
	BadgeCleanWeek       = "clean_week"
)

// CleanWeekMinResolved is how many resolutions a week needs to count as a
// clean week (a week with no work is not an achievement).
const CleanWeekMinResolved = 10

// Badges lists every badge (docs/gamification.md).
var Badges = []Badge{
	{Key: BadgeFirstResolution, Name: "First resolution", Description: "Resolve your first conversation.",
		Rule: RuleResolved, Threshold: 1, Window: WindowAll},
	{Key: BadgeQuickDraw, Name: "Quick draw", Description: "10 first responses under a minute in one day.",
		Rule: RuleFirstResponse, Threshold: 10, Window: WindowDay, MaxSeconds: 59},
	{Key: BadgeOnTheBall, Name: "On the ball", Description: "Accept 25 offers promptly.",
		Rule: RulePromptAccept, Threshold: 25, Window: WindowAll},
	{Key: BadgeCentury, Name: "Century", Description: "Resolve 100 conversations.",
		Rule: RuleResolved, Threshold: 100, Window: WindowAll},
	{Key: BadgeOneAndDone, Name: "One and done", Description: "25 first-contact resolutions.",
		Rule: RuleFCR, Threshold: 25, Window: WindowAll},
	{Key: BadgeFiveStar, Name: "Five stars", Description: "50 five-star CSAT ratings.",
		Rule: RuleCSAT, Threshold: 50, Window: WindowAll, Score: 5},
	{Key: BadgeCleanWeek, Name: "Clean week", Description: "A week with at least 10 resolutions and no missed offer or SLA breach.",
		Threshold: 1, Scheduled: true},
}

// BadgeByKey returns a badge definition.
func BadgeByKey(k string) (Badge, bool) {
	for _, b := range Badges {
		if b.Key == k {
			return b, true
		}
	}
	return Badge{}, false
}

// CountQuery asks the ledger how many awards count towards a badge.
type CountQuery struct {
	AgentID    int64
	Rule       string
	From, To   time.Time // To exclusive; zero From means since the start
	MaxSeconds int
	Score      int
}

// BadgeQuery returns the count a recorded entry may complete for badge b,
// or false when the entry does not count towards it.
func BadgeQuery(b Badge, e Entry, loc *time.Location) (CountQuery, bool) {
	if b.Scheduled || b.Rule != e.Rule || e.Points <= 0 {
		return CountQuery{}, false
	}
	if b.MaxSeconds > 0 {
		s, ok := detailInt(e.Detail, "elapsed_s")
		if !ok || s > b.MaxSeconds {
			return CountQuery{}, false
		}
	}
	if b.Score > 0 {
		s, ok := detailInt(e.Detail, "score")
		if !ok || s != b.Score {
			return CountQuery{}, false
		}
	}
	q := CountQuery{AgentID: e.AgentID, Rule: b.Rule, MaxSeconds: b.MaxSeconds, Score: b.Score}
	if b.Window == WindowDay {
		q.From, q.To = DayBounds(e.At, loc)
	}
	return q, true
}

// Earned reports whether a count reaches the badge's threshold.
func (b Badge) Earned(count int) bool { return count >= b.Threshold }

func detailInt(d map[string]any, k string) (int, bool) {
	switch v := d[k].(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	}
	return 0, false
}
