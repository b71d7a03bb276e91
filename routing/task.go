package routing

import (
	"slices"
	"strconv"
	"strings"
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
	// EnqueuedAt orders tasks of equal priority (oldest first) and starts
	// the clock of the queue's escalation steps and sticky window; zero
	// means now. It must fall between 2024-01-01 and 2093 (see Score).
	EnqueuedAt time.Time
	// Require maps skill names (languages included) to the minimum level.
	// It is required on top of the current step's requirement (the higher
	// level wins per skill) and never relaxed; empty adds nothing.
	Require map[string]int
	// PreferredAgent is the sticky agent (e.g. the last agent who helped
	// this customer): while Now - EnqueuedAt is below the queue's
	// StickyWindow and the agent is eligible, the task goes to them.
	PreferredAgent int64
	// TargetAgent makes the task a direct transfer: only this agent may be
	// offered it (queue membership, steps and Require do not apply; the
	// agent must be available with a free slot and not excluded). It is an
	// ordinary offer with the queue's timeout. When the target rejects or
	// misses the offer the target is dropped and the task becomes an
	// ordinary task of its queue.
	TargetAgent int64
}

// Epoch is the origin of the time part of a task's score.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const timeBits = 41 // 2^41 ms ≈ 69.7 years after Epoch

// AgingStep is what one priority point is worth in an aging queue.
const AgingStep = time.Minute

// Score is a task's place in its queue's waiting ZSET, lowest first:
// (100 - priority) * 2^41 + milliseconds since Epoch. It stays below
// 101 * 2^41 < 2^53, so a Lua double holds it exactly. Tasks with equal
// scores are ordered by conversation id (the ZSET member starts with the id
// padded to 19 digits).
func Score(priority int, enqueuedAt time.Time) int64 {
	return int64(parley.MaxPriority-priority)<<timeBits + enqueuedAt.UnixMilli() - Epoch.UnixMilli()
}

// AgingScore is the score in a queue with Aging: (100 - priority) * 60000
// + milliseconds since Epoch, i.e. enqueued_ms - priority * 60 s shifted to
// stay positive; one priority point is worth a minute of waiting. It stays
// below 2^41 + 6e6 < 2^53. Between queues of equal priority an agent
// compares scores as they are, so an aging queue's tasks compete like
// priority-100 tasks of a strict queue that waited (100-p) minutes less.
func AgingScore(priority int, enqueuedAt time.Time) int64 {
	return int64(parley.MaxPriority-priority)*AgingStep.Milliseconds() + enqueuedAt.UnixMilli() - Epoch.UnixMilli()
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
	if !validRequire(t.Require, 0) {
		f["require"] = "skill names must be non-empty without , = | : ; or spaces, levels 0 to 1000"
	}
	if t.PreferredAgent < 0 {
		f["preferred_agent"] = "must not be negative"
	}
	if t.TargetAgent < 0 {
		f["target_agent"] = "must not be negative"
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid routing task.", f)
	}
	return nil
}

// validSkill reports whether s can be a skill name: the scripts keep
// requirements as "name=level,name=level".
func validSkill(s string) bool {
	return s != "" && !strings.ContainsAny(s, ",=|:; \t\r\n")
}

func validRequire(req map[string]int, minLevel int) bool {
	for s, lvl := range req {
		if !validSkill(s) || lvl < minLevel || lvl > 1000 {
			return false
		}
	}
	return true
}

