package routing

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

func TestRouterOffersOnlyToAgentsWithRequiredSkills(t *testing.T) {
	tests := []struct {
		name    string
		skills1 map[string]int
		skills2 map[string]int
		require map[string]int
		want    string
	}{
		{"skill", map[string]int{"billing": 3}, map[string]int{"billing": 4}, map[string]int{"billing": 4}, "c10→a2"},
		{"skill above level", map[string]int{"billing": 5}, map[string]int{"billing": 2}, map[string]int{"billing": 4}, "c10→a1"},
		{"language", map[string]int{"en": 5}, map[string]int{"zh": 4, "en": 3}, map[string]int{"zh": 4}, "c10→a2"},
		{"skill and language", map[string]int{"billing": 5, "zh": 3}, map[string]int{"billing": 4, "zh": 5}, map[string]int{"billing": 4, "zh": 4}, "c10→a2"},
		{"nobody", map[string]int{"billing": 3}, map[string]int{}, map[string]int{"billing": 4}, ""},
		{"no requirement: lowest id among equals", map[string]int{}, map[string]int{"billing": 5}, nil, "c10→a1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.queue(QueueSpec{ID: 1, Members: []int64{1, 2}})
			e.agent(AgentSpec{ID: 1, Skills: tt.skills1})
			e.agent(AgentSpec{ID: 2, Skills: tt.skills2})
			e.presence(1, parley.PresenceAvailable)
			e.presence(2, parley.PresenceAvailable)
			out := e.enqueue(Task{ConversationID: 10, QueueID: 1, Require: tt.require})
			wantOffers(t, "offered", out.Offered, tt.want)
		})
	}
}

func TestRouterOrdersByPriorityThenAge(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Members: []int64{1}})
	e.agent(AgentSpec{ID: 1})
	t0 := e.clock.Now()
	// Enqueued in this order; equal scores order by conversation id.
	for _, task := range []Task{
		{ConversationID: 5, Priority: 0, EnqueuedAt: t0},
		{ConversationID: 3, Priority: 0, EnqueuedAt: t0.Add(-time.Second)},
		{ConversationID: 9, Priority: 50, EnqueuedAt: t0.Add(time.Minute)},
		{ConversationID: 12, Priority: 0, EnqueuedAt: t0},
		{ConversationID: 4, Priority: 0, EnqueuedAt: t0},
		{ConversationID: 100, Priority: 100, EnqueuedAt: t0.Add(time.Hour)},
		{ConversationID: 7, Priority: 50, EnqueuedAt: t0.Add(time.Minute)},
	} {
		task.QueueID = 1
		e.enqueue(task)
	}
	want := []int64{100, 7, 9, 3, 4, 5, 12}
	for i, conv := range want {
		if pos, ok := e.position(conv); !ok || pos != i {
			t.Errorf("Position(%d) = %d, %v; want %d, true", conv, pos, ok, i)
		}
	}
	// The agent takes them in that order.
	out := e.presence(1, parley.PresenceAvailable)
	var got []int64
	for range want {
		o := only(t, out.Offered)
		got = append(got, o.ConversationID)
		e.accept(o.ID, 1)
		var err error
		if out, err = e.r.Release(e.ctx, 1, parley.MediaChat); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("offer order %v; want %v", got, want)
	}
	if len(out.Offered) != 0 {
		t.Errorf("offered %q after the queue emptied", offers(out.Offered))
	}
}

func TestRouterNeverExceedsCapacity(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Members: []int64{1}})
	e.agent(AgentSpec{ID: 1, Capacity: chat(2)})
	e.presence(1, parley.PresenceAvailable)
	var offered []parley.Offer
	for c := int64(1); c <= 3; c++ {
		offered = append(offered, e.enqueue(Task{ConversationID: c, QueueID: 1}).Offered...)
	}
	wantOffers(t, "offers", offered, "c1→a1 c2→a1")
	if l := e.load(1)[parley.MediaChat]; l != 2 {
		t.Errorf("load %d; want 2", l)
	}
	e.accept(offered[0].ID, 1)
	if l := e.load(1)[parley.MediaChat]; l != 2 {
		t.Errorf("load after accept %d; want 2 (the slot stays taken)", l)
	}
	if pos, ok := e.position(3); !ok || pos != 0 {
		t.Errorf("Position(3) = %d, %v; want 0, true", pos, ok)
	}
	out, err := e.r.Release(e.ctx, 1, parley.MediaChat)
	if err != nil {
		t.Fatal(err)
	}
	wantOffers(t, "after release", out.Offered, "c3→a1")
	if l := e.load(1)[parley.MediaChat]; l != 2 {
		t.Errorf("load after release %d; want 2", l)
	}
	// A release with nothing assigned frees nothing: the two pending
	// offers keep their slots.
	e.accept(out.Offered[0].ID, 1)
	for range 3 {
		if _, err := e.r.Release(e.ctx, 1, parley.MediaChat); err != nil {
			t.Fatal(err)
		}
	}
	if l := e.load(1)[parley.MediaChat]; l != 1 {
		t.Errorf("load after releasing too often %d; want 1 (c2's pending offer)", l)
	}
}

