package agentui

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// gameBackend answers the gamification API in front of the fake backend.
type gameBackend struct {
	mu      sync.Mutex
	public  bool
	points  int
	periods []string
	// admin signs the agent in as an admin.
	admin bool
	rules []frame
	saved []frame // the rules of the last PUT
	teams []string
}

func (g *gameBackend) me() frame {
	g.mu.Lock()
	defer g.mu.Unlock()
	return frame{"agent_id": "5", "public": g.public, "points": g.points,
		"level":      frame{"number": 1, "key": "rookie", "name": "Rookie", "points": 0},
		"next_level": frame{"number": 2, "key": "apprentice", "name": "Apprentice", "points": 100}, "points_to_next": 100 - g.points,
		"badges": []frame{{"key": "first_resolution", "name": "First resolution", "description": "Resolve your first conversation.", "threshold": 1,
			"earned": g.points > 0, "earned_at": "2026-03-04T10:00:00Z"},
			{"key": "century", "name": "Century", "description": "Resolve 100 conversations.", "threshold": 100, "earned": false}},
		"quests": []frame{{"id": "q1", "title": `<b>Team</b> resolves 200`, "scope": "team", "team": "Support", "metric": "resolved",
			"target": 200, "progress": 57, "completed": false, "active": true}},
		"recent": []frame{}}
}

