package routing

import (
	"context"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// Table tests of the routing rules of ../shared/ROUTING.md, with the
// injected clock (no sleeping).

func (e *env) expire() Outcome {
	e.t.Helper()
	out, err := e.r.ExpireDue(e.ctx)
	if err != nil {
		e.t.Fatalf("ExpireDue: %v", err)
	}
	return out
}

func (e *env) state(agentID int64) AgentState {
	e.t.Helper()
	st, err := e.r.AgentState(e.ctx, agentID)
	if err != nil {
		e.t.Fatalf("AgentState(%d): %v", agentID, err)
	}
	return st
}

func (e *env) step(conv int64) int {
	e.t.Helper()
	s, ok, err := e.r.Step(e.ctx, conv)
	if err != nil || !ok {
		e.t.Fatalf("Step(%d) = %d, %v, %v", conv, s, ok, err)
	}
	return s
}

func voice(n int) map[parley.Media]int { return map[parley.Media]int{parley.MediaVoice: n} }

func TestRuleOrderAging(t *testing.T) {
	for _, tc := range []struct {
		name  string
		aging bool
		want  []string
	}{
		// a: prio 0 at 0 s; b: prio 1 at 30 s; c: prio 1 at 90 s; d: prio 3 at 150 s
		{"strict priority then FIFO", false, []string{"4", "2", "3", "1"}},
		// aging keys: a 0, b 30-60 = -30, c 90-60 = 30, d 150-180 = -30 (b first: lower id)
		{"aging: a priority point is a minute", true, []string{"2", "4", "1", "3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.queue(QueueSpec{ID: 1, Aging: tc.aging, Members: []int64{1}})
			e.agent(AgentSpec{ID: 1, Capacity: chat(1)})
			t0 := e.clock.Now()
			for _, x := range []struct {
				c    int64
				p    int
				secs int
			}{{1, 0, 0}, {2, 1, 30}, {3, 1, 90}, {4, 3, 150}} {
				e.enqueue(Task{ConversationID: x.c, QueueID: 1, Priority: x.p, EnqueuedAt: t0.Add(time.Duration(x.secs) * time.Second)})
			}
			got := e.waitingOrder(1)
			if len(got) != len(tc.want) {
				t.Fatalf("waiting %v; want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("waiting %v; want %v", got, tc.want)
				}
			}
			out := e.presence(1, parley.PresenceAvailable)
			wantOffers(t, "first offer", out.Offered, "c"+tc.want[0]+"→a1")
		})
	}
}

func TestRuleRanking(t *testing.T) {
	t.Run("voice: longest idle", func(t *testing.T) {
		e := newEnv(t)
		e.queue(QueueSpec{ID: 1, Members: []int64{1, 2}})
		e.agent(AgentSpec{ID: 1, Capacity: voice(1)})
		e.agent(AgentSpec{ID: 2, Capacity: voice(1)})
		e.presence(2, parley.PresenceAvailable)
		e.clock.Advance(time.Second)
		e.presence(1, parley.PresenceAvailable)
		wantOffers(t, "voice", e.enqueue(Task{ConversationID: 1, QueueID: 1, Media: parley.MediaVoice}).Offered, "c1→a2")
	})
	t.Run("sticky within the window, ranking after it", func(t *testing.T) {
		for _, tc := range []struct {
			age  time.Duration
			want string
		}{{10 * time.Second, "c1→a2"}, {time.Minute, "c1→a1"}} {
			e := newEnv(t)
			e.queue(QueueSpec{ID: 1, StickyWindow: 30 * time.Second, Members: []int64{1, 2}})
			e.agent(AgentSpec{ID: 1, Capacity: chat(2)})
			e.agent(AgentSpec{ID: 2, Capacity: chat(1)})
			e.presence(1, parley.PresenceAvailable)
			e.presence(2, parley.PresenceAvailable)
			out := e.enqueue(Task{ConversationID: 1, QueueID: 1, PreferredAgent: 2, EnqueuedAt: e.clock.Now().Add(-tc.age)})
			wantOffers(t, tc.age.String(), out.Offered, tc.want)
		}
	})
	t.Run("sticky agent not eligible: the best other", func(t *testing.T) {
		e := newEnv(t)
		e.queue(QueueSpec{ID: 1, StickyWindow: time.Minute, Members: []int64{1, 2}})
		e.agent(AgentSpec{ID: 1, Capacity: chat(1)})
		e.agent(AgentSpec{ID: 2, Capacity: chat(1)})
		e.presence(1, parley.PresenceAvailable)
		wantOffers(t, "sticky offline", e.enqueue(Task{ConversationID: 1, QueueID: 1, PreferredAgent: 2}).Offered, "c1→a1")
	})
}

func TestRuleProficiencyFirst(t *testing.T) {
	for _, prof := range []bool{false, true} {
		e := newEnv(t)
		e.queue(QueueSpec{ID: 1, ProficiencyFirst: prof, Members: []int64{1, 2}})
		e.agent(AgentSpec{ID: 1, Skills: map[string]int{"billing": 2}, Capacity: chat(1)})
		e.agent(AgentSpec{ID: 2, Skills: map[string]int{"billing": 5}, Capacity: chat(1)})
		e.presence(1, parley.PresenceAvailable)
		e.presence(2, parley.PresenceAvailable)
		out := e.enqueue(Task{ConversationID: 1, QueueID: 1, Require: map[string]int{"billing": 1}})
		want := map[bool]string{false: "c1→a1", true: "c1→a2"}[prof]
		wantOffers(t, "proficiency first", out.Offered, want)
	}
}

func TestRuleCapacityVoiceBlocksDigital(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Members: []int64{1}})
	e.agent(AgentSpec{ID: 1, VoiceBlocksDigital: true, Capacity: map[parley.Media]int{parley.MediaVoice: 1, parley.MediaChat: 2}})
	e.presence(1, parley.PresenceAvailable)
	o := only(t, e.enqueue(Task{ConversationID: 1, QueueID: 1, Media: parley.MediaVoice}).Offered)
	wantOffers(t, "chat while a voice offer is pending", e.enqueue(Task{ConversationID: 2, QueueID: 1}).Offered, "")
	e.accept(o.ID, 1)
	wantOffers(t, "chat while on a call", e.r.mustDispatch(t, 1).Offered, "")
	if _, free, _ := e.r.Staffed(e.ctx, 1); free[parley.MediaChat] != 0 || free[parley.MediaVoice] != 0 {
		t.Errorf("Staffed free %v; want none", free)
	}
	out, err := e.r.Release(e.ctx, 1, parley.MediaVoice)
	if err != nil {
		t.Fatal(err)
	}
	wantOffers(t, "after the call", out.Offered, "c2→a1")
	wantOffers(t, "second chat slot", e.enqueue(Task{ConversationID: 3, QueueID: 1}).Offered, "c3→a1")
	wantOffers(t, "capacity reached", e.enqueue(Task{ConversationID: 4, QueueID: 1}).Offered, "")
	// Without the flag, voice and chat go side by side.
	e.agent(AgentSpec{ID: 2, Capacity: map[parley.Media]int{parley.MediaVoice: 1, parley.MediaChat: 1}})
	e.queue(QueueSpec{ID: 2, Members: []int64{2}})
	e.presence(2, parley.PresenceAvailable)
	wantOffers(t, "voice", e.enqueue(Task{ConversationID: 5, QueueID: 2, Media: parley.MediaVoice}).Offered, "c5→a2")
	wantOffers(t, "chat beside voice", e.enqueue(Task{ConversationID: 6, QueueID: 2}).Offered, "c6→a2")
}

