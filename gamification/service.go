package gamification

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/bus"
	"github.com/redis/go-redis/v9"
)

// Store is the gamification storage (package postgres implements it).
type Store interface {
	// InTx runs fn in one transaction, committing when it returns nil.
	InTx(ctx context.Context, fn func(Tx) error) error
	// Lock waits until this instance holds the processor lease.
	Lock(ctx context.Context) (Lease, error)
	// Settings returns the stored settings (possibly partial; see Merge).
	Settings(ctx context.Context) (Settings, error)
	SaveSettings(ctx context.Context, s Settings, by int64) error
	// ScanLedger calls fn with every ledger entry in id order.
	ScanLedger(ctx context.Context, fn func(Entry) error) error
	// Profiles returns the named agents that exist (not deleted).
	Profiles(ctx context.Context, ids []int64) (map[int64]Profile, error)
	SetPublic(ctx context.Context, agentID int64, public bool) error
	// AgentTotal returns the agent's cumulative points.
	AgentTotal(ctx context.Context, agentID int64) (int, error)
	AgentBadges(ctx context.Context, agentID int64) (map[string]time.Time, error)
	RecentEntries(ctx context.Context, agentID int64, limit int) ([]Entry, error)
	AgentTeams(ctx context.Context, agentID int64) ([]int64, error)
	TeamID(ctx context.Context, name string) (int64, error)
	TeamNames(ctx context.Context) (map[int64]string, error)
	CreateQuest(ctx context.Context, q *Quest) error
	// Quests lists quests newest first; agentID > 0 keeps those of the agent
	// and of the given teams.
	Quests(ctx context.Context, agentID int64, teamIDs []int64, activeAt time.Time) ([]Quest, error)
	Quest(ctx context.Context, id int64) (Quest, error)
	DeleteQuest(ctx context.Context, id int64) error
	// QuestProgress computes a quest's progress from the ledger.
	QuestProgress(ctx context.Context, q Quest) (int, error)
	// QuestCSAT returns the mean (nil without answers) and the number of
	// the CSAT answers given in a quest's window on conversations resolved
	// by its agent or a member of its team.
	QuestCSAT(ctx context.Context, q Quest) (*float64, int, error)
}

// Lease is the processor's exclusive right to consume the events.
type Lease interface {
	// Alive reports an error when the lease may have been lost.
	Alive(ctx context.Context) error
	Release()
}

// Tx is what the processor does inside one transaction.
type Tx interface {
	// PendingEvents returns up to limit events after the cursor in id order,
	// stopping before an id gap younger than gapWait (a transaction that may
	// still commit).
	PendingEvents(ctx context.Context, limit int, gapWait time.Duration) ([]Event, error)
	SetCursor(ctx context.Context, eventID int64) error
	Facts(ctx context.Context, ev Event) (Facts, error)
	// RulePoints sums an agent's points from a rule in [from, to).
	RulePoints(ctx context.Context, agentID int64, rule string, from, to time.Time) (int, error)
	// Record inserts e unless its (agent, rule, dedupe) exists, filling the
	// agent's teams; it returns the stored entry, whether it was new and the
	// agent's new total.
	Record(ctx context.Context, e Entry) (Entry, bool, int, error)
	CountAwards(ctx context.Context, q CountQuery) (int, error)
	// AwardBadge records a badge once; it reports whether it was new.
	AwardBadge(ctx context.Context, agentID int64, badge string, at time.Time) (bool, error)
	// FCRCandidates returns conversations resolved (with a disposition that
	// Counts) at or before closedBy-window, after the FCR cursor, oldest first.
	FCRCandidates(ctx context.Context, closedBy time.Time, window time.Duration, limit int) ([]FCRCandidate, error)
	SetFCRCursor(ctx context.Context, resolvedAt time.Time, convID int64) error
	WeekChecked(ctx context.Context) (string, error)
	SetWeekChecked(ctx context.Context, week string) error
	// CleanWeekAgents returns agents with at least minResolved resolutions
	// and no missed offer or SLA breach in [from, to).
	CleanWeekAgents(ctx context.Context, from, to time.Time, minResolved int) ([]int64, error)
}

