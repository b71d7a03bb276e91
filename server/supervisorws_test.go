package server

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/desk"
)

func syntheticSnapshot(agents int) desk.Snapshot {
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	s := desk.Snapshot{At: at, Waiting: []desk.WaitingView{}}
	for i := range 10 {
		s.Queues = append(s.Queues, desk.QueueView{ID: fmt.Sprint(i), Name: fmt.Sprintf("Queue %d", i), Waiting: i})
	}
	since := at.Add(-time.Minute)
	for i := range agents {
		s.Agents = append(s.Agents, desk.AgentView{ID: fmt.Sprint(1000 + i), Name: fmt.Sprintf("Agent %d", i), Status: parley.PresenceAvailable, Since: &since,
			Load: map[parley.Media]int{parley.MediaChat: i % 3}, Capacity: parley.DefaultCapacity(), WrapUp: map[parley.Media]int{},
			Conversations: []desk.ConversationSummary{}})
	}
	return s
}

func TestWallboardDiffSendsOnlyWhatChanged(t *testing.T) {
	a := syntheticSnapshot(5)
	full, delta, q, ag, w := wallboardDiff(a, nil, nil, nil)
	if delta == nil || full == nil {
		t.Fatal("first diff: want a full frame and a delta of everything")
	}
	_, delta, q, ag, w = wallboardDiff(a, q, ag, w)
	if delta != nil {
		t.Fatalf("unchanged snapshot gave a delta: %s", delta)
	}
	b := syntheticSnapshot(5)
	b.Agents[2].Status = parley.PresenceAway
	b.Queues[1].Waiting = 7
	b.Agents = b.Agents[:4]
	_, delta, _, _, _ = wallboardDiff(b, q, ag, w)
	var d struct {
		Type          string            `json:"type"`
		Queues        []desk.QueueView  `json:"queues"`
		Agents        []desk.AgentView  `json:"agents"`
		RemovedAgents []string          `json:"removed_agents"`
		Waiting       []json.RawMessage `json:"waiting"`
	}
	if err := json.Unmarshal(delta, &d); err != nil {
		t.Fatal(err)
	}
	if d.Type != "delta" || len(d.Queues) != 1 || d.Queues[0].Waiting != 7 || len(d.Agents) != 1 || d.Agents[0].Status != parley.PresenceAway ||
		len(d.RemovedAgents) != 1 || d.RemovedAgents[0] != "1004" || d.Waiting != nil {
		t.Errorf("delta: %s", delta)
	}
}

// BenchmarkWallboardDiff1000Agents is the encoding and diff the hub does
// once per period for all its sockets.
func BenchmarkWallboardDiff1000Agents(b *testing.B) {
	s := syntheticSnapshot(1000)
	_, _, q, a, w := wallboardDiff(s, nil, nil, nil)
	for b.Loop() {
		wallboardDiff(s, q, a, w)
	}
}
