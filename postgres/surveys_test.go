package postgres_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/postgres"
	"github.com/parleyhq/parley/surveys"
)

func texts(s string) surveys.Texts { return surveys.Texts{"en": s, "zh-CN": s} }

// resolvedConversation stores a conversation of a new customer and its
// conversation.resolved event.
func resolvedConversation(t *testing.T, db *postgres.DB, in parley.InboxConfig, n int) parley.Conversation {
	t.Helper()
	ctx := context.Background()
	r, _, err := db.Receive(ctx, parley.Inbound{InboxID: in.ID, Identity: parley.Identity{Channel: parley.ChannelEmail, Address: fmt.Sprintf("c%d@x.test", n)},
		DedupeKey: fmt.Sprintf("m%d", n), Body: "hello", NoRouting: true}, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Pool().Exec(ctx, `INSERT INTO events (type, conversation_id, customer_id) VALUES ('conversation.resolved', $1, $2)`,
		r.Conversation.ID, r.Conversation.CustomerID); err != nil {
		t.Fatal(err)
	}
	return r.Conversation
}

func TestFeedbackReportIsExactOnAFixedDataSet(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	_, err := db.CreateSurvey(ctx, surveys.Survey{Name: "All", Enabled: true, Questions: []surveys.Question{
		{Key: "csat", Kind: surveys.KindCSAT, Text: texts("How did we do?")},
		{Key: "nps", Kind: surveys.KindNPS, Text: texts("Would you recommend us?")},
		{Key: "ces", Kind: surveys.KindCES, Text: texts("How easy was it?")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	// Ten resolved conversations; seven answer.
	answers := [][3]int{{5, 10, 1}, {4, 9, 2}, {5, 9, 2}, {3, 8, 3}, {2, 7, 5}, {1, 3, 7}, {4, 0, 1}}
	for i := range 10 {
		resolvedConversation(t, db, in, i)
	}
	var sent []postgres.SentSurvey
	for range 5 {
		out, _, _, err := db.SendSurveys(ctx, 100, time.Minute, func(postgres.SurveyRequest, surveys.Survey) string { return "" })
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, out...)
	}
	if len(sent) != 10 {
		t.Fatalf("%d survey requests; want 10", len(sent))
	}
	for i, a := range answers {
		as := []postgres.SurveyAnswer{{Question: "csat", Score: &a[0]}, {Question: "nps", Score: &a[1]}, {Question: "ces", Score: &a[2]}}
		if _, _, err := db.AnswerSurvey(ctx, sent[i].Request.ID, as, ""); err != nil {
			t.Fatalf("answer %d: %v", i, err)
		}
	}
	if _, _, err := db.AnswerSurvey(ctx, sent[0].Request.ID, nil, ""); parley.ErrorCode(err) != parley.ECONFLICT {
		t.Errorf("second answer: %v; want conflict", err)
	}
	got, err := db.FeedbackReport(ctx, postgres.FeedbackFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// CSAT: 4 of 7 are 4–5. NPS: 3 promoters, 2 passives, 2 detractors of 7.
	// CES: 21 / 7. Response rate: 7 of 10.
	want := map[string]float64{"csat": 57.14, "nps": 14.29, "ces": 3, "rate": 70}
	for k, v := range map[string]*float64{"csat": got.CSAT, "nps": got.NPS, "ces": got.CES, "rate": got.ResponseRate} {
		if v == nil || *v != want[k] {
			t.Errorf("%s = %v; want %v (counts %v)", k, v, want[k], got.Counts)
		}
	}
	if n := countEvents(t, db, "survey.answered", sent[0].Request.ConversationID); n != 3 {
		t.Errorf("%d survey.answered events; want 3", n)
	}
	none, err := db.FeedbackReport(ctx, postgres.FeedbackFilter{Channel: parley.ChannelSMS})
	if err != nil || none.CSAT != nil || none.ResponseRate != nil {
		t.Errorf("sms report %+v, %v; want no figures", none, err)
	}
}