// Profile is what leaderboards show of an agent.
type Profile struct {
	Name   string
	Public bool
}

// Publisher sends frames to agents' consoles (the bus).
type Publisher interface {
	Publish(ctx context.Context, topic string, v any) error
}

// Config holds the service's dependencies and tuning.
type Config struct {
	Store Store
	Redis redis.UniversalClient
	// Prefix names the deployment's Redis keys ({prefix}:lb:...).
	Prefix string
	Bus    Publisher
	Log    *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Batch is how many events one transaction processes (500).
	Batch int
	// Poll is the pause when there is nothing to do (500 ms).
	Poll time.Duration
	// GapWait is how long an id gap in the events may be waited for (5 s).
	GapWait time.Duration
	// ScanEvery is how often closed windows (FCR, clean weeks) are checked (1 min).
	ScanEvery time.Duration
}

// Service runs the rules and answers the API.
type Service struct {
	Config
	boards boards

	mu       sync.Mutex
	dirty    bool   // the boards may have missed an update
	builtTZ  string // time zone the boards were built with
	lastScan time.Time
}

// New returns a service.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Batch <= 0 {
		c.Batch = 500
	}
	if c.Poll <= 0 {
		c.Poll = 500 * time.Millisecond
	}
	if c.GapWait <= 0 {
		c.GapWait = 5 * time.Second
	}
	if c.ScanEvery <= 0 {
		c.ScanEvery = time.Minute
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{Config: c, boards: boards{c.Prefix}}
}

// Settings returns the effective settings (stored over defaults).
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	st, err := s.Store.Settings(ctx)
	if err != nil {
		return Settings{}, err
	}
	return Merge(st), nil
}

// RulePatch changes some fields of one rule.
type RulePatch struct {
	Key       string  `json:"key"`
	Enabled   *bool   `json:"enabled"`
	Points    *int    `json:"points"`
	DailyCap  *int    `json:"daily_cap"`
	Threshold *int    `json:"threshold"`
	Source    *string `json:"source"`
}

// SettingsPatch is what an admin sends: only the given fields change.
type SettingsPatch struct {
	TimeZone *string     `json:"timezone"`
	Rules    []RulePatch `json:"rules"`
}

// UpdateSettings validates and stores a change of the settings. The boards
// are rebuilt by the processor when the time zone changes.
func (s *Service) UpdateSettings(ctx context.Context, patch SettingsPatch, by int64) (Settings, error) {
	cur, err := s.Settings(ctx)
	if err != nil {
		return cur, err
	}
	next := Settings{TimeZone: cur.TimeZone, Rules: map[string]Rule{}}
	for k, r := range cur.Rules {
		next.Rules[k] = r
	}
	if patch.TimeZone != nil {
		next.TimeZone = *patch.TimeZone
	}
	for _, p := range patch.Rules {
		r, ok := next.Rules[p.Key]
		if !ok {
			return cur, parley.Invalid("Invalid gamification rules.", map[string]string{"rules." + p.Key: "unknown rule"})
		}
		if p.Enabled != nil {
			r.Enabled = *p.Enabled
		}
		if p.Points != nil {
			r.Points = *p.Points
		}
		if p.DailyCap != nil {
			r.DailyCap = *p.DailyCap
		}
		if p.Threshold != nil {
			r.Threshold = *p.Threshold
		}
		if p.Source != nil {
			r.Source = *p.Source
		}
		next.Rules[p.Key] = r
	}
	if err := next.Validate(); err != nil {
		return cur, err
	}
	if err := s.Store.SaveSettings(ctx, next, by); err != nil {
		return cur, err
	}
	return next, nil
}

// TeamID returns the id of a team by name.
func (s *Service) TeamID(ctx context.Context, name string) (int64, error) {
	return s.Store.TeamID(ctx, name)
}