func TestRouterTimesOutOffer(t *testing.T) {
	t.Run("next agent gets it, late accept conflicts", func(t *testing.T) {
		e := newEnv(t)
		e.queue(QueueSpec{ID: 1, OfferTimeout: 20 * time.Second, Members: []int64{1, 2}})
		e.agent(AgentSpec{ID: 1})
		e.agent(AgentSpec{ID: 2})
		e.presence(1, parley.PresenceAvailable)
		e.presence(2, parley.PresenceAvailable)
		first := only(t, e.enqueue(Task{ConversationID: 10, QueueID: 1}).Offered)
		if first.AgentID != 1 || !first.ExpiresAt.Equal(e.clock.Now().Add(20*time.Second)) {
			t.Fatalf("offer %+v; want agent 1 expiring in 20 s", first)
		}
		if at, ok, err := e.r.NextExpiry(e.ctx); err != nil || !ok || !at.Equal(first.ExpiresAt) {
			t.Errorf("NextExpiry = %v, %v, %v; want %v", at, ok, err, first.ExpiresAt)
		}

		e.clock.Advance(19 * time.Second)
		out, err := e.r.ExpireDue(e.ctx)
		if err != nil || len(out.Ended)+len(out.Offered) != 0 {
			t.Fatalf("ExpireDue before expiry: %+v, %v; want nothing", out, err)
		}
		e.clock.Advance(time.Second)
		out, err = e.r.ExpireDue(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantOffers(t, "ended", out.Ended, "c10→a1:timeout")
		wantOffers(t, "offered", out.Offered, "c10→a2")
		if ended := out.Ended[0]; ended.Reason != "timeout" || !ended.EndedAt.Equal(e.clock.Now()) {
			t.Errorf("ended offer %+v; want reason timeout, ended now", ended)
		}
		if l := e.load(1)[parley.MediaChat]; l != 0 {
			t.Errorf("agent 1 load %d; want 0", l)
		}

		_, _, err = e.r.Accept(e.ctx, first.ID, 1)
		wantCode(t, err, parley.ECONFLICT)
		if got := parley.ErrorMessage(err); got != "offer already timeout" {
			t.Errorf("late accept message %q; want %q", got, "offer already timeout")
		}

		// Agent 2 misses too; agent 1 is excluded, so the task waits.
		e.clock.Advance(20 * time.Second)
		out, err = e.r.ExpireDue(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantOffers(t, "ended", out.Ended, "c10→a2:timeout")
		wantOffers(t, "offered", out.Offered, "")
		if pos, ok := e.position(10); !ok || pos != 0 {
			t.Errorf("Position(10) = %d, %v; want 0, true", pos, ok)
		}
		if _, ok, _ := e.r.NextExpiry(e.ctx); ok {
			t.Errorf("NextExpiry reports an expiry with no pending offer")
		}
	})

	t.Run("task goes back ahead of newer tasks", func(t *testing.T) {
		e := newEnv(t)
		e.queue(QueueSpec{ID: 1, OfferTimeout: 20 * time.Second, Members: []int64{1, 2}})
		e.agent(AgentSpec{ID: 1})
		e.agent(AgentSpec{ID: 2})
		e.presence(1, parley.PresenceAvailable)
		first := only(t, e.enqueue(Task{ConversationID: 10, QueueID: 1}).Offered)
		e.clock.Advance(time.Second)
		e.enqueue(Task{ConversationID: 11, QueueID: 1})
		e.clock.Advance(time.Second)
		e.enqueue(Task{ConversationID: 12, QueueID: 1})

		e.clock.Advance(20 * time.Second)
		out, err := e.r.ExpireDue(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		wantOffers(t, "ended", out.Ended, "c10→a1:timeout")
		// Agent 1 is excluded for 10, so it takes the next task.
		wantOffers(t, "offered", out.Offered, "c11→a1")
		if got, want := e.waitingOrder(1), []string{"10", "12"}; !slices.Equal(got, want) {
			t.Errorf("waiting %v; want %v", got, want)
		}
		out = e.presence(2, parley.PresenceAvailable)
		wantOffers(t, "agent 2 pulls", out.Offered, "c10→a2")
		_ = first
	})
}

func TestRouterRejectExcludesAgent(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Members: []int64{1, 2}})
	e.agent(AgentSpec{ID: 1})
	e.agent(AgentSpec{ID: 2})
	e.presence(1, parley.PresenceAvailable)
	e.presence(2, parley.PresenceAvailable)
	o1 := only(t, e.enqueue(Task{ConversationID: 10, QueueID: 1}).Offered)

	_, _, err := e.r.Reject(e.ctx, o1.ID, 2)
	wantCode(t, err, parley.EFORBIDDEN)
	_, _, err = e.r.Reject(e.ctx, "nope", 1)
	wantCode(t, err, parley.ENOTFOUND)
	_, _, err = e.r.Accept(e.ctx, o1.ID, 2)
	wantCode(t, err, parley.EFORBIDDEN)

	rejected, out, err := e.r.Reject(e.ctx, o1.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rejected.State != parley.OfferRejected || rejected.Reason != "rejected" {
		t.Errorf("rejected offer %+v; want state and reason rejected", rejected)
	}
	wantOffers(t, "ended", out.Ended, "c10→a1:rejected")
	wantOffers(t, "offered", out.Offered, "c10→a2")
	_, _, err = e.r.Reject(e.ctx, o1.ID, 1)
	wantCode(t, err, parley.ECONFLICT)

	// Agent 2 rejects too: nobody is left for task 10, but agent 1 still
	// gets new tasks.
	_, out, err = e.r.Reject(e.ctx, out.Offered[0].ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	wantOffers(t, "offered after second reject", out.Offered, "")
	wantOffers(t, "new task", e.enqueue(Task{ConversationID: 11, QueueID: 1}).Offered, "c11→a1")
	if pos, ok := e.position(10); !ok || pos != 0 {
		t.Errorf("Position(10) = %d, %v; want 0, true", pos, ok)
	}
}

func TestRouterCancelsOffersWhenAgentLeaves(t *testing.T) {
	for _, p := range []parley.Presence{parley.PresenceAway, parley.PresenceOffline} {
		t.Run(string(p), func(t *testing.T) {
			e := newEnv(t)
			e.queue(QueueSpec{ID: 1, Members: []int64{1, 2}})
			e.agent(AgentSpec{ID: 1, Capacity: chat(2)})
			e.agent(AgentSpec{ID: 2})
			e.presence(1, parley.PresenceAvailable)
			e.enqueue(Task{ConversationID: 10, QueueID: 1})
			e.clock.Advance(time.Second)
			e.enqueue(Task{ConversationID: 11, QueueID: 1})
			e.clock.Advance(time.Second)
			e.enqueue(Task{ConversationID: 12, QueueID: 1, Priority: 0})
			e.presence(2, parley.PresenceAvailable) // takes 12

			out := e.presence(1, p)
			wantOffers(t, "ended", out.Ended, "c10→a1:canceled c11→a1:canceled")
			for _, o := range out.Ended {
				if o.Reason != "canceled" {
					t.Errorf("reason %q; want canceled", o.Reason)
				}
			}
			if got := e.load(1)[parley.MediaChat]; got != 0 {
				t.Errorf("load of agent 1 = %d; want 0", got)
			}
			if got, _ := e.r.Presence(e.ctx, 1); got != p {
				t.Errorf("Presence = %s; want %s", got, p)
			}
			// Agent 2 is full; 10 and 11 wait in their original order.
			if got, want := e.waitingOrder(1), []string{"10", "11"}; !slices.Equal(got, want) {
				t.Errorf("waiting %v; want %v", got, want)
			}
			// A cancel is not a miss: agent 1 may get 10 again.
			out = e.presence(1, parley.PresenceAvailable)
			wantOffers(t, "back", out.Offered, "c10→a1 c11→a1")
		})
	}
	t.Run("re-offered elsewhere at once", func(t *testing.T) {
		e := newEnv(t)
		e.queue(QueueSpec{ID: 1, Members: []int64{1, 2}})
		e.agent(AgentSpec{ID: 1})
		e.agent(AgentSpec{ID: 2})
		e.presence(1, parley.PresenceAvailable)
		e.enqueue(Task{ConversationID: 10, QueueID: 1})
		e.presence(2, parley.PresenceAvailable)
		out := e.presence(1, parley.PresenceAway)
		wantOffers(t, "ended", out.Ended, "c10→a1:canceled")
		wantOffers(t, "offered", out.Offered, "c10→a2")
	})
}

func TestRouterEnqueueIsIdempotent(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Members: []int64{1}})
	e.agent(AgentSpec{ID: 1})
	task := Task{ConversationID: 10, QueueID: 1}
	e.enqueue(task)
	e.clock.Advance(time.Minute)
	e.enqueue(Task{ConversationID: 10, QueueID: 1, Priority: 90}) // changes nothing
	if n, oldest, err := e.r.QueueStats(e.ctx, 1); err != nil || n != 1 || !oldest.Equal(e.clock.Now().Add(-time.Minute)) {
		t.Errorf("QueueStats = %d, %v, %v; want 1, %v", n, oldest, err, e.clock.Now().Add(-time.Minute))
	}
	o := only(t, e.presence(1, parley.PresenceAvailable).Offered)
	wantOffers(t, "offered again", e.enqueue(task).Offered, "")
	if n, _, _ := e.r.QueueStats(e.ctx, 1); n != 1 {
		t.Errorf("waiting %d; want 1 (offered, not yet accepted)", n)
	}
	e.accept(o.ID, 1)
	if n, oldest, _ := e.r.QueueStats(e.ctx, 1); n != 0 || !oldest.IsZero() {
		t.Errorf("QueueStats after accept = %d, %v; want 0, zero", n, oldest)
	}
	if _, ok := e.position(10); ok {
		t.Errorf("accepted task still queued")
	}
}

func TestRouterRemove(t *testing.T) {
	t.Run("queued", func(t *testing.T) {
		e := newEnv(t)
		e.queue(QueueSpec{ID: 1, Members: []int64{1}})
		e.enqueue(Task{ConversationID: 10, QueueID: 1})
		e.enqueue(Task{ConversationID: 11, QueueID: 1})
		out, err := e.r.Remove(e.ctx, 10)
		if err != nil || len(out.Ended)+len(out.Offered) != 0 {
			t.Fatalf("Remove = %+v, %v; want nothing", out, err)
		}
		if _, ok := e.position(10); ok {
			t.Errorf("removed task still queued")
		}
		if pos, _ := e.position(11); pos != 0 {
			t.Errorf("Position(11) = %d; want 0", pos)
		}
		if _, err := e.r.Remove(e.ctx, 10); err != nil {
			t.Errorf("second Remove: %v", err)
		}
	})
	t.Run("offered", func(t *testing.T) {
		e := newEnv(t)
		e.queue(QueueSpec{ID: 1, Members: []int64{1}})
		e.agent(AgentSpec{ID: 1})
		e.presence(1, parley.PresenceAvailable)
		o := only(t, e.enqueue(Task{ConversationID: 10, QueueID: 1}).Offered)
		e.enqueue(Task{ConversationID: 11, QueueID: 1})
		out, err := e.r.Remove(e.ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		wantOffers(t, "ended", out.Ended, "c10→a1:canceled")
		if out.Ended[0].Reason != "canceled" {
			t.Errorf("reason %q; want canceled", out.Ended[0].Reason)
		}
		wantOffers(t, "freed agent pulls", out.Offered, "c11→a1")
		_, _, err = e.r.Accept(e.ctx, o.ID, 1)
		wantCode(t, err, parley.ECONFLICT)
		if n, _, _ := e.r.QueueStats(e.ctx, 1); n != 1 {
			t.Errorf("waiting %d; want 1", n)
		}
	})
}

func TestRouterAgentServesHigherPriorityQueueFirst(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Priority: 10, Members: []int64{1}})
	e.queue(QueueSpec{ID: 2, Priority: 60, Members: []int64{1}})
	e.queue(QueueSpec{ID: 3, Priority: 60, Members: []int64{1}})
	e.agent(AgentSpec{ID: 1})
	e.enqueue(Task{ConversationID: 10, QueueID: 1, Priority: 100}) // oldest, most urgent, low queue
	e.clock.Advance(time.Second)
	e.enqueue(Task{ConversationID: 20, QueueID: 2})
	e.clock.Advance(-2 * time.Second)
	e.enqueue(Task{ConversationID: 30, QueueID: 3}) // older than 20, same queue priority

	out := e.presence(1, parley.PresenceAvailable)
	wantOffers(t, "first", out.Offered, "c30→a1")
	e.accept(out.Offered[0].ID, 1)
	out, _ = e.r.Release(e.ctx, 1, parley.MediaChat)
	wantOffers(t, "second", out.Offered, "c20→a1")
	e.accept(out.Offered[0].ID, 1)
	out, _ = e.r.Release(e.ctx, 1, parley.MediaChat)
	wantOffers(t, "third", out.Offered, "c10→a1")
}

