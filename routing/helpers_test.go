package routing

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley"
)

// testRedis connects to PARLEY_TEST_REDIS_URL (default
// redis://127.0.0.1:6379/0). Unreachable: Fatal under CI=true, else Skip.
func testRedis(tb testing.TB) *redis.Client {
	tb.Helper()
	url := os.Getenv("PARLEY_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opt, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatalf("PARLEY_TEST_REDIS_URL: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	popt := *opt
	popt.MaxRetries, popt.DialerRetries = -1, 1 // answer at once when nothing listens
	probe := redis.NewClient(&popt)
	err = probe.Ping(ctx).Err()
	probe.Close()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redis at %s unreachable: %v", url, err)
		}
		tb.Skipf("redis at %s unreachable: %v", url, err)
	}
	rdb := redis.NewClient(opt)
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

// testPrefix returns a fresh random prefix whose keys are deleted when the
// test ends.
func testPrefix(tb testing.TB, rdb *redis.Client) string {
	var b [6]byte
	rand.Read(b[:])
	prefix := "test-routing-" + hex.EncodeToString(b[:])
	tb.Cleanup(func() { deleteKeys(tb, rdb, prefix) })
	return prefix
}

// deleteKeys deletes every key of prefix (SCAN + DEL): the test's stand-in
// for FLUSHALL on a Redis other tests share.
func deleteKeys(tb testing.TB, rdb *redis.Client, prefix string) {
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, "{"+prefix+"}*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("scan %s: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 500)
		if err := rdb.Del(ctx, keys[:n]...).Err(); err != nil {
			tb.Errorf("del %s: %v", prefix, err)
			return
		}
		keys = keys[n:]
	}
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// seqIDs returns an id generator "<tag>1", "<tag>2", ...
func seqIDs(tag string) func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("%s%d", tag, n.Add(1)) }
}

// env is one test's router on its own prefix.
type env struct {
	t     *testing.T
	ctx   context.Context
	rdb   *redis.Client
	clock *fakeClock
	r     *Router
	opts  Options
}

func newEnv(t *testing.T) *env {
	t.Helper()
	rdb := testRedis(t)
	clock := newClock()
	opts := Options{Prefix: testPrefix(t, rdb), Now: clock.Now, NewID: seqIDs("o")}
	return &env{t: t, ctx: context.Background(), rdb: rdb, clock: clock, r: New(rdb, opts), opts: opts}
}

func (e *env) queue(q QueueSpec) {
	e.t.Helper()
	if err := e.r.SyncQueue(e.ctx, q); err != nil {
		e.t.Fatalf("SyncQueue(%d): %v", q.ID, err)
	}
}

// agent syncs an agent with chat capacity 1 unless capacity says otherwise.
func (e *env) agent(a AgentSpec) {
	e.t.Helper()
	if a.Capacity == nil {
		a.Capacity = map[parley.Media]int{parley.MediaChat: 1}
	}
	if err := e.r.SyncAgent(e.ctx, a); err != nil {
		e.t.Fatalf("SyncAgent(%d): %v", a.ID, err)
	}
}

func (e *env) presence(agentID int64, p parley.Presence) Outcome {
	e.t.Helper()
	out, err := e.r.SetPresence(e.ctx, agentID, p)
	if err != nil {
		e.t.Fatalf("SetPresence(%d, %s): %v", agentID, p, err)
	}
	return out
}

// enqueue enqueues a chat task of priority 0 unless t says otherwise,
// enqueued now.
func (e *env) enqueue(t Task) Outcome {
	e.t.Helper()
	if t.Media == "" {
		t.Media = parley.MediaChat
	}
	out, err := e.r.Enqueue(e.ctx, t)
	if err != nil {
		e.t.Fatalf("Enqueue(%d): %v", t.ConversationID, err)
	}
	return out
}

func (e *env) accept(offerID string, agentID int64) parley.Offer {
	e.t.Helper()
	o, _ := e.acceptOut(offerID, agentID)
	return o
}

func (e *env) acceptOut(offerID string, agentID int64) (parley.Offer, Outcome) {
	e.t.Helper()
	o, out, err := e.r.Accept(e.ctx, offerID, agentID)
	if err != nil {
		e.t.Fatalf("Accept(%s, %d): %v", offerID, agentID, err)
	}
	return o, out
}

func (e *env) position(conv int64) (int, bool) {
	e.t.Helper()
	pos, ok, err := e.r.Position(e.ctx, conv)
	if err != nil {
		e.t.Fatalf("Position(%d): %v", conv, err)
	}
	return pos, ok
}

func (e *env) load(agentID int64) map[parley.Media]int {
	e.t.Helper()
	l, err := e.r.Load(e.ctx, agentID)
	if err != nil {
		e.t.Fatalf("Load(%d): %v", agentID, err)
	}
	return l
}

// offers summarises offers as "c<conv>→a<agent>" (plus ":<state>" when
// ended), in order.
func offers(os []parley.Offer) string {
	var s []string
	for _, o := range os {
		x := fmt.Sprintf("c%d→a%d", o.ConversationID, o.AgentID)
		if o.State != parley.OfferPending {
			x += ":" + string(o.State)
		}
		s = append(s, x)
	}
	return strings.Join(s, " ")
}

// only returns the single offer of os, failing otherwise.
func only(t *testing.T, os []parley.Offer) parley.Offer {
	t.Helper()
	if len(os) != 1 {
		t.Fatalf("got offers %q; want exactly one", offers(os))
	}
	return os[0]
}

func wantOffers(t *testing.T, what string, got []parley.Offer, want string) {
	t.Helper()
	if g := offers(got); g != want {
		t.Errorf("%s: got %q; want %q", what, g, want)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var pe *parley.Error
	if !errors.As(err, &pe) || pe.Code != code {
		t.Errorf("got error %v; want code %s", err, code)
	}
}

// waitingOrder lists the conversations waiting in queue q, in order.
func (e *env) waitingOrder(q int64) []string {
	e.t.Helper()
	var keys []string
	for _, m := range parley.AllMedia {
		firsts, err := e.rdb.ZRange(e.ctx, e.r.key("q", id(q), "first", string(m)), 0, -1).Result()
		if err != nil {
			e.t.Fatal(err)
		}
		for _, f := range firsts { // "<class member>|<req>"
			keys = append(keys, e.r.key("q", id(q), "wk", string(m))+":"+f[37:])
		}
	}
	if len(keys) == 0 {
		return nil
	}
	// class members: "<score padded to 16><conv padded to 19><x or ->"
	members, err := e.rdb.ZUnion(e.ctx, redis.ZStore{Keys: keys}).Result()
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(members))
	for i, m := range members {
		out[i] = strings.TrimLeft(m[16:35], "0")
	}
	return out
}

func chat(n int) map[parley.Media]int { return map[parley.Media]int{parley.MediaChat: n} }
