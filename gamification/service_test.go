package gamification_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/gamification"
	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/surveys"
	"github.com/redis/go-redis/v9"
)

// frames is a Publisher that keeps what it was given.
type frames struct {
	mu  sync.Mutex
	got []sent
}

type sent struct {
	topic string
	frame map[string]any
}

func (f *frames) Publish(_ context.Context, topic string, v any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, sent{topic, v.(map[string]any)})
	return nil
}

func (f *frames) of(typ string) []sent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []sent
	for _, s := range f.got {
		if s.frame["type"] == typ {
			out = append(out, s)
		}
	}
	return out
}

// clock is the injected clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// world is a database with a web-chat inbox, two agents of team Support
// and one of team Sales, and a gamification service over it.
type world struct {
	t                 *testing.T
	ctx               context.Context
	db                *postgres.DB
	rdb               *redis.Client
	prefix            string
	svc               *gamification.Service
	pub               *frames
	clock             *clock
	inbox             parley.InboxConfig
	alice, bob, carol parley.Agent
	n                 int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	t.Parallel()
	ctx := context.Background()
	db := postgres.New(testenv.Postgres(t).Pool, nil)
	rdb, prefix := testenv.Redis(t)
	w := &world{t: t, ctx: ctx, db: db, rdb: rdb, prefix: prefix, pub: &frames{}, clock: &clock{now: time.Now()}}
	q := parley.Queue{Name: "General"}
	if err := db.CreateQueue(ctx, &q); err != nil {
		t.Fatal(err)
	}
	w.inbox = parley.InboxConfig{Channel: parley.ChannelWebchat, Name: "Chat", QueueID: q.ID}
	if err := db.CreateInbox(ctx, &w.inbox); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		p    *parley.Agent
		name string
		team string
	}{{&w.alice, "Alice", "Support"}, {&w.bob, "Bob", "Support"}, {&w.carol, "Carol", "Sales"}} {
		*a.p = parley.Agent{Name: a.name, Email: a.name + "@parley.test", Role: parley.RoleAgent, Teams: []string{a.team}}
		if err := db.CreateAgent(ctx, a.p, "password1"); err != nil {
			t.Fatal(err)
		}
	}
	w.svc = gamification.New(gamification.Config{Store: db.Gamification(), Redis: rdb, Prefix: prefix, Bus: w.pub,
		Now: w.clock.Now, GapWait: 10 * time.Millisecond, Poll: 20 * time.Millisecond})
	return w
}

// chat opens a conversation from customer addr.
func (w *world) chat(addr string) parley.Conversation {
	w.t.Helper()
	w.n++
	r, _, err := w.db.Receive(w.ctx, parley.Inbound{InboxID: w.inbox.ID, Identity: parley.Identity{Channel: parley.ChannelWebchat, Address: addr},
		DedupeKey: fmt.Sprint("m", w.n), Body: "hello", CustomerName: addr}, w.inbox)
	if err != nil {
		w.t.Fatal(err)
	}
	return r.Conversation
}

// accept offers conv to a and has them accept it after d.
func (w *world) accept(conv parley.Conversation, a parley.Agent, d time.Duration) {
	w.t.Helper()
	now := time.Now()
	o := parley.Offer{ID: fmt.Sprint("offer-", conv.ID, "-", a.ID), ConversationID: conv.ID, AgentID: a.ID, QueueID: conv.QueueID,
		CreatedAt: now.Add(-d), ExpiresAt: now.Add(time.Minute)}
	if err := w.db.RecordOffer(w.ctx, o); err != nil {
		w.t.Fatal(err)
	}
	o.State, o.EndedAt = parley.OfferAccepted, now
	if _, err := w.db.Assign(w.ctx, o); err != nil {
		w.t.Fatal(err)
	}
}

