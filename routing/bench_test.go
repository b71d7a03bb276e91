package routing

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley"
)

const (
	benchAgents = 500
	benchQueues = 20
	benchTasks  = 10000 // waiting once the agents are full
)

// benchWorld loads 500 agents (each in 3 of 20 queues, chat capacity 3,
// voice 1, email 5, billing skill 1..5) with Reconcile, fills their slots
// with accepted conversations and leaves benchTasks tasks waiting.
// exotic makes every waiting task require a skill nobody has.
func benchWorld(b *testing.B, exotic bool) (*env, *rand.Rand) {
	rdb := testRedis(b)
	clock := newClock()
	opts := Options{Prefix: testPrefix(b, rdb), Now: clock.Now}
	e := &env{ctx: context.Background(), rdb: rdb, clock: clock, r: New(rdb, opts), opts: opts}
	rng := rand.New(rand.NewPCG(1, 2))

	var s Snapshot
	members := make([][]int64, benchQueues+1)
	for a := int64(1); a <= benchAgents; a++ {
		s.Agents = append(s.Agents, AgentSpec{ID: a,
			Skills:   map[string]int{"billing": int(a%5) + 1, "en": 5},
			Capacity: map[parley.Media]int{parley.MediaVoice: 1, parley.MediaChat: 3, parley.MediaEmail: 5}})
		for _, q := range []int64{a%20 + 1, (a+7)%20 + 1, (a+13)%20 + 1} {
			members[q] = append(members[q], a)
		}
	}
	for q := int64(1); q <= benchQueues; q++ {
		s.Queues = append(s.Queues, QueueSpec{ID: q, Priority: int(q%5) * 10, Members: members[q]})
	}
	slots := benchAgents * 9
	t0 := clock.Now().Add(-time.Hour)
	for c := int64(1); c <= int64(benchTasks+slots); c++ {
		task := randomTask(rng, c, t0.Add(time.Duration(c)*time.Millisecond))
		if exotic && c > int64(slots) {
			task.Require = map[string]int{"klingon": 1}
		}
		s.Tasks = append(s.Tasks, task)
	}
	start := time.Now()
	if _, err := e.r.Reconcile(e.ctx, s); err != nil {
		b.Fatal(err)
	}
	b.Logf("Reconcile of %d agents, %d queues, %d tasks: %v", benchAgents, benchQueues, len(s.Tasks), time.Since(start))

	for a := int64(1); a <= benchAgents; a++ {
		out, err := e.r.SetPresence(e.ctx, a, parley.PresenceAvailable)
		if err != nil {
			b.Fatal(err)
		}
		for _, o := range out.Offered {
			if _, err := e.r.Accept(e.ctx, o.ID, o.AgentID); err != nil {
				b.Fatal(err)
			}
		}
	}
	n, err := e.rdb.SCard(e.ctx, e.r.key("tasks")).Result()
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d tasks waiting after the agents filled up", n)
	return e, rng
}

func randomTask(rng *rand.Rand, conv int64, at time.Time) Task {
	t := Task{ConversationID: conv, QueueID: rng.Int64N(benchQueues) + 1, Media: parley.MediaChat,
		Priority: rng.IntN(3) * 10, EnqueuedAt: at}
	switch rng.IntN(10) {
	case 0:
		t.Media = parley.MediaVoice
	case 1:
		t.Media = parley.MediaEmail
	}
	if rng.IntN(3) == 0 {
		t.Require = map[string]int{"billing": rng.IntN(5) + 1}
	}
	return t
}

// BenchmarkDispatch measures routing decisions (one offer each) with 500
// agents, 20 queues and 10,000 waiting tasks.
//
//   - pull: an agent releases a chat slot and takes the best head task
//     across its 3 queues (timed: Release); then accepts it and a new task
//     arrives (untimed), so the world stays the same size.
//   - enqueue: every waiting task needs a skill nobody has; a new task
//     arrives and its queue's dispatch skips ScanDepth head tasks before
//     offering it (timed: Enqueue); then accept and release (untimed).
func BenchmarkDispatch(b *testing.B) {
	b.Run("pull", func(b *testing.B) {
		e, rng := benchWorld(b, false)
		next := int64(1 << 30)
		decisions := 0
		b.ResetTimer()
		for i := range b.N {
			agent := int64(i%benchAgents) + 1
			out, err := e.r.Release(e.ctx, agent, parley.MediaChat)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			decisions += len(out.Offered)
			for _, o := range out.Offered {
				if _, err := e.r.Accept(e.ctx, o.ID, o.AgentID); err != nil {
					b.Fatal(err)
				}
			}
			next++
			if _, err := e.r.Enqueue(e.ctx, randomTask(rng, next, e.clock.Now())); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		reportDecisions(b, decisions)
	})
	b.Run("enqueue", func(b *testing.B) {
		e, rng := benchWorld(b, true)
		// Free one chat slot per agent so that new tasks can be offered.
		for a := int64(1); a <= benchAgents; a++ {
			if _, err := e.r.Release(e.ctx, a, parley.MediaChat); err != nil {
				b.Fatal(err)
			}
		}
		next := int64(1 << 30)
		decisions := 0
		b.ResetTimer()
		for range b.N {
			next++
			task := randomTask(rng, next, e.clock.Now())
			task.Media, task.Require = parley.MediaChat, nil
			out, err := e.r.Enqueue(e.ctx, task)
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			decisions += len(out.Offered)
			for _, o := range out.Offered {
				if _, err := e.r.Accept(e.ctx, o.ID, o.AgentID); err != nil {
					b.Fatal(err)
				}
				if _, err := e.r.Release(e.ctx, o.AgentID, parley.MediaChat); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		reportDecisions(b, decisions)
	})
}

func reportDecisions(b *testing.B, decisions int) {
	if s := b.Elapsed().Seconds(); s > 0 {
		b.ReportMetric(float64(decisions)/s, "decisions/s")
	}
	b.ReportMetric(float64(decisions)/float64(b.N), "decisions/op")
}

// BenchmarkEvalshaEmpty is the floor: one EVALSHA of an empty script.
func BenchmarkEvalshaEmpty(b *testing.B) {
	rdb := testRedis(b)
	ctx := context.Background()
	s := redis.NewScript("return 0")
	keys := []string{"{" + testPrefix(b, rdb) + "}"}
	for b.Loop() {
		if err := s.Run(ctx, rdb, keys).Err(); err != nil {
			b.Fatal(err)
		}
	}
}