func (r *Router) mustDispatch(t *testing.T, q int64) Outcome {
	t.Helper()
	out, err := r.Dispatch(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// billingSteps: billing>=4 for 30 s, billing>=2 until 90 s, then anyone.
var billingSteps = []StepSpec{
	{Require: map[string]int{"billing": 4}, ExpireAfter: 30 * time.Second},
	{Require: map[string]int{"billing": 2}, ExpireAfter: 90 * time.Second},
}

func stepsEnv(t *testing.T, steps []StepSpec) *env {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, OfferTimeout: time.Hour, Steps: steps, Members: []int64{1, 3, 5}})
	for _, a := range []int64{1, 3, 5} {
		e.agent(AgentSpec{ID: a, Skills: map[string]int{"billing": int(a)}, Capacity: chat(1)})
	}
	return e
}

func TestRuleSteps(t *testing.T) {
	t.Run("expiry counts from enqueue and widens", func(t *testing.T) {
		e := stepsEnv(t, billingSteps)
		e.presence(1, parley.PresenceAvailable)
		e.presence(3, parley.PresenceAvailable)
		if out := e.enqueue(Task{ConversationID: 1, QueueID: 1, EnqueuedAt: e.clock.Now().Add(-10 * time.Second)}); len(out.Offered) != 0 {
			t.Fatalf("offered %q in step 0", offers(out.Offered))
		}
		if s := e.step(1); s != 0 {
			t.Fatalf("step %d; want 0", s)
		}
		next, ok, _ := e.r.NextExpiry(e.ctx)
		if !ok || !next.Equal(e.clock.Now().Add(20*time.Second)) {
			t.Fatalf("NextExpiry %v %v; want the step change in 20 s", next, ok)
		}
		e.clock.Advance(19 * time.Second)
		if out := e.expire(); len(out.Offered) != 0 {
			t.Fatalf("offered %q before the step expired", offers(out.Offered))
		}
		e.clock.Advance(time.Second)
		wantOffers(t, "step 1", e.expire().Offered, "c1→a3")
		if s := e.step(1); s != 1 {
			t.Errorf("step %d; want 1", s)
		}
		// Another task waits for the last step: anyone.
		e.enqueue(Task{ConversationID: 2, QueueID: 1, EnqueuedAt: e.clock.Now().Add(-89 * time.Second)})
		if s := e.step(2); s != 1 {
			t.Errorf("step %d; want 1", s)
		}
		e.clock.Advance(time.Second)
		wantOffers(t, "any member", e.expire().Offered, "c2→a1")
		if s := e.step(2); s != 2 {
			t.Errorf("step %d; want 2 (any member)", s)
		}
	})
	t.Run("an enqueue past expiries starts at a later step", func(t *testing.T) {
		e := stepsEnv(t, billingSteps)
		e.presence(3, parley.PresenceAvailable)
		wantOffers(t, "old task", e.enqueue(Task{ConversationID: 1, QueueID: 1, EnqueuedAt: e.clock.Now().Add(-45 * time.Second)}).Offered, "c1→a3")
		if s := e.step(1); s != 1 {
			t.Errorf("step %d; want 1", s)
		}
	})
	t.Run("a better agent freeing up during step 0 gets it at once", func(t *testing.T) {
		e := stepsEnv(t, billingSteps)
		e.presence(1, parley.PresenceAvailable)
		e.presence(3, parley.PresenceAvailable)
		e.enqueue(Task{ConversationID: 1, QueueID: 1})
		e.clock.Advance(10 * time.Second)
		wantOffers(t, "agent 5 arrives", e.presence(5, parley.PresenceAvailable).Offered, "c1→a5")
	})
	t.Run("skip if no agents", func(t *testing.T) {
		steps := []StepSpec{
			{Require: map[string]int{"billing": 5}, ExpireAfter: 30 * time.Second, SkipIfNoAgents: true},
			{Require: map[string]int{"billing": 3}, ExpireAfter: 60 * time.Second, SkipIfNoAgents: true},
			{Require: map[string]int{"billing": 2}, ExpireAfter: 90 * time.Second},
		}
		e := stepsEnv(t, steps)
		// Nobody logged in: steps 0 and 1 are skipped, step 2 waits.
		e.enqueue(Task{ConversationID: 1, QueueID: 1})
		if s := e.step(1); s != 2 {
			t.Errorf("nobody logged in: step %d; want 2", s)
		}
		// Agent 3 away (logged in) with billing 3: step 1 stands, step 0 skipped.
		e.presence(3, parley.PresenceAway)
		e.enqueue(Task{ConversationID: 2, QueueID: 1})
		if s := e.step(2); s != 1 {
			t.Errorf("agent 3 away: step %d; want 1", s)
		}
		// Agent 5 logs in: a new task stays in step 0 and gets it.
		wantOffers(t, "agent 5 takes the oldest it may", e.presence(5, parley.PresenceAvailable).Offered, "c1→a5")
		e.enqueue(Task{ConversationID: 3, QueueID: 1})
		if s := e.step(3); s != 0 {
			t.Errorf("agent 5 in: step %d; want 0", s)
		}
	})
	t.Run("a step change keeps the pending offer", func(t *testing.T) {
		steps := []StepSpec{
			{Require: map[string]int{"billing": 3}, ExpireAfter: 30 * time.Second},
			{Require: map[string]int{"billing": 1}, ExpireAfter: 60 * time.Second},
		}
		e := stepsEnv(t, steps)
		e.presence(3, parley.PresenceAvailable)
		o := only(t, e.enqueue(Task{ConversationID: 1, QueueID: 1}).Offered)
		e.presence(1, parley.PresenceAvailable)
		e.clock.Advance(30 * time.Second)
		out := e.expire()
		if len(out.Ended)+len(out.Offered) != 0 {
			t.Errorf("step change: ended %q offered %q; want nothing", offers(out.Ended), offers(out.Offered))
		}
		if s := e.step(1); s != 1 {
			t.Errorf("step %d; want 1", s)
		}
		e.accept(o.ID, 3)
	})
	t.Run("task require is never relaxed", func(t *testing.T) {
		e := stepsEnv(t, billingSteps)
		e.presence(1, parley.PresenceAvailable)
		e.presence(3, parley.PresenceAvailable)
		e.enqueue(Task{ConversationID: 1, QueueID: 1, Require: map[string]int{"billing": 3}, EnqueuedAt: e.clock.Now().Add(-time.Hour)})
		if s := e.step(1); s != 2 {
			t.Errorf("step %d; want 2", s)
		}
		pos, queued := e.position(1)
		if !queued {
			t.Fatal("not queued")
		}
		_ = pos
		st := e.state(3)
		if st.Load[parley.MediaChat] != 1 {
			t.Errorf("agent 3 (billing 3) load %v; want the task", st.Load)
		}
	})
}