func TestRouterRanksAgents(t *testing.T) {
	t.Run("voice: longest idle", func(t *testing.T) {
		e := newEnv(t)
		voice := map[parley.Media]int{parley.MediaVoice: 1}
		e.queue(QueueSpec{ID: 1, Members: []int64{1, 2, 3}})
		for a := int64(1); a <= 3; a++ {
			e.agent(AgentSpec{ID: a, Capacity: voice})
		}
		e.presence(2, parley.PresenceAvailable)
		e.clock.Advance(time.Second)
		e.presence(3, parley.PresenceAvailable)
		e.clock.Advance(time.Second)
		e.presence(1, parley.PresenceAvailable)
		o := only(t, e.enqueue(Task{ConversationID: 10, QueueID: 1, Media: parley.MediaVoice}).Offered)
		if o.AgentID != 2 {
			t.Errorf("voice offer to agent %d; want 2 (idle longest)", o.AgentID)
		}
		// Agent 2 finishes the call: it becomes the least idle.
		e.accept(o.ID, 2)
		e.clock.Advance(time.Second)
		e.r.Release(e.ctx, 2, parley.MediaVoice)
		o = only(t, e.enqueue(Task{ConversationID: 11, QueueID: 1, Media: parley.MediaVoice}).Offered)
		o2 := only(t, e.enqueue(Task{ConversationID: 12, QueueID: 1, Media: parley.MediaVoice}).Offered)
		o3 := only(t, e.enqueue(Task{ConversationID: 13, QueueID: 1, Media: parley.MediaVoice}).Offered)
		if got := []int64{o.AgentID, o2.AgentID, o3.AgentID}; !slices.Equal(got, []int64{3, 1, 2}) {
			t.Errorf("voice offers to %v; want [3 1 2]", got)
		}
	})
	t.Run("chat: most spare capacity, then longest since last offer", func(t *testing.T) {
		e := newEnv(t)
		e.queue(QueueSpec{ID: 1, Members: []int64{1, 2, 3}})
		e.agent(AgentSpec{ID: 1, Capacity: chat(2)})
		e.agent(AgentSpec{ID: 2, Capacity: chat(4)})
		e.agent(AgentSpec{ID: 3, Capacity: chat(4)})
		for a := int64(1); a <= 3; a++ {
			e.presence(a, parley.PresenceAvailable)
		}
		var got []int64
		for c := int64(10); c < 18; c++ {
			e.clock.Advance(time.Second)
			got = append(got, only(t, e.enqueue(Task{ConversationID: c, QueueID: 1}).Offered).AgentID)
		}
		// 1,2,3 all empty → lowest id; then 2,3 (1.0) beat 1 (0.5): 2 then 3;
		// then 1/2, 3/4 vs 3/4 ... ties go to the longest since last offer.
		want := []int64{1, 2, 3, 2, 3, 1, 2, 3}
		if !slices.Equal(got, want) {
			t.Errorf("chat offers to %v; want %v", got, want)
		}
	})
}

