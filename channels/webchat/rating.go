package webchat

import (
	"context"
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/parleyhq/parley"
)

// SurveyAnswerer is an optional capability of the Backend: it records a
// visitor's answer to the rating card of a survey sent to them (the
// server's `survey` frame). Without it, rating frames are refused.
type SurveyAnswerer interface {
	AnswerRating(ctx context.Context, customerID, inboxID int64, surveyID, question string, score *int, comment string) error
}

// PendingSurveyer is an optional capability of the Backend: the survey
// frame of a rating card the visitor has not answered, shown again when
// they (re)connect.
type PendingSurveyer interface {
	PendingSurvey(ctx context.Context, customerID, inboxID int64) (frame map[string]any, ok bool, err error)
}

// ratingFrame is {"type":"rating","survey_id","question","score","comment"}:
// without question it answers the survey's first question (score
// required); with it, the named question (a score, or the comment of a text
// question).
type ratingFrame struct {
	SurveyID string `json:"survey_id"`
	Question string `json:"question"`
	Score    *int   `json:"score"`
	Comment  string `json:"comment"`
}

func parseRating(data []byte) (ratingFrame, error) {
	var f ratingFrame
	if err := json.Unmarshal(data, &f); err != nil {
		return f, parley.Errorf(parley.EINVALID, "Invalid rating frame.")
	}
	bad := map[string]string{}
	if f.SurveyID == "" || len(f.SurveyID) > 20 || strings.Trim(f.SurveyID, "0123456789") != "" {
		bad["survey_id"] = "must be the id of the survey frame"
	}
	if len(f.Question) > 40 || !utf8.ValidString(f.Question) {
		bad["question"] = "a question key of the survey"
	}
	if (f.Score == nil && f.Question == "") || (f.Score != nil && (*f.Score < 0 || *f.Score > 10)) {
		bad["score"] = "required, 0 to 10"
	}
	if len(f.Comment) > 2000 || !utf8.ValidString(f.Comment) {
		bad["comment"] = "at most 2000 bytes of UTF-8"
	}
	if len(bad) > 0 {
		return f, parley.Invalid("Invalid rating.", bad)
	}
	return f, nil
}

// onRating records the visitor's answer and acknowledges it; a survey
// answered before is refused (conflict).
func (s *visitorSocket) onRating(ctx context.Context, data []byte) {
	f, err := parseRating(data)
	if err != nil {
		s.fail("", err)
		return
	}
	sa, ok := s.c.backend.(SurveyAnswerer)
	if !ok {
		s.fail("", parley.Errorf(parley.EINVALID, "Surveys are not enabled on this inbox."))
		return
	}
	if err := sa.AnswerRating(ctx, s.visitor.CustomerID, s.visitor.InboxID, f.SurveyID, f.Question, f.Score, f.Comment); err != nil {
		s.fail("", err)
		return
	}
	s.conn.Send(map[string]any{"type": "rating_ack", "survey_id": f.SurveyID, "question": f.Question})
}
