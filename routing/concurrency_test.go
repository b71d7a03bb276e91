package routing

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/parleyhq/parley"
)

// checkScript reads the whole routing state atomically and reports every
// broken invariant, plus each agent's assigned counters ("aid media n").
var checkScript = redis.NewScript(`
local P = KEYS[1]
local function k(...) return P .. ':' .. table.concat({ ... }, ':') end
local errs, asg = {}, {}
local function bad(...) errs[#errs + 1] = table.concat({ ... }, ' ') end
local media = { 'voice', 'chat', 'email' }
local expiry = {}
for _, oid in ipairs(redis.call('ZRANGE', k('expiry'), 0, -1)) do expiry[oid] = true end
local owned, byconv = {}, {}
local ahash = {}
for _, aid in ipairs(redis.call('SMEMBERS', k('agents'))) do
  -- The agent's record (see lib.lua), as named fields.
  local a = {}
  local f = {}
  for x in string.gmatch((redis.call('HGET', k('ag'), aid) or '') .. '|', '([^|]*)|') do f[#f + 1] = x end
  if #f ~= 22 then bad('agent', aid, 'record has', #f, 'fields') end
  a.presence, a.miss, a.vbd = f[1], f[5], f[17]
  for i, m in ipairs(media) do
    a['asg:' .. m], a['pend:' .. m], a['wrap:' .. m], a['cap:' .. m] = f[7 + i], f[10 + i], f[13 + i], f[17 + i]
  end
  ahash[aid] = a
  local pend = { voice = 0, chat = 0, email = 0 }
  for oid in string.gmatch(f[21] or '', '%S+') do
    local o = {}
    local w = redis.call('GET', k('of', oid)) or ''
    o.conv, o.agent, o.queue, o.media, o.state = w:match('^(%d+)|(%d+)|(%d+)|(%a+)|(%a+)|')
    if o.state ~= 'pending' then bad('agent', aid, 'holds offer', oid, 'in state', tostring(o.state)) end
    if o.agent ~= aid then bad('offer', oid, 'of agent', tostring(o.agent), 'held by', aid) end
    if not expiry[oid] then bad('pending offer', oid, 'not in expiry') end
    if a.presence ~= 'available' then bad('agent', aid, a.presence, 'holds pending offer', oid) end
    owned[oid] = o
    pend[o.media] = pend[o.media] + 1
    byconv[o.conv] = (byconv[o.conv] or 0) + 1
    if byconv[o.conv .. ':' .. aid] then bad('conversation', o.conv, 'offered twice to agent', aid) end
    byconv[o.conv .. ':' .. aid] = true
  end
  for _, m in ipairs(media) do
    local c, g, p, w = tonumber(a['cap:' .. m]), tonumber(a['asg:' .. m]), tonumber(a['pend:' .. m]), tonumber(a['wrap:' .. m] or 0)
    if g < 0 or p < 0 or w < 0 then bad('agent', aid, m, 'negative counter', g, p, w) end
    if g + p + w > c then bad('agent', aid, m, 'load', g + p + w, 'above capacity', c) end
    if p ~= pend[m] then bad('agent', aid, m, 'pend', p, 'but', pend[m], 'pending offers') end
    asg[#asg + 1] = aid .. ' ' .. m .. ' ' .. g
  end
end
for oid in pairs(expiry) do
  if not owned[oid] then bad('offer', oid, 'in expiry but held by no agent') end
end
local ntasks, noffered = 0, 0
for _, conv in ipairs(redis.call('SMEMBERS', k('tasks'))) do
  ntasks = ntasks + 1
  local t = {}
  local v = redis.call('HGETALL', k('t', conv))
  for i = 1, #v, 2 do t[v[i]] = v[i + 1] end
  local score = nil
  if t.mem and t.mem ~= '' then
    if t.target and t.target ~= '' then
      score = redis.call('ZSCORE', k('a', t.target, 'direct'), t.mem)
    else
      local cmem = string.format('%016d', tonumber(t.score)) .. t.mem:sub(1, 19) .. t.mem:sub(21, 21)
      score = redis.call('ZSCORE', k('q', t.queue, 'wk', t.media) .. ':' .. t.mem:sub(23), cmem)
    end
  end
  if t.state == 'offered' then
    noffered = noffered + 1
    local n = 0
    for oid in string.gmatch(t.offers or '', '%S+') do
      n = n + 1
      local o = owned[oid]
      if not o or o.conv ~= conv then bad('task', conv, 'lists offer', oid, 'which is not a pending offer of it') end
    end
    if n == 0 then bad('offered task', conv, 'lists no offer') end
    local cfg = redis.call('HGET', k('qcfg'), t.queue)
    local par = cfg and tonumber(cfg:match('^[^|]*|[^|]*|(%d+)')) or 1
    if n > par then bad('task', conv, 'has', n, 'offers; the queue allows', par) end
    if n ~= (byconv[conv] or 0) then bad('task', conv, 'lists', n, 'offers but has', byconv[conv] or 0) end
    if t.mem ~= '' then bad('task', conv, 'offered and waiting') end
  elseif t.state == 'queued' then
    if byconv[conv] then bad('queued task', conv, 'has a pending offer') end
    if tonumber(score) ~= tonumber(t.score) then bad('task', conv, 'waits at', tostring(score), 'not', t.score) end
  else
    bad('task', conv, 'in state', tostring(t.state))
  end
end
for conv in pairs(byconv) do
  if not conv:find(':') and redis.call('EXISTS', k('t', conv)) == 0 then bad('pending offer for missing task', conv) end
end
local nwait = 0
for _, aid in ipairs(redis.call('SMEMBERS', k('agents'))) do
  nwait = nwait + redis.call('ZCARD', k('a', aid, 'direct'))
end
-- Step timers belong to live tasks.
for _, conv in ipairs(redis.call('ZRANGE', k('steps'), 0, -1)) do
  if redis.call('SISMEMBER', k('tasks'), conv) == 0 then bad('step timer of deleted task', conv) end
end
-- The class sets hold exactly the waiting tasks (each queued task's
-- member was checked above), and each class's first member is listed.
for _, qid in ipairs(redis.call('SMEMBERS', k('queues'))) do
  for _, m in ipairs(media) do
    local seen = {}
    for _, e in ipairs(redis.call('ZRANGE', k('q', qid, 'first', m), 0, -1)) do
      local req = e:sub(38)
      if seen[req] then bad('queue', qid, m, 'class', req, 'listed twice') end
      seen[req] = true
      local key = k('q', qid, 'wk', m) .. ':' .. req
      local c = redis.call('ZCARD', key)
      local first = redis.call('ZRANGE', key, 0, 0)[1]
      if c == 0 or first ~= e:sub(1, 36) then
        bad('queue', qid, m, 'class', req, 'listed first', e:sub(1, 36), 'holds', c, 'first', tostring(first))
      end
      nwait = nwait + c
    end
  end
end
if nwait + noffered ~= ntasks then bad('tasks', ntasks, '~= waiting', nwait, '+ offered', noffered) end
-- The free sets hold exactly the available agents with a free slot.
for _, m in ipairs(media) do
  local inset = {}
  for _, aid in ipairs(redis.call('SMEMBERS', k('free', m))) do inset[aid] = true end
  for aid, a in pairs(ahash) do
    local load = {}
    for _, x in ipairs(media) do
      load[x] = tonumber(a['asg:' .. x]) + tonumber(a['pend:' .. x]) + tonumber(a['wrap:' .. x] or 0)
    end
    local f = a.presence == 'available' and load[m] < tonumber(a['cap:' .. m])
      and not (m ~= 'voice' and a.vbd == '1' and load.voice > 0)
    if f ~= (inset[aid] == true) then bad('agent', aid, 'free on', m, tostring(f), 'but in free set', tostring(inset[aid] == true)) end
  end
end
-- A digest of the state, for the differential test: agents then tasks.
local dig = {}
for aid, a in pairs(ahash) do
  dig[#dig + 1] = 'a' .. aid .. ' ' .. a.presence .. ' ' .. a.miss .. ' ' .. table.concat({ a['asg:voice'], a['pend:voice'], a['wrap:voice'],
    a['asg:chat'], a['pend:chat'], a['wrap:chat'], a['asg:email'], a['pend:email'], a['wrap:email'] }, '/')
end
for _, conv in ipairs(redis.call('SMEMBERS', k('tasks'))) do
  local v = redis.call('HMGET', k('t', conv), 'queue', 'state', 'step', 'target', 'offers', 'nexcl')
  local ags = {}
  for oid in string.gmatch(v[5] or '', '%S+') do ags[#ags + 1] = ((redis.call('GET', k('of', oid)) or ''):match('^%d+|(%d+)|') or '') end
  table.sort(ags)
  dig[#dig + 1] = 'c' .. conv .. ' q' .. v[1] .. ' ' .. v[2] .. ' s' .. v[3] .. ' t' .. v[4] .. ' x' .. v[6] .. ' [' .. table.concat(ags, ',') .. ']'
end
return { errs, asg, dig }
`)

