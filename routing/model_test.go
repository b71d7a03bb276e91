package routing

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
)

// modelWorld is a pure-Go reference model of the routing rules (see
// doc.go), written from the rules rather than from the scripts: same
// inputs, it must make the same offers, in the same order, as the Redis
// implementation. ScanDepth is assumed never to bind (the differential
// test uses a large one), so the model scans every waiting task.
type modelWorld struct {
	now       int64 // ms
	missLimit int
	queues    map[int64]*mQueue
	agents    map[int64]*mAgent
	tasks     map[int64]*mTask
	offers    map[string]*mOffer
	wraps     []mWrap
	convQueue map[int64]int64 // accepted conversation -> queue (for Transfer)
	seq       int             // offer creation counter (offer ids sort by it)

	// per call
	work     []string
	workSeen map[string]bool
	out      Outcome
}

type mQueue struct {
	id                    int64
	prio, par             int
	timeout, sticky, wrap int64
	aging, prof, paused   bool
	steps                 []mStep
	members               map[int64]bool
}

type mStep struct {
	exp  int64
	skip bool
	req  map[string]int
}

type mAgent struct {
	id                   int64
	presence             parley.Presence
	since, idle, last    int64
	miss                 int
	vbd                  bool
	cap, asg, pend, wrap map[parley.Media]int
	skills               map[string]int
	wseq                 int
}

type mTask struct {
	conv, queue  int64
	media        parley.Media
	prio         int
	enq, score   int64
	req          map[string]int
	pref, target int64
	step         int
	state        string // queued | offered
	offers       []*mOffer
	excl         map[int64]bool
}

type mOffer struct {
	id              string
	seq             int
	conv, agent, q  int64
	media           parley.Media
	state           parley.OfferState
	reason          string
	created, expire int64
}

type mWrap struct {
	end int64
	mem string // "<agent>|<media>|<seq>", ordered as strings like the ZSET
	aid int64
	m   parley.Media
}

var mediaOrder = []parley.Media{parley.MediaVoice, parley.MediaChat, parley.MediaEmail}

func newModel(now int64, missLimit int) *modelWorld {
	return &modelWorld{now: now, missLimit: missLimit, queues: map[int64]*mQueue{}, agents: map[int64]*mAgent{},
		tasks: map[int64]*mTask{}, offers: map[string]*mOffer{}, convQueue: map[int64]int64{}}
}

func (w *modelWorld) begin() {
	w.work, w.workSeen, w.out = nil, map[string]bool{}, Outcome{}
}

func (w *modelWorld) want(item string) {
	if !w.workSeen[item] {
		w.workSeen[item] = true
		w.work = append(w.work, item)
	}
}

func (w *modelWorld) syncQueue(q QueueSpec) {
	if err := q.check(); err != nil {
		panic(err)
	}
	mq := &mQueue{id: q.ID, prio: q.Priority, par: q.MaxParallelOffers, timeout: q.OfferTimeout.Milliseconds(),
		sticky: q.StickyWindow.Milliseconds(), wrap: q.WrapUp.Milliseconds(), aging: q.Aging, prof: q.ProficiencyFirst,
		paused: q.Paused, members: map[int64]bool{}}
	for _, s := range q.Steps {
		req := map[string]int{}
		for k, v := range s.Require {
			if v > 0 {
				req[k] = v
			}
		}
		mq.steps = append(mq.steps, mStep{exp: s.ExpireAfter.Milliseconds(), skip: s.SkipIfNoAgents, req: req})
	}
	for _, m := range q.Members {
		mq.members[m] = true
	}
	if old := w.queues[q.ID]; old != nil && (old.aging != mq.aging || !slices.EqualFunc(old.steps, mq.steps, func(a, b mStep) bool {
		return a.exp == b.exp && a.skip == b.skip && reqString(a.req) == reqString(b.req)
	})) {
		panic("model: changing steps or aging is not modelled")
	}
	w.queues[q.ID] = mq
}

func (w *modelWorld) syncAgent(a AgentSpec) {
	ma := w.agents[a.ID]
	if ma == nil {
		ma = &mAgent{id: a.ID, presence: parley.PresenceOffline, since: w.now, asg: map[parley.Media]int{},
			pend: map[parley.Media]int{}, wrap: map[parley.Media]int{}}
		w.agents[a.ID] = ma
	}
	ma.cap = map[parley.Media]int{}
	for m, n := range a.Capacity {
		ma.cap[m] = n
	}
	ma.vbd = a.VoiceBlocksDigital
	ma.skills = map[string]int{}
	for k, v := range a.Skills {
		ma.skills[k] = v
	}
}