func (g *gameBackend) handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	mux.HandleFunc("GET /api/v1/gamification/me", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, g.me())
	})
	mux.HandleFunc("PUT /api/v1/gamification/me", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.public = false
		g.mu.Unlock()
		writeJSON(w, 200, g.me())
	})
	if g.admin {
		admin := frame{"id": "5", "name": "Alice Admin", "email": "alice@example.com", "role": "admin"}
		mux.HandleFunc("POST /api/v1/auth/login", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, frame{"token": "tok-1", "agent": admin})
		})
		mux.HandleFunc("GET /api/v1/auth/me", func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer tok-1" {
				writeJSON(w, 401, frame{"error": frame{"code": "unauthorized", "message": "no session"}})
				return
			}
			writeJSON(w, 200, frame{"agent": admin})
		})
	}
	mux.HandleFunc("GET /api/v1/gamification/rules", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		defer g.mu.Unlock()
		writeJSON(w, 200, frame{"timezone": "UTC", "rules": g.rules})
	})
	mux.HandleFunc("PUT /api/v1/gamification/rules", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Rules []frame `json:"rules"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeJSON(w, 400, frame{"error": frame{"code": "invalid", "message": err.Error()}})
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		for _, p := range body.Rules {
			if p["key"] == "missed_offer" && p["points"].(float64) > 0 {
				writeJSON(w, 400, frame{"error": frame{"code": "invalid", "message": "Invalid gamification rules.",
					"fields": frame{"rules.missed_offer": "a penalty's points must be zero or negative"}}})
				return
			}
		}
		g.saved = body.Rules
		g.rules = body.Rules
		writeJSON(w, 200, frame{"timezone": "UTC", "rules": g.rules})
	})
	mux.HandleFunc("GET /api/v1/leaderboard/teams", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.teams = append(g.teams, r.URL.Query().Get("period"))
		g.mu.Unlock()
		writeJSON(w, 200, frame{"period": r.URL.Query().Get("period"), "items": []frame{
			{"rank": 1, "team_id": "2", "name": `<i>Support</i>`, "points": 120},
			{"rank": 2, "team_id": "3", "name": "Sales", "points": 45}}})
	})
	mux.HandleFunc("GET /api/v1/leaderboard", func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.periods = append(g.periods, r.URL.Query().Get("period"))
		public, points := g.public, g.points
		g.mu.Unlock()
		level := frame{"number": 1, "key": "rookie", "name": "Rookie", "points": 0}
		items := []frame{{"rank": 1, "agent_id": "7", "name": `<img src=x onerror="window.pwned=1">`, "points": 40, "level": level, "public": true}}
		me := frame{"rank": 2, "agent_id": "5", "name": "Alice Agent", "points": points, "level": level, "me": true, "public": public}
		if public {
			items = append(items, me)
		}
		writeJSON(w, 200, frame{"period": r.URL.Query().Get("period"), "items": items, "me": me})
	})
	return mux
}

func TestBrowserConsoleShowsPointsLevelAndLeaderboard(t *testing.T) {
	ui := newUI(t)
	fake, b := newFakeBackend(t, ui)
	target, _ := url.Parse(fake.URL)
	game := &gameBackend{public: true, points: 7}
	srv := httptest.NewServer(game.handler(httputil.NewSingleHostReverseProxy(target)))
	t.Cleanup(srv.Close)
	ctx := browser(t, "en-US")

	do(t, ctx, chromedp.Navigate(srv.URL+"/console/"))
	waitFor(t, ctx, `!document.getElementById('login-view').hidden`)
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("login-email"), "alice@example.com"),
		chromedp.SendKeys(chromedp.ID("login-password"), "secret"),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	agent := b.nextPeer(t, b.agentPeers)
	agent.send(t, frame{"type": "hello", "agent": testAgent, "presence": "offline", "conversations": []any{}})
	waitFor(t, ctx, `!document.getElementById('game-summary').hidden`)
	if got := js[string](t, ctx, `document.getElementById('game-summary').textContent.replace(/\s+/g, ' ').trim()`); got != "Lv 1 · Rookie 7 pts" {
		t.Errorf("header summary %q; want level and points", got)
	}

	game.mu.Lock()
	game.points = 17
	game.mu.Unlock()
	agent.send(t, frame{"type": "points", "delta": 10, "total": 17, "reason": "Resolved conversation 3", "rule": "resolved", "conversation_id": "3"})
	waitFor(t, ctx, `[...document.querySelectorAll('.toast-points .toast-text')].some((e) => e.textContent === '+10 points · Conversation resolved')`)
	waitFor(t, ctx, `document.getElementById('game-points').textContent === '17 pts'`)
	agent.send(t, frame{"type": "points", "delta": -3, "total": 14, "reason": "Missed an offer", "rule": "missed_offer"})
	waitFor(t, ctx, `[...document.querySelectorAll('.toast-text')].some((e) => e.textContent === '−3 points · Missed offer')`)
	agent.send(t, frame{"type": "badge", "badge": "first_resolution", "name": "First resolution"})
	waitFor(t, ctx, `[...document.querySelectorAll('.toast-text')].some((e) => e.textContent === 'Badge earned: First resolution')`)
	screenshot(t, ctx, "points-toast")

	// The leaderboard panel, with its period switch.
	do(t, ctx, chromedp.Click(chromedp.ID("leaderboard-open")))
	waitFor(t, ctx, `!document.getElementById('leaderboard-panel').hidden && document.querySelectorAll('#leaderboard-list li').length === 2`)
	if !js[bool](t, ctx, `document.getElementById('game-rules-section').hidden`) {
		t.Error("the point rules editor is shown to an agent")
	}
	if js[bool](t, ctx, `!!document.querySelector('#leaderboard-list img') || !!window.pwned`) {
		t.Error("an agent name was parsed as HTML")
	}
	if got := js[string](t, ctx, `document.querySelector('#leaderboard-list .leaderboard-me-row .leaderboard-points').textContent`); got != "17 pts" {
		t.Errorf("own row points %q; want 17 pts", got)
	}
	if got := js[string](t, ctx, `document.querySelector('#game-quests .quest-title').textContent`); got != "<b>Team</b> resolves 200" {
		t.Errorf("quest title %q; want the raw text", got)
	}
	if got := js[int](t, ctx, `document.querySelectorAll('#game-badges .badge-earned').length`); got != 1 {
		t.Errorf("%d earned badges shown; want 1", got)
	}
	do(t, ctx, chromedp.Click(`#leaderboard-periods button[data-period="day"]`))
	waitFor(t, ctx, `document.querySelector('#leaderboard-periods button[data-period="day"]').getAttribute('aria-pressed') === 'true'`)
	screenshot(t, ctx, "leaderboard")

	// Opting out: hidden from the list, own rank still shown.
	do(t, ctx, chromedp.Click(chromedp.ID("leaderboard-public")))
	waitFor(t, ctx, `document.querySelectorAll('#leaderboard-list li').length === 1 && !document.getElementById('leaderboard-me').hidden`)
	game.mu.Lock()
	periods := append([]string(nil), game.periods...)
	game.mu.Unlock()
	sawDay := false
	for _, p := range periods {
		sawDay = sawDay || p == "day"
	}
	if !sawDay {
		t.Errorf("leaderboard periods asked %v; want day among them", periods)
	}

	// Chinese.
	js[chromedp.Void](t, ctx, `(() => { const s = document.getElementById('language'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change')); })()`)
	waitFor(t, ctx, `document.getElementById('leaderboard-title').textContent === '排行榜'`)
	agent.send(t, frame{"type": "points", "delta": 5, "total": 19, "reason": "First response in 12 s", "rule": "first_response"})
	waitFor(t, ctx, `[...document.querySelectorAll('.toast-text')].some((e) => e.textContent === '+5 分 · 快速首次回复')`)
}

