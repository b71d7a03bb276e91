package main

import "testing"

// TestReportsFilterByTeam: supervisors list the teams and filter a report
// by one (the report echoes it); agents may not; a bad team id is a 400.
func TestReportsFilterByTeam(t *testing.T) {
	e := newEnv(t)
	srv := e.start()
	sup := srv.login(t, "supervisor@parley.test")
	var teams struct {
		Items []struct{ ID, Name string }
	}
	if code := srv.do(t, "GET", "/api/v1/teams", sup, nil, &teams); code != 200 || len(teams.Items) == 0 {
		t.Fatalf("teams: %d %+v", code, teams)
	}
	if code := srv.do(t, "GET", "/api/v1/teams", srv.login(t, "agent1@parley.test"), nil, nil); code != 403 {
		t.Errorf("an agent listing teams: %d; want 403", code)
	}
	var rep struct {
		Filter  map[string]any `json:"filter"`
		Summary struct {
			AbandonRate struct {
				Value any    `json:"value"`
				Note  string `json:"note"`
			} `json:"abandon_rate"`
		} `json:"summary"`
	}
	id := teams.Items[0].ID
	if code := srv.do(t, "GET", "/api/v1/reports/summary?team_id="+id, sup, nil, &rep); code != 200 || rep.Filter["team_id"] != id {
		t.Fatalf("report by team: %d %+v", code, rep.Filter)
	}
	if rep.Summary.AbandonRate.Value != nil || rep.Summary.AbandonRate.Note == "" {
		t.Errorf("abandon rate for a team: %+v; want null with a note", rep.Summary.AbandonRate)
	}
	if code := srv.do(t, "GET", "/api/v1/reports/summary?team_id=x", sup, nil, nil); code != 400 {
		t.Errorf("bad team id: %d; want 400", code)
	}
}