func TestRouterReconcileRestoresStateAfterFlush(t *testing.T) {
	e := newEnv(t)
	queues := []QueueSpec{
		{ID: 1, Priority: 10, Members: []int64{1, 2}},
		{ID: 2, Priority: 20, Members: []int64{2}},
	}
	agents := []AgentSpec{
		{ID: 1, Capacity: chat(2), Skills: map[string]int{"billing": 5}},
		{ID: 2, Capacity: chat(2)},
	}
	for _, q := range queues {
		e.queue(q)
	}
	for _, a := range agents {
		e.agent(a)
	}
	t0 := e.clock.Now()
	var tasks []Task
	for i, p := range []int{0, 30, 0, 30, 100, 0} {
		tasks = append(tasks, Task{ConversationID: int64(10 + i), QueueID: 1, Media: parley.MediaChat,
			Priority: p, EnqueuedAt: t0.Add(time.Duration(i%3) * time.Second)})
	}
	tasks = append(tasks, Task{ConversationID: 30, QueueID: 2, Media: parley.MediaChat, EnqueuedAt: t0, Require: map[string]int{"x": 1}})
	for _, task := range tasks {
		e.enqueue(task)
	}
	// Agent 1 accepts one, keeps one pending: load 2.
	out := e.presence(1, parley.PresenceAvailable)
	wantOffers(t, "agent 1", out.Offered, "c14→a1 c13→a1")
	e.accept(out.Offered[0].ID, 1)
	order := e.waitingOrder(1)

	// Redis loses everything.
	deleteKeys(t, e.rdb, e.opts.Prefix)
	snap := Snapshot{
		Queues:   queues,
		Agents:   agents,
		Tasks:    tasks[:4],                                  // 10..13 still queued (13 was offered)
		Assigned: map[int64]map[parley.Media]int{1: chat(1)}, // 14 accepted
	}
	snap.Tasks = append(snap.Tasks, tasks[5:]...) // 15 and 30
	out, err := e.r.Reconcile(e.ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Offered)+len(out.Ended) != 0 {
		t.Errorf("Reconcile after flush: %+v; want nothing (everyone offline)", out)
	}
	want := slices.Insert(slices.Clone(order), 0, "13") // 13 was offered: it waits again, first
	if got := e.waitingOrder(1); !slices.Equal(got, want) {
		t.Errorf("order after reconcile %v; want %v (before: %v)", got, want, order)
	}
	if got := e.load(1)[parley.MediaChat]; got != 1 {
		t.Errorf("agent 1 load %d; want 1 (assigned only, no phantom slot)", got)
	}
	if p, _ := e.r.Presence(e.ctx, 1); p != parley.PresenceOffline {
		t.Errorf("presence %s; want offline", p)
	}
	out = e.presence(1, parley.PresenceAvailable)
	wantOffers(t, "agent 1 after reconcile", out.Offered, "c13→a1")

	// A second Reconcile with Redis intact keeps the pending offer and
	// counts it once; task 12 is gone from the snapshot.
	snap.Tasks = slices.DeleteFunc(slices.Clone(snap.Tasks), func(t Task) bool { return t.ConversationID == 12 })
	out, err = e.r.Reconcile(e.ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	wantOffers(t, "second reconcile ended", out.Ended, "")
	if got := e.load(1)[parley.MediaChat]; got != 2 {
		t.Errorf("agent 1 load %d; want 2 (1 assigned + 1 pending)", got)
	}
	if _, ok := e.position(12); ok {
		t.Errorf("task 12 not in the snapshot is still queued")
	}
	if pos, ok := e.position(13); !ok || pos != 0 {
		t.Errorf("Position(13) = %d, %v; want 0, true (offered)", pos, ok)
	}
}

func TestRouterPositionCountsEveryMedia(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1})
	t0 := e.clock.Now()
	e.enqueue(Task{ConversationID: 3, QueueID: 1, Media: parley.MediaChat, EnqueuedAt: t0.Add(2 * time.Second)})
	e.enqueue(Task{ConversationID: 2, QueueID: 1, Media: parley.MediaVoice, EnqueuedAt: t0.Add(time.Second)})
	e.enqueue(Task{ConversationID: 1, QueueID: 1, Media: parley.MediaEmail, EnqueuedAt: t0})
	e.enqueue(Task{ConversationID: 4, QueueID: 1, Media: parley.MediaVoice, EnqueuedAt: t0})
	e.enqueue(Task{ConversationID: 5, QueueID: 1, Media: parley.MediaChat, EnqueuedAt: t0, Priority: 1})
	for conv, want := range map[int64]int{5: 0, 1: 1, 4: 2, 2: 3, 3: 4} {
		if pos, ok := e.position(conv); !ok || pos != want {
			t.Errorf("Position(%d) = %d, %v; want %d, true", conv, pos, ok, want)
		}
	}
	if _, ok := e.position(99); ok {
		t.Errorf("Position(99) reports an unknown conversation as queued")
	}
	if n, oldest, err := e.r.QueueStats(e.ctx, 1); err != nil || n != 5 || !oldest.Equal(t0) {
		t.Errorf("QueueStats = %d, %v, %v; want 5, %v", n, oldest, err, t0)
	}
}

