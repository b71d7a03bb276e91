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

// benchEnv loads the benchmark world (see loadBenchWorld) on a test
// prefix: 500 agents (each in 3 of 20 queues, chat capacity 3, voice 1,
// email 5, billing skill 1..5), every slot filled with an accepted
// conversation, 10,000 tasks waiting. exotic makes every waiting task
// require a skill nobody has.
func benchEnv(b *testing.B, exotic bool) (*env, *benchWorld) {
	rdb := testRedis(b)
	clock := newClock()
	opts := Options{Prefix: testPrefix(b, rdb), Now: clock.Now}
	e := &env{ctx: context.Background(), rdb: rdb, clock: clock, r: New(rdb, opts), opts: opts}
	start := time.Now()
	w, err := loadBenchWorld(e.ctx, e.r, BenchConfig{Agents: benchAgents, Queues: benchQueues, Tasks: benchTasks}, exotic)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("world of %d agents, %d queues: %v; %d tasks waiting", benchAgents, benchQueues, time.Since(start), w.waiting)
	return e, w
}

func reportLatency(b *testing.B, lat []time.Duration) {
	b.ReportMetric(float64(percentile(lat, 0.50).Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, 0.99).Microseconds()), "p99-µs")
}

// BenchmarkDispatch measures routing decisions (one offer each) with 500
// agents, 20 queues and 10,000 waiting tasks.
//
//   - pull: an agent releases a chat slot and takes the best head task
//     across its 3 queues (the decision: Release, one script; its p50/p99
//     and decisions/s over the decision time are reported), then accepts
//     it and a new task arrives, so the world stays the same size (ns/op
//     is this whole cycle).
//   - reservations: the same full cycle (release+pull, accept, arrival)
//     from 8 concurrent clients; reservations/s over the wall time,
//     p50/p99 of the decision call.
//   - enqueue: every waiting task needs a skill nobody has; a new task
//     arrives and its queue's dispatch passes over them (their class has
//     no qualified free agent) and offers it (timed: Enqueue); then
//     accept and release (untimed).
func BenchmarkDispatch(b *testing.B) {
	b.Run("pull", func(b *testing.B) {
		e, w := benchEnv(b, false)
		rng := rand.New(rand.NewPCG(5, 6))
		decisions := 0
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for i := range b.N { // ns/op is the whole cycle; p50/p99 the decision
			d, hit, err := w.reserve(e.ctx, rng, int64(i%benchAgents)+1)
			if err != nil {
				b.Fatal(err)
			}
			lat = append(lat, d)
			if hit {
				decisions++
			}
		}
		b.StopTimer()
		reportLatency(b, lat)
		var sum time.Duration
		for _, d := range lat {
			sum += d
		}
		if sum > 0 {
			b.ReportMetric(float64(decisions)/sum.Seconds(), "decisions/s")
		}
	})
	b.Run("reservations", func(b *testing.B) {
		e, w := benchEnv(b, false)
		b.ResetTimer()
		run, err := runClients(e.ctx, 8, b.N, func(i int, rng *rand.Rand) (time.Duration, bool, error) {
			return w.reserve(e.ctx, rng, int64(i%benchAgents)+1)
		})
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		reportLatency(b, run.lat)
		b.ReportMetric(float64(run.hits)/run.elapsed.Seconds(), "reservations/s")
	})
	b.Run("enqueue", func(b *testing.B) {
		e, w := benchEnv(b, true)
		// Only the tasks nobody can take stay waiting (the ones that filled
		// the slots were not all taken), then one chat slot per agent
		// frees, so that each new task can be offered.
		for c := int64(1); c <= benchAgents*9; c++ {
			if _, err := e.r.Remove(e.ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		for a := int64(1); a <= benchAgents; a++ {
			if _, err := e.r.Release(e.ctx, a, parley.MediaChat); err != nil {
				b.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(7, 8))
		decisions := 0
		lat := make([]time.Duration, 0, b.N)
		b.ResetTimer()
		for range b.N {
			task := randomBenchTask(rng, benchQueues, w.next.Add(1), e.clock.Now())
			task.Media, task.Require = parley.MediaChat, nil
			start := time.Now()
			out, err := e.r.Enqueue(e.ctx, task)
			lat = append(lat, time.Since(start))
			if err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			decisions += len(out.Offered)
			for _, o := range out.Offered {
				if _, _, err := e.r.Accept(e.ctx, o.ID, o.AgentID); err != nil {
					b.Fatal(err)
				}
				if _, err := e.r.Release(e.ctx, o.AgentID, parley.MediaChat); err != nil {
					b.Fatal(err)
				}
			}
			b.StartTimer()
		}
		reportLatency(b, lat)
		b.ReportMetric(float64(decisions)/float64(b.N), "decisions/op")
	})
}

// BenchmarkEvalshaEmpty is the floor: one EVALSHA of an empty script.
func BenchmarkEvalshaEmpty(b *testing.B) {
	rdb := testRedis(b)
	ctx := context.Background()
	s := redis.NewScript("return 0")
	keys := []string{"{" + testPrefix(b, rdb) + "}"}
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		start := time.Now()
		if err := s.Run(ctx, rdb, keys).Err(); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	reportLatency(b, lat)
}

// TestBench runs the exported Bench small, as `parley bench routing` does.
func TestBench(t *testing.T) {
	rdb := testRedis(t)
	prefix := testPrefix(t, rdb)
	res, err := Bench(context.Background(), rdb, BenchConfig{Prefix: prefix, Agents: 50, Queues: 5, Tasks: 500, Reservations: 500, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + res.String())
	if res.Reservations < 400 || res.DecisionP99 == 0 || res.RawP50 == 0 || res.Waiting < 500 {
		t.Errorf("implausible result %+v", res)
	}
	if n, _ := rdb.Keys(context.Background(), "{"+prefix+"}:*").Result(); len(n) != 0 {
		t.Errorf("%d keys left behind", len(n))
	}
}