// checkInvariants runs checkScript and returns the broken invariants and
// the assigned counters.
func checkInvariants(ctx context.Context, rdb redis.UniversalClient, r *Router) ([]string, []string, error) {
	v, err := checkScript.Run(ctx, rdb, r.keys).Slice()
	if err != nil {
		return nil, nil, err
	}
	errs, err := strs(v[0])
	if err != nil {
		return nil, nil, err
	}
	asg, err := strs(v[1])
	return errs, asg, err
}

// checkDigest runs checkScript and returns the broken invariants and a
// sorted digest of agents and tasks (see modelWorld.digest).
func checkDigest(ctx context.Context, rdb redis.UniversalClient, r *Router) ([]string, []string, error) {
	v, err := checkScript.Run(ctx, rdb, r.keys).Slice()
	if err != nil {
		return nil, nil, err
	}
	errs, err := strs(v[0])
	if err != nil {
		return nil, nil, err
	}
	dig, err := strs(v[2])
	slices.Sort(dig)
	return errs, dig, err
}

// ledger is what the test knows from the routers' answers.
type ledger struct {
	mu       sync.Mutex
	pending  map[string]parley.Offer        // offered, not yet seen ended
	offered  map[string]int                 // times each offer id was offered
	ended    map[string]int                 // times each offer id ended
	assigned map[int64]map[parley.Media]int // accepted, not released
	media    map[int64]parley.Media         // of each conversation
}