func TestBrowserAdminEditsPointRulesAndCockpitShowsTeamStandings(t *testing.T) {
	ui := newUI(t)
	fake, b := newFakeBackend(t, ui)
	target, _ := url.Parse(fake.URL)
	game := &gameBackend{public: true, points: 7, admin: true, rules: []frame{
		{"key": "resolved", "enabled": true, "points": 10, "daily_cap": 300},
		{"key": "csat_good", "enabled": true, "points": 15, "daily_cap": 300, "threshold": 4},
		{"key": "missed_offer", "enabled": true, "points": -3, "daily_cap": 30},
	}}
	srv := httptest.NewServer(game.handler(httputil.NewSingleHostReverseProxy(target)))
	t.Cleanup(srv.Close)
	ctx := browser(t, "en-US")

	do(t, ctx, chromedp.Navigate(srv.URL+"/console/"))
	waitFor(t, ctx, `!document.getElementById('login-view').hidden`)
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("login-email"), "alice@example.com"),
		chromedp.SendKeys(chromedp.ID("login-password"), "secret"),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	agent := b.nextPeer(t, b.agentPeers)
	agent.send(t, frame{"type": "hello", "agent": frame{"id": "5", "name": "Alice Admin", "role": "admin"}, "presence": "offline", "conversations": []any{}})

	// The rules editor, in the leaderboard panel.
	do(t, ctx, chromedp.Click(chromedp.ID("leaderboard-open")))
	waitFor(t, ctx, `!document.getElementById('game-rules-section').hidden`)
	do(t, ctx, chromedp.Click(chromedp.ID("game-rules-open")))
	waitFor(t, ctx, `document.querySelectorAll('#game-rules-list tr[data-rule]').length === 3`)
	if got := js[string](t, ctx, `document.querySelector('#game-rules-list tr[data-rule="csat_good"] .rule-name').textContent`); got != "Great customer rating" {
		t.Errorf("csat_good row named %q", got)
	}
	js[chromedp.Void](t, ctx, `(() => {
		const row = document.querySelector('#game-rules-list tr[data-rule="csat_good"]');
		row.querySelector('.rule-points').value = '20';
		row.querySelector('.rule-cap').value = '0';
		document.querySelector('#game-rules-list tr[data-rule="resolved"] .rule-enabled').click();
	})()`)
	do(t, ctx, chromedp.Click(chromedp.ID("game-rules-save")))
	waitFor(t, ctx, `document.getElementById('game-rules-status').textContent === 'Rules saved.'`)
	screenshot(t, ctx, "rules-editor")
	game.mu.Lock()
	saved := map[string]frame{}
	for _, r := range game.saved {
		saved[r["key"].(string)] = r
	}
	game.mu.Unlock()
	if r := saved["csat_good"]; r["points"] != float64(20) || r["daily_cap"] != float64(0) || r["enabled"] != true {
		t.Errorf("saved csat_good %v; want 20 points, no cap, enabled", r)
	}
	if r := saved["resolved"]; r["enabled"] != false || r["points"] != float64(10) {
		t.Errorf("saved resolved %v; want disabled at 10 points", r)
	}
	// A rejected change shows the server's reason.
	js[chromedp.Void](t, ctx, `(() => {
		const el = document.querySelector('#game-rules-list tr[data-rule="missed_offer"] .rule-points');
		el.removeAttribute('max'); el.value = '5';
	})()`)
	do(t, ctx, chromedp.Click(chromedp.ID("game-rules-save")))
	waitFor(t, ctx, `document.getElementById('game-rules-status').dataset.state === 'error'`)
	if got := js[string](t, ctx, `document.getElementById('game-rules-status').textContent`); got != "The rules were not saved. Missed offer: a penalty's points must be zero or negative" {
		t.Errorf("error status %q", got)
	}

	// Chinese.
	js[chromedp.Void](t, ctx, `(() => { const s = document.getElementById('language'); s.value = 'zh-CN'; s.dispatchEvent(new Event('change')); })()`)
	waitFor(t, ctx, `document.getElementById('game-rules-title').textContent === '积分规则'`)
	do(t, ctx, chromedp.Click(chromedp.ID("leaderboard-close")))

	// Team standings on the supervisor cockpit.
	waitFor(t, ctx, `!document.getElementById('wallboard-open').hidden`)
	do(t, ctx, chromedp.Click(chromedp.ID("wallboard-open")))
	waitFor(t, ctx, `document.querySelectorAll('#wallboard-teams tr[data-team-id]').length === 2`)
	if got := js[string](t, ctx, `document.querySelector('#wallboard-teams tr[data-team-id="2"] .team-name').textContent`); got != "<i>Support</i>" {
		t.Errorf("team name %q; want the raw text", got)
	}
	if js[bool](t, ctx, `!!document.querySelector('#wallboard-teams i')`) {
		t.Error("a team name was parsed as HTML")
	}
	if got := js[string](t, ctx, `document.querySelector('#wallboard-teams tr[data-team-id="3"] .team-points').textContent`); got != "45" {
		t.Errorf("Sales points %q; want 45", got)
	}
	if got := js[string](t, ctx, `document.getElementById('wallboard-teams-title').textContent`); got != "今日团队排名" {
		t.Errorf("team standings title %q in zh-CN", got)
	}
	game.mu.Lock()
	teams := append([]string(nil), game.teams...)
	game.mu.Unlock()
	if len(teams) == 0 || teams[0] != "day" {
		t.Errorf("team standings asked for periods %v; want day", teams)
	}
}
