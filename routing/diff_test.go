package routing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley"
)

// TestDifferential feeds the same random sequences to the Redis router
// and to the pure-Go model (model_test.go) and requires, after every
// step, the same offers made and ended (in the same order), the same
// agents set away, the same state digest (presence, miss streak, slot
// counters, each task's state, step, target, exclusions and offered
// agents) and every invariant of checkScript (no offer beyond
// MaxParallelOffers, capacity never exceeded, each pending offer held
// once, waiting sets exact and in score order, free sets exact).
//
// One sequence in ten runs the scripts as EVALSHA (Options.NoFunctions),
// the path of a Redis without functions; the others call the function
// library.
//
// Seeds are deterministic: seeds 1..N (PARLEY_DIFF_SEQS, default 1000,
// sized for CI's time budget; run more locally, e.g. 20000).
// A failure prints the seed, the world and the operations so far; rerun
// one with PARLEY_DIFF_SEED=<seed>.
func TestDifferential(t *testing.T) {
	rdb := testRedis(t)
	var b [6]byte
	rand.Read(b[:])
	base := "test-routing-diff-" + hex.EncodeToString(b[:])
	t.Cleanup(func() { deleteKeys(t, rdb, base+"-*") })

	n, steps := 1000, 40
	if s := os.Getenv("PARLEY_DIFF_SEQS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	first := 1
	if s := os.Getenv("PARLEY_DIFF_SEED"); s != "" {
		first, _ = strconv.Atoi(s)
		n = 1
	}
	seeds := make(chan int)
	var failed atomic.Bool
	var mu sync.Mutex
	var failures []string
	var ops, offers atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for seed := range seeds {
				if failed.Load() {
					continue
				}
				d := newDiff(rdb, fmt.Sprintf("%s-%d", base, seed), uint64(seed))
				if err := d.run(steps); err != nil {
					failed.Store(true)
					mu.Lock()
					failures = append(failures, fmt.Sprintf("seed %d: %v\nworld:\n%s\noperations:\n%s",
						seed, err, d.world, strings.Join(d.log, "\n")))
					mu.Unlock()
				}
				ops.Add(int64(len(d.log)))
				offers.Add(int64(d.offers))
			}
		})
	}
	for s := first; s < first+n; s++ {
		seeds <- s
	}
	close(seeds)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("%d sequences, %d operations, %d offers compared", n, ops.Load(), offers.Load())
}

// diff is one sequence: a Redis router and the model side by side.
type diff struct {
	ctx    context.Context
	rng    *mrand.Rand
	clock  *fakeClock
	r      *Router
	m      *modelWorld
	world  string
	log    []string
	offers int

	queues   []QueueSpec
	agents   []int64
	conv     int64
	ids      map[string]string  // "conv:agent" of a pending offer -> Redis offer id
	assigned map[string][]int64 // "agent:media" -> accepted conversations
}

func newDiff(rdb *redis.Client, prefix string, seed uint64) *diff {
	clock := newClock()
	var n atomic.Int64
	newID := func() string { return fmt.Sprintf("o%012d", n.Add(1)) } // ids sort in creation order
	rng := mrand.New(mrand.NewPCG(seed, 99))
	miss := 2 + rng.IntN(2)
	d := &diff{ctx: context.Background(), rng: rng, clock: clock,
		r: New(rdb, Options{Prefix: prefix, Now: clock.Now, NewID: newID, ScanDepth: 100000, MissLimit: miss,
			NoFunctions: seed%10 == 0}),
		m:   newModel(clock.Now().UnixMilli(), miss),
		ids: map[string]string{}, assigned: map[string][]int64{}}
	return d
}

func (d *diff) pick(n int) int { return d.rng.IntN(n) }

func (d *diff) chance(p float64) bool { return d.rng.Float64() < p }