func (l *ledger) record(out Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range out.Offered {
		l.offered[o.ID]++
		if l.ended[o.ID] == 0 { // another goroutine may have seen it end first
			l.pending[o.ID] = o
		}
	}
	for _, o := range out.Ended {
		l.end(o)
	}
}

func (l *ledger) end(o parley.Offer) {
	l.ended[o.ID]++
	delete(l.pending, o.ID)
}

func (l *ledger) pick(rng *rand.Rand) (parley.Offer, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) == 0 {
		return parley.Offer{}, false
	}
	n := rng.IntN(len(l.pending))
	for _, o := range l.pending {
		if n == 0 {
			return o, true
		}
		n--
	}
	panic("unreachable")
}

func TestRouterConcurrentInvariants(t *testing.T) {
	rdb := testRedis(t)
	prefix := testPrefix(t, rdb)
	ctx := context.Background()

	var clockMS atomic.Int64
	clockMS.Store(newClock().Now().UnixMilli())
	now := func() time.Time { return time.UnixMilli(clockMS.Load()) }
	routers := []*Router{
		New(rdb, Options{Prefix: prefix, Now: now, NewID: seqIDs("A"), ScanDepth: 10}),
		New(rdb, Options{Prefix: prefix, Now: now, NewID: seqIDs("B"), ScanDepth: 10}),
	}
	r0 := routers[0]

	const nAgents, nQueues = 10, 3
	caps := map[int64]map[parley.Media]int{}
	for q := int64(1); q <= nQueues; q++ {
		var members []int64
		for a := int64(1); a <= nAgents; a++ {
			if (a+q)%3 != 0 {
				members = append(members, a)
			}
		}
		spec := QueueSpec{ID: q, Priority: int(q) * 10, OfferTimeout: 5 * time.Second, Members: members,
			MaxParallelOffers: int(q), WrapUp: time.Duration(q-1) * time.Second, Aging: q == 3}
		if q == 2 {
			spec.Steps = []StepSpec{{Require: map[string]int{"billing": 4}, ExpireAfter: 3 * time.Second, SkipIfNoAgents: true},
				{Require: map[string]int{"billing": 2}, ExpireAfter: 6 * time.Second}}
		}
		if err := r0.SyncQueue(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	for a := int64(1); a <= nAgents; a++ {
		caps[a] = map[parley.Media]int{parley.MediaVoice: 1, parley.MediaChat: int(a%3) + 1, parley.MediaEmail: 2}
		skills := map[string]int{"billing": int(a%5) + 1, "zh": int(a%2)*4 + 1}
		if err := r0.SyncAgent(ctx, AgentSpec{ID: a, Skills: skills, Capacity: caps[a], VoiceBlocksDigital: a%4 == 0}); err != nil {
			t.Fatal(err)
		}
	}

	l := &ledger{pending: map[string]parley.Offer{}, offered: map[string]int{}, ended: map[string]int{},
		assigned: map[int64]map[parley.Media]int{}, media: map[int64]parley.Media{}}
	for a := range caps {
		l.assigned[a] = map[parley.Media]int{}
	}
	var convs atomic.Int64
	var ops [8]atomic.Int64 // by kind, for the log

	worker := func(r *Router, seed uint64, n int) error {
		rng := rand.New(rand.NewPCG(seed, 7))
		for range n {
			var out Outcome
			var err error
			agent := int64(rng.IntN(nAgents) + 1)
			kind := rng.IntN(100)
			switch {
			case kind < 25: // a new conversation
				media := []parley.Media{parley.MediaChat, parley.MediaChat, parley.MediaVoice, parley.MediaEmail}[rng.IntN(4)]
				var req map[string]int
				switch rng.IntN(4) {
				case 0:
					req = map[string]int{"billing": rng.IntN(5) + 1}
				case 1:
					req = map[string]int{"zh": 4}
				}
				conv := convs.Add(1)
				l.mu.Lock()
				l.media[conv] = media
				l.mu.Unlock()
				var pref int64
				if rng.IntN(4) == 0 {
					pref = int64(rng.IntN(nAgents) + 1)
				}
				out, err = r.Enqueue(ctx, Task{ConversationID: conv, QueueID: int64(rng.IntN(nQueues) + 1),
					Media: media, Priority: rng.IntN(3) * 50, Require: req, PreferredAgent: pref})
				ops[0].Add(1)
			case kind < 37: // presence
				p := parley.PresenceAvailable
				if rng.IntN(3) == 0 {
					p = []parley.Presence{parley.PresenceAway, parley.PresenceOffline}[rng.IntN(2)]
				}
				out, err = r.SetPresence(ctx, agent, p)
				ops[1].Add(1)
			case kind < 55: // accept
				o, ok := l.pick(rng)
				if !ok {
					continue
				}
				who := o.AgentID
				if rng.IntN(10) == 0 {
					who = agent
				}
				var got parley.Offer
				var aout Outcome
				got, aout, err = r.Accept(ctx, o.ID, who)
				out = aout
				if err == nil {
					l.mu.Lock()
					l.end(got)
					l.assigned[who][l.media[o.ConversationID]]++
					l.mu.Unlock()
				}
				ops[2].Add(1)
			case kind < 63: // reject
				o, ok := l.pick(rng)
				if !ok {
					continue
				}
				_, out, err = r.Reject(ctx, o.ID, o.AgentID)
				ops[3].Add(1)
			case kind < 73: // time passes
				clockMS.Add(int64(rng.IntN(3000)))
				out, err = r.ExpireDue(ctx)
				ops[4].Add(1)
			case kind < 93: // a conversation ends
				m := parley.AllMedia[rng.IntN(3)]
				l.mu.Lock()
				free := l.assigned[agent][m] > 0
				if free {
					l.assigned[agent][m]--
				}
				l.mu.Unlock()
				if !free {
					continue
				}
				out, err = r.ReleaseAfter(ctx, agent, m, time.Duration(rng.IntN(3))*time.Second)
				ops[5].Add(1)
			case kind < 97: // the customer leaves
				c := convs.Load()
				if c == 0 {
					continue
				}
				out, err = r.Remove(ctx, rng.Int64N(c)+1)
				ops[6].Add(1)
			default:
				out, err = r.Dispatch(ctx, int64(rng.IntN(nQueues)+1))
				ops[7].Add(1)
			}
			l.record(out)
			if code := parley.ErrorCode(err); code != "" && code != parley.ECONFLICT && code != parley.EFORBIDDEN {
				return err
			}
		}
		return nil
	}

	const perWorker, workersPerRouter = 1000, 5
	var wg sync.WaitGroup
	errc := make(chan error, len(routers)*workersPerRouter)
	for i, r := range routers {
		for w := range workersPerRouter {
			wg.Go(func() { errc <- worker(r, uint64(i*100+w), perWorker) })
		}
	}
	stop, done := make(chan struct{}), make(chan struct{})
	checks := 0
	var checkErr []string
	go func() {
		defer close(done)
		for {
			errs, _, err := checkInvariants(ctx, rdb, r0)
			if err != nil {
				checkErr = append(checkErr, err.Error())
				return
			}
			checks++
			if len(errs) > 0 {
				checkErr = append(checkErr, errs...)
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-done
	close(errc)
	for err := range errc {
		if err != nil {
			t.Errorf("worker: %v", err)
		}
	}
	if len(checkErr) > 0 {
		t.Fatalf("invariants broken while running: %v", checkErr)
	}

	// At rest: the same invariants, and the slot counters match the test's
	// own count of accepted-not-released conversations.
	errs, asg, err := checkInvariants(ctx, rdb, r0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Errorf("invariant: %s", e)
	}
	var want []string
	for a, byMedia := range l.assigned {
		for _, m := range parley.AllMedia {
			want = append(want, fmt.Sprintf("%d %s %d", a, m, byMedia[m]))
		}
	}
	slices.Sort(asg)
	slices.Sort(want)
	if !slices.Equal(asg, want) {
		t.Errorf("assigned counters %v; want %v", asg, want)
	}
	for oid, n := range l.offered {
		if n > 1 {
			t.Errorf("offer %s created %d times", oid, n)
		}
	}
	for oid, n := range l.ended {
		if n > 1 {
			t.Errorf("offer %s ended %d times", oid, n)
		}
	}
	// Every offer the test saw created and never saw end is pending in
	// Redis, and nothing else is.
	pending, err := rdb.ZRange(ctx, r0.key("expiry"), 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	var known []string
	for oid := range l.pending {
		known = append(known, oid)
	}
	slices.Sort(pending)
	slices.Sort(known)
	if !slices.Equal(pending, known) {
		t.Errorf("pending offers in redis %v; the test knows %v", pending, known)
	}
	var total int64
	for i := range ops {
		total += ops[i].Load()
	}
	t.Logf("%d operations (enqueue %d, presence %d, accept %d, reject %d, expire %d, release %d, remove %d, dispatch %d), %d offers, %d checks",
		total, ops[0].Load(), ops[1].Load(), ops[2].Load(), ops[3].Load(), ops[4].Load(), ops[5].Load(), ops[6].Load(), ops[7].Load(), len(l.offered), checks)
	if len(l.offered) < 200 {
		t.Errorf("only %d offers: the test exercised too little", len(l.offered))
	}
}
