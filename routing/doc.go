// Package routing is Parley's Redis routing core: queues of waiting
// conversations (tasks), agents with skills, presence and per-media slots,
// and offers (reservations) of one task to one agent.
//
// Every state transition is one Lua script run atomically by Redis
// (EVALSHA, falling back to EVAL); Go never reads and then writes routing
// state. A Router is safe for concurrent use and any number of Routers, in
// any number of processes, may share one Redis. Each call returns an
// Outcome listing the offers it created and the offers it ended, for the
// caller to push to agents (after the commit, ended before offered) and to
// record in PostgreSQL. Reconcile rebuilds everything from PostgreSQL.
//
// # Keys
//
// All keys share one hash tag, "{<prefix>}" (Options.Prefix, default
// "parley"), so they live in one Redis Cluster slot and one script may
// touch any of them. Ids are decimal; P stands for "{<prefix>}".
//
//	P:queues              SET   ids of synced queues
//	P:q:<q>               HASH  prio, timeout (offer timeout in ms)
//	P:q:<q>:members       SET   agent ids
//	P:q:<q>:wait:<media>  ZSET  waiting (not offered) tasks of one media;
//	                            member: conversation id padded to 19
//	                            digits, score: see Score
//	P:q:<q>:age           ZSET  every task of the queue, waiting or
//	                            offered; score: enqueued_at in ms
//	P:agents              SET   ids of synced agents
//	P:avail               SET   ids of available agents
//	P:a:<a>               HASH  presence, idle (idle_since ms), last
//	                            (last offer ms, 0 = never), cap:<media>,
//	                            asg:<media> (assigned conversations),
//	                            pend:<media> (pending offers),
//	                            s:<skill> (level; languages are skills)
//	P:a:<a>:queues        SET   queue ids the agent is a member of
//	P:a:<a>:offers        SET   the agent's pending offer ids
//	P:tasks               SET   conversation ids of every task
//	P:t:<c>               HASH  queue, media, prio, enq (ms), score, req
//	                            (JSON skill -> level, "" for none), state
//	                            (queued|offered), offer (pending offer id),
//	                            nexcl (size of the excl set)
//	P:t:<c>:excl          SET   agents excluded for the task (rejected or
//	                            missed it)
//	P:o:<id>              HASH  conv, agent, queue, media, state, created,
//	                            expires, ended (ms), reason; kept for an
//	                            hour after the offer ended, so a late
//	                            Accept gets ECONFLICT rather than ENOTFOUND
//	P:expiry              ZSET  pending offer ids by expires (ms)
//
// An agent's load on a media is asg + pend, and a slot is free while the
// load is below cap. Keeping assigned conversations and pending offers in
// separate counters makes Release (which only decrements asg, never below
// 0) unable to free a slot a pending offer holds.
//
// # Scripts
//
// KEYS[1] is the hash tag itself ("{parley}") and the scripts build every
// other key name from it. Passing each key in KEYS is impossible here:
// which agents, tasks and offers a dispatch touches is only known inside
// the script. Because all names carry the same hash tag they map to the
// slot KEYS[1] routes the call to, which Redis Cluster accepts from
// scripts without a "#!lua flags=" shebang (ours have none on purpose).
//
// lib.lua holds what the scripts share (cached reads, eligibility,
// ranking, make_offer, end_offer, dispatch, pull, cancel); router.go
// prepends it to each script, so every call is still one EVALSHA. ARGV:
// now (ms), scan depth, n, n fresh offer ids, then the script's own
// arguments. The reply is {code, message, offered, ended, more, extra},
// every number as a decimal string (Lua numbers are doubles; every value
// stored stays below 2^53).
//
//	enqueue.lua      add a task (unless queued or offered), dispatch its
//	                 queue, then offer the new task itself if it still waits
//	remove.lua       delete a task; cancel its pending offer; the agent pulls
//	presence.lua     set presence; available → pull; else cancel offers
//	accept.lua       CAS pending → accepted; pend → asg; delete the task
//	reject.lua       CAS pending → rejected; exclude; requeue; dispatch; pull
//	expire.lua       up to 100 due offers: CAS pending → timeout, as reject
//	release.lua      asg - 1 (floor 0); voice sets idle; the agent pulls
//	dispatch.lua     run work items: "q<id>" dispatch, "a<id>" pull,
//	                 "t<conv>" offer one task
//	syncqueue.lua    replace config and members (and members' queue sets)
//	syncagent.lua    replace capacity and skills
//	removequeue.lua  delete config and membership (tasks stay)
//	removeagent.lua  cancel its offers, delete it, dispatch the tasks
//	reconcile.lua    rebuild from a PostgreSQL snapshot, dispatch all
//	position.lua     read-only: a task's place among the waiting
//
// Offer ids come from Options.NewID in Go, so each script gets a pool of
// fresh ids. A script that uses up its pool stops dispatching and returns
// the unfinished work items in "more"; Router.run finishes them with
// dispatch.lua and a new pool. Each step is atomic and leaves a valid
// state, so another instance acting in between changes nothing.
//
// # Order and choice
//
// Waiting tasks are ordered by one exact score, (100 - priority) * 2^41 +
// (enqueued_ms - 2024-01-01), kept in the task hash so a task that goes
// back after a rejected, missed or canceled offer keeps its place. Equal
// scores order by conversation id (members are zero-padded ids).
//
// A dispatch of a queue walks each media's waiting tasks in order and
// offers each to its best eligible agent: available, a member, load below
// capacity on that media, not excluded, every required skill at or above
// its level. Voice goes to the longest idle agent (idle is set when the
// agent becomes available and when a voice slot frees by Release, reject
// or timeout; a cancel leaves it); chat and email go to the most spare
// capacity ratio, then the longest since the last offer ("last" is set
// when an offer is made), then the lowest id. A task nobody free can take
// is skipped; a dispatch stops after ScanDepth such tasks per media. A new
// task is also tried on its own, so ScanDepth unofferable tasks ahead of
// it never keep it from a free agent.
//
// An agent with a free slot pulls: among the ScanDepth head tasks of each
// (queue, media) it has a free slot for, it takes the first it is eligible
// for in the queue of highest priority, lowest score winning between
// queues of equal priority; it repeats while it has free slots. Pulls run
// when an agent becomes available, releases a slot, or is freed by a
// reject, timeout or cancel (after the task's queue has been dispatched,
// so the task goes to someone else first; exclusion keeps it from the
// agent who rejected or missed it).
//
// # Room for later issues
//
// Relaxation steps: queue steps in P:q:<q> and a ZSET of tasks by next
// step deadline, swept like P:expiry; eligible() reads the task's current
// step. Parallel offers: the task's offer field becomes a set and
// make_offer loops up to max_parallel; "rescinded" ends the others on
// accept. Aging: a per-queue score mode in enqueue. Sticky agents and miss
// streaks: fields in P:t:<c> and P:a:<a>, checked in dispatch and
// expire.lua.
package routing