// Run consumes the events until ctx ends. Only the instance holding the
// lease processes; the others wait for it. On taking the lease the boards
// are rebuilt from the ledger, and again whenever they look lost (Redis
// flushed or restarted, an update failed, the time zone changed).
func (s *Service) Run(ctx context.Context) error {
	for {
		err := s.runLeased(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.Log.Error("gamification processor stopped; retrying", "error", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(5 * time.Second):
		}
	}
}

func (s *Service) runLeased(ctx context.Context) error {
	lease, err := s.Store.Lock(ctx)
	if err != nil {
		return err
	}
	defer lease.Release()
	s.Log.Info("gamification processor started")
	if err := s.Rebuild(ctx); err != nil {
		return err
	}
	for {
		n, err := s.ProcessBatch(ctx)
		if err != nil {
			return err
		}
		if s.Now().Sub(s.lastScanTime()) >= s.ScanEvery {
			if err := s.ScanClosedWindows(ctx); err != nil {
				return err
			}
		}
		if err := s.healBoards(ctx); err != nil {
			s.Log.Warn("leaderboards not rebuilt", "error", err)
		}
		if n >= s.Batch {
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(s.Poll):
		}
		if err := lease.Alive(ctx); err != nil {
			return fmt.Errorf("processor lease lost: %w", err)
		}
	}
}

func (s *Service) lastScanTime() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastScan
}

// healBoards rebuilds the boards when they may not match the ledger.
func (s *Service) healBoards(ctx context.Context) error {
	st, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	need := s.dirty || s.builtTZ != st.TimeZone
	s.mu.Unlock()
	if !need {
		n, err := s.Redis.Exists(ctx, s.boards.built()).Result()
		if err != nil {
			return err
		}
		need = n == 0
	}
	if !need {
		return nil
	}
	return s.Rebuild(ctx)
}

// Rebuild recomputes every leaderboard from the ledger and replaces the
// Redis sorted sets with the result.
func (s *Service) Rebuild(ctx context.Context) error {
	st, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	loc := st.Location()
	s.mu.Lock()
	s.dirty = false
	s.mu.Unlock()
	all := map[string]*board{}
	if err := s.Store.ScanLedger(ctx, func(e Entry) error {
		s.boards.aggregate(all, e, loc)
		return nil
	}); err != nil {
		return fmt.Errorf("rebuild leaderboards: %w", err)
	}
	if err := s.boards.replace(ctx, s.Redis, all, s.Now()); err != nil {
		s.markDirty()
		return err
	}
	s.mu.Lock()
	s.builtTZ = st.TimeZone
	s.mu.Unlock()
	return nil
}

func (s *Service) markDirty() {
	s.mu.Lock()
	s.dirty = true
	s.mu.Unlock()
}

// outcome is what a transaction recorded, announced after it commits.
type outcome struct {
	entries []recorded
	badges  []earned
}

type recorded struct {
	Entry
	total int
}

type earned struct {
	agent int64
	badge Badge
	at    time.Time
}

// ProcessBatch processes the next batch of events in one transaction and
// returns how many it consumed.
func (s *Service) ProcessBatch(ctx context.Context) (int, error) {
	st, err := s.Settings(ctx)
	if err != nil {
		return 0, err
	}
	var out outcome
	var n int
	err = s.Store.InTx(ctx, func(tx Tx) error {
		out, n = outcome{}, 0
		events, err := tx.PendingEvents(ctx, s.Batch, s.GapWait)
		if err != nil || len(events) == 0 {
			return err
		}
		for _, ev := range events {
			facts, err := tx.Facts(ctx, ev)
			if err != nil {
				return fmt.Errorf("facts of event %d: %w", ev.ID, err)
			}
			if err := s.record(ctx, tx, st, Evaluate(ev, facts, st), &out); err != nil {
				return fmt.Errorf("event %d: %w", ev.ID, err)
			}
		}
		n = len(events)
		return tx.SetCursor(ctx, events[len(events)-1].ID)
	})
	if err != nil {
		return 0, fmt.Errorf("process gamification events: %w", err)
	}
	s.announce(ctx, st, out)
	return n, nil
}