func (a *mAgent) load(m parley.Media) int { return a.asg[m] + a.pend[m] + a.wrap[m] }

func (a *mAgent) free(m parley.Media) bool {
	if a.presence != parley.PresenceAvailable || a.load(m) >= a.cap[m] {
		return false
	}
	return !(m != parley.MediaVoice && a.vbd && a.load(parley.MediaVoice) > 0)
}

func satisfiesReq(a *mAgent, req map[string]int) bool {
	for s, lvl := range req {
		if a.skills[s] < lvl {
			return false
		}
	}
	return true
}

func mergeReq(x, y map[string]int) map[string]int {
	out := map[string]int{}
	for _, r := range []map[string]int{x, y} {
		for s, l := range r {
			if l > 0 && l > out[s] {
				out[s] = l
			}
		}
	}
	return out
}

func (w *modelWorld) effReq(t *mTask) map[string]int {
	if t.target != 0 {
		return nil
	}
	q := w.queues[t.queue]
	var sreq map[string]int
	if q != nil && t.step < len(q.steps) {
		sreq = q.steps[t.step].req
	}
	return mergeReq(sreq, t.req)
}

func (w *modelWorld) eligible(a *mAgent, t *mTask) bool {
	return a != nil && a.free(t.media) && !t.excl[a.id] && satisfiesReq(a, w.effReq(t))
}

// better: proficiency (when preq), then voice longest idle, digital most
// spare ratio then longest since last offer, then lowest id.
func better(a, b *mAgent, m parley.Media, preq map[string]int) bool {
	if len(preq) > 0 {
		x, y := 0, 0
		for s := range preq {
			x += a.skills[s]
			y += b.skills[s]
		}
		if x != y {
			return x > y
		}
	}
	if m == parley.MediaVoice {
		if a.idle != b.idle {
			return a.idle < b.idle
		}
	} else {
		x := (a.cap[m] - a.load(m)) * b.cap[m]
		y := (b.cap[m] - b.load(m)) * a.cap[m]
		if x != y {
			return x > y
		}
		if a.last != b.last {
			return a.last < b.last
		}
	}
	return a.id < b.id
}