func TestRuleParallelOffers(t *testing.T) {
	setup := func(t *testing.T) *env {
		e := newEnv(t)
		e.queue(QueueSpec{ID: 1, MaxParallelOffers: 2, OfferTimeout: 10 * time.Second, Members: []int64{1, 2, 3}})
		for a := int64(1); a <= 3; a++ {
			e.agent(AgentSpec{ID: a, Capacity: chat(1)})
			e.presence(a, parley.PresenceAvailable)
			e.clock.Advance(time.Second)
		}
		return e
	}
	t.Run("first accept wins, the others are rescinded and pull", func(t *testing.T) {
		e := setup(t)
		out := e.enqueue(Task{ConversationID: 1, QueueID: 1})
		wantOffers(t, "parallel", out.Offered, "c1→a1 c1→a2")
		e.enqueue(Task{ConversationID: 2, QueueID: 1}) // agent 3 gets it
		e.enqueue(Task{ConversationID: 3, QueueID: 1}) // waits
		_, aout := e.acceptOut(out.Offered[1].ID, 2)
		wantOffers(t, "rescinded", aout.Ended, "c1→a1:rescinded")
		if r := aout.Ended[0].Reason; r != "accepted_elsewhere" {
			t.Errorf("reason %q; want accepted_elsewhere", r)
		}
		wantOffers(t, "agent 1 pulls", aout.Offered, "c3→a1")
		if _, _, err := e.r.Accept(e.ctx, out.Offered[0].ID, 1); parley.ErrorCode(err) != parley.ECONFLICT {
			t.Errorf("accepting the rescinded offer: %v; want conflict", err)
		}
		if st := e.state(1); st.Misses != 0 {
			t.Errorf("rescinded counted as a miss: %d", st.Misses)
		}
	})
	t.Run("a reject leaves the other offer; all gone: back in line", func(t *testing.T) {
		e := setup(t)
		out := e.enqueue(Task{ConversationID: 1, QueueID: 1})
		_, rout, err := e.r.Reject(e.ctx, out.Offered[0].ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		wantOffers(t, "reject one", rout.Offered, "")
		e.clock.Advance(10 * time.Second)
		xout := e.expire()
		wantOffers(t, "timeout of the other", xout.Ended, "c1→a2:timeout")
		wantOffers(t, "back in line, agent 3 only", xout.Offered, "c1→a3")
	})
}

func TestRuleMissesSetAway(t *testing.T) {
	e := newEnv(t)
	e.opts.MissLimit = 2
	e.r = New(e.rdb, e.opts)
	e.queue(QueueSpec{ID: 1, OfferTimeout: 10 * time.Second, Members: []int64{1, 2}})
	e.agent(AgentSpec{ID: 1, Capacity: chat(2)})
	e.agent(AgentSpec{ID: 2, Capacity: chat(1)})
	e.presence(1, parley.PresenceAvailable)
	// Miss, accept (resets), miss: still available.
	e.enqueue(Task{ConversationID: 1, QueueID: 1})
	e.clock.Advance(10 * time.Second)
	e.expire()
	if st := e.state(1); st.Misses != 1 {
		t.Fatalf("misses %d; want 1", st.Misses)
	}
	o := only(t, e.enqueue(Task{ConversationID: 2, QueueID: 1}).Offered)
	e.accept(o.ID, 1)
	if st := e.state(1); st.Misses != 0 {
		t.Fatalf("misses after accept %d; want 0", st.Misses)
	}
	e.enqueue(Task{ConversationID: 3, QueueID: 1})
	e.clock.Advance(10 * time.Second)
	if out := e.expire(); len(out.Away) != 0 {
		t.Fatalf("away after 1 miss: %v", out.Away)
	}
	// Second miss in a row: away; its pending offer is canceled and goes to agent 2.
	e.r.Release(e.ctx, 1, parley.MediaChat)
	e.presence(2, parley.PresenceAway)
	out := e.enqueue(Task{ConversationID: 4, QueueID: 1})
	wantOffers(t, "two offers", out.Offered, "c4→a1")
	e.clock.Advance(5 * time.Second)
	e.enqueue(Task{ConversationID: 5, QueueID: 1})
	e.presence(2, parley.PresenceAvailable) // takes conv 1 or 3 (excluded for agent 1)
	e.clock.Advance(5 * time.Second)
	out = e.expire()
	if len(out.Away) != 1 || out.Away[0] != (AgentAway{AgentID: 1, Reason: "missed_offers"}) {
		t.Fatalf("Away %v; want agent 1 missed_offers", out.Away)
	}
	if st := e.state(1); st.Presence != parley.PresenceAway || !st.Since.Equal(e.clock.Now()) {
		t.Errorf("agent 1 %s since %v; want away now", st.Presence, st.Since)
	}
	for _, o := range out.Ended {
		if o.AgentID == 1 && o.ConversationID == 5 && o.State != parley.OfferCanceled {
			t.Errorf("conv 5 offer %s; want canceled", o.State)
		}
	}
	// Available again: the streak starts over.
	e.presence(1, parley.PresenceAvailable)
	if st := e.state(1); st.Misses != 0 {
		t.Errorf("misses after available %d; want 0", st.Misses)
	}
}

func TestRuleRejectAndLogoutAreNotMisses(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Members: []int64{1, 2}})
	e.agent(AgentSpec{ID: 1, Capacity: chat(1)})
	e.agent(AgentSpec{ID: 2, Capacity: chat(1)})
	e.presence(1, parley.PresenceAvailable)
	o := only(t, e.enqueue(Task{ConversationID: 1, QueueID: 1}).Offered)
	if _, _, err := e.r.Reject(e.ctx, o.ID, 1); err != nil {
		t.Fatal(err)
	}
	o = only(t, e.enqueue(Task{ConversationID: 2, QueueID: 1}).Offered)
	e.presence(2, parley.PresenceAvailable) // takes conv 1
	out := e.presence(1, parley.PresenceOffline)
	wantOffers(t, "logout", out.Ended, "c2→a1:canceled")
	if st := e.state(1); st.Misses != 0 {
		t.Errorf("misses %d; want 0", st.Misses)
	}
	if pos, ok := e.position(2); !ok || pos != 0 {
		t.Errorf("conv 2 position %d %v; want waiting first", pos, ok)
	}
}