// record applies caps, stores the entries and the badges they complete.
func (s *Service) record(ctx context.Context, tx Tx, st Settings, entries []Entry, out *outcome) error {
	loc := st.Location()
	for _, e := range entries {
		if e.Rule != RuleReopen {
			if r := st.Rule(e.Rule); r.DailyCap > 0 {
				from, to := DayBounds(e.At, loc)
				sofar, err := tx.RulePoints(ctx, e.AgentID, e.Rule, from, to)
				if err != nil {
					return err
				}
				capped := ApplyCap(e.Points, sofar, r.DailyCap)
				if capped == 0 {
					continue
				}
				if capped != e.Points {
					if e.Detail == nil {
						e.Detail = map[string]any{}
					}
					e.Detail["capped_from"] = e.Points
					e.Points = capped
				}
			}
		}
		rec, inserted, total, err := tx.Record(ctx, e)
		if err != nil {
			return err
		}
		if !inserted {
			continue
		}
		out.entries = append(out.entries, recorded{rec, total})
		for _, b := range Badges {
			q, ok := BadgeQuery(b, rec, loc)
			if !ok {
				continue
			}
			n, err := tx.CountAwards(ctx, q)
			if err != nil {
				return err
			}
			if !b.Earned(n) {
				continue
			}
			isNew, err := tx.AwardBadge(ctx, rec.AgentID, b.Key, rec.At)
			if err != nil {
				return err
			}
			if isNew {
				out.badges = append(out.badges, earned{rec.AgentID, b, rec.At})
			}
		}
	}
	return nil
}

// announce updates the boards and tells the consoles, after the commit.
// A failed board update marks the boards for a rebuild; frames are
// at-most-once anyway.
func (s *Service) announce(ctx context.Context, st Settings, out outcome) {
	if len(out.entries) > 0 {
		es := make([]Entry, len(out.entries))
		for i, r := range out.entries {
			es[i] = r.Entry
		}
		if err := s.boards.apply(ctx, s.Redis, es, st.Location()); err != nil {
			s.Log.Warn("leaderboards will be rebuilt", "error", err)
			s.markDirty()
		}
	}
	if s.Bus == nil {
		return
	}
	for _, r := range out.entries {
		frame := map[string]any{"type": "points", "delta": r.Points, "total": r.total, "reason": r.Reason, "rule": r.Rule,
			"at": r.At}
		if r.ConversationID != 0 {
			frame["conversation_id"] = fmt.Sprint(r.ConversationID)
		}
		if err := s.Bus.Publish(ctx, bus.AgentTopic(r.AgentID), frame); err != nil {
			s.Log.Warn("publish points", "agent_id", r.AgentID, "error", err)
		}
	}
	for _, b := range out.badges {
		frame := map[string]any{"type": "badge", "badge": b.badge.Key, "name": b.badge.Name, "earned_at": b.at}
		if err := s.Bus.Publish(ctx, bus.AgentTopic(b.agent), frame); err != nil {
			s.Log.Warn("publish badge", "agent_id", b.agent, "error", err)
		}
	}
}

