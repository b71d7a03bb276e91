package routing

import (
	"encoding/json"
	"time"

	"github.com/parleyhq/parley"
)

// Task is a conversation waiting in a queue.
type Task struct {
	ConversationID int64
	QueueID        int64
	Media          parley.Media
	// Priority is 0..100; higher goes first.
	Priority int
	// EnqueuedAt orders tasks of equal priority (oldest first); zero means
	// now. It must fall between 2024-01-01 and 2093 (see Score).
	EnqueuedAt time.Time
	// Require maps skill names (languages included) to the minimum level;
	// empty means any member of the queue.
	Require map[string]int
}

// Epoch is the origin of the time part of a task's score.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const timeBits = 41 // 2^41 ms ≈ 69.7 years after Epoch

// Score is a task's place in its queue's waiting ZSET, lowest first:
// (100 - priority) * 2^41 + milliseconds since Epoch. It stays below
// 101 * 2^41 < 2^53, so a Lua double holds it exactly. Tasks with equal
// scores are ordered by conversation id (the ZSET member is the id padded
// to 19 digits).
func Score(priority int, enqueuedAt time.Time) int64 {
	return int64(parley.MaxPriority-priority)<<timeBits + enqueuedAt.UnixMilli() - Epoch.UnixMilli()
}

// check validates t; a zero EnqueuedAt becomes now.
func (t *Task) check(now time.Time) error {
	f := map[string]string{}
	if t.ConversationID <= 0 {
		f["conversation_id"] = "must be positive"
	}
	if t.QueueID <= 0 {
		f["queue_id"] = "must be positive"
	}
	if !t.Media.Valid() {
		f["media"] = "must be voice, chat or email"
	}
	if t.Priority < 0 || t.Priority > parley.MaxPriority {
		f["priority"] = "must be 0 to 100"
	}
	if t.EnqueuedAt.IsZero() {
		t.EnqueuedAt = now
	}
	if ms := t.EnqueuedAt.UnixMilli() - Epoch.UnixMilli(); ms < 0 || ms >= 1<<timeBits {
		f["enqueued_at"] = "must be between 2024-01-01 and 2093"
	}
	for s, lvl := range t.Require {
		if s == "" || lvl < 0 {
			f["require"] = "skill names must be non-empty with non-negative levels"
		}
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid routing task.", f)
	}
	return nil
}

// requireJSON encodes Require for the task hash ("" when empty).
func (t Task) requireJSON() string {
	if len(t.Require) == 0 {
		return ""
	}
	b, _ := json.Marshal(t.Require)
	return string(b)
}

// QueueSpec is a queue as routing sees it.
type QueueSpec struct {
	ID int64
	// Priority is 0..100: an agent in several queues serves the highest
	// first.
	Priority int
	// OfferTimeout is how long an agent has to accept; zero means 20 s.
	OfferTimeout time.Duration
	// Members are agent ids, teams already expanded.
	Members []int64
}

func (q *QueueSpec) check() error {
	f := map[string]string{}
	if q.ID <= 0 {
		f["id"] = "must be positive"
	}
	if q.Priority < 0 || q.Priority > parley.MaxPriority {
		f["priority"] = "must be 0 to 100"
	}
	if q.OfferTimeout == 0 {
		q.OfferTimeout = 20 * time.Second
	}
	if q.OfferTimeout < time.Millisecond {
		f["offer_timeout"] = "must be at least 1 ms"
	}
	for _, m := range q.Members {
		if m <= 0 {
			f["members"] = "agent ids must be positive"
		}
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid routing queue.", f)
	}
	return nil
}

// AgentSpec is an agent as routing sees it.
type AgentSpec struct {
	ID int64
	// Skills maps skill names (languages included) to levels 1..5.
	Skills map[string]int
	// Capacity is the number of slots per media; a missing media has none.
	Capacity map[parley.Media]int
}

func (a AgentSpec) check() error {
	f := map[string]string{}
	if a.ID <= 0 {
		f["id"] = "must be positive"
	}
	for s := range a.Skills {
		if s == "" {
			f["skills"] = "skill names must be non-empty"
		}
	}
	for m, n := range a.Capacity {
		if !m.Valid() || n < 0 {
			f["capacity"] = "media must be voice, chat or email with a non-negative number of slots"
		}
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid routing agent.", f)
	}
	return nil
}
