package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// TypeSurveySend sends a survey a while after its conversation was
// resolved (a survey definition's delay_s).
const TypeSurveySend = "survey:send"

type surveyPayload struct {
	ConversationID int64 `json:"conversation_id"`
	// EventID is the conversation.resolved event the send follows.
	EventID int64 `json:"event_id"`
}

// ScheduleSurvey sets the delayed survey send of a conversation resolved by
// event eventID for at. The task id names both, so scheduling it twice (a
// restart's Reschedule) sets it once, while a conversation resolved again
// gets a new task (and the old one finds nothing to do).
func (c *Client) ScheduleSurvey(ctx context.Context, convID, eventID int64, at time.Time) error {
	return c.enqueueOnce(ctx, TypeSurveySend, surveyPayload{ConversationID: convID, EventID: eventID},
		asynq.TaskID(fmt.Sprintf("survey:%d:%d", convID, eventID)), asynq.ProcessAt(at),
		asynq.MaxRetry(8), asynq.Timeout(30*time.Second), asynq.Retention(24*time.Hour))
}

// registerSurvey routes delayed survey sends to h.SendSurvey; a permanent
// error (EINVALID, ENOTFOUND) is not retried.
func registerSurvey(mux *asynq.ServeMux, h Handlers) {
	if h.SendSurvey == nil {
		return
	}
	handleJSON(mux, TypeSurveySend, func(ctx context.Context, p surveyPayload) error {
		return permanent(h.SendSurvey(ctx, p.ConversationID, p.EventID))
	})
}
