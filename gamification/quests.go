package gamification

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// Quest scopes.
const (
	QuestAgent = "agent"
	QuestTeam  = "team"
)

// MetricPoints counts points; the other quest metrics count awards of a rule.
const MetricPoints = "points"

// QuestMetrics lists what a quest may count.
func QuestMetrics() []string {
	return []string{MetricPoints, RuleResolved, RuleFirstResponse, RuleFCR, RuleCSAT, RuleNPS, RulePromptAccept, RuleSLAMet}
}

// Quest is a time-boxed goal for one agent or a team, set by a supervisor.
// Progress is computed from the ledger: for "points" the sum of points in
// the window; for a rule the number of its awards in the window, less the
// reopen clawbacks of resolutions when the rule is "resolved".
type Quest struct {
	ID        int64     `json:"id,string"`
	Title     string    `json:"title"`
	Scope     string    `json:"scope"`
	AgentID   int64     `json:"agent_id,string,omitempty"`
	Team      string    `json:"team,omitempty"`
	TeamID    int64     `json:"team_id,string,omitempty"`
	Metric    string    `json:"metric"`
	Target    int       `json:"target"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedBy int64     `json:"created_by,string,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	// MinCSAT, when set, is a quality condition: the quest is completed
	// only when the mean of the CSAT answers (1–5) given in its window on
	// conversations its agent (or a member of its team) resolved is at
	// least MinCSAT. CSAT and CSATResponses are that mean (nil without
	// answers) and its number of answers.
	MinCSAT       *float64 `json:"min_csat,omitempty"`
	CSAT          *float64 `json:"csat,omitempty"`
	CSATResponses int      `json:"csat_responses,omitempty"`
	Progress      int      `json:"progress"`
	Completed     bool     `json:"completed"`
	Active        bool     `json:"active"`
}

// Reached reports whether a quest with progress and (for a rated quest)
// mean CSAT csat is completed: the target reached and, when MinCSAT is
// set, a mean CSAT at least MinCSAT.
func (q Quest) Reached(progress int, csat *float64) bool {
	if progress < q.Target {
		return false
	}
	return q.MinCSAT == nil || (csat != nil && *csat >= *q.MinCSAT)
}

// Validate checks a new quest.
func (q *Quest) Validate() error {
	q.Title = strings.TrimSpace(q.Title)
	f := map[string]string{}
	if q.Title == "" || utf8.RuneCountInString(q.Title) > 200 || !utf8.ValidString(q.Title) {
		f["title"] = "required, at most 200 characters"
	}
	switch q.Scope {
	case QuestAgent:
		if q.AgentID <= 0 {
			f["agent_id"] = "required for an agent quest"
		}
		q.TeamID, q.Team = 0, ""
	case QuestTeam:
		if q.TeamID <= 0 {
			f["team"] = "required for a team quest: the name of an existing team"
		}
		q.AgentID = 0
	default:
		f["scope"] = `must be "agent" or "team"`
	}
	if !slices.Contains(QuestMetrics(), q.Metric) {
		f["metric"] = "must be one of " + strings.Join(QuestMetrics(), ", ")
	}
	if q.MinCSAT != nil && (*q.MinCSAT < 1 || *q.MinCSAT > 5) {
		f["min_csat"] = "a mean CSAT between 1 and 5"
	}
	if q.Target <= 0 || q.Target > 1_000_000 {
		f["target"] = "must be between 1 and 1000000"
	}
	if q.StartsAt.IsZero() || q.EndsAt.IsZero() || !q.EndsAt.After(q.StartsAt) {
		f["ends_at"] = "starts_at and ends_at are required, ends_at after starts_at"
	} else if q.EndsAt.Sub(q.StartsAt) > 366*24*time.Hour {
		f["ends_at"] = "a quest lasts at most a year"
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid quest.", f)
	}
	return nil
}