func TestRuleWrapUp(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Members: []int64{1}})
	e.agent(AgentSpec{ID: 1, Capacity: voice(1)})
	e.presence(1, parley.PresenceAvailable)
	o := only(t, e.enqueue(Task{ConversationID: 1, QueueID: 1, Media: parley.MediaVoice}).Offered)
	e.accept(o.ID, 1)
	e.enqueue(Task{ConversationID: 2, QueueID: 1, Media: parley.MediaVoice})
	out, err := e.r.ReleaseAfter(e.ctx, 1, parley.MediaVoice, 30*time.Second)
	if err != nil || len(out.Offered) != 0 {
		t.Fatalf("ReleaseAfter: %q %v; want no offer during wrap-up", offers(out.Offered), err)
	}
	st := e.state(1)
	if st.Load[parley.MediaVoice] != 1 || st.WrapUp[parley.MediaVoice] != 1 {
		t.Errorf("during wrap-up load %v wrap %v; want 1 and 1", st.Load, st.WrapUp)
	}
	if next, ok, _ := e.r.NextExpiry(e.ctx); !ok || !next.Equal(e.clock.Now().Add(30*time.Second)) {
		t.Errorf("NextExpiry %v %v; want the wrap-up end", next, ok)
	}
	e.clock.Advance(29 * time.Second)
	wantOffers(t, "before the end", e.expire().Offered, "")
	e.clock.Advance(time.Second)
	wantOffers(t, "wrap-up over", e.expire().Offered, "c2→a1")
	if st := e.state(1); st.WrapUp[parley.MediaVoice] != 0 {
		t.Errorf("wrap %v; want 0", st.WrapUp)
	}
}

