package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

func TestQuestConsoleCreatesARatedTeamQuestWithLiveProgress(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	b := newBrowser(t)
	loginConsole(t, b, srv.base, "supervisor@parley.test")
	step(t, b, "create a rated team quest",
		openFromQualityMenu("quests-open"),
		chromedp.WaitVisible(chromedp.ID("quest-title")),
		waitJS(`[...document.querySelectorAll('#quest-team option')].some(o => o.value === 'Support')`),
		chromedp.SendKeys(chromedp.ID("quest-title"), "Support resolves 200 <b>chats</b> with CSAT ≥ 4.5"),
		runJS(`(() => { const m = document.getElementById('quest-metric'); m.value = 'resolved'; document.getElementById('quest-team').value = 'Support'; return true; })()`),
		runJS(`(() => { const x = document.getElementById('quest-target'); x.value = '200'; return true; })()`),
		chromedp.SendKeys(chromedp.ID("quest-min-csat"), "4.5"),
		chromedp.Click(chromedp.ID("quest-create")),
		waitJS(`[...document.querySelectorAll('#quests-list .quest')].some(q => q.textContent.includes('Support resolves 200 <b>chats</b>') && q.textContent.includes('0 / 200') && q.textContent.includes('needs ≥ 4.5'))`),
	)
	if n := value[int](t, b, `document.querySelectorAll('#quests-list b').length`); n != 0 {
		t.Errorf("quest title rendered as markup (%d <b>)", n)
	}
	if n := e.count(t, `SELECT count(*) FROM quests q JOIN teams tm ON tm.id = q.team_id WHERE tm.name = 'Support' AND q.metric = 'resolved'
		AND q.target = 200 AND q.min_csat = 4.5 AND q.ends_at > q.starts_at`); n != 1 {
		t.Error("quest not stored with its team, target and minimum CSAT")
	}
	// The same quest shows in an agent's own progress, with its condition.
	agent := srv.login(t, "agent1@parley.test")
	var mine struct {
		Items []struct {
			Title   string   `json:"title"`
			MinCSAT *float64 `json:"min_csat"`
			CSAT    *float64 `json:"csat"`
		} `json:"items"`
	}
	srv.do(t, "GET", "/api/v1/quests", agent, nil, &mine)
	if len(mine.Items) != 1 || mine.Items[0].MinCSAT == nil || *mine.Items[0].MinCSAT != 4.5 || mine.Items[0].CSAT != nil {
		t.Errorf("agent's quests %+v; want the rated quest with no CSAT yet", mine.Items)
	}
}