// miss offers conv to a and lets it time out.
func (w *world) miss(conv parley.Conversation, a parley.Agent) {
	w.t.Helper()
	now := time.Now()
	o := parley.Offer{ID: fmt.Sprint("missed-", conv.ID, "-", a.ID), ConversationID: conv.ID, AgentID: a.ID, QueueID: conv.QueueID,
		CreatedAt: now.Add(-30 * time.Second), ExpiresAt: now}
	if err := w.db.RecordOffer(w.ctx, o); err != nil {
		w.t.Fatal(err)
	}
	o.State, o.EndedAt = parley.OfferTimeout, now
	if err := w.db.EndOffer(w.ctx, o); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) reply(conv parley.Conversation, a parley.Agent) {
	w.t.Helper()
	if _, _, err := w.db.AgentMessage(w.ctx, conv.ID, a, "On it!", false, "", false); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) resolve(conv parley.Conversation, a parley.Agent) {
	w.t.Helper()
	if _, err := w.db.Resolve(w.ctx, conv.ID, a.ID, "resolved", false); err != nil {
		w.t.Fatal(err)
	}
}

// handled is a whole chat: accepted promptly, answered, resolved.
func (w *world) handled(addr string, a parley.Agent) parley.Conversation {
	w.t.Helper()
	c := w.chat(addr)
	w.accept(c, a, 3*time.Second)
	w.reply(c, a)
	w.resolve(c, a)
	return c
}

// event appends an event the outbox does not write yet (reopen, SLA, survey).
func (w *world) event(typ string, conv, agent int64, payload map[string]any) {
	w.t.Helper()
	if payload == nil {
		payload = map[string]any{}
	}
	if _, err := w.db.Pool().Exec(w.ctx, `INSERT INTO events (type, conversation_id, agent_id, payload) VALUES ($1, NULLIF($2, 0), NULLIF($3, 0), $4)`,
		typ, conv, agent, payload); err != nil {
		w.t.Fatal(err)
	}
}