// reqString encodes a requirement as the scripts keep it: "name=level"
// pairs sorted by name, joined by ","; "" when empty. Level-0 entries are
// dropped (anyone satisfies them).
func reqString(req map[string]int) string {
	var parts []string
	for s, lvl := range req {
		if lvl > 0 {
			parts = append(parts, s+"="+strconv.Itoa(lvl))
		}
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// StepSpec is one escalation step of a queue.
type StepSpec struct {
	// Require maps skills to minimum levels while the step is current.
	Require map[string]int
	// ExpireAfter ends the step this long after the task's EnqueuedAt.
	// Each step's must be longer than the previous step's. Zero is only
	// allowed on the last step and means it never expires.
	ExpireAfter time.Duration
	// SkipIfNoAgents skips the step at once when, as the task reaches it
	// (enqueue or step change), no member of the queue who is logged in
	// (presence not offline) has the skills (step ∪ Task.Require).
	// Capacity and exclusions are not considered.
	SkipIfNoAgents bool
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
	// Steps are escalation steps: a task's current step is the first whose
	// expiry (EnqueuedAt + ExpireAfter) is still ahead, skipping steps
	// with SkipIfNoAgents and nobody logged in to take them; after the
	// last step expired any member may take it. Steps only move forward.
	// No steps: any member.
	Steps []StepSpec
	// MaxParallelOffers > 1 offers a dispatched task to up to that many
	// eligible agents at once: the first Accept wins and the other offers
	// are rescinded. 0 means 1. An agent who pulls a waiting task gets it
	// alone; lost offers are not topped up.
	MaxParallelOffers int
	// Aging orders the queue by AgingScore instead of Score.
	Aging bool
	// ProficiencyFirst ranks eligible agents by the sum of their levels in
	// the task's required skills (current step ∪ Task.Require) first.
	ProficiencyFirst bool
	// StickyWindow: while Now - EnqueuedAt is below it, a task's
	// PreferredAgent, when eligible, gets it (alone). 0 turns it off.
	StickyWindow time.Duration
	// WrapUp is how long an agent's slot stays taken after a conversation
	// of this queue leaves them: Transfer applies it (the queue is
	// remembered at Accept); Release callers pass it to ReleaseAfter.
	WrapUp time.Duration
	// Paused stops new offers of this queue's tasks (pending offers stand,
	// tasks keep waiting and their steps keep moving). Direct transfers
	// (Task.TargetAgent) are not held back. Unpausing does not dispatch:
	// call Dispatch.
	Paused bool
}

// maxSteps bounds a queue's escalation steps.
const maxSteps = 20

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
	if q.MaxParallelOffers == 0 {
		q.MaxParallelOffers = 1
	}
	if q.MaxParallelOffers < 1 || q.MaxParallelOffers > 100 {
		f["max_parallel_offers"] = "must be 1 to 100"
	}
	if q.StickyWindow < 0 {
		f["sticky_window"] = "must not be negative"
	}
	if q.WrapUp < 0 {
		f["wrap_up"] = "must not be negative"
	}
	if len(q.Steps) > maxSteps {
		f["steps"] = "at most 20"
	}
	var prev time.Duration
	for i, s := range q.Steps {
		last := i == len(q.Steps)-1
		switch {
		case !validRequire(s.Require, 0):
			f["steps"] = "skill names must be non-empty without , = | : ; or spaces, levels 0 to 1000"
		case s.ExpireAfter == 0 && !last:
			f["steps"] = "only the last step may have no expiry"
		case s.ExpireAfter != 0 && s.ExpireAfter < time.Millisecond:
			f["steps"] = "expiry must be at least 1 ms"
		case s.ExpireAfter != 0 && s.ExpireAfter <= prev:
			f["steps"] = "each step must expire later than the previous one"
		}
		prev = s.ExpireAfter
	}
	if len(f) > 0 {
		return parley.Invalid("Invalid routing queue.", f)
	}
	return nil
}

// config encodes the queue's routing config as the scripts keep it in
// P:qcfg: "prio|timeout|par|aging|prof|sticky|wrap|paused|steps", steps being
// "expire_ms:skip:req;..." (see reqString).
func (q QueueSpec) config() string {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	steps := make([]string, len(q.Steps))
	for i, s := range q.Steps {
		steps[i] = strconv.FormatInt(s.ExpireAfter.Milliseconds(), 10) + ":" + b(s.SkipIfNoAgents) + ":" + reqString(s.Require)
	}
	return strings.Join([]string{
		strconv.Itoa(q.Priority), strconv.FormatInt(q.OfferTimeout.Milliseconds(), 10),
		strconv.Itoa(q.MaxParallelOffers), b(q.Aging), b(q.ProficiencyFirst),
		strconv.FormatInt(q.StickyWindow.Milliseconds(), 10),
		strconv.FormatInt(q.WrapUp.Milliseconds(), 10), b(q.Paused),
		strings.Join(steps, ";"),
	}, "|")
}

// AgentSpec is an agent as routing sees it.
type AgentSpec struct {
	ID int64
	// Skills maps skill names (languages included) to levels 1..5.
	Skills map[string]int
	// Capacity is the number of slots per media; a missing media has none.
	Capacity map[parley.Media]int
	// VoiceBlocksDigital: while the agent holds a voice slot (a pending
	// voice offer, a call, or its wrap-up), no chat or email is offered.
	VoiceBlocksDigital bool
}

func (a AgentSpec) check() error {
	f := map[string]string{}
	if a.ID <= 0 {
		f["id"] = "must be positive"
	}
	if !validRequire(a.Skills, -1<<31) {
		f["skills"] = "skill names must be non-empty without , = | : ; or spaces, levels at most 1000"
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