// ScanClosedWindows awards what only a closed window decides: first-contact
// resolutions whose window has passed without a repeat contact, and clean
// weeks once the week is over.
func (s *Service) ScanClosedWindows(ctx context.Context) error {
	st, err := s.Settings(ctx)
	if err != nil {
		return err
	}
	now := s.Now()
	window := FCRWindow(st)
	loc := st.Location()
	for {
		var out outcome
		var n int
		err := s.Store.InTx(ctx, func(tx Tx) error {
			out, n = outcome{}, 0
			cands, err := tx.FCRCandidates(ctx, now, window, s.Batch)
			if err != nil || len(cands) == 0 {
				return err
			}
			for _, c := range cands {
				if err := s.record(ctx, tx, st, EvaluateFCR(c, now, st), &out); err != nil {
					return fmt.Errorf("fcr of conversation %d: %w", c.ConversationID, err)
				}
			}
			n = len(cands)
			last := cands[len(cands)-1]
			return tx.SetFCRCursor(ctx, last.ResolvedAt, last.ConversationID)
		})
		if err != nil {
			return fmt.Errorf("first-contact resolution scan: %w", err)
		}
		s.announce(ctx, st, out)
		if n < s.Batch {
			break
		}
	}
	// The last complete week.
	thisWeek, _ := WeekBounds(now, loc)
	from := thisWeek.AddDate(0, 0, -7)
	week := from.Format("2006-01-02")
	var out outcome
	err = s.Store.InTx(ctx, func(tx Tx) error {
		out = outcome{}
		done, err := tx.WeekChecked(ctx)
		if err != nil || done >= week {
			return err
		}
		agents, err := tx.CleanWeekAgents(ctx, from, thisWeek, CleanWeekMinResolved)
		if err != nil {
			return err
		}
		b, _ := BadgeByKey(BadgeCleanWeek)
		for _, a := range agents {
			isNew, err := tx.AwardBadge(ctx, a, BadgeCleanWeek, thisWeek)
			if err != nil {
				return err
			}
			if isNew {
				out.badges = append(out.badges, earned{a, b, thisWeek})
			}
		}
		return tx.SetWeekChecked(ctx, week)
	})
	if err != nil {
		return fmt.Errorf("clean week scan: %w", err)
	}
	s.announce(ctx, st, out)
	s.mu.Lock()
	s.lastScan = now
	s.mu.Unlock()
	return nil
}

// Standing is one row of a leaderboard.
type Standing struct {
	Rank    int    `json:"rank"`
	AgentID int64  `json:"agent_id,string"`
	Name    string `json:"name"`
	Points  int    `json:"points"`
	Level   Level  `json:"level"`
	// Me marks the viewer's own row (shown to them even when private).
	Me     bool `json:"me,omitempty"`
	Public bool `json:"public"`
}

// Board is a leaderboard as the API returns it.
type Board struct {
	Period string     `json:"period"`
	From   time.Time  `json:"from,omitzero"`
	To     time.Time  `json:"to,omitzero"`
	Team   string     `json:"team,omitempty"`
	Items  []Standing `json:"items"`
	// Me is the viewer's standing (also when they opted out, and when they
	// have no points yet in the period).
	Me *Standing `json:"me,omitempty"`
}

// Leaderboard returns a period's ranking, of everyone or of one team
// (teamID > 0). Agents who opted out are hidden from everyone but
// themselves; ranks count only the visible agents, and a private viewer's
// own rank is where they would stand.
func (s *Service) Leaderboard(ctx context.Context, viewer int64, period string, teamID int64) (Board, error) {
	if !ValidPeriod(period) {
		return Board{}, parley.Invalid("Invalid period.", map[string]string{"period": "must be day, week, month or all"})
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return Board{}, err
	}
	loc, now := st.Location(), s.Now()
	pid, _ := periodID(period, now, loc)
	b := Board{Period: period, Items: []Standing{}}
	switch period {
	case PeriodDay:
		b.From, b.To = DayBounds(now, loc)
	case PeriodWeek:
		b.From, b.To = WeekBounds(now, loc)
	case PeriodMonth:
		b.From, b.To = MonthBounds(now, loc)
	}
	key := s.boards.agents(pid)
	if teamID > 0 {
		key = s.boards.team(teamID, pid)
	}
	zs, err := s.Redis.ZRevRangeWithScores(ctx, key, 0, -1).Result()
	if err != nil {
		return b, fmt.Errorf("read leaderboard: %w", err)
	}
	ids := []int64{viewer}
	for _, z := range zs {
		ids = append(ids, parseMember(z.Member))
	}
	profiles, err := s.Store.Profiles(ctx, ids)
	if err != nil {
		return b, err
	}
	totals, err := s.allTimeTotals(ctx, ids)
	if err != nil {
		return b, err
	}
	level := func(id int64) Level { l, _, _ := LevelFor(totals[id]); return l }
	var me *Standing
	rank, prev := 0, 0
	for _, z := range zs {
		id := parseMember(z.Member)
		p, ok := profiles[id]
		if !ok {
			continue // deleted agent
		}
		row := Standing{AgentID: id, Name: p.Name, Points: int(z.Score), Level: level(id), Me: id == viewer, Public: p.Public}
		if !p.Public {
			if row.Me {
				me = &row
			}
			continue
		}
		if len(b.Items) == 0 || row.Points != prev {
			rank = len(b.Items) + 1
		}
		prev, row.Rank = row.Points, rank
		b.Items = append(b.Items, row)
		if row.Me {
			me = &row
		}
	}
	if me != nil && me.Rank == 0 {
		// A private viewer: where they would stand among the visible agents.
		me.Rank = 1
		for _, r := range b.Items {
			if r.Points > me.Points {
				me.Rank++
			}
		}
	}
	if me == nil {
		if p, ok := profiles[viewer]; ok {
			me = &Standing{AgentID: viewer, Name: p.Name, Level: level(viewer), Me: true, Public: p.Public}
		}
	}
	b.Me = me
	return b, nil
}