// process consumes every pending event.
func (w *world) process() {
	w.t.Helper()
	time.Sleep(15 * time.Millisecond) // past GapWait, should a retried insert have left a gap
	for {
		n, err := w.svc.ProcessBatch(w.ctx)
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func (w *world) total(a parley.Agent) int {
	w.t.Helper()
	n, err := w.db.Gamification().AgentTotal(w.ctx, a.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) rulePoints(a parley.Agent, rule string) int {
	w.t.Helper()
	var n int
	if err := w.db.Pool().QueryRow(w.ctx, `SELECT COALESCE(SUM(points), 0) FROM gamification_ledger WHERE agent_id = $1 AND rule = $2`, a.ID, rule).Scan(&n); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) ledgerRows() int {
	var n int
	w.db.Pool().QueryRow(w.ctx, `SELECT count(*) FROM gamification_ledger`).Scan(&n)
	return n
}

func (w *world) cap(rule string, n int) {
	w.t.Helper()
	if _, err := w.svc.UpdateSettings(w.ctx, gamification.SettingsPatch{Rules: []gamification.RulePatch{{Key: rule, DailyCap: &n}}}, 0); err != nil {
		w.t.Fatal(err)
	}
}

func TestAcceptAnswerResolveAwardsAndTellsTheAgent(t *testing.T) {
	w := newWorld(t)
	if err := w.svc.Rebuild(w.ctx); err != nil {
		t.Fatal(err)
	}
	c := w.handled("visitor:1", w.alice)
	w.process()
	for rule, want := range map[string]int{gamification.RulePromptAccept: 2, gamification.RuleFirstResponse: 5, gamification.RuleResolved: 10} {
		if got := w.rulePoints(w.alice, rule); got != want {
			t.Errorf("%s: %d points; want %d", rule, got, want)
		}
	}
	if got := w.total(w.alice); got != 17 {
		t.Errorf("total %d; want 17", got)
	}
	pts := w.pub.of("points")
	if len(pts) != 3 {
		t.Fatalf("%d points frames; want 3: %v", len(pts), pts)
	}
	last := pts[2]
	if last.topic != fmt.Sprint("agent:", w.alice.ID) || last.frame["delta"] != 10 || last.frame["total"] != 17 ||
		last.frame["rule"] != "resolved" || last.frame["conversation_id"] != fmt.Sprint(c.ID) || last.frame["reason"] == "" {
		t.Errorf("last frame %v on %s; want resolved +10, total 17 to alice", last.frame, last.topic)
	}
	if b := w.pub.of("badge"); len(b) != 1 || b[0].frame["badge"] != gamification.BadgeFirstResolution {
		t.Errorf("badge frames %v; want first_resolution", b)
	}
	board, err := w.svc.Leaderboard(w.ctx, w.bob.ID, gamification.PeriodDay, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(board.Items) != 1 || board.Items[0].AgentID != w.alice.ID || board.Items[0].Points != 17 || board.Items[0].Rank != 1 {
		t.Errorf("day board %+v; want alice first with 17", board.Items)
	}
	if board.Me == nil || board.Me.AgentID != w.bob.ID || board.Me.Points != 0 {
		t.Errorf("viewer's own standing %+v; want bob with 0", board.Me)
	}
	a, err := w.svc.Achievements(w.ctx, w.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Points != 17 || a.Level.Key != "rookie" || a.NextLevel == nil || a.PointsToNext != 83 || len(a.Recent) != 3 {
		t.Errorf("achievements %+v", a)
	}
}

func TestDuplicateEventAwardsOnce(t *testing.T) {
	w := newWorld(t)
	w.handled("visitor:1", w.alice)
	w.process()
	rows, frames := w.ledgerRows(), len(w.pub.got)
	before, _ := w.svc.Snapshot(w.ctx)
	// Every event again, as after a crash between award and cursor.
	if _, err := w.db.Pool().Exec(w.ctx, `UPDATE gamification_state SET event_cursor = 0`); err != nil {
		t.Fatal(err)
	}
	w.process()
	if got := w.ledgerRows(); got != rows {
		t.Errorf("%d ledger rows after reprocessing; want %d", got, rows)
	}
	if got := len(w.pub.got); got != frames {
		t.Errorf("%d frames after reprocessing; want %d", got, frames)
	}
	if got := w.total(w.alice); got != 17 {
		t.Errorf("total %d; want 17", got)
	}
	after, _ := w.svc.Snapshot(w.ctx)
	if !reflect.DeepEqual(before, after) {
		t.Errorf("boards changed by reprocessing:\n%v\n%v", before, after)
	}
}

func TestReopenTakesResolutionPointsBack(t *testing.T) {
	w := newWorld(t)
	c := w.handled("visitor:1", w.alice)
	w.process()
	w.event(gamification.EventConversationReopened, c.ID, 0, nil)
	w.process()
	if got := w.rulePoints(w.alice, gamification.RuleResolved) + w.rulePoints(w.alice, gamification.RuleReopen); got != 0 {
		t.Errorf("net resolution points after reopen %d; want 0", got)
	}
	if got := w.total(w.alice); got != 7 {
		t.Errorf("total %d; want 7 (prompt accept and first response stay)", got)
	}
	last := w.pub.of("points")
	if f := last[len(last)-1].frame; f["delta"] != -10 || f["rule"] != gamification.RuleReopen {
		t.Errorf("last frame %v; want reopen -10", f)
	}
	// Solved again: the resolution counts again, once.
	if _, err := w.db.Pool().Exec(w.ctx, `UPDATE conversations SET status = 'assigned' WHERE id = $1`, c.ID); err != nil {
		t.Fatal(err)
	}
	w.resolve(c, w.alice)
	w.process()
	if got := w.total(w.alice); got != 17 {
		t.Errorf("total after the second resolve %d; want 17", got)
	}
	// A second reopen event takes back only what is left.
	w.event(gamification.EventConversationReopened, c.ID, 0, nil)
	w.event(gamification.EventConversationReopened, c.ID, 0, nil)
	w.process()
	if got := w.total(w.alice); got != 7 {
		t.Errorf("total after two more reopens %d; want 7", got)
	}
}

func TestDailyCapPerRule(t *testing.T) {
	w := newWorld(t)
	w.cap(gamification.RuleResolved, 25)
	for i := range 4 {
		w.handled(fmt.Sprint("visitor:", i), w.alice)
	}
	w.process()
	var pts []int
	rows, _ := w.db.Pool().Query(w.ctx, `SELECT points FROM gamification_ledger WHERE agent_id = $1 AND rule = 'resolved' ORDER BY id`, w.alice.ID)
	for rows.Next() {
		var p int
		rows.Scan(&p)
		pts = append(pts, p)
	}
	if !reflect.DeepEqual(pts, []int{10, 10, 5}) {
		t.Errorf("resolution awards %v; want [10 10 5] under a daily cap of 25", pts)
	}
	// Other rules are capped on their own.
	if got := w.rulePoints(w.alice, gamification.RuleFirstResponse); got != 20 {
		t.Errorf("first response points %d; want 20", got)
	}
	// Penalties are capped too.
	w.cap(gamification.RuleMissedOffer, 5)
	for i := range 3 {
		w.miss(w.chat(fmt.Sprint("missed:", i)), w.bob)
	}
	w.process()
	if got := w.rulePoints(w.bob, gamification.RuleMissedOffer); got != -5 {
		t.Errorf("missed offer penalties %d; want -5 under a cap of 5", got)
	}
}

func TestFCRAwardedOnlyWhenTheWindowClosesWithoutRepeatContact(t *testing.T) {
	w := newWorld(t)
	once := w.handled("visitor:once", w.alice)
	w.handled("visitor:again", w.bob)
	w.process()
	w.chat("visitor:again") // the same customer is back within the window
	w.process()
	if err := w.svc.ScanClosedWindows(w.ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.rulePoints(w.alice, gamification.RuleFCR); got != 0 {
		t.Fatalf("fcr awarded %d before the window closed", got)
	}
	w.clock.advance(7*24*time.Hour - time.Minute)
	w.svc.ScanClosedWindows(w.ctx)
	if got := w.rulePoints(w.alice, gamification.RuleFCR); got != 0 {
		t.Fatalf("fcr awarded %d a minute before the window closed", got)
	}
	w.clock.advance(2 * time.Minute)
	for range 2 {
		if err := w.svc.ScanClosedWindows(w.ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.rulePoints(w.alice, gamification.RuleFCR); got != 10 {
		t.Errorf("fcr for a conversation without repeat contact: %d; want 10", got)
	}
	if got := w.rulePoints(w.bob, gamification.RuleFCR); got != 0 {
		t.Errorf("fcr for a conversation with a repeat contact: %d; want 0", got)
	}
	var conv int64
	w.db.Pool().QueryRow(w.ctx, `SELECT conversation_id FROM gamification_ledger WHERE rule = 'fcr'`).Scan(&conv)
	if conv != once.ID {
		t.Errorf("fcr for conversation %d; want %d", conv, once.ID)
	}
}

func TestLeaderboardRebuiltFromTheLedgerEqualsTheLiveOne(t *testing.T) {
	w := newWorld(t)
	if err := w.svc.Rebuild(w.ctx); err != nil {
		t.Fatal(err)
	}
	w.handled("v:1", w.alice)
	w.handled("v:2", w.alice)
	c := w.handled("v:3", w.bob)
	w.handled("v:4", w.carol)
	w.miss(w.chat("v:5"), w.carol)
	w.process()
	w.event(gamification.EventConversationReopened, c.ID, 0, nil)
	w.event(gamification.EventSurveyAnswered, c.ID, 0, map[string]any{"kind": "csat", "score": 5})
	w.process()
	live, err := w.svc.Snapshot(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	liveBoard, _ := w.svc.Leaderboard(w.ctx, w.alice.ID, gamification.PeriodWeek, 0)
	if len(live) == 0 || len(liveBoard.Items) != 3 {
		t.Fatalf("live boards %v; board %+v", live, liveBoard)
	}
	testenv.DeletePrefix(t, w.rdb, w.prefix)
	if gone, _ := w.svc.Snapshot(w.ctx); len(gone) != 0 {
		t.Fatalf("keys left after the flush: %v", gone)
	}
	if err := w.svc.Rebuild(w.ctx); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := w.svc.Snapshot(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(live, rebuilt) {
		t.Errorf("rebuilt boards differ from the live ones:\nlive    %v\nrebuilt %v", live, rebuilt)
	}
	board, _ := w.svc.Leaderboard(w.ctx, w.alice.ID, gamification.PeriodWeek, 0)
	if !reflect.DeepEqual(board, liveBoard) {
		t.Errorf("rebuilt leaderboard %+v; want %+v", board, liveBoard)
	}
	// Team boards: Support holds alice and bob, Sales carol.
	support, _ := w.db.Gamification().TeamID(w.ctx, "Support")
	tb, _ := w.svc.Leaderboard(w.ctx, w.alice.ID, gamification.PeriodAll, support)
	if len(tb.Items) != 2 || tb.Items[0].AgentID != w.alice.ID || tb.Items[1].AgentID != w.bob.ID {
		t.Errorf("Support board %+v; want alice then bob", tb.Items)
	}
	teams, _ := w.svc.TeamStandings(w.ctx, gamification.PeriodAll)
	if len(teams) != 2 || teams[0].TeamID != support {
		t.Errorf("team standings %+v; want Support first", teams)
	}
}

func TestBadgeEarnedExactlyAtItsThreshold(t *testing.T) {
	w := newWorld(t)
	badges := func() map[string]time.Time {
		b, err := w.db.Gamification().AgentBadges(w.ctx, w.alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for i := range 9 {
		c := w.chat(fmt.Sprint("v:", i))
		w.accept(c, w.alice, 20*time.Second)
		w.reply(c, w.alice)
	}
	w.process()
	if _, ok := badges()[gamification.BadgeQuickDraw]; ok {
		t.Fatal("quick_draw earned after 9 fast first responses; want 10")
	}
	c := w.chat("v:10")
	w.accept(c, w.alice, 20*time.Second)
	w.reply(c, w.alice)
	w.process()
	at, ok := badges()[gamification.BadgeQuickDraw]
	if !ok {
		t.Fatal("quick_draw not earned at the 10th fast first response")
	}
	var tenth time.Time
	w.db.Pool().QueryRow(w.ctx, `SELECT at FROM gamification_ledger WHERE agent_id = $1 AND rule = 'first_response' ORDER BY id DESC LIMIT 1`, w.alice.ID).Scan(&tenth)
	if !at.Equal(tenth) {
		t.Errorf("earned at %v; want the 10th response's time %v", at, tenth)
	}
	if b := w.pub.of("badge"); len(b) != 1 || b[0].frame["badge"] != gamification.BadgeQuickDraw {
		t.Errorf("badge frames %v; want one quick_draw", b)
	}
}

func TestOptedOutAgentIsHiddenFromOthersButSeesThemselves(t *testing.T) {
	w := newWorld(t)
	w.handled("v:1", w.alice)
	w.handled("v:2", w.alice)
	w.handled("v:3", w.bob)
	w.process()
	if err := w.svc.SetPublic(w.ctx, w.alice.ID, false); err != nil {
		t.Fatal(err)
	}
	seen, _ := w.svc.Leaderboard(w.ctx, w.bob.ID, gamification.PeriodAll, 0)
	if len(seen.Items) != 1 || seen.Items[0].AgentID != w.bob.ID || seen.Items[0].Rank != 1 {
		t.Errorf("bob sees %+v; want only himself, first", seen.Items)
	}
	own, _ := w.svc.Leaderboard(w.ctx, w.alice.ID, gamification.PeriodAll, 0)
	if len(own.Items) != 1 || own.Me == nil || own.Me.AgentID != w.alice.ID || own.Me.Points != 34 || own.Me.Rank != 1 || own.Me.Public {
		t.Errorf("alice sees items %+v, me %+v; want bob listed and herself as private, rank 1 with 34", own.Items, own.Me)
	}
	a, _ := w.svc.Achievements(w.ctx, w.alice.ID)
	if a.Public || a.Points != 34 {
		t.Errorf("alice's achievements %+v; want private with 34 points", a)
	}
}

func TestQuestProgressIsLive(t *testing.T) {
	w := newWorld(t)
	now := w.clock.Now()
	q := gamification.Quest{Title: "Support resolves 2 this week", Scope: gamification.QuestTeam, Team: "Support",
		Metric: gamification.RuleResolved, Target: 2, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(7 * 24 * time.Hour)}
	if err := w.svc.CreateQuest(w.ctx, &q); err != nil {
		t.Fatal(err)
	}
	mine := gamification.Quest{Title: "Alice: 30 points", Scope: gamification.QuestAgent, AgentID: w.alice.ID,
		Metric: gamification.MetricPoints, Target: 30, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour)}
	if err := w.svc.CreateQuest(w.ctx, &mine); err != nil {
		t.Fatal(err)
	}
	w.handled("v:1", w.alice)
	c := w.handled("v:2", w.bob)
	w.handled("v:3", w.carol) // Sales: does not count
	w.process()
	got, _ := w.svc.Quest(w.ctx, q.ID)
	if got.Progress != 2 || !got.Completed || !got.Active {
		t.Errorf("team quest %+v; want 2/2 completed", got)
	}
	w.event(gamification.EventConversationReopened, c.ID, 0, nil)
	w.process()
	got, _ = w.svc.Quest(w.ctx, q.ID)
	if got.Progress != 1 || got.Completed {
		t.Errorf("team quest after a reopen %+v; want 1/2", got)
	}
	qs, _ := w.svc.QuestsFor(w.ctx, w.alice.ID, true)
	if len(qs) != 2 || qs[0].ID != mine.ID || qs[0].Progress != 17 {
		t.Errorf("alice's quests %+v; want her points quest at 17 and the team quest", qs)
	}
	if qs, _ := w.svc.QuestsFor(w.ctx, w.carol.ID, true); len(qs) != 0 {
		t.Errorf("carol sees quests %+v; want none", qs)
	}
	bad := gamification.Quest{Title: "x", Scope: gamification.QuestTeam, Team: "Nope", Metric: "points", Target: 1, StartsAt: now, EndsAt: now.Add(time.Hour)}
	if err := w.svc.CreateQuest(w.ctx, &bad); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("quest for an unknown team: %v; want not found", err)
	}
}

func TestCleanWeekBadgeWhenTheWeekCloses(t *testing.T) {
	w := newWorld(t)
	// Last week, in the service's clock: alice resolved 10 with no miss, bob
	// resolved 10 and missed one offer.
	lastWeek, _ := gamification.WeekBounds(w.clock.Now(), time.UTC)
	lastWeek = lastWeek.AddDate(0, 0, -7).Add(36 * time.Hour)
	for _, a := range []parley.Agent{w.alice, w.bob} {
		for range 10 {
			w.db.Pool().Exec(w.ctx, `INSERT INTO events (type, agent_id, created_at) VALUES ('conversation.resolved', $1, $2)`, a.ID, lastWeek)
		}
	}
	w.db.Pool().Exec(w.ctx, `INSERT INTO events (type, agent_id, created_at) VALUES ('offer.timeout', $1, $2)`, w.bob.ID, lastWeek)
	if err := w.svc.ScanClosedWindows(w.ctx); err != nil {
		t.Fatal(err)
	}
	a, _ := w.db.Gamification().AgentBadges(w.ctx, w.alice.ID)
	b, _ := w.db.Gamification().AgentBadges(w.ctx, w.bob.ID)
	if _, ok := a[gamification.BadgeCleanWeek]; !ok {
		t.Error("alice has no clean_week badge")
	}
	if _, ok := b[gamification.BadgeCleanWeek]; ok {
		t.Error("bob has a clean_week badge despite a missed offer")
	}
}

func TestRunProcessesOnceAcrossInstancesAndHealsTheBoards(t *testing.T) {
	w := newWorld(t)
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	other := &frames{}
	second := gamification.New(gamification.Config{Store: w.db.Gamification(), Redis: w.rdb, Prefix: w.prefix, Bus: other,
		GapWait: 10 * time.Millisecond, Poll: 20 * time.Millisecond})
	var wg sync.WaitGroup
	for _, s := range []*gamification.Service{w.svc, second} {
		wg.Add(1)
		go func() { defer wg.Done(); s.Run(ctx) }()
	}
	for i := range 3 {
		w.handled(fmt.Sprint("v:", i), w.alice)
	}
	deadline := time.Now().Add(10 * time.Second)
	for w.total(w.alice) != 51 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := w.total(w.alice); got != 51 {
		t.Fatalf("total %d; want 51", got)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(w.pub.of("points")) + len(other.of("points")); n != 9 {
		t.Errorf("%d points frames from both instances; want 9", n)
	}
	// A Redis flush is noticed and the boards come back.
	testenv.DeletePrefix(t, w.rdb, w.prefix)
	for time.Now().Before(deadline) {
		if b, _ := w.svc.Leaderboard(w.ctx, w.alice.ID, gamification.PeriodAll, 0); len(b.Items) == 1 && b.Items[0].Points == 51 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if b, _ := w.svc.Leaderboard(w.ctx, w.alice.ID, gamification.PeriodAll, 0); len(b.Items) != 1 || b.Items[0].Points != 51 {
		t.Errorf("board after a flush %+v; want alice with 51", b.Items)
	}
	cancel()
	wg.Wait()
}

// rate answers the CSAT survey of each resolved conversation with a score.
func (w *world) rate(convs []parley.Conversation, scores []int) {
	w.t.Helper()
	if _, err := w.db.CreateSurvey(w.ctx, surveys.Survey{Name: "CSAT", Enabled: true, Questions: []surveys.Question{
		{Key: "csat", Kind: surveys.KindCSAT, Text: surveys.Texts{"en": "How did we do?", "zh-CN": "满意吗？"}}}}); err != nil {
		w.t.Fatal(err)
	}
	sent, _, _, err := w.db.SendSurveys(w.ctx, 1000, 0, func(postgres.SurveyRequest, surveys.Survey) string { return "" })
	if err != nil {
		w.t.Fatal(err)
	}
	byConv := map[int64]int64{}
	for _, s := range sent {
		byConv[s.Request.ConversationID] = s.Request.ID
	}
	for i, c := range convs {
		score := scores[i]
		if _, _, err := w.db.AnswerSurvey(w.ctx, byConv[c.ID], []postgres.SurveyAnswer{{Question: "csat", Score: &score}}, ""); err != nil {
			w.t.Fatalf("rate conversation %d: %v", c.ID, err)
		}
	}
}

func TestRatedQuestNeedsTheCountAndTheMeanCSAT(t *testing.T) {
	w := newWorld(t)
	now := w.clock.Now()
	minCSAT := 4.5
	q := gamification.Quest{Title: "Support resolves 3 with CSAT ≥ 4.5", Scope: gamification.QuestTeam, Team: "Support",
		Metric: gamification.RuleResolved, Target: 3, MinCSAT: &minCSAT, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(7 * 24 * time.Hour)}
	if err := w.svc.CreateQuest(w.ctx, &q); err != nil {
		t.Fatal(err)
	}
	bad := q
	bad.MinCSAT = new(float64)
	*bad.MinCSAT = 5.5
	if err := w.svc.CreateQuest(w.ctx, &bad); parley.ErrorFields(err)["min_csat"] == "" {
		t.Errorf("min_csat 5.5: %v; want invalid min_csat", err)
	}
	a1, a2 := w.handled("v:1", w.alice), w.handled("v:2", w.alice)
	b1 := w.handled("v:3", w.bob)
	c1 := w.handled("v:4", w.carol) // Sales: neither counted nor rated for Support
	w.process()
	w.rate([]parley.Conversation{a1, a2, b1, c1}, []int{5, 4, 4, 1})
	got, _ := w.svc.Quest(w.ctx, q.ID)
	// Three resolutions reach the count, but the mean is (5+4+4)/3 = 4.33.
	if got.Progress != 3 || got.CSAT == nil || *got.CSAT != 4.33 || got.CSATResponses != 3 || got.Completed {
		t.Fatalf("quest %+v (csat %v); want 3/3, CSAT 4.33 from 3 answers, not completed", got, got.CSAT)
	}
	// Exactly at the threshold counts: two more fives make (5+4+4+5+5)/5 = 4.6.
	more := []parley.Conversation{w.handled("v:5", w.bob), w.handled("v:6", w.alice)}
	w.process()
	w.rate(more, []int{5, 5})
	got, _ = w.svc.Quest(w.ctx, q.ID)
	if got.Progress != 5 || *got.CSAT != 4.6 || !got.Completed {
		t.Errorf("quest %+v (csat %v); want 5/3 with CSAT 4.6, completed", got, *got.CSAT)
	}
	// A quest without the condition ignores ratings.
	plain := gamification.Quest{Title: "Carol resolves 1", Scope: gamification.QuestAgent, AgentID: w.carol.ID, Metric: gamification.RuleResolved,
		Target: 1, StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour)}
	if err := w.svc.CreateQuest(w.ctx, &plain); err != nil {
		t.Fatal(err)
	}
	if !plain.Completed || plain.CSAT != nil {
		t.Errorf("plain quest %+v; want completed without CSAT", plain)
	}
}