func TestRouterExpiresManyOffersOnceAcrossInstances(t *testing.T) {
	e := newEnv(t)
	e.opts.MissLimit = 1000 // one agent misses them all
	e.r = New(e.rdb, e.opts)
	other := New(e.rdb, Options{Prefix: e.opts.Prefix, Now: e.clock.Now, NewID: seqIDs("x"), MissLimit: 1000})
	e.queue(QueueSpec{ID: 1, OfferTimeout: 10 * time.Second, Members: []int64{1}})
	e.agent(AgentSpec{ID: 1, Capacity: chat(250)})
	const n = 250
	for c := int64(1); c <= n; c++ {
		e.enqueue(Task{ConversationID: c, QueueID: 1})
	}
	out := e.presence(1, parley.PresenceAvailable)
	if len(out.Offered) != n {
		t.Fatalf("%d offers; want %d", len(out.Offered), n)
	}
	e.clock.Advance(10 * time.Second)
	results := make(chan Outcome, 2)
	for _, r := range []*Router{e.r, other} {
		go func() {
			out, err := r.ExpireDue(e.ctx)
			if err != nil {
				t.Error(err)
			}
			results <- out
		}()
	}
	ended := map[string]int{}
	for range 2 {
		out := <-results
		for _, o := range out.Ended {
			ended[o.ID]++
			if o.State != parley.OfferTimeout {
				t.Errorf("offer %s ended %s; want timeout", o.ID, o.State)
			}
		}
		if len(out.Offered) != 0 {
			t.Errorf("re-offered %q to the excluded agent", offers(out.Offered))
		}
	}
	if len(ended) != n {
		t.Errorf("%d offers timed out; want %d", len(ended), n)
	}
	for id, k := range ended {
		if k != 1 {
			t.Errorf("offer %s ended %d times", id, k)
		}
	}
	if got := e.load(1)[parley.MediaChat]; got != 0 {
		t.Errorf("load %d; want 0", got)
	}
}