// waiting lists the queued, non-direct tasks of queue q and media m in
// queue order.
func (w *modelWorld) waiting(q int64, m parley.Media) []*mTask {
	var out []*mTask
	for _, t := range w.tasks {
		if t.queue == q && t.media == m && t.state == "queued" && t.target == 0 {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(x, y *mTask) int {
		return cmp.Or(cmp.Compare(x.score, y.score), cmp.Compare(x.conv, y.conv))
	})
	return out
}

// idleWork describes a waiting task that a free agent could take, or
// returns "": after every operation the router is work-conserving (no
// available agent with a free slot is eligible for a waiting task of an
// unpaused queue it belongs to, nor for a direct transfer to it). This is
// what lets an arrival offer just the new task.
func (w *modelWorld) idleWork() string {
	for _, t := range w.tasks {
		if t.state != "queued" {
			continue
		}
		if t.target != 0 {
			if a := w.agents[t.target]; a != nil && a.free(t.media) && !t.excl[a.id] {
				return fmt.Sprintf("direct transfer c%d waits for free agent %d", t.conv, a.id)
			}
			continue
		}
		q := w.queues[t.queue]
		if q == nil || q.paused {
			continue
		}
		for aid := range q.members {
			if w.eligible(w.agents[aid], t) {
				return fmt.Sprintf("c%d waits in queue %d while agent %d is free for it", t.conv, q.id, aid)
			}
		}
	}
	return ""
}

func (w *modelWorld) score(q *mQueue, prio int, enq int64) int64 {
	if q != nil && q.aging {
		return AgingScore(prio, msTime(enq))
	}
	return Score(prio, msTime(enq))
}

func (w *modelWorld) loggedInMatch(q *mQueue, req map[string]int) bool {
	for aid := range q.members {
		if a := w.agents[aid]; a != nil && a.presence != parley.PresenceOffline && satisfiesReq(a, req) {
			return true
		}
	}
	return false
}

func (w *modelWorld) advanceStep(t *mTask) {
	q := w.queues[t.queue]
	n := 0
	if q != nil && t.target == 0 {
		n = len(q.steps)
	}
	i := t.step
	for i < n {
		st := q.steps[i]
		expired := st.exp > 0 && t.enq+st.exp <= w.now
		if !expired && !(st.skip && !w.loggedInMatch(q, mergeReq(st.req, t.req))) {
			break
		}
		i++
	}
	if i > n {
		i = n
	}
	t.step = i
}

// nextStep is the task's next step change (ms), if any.
func (w *modelWorld) nextStep(t *mTask) (int64, bool) {
	q := w.queues[t.queue]
	if q == nil || t.target != 0 || t.step >= len(q.steps) || q.steps[t.step].exp == 0 {
		return 0, false
	}
	return t.enq + q.steps[t.step].exp, true
}

func (w *modelWorld) makeOffer(a *mAgent, t *mTask, q *mQueue) {
	w.seq++
	o := &mOffer{id: fmt.Sprintf("m%d", w.seq), seq: w.seq, conv: t.conv, agent: a.id, q: q.id, media: t.media,
		state: parley.OfferPending, created: w.now, expire: w.now + q.timeout}
	w.offers[o.id] = o
	a.pend[t.media]++
	a.last = w.now
	t.state = "offered"
	t.offers = append(t.offers, o)
	w.out.Offered = append(w.out.Offered, o.record())
}

func (o *mOffer) record() parley.Offer {
	return parley.Offer{ID: o.id, ConversationID: o.conv, AgentID: o.agent, QueueID: o.q, State: o.state, Reason: o.reason}
}

func (w *modelWorld) endOffer(o *mOffer, state parley.OfferState, reason string) *mAgent {
	o.state, o.reason = state, cmp.Or(reason, string(state))
	a := w.agents[o.agent]
	if a != nil {
		a.pend[o.media] = max(a.pend[o.media]-1, 0)
		if state == parley.OfferAccepted {
			a.asg[o.media]++
			a.miss = 0
		}
	}
	w.out.Ended = append(w.out.Ended, o.record())
	return a
}

func (w *modelWorld) requeue(t *mTask) {
	t.state, t.offers = "queued", nil
	w.want(fmt.Sprintf("q%d", t.queue))
}

func (w *modelWorld) offerGone(o *mOffer, excl bool) {
	t := w.tasks[o.conv]
	if t == nil || t.state != "offered" {
		return
	}
	i := slices.Index(t.offers, o)
	if i < 0 {
		return
	}
	t.offers = slices.Delete(t.offers, i, i+1)
	if excl {
		t.excl[o.agent] = true
		if t.target != 0 {
			t.target = 0
			w.advanceStep(t)
		}
	}
	if len(t.offers) == 0 {
		w.requeue(t)
	}
}

func (w *modelWorld) pendingOf(aid int64) []*mOffer {
	var list []*mOffer
	for _, o := range w.offers {
		if o.agent == aid && o.state == parley.OfferPending {
			list = append(list, o)
		}
	}
	slices.SortFunc(list, func(x, y *mOffer) int { return cmp.Or(cmp.Compare(x.created, y.created), cmp.Compare(x.seq, y.seq)) })
	return list
}

func (w *modelWorld) cancelAgentOffers(aid int64) {
	for _, o := range w.pendingOf(aid) {
		w.endOffer(o, parley.OfferCanceled, "")
		w.offerGone(o, false)
	}
}

func (w *modelWorld) setPresence(a *mAgent, p parley.Presence) {
	if a.presence == p {
		return
	}
	a.presence, a.since = p, w.now
	if p == parley.PresenceAvailable {
		a.idle = w.now
	}
}

func (w *modelWorld) missed(a *mAgent) {
	a.miss++
	if a.miss >= w.missLimit && a.presence == parley.PresenceAvailable {
		w.setPresence(a, parley.PresenceAway)
		w.cancelAgentOffers(a.id)
		w.out.Away = append(w.out.Away, AgentAway{AgentID: a.id, Reason: "missed_offers"})
	}
}

func (w *modelWorld) newTask(t Task, excl int64) {
	q := w.queues[t.QueueID]
	mt := &mTask{conv: t.ConversationID, queue: t.QueueID, media: t.Media, prio: t.Priority, enq: t.EnqueuedAt.UnixMilli(),
		req: mergeReq(t.Require, nil), pref: t.PreferredAgent, target: t.TargetAgent, state: "queued", excl: map[int64]bool{}}
	mt.score = w.score(q, mt.prio, mt.enq)
	if excl != 0 {
		mt.excl[excl] = true
	}
	w.tasks[mt.conv] = mt
	w.advanceStep(mt)
}

func (w *modelWorld) deleteTask(t *mTask) { delete(w.tasks, t.conv) }

// choose: the sticky agent alone within the window, else the best ranked
// up to par.
func (w *modelWorld) choose(q *mQueue, t *mTask, elig []*mAgent) []*mAgent {
	if q.sticky > 0 && t.pref != 0 && w.now-t.enq < q.sticky {
		for _, a := range elig {
			if a.id == t.pref {
				return []*mAgent{a}
			}
		}
	}
	var preq map[string]int
	if q.prof {
		preq = w.effReq(t)
	}
	slices.SortFunc(elig, func(x, y *mAgent) int {
		if better(x, y, t.media, preq) {
			return -1
		}
		return 1
	})
	return elig[:min(max(q.par, 1), len(elig))]
}

func (w *modelWorld) freeMembers(q *mQueue, m parley.Media) []*mAgent {
	var out []*mAgent
	for aid := range q.members {
		if a := w.agents[aid]; a != nil && a.free(m) {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(x, y *mAgent) int { return cmp.Compare(x.id, y.id) })
	return out
}

func (w *modelWorld) dispatchQueue(qid int64) {
	q := w.queues[qid]
	if q == nil || q.paused {
		return
	}
	for _, m := range mediaOrder {
		cands := w.freeMembers(q, m)
		if len(cands) == 0 {
			continue
		}
		for _, t := range w.waiting(qid, m) {
			var elig []*mAgent
			for _, a := range cands {
				if w.eligible(a, t) {
					elig = append(elig, a)
				}
			}
			if len(elig) == 0 {
				continue
			}
			for _, a := range w.choose(q, t, elig) {
				w.makeOffer(a, t, q)
			}
			cands = slices.DeleteFunc(cands, func(a *mAgent) bool { return !a.free(m) })
			if len(cands) == 0 {
				break
			}
		}
	}
}

func (w *modelWorld) offerTask(conv int64) {
	t := w.tasks[conv]
	if t == nil || t.state != "queued" {
		return
	}
	q := w.queues[t.queue]
	if q == nil {
		return
	}
	if t.target != 0 {
		if a := w.agents[t.target]; a != nil && a.free(t.media) && !t.excl[a.id] {
			w.makeOffer(a, t, q)
		}
		return
	}
	if q.paused {
		return
	}
	var elig []*mAgent
	for _, a := range w.freeMembers(q, t.media) {
		if w.eligible(a, t) {
			elig = append(elig, a)
		}
	}
	if len(elig) == 0 {
		return
	}
	for _, a := range w.choose(q, t, elig) {
		w.makeOffer(a, t, q)
	}
}

func (w *modelWorld) pull(aid int64) {
	a := w.agents[aid]
	if a == nil || a.presence != parley.PresenceAvailable {
		return
	}
	var qs []*mQueue
	for _, q := range w.queues {
		if q.members[aid] && !q.paused {
			qs = append(qs, q)
		}
	}
	slices.SortFunc(qs, func(x, y *mQueue) int { return cmp.Or(cmp.Compare(y.prio, x.prio), cmp.Compare(x.id, y.id)) })
	for a.presence == parley.PresenceAvailable {
		if !a.free(parley.MediaVoice) && !a.free(parley.MediaChat) && !a.free(parley.MediaEmail) {
			return
		}
		// Direct transfers first, in score then id order.
		var direct []*mTask
		for _, t := range w.tasks {
			if t.state == "queued" && t.target == aid {
				direct = append(direct, t)
			}
		}
		slices.SortFunc(direct, func(x, y *mTask) int { return cmp.Or(cmp.Compare(x.score, y.score), cmp.Compare(x.conv, y.conv)) })
		took := false
		for _, t := range direct {
			if q := w.queues[t.queue]; q != nil && a.free(t.media) && !t.excl[aid] {
				w.makeOffer(a, t, q)
				took = true
				break
			}
		}
		if took {
			continue
		}
		var bt *mTask
		var bq *mQueue
		for _, q := range qs {
			if bq != nil && q.prio < bq.prio {
				break
			}
			for _, m := range mediaOrder {
				if !a.free(m) {
					continue
				}
				for _, t := range w.waiting(q.id, m) {
					if w.eligible(a, t) {
						if bt == nil || t.score < bt.score || (t.score == bt.score && t.conv < bt.conv) {
							bt, bq = t, q
						}
						break
					}
				}
			}
		}
		if bt == nil {
			return
		}
		w.makeOffer(a, bt, bq)
	}
}

func (w *modelWorld) runWork() {
	for _, item := range w.work {
		n, _ := strconv.ParseInt(item[1:], 10, 64)
		switch item[0] {
		case 'q':
			w.dispatchQueue(n)
		case 'a':
			w.pull(n)
		case 't':
			w.offerTask(n)
		}
	}
}

func (w *modelWorld) release(a *mAgent, m parley.Media, wrap int64) {
	if a.asg[m] <= 0 {
		return
	}
	a.asg[m]--
	if wrap > 0 {
		a.wseq++
		a.wrap[m]++
		w.wraps = append(w.wraps, mWrap{end: w.now + wrap, mem: fmt.Sprintf("%d|%s|%d", a.id, m, a.wseq), aid: a.id, m: m})
	} else if m == parley.MediaVoice {
		a.idle = w.now
	}
}

// Operations, one per Router method.

func (w *modelWorld) Enqueue(t Task) error {
	w.begin()
	if w.queues[t.QueueID] == nil {
		return parley.Errorf(parley.ENOTFOUND, "queue not found")
	}
	if w.tasks[t.ConversationID] == nil {
		w.newTask(t, 0)
	}
	w.want(fmt.Sprintf("t%d", t.ConversationID))
	w.runWork()
	return nil
}

func (w *modelWorld) SetPresence(aid int64, p parley.Presence) {
	w.begin()
	a := w.agents[aid]
	w.setPresence(a, p)
	if p == parley.PresenceAvailable {
		a.miss = 0
		w.want(fmt.Sprintf("a%d", aid))
	} else {
		w.cancelAgentOffers(aid)
	}
	w.runWork()
}

func (w *modelWorld) Accept(oid string, aid int64) error {
	w.begin()
	o := w.offers[oid]
	if o == nil {
		return parley.Errorf(parley.ENOTFOUND, "offer not found")
	}
	if o.agent != aid {
		return parley.Errorf(parley.EFORBIDDEN, "not yours")
	}
	if o.state != parley.OfferPending {
		return parley.Errorf(parley.ECONFLICT, "offer already %s", o.state)
	}
	w.endOffer(o, parley.OfferAccepted, "")
	w.out.Ended = w.out.Ended[:len(w.out.Ended)-1] // Accept's Outcome leaves the accepted offer out
	if t := w.tasks[o.conv]; t != nil && slices.Contains(t.offers, o) {
		for _, x := range t.offers {
			if x != o && x.state == parley.OfferPending {
				w.endOffer(x, parley.OfferRescinded, "accepted_elsewhere")
				w.want(fmt.Sprintf("a%d", x.agent))
			}
		}
		w.deleteTask(t)
	}
	w.convQueue[o.conv] = o.q
	w.runWork()
	return nil
}

func (w *modelWorld) Reject(oid string, aid int64) error {
	w.begin()
	o := w.offers[oid]
	if o == nil || o.agent != aid || o.state != parley.OfferPending {
		return parley.Errorf(parley.ECONFLICT, "bad reject")
	}
	a := w.endOffer(o, parley.OfferRejected, "")
	if a != nil && o.media == parley.MediaVoice {
		a.idle = w.now
	}
	w.offerGone(o, true)
	w.want(fmt.Sprintf("a%d", o.agent))
	w.runWork()
	return nil
}

func (w *modelWorld) ExpireDue() {
	w.begin()
	var due []*mOffer
	for _, o := range w.offers {
		if o.state == parley.OfferPending && o.expire <= w.now {
			due = append(due, o)
		}
	}
	slices.SortFunc(due, func(x, y *mOffer) int { return cmp.Or(cmp.Compare(x.expire, y.expire), cmp.Compare(x.seq, y.seq)) })
	var pulls []int64
	for _, o := range due {
		if o.state != parley.OfferPending {
			continue // canceled meanwhile (its agent was set away)
		}
		a := w.endOffer(o, parley.OfferTimeout, "")
		if a != nil && o.media == parley.MediaVoice {
			a.idle = w.now
		}
		w.offerGone(o, true)
		if a != nil {
			w.missed(a)
		}
		pulls = append(pulls, o.agent)
	}
	slices.SortFunc(w.wraps, func(x, y mWrap) int { return cmp.Or(cmp.Compare(x.end, y.end), strings.Compare(x.mem, y.mem)) })
	for len(w.wraps) > 0 && w.wraps[0].end <= w.now {
		x := w.wraps[0]
		w.wraps = w.wraps[1:]
		if a := w.agents[x.aid]; a != nil && a.wrap[x.m] > 0 {
			a.wrap[x.m]--
			if x.m == parley.MediaVoice {
				a.idle = w.now
			}
			pulls = append(pulls, x.aid)
		}
	}
	type stepDue struct {
		at   int64
		conv string
		t    *mTask
	}
	var steps []stepDue
	for _, t := range w.tasks {
		if at, ok := w.nextStep(t); ok && at <= w.now {
			steps = append(steps, stepDue{at, strconv.FormatInt(t.conv, 10), t})
		}
	}
	slices.SortFunc(steps, func(x, y stepDue) int { return cmp.Or(cmp.Compare(x.at, y.at), strings.Compare(x.conv, y.conv)) })
	for _, s := range steps {
		w.advanceStep(s.t)
		if s.t.state == "queued" && s.t.target == 0 {
			w.want(fmt.Sprintf("q%d", s.t.queue))
		}
	}
	for _, aid := range pulls {
		w.want(fmt.Sprintf("a%d", aid))
	}
	w.runWork()
}

func (w *modelWorld) ReleaseAfter(aid int64, m parley.Media, wrap int64) {
	w.begin()
	w.release(w.agents[aid], m, wrap)
	w.want(fmt.Sprintf("a%d", aid))
	w.runWork()
}

func (w *modelWorld) Remove(conv int64) {
	w.begin()
	t := w.tasks[conv]
	if t == nil {
		return
	}
	for _, o := range t.offers {
		if o.state == parley.OfferPending {
			w.endOffer(o, parley.OfferCanceled, "")
			w.want(fmt.Sprintf("a%d", o.agent))
		}
	}
	w.deleteTask(t)
	w.runWork()
}

func (w *modelWorld) Transfer(conv, aid int64, m parley.Media, t Task) {
	w.begin()
	t.ConversationID, t.Media = conv, m
	wrap := int64(0)
	if from, ok := w.convQueue[conv]; ok {
		if fq := w.queues[from]; fq != nil {
			wrap = fq.wrap
		}
		delete(w.convQueue, conv)
	}
	w.release(w.agents[aid], m, wrap)
	if w.tasks[conv] == nil {
		excl := aid
		if t.TargetAgent == aid {
			excl = 0
		}
		w.newTask(t, excl)
	}
	w.want(fmt.Sprintf("q%d", t.QueueID))
	w.want(fmt.Sprintf("t%d", conv))
	w.want(fmt.Sprintf("a%d", aid))
	w.runWork()
}

func (w *modelWorld) Dispatch(qid int64) {
	w.begin()
	w.want(fmt.Sprintf("q%d", qid))
	w.runWork()
}

// digest matches checkScript's digest lines.
func (w *modelWorld) digest() []string {
	var out []string
	for _, a := range w.agents {
		var loads []string
		for _, m := range mediaOrder {
			loads = append(loads, strconv.Itoa(a.asg[m]), strconv.Itoa(a.pend[m]), strconv.Itoa(a.wrap[m]))
		}
		out = append(out, fmt.Sprintf("a%d %s %d %s", a.id, a.presence, a.miss, strings.Join(loads, "/")))
	}
	for _, t := range w.tasks {
		var ags []string
		for _, o := range t.offers {
			ags = append(ags, strconv.FormatInt(o.agent, 10))
		}
		slices.Sort(ags)
		target := ""
		if t.target != 0 {
			target = strconv.FormatInt(t.target, 10)
		}
		out = append(out, fmt.Sprintf("c%d q%d %s s%d t%s x%d [%s]", t.conv, t.queue, t.state, t.step, target, len(t.excl), strings.Join(ags, ",")))
	}
	slices.Sort(out)
	return out
}