func (d *diff) setup() error {
	var w []string
	na := 3 + d.pick(3)
	for a := int64(1); a <= int64(na); a++ {
		spec := AgentSpec{ID: a, VoiceBlocksDigital: d.chance(0.3), Skills: map[string]int{"billing": 1 + d.pick(5)},
			Capacity: map[parley.Media]int{parley.MediaVoice: d.pick(2), parley.MediaChat: d.pick(4), parley.MediaEmail: d.pick(3)}}
		if d.chance(0.7) {
			spec.Skills["en"] = 1 + d.pick(5)
		}
		if err := d.r.SyncAgent(d.ctx, spec); err != nil {
			return err
		}
		d.m.syncAgent(spec)
		d.agents = append(d.agents, a)
		w = append(w, fmt.Sprintf("  agent %+v", spec))
	}
	nq := 2 + d.pick(2)
	for q := int64(1); q <= int64(nq); q++ {
		spec := QueueSpec{ID: q, Priority: 10 * d.pick(2), OfferTimeout: time.Duration(5+5*d.pick(3)) * time.Second,
			MaxParallelOffers: []int{1, 1, 2, 3}[d.pick(4)], Aging: d.chance(0.25), ProficiencyFirst: d.chance(0.25),
			Paused: d.chance(0.1)}
		if d.chance(0.25) {
			spec.StickyWindow = 30 * time.Second
		}
		if d.chance(0.3) {
			spec.WrapUp = time.Duration(5+d.pick(10)) * time.Second
		}
		exp := time.Duration(0)
		for range d.pick(3) {
			exp += time.Duration(5+d.pick(20)) * time.Second
			spec.Steps = append(spec.Steps, StepSpec{Require: map[string]int{"billing": 2 + d.pick(4)}, ExpireAfter: exp, SkipIfNoAgents: d.chance(0.3)})
		}
		if len(spec.Steps) > 0 && d.chance(0.2) {
			spec.Steps[len(spec.Steps)-1].ExpireAfter = 0
		}
		for _, a := range d.agents {
			if d.chance(0.6) {
				spec.Members = append(spec.Members, a)
			}
		}
		if err := d.r.SyncQueue(d.ctx, spec); err != nil {
			return err
		}
		d.m.syncQueue(spec)
		d.queues = append(d.queues, spec)
		w = append(w, fmt.Sprintf("  queue %+v", spec))
	}
	d.world = strings.Join(w, "\n")
	return nil
}

func (d *diff) run(steps int) error {
	if err := d.setup(); err != nil {
		return err
	}
	for range steps {
		if err := d.step(); err != nil {
			return err
		}
	}
	return nil
}

// pending lists the model's pending offers in creation order.
func (d *diff) pending() []*mOffer {
	var list []*mOffer
	for _, o := range d.m.offers {
		if o.state == parley.OfferPending {
			list = append(list, o)
		}
	}
	slices.SortFunc(list, func(x, y *mOffer) int { return x.seq - y.seq })
	return list
}