func TestRouterRemoveAgentAndQueue(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Members: []int64{1, 2}})
	e.queue(QueueSpec{ID: 2, Members: []int64{2}})
	e.agent(AgentSpec{ID: 1})
	e.agent(AgentSpec{ID: 2})
	e.presence(1, parley.PresenceAvailable)
	only(t, e.enqueue(Task{ConversationID: 10, QueueID: 1}).Offered)
	e.presence(2, parley.PresenceAvailable)

	out, err := e.r.RemoveAgent(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantOffers(t, "ended", out.Ended, "c10→a1:canceled")
	wantOffers(t, "offered", out.Offered, "c10→a2")
	if _, err := e.r.Presence(e.ctx, 1); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("Presence of a removed agent: %v; want not found", err)
	}
	if out, err := e.r.RemoveAgent(e.ctx, 1); err != nil || len(out.Ended) != 0 {
		t.Errorf("second RemoveAgent = %+v, %v; want nothing", out, err)
	}

	// Queue 2 removed: agent 2 no longer serves it, its task stays.
	if err := e.r.RemoveQueue(e.ctx, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := e.r.Enqueue(e.ctx, Task{ConversationID: 20, QueueID: 2, Media: parley.MediaChat}); parley.ErrorCode(err) != parley.ENOTFOUND {
		t.Errorf("Enqueue into a removed queue: %v; want not found", err)
	}
	e.queue(QueueSpec{ID: 2, Members: []int64{2}})
	e.enqueue(Task{ConversationID: 20, QueueID: 2})
	if err := e.r.RemoveQueue(e.ctx, 2); err != nil {
		t.Fatal(err)
	}
	out, err = e.r.Remove(e.ctx, 10) // agent 2 frees its slot ...
	if err != nil {
		t.Fatal(err)
	}
	wantOffers(t, "... and does not pull from the removed queue", out.Offered, "")
	if pos, ok := e.position(20); !ok || pos != 0 {
		t.Errorf("Position(20) = %d, %v; want 0, true", pos, ok)
	}
}