func TestRulePausedQueue(t *testing.T) {
	e := newEnv(t)
	q := QueueSpec{ID: 1, Paused: true, Members: []int64{1}}
	e.queue(q)
	e.queue(QueueSpec{ID: 2, Members: []int64{1}})
	e.agent(AgentSpec{ID: 1, Capacity: chat(2)})
	wantOffers(t, "enqueue", e.enqueue(Task{ConversationID: 1, QueueID: 1, Priority: 50}).Offered, "")
	wantOffers(t, "pull skips the paused queue", e.presence(1, parley.PresenceAvailable).Offered, "")
	wantOffers(t, "other queue", e.enqueue(Task{ConversationID: 2, QueueID: 2}).Offered, "c2→a1")
	q.Paused = false
	e.queue(q)
	wantOffers(t, "unpaused", e.r.mustDispatch(t, 1).Offered, "c1→a1")
}

func TestRuleTransfer(t *testing.T) {
	setup := func(t *testing.T) (*env, parley.Offer) {
		e := newEnv(t)
		e.queue(QueueSpec{ID: 1, WrapUp: 20 * time.Second, Members: []int64{1}})
		e.queue(QueueSpec{ID: 2, Members: []int64{1, 2}})
		for a := int64(1); a <= 3; a++ {
			e.agent(AgentSpec{ID: a, Capacity: chat(1)})
			e.presence(a, parley.PresenceAvailable)
		}
		o := only(t, e.enqueue(Task{ConversationID: 7, QueueID: 1}).Offered)
		e.accept(o.ID, 1)
		return e, o
	}
	t.Run("to a queue", func(t *testing.T) {
		e, _ := setup(t)
		out, err := e.r.Transfer(e.ctx, 7, 1, parley.MediaChat, Task{QueueID: 2})
		if err != nil {
			t.Fatal(err)
		}
		wantOffers(t, "transfer", out.Offered, "c7→a2")
		if st := e.state(1); st.WrapUp[parley.MediaChat] != 1 {
			t.Errorf("agent 1 wrap %v; want queue 1's wrap-up", st.WrapUp)
		}
	})
	t.Run("to a named agent, falling back to the queue when declined", func(t *testing.T) {
		e, _ := setup(t)
		out, err := e.r.Transfer(e.ctx, 7, 1, parley.MediaChat, Task{QueueID: 2, TargetAgent: 3})
		if err != nil {
			t.Fatal(err)
		}
		o := only(t, out.Offered)
		wantOffers(t, "direct", out.Offered, "c7→a3")
		_, rout, err := e.r.Reject(e.ctx, o.ID, 3)
		if err != nil {
			t.Fatal(err)
		}
		wantOffers(t, "declined: the queue", rout.Offered, "c7→a2")
	})
	t.Run("a named agent who is busy gets it when free", func(t *testing.T) {
		e, _ := setup(t)
		busy := only(t, e.enqueue(Task{ConversationID: 8, QueueID: 2}).Offered) // agent 2
		e.accept(busy.ID, 2)
		out, _ := e.r.Transfer(e.ctx, 7, 1, parley.MediaChat, Task{QueueID: 2, TargetAgent: 2})
		wantOffers(t, "busy target", out.Offered, "")
		e.enqueue(Task{ConversationID: 9, QueueID: 2, EnqueuedAt: e.clock.Now().Add(-time.Hour)})
		rout, _ := e.r.Release(e.ctx, 2, parley.MediaChat)
		wantOffers(t, "direct first", rout.Offered, "c7→a2")
	})
}

