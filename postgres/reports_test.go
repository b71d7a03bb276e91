package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/crm"
	"github.com/parleyhq/parley/internal/testenv"
	"github.com/parleyhq/parley/postgres"
)

// day is the scripted day, Monday 2 March 2026 (UTC).
var day = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)

// at is a time of the scripted day, "15:04:05" (or "-23:59:30": the day before).
func at(t *testing.T, hms string) time.Time {
	t.Helper()
	base := day
	if hms[0] == '-' {
		base, hms = day.AddDate(0, 0, -1), hms[1:]
	}
	c, err := time.Parse("15:04:05", hms)
	if err != nil {
		t.Fatal(err)
	}
	return base.Add(time.Duration(c.Hour())*time.Hour + time.Duration(c.Minute())*time.Minute + time.Duration(c.Second())*time.Second)
}

// scriptedDay writes a day of conversations, offers and presence changes
// straight into a fresh database. The expected figures are worked out by
// hand in TestReportOfAScriptedDayMatchesHandComputedFigures.
func scriptedDay(t *testing.T) (*postgres.DB, map[string]int64) {
	t.Helper()
	db := postgres.New(testenv.Postgres(t).Pool, testBox(t))
	ctx := context.Background()
	ids := map[string]int64{}
	sales := parley.Queue{Name: "Sales", ServiceLevel: parley.ServiceLevel{Percent: 80, Seconds: 20}, ShortAbandonS: 5, WrapUpS: 30}
	support := parley.Queue{Name: "Support", ServiceLevel: parley.ServiceLevel{Percent: 90, Seconds: 30}, ShortAbandonS: 10, WrapUpS: 0}
	for _, q := range []*parley.Queue{&sales, &support} {
		q.Defaults()
		if err := db.CreateQueue(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	ids["sales"], ids["support"] = sales.ID, support.ID
	for _, a := range []struct {
		key  string
		chat int
	}{{"A", 3}, {"B", 2}} {
		ag := parley.Agent{Name: "Agent " + a.key, Email: a.key + "@report.test", Role: parley.RoleAgent, Capacity: map[parley.Media]int{parley.MediaChat: a.chat}}
		if err := db.CreateAgent(ctx, &ag, "secret-password"); err != nil {
			t.Fatal(err)
		}
		ids[a.key] = ag.ID
	}
	in := parley.InboxConfig{Channel: parley.ChannelWebchat, Name: "Chat", QueueID: sales.ID}
	if err := db.CreateInbox(ctx, &in); err != nil {
		t.Fatal(err)
	}
	pool := db.Pool()
	customer := func(name string) int64 {
		if id, ok := ids[name]; ok {
			return id
		}
		var id int64
		if err := pool.QueryRow(ctx, `INSERT INTO customers (name) VALUES ($1) RETURNING id`, name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[name] = id
		return id
	}
	ts := func(s string) any {
		if s == "" {
			return nil
		}
		return at(t, s)
	}
	// name, customer, queue, status, agent, enqueued, assigned, resolved (abandon time for abandoned)
	convs := []struct{ name, cust, queue, status, agent, enq, asg, res string }{
		{"c0", "cu4", "sales", "resolved", "A", "-23:59:00", "-23:59:30", "00:01:30"},
		{"c1", "cu1", "sales", "resolved", "A", "09:00:00", "09:00:10", "09:05:10"},
		{"c2", "cu2", "sales", "resolved", "B", "09:10:00", "09:10:25", "09:20:25"},
		{"c3", "cu5", "sales", "abandoned", "", "09:30:00", "", "09:30:03"},
		{"c4", "cu6", "sales", "abandoned", "", "10:00:00", "", "10:00:40"},
		{"c5", "cu7", "sales", "abandoned", "", "10:15:00", "", "10:15:12"},
		{"c6", "cu1", "sales", "resolved", "A", "10:30:00", "10:30:20", "10:40:20"},
		{"c7", "cu8", "sales", "resolved", "A", "11:00:00", "11:00:05", "11:10:05"},
		{"c8", "cu9", "sales", "queued", "", "11:30:00", "", ""},
		{"c9", "cu3", "support", "resolved", "B", "09:00:00", "09:00:35", "09:10:35"},
		{"c10", "cu10", "support", "abandoned", "", "12:00:00", "", "12:00:08"},
		{"c11", "cu11", "support", "assigned", "A", "16:00:00", "16:00:02", ""},
	}
	for _, c := range convs {
		var agent any
		if c.agent != "" {
			agent = ids[c.agent]
		}
		var id int64
		err := pool.QueryRow(ctx, `INSERT INTO conversations (customer_id, inbox_id, queue_id, channel, status, agent_id, created_at, enqueued_at, assigned_at, resolved_at)
			VALUES ($1, $2, $3, 'webchat', $4, $5, $6::timestamptz, $6::timestamptz, $7, $8) RETURNING id`,
			customer(c.cust), in.ID, ids[c.queue], c.status, agent, ts(c.enq), ts(c.asg), ts(c.res)).Scan(&id)
		if err != nil {
			t.Fatalf("insert %s: %v", c.name, err)
		}
		ids[c.name] = id
	}
	// conversation, agent, state, created
	offers := []struct{ conv, agent, state, created string }{
		{"c1", "B", "timeout", "09:00:01"},
		{"c1", "A", "accepted", "09:00:08"},
		{"c2", "A", "rejected", "09:10:02"},
		{"c2", "B", "accepted", "09:10:20"},
		{"c4", "A", "canceled", "10:00:10"},
		{"c6", "A", "accepted", "10:30:15"},
		{"c6", "B", "rescinded", "10:30:15"},
		{"c7", "A", "accepted", "11:00:01"},
		{"c8", "B", "pending", "11:30:05"},
		{"c9", "B", "accepted", "09:00:30"},
		{"c0", "A", "accepted", "-23:59:20"}, // the day before: not counted
	}
	for i, o := range offers {
		var queue int64
		pool.QueryRow(ctx, `SELECT queue_id FROM conversations WHERE id = $1`, ids[o.conv]).Scan(&queue)
		if _, err := pool.Exec(ctx, `INSERT INTO offers (id, conversation_id, agent_id, queue_id, state, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6::timestamptz, $6::timestamptz + interval '30 seconds')`, "o"+string(rune('a'+i)), ids[o.conv], ids[o.agent], queue, o.state, at(t, o.created)); err != nil {
			t.Fatal(err)
		}
	}
	// conversation, kind, status, outcome, started, stopped, breached
	clocks := []struct{ conv, kind, status, outcome, started, stopped, breached string }{
		{"c1", "first_response", "stopped", "met", "09:00:00", "09:00:40", ""},
		{"c2", "first_response", "running", "", "09:10:00", "", "09:10:30"},
		{"c9", "resolution", "stopped", "met", "09:00:00", "09:10:35", ""},
		{"c4", "first_response", "stopped", "canceled", "10:00:00", "10:00:40", ""},
		{"c0", "first_response", "stopped", "met", "-23:59:00", "-23:59:40", ""},
	}
	for _, k := range clocks {
		var running any
		if k.status == "running" {
			running = at(t, k.started)
		}
		if _, err := pool.Exec(ctx, `INSERT INTO sla_clocks (conversation_id, kind, target_s, status, outcome, started_at, running_since, stopped_at, breached_at, due_at)
			VALUES ($1, $2, 30, $3, $4, $5, $6, $7, $8, $5::timestamptz + interval '30 seconds')`,
			ids[k.conv], k.kind, k.status, k.outcome, at(t, k.started), running, ts(k.stopped), ts(k.breached)); err != nil {
			t.Fatalf("clock of %s: %v", k.conv, err)
		}
	}
	// Survey answers, when the survey tables exist (their own issue).
	var surveys bool
	pool.QueryRow(ctx, `SELECT to_regclass('survey_answers') IS NOT NULL`).Scan(&surveys)
	if surveys {
		var sid int64
		if err := pool.QueryRow(ctx, `INSERT INTO surveys (name) VALUES ('After chat') RETURNING id`).Scan(&sid); err != nil {
			t.Fatal(err)
		}
		ids["surveys"] = sid
		answers := []struct {
			conv, kind string
			score      int
			at         string
		}{
			{"c1", "csat", 5, "09:30:00"}, {"c2", "csat", 4, "09:40:00"}, {"c6", "csat", 2, "11:00:00"},
			{"c1", "nps", 10, "09:30:00"}, {"c2", "nps", 9, "09:40:00"}, {"c6", "nps", 7, "11:00:00"}, {"c7", "nps", 3, "11:30:00"},
			{"c1", "ces", 2, "09:30:00"}, {"c2", "ces", 5, "09:40:00"},
			{"c0", "csat", 1, "-23:59:59"}, // the day before
		}
		reqs := map[string]int64{}
		for _, a := range answers {
			req, ok := reqs[a.conv]
			if !ok {
				if err := pool.QueryRow(ctx, `INSERT INTO survey_requests (survey_id, conversation_id, customer_id, inbox_id, queue_id, channel, status, expires_at)
					SELECT $1, c.id, c.customer_id, c.inbox_id, c.queue_id, c.channel, 'answered', now() + interval '1 day' FROM conversations c WHERE c.id = $2 RETURNING id`,
					sid, ids[a.conv]).Scan(&req); err != nil {
					t.Fatal(err)
				}
				reqs[a.conv] = req
			}
			if _, err := pool.Exec(ctx, `INSERT INTO survey_answers (request_id, question, kind, score, answered_at) VALUES ($1, $2, $2, $3, $4)`,
				req, a.kind, a.score, at(t, a.at)); err != nil {
				t.Fatal(err)
			}
		}
	}
	presence := []struct{ agent, status, at string }{
		{"A", "available", "-23:50:00"},
		{"A", "offline", "00:05:00"},
		{"A", "available", "08:00:00"},
		{"A", "away", "12:00:00"},
		{"A", "available", "13:00:00"},
		{"A", "offline", "17:00:00"},
		{"B", "available", "09:00:00"},
		{"B", "offline", "11:00:00"},
	}
	for _, p := range presence {
		if err := db.RecordPresence(ctx, ids[p.agent], parley.Presence(p.status), "", ids[p.agent], at(t, p.at)); err != nil {
			t.Fatal(err)
		}
	}
	return db, ids
}

func report(t *testing.T, db *postgres.DB, f postgres.ReportFilter) postgres.Report {
	t.Helper()
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	d, err := db.ReportData(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return postgres.ComputeReport(d, f)
}

func wantValue(t *testing.T, name string, f postgres.Figure, want float64) {
	t.Helper()
	if f.Value == nil {
		t.Errorf("%s: null (%s); want %v", name, f.Note, want)
	} else if *f.Value != want {
		t.Errorf("%s: got %v; want %v", name, *f.Value, want)
	}
}

func wantCounts(t *testing.T, name string, f postgres.Figure, want map[string]int) {
	t.Helper()
	for k, v := range want {
		if f.Counts[k] != v {
			t.Errorf("%s count %s: got %d; want %d (all: %v)", name, k, f.Counts[k], v, f.Counts)
		}
	}
}

func TestReportOfAScriptedDayMatchesHandComputedFigures(t *testing.T) {
	db, ids := scriptedDay(t)
	whole := postgres.ReportFilter{From: day, To: day.AddDate(0, 0, 1), Group: "hour"}
	r := report(t, db, whole)
	s := r.Summary

	// Queue entries of the day: c1..c11 (c0 entered the day before).
	// Answered c1 10 s, c2 25 s, c6 20 s, c7 5 s (Sales, Y = 20 s),
	// c9 35 s, c11 2 s (Support, Y = 30 s): within Y c1, c6 (20 ≤ 20), c7, c11 = 4.
	// Abandoned: c3 3 s (< 5 s: short), c4 40 s (> 20: after target),
	// c5 12 s (≥ 5, ≤ 20), c10 8 s (< 10 s: short).
	// SL = 4 ÷ (6 + 1) × 100.
	wantValue(t, "service level", s.ServiceLevel, 400.0/7)
	wantCounts(t, "service level", s.ServiceLevel, map[string]int{"answered_within": 4, "answered": 6, "abandoned_after_target": 1, "short_abandons": 2})
	// ASA = (10 + 25 + 20 + 5 + 35 + 2) ÷ 6 = 97 ÷ 6.
	wantValue(t, "ASA", s.ASA, 97.0/6)
	// Abandon rate = 2 (c4, c5) ÷ (11 entered − 2 short) × 100.
	wantValue(t, "abandon rate", s.AbandonRate, 200.0/9)
	wantCounts(t, "abandon rate", s.AbandonRate, map[string]int{"abandoned": 2, "entered": 11, "short_abandons": 2})
	// Handled (resolved today): c0 120 s + 30 wrap-up, c1 300 + 30, c2 600 + 30,
	// c6 600 + 30, c7 600 + 30, c9 600 + 0 = 2970 s over 6.
	wantValue(t, "AHT", s.AHT, 495)
	// FCR: 6 resolved; c1's customer came back (c6) within 7 days.
	wantValue(t, "FCR", s.FCR, 500.0/6)
	// Offers today: 10 (the one of the day before left out), 5 accepted.
	wantValue(t, "offer acceptance", s.OfferAcceptance, 50)
	wantCounts(t, "offer acceptance", s.OfferAcceptance, map[string]int{"offers": 10, "accepted": 5, "rejected": 1, "timeout": 1, "canceled": 1, "rescinded": 1, "pending": 1})
	// Occupancy. A: logged in 00:00–00:05 (available), 08:00–12:00
	// (available), 12:00–13:00 (away), 13:00–17:00 (available): 29100 s
	// available. Busy: c0 00:00:00–00:02:00 (120), c1 09:00:10–09:05:40
	// (330), c6 10:30:20–10:40:50 (630), c7 11:00:05–11:10:35 (630), c11
	// 16:00:02–17:00:00 while logged in (3598) = 5308, all while available:
	// idle 29100 − 5308 = 23792. B: available 09:00–11:00 (7200); busy
	// c9 09:00:35–09:10:35 ∪ c2 09:10:25–09:20:55 = 09:00:35–09:20:55
	// (1220); idle 5980. Occupancy = 6528 ÷ (6528 + 29772) × 100.
	wantValue(t, "occupancy", s.Occupancy, 6528.0*100/36300)
	if s.Occupancy.Seconds["handling"] != 6528 || s.Occupancy.Seconds["available_idle"] != 29772 {
		t.Errorf("occupancy seconds: %v; want handling 6528, idle 29772", s.Occupancy.Seconds)
	}
	// Slots: A 3 chat slots × 29100 s, B 2 × 7200 = 101700; busy
	// conversation-seconds 5308 + (600 + 630) = 6538.
	wantValue(t, "slot utilisation", s.SlotUtilisation, 6538.0*100/101700)
	for _, f := range []postgres.Figure{s.ServiceLevel, s.ASA, s.AHT, s.AbandonRate, s.Occupancy, s.SlotUtilisation, s.OfferAcceptance, s.FCR} {
		if f.Definition == "" {
			t.Errorf("summary figure %s has no definition", f.Unit)
		}
	}
	// SLA clocks: c1 first response met 09:00:40, c2 first response
	// breached 09:10:30 (still running), c9 resolution met 09:10:35, a
	// canceled clock and a met clock of the day before left out: 2 of 3.
	wantValue(t, "SLA met", s.SLAMet, 200.0/3)
	wantCounts(t, "SLA met", s.SLAMet, map[string]int{"met": 2, "breached": 1, "first_response_met": 1, "first_response_breached": 1, "resolution_met": 1})
	if ids["surveys"] != 0 {
		t.Log("survey tables present: CSAT, NPS and CES checked")
		// CSAT 5, 4, 2 → 2 of 3; NPS 10, 9, 7, 3 → (2 − 1) ÷ 4; CES 2, 5 → 3.5.
		wantValue(t, "CSAT", s.CSAT, 200.0/3)
		wantValue(t, "NPS", s.NPS, 25)
		wantValue(t, "CES", s.CES, 3.5)
	} else {
		for _, f := range []postgres.Figure{s.CSAT, s.NPS, s.CES} {
			if f.Value != nil || f.Note == "" {
				t.Errorf("%s: %v; want null with a note", f.Definition, f.Value)
			}
		}
	}

	// Hourly series: 24 buckets; 09:00–10:00 has c1, c2, c3, c9 entering:
	// answered c1 (within), c2 (25 > 20), c9 (35 > 30), c3 short.
	if len(r.Series) != 24 {
		t.Fatalf("hourly series: %d buckets; want 24", len(r.Series))
	}
	nine := r.Series[9]
	if !nine.From.Equal(at(t, "09:00:00")) {
		t.Fatalf("bucket 9 starts %v", nine.From)
	}
	wantValue(t, "09:00 service level", nine.ServiceLevel, 100.0/3)
	wantValue(t, "09:00 ASA", nine.ASA, 70.0/3)
	// 10:00–11:00: c4 (after target), c5, c6 (within).
	ten := r.Series[10]
	wantValue(t, "10:00 service level", ten.ServiceLevel, 50)
	wantValue(t, "10:00 abandon rate", ten.AbandonRate, 200.0/3)
	if ten.Occupancy.Value == nil {
		t.Errorf("10:00 occupancy is null: %s", ten.Occupancy.Note)
	}

	// One queue: Sales (80/20, short abandon 5 s). Entries c1..c8:
	// answered 4 (within 3), abandoned c4 (late), c5, short c3.
	sales := report(t, db, postgres.ReportFilter{From: day, To: day.AddDate(0, 0, 1), QueueID: ids["sales"]}).Summary
	wantValue(t, "Sales service level", sales.ServiceLevel, 60)
	wantValue(t, "Sales ASA", sales.ASA, 15)
	wantValue(t, "Sales abandon rate", sales.AbandonRate, 200.0/7)
	// Sales handled: c0 150, c1 330, c2 630, c6 630, c7 630 = 2370 over 5.
	wantValue(t, "Sales AHT", sales.AHT, 474)
	if sales.Occupancy.Value != nil || sales.Occupancy.Note == "" {
		t.Errorf("occupancy for one queue: %v; want null with a note", sales.Occupancy.Value)
	}
	if got := sales.ServiceLevel.Extra["short_abandon_s"]; got != 5 {
		t.Errorf("Sales short-abandon threshold: %v; want 5", got)
	}

	// One agent: B answered c2 (25 s) and c9 (35 s), both late.
	b := report(t, db, postgres.ReportFilter{From: day, To: day.AddDate(0, 0, 1), AgentID: ids["B"]}).Summary
	wantValue(t, "B service level", b.ServiceLevel, 0)
	wantValue(t, "B ASA", b.ASA, 30)
	wantValue(t, "B occupancy", b.Occupancy, 1220.0*100/7200)
	// B: c1 timeout, c2 accepted, c6 rescinded, c8 pending, c9 accepted.
	wantValue(t, "B offer acceptance", b.OfferAcceptance, 40)
	wantCounts(t, "B offers", b.OfferAcceptance, map[string]int{"offers": 5, "accepted": 2, "timeout": 1, "rescinded": 1, "pending": 1})
	if b.AbandonRate.Value != nil {
		t.Errorf("abandon rate of one agent: %v; want null", *b.AbandonRate.Value)
	}

	// Teams: one of B alone reports as B does; one of A and B holds every
	// answered conversation (abandons belong to no agent and drop out).
	team := func(name string, agents ...int64) int64 {
		var id int64
		if err := db.Pool().QueryRow(context.Background(), `INSERT INTO teams (name) VALUES ($1) RETURNING id`, name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		for _, a := range agents {
			if _, err := db.Pool().Exec(context.Background(), `INSERT INTO team_members (team_id, agent_id) VALUES ($1, $2)`, id, a); err != nil {
				t.Fatal(err)
			}
		}
		return id
	}
	tb := report(t, db, postgres.ReportFilter{From: day, To: day.AddDate(0, 0, 1), TeamID: team("Only B", ids["B"])}).Summary
	wantValue(t, "team B service level", tb.ServiceLevel, 0)
	wantValue(t, "team B ASA", tb.ASA, 30)
	wantValue(t, "team B occupancy", tb.Occupancy, 1220.0*100/7200)
	wantValue(t, "team B offer acceptance", tb.OfferAcceptance, 40)
	if tb.AbandonRate.Value != nil {
		t.Errorf("abandon rate of a team: %v; want null", *tb.AbandonRate.Value)
	}
	ab := report(t, db, postgres.ReportFilter{From: day, To: day.AddDate(0, 0, 1), TeamID: team("A and B", ids["A"], ids["B"])}).Summary
	wantCounts(t, "team A+B service level", ab.ServiceLevel, map[string]int{"answered_within": 4, "answered": 6, "abandoned_after_target": 0, "short_abandons": 0})
	wantValue(t, "team A+B ASA", ab.ASA, 97.0/6)
	wantValue(t, "team A+B occupancy", ab.Occupancy, 6528.0*100/36300)
}

func TestReportWithoutPresenceHistorySaysSo(t *testing.T) {
	db, _ := fixture(t)
	r := report(t, db, postgres.ReportFilter{From: day, To: day.AddDate(0, 0, 1)})
	if r.Summary.Occupancy.Value != nil || r.Summary.Occupancy.Note == "" {
		t.Errorf("occupancy without history: %v %q; want null with a note", r.Summary.Occupancy.Value, r.Summary.Occupancy.Note)
	}
	if r.Summary.ServiceLevel.Value != nil {
		t.Errorf("service level of an empty day: %v; want null", *r.Summary.ServiceLevel.Value)
	}
}

func TestReportFilterRefusesBadRanges(t *testing.T) {
	for _, f := range []postgres.ReportFilter{
		{},
		{From: day, To: day},
		{From: day, To: day.AddDate(0, 4, 0)},
		{From: day, To: day.AddDate(0, 0, 1), Group: "week"},
		{From: day, To: day.AddDate(0, 0, 1), Channel: "pigeon"},
	} {
		if err := f.Validate(); parley.ErrorCode(err) != parley.EINVALID {
			t.Errorf("%+v: %v; want invalid", f, err)
		}
	}
}

func TestReportFCRDoesNotCountAFeedbackFollowUpAsARepeatContact(t *testing.T) {
	db, ids := scriptedDay(t)
	// c6, c1's customer's next conversation, is the follow-up task of a
	// complaint: Parley called back, the customer did not come back.
	if _, err := db.Pool().Exec(context.Background(), `UPDATE conversations SET meta = '{"feedback_id": "1"}' WHERE id = $1`, ids["c6"]); err != nil {
		t.Fatal(err)
	}
	s := report(t, db, postgres.ReportFilter{From: day, To: day.AddDate(0, 0, 1), Group: "hour"}).Summary
	wantValue(t, "FCR", s.FCR, 100)
}

func TestReportFiltersByConversationTagAndCustomerSegment(t *testing.T) {
	db, ids := scriptedDay(t)
	ctx := context.Background()
	pool := db.Pool()
	// Conversations c1, c2 and c4 carry the tag "vip"; customers cu1 (c1,
	// c6) and cu3 (c9) carry the customer tag "gold", the segment's filter.
	if _, err := pool.Exec(ctx, `UPDATE conversations SET tags = '{vip}' WHERE id = ANY ($1)`, []int64{ids["c1"], ids["c2"], ids["c4"]}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE customers SET tags = '{gold}' WHERE id = ANY ($1)`, []int64{ids["cu1"], ids["cu3"]}); err != nil {
		t.Fatal(err)
	}
	seg := crm.Segment{Name: "Gold", Filter: crm.Filter{Tags: []string{"gold"}}}
	if err := db.CreateSegment(ctx, &seg, parley.Agent{}); err != nil {
		t.Fatal(err)
	}
	whole := func(tag string, segment int64) postgres.Figures {
		return report(t, db, postgres.ReportFilter{From: day, To: day.AddDate(0, 0, 1), Tag: tag, SegmentID: segment}).Summary
	}

	// Tag vip: entries c1 (10 s, within 20), c2 (25 s, late), c4
	// (abandoned after 40 s, after the target, not short).
	v := whole("vip", 0)
	wantValue(t, "vip service level", v.ServiceLevel, 100.0/3) // 1 ÷ (2 + 1)
	wantCounts(t, "vip service level", v.ServiceLevel, map[string]int{"answered_within": 1, "answered": 2, "abandoned_after_target": 1, "short_abandons": 0})
	wantValue(t, "vip ASA", v.ASA, 17.5)                     // (10 + 25) ÷ 2
	wantValue(t, "vip abandon rate", v.AbandonRate, 100.0/3) // 1 ÷ 3
	wantValue(t, "vip AHT", v.AHT, 480)                      // c1 330, c2 630
	wantValue(t, "vip FCR", v.FCR, 50)                       // c1 repeated by c6, c2 not
	// Offers of c1 (timeout, accepted), c2 (rejected, accepted), c4 (canceled).
	wantValue(t, "vip offer acceptance", v.OfferAcceptance, 40)
	wantCounts(t, "vip offers", v.OfferAcceptance, map[string]int{"offers": 5, "accepted": 2, "rejected": 1, "timeout": 1, "canceled": 1})
	// SLA: c1 met, c2 breached (c4's canceled clock counts for neither).
	wantValue(t, "vip SLA met", v.SLAMet, 50)
	if v.Occupancy.Value != nil || v.Occupancy.Note == "" {
		t.Errorf("occupancy for a tag: %v; want null with a note", v.Occupancy.Value)
	}

	// Segment gold: cu1's c1 (10 s, within) and c6 (20 s, within 20), cu3's
	// c9 (35 s, Support's Y = 30: late).
	g := whole("", seg.ID)
	wantValue(t, "gold service level", g.ServiceLevel, 200.0/3)
	wantValue(t, "gold ASA", g.ASA, 65.0/3)
	wantValue(t, "gold abandon rate", g.AbandonRate, 0)
	wantValue(t, "gold AHT", g.AHT, 520) // c1 330, c6 630, c9 600
	wantValue(t, "gold FCR", g.FCR, 200.0/3)
	// Offers of c1 (timeout, accepted), c6 (accepted, rescinded), c9 (accepted).
	wantValue(t, "gold offer acceptance", g.OfferAcceptance, 60)
	wantValue(t, "gold SLA met", g.SLAMet, 100) // c1 and c9 met
	if ids["surveys"] != 0 {
		wantValue(t, "vip CSAT", v.CSAT, 100) // c1 5, c2 4
		wantValue(t, "vip NPS", v.NPS, 100)   // c1 10, c2 9
		wantValue(t, "gold CSAT", g.CSAT, 50) // c1 5, c6 2
		wantValue(t, "gold NPS", g.NPS, 50)   // c1 10, c6 7
		wantValue(t, "gold CES", g.CES, 2)    // c1 2
	}

	// Both: c1 alone.
	both := whole("vip", seg.ID)
	wantValue(t, "vip gold service level", both.ServiceLevel, 100)
	wantValue(t, "vip gold ASA", both.ASA, 10)

	// Unknown segments and malformed tags are refused.
	if _, err := db.ReportData(ctx, postgres.ReportFilter{From: day, To: day.AddDate(0, 0, 1), SegmentID: seg.ID + 100}); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("unknown segment: %v; want invalid", err)
	}
	if err := (postgres.ReportFilter{From: day, To: day.AddDate(0, 0, 1), Tag: "VIP!"}).Validate(); parley.ErrorCode(err) != parley.EINVALID {
		t.Errorf("malformed tag: %v; want invalid", err)
	}
}
