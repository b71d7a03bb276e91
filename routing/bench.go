package routing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley"
)

// BenchConfig sizes a routing benchmark (see Bench). Zero fields take the
// defaults in brackets.
type BenchConfig struct {
	// Prefix is the hash tag content of the benchmark's keys; it must not
	// be one in use [parley-bench].
	Prefix string
	// Agents [500], each a member of 3 queues with capacity voice 1, chat
	// 3, email 5 and a billing skill 1..5.
	Agents int
	// Queues [20].
	Queues int
	// Tasks waiting once every agent is full [10000]; 10% voice, 10%
	// email, the rest chat; a third require billing 1..5.
	Tasks int
	// Reservations to make [20000].
	Reservations int
	// Concurrency is the number of clients making them [8].
	Concurrency int
}

// BenchResult are the figures of a Bench run.
type BenchResult struct {
	Config BenchConfig
	// Setup is the time it took to build the world.
	Setup time.Duration
	// Waiting is the number of tasks waiting when the run started.
	Waiting int
	// Reservations made (offers), and the wall time of the run.
	Reservations int
	Elapsed      time.Duration
	// ReservationsPerSec is Reservations / Elapsed. Each reservation is a
	// full cycle of three scripts: an agent releases a chat slot and
	// pulls the best head task (the decision), accepts the offer, and a
	// new task arrives, so the world keeps its size.
	ReservationsPerSec float64
	// DecisionP50 and DecisionP99: latency of the decision call (Release
	// → pull → offer: one script) seen by the client.
	DecisionP50, DecisionP99 time.Duration
	// RawP50 and RawP99: EVALSHA of an empty script with the same number
	// of clients, in the same run: the floor.
	RawP50, RawP99 time.Duration
}