func TestRuleBestHeadAcrossQueues(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Priority: 10, Members: []int64{1}})
	e.queue(QueueSpec{ID: 2, Priority: 10, Members: []int64{1}})
	e.queue(QueueSpec{ID: 3, Priority: 5, Members: []int64{1}})
	e.agent(AgentSpec{ID: 1, Capacity: chat(1)})
	t0 := e.clock.Now()
	e.enqueue(Task{ConversationID: 1, QueueID: 3, Priority: 100, EnqueuedAt: t0.Add(-time.Hour)})
	e.enqueue(Task{ConversationID: 2, QueueID: 1, EnqueuedAt: t0.Add(-time.Minute)})
	e.enqueue(Task{ConversationID: 3, QueueID: 2, EnqueuedAt: t0.Add(-2 * time.Minute)})
	e.enqueue(Task{ConversationID: 4, QueueID: 2, Priority: 1, EnqueuedAt: t0})
	var got []string
	o := only(t, e.presence(1, parley.PresenceAvailable).Offered)
	for range 4 {
		got = append(got, offers([]parley.Offer{o}))
		e.accept(o.ID, 1)
		out, _ := e.r.Release(e.ctx, 1, parley.MediaChat)
		if len(out.Offered) == 0 {
			break
		}
		o = out.Offered[0]
	}
	want := "[c4→a1 c3→a1 c2→a1 c1→a1]"
	if g := fmtList(got); g != want {
		t.Errorf("order %s; want %s", g, want)
	}
}

