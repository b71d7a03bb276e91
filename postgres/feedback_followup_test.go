package postgres_test

import (
	"context"
	"testing"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/feedback"
)

func TestFollowUpInAQueueWithoutTheChannelsMediaGoesToTheInboxQueue(t *testing.T) {
	db, in := fixture(t)
	ctx := context.Background()
	callbacks := parley.Queue{Name: "Callbacks", Media: []parley.Media{parley.MediaVoice}}
	if err := db.CreateQueue(ctx, &callbacks); err != nil {
		t.Fatal(err)
	}
	conv, _ := resolvedConv(t, db, in, 1) // a web-chat inbox: chat media
	if ch, ok, err := db.FollowUpChannel(ctx, conv.CustomerID, 0); err != nil || !ok || ch.Media() != parley.MediaChat {
		t.Fatalf("follow-up channel %q %v %v; want a chat channel", ch, ok, err)
	}
	it, _, err := db.CreateFeedbackItem(ctx, feedback.New{Kind: feedback.KindComplaint, Category: "service", Source: feedback.SourceAgent,
		CustomerID: conv.CustomerID, ConversationID: conv.ID, FollowUpQueueID: callbacks.ID}, feedback.DefaultSettings())
	if err != nil {
		t.Fatal(err)
	}
	task, opened, err := db.OpenFollowUp(ctx, it.ID)
	if err != nil || !opened {
		t.Fatalf("open follow-up: %v %v", opened, err)
	}
	if task.QueueID != in.QueueID {
		t.Errorf("follow-up queued in %d; want the inbox's queue %d (Callbacks %d takes voice only)", task.QueueID, in.QueueID, callbacks.ID)
	}
	if got, err := db.FeedbackItem(ctx, it.ID); err != nil || got.FollowUpQueueID != in.QueueID || got.FollowUpConversationID != task.ID {
		t.Errorf("item %+v, %v; want follow-up queue %d and conversation %d", got, err, in.QueueID, task.ID)
	}
}
