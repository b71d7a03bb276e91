package routing

import (
	"context"
	"crypto/rand"
	"crypto/sha1"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley"
)

// Options configure a Router. The zero value is usable.
type Options struct {
	// Prefix is the hash-tag content: "parley" gives keys "{parley}:...".
	// Default "parley". It must not contain '{' or '}'.
	Prefix string
	// Now is the clock; default time.Now. Times are kept in milliseconds.
	Now func() time.Time
	// NewID returns a fresh offer id base (no newline in it), never
	// returned before by any router on the same Redis (the scripts do not
	// check): the offers one
	// call makes get the ids <base>-1, <base>-2, ... Default: 8 random
	// bytes in hex, chosen once per Router, then a counter.

	NewID func() string
	// ScanDepth bounds the work of one decision: within one requirement
	// class of a queue's waiting tasks, a dispatch or pull skips at most
	// this many tasks excluded for every qualified free agent (they
	// rejected or missed them); default 50.
	ScanDepth int
	// MissLimit is the number of consecutive missed offers (timeouts)
	// after which the router sets an agent away (Outcome.Away, reason
	// "missed_offers"); default 3. Rejects and cancels are not misses; an
	// Accept, or the agent setting itself available, resets the streak.
	MissLimit int
	// Observe, when set, is called after each script with its name (op:
	// "enqueue", "dispatch", "pull", "accept", "reject", "expire",
	// "release", "transfer", "presence", "remove", ...) and wall time, e.g.
	// for a decision latency histogram. It must be cheap and safe for
	// concurrent use.
	Observe func(op string, d time.Duration)
	// NoFunctions makes the Router run its transitions as EVALSHA scripts
	// even when Redis has functions (Redis 7); it is for tests of that
	// path (a Redis without functions is detected on its own).
	NoFunctions bool
}

// Router is the Redis routing core. It is safe for concurrent use, and
// several Routers (in several processes) may share one Redis: every state
// transition is a single Lua script.
type Router struct {
	rdb   redis.UniversalClient
	tag   string   // "{prefix}"
	keys  []string // KEYS for every script: just the tag
	now   func() time.Time
	newID func() string
	depth int
	miss  int
	obs   func(string, time.Duration)
	mode  atomic.Int32 // modeUnknown, modeFunctions or modeScripts
}