func fmtList(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}

func TestRuleStaffedAndState(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Members: []int64{1, 2, 3}})
	e.agent(AgentSpec{ID: 1, Capacity: map[parley.Media]int{parley.MediaChat: 3, parley.MediaEmail: 2}})
	e.agent(AgentSpec{ID: 2, Capacity: chat(2)})
	e.agent(AgentSpec{ID: 3, Capacity: chat(2)})
	e.presence(1, parley.PresenceAvailable)
	e.presence(2, parley.PresenceAvailable)
	e.enqueue(Task{ConversationID: 1, QueueID: 1})
	n, free, err := e.r.Staffed(e.ctx, 1)
	if err != nil || n != 2 || free[parley.MediaChat] != 4 || free[parley.MediaEmail] != 2 || free[parley.MediaVoice] != 0 {
		t.Errorf("Staffed = %d %v %v; want 2, chat 4, email 2", n, free, err)
	}
	st := e.state(1)
	if st.Presence != parley.PresenceAvailable || st.Load[parley.MediaChat] != 1 || st.Capacity[parley.MediaChat] != 3 || st.Misses != 0 {
		t.Errorf("AgentState %+v", st)
	}
	if _, ok, _ := e.r.Step(e.ctx, 99); ok {
		t.Error("Step of an unknown conversation: ok")
	}
}