func TestRouterRejectsBadInput(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1})
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"enqueue unknown queue", func() error {
			_, err := e.r.Enqueue(e.ctx, Task{ConversationID: 1, QueueID: 9, Media: parley.MediaChat})
			return err
		}, parley.ENOTFOUND},
		{"enqueue bad media", func() error {
			_, err := e.r.Enqueue(e.ctx, Task{ConversationID: 1, QueueID: 1, Media: "fax"})
			return err
		}, parley.EINVALID},
		{"enqueue bad priority", func() error {
			_, err := e.r.Enqueue(e.ctx, Task{ConversationID: 1, QueueID: 1, Media: parley.MediaChat, Priority: 101})
			return err
		}, parley.EINVALID},
		{"enqueue before the epoch", func() error {
			_, err := e.r.Enqueue(e.ctx, Task{ConversationID: 1, QueueID: 1, Media: parley.MediaChat, EnqueuedAt: Epoch.Add(-time.Millisecond)})
			return err
		}, parley.EINVALID},
		{"presence of unknown agent", func() error {
			_, err := e.r.SetPresence(e.ctx, 9, parley.PresenceAvailable)
			return err
		}, parley.ENOTFOUND},
		{"bad presence", func() error {
			_, err := e.r.SetPresence(e.ctx, 9, "dancing")
			return err
		}, parley.EINVALID},
		{"read presence of unknown agent", func() error {
			_, err := e.r.Presence(e.ctx, 9)
			return err
		}, parley.ENOTFOUND},
		{"load of unknown agent", func() error {
			_, err := e.r.Load(e.ctx, 9)
			return err
		}, parley.ENOTFOUND},
		{"release for unknown agent", func() error {
			_, err := e.r.Release(e.ctx, 9, parley.MediaChat)
			return err
		}, parley.ENOTFOUND},
		{"accept unknown offer", func() error {
			_, _, err := e.r.Accept(e.ctx, "nope", 1)
			return err
		}, parley.ENOTFOUND},
		{"queue with negative timeout", func() error {
			return e.r.SyncQueue(e.ctx, QueueSpec{ID: 2, OfferTimeout: -time.Second})
		}, parley.EINVALID},
		{"agent with bad capacity", func() error {
			return e.r.SyncAgent(e.ctx, AgentSpec{ID: 2, Capacity: map[parley.Media]int{"fax": 1}})
		}, parley.EINVALID},
		{"snapshot with a task twice", func() error {
			task := Task{ConversationID: 1, QueueID: 1, Media: parley.MediaChat}
			_, err := e.r.Reconcile(e.ctx, Snapshot{Tasks: []Task{task, task}})
			return err
		}, parley.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.call(), tt.code) })
	}
}