// New returns a Router keeping its state in rdb under the hash tag
// "{opts.Prefix}".
func New(rdb redis.UniversalClient, opts Options) *Router {
	if opts.Prefix == "" {
		opts.Prefix = "parley"
	}
	if strings.ContainsAny(opts.Prefix, "{}") {
		panic("routing: Prefix must not contain '{' or '}'")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.NewID == nil {
		opts.NewID = counterIDs()
	}
	if opts.ScanDepth <= 0 {
		opts.ScanDepth = 50
	}
	if opts.MissLimit <= 0 {
		opts.MissLimit = 3
	}
	tag := "{" + opts.Prefix + "}"
	r := &Router{rdb: rdb, tag: tag, keys: []string{tag}, now: opts.Now, newID: opts.NewID,
		depth: opts.ScanDepth, miss: opts.MissLimit, obs: opts.Observe}
	if opts.NoFunctions {
		r.mode.Store(modeScripts)
	}
	return r
}

// counterIDs returns a NewID: a random prefix, then a counter (no
// system call per call).
func counterIDs() func() string {
	var b [8]byte
	rand.Read(b[:])
	prefix := hex.EncodeToString(b[:]) + "."
	var n atomic.Uint64
	return func() string { return prefix + strconv.FormatUint(n.Add(1), 36) }
}

// key builds a key name, e.g. key("q", "12", "age") = "{parley}:q:12:age".
func (r *Router) key(parts ...string) string {
	return r.tag + ":" + strings.Join(parts, ":")
}

// Outcome reports what a call changed, for the caller to push to agents
// (after the commit) and to record in PostgreSQL. A call that fails after
// its first script committed (while finishing dispatch work) returns what
// was committed along with the error: handle both.
type Outcome struct {
	// Offered are the pending offers this call created.
	Offered []parley.Offer
	// Ended are the offers this call moved to a terminal state.
	Ended []parley.Offer
	// Away are the agents this call set away (after MissLimit missed
	// offers in a row); their pending offers are among Ended (canceled).
	Away []AgentAway
}

// AgentAway is an agent the router set away, and why.
type AgentAway struct {
	AgentID int64
	// Reason is "missed_offers".
	Reason string
}

func (o *Outcome) add(p Outcome) {
	o.Offered = append(o.Offered, p.Offered...)
	o.Ended = append(o.Ended, p.Ended...)
	o.Away = append(o.Away, p.Away...)
}

// Scripts. lib.lua and the script files make one Redis function library
// (FUNCTION LOAD, Redis 7): lib.lua's functions are compiled once and each
// transition is one FCALL. Its name carries a hash of the source, so
// Routers of different builds sharing a Redis each call their own. On a
// Redis without functions each script is lib.lua followed by the body
// (EVALSHA). Either way a body starts with begin(KEYS, ARGV).

//go:embed *.lua
var luaFiles embed.FS

// luaScript is one transition: a function of the library and the same
// body as a script.
type luaScript struct {
	fn   string        // function name in the library
	eval *redis.Script // lib.lua + body, for Redis without functions
}

// luaLibrary is the routing function library.
type luaLibrary struct {
	source  string
	scripts map[string]*luaScript // by file name without .lua
}

func buildLibrary(names ...string) luaLibrary {
	read := func(name string) string {
		b, err := luaFiles.ReadFile(name)
		if err != nil {
			panic(err)
		}
		return string(b)
	}
	lib := read("lib.lua")
	bodies := make([]string, len(names))
	h := sha1.New()
	h.Write([]byte(lib))
	for i, n := range names {
		bodies[i] = read(n + ".lua")
		h.Write([]byte(bodies[i]))
	}
	prefix := "parley_routing_" + hex.EncodeToString(h.Sum(nil))[:12]
	var src strings.Builder
	src.WriteString("#!lua name=" + prefix + "\n" + lib + "\n")
	l := luaLibrary{scripts: map[string]*luaScript{}}
	for i, n := range names {
		fn := prefix + "_" + n
		fmt.Fprintf(&src, "-- %s.lua\nredis.register_function('%s', function(keys, args)\nbegin(keys, args)\n%s\nend)\n", n, fn, bodies[i])
		l.scripts[n] = &luaScript{fn: fn, eval: redis.NewScript(lib + "\n-- " + n + ".lua\nlocal function main(keys, args)\nbegin(keys, args)\n" +
			bodies[i] + "\nend\nreturn main(KEYS, ARGV)\n")}
	}
	l.source = src.String()
	return l
}

var (
	routingLua = buildLibrary("accept", "dispatch", "enqueue", "expire", "position", "presence", "reconcile",
		"reject", "release", "remove", "removeagent", "removequeue", "syncagent", "syncqueue", "staffed", "transfer")

	scriptAccept      = routingLua.scripts["accept"]
	scriptDispatch    = routingLua.scripts["dispatch"]
	scriptEnqueue     = routingLua.scripts["enqueue"]
	scriptExpire      = routingLua.scripts["expire"]
	scriptPosition    = routingLua.scripts["position"]
	scriptPresence    = routingLua.scripts["presence"]
	scriptReconcile   = routingLua.scripts["reconcile"]
	scriptReject      = routingLua.scripts["reject"]
	scriptRelease     = routingLua.scripts["release"]
	scriptRemove      = routingLua.scripts["remove"]
	scriptRemoveAgent = routingLua.scripts["removeagent"]
	scriptRemoveQueue = routingLua.scripts["removequeue"]
	scriptSyncAgent   = routingLua.scripts["syncagent"]
	scriptSyncQueue   = routingLua.scripts["syncqueue"]
	scriptStaffed     = routingLua.scripts["staffed"]
	scriptTransfer    = routingLua.scripts["transfer"]
)

// How a Router calls the scripts (Router.mode).
const (
	modeUnknown   int32 = iota // not tried yet
	modeFunctions              // FCALL of the loaded library
	modeScripts                // EVALSHA: Redis without functions, or Options.NoFunctions
)

// call runs script s: FCALL, loading the library when Redis does not
// have it (first use, restart, FUNCTION FLUSH) and falling back to
// EVALSHA for good when Redis has no functions.
func (r *Router) call(ctx context.Context, s *luaScript, argv []any) ([]any, error) {
	if r.mode.Load() != modeScripts {
		v, err := r.rdb.FCall(ctx, s.fn, r.keys, argv...).Slice()
		if err == nil || !noFunction(err) {
			return v, err
		}
		if err := r.loadLibrary(ctx); err != nil {
			return nil, err
		}
		if r.mode.Load() == modeFunctions {
			return r.rdb.FCall(ctx, s.fn, r.keys, argv...).Slice()
		}
	}
	return s.eval.Run(ctx, r.rdb, r.keys, argv...).Slice()
}

// noFunction reports whether err says the function (or FCALL itself) is
// unknown to this Redis.
func noFunction(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Function not found") || strings.Contains(msg, "unknown command")
}

// loadLibrary loads the routing library (another Router may have just
// done so) or, on a Redis without functions, switches to scripts.
func (r *Router) loadLibrary(ctx context.Context) error {
	err := r.rdb.FunctionLoad(ctx, routingLua.source).Err()
	switch {
	case err == nil || strings.Contains(err.Error(), "already exists"):
		r.mode.Store(modeFunctions)
	case strings.Contains(err.Error(), "unknown command"):
		r.mode.Store(modeScripts)
	default:
		return fmt.Errorf("routing: load function library: %w", err)
	}
	return nil
}

// Offer id pools passed to a script (see lib.lua): a script that runs out
// leaves the rest of its dispatch work in its reply and run finishes it
// with dispatch.lua.
const (
	smallPool = 4   // one event: enqueue, reject, release, ...
	bulkPool  = 128 // dispatch, reconcile, continuations
)

// reply is a decoded script reply.
type reply struct {
	Outcome
	more  []string
	extra []string
}

// run runs script s allowed nids offers, with args, then finishes the
// dispatch work beyond that. op names the call in errors
// and its first word names it for Options.Observe.
func (r *Router) run(ctx context.Context, op string, s *luaScript, nids int, args ...any) (reply, error) {
	var start time.Time
	if r.obs != nil {
		start = time.Now()
	}
	rep, err := r.eval(ctx, s, nids, args)
	if r.obs != nil {
		name, _, _ := strings.Cut(op, " ")
		r.obs(name, time.Since(start))
	}
	if err != nil {
		return rep, fmt.Errorf("routing: %s: %w", op, err)
	}
	for more := rep.more; len(more) > 0; {
		items := make([]any, len(more))
		for i, m := range more {
			items[i] = m
		}
		next, err := r.eval(ctx, scriptDispatch, bulkPool, items)
		if err != nil {
			return rep, fmt.Errorf("routing: %s: dispatch: %w", op, err)
		}
		if len(next.more) > 0 && len(next.Offered) == 0 {
			return rep, fmt.Errorf("routing: %s: offer ids exhausted without progress", op)
		}
		rep.add(next.Outcome)
		more = next.more
	}
	return rep, nil
}

// eval runs one script: ARGV = now_ms, depth, miss limit, nids, offer id
// base, args...
func (r *Router) eval(ctx context.Context, s *luaScript, nids int, args []any) (reply, error) {
	base := ""
	if nids > 0 {
		base = r.newID()
	}
	argv := make([]any, 0, 5+len(args))
	argv = append(argv, r.now().UnixMilli(), r.depth, r.miss, nids, base)
	argv = append(argv, args...)
	v, err := r.call(ctx, s, argv)
	if err != nil {
		return reply{}, err
	}
	return parseReply(v)
}

var errReply = errors.New("malformed script reply")

// parseReply decodes lib.lua's reply: code, message and a body of lines,
// the counts of offered, ended, more, extra and away, then their fields
// in that order.
func parseReply(v []any) (reply, error) {
	var rep reply
	if len(v) != 3 {
		return rep, errReply
	}
	code, _ := v[0].(string)
	msg, _ := v[1].(string)
	if code != "" {
		return rep, parley.Errorf(code, "%s", msg)
	}
	body, ok := v[2].(string)
	if !ok {
		return rep, errReply
	}
	f := strings.Split(body, "\n")
	if len(f) < 5 {
		return rep, errReply
	}
	var n [5]int
	for i := range n {
		x, err := strconv.Atoi(f[i])
		if err != nil || x < 0 || x > len(f) {
			return rep, errReply
		}
		n[i] = x
	}
	f = f[5:]
	if len(f) != 9*n[0]+9*n[1]+n[2]+n[3]+2*n[4] {
		return rep, errReply
	}
	take := func(k int) []string {
		part := f[:k:k]
		f = f[k:]
		return part
	}
	var err error
	if rep.Offered, err = parseOffers(take(9 * n[0])); err != nil {
		return rep, err
	}
	if rep.Ended, err = parseOffers(take(9 * n[1])); err != nil {
		return rep, err
	}
	rep.more = take(n[2])
	rep.extra = take(n[3])
	away := take(2 * n[4])
	for i := 0; i < len(away); i += 2 {
		id, err := strconv.ParseInt(away[i], 10, 64)
		if err != nil {
			return rep, errReply
		}
		rep.Away = append(rep.Away, AgentAway{AgentID: id, Reason: away[i+1]})
	}
	return rep, nil
}

func strs(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, errReply
	}
	out := make([]string, len(list))
	for i, x := range list {
		if out[i], ok = x.(string); !ok {
			return nil, errReply
		}
	}
	return out, nil
}

// parseOffers decodes offer records of 9 fields each.
func parseOffers(f []string) ([]parley.Offer, error) {
	var out []parley.Offer
	for ; len(f) >= 9; f = f[9:] {
		o, err := parseOffer(f[:9])
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// parseOffer decodes lib.lua's offer_record:
// id, conv, agent, queue, state, created, expires, ended, reason.
func parseOffer(f []string) (parley.Offer, error) {
	if len(f) != 9 {
		return parley.Offer{}, errReply
	}
	var n [6]int64
	for i, s := range []string{f[1], f[2], f[3], f[5], f[6], f[7]} {
		if s == "" {
			continue
		}
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return parley.Offer{}, errReply
		}
		n[i] = x
	}
	o := parley.Offer{
		ID: f[0], ConversationID: n[0], AgentID: n[1], QueueID: n[2],
		State: parley.OfferState(f[4]), CreatedAt: msTime(n[3]), ExpiresAt: msTime(n[4]),
		Reason: f[8],
	}
	if f[7] != "" {
		o.EndedAt = msTime(n[5])
	}
	return o, nil
}

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func id(n int64) string { return strconv.FormatInt(n, 10) }