func (d *diff) step() error {
	var got Outcome
	var err, merr error
	var op string
	d.m.now = d.clock.Now().UnixMilli()
	switch k := d.pick(100); {
	case k < 25: // arrival
		d.conv++
		t := Task{ConversationID: d.conv, QueueID: int64(1 + d.pick(len(d.queues))),
			Media:    []parley.Media{parley.MediaVoice, parley.MediaChat, parley.MediaChat, parley.MediaEmail}[d.pick(4)],
			Priority: []int{0, 0, 1, 50}[d.pick(4)], EnqueuedAt: d.clock.Now().Add(-time.Duration(d.pick(40)) * time.Second)}
		switch d.pick(6) {
		case 0:
			t.Require = map[string]int{"billing": 1 + d.pick(4)}
		case 1:
			t.Require = map[string]int{"en": 2 + d.pick(4)}
		}
		if d.chance(0.2) {
			t.PreferredAgent = d.agents[d.pick(len(d.agents))]
		}
		if d.chance(0.08) {
			t.TargetAgent = d.agents[d.pick(len(d.agents))]
		}
		op = fmt.Sprintf("Enqueue(%+v)", t)
		got, err = d.r.Enqueue(d.ctx, t)
		merr = d.m.Enqueue(t)
	case k < 37: // presence
		a := d.agents[d.pick(len(d.agents))]
		p := []parley.Presence{parley.PresenceAvailable, parley.PresenceAvailable, parley.PresenceAvailable, parley.PresenceAway, parley.PresenceOffline}[d.pick(5)]
		op = fmt.Sprintf("SetPresence(%d, %s)", a, p)
		got, err = d.r.SetPresence(d.ctx, a, p)
		d.m.SetPresence(a, p)
	case k < 52: // accept
		list := d.pending()
		if len(list) == 0 {
			return nil
		}
		o := list[d.pick(len(list))]
		op = fmt.Sprintf("Accept(c%d→a%d)", o.conv, o.agent)
		var acc parley.Offer
		acc, got, err = d.r.Accept(d.ctx, d.ids[fmt.Sprint(o.conv, ":", o.agent)], o.agent)
		if err == nil && (acc.ConversationID != o.conv || acc.AgentID != o.agent || acc.State != parley.OfferAccepted) {
			return fmt.Errorf("%s: accepted %+v", op, acc)
		}
		merr = d.m.Accept(o.id, o.agent)
		key := fmt.Sprint(o.agent, ":", o.media)
		d.assigned[key] = append(d.assigned[key], o.conv)
	case k < 60: // reject
		list := d.pending()
		if len(list) == 0 {
			return nil
		}
		o := list[d.pick(len(list))]
		op = fmt.Sprintf("Reject(c%d→a%d)", o.conv, o.agent)
		_, got, err = d.r.Reject(d.ctx, d.ids[fmt.Sprint(o.conv, ":", o.agent)], o.agent)
		merr = d.m.Reject(o.id, o.agent)
	case k < 76: // time passes: offer timeouts, wrap-up ends, step changes
		dt := time.Duration(d.pick(13)) * time.Second
		d.clock.Advance(dt)
		d.m.now = d.clock.Now().UnixMilli()
		op = fmt.Sprintf("Advance(%v); ExpireDue()", dt)
		got, err = d.r.ExpireDue(d.ctx)
		d.m.ExpireDue()
	case k < 88: // a conversation ends (maybe with wrap-up)
		var keys []string
		for key, convs := range d.assigned {
			if len(convs) > 0 {
				keys = append(keys, key)
			}
		}
		if len(keys) == 0 {
			return nil
		}
		slices.Sort(keys)
		key := keys[d.pick(len(keys))]
		d.assigned[key] = d.assigned[key][1:]
		as, m, _ := strings.Cut(key, ":")
		a, _ := strconv.ParseInt(as, 10, 64)
		wrap := time.Duration(0)
		if d.chance(0.3) {
			wrap = time.Duration(1+d.pick(10)) * time.Second
		}
		op = fmt.Sprintf("ReleaseAfter(%d, %s, %v)", a, m, wrap)
		got, err = d.r.ReleaseAfter(d.ctx, a, parley.Media(m), wrap)
		d.m.ReleaseAfter(a, parley.Media(m), wrap.Milliseconds())
	case k < 92: // the customer leaves
		if d.conv == 0 {
			return nil
		}
		c := int64(1 + d.pick(int(d.conv)))
		op = fmt.Sprintf("Remove(%d)", c)
		got, err = d.r.Remove(d.ctx, c)
		d.m.Remove(c)
	case k < 96: // transfer
		var keys []string
		for key, convs := range d.assigned {
			if len(convs) > 0 {
				keys = append(keys, key)
			}
		}
		if len(keys) == 0 {
			return nil
		}
		slices.Sort(keys)
		key := keys[d.pick(len(keys))]
		c := d.assigned[key][0]
		d.assigned[key] = d.assigned[key][1:]
		as, m, _ := strings.Cut(key, ":")
		a, _ := strconv.ParseInt(as, 10, 64)
		t := Task{QueueID: int64(1 + d.pick(len(d.queues))), Priority: d.pick(2), EnqueuedAt: d.clock.Now()}
		if d.chance(0.4) {
			t.TargetAgent = d.agents[d.pick(len(d.agents))]
		}
		op = fmt.Sprintf("Transfer(%d, %d, %s, %+v)", c, a, m, t)
		got, err = d.r.Transfer(d.ctx, c, a, parley.Media(m), t)
		d.m.Transfer(c, a, parley.Media(m), t)
	case k < 98: // pause or unpause a queue, then dispatch it
		i := d.pick(len(d.queues))
		d.queues[i].Paused = !d.queues[i].Paused
		q := d.queues[i]
		op = fmt.Sprintf("SyncQueue(%d paused=%v); Dispatch(%d)", q.ID, q.Paused, q.ID)
		if err = d.r.SyncQueue(d.ctx, q); err == nil {
			got, err = d.r.Dispatch(d.ctx, q.ID)
		}
		d.m.syncQueue(q)
		d.m.Dispatch(q.ID)
	default:
		q := int64(1 + d.pick(len(d.queues)))
		op = fmt.Sprintf("Dispatch(%d)", q)
		got, err = d.r.Dispatch(d.ctx, q)
		d.m.Dispatch(q)
	}
	d.log = append(d.log, fmt.Sprintf("  %s @%s", op, d.clock.Now().Format("15:04:05")))
	if parley.ErrorCode(err) != parley.ErrorCode(merr) || (err == nil) != (merr == nil) {
		return fmt.Errorf("%s: redis error %v, model error %v", op, err, merr)
	}
	want := d.m.out
	for _, o := range got.Offered {
		d.ids[fmt.Sprint(o.ConversationID, ":", o.AgentID)] = o.ID
	}
	d.offers += len(got.Offered)
	if g, w := outcomeString(got), outcomeString(want); g != w {
		return fmt.Errorf("%s:\n    redis %s\n    model %s", op, g, w)
	}
	errs, dig, cerr := checkDigest(d.ctx, d.r.rdb, d.r)
	if cerr != nil {
		return cerr
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s: invariants broken: %v", op, errs)
	}
	if mdig := d.m.digest(); !slices.Equal(dig, mdig) {
		return fmt.Errorf("%s: state differs:\n    redis %v\n    model %v", op, dig, mdig)
	}
	if idle := d.m.idleWork(); idle != "" {
		return fmt.Errorf("%s: not work-conserving: %s", op, idle)
	}
	return nil
}

func outcomeString(o Outcome) string {
	var ended []string
	for _, x := range o.Ended {
		ended = append(ended, fmt.Sprintf("c%d→a%d:%s:%s", x.ConversationID, x.AgentID, x.State, x.Reason))
	}
	return fmt.Sprintf("offered [%s] ended [%s] away %v", offers(o.Offered), strings.Join(ended, " "), o.Away)
}