func (s *Service) allTimeTotals(ctx context.Context, ids []int64) (map[int64]int, error) {
	out := map[int64]int{}
	if len(ids) == 0 {
		return out, nil
	}
	members := make([]string, len(ids))
	for i, id := range ids {
		members[i] = fmt.Sprint(id)
	}
	scores, err := s.Redis.ZMScore(ctx, s.boards.agents("all"), members...).Result()
	if err != nil {
		return nil, fmt.Errorf("read totals: %w", err)
	}
	for i, sc := range scores {
		out[ids[i]] = int(sc)
	}
	return out, nil
}

// TeamStanding is one row of the team standings.
type TeamStanding struct {
	Rank   int    `json:"rank"`
	TeamID int64  `json:"team_id,string"`
	Points int    `json:"points"`
	Name   string `json:"name"`
}

// TeamStandings returns the teams' points in a period, best first.
func (s *Service) TeamStandings(ctx context.Context, period string) ([]TeamStanding, error) {
	if !ValidPeriod(period) {
		return nil, parley.Invalid("Invalid period.", map[string]string{"period": "must be day, week, month or all"})
	}
	st, err := s.Settings(ctx)
	if err != nil {
		return nil, err
	}
	pid, _ := periodID(period, s.Now(), st.Location())
	zs, err := s.Redis.ZRevRangeWithScores(ctx, s.boards.teams(pid), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("read team standings: %w", err)
	}
	names, err := s.Store.TeamNames(ctx)
	if err != nil {
		return nil, err
	}
	out := []TeamStanding{}
	for i, z := range zs {
		r := TeamStanding{Rank: i + 1, TeamID: parseMember(z.Member), Points: int(z.Score)}
		r.Name = names[r.TeamID]
		if i > 0 && r.Points == out[i-1].Points {
			r.Rank = out[i-1].Rank
		}
		out = append(out, r)
	}
	return out, nil
}

// EarnedBadge is a badge with when the agent earned it.
type EarnedBadge struct {
	Badge
	Earned   bool      `json:"earned"`
	EarnedAt time.Time `json:"earned_at,omitzero"`
}

// Achievements is an agent's progress.
type Achievements struct {
	AgentID      int64         `json:"agent_id,string"`
	Public       bool          `json:"public"`
	Points       int           `json:"points"`
	Level        Level         `json:"level"`
	NextLevel    *Level        `json:"next_level"`
	PointsToNext int           `json:"points_to_next"`
	Badges       []EarnedBadge `json:"badges"`
	Quests       []Quest       `json:"quests"`
	Recent       []Entry       `json:"recent"`
}