// String renders the result as a table.
func (b BenchResult) String() string {
	var s strings.Builder
	c := b.Config
	fmt.Fprintf(&s, "routing benchmark: %d agents, %d queues, %d tasks waiting, %d clients\n", c.Agents, c.Queues, b.Waiting, c.Concurrency)
	fmt.Fprintf(&s, "  setup                    %v\n", b.Setup.Round(time.Millisecond))
	fmt.Fprintf(&s, "  reservations             %d in %v\n", b.Reservations, b.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(&s, "  reservations/s           %.0f (release+pull, accept, arrival per reservation)\n", b.ReservationsPerSec)
	fmt.Fprintf(&s, "  decision latency p50     %v\n", b.DecisionP50.Round(time.Microsecond))
	fmt.Fprintf(&s, "  decision latency p99     %v\n", b.DecisionP99.Round(time.Microsecond))
	fmt.Fprintf(&s, "  raw EVALSHA p50          %v\n", b.RawP50.Round(time.Microsecond))
	fmt.Fprintf(&s, "  raw EVALSHA p99          %v\n", b.RawP99.Round(time.Microsecond))
	if b.RawP50 > 0 && b.RawP99 > 0 {
		fmt.Fprintf(&s, "  p99 decision / p50 raw   %.1fx\n", float64(b.DecisionP99)/float64(b.RawP50))
		fmt.Fprintf(&s, "  p99 decision / p99 raw   %.1fx\n", float64(b.DecisionP99)/float64(b.RawP99))
	}
	return s.String()
}

func (c *BenchConfig) defaults() {
	if c.Prefix == "" {
		c.Prefix = "parley-bench"
	}
	if c.Agents <= 0 {
		c.Agents = 500
	}
	if c.Queues <= 0 {
		c.Queues = 20
	}
	if c.Tasks <= 0 {
		c.Tasks = 10000
	}
	if c.Reservations <= 0 {
		c.Reservations = 20000
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 8
	}
}

// benchWorld is a loaded benchmark world.
type benchWorld struct {
	r       *Router
	cfg     BenchConfig
	next    atomic.Int64 // next conversation id
	waiting int
}

// randomBenchTask is a random task of the benchmark world.
func randomBenchTask(rng *rand.Rand, queues int, conv int64, at time.Time) Task {
	t := Task{ConversationID: conv, QueueID: rng.Int64N(int64(queues)) + 1, Media: parley.MediaChat,
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

// loadBenchWorld loads cfg's agents and queues with Reconcile, fills every
// slot with accepted conversations and leaves cfg.Tasks tasks waiting.
// exotic makes every waiting task require a skill nobody has.
func loadBenchWorld(ctx context.Context, r *Router, cfg BenchConfig, exotic bool) (*benchWorld, error) {
	rng := rand.New(rand.NewPCG(1, 2))
	var s Snapshot
	members := make([][]int64, cfg.Queues+1)
	for a := int64(1); a <= int64(cfg.Agents); a++ {
		s.Agents = append(s.Agents, AgentSpec{ID: a,
			Skills:   map[string]int{"billing": int(a%5) + 1, "en": 5},
			Capacity: map[parley.Media]int{parley.MediaVoice: 1, parley.MediaChat: 3, parley.MediaEmail: 5}})
		q := int64(cfg.Queues)
		for _, x := range []int64{a % q, (a + 7) % q, (a + 13) % q} {
			if !slices.Contains(members[x+1], a) {
				members[x+1] = append(members[x+1], a)
			}
		}
	}
	for q := int64(1); q <= int64(cfg.Queues); q++ {
		s.Queues = append(s.Queues, QueueSpec{ID: q, Priority: int(q%5) * 10, Members: members[q]})
	}
	slots := cfg.Agents * 9
	t0 := r.now().Add(-time.Hour)
	for c := int64(1); c <= int64(cfg.Tasks+slots); c++ {
		task := randomBenchTask(rng, cfg.Queues, c, t0.Add(time.Duration(c)*time.Millisecond))
		if exotic && c > int64(slots) {
			task.Require = map[string]int{"klingon": 1}
		}
		s.Tasks = append(s.Tasks, task)
	}
	if _, err := r.Reconcile(ctx, s); err != nil {
		return nil, err
	}
	for a := int64(1); a <= int64(cfg.Agents); a++ {
		out, err := r.SetPresence(ctx, a, parley.PresenceAvailable)
		if err != nil {
			return nil, err
		}
		for _, o := range out.Offered {
			if _, _, err := r.Accept(ctx, o.ID, o.AgentID); err != nil {
				return nil, err
			}
		}
	}
	n, err := r.rdb.SCard(ctx, r.key("tasks")).Result()
	if err != nil {
		return nil, err
	}
	w := &benchWorld{r: r, cfg: cfg, waiting: int(n)}
	w.next.Store(1 << 30)
	return w, nil
}

// reserve is one reservation cycle for agent: release a chat slot (the
// timed decision: the agent pulls its best head task), accept the offer,
// and let a new task arrive. It returns the decision latency and whether
// an offer was made.
func (w *benchWorld) reserve(ctx context.Context, rng *rand.Rand, agent int64) (time.Duration, bool, error) {
	start := time.Now()
	out, err := w.r.Release(ctx, agent, parley.MediaChat)
	d := time.Since(start)
	if err != nil {
		return d, false, err
	}
	for _, o := range out.Offered {
		if _, _, err := w.r.Accept(ctx, o.ID, o.AgentID); err != nil {
			return d, false, err
		}
	}
	_, err = w.r.Enqueue(ctx, randomBenchTask(rng, w.cfg.Queues, w.next.Add(1), w.r.now()))
	return d, len(out.Offered) > 0, err
}

func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[min(len(d)-1, int(float64(len(d))*p))]
}

// Bench builds a routing world under cfg.Prefix (Agents agents, Queues
// queues, Tasks waiting tasks, every agent full), then makes
// cfg.Reservations reservations with cfg.Concurrency concurrent clients,
// each on its own agents (see BenchResult), measures the raw EVALSHA
// round trip with as many clients, and deletes its keys. Use a Redis not
// serving production traffic: the run loads it fully.
func Bench(ctx context.Context, rdb redis.UniversalClient, cfg BenchConfig) (res BenchResult, err error) {
	cfg.defaults()
	if cfg.Concurrency > cfg.Agents {
		cfg.Concurrency = cfg.Agents
	}
	res.Config = cfg
	r := New(rdb, Options{Prefix: cfg.Prefix})
	defer func() {
		if cerr := deletePrefix(context.WithoutCancel(ctx), rdb, cfg.Prefix); err == nil {
			err = cerr
		}
	}()
	if err := deletePrefix(ctx, rdb, cfg.Prefix); err != nil {
		return res, err
	}
	start := time.Now()
	w, err := loadBenchWorld(ctx, r, cfg, false)
	if err != nil {
		return res, err
	}
	res.Setup, res.Waiting = time.Since(start), w.waiting

	// Raw round trips: an empty script, same number of clients.
	empty := redis.NewScript("return 0")
	raw, err := runClients(ctx, cfg.Concurrency, max(cfg.Reservations/2, 1000), func(int, *rand.Rand) (time.Duration, bool, error) {
		t0 := time.Now()
		err := empty.Run(ctx, rdb, r.keys).Err()
		return time.Since(t0), true, err
	})
	if err != nil {
		return res, err
	}
	res.RawP50, res.RawP99 = percentile(raw.lat, 0.50), percentile(raw.lat, 0.99)

	// Reservations: client c serves agents c+1, c+1+C, ...
	dec, err := runClients(ctx, cfg.Concurrency, cfg.Reservations, func(i int, rng *rand.Rand) (time.Duration, bool, error) {
		return w.reserve(ctx, rng, int64(i%cfg.Agents)+1)
	})
	if err != nil {
		return res, err
	}
	res.Reservations, res.Elapsed = dec.hits, dec.elapsed
	res.ReservationsPerSec = float64(dec.hits) / dec.elapsed.Seconds()
	res.DecisionP50, res.DecisionP99 = percentile(dec.lat, 0.50), percentile(dec.lat, 0.99)
	return res, nil
}

type clientRun struct {
	lat     []time.Duration
	hits    int
	elapsed time.Duration
}

// runClients runs n calls of f over c goroutines; goroutine g makes calls
// i = g, g+c, g+2c, ... (so calls on agent i%agents never overlap when
// c divides the agents... and rarely otherwise).
func runClients(ctx context.Context, c, n int, f func(i int, rng *rand.Rand) (time.Duration, bool, error)) (clientRun, error) {
	var mu sync.Mutex
	var run clientRun
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for g := range c {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 3))
			lat := make([]time.Duration, 0, n/c+1)
			hits := 0
			for i := g; i < n; i += c {
				if ctx.Err() != nil {
					break
				}
				d, hit, err := f(i, rng)
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, err)
					mu.Unlock()
					return
				}
				lat = append(lat, d)
				if hit {
					hits++
				}
			}
			mu.Lock()
			run.lat = append(run.lat, lat...)
			run.hits += hits
			mu.Unlock()
		})
	}
	wg.Wait()
	run.elapsed = time.Since(start)
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return run, firstErr
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// deletePrefix deletes every key of the hash tag {prefix}.
func deletePrefix(ctx context.Context, rdb redis.UniversalClient, prefix string) error {
	iter := rdb.Scan(ctx, 0, "{"+prefix+"}:*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 500 {
			if err := rdb.Del(ctx, keys...).Err(); err != nil {
				return err
			}
			keys = keys[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return err
	}
	if len(keys) > 0 {
		return rdb.Del(ctx, keys...).Err()
	}
	return nil
}
