package gamification

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Periods of a leaderboard.
const (
	PeriodDay   = "day"
	PeriodWeek  = "week"
	PeriodMonth = "month"
	PeriodAll   = "all"
)

// ValidPeriod reports whether p names a leaderboard period.
func ValidPeriod(p string) bool {
	return p == PeriodDay || p == PeriodWeek || p == PeriodMonth || p == PeriodAll
}

// DayBounds returns the local day containing t, as [start, end).
func DayBounds(t time.Time, loc *time.Location) (time.Time, time.Time) {
	l := t.In(loc)
	start := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 0, 1)
}

// WeekBounds returns the local week (Monday to Sunday) containing t.
func WeekBounds(t time.Time, loc *time.Location) (time.Time, time.Time) {
	day, _ := DayBounds(t, loc)
	offset := (int(day.Weekday()) + 6) % 7 // days since Monday
	start := day.AddDate(0, 0, -offset)
	return start, start.AddDate(0, 0, 7)
}

// MonthBounds returns the local month containing t.
func MonthBounds(t time.Time, loc *time.Location) (time.Time, time.Time) {
	l := t.In(loc)
	start := time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, loc)
	return start, start.AddDate(0, 1, 0)
}

// periodID names the period containing t ("d:2026-01-02", "w:2025-12-29"
// for the week starting that Monday, "m:2026-01", "all") and returns when
// its keys expire (zero for never).
func periodID(period string, t time.Time, loc *time.Location) (id string, expireAt time.Time) {
	switch period {
	case PeriodDay:
		s, e := DayBounds(t, loc)
		return "d:" + s.Format("2006-01-02"), e.AddDate(0, 0, 35)
	case PeriodWeek:
		s, e := WeekBounds(t, loc)
		return "w:" + s.Format("2006-01-02"), e.AddDate(0, 0, 100)
	case PeriodMonth:
		s, e := MonthBounds(t, loc)
		return "m:" + s.Format("2006-01"), e.AddDate(0, 0, 400)
	}
	return "all", time.Time{}
}

var allPeriods = []string{PeriodDay, PeriodWeek, PeriodMonth, PeriodAll}

// boards names the Redis sorted sets of a deployment:
//
//	{prefix}:lb:a:<period>        agents, everyone
//	{prefix}:lb:t<team>:<period>  agents, one team
//	{prefix}:lb:teams:<period>    teams
//	{prefix}:lb:built             present while the boards match the ledger
type boards struct{ prefix string }

func (b boards) agents(pid string) string { return "{" + b.prefix + "}:lb:a:" + pid }

func (b boards) team(team int64, pid string) string {
	return "{" + b.prefix + "}:lb:t" + strconv.FormatInt(team, 10) + ":" + pid
}

func (b boards) teams(pid string) string { return "{" + b.prefix + "}:lb:teams:" + pid }

func (b boards) built() string { return "{" + b.prefix + "}:lb:built" }

func (b boards) pattern() string { return "{" + b.prefix + "}:lb:*" }

// increment is one ZINCRBY of a board.
type increment struct {
	key      string
	member   string
	points   int
	expireAt time.Time
}

// increments lists the board updates of one ledger entry.
func (b boards) increments(e Entry, loc *time.Location) []increment {
	var out []increment
	agent := strconv.FormatInt(e.AgentID, 10)
	for _, p := range allPeriods {
		pid, exp := periodID(p, e.At, loc)
		out = append(out, increment{b.agents(pid), agent, e.Points, exp})
		for _, t := range e.TeamIDs {
			out = append(out,
				increment{b.team(t, pid), agent, e.Points, exp},
				increment{b.teams(pid), strconv.FormatInt(t, 10), e.Points, exp})
		}
	}
	return out
}

// apply adds entries to the live boards in one pipeline.
func (b boards) apply(ctx context.Context, rdb redis.UniversalClient, entries []Entry, loc *time.Location) error {
	if len(entries) == 0 {
		return nil
	}
	pipe := rdb.Pipeline()
	for _, e := range entries {
		for _, inc := range b.increments(e, loc) {
			pipe.ZIncrBy(ctx, inc.key, float64(inc.points), inc.member)
			if !inc.expireAt.IsZero() {
				pipe.ExpireAt(ctx, inc.key, inc.expireAt)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("update leaderboards: %w", err)
	}
	return nil
}

// board is the full content of one sorted set, for rebuilding.
type board struct {
	scores   map[string]int
	expireAt time.Time
}

// aggregate folds entries into boards, as the live increments would.
func (b boards) aggregate(into map[string]*board, e Entry, loc *time.Location) {
	for _, inc := range b.increments(e, loc) {
		bd := into[inc.key]
		if bd == nil {
			bd = &board{scores: map[string]int{}, expireAt: inc.expireAt}
			into[inc.key] = bd
		}
		bd.scores[inc.member] += inc.points
	}
}

// replace makes Redis hold exactly the given boards under the prefix.
func (b boards) replace(ctx context.Context, rdb redis.UniversalClient, all map[string]*board, now time.Time) error {
	var stale []string
	iter := rdb.Scan(ctx, 0, b.pattern(), 1000).Iterator()
	for iter.Next(ctx) {
		if k := iter.Val(); all[k] == nil {
			stale = append(stale, k)
		}
	}
	if err := iter.Err(); err != nil {
		return fmt.Errorf("scan leaderboards: %w", err)
	}
	pipe := rdb.TxPipeline()
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		_, err := pipe.Exec(ctx)
		n = 0
		if err != nil {
			return fmt.Errorf("rebuild leaderboards: %w", err)
		}
		return nil
	}
	for _, k := range stale {
		pipe.Del(ctx, k)
		if n++; n >= 500 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	for k, bd := range all {
		if !bd.expireAt.IsZero() && !bd.expireAt.After(now) {
			pipe.Del(ctx, k)
			continue
		}
		zs := make([]redis.Z, 0, len(bd.scores))
		for m, s := range bd.scores {
			zs = append(zs, redis.Z{Score: float64(s), Member: m})
		}
		pipe.Del(ctx, k)
		pipe.ZAdd(ctx, k, zs...)
		if !bd.expireAt.IsZero() {
			pipe.ExpireAt(ctx, k, bd.expireAt)
		}
		if n++; n >= 200 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	pipe.Set(ctx, b.built(), "1", 0)
	n++
	return flush()
}

// Snapshot returns every board of the deployment (key → member → score),
// for tests and diagnostics.
func (s *Service) Snapshot(ctx context.Context) (map[string]map[string]float64, error) {
	out := map[string]map[string]float64{}
	iter := s.Redis.Scan(ctx, 0, s.boards.pattern(), 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		if k == s.boards.built() {
			continue
		}
		zs, err := s.Redis.ZRangeWithScores(ctx, k, 0, -1).Result()
		if err != nil {
			return nil, err
		}
		m := map[string]float64{}
		for _, z := range zs {
			m[z.Member.(string)] = z.Score
		}
		out[k] = m
	}
	return out, iter.Err()
}

func parseMember(m any) int64 {
	s, _ := m.(string)
	id, _ := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return id
}