// Achievements returns an agent's points, level, badges, active quests
// with progress and latest ledger entries.
func (s *Service) Achievements(ctx context.Context, agentID int64) (Achievements, error) {
	a := Achievements{AgentID: agentID, Badges: []EarnedBadge{}, Quests: []Quest{}, Recent: []Entry{}}
	profiles, err := s.Store.Profiles(ctx, []int64{agentID})
	if err != nil {
		return a, err
	}
	p, ok := profiles[agentID]
	if !ok {
		return a, parley.Errorf(parley.ENOTFOUND, "agent %d not found.", agentID)
	}
	a.Public = p.Public
	if a.Points, err = s.Store.AgentTotal(ctx, agentID); err != nil {
		return a, err
	}
	cur, next, hasNext := LevelFor(a.Points)
	a.Level = cur
	if hasNext {
		a.NextLevel, a.PointsToNext = &next, next.Points-a.Points
	}
	got, err := s.Store.AgentBadges(ctx, agentID)
	if err != nil {
		return a, err
	}
	for _, b := range Badges {
		at, ok := got[b.Key]
		a.Badges = append(a.Badges, EarnedBadge{Badge: b, Earned: ok, EarnedAt: at})
	}
	if a.Quests, err = s.QuestsFor(ctx, agentID, true); err != nil {
		return a, err
	}
	if r, err := s.Store.RecentEntries(ctx, agentID, 20); err != nil {
		return a, err
	} else if r != nil {
		a.Recent = r
	}
	return a, nil
}

// SetPublic records whether an agent appears on public leaderboards.
func (s *Service) SetPublic(ctx context.Context, agentID int64, public bool) error {
	return s.Store.SetPublic(ctx, agentID, public)
}

// QuestsFor returns the quests of an agent and their teams (agentID 0: all
// quests), with progress; active limits them to those not yet ended.
func (s *Service) QuestsFor(ctx context.Context, agentID int64, active bool) ([]Quest, error) {
	var teams []int64
	if agentID > 0 {
		var err error
		if teams, err = s.Store.AgentTeams(ctx, agentID); err != nil {
			return nil, err
		}
	}
	var at time.Time
	if active {
		at = s.Now()
	}
	qs, err := s.Store.Quests(ctx, agentID, teams, at)
	if err != nil {
		return nil, err
	}
	for i := range qs {
		if err := s.fillProgress(ctx, &qs[i]); err != nil {
			return nil, err
		}
	}
	if qs == nil {
		qs = []Quest{}
	}
	return qs, nil
}

// CreateQuest validates and stores a quest.
func (s *Service) CreateQuest(ctx context.Context, q *Quest) error {
	if q.Scope == QuestTeam && q.Team != "" {
		id, err := s.Store.TeamID(ctx, q.Team)
		if err != nil {
			return err
		}
		q.TeamID = id
	}
	if err := q.Validate(); err != nil {
		return err
	}
	if err := s.Store.CreateQuest(ctx, q); err != nil {
		return err
	}
	return s.fillProgress(ctx, q)
}

// Quest returns one quest with its progress.
func (s *Service) Quest(ctx context.Context, id int64) (Quest, error) {
	q, err := s.Store.Quest(ctx, id)
	if err != nil {
		return q, err
	}
	return q, s.fillProgress(ctx, &q)
}

// DeleteQuest removes a quest.
func (s *Service) DeleteQuest(ctx context.Context, id int64) error {
	return s.Store.DeleteQuest(ctx, id)
}

func (s *Service) fillProgress(ctx context.Context, q *Quest) error {
	p, err := s.Store.QuestProgress(ctx, *q)
	if err != nil {
		return err
	}
	now := s.Now()
	q.Progress = max(p, 0)
	if q.MinCSAT != nil {
		if q.CSAT, q.CSATResponses, err = s.Store.QuestCSAT(ctx, *q); err != nil {
			return err
		}
	}
	q.Completed = q.Reached(q.Progress, q.CSAT)
	q.Active = !now.Before(q.StartsAt) && now.Before(q.EndsAt)
	return nil
}

// Levels and badges for the API.
func (s *Service) Catalog() map[string]any {
	return map[string]any{"levels": Levels, "badges": slices.Clone(Badges)}
}
