package main

import (
	"strings"
	"testing"
)

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

// TestReportsFilterByTagAndSegmentInJSONAndCSV: a waiting chat tagged
// "vip" whose customer is in a segment counts under both filters (JSON
// and CSV), and not under another tag or a segment it is not in.
func TestReportsFilterByTagAndSegmentInJSONAndCSV(t *testing.T) {
	srv := newEnv(t).start()
	sup := srv.login(t, "supervisor@parley.test")
	conv := srv.queuedChat(t, srv.inboxID(t, srv.login(t, "admin@parley.test")), sup)
	if code := srv.do(t, "POST", "/api/v1/conversations/"+conv+"/tags", sup, map[string]any{"add": []string{"vip"}}, nil); code != 200 {
		t.Fatalf("tag: %d", code)
	}
	segment := func(name, channel string) string {
		var seg struct{ ID string }
		if code := srv.do(t, "POST", "/api/v1/segments", sup, map[string]any{"name": name, "filter": map[string]any{"channels": []string{channel}}}, &seg); code != 201 {
			t.Fatalf("segment %s: %d", name, code)
		}
		return seg.ID
	}
	chatters, texters := segment("Chatters", "webchat"), segment("Texters", "sms")
	entered := func(query string) int {
		t.Helper()
		var rep struct {
			Filter  map[string]any `json:"filter"`
			Summary struct {
				AbandonRate struct {
					Counts map[string]int `json:"counts"`
				} `json:"abandon_rate"`
			} `json:"summary"`
		}
		if code := srv.do(t, "GET", "/api/v1/reports/summary?"+query, sup, nil, &rep); code != 200 {
			t.Fatalf("report %s: %d", query, code)
		}
		return rep.Summary.AbandonRate.Counts["entered"]
	}
	for query, want := range map[string]int{"": 1, "tag=vip": 1, "tag=VIP": 1, "tag=other": 0,
		"segment_id=" + chatters: 1, "segment_id=" + texters: 0, "tag=vip&segment_id=" + chatters: 1, "tag=other&segment_id=" + chatters: 0} {
		if got := entered(query); got != want {
			t.Errorf("entered with %q: %d; want %d", query, got, want)
		}
	}
	for _, query := range []string{"tag=no%20spaces", "segment_id=x", "segment_id=999999"} {
		if code := srv.do(t, "GET", "/api/v1/reports/summary?"+query, sup, nil, nil); code != 400 {
			t.Errorf("report %s: %d; want 400", query, code)
		}
	}
	// CSV: the totals row's "entered" column (12th) follows the filter.
	for query, want := range map[string]string{"tag=vip": "1", "tag=other": "0", "segment_id=" + texters: "0"} {
		resp, body := srv.get(t, "/api/v1/reports/summary?format=csv&"+query, sup)
		lines := strings.Split(strings.TrimSpace(string(body)), "\n")
		if resp.StatusCode != 200 || len(lines) != 2 {
			t.Fatalf("CSV %s: %d\n%s", query, resp.StatusCode, body)
		}
		if cols := strings.Split(lines[1], ","); cols[11] != want {
			t.Errorf("CSV %s entered: %s; want %s\n%s", query, cols[11], want, body)
		}
	}
}