func TestRouterSyncAgentKeepsPresenceAndLoad(t *testing.T) {
	e := newEnv(t)
	e.queue(QueueSpec{ID: 1, Members: []int64{1}})
	e.agent(AgentSpec{ID: 1, Skills: map[string]int{"billing": 5}})
	e.presence(1, parley.PresenceAvailable)
	only(t, e.enqueue(Task{ConversationID: 10, QueueID: 1}).Offered)
	e.enqueue(Task{ConversationID: 11, QueueID: 1, Require: map[string]int{"zh": 3}})

	// New skills and capacity; presence and the pending offer stay.
	e.agent(AgentSpec{ID: 1, Skills: map[string]int{"zh": 3}, Capacity: chat(3)})
	if p, _ := e.r.Presence(e.ctx, 1); p != parley.PresenceAvailable {
		t.Errorf("presence %s; want available", p)
	}
	if got := e.load(1)[parley.MediaChat]; got != 1 {
		t.Errorf("load %d; want 1", got)
	}
	out, err := e.r.Pull(e.ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	wantOffers(t, "pull after sync", out.Offered, "c11→a1")
	wantOffers(t, "billing is gone", e.enqueue(Task{ConversationID: 12, QueueID: 1, Require: map[string]int{"billing": 1}}).Offered, "")
	wantOffers(t, "a third slot", e.enqueue(Task{ConversationID: 13, QueueID: 1}).Offered, "c13→a1")
}

// TestFunctionLibraryReloads: when Redis loses the function library
// (restart, FUNCTION FLUSH) the next call loads it again.
func TestFunctionLibraryReloads(t *testing.T) {
	e := newEnv(t)
	e.agent(AgentSpec{ID: 1, Capacity: map[parley.Media]int{parley.MediaChat: 1}})
	name := strings.Fields(strings.TrimPrefix(routingLua.source, "#!lua name="))[0]
	if err := e.rdb.FunctionDelete(e.ctx, name).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.r.SetPresence(e.ctx, 1, parley.PresenceAvailable); err != nil {
		t.Fatalf("after FUNCTION DELETE: %v", err)
	}
	if p, err := e.r.Presence(e.ctx, 1); err != nil || p != parley.PresenceAvailable {
		t.Errorf("presence %q, %v", p, err)
	}
	if e.r.mode.Load() != modeFunctions {
		t.Errorf("mode %d, want functions", e.r.mode.Load())
	}
}
