// Package routing is Parley's Redis routing core: queues of waiting
// conversations (tasks), agents with skills, presence and per-media slots,
// and offers (reservations) of one task to one agent.
//
// Every state transition is one Lua function run atomically by Redis
// (FCALL of a function library; EVALSHA scripts on a Redis without
// functions, see router.go); Go never reads and then writes routing
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
//	P:qcfg                HASH  queue id -> config "prio|timeout_ms|par|
//	                            aging|prof|sticky_ms|wrap_ms|paused|steps",
//	                            steps "expire_ms:skip:req;..." (one HMGET
//	                            reads all of an agent's queues)
//	P:q:<q>:members       SET   agent ids
//	P:q:<q>:wk:<media>:<req> ZSET the waiting (not offered) tasks of one
//	                            requirement class (the effective
//	                            requirement "skill=level,..." sorted, of
//	                            the current step and Task.Require, so
//	                            eligibility is decided from the class
//	                            alone); score: see Score and AgingScore;
//	                            member "<score padded to 16><conv padded
//	                            to 19><x or ->" (x when the task has
//	                            exclusions), so members compare as the
//	                            tasks order
//	P:q:<q>:first:<media> ZSET  "<first member of a class>|<req>" for each
//	                            class, all scored 0 (so they sort as the
//	                            tasks do); a pull reads these of its
//	                            queues and looks into a class only when
//	                            its first task has exclusions
//	P:q:<q>:age           ZSET  every task of the queue, waiting or
//	                            offered; score: enqueued_at in ms
//	P:agents              SET   ids of synced agents
//	P:avail               SET   ids of available agents
//	P:free:<media>        SET   available agents with a free slot of the
//	                            media (voice-blocks-digital respected): a
//	                            dispatch's candidates are SINTER members
//	                            free, never every member
//	P:ag                  HASH  agent id -> record "presence|since|idle|
//	                            last|miss|ndirect|wseq|asg x3|pend x3|
//	                            wrap x3|vbd|cap x3|offers|skills" (media
//	                            voice, chat, email; offers the pending
//	                            offer ids, space separated; skills
//	                            "name=level,..."): one
//	                            HGET loads an agent, one HMGET all the
//	                            free members of a queue; asg = assigned,
//	                            pend = pending offers, wrap = in wrap-up,
//	                            last = last offer ms, idle = idle since ms,
//	                            miss = missed-offer streak, ndirect = size
//	                            of the direct set, vbd = voice blocks
//	                            digital
//	P:a:<a>:queues        SET   queue ids the agent is a member of
//	P:a:<a>:direct        ZSET  waiting direct transfers to the agent
//	                            (Task.TargetAgent); member "<conv padded>|
//	                            <media>|<queue>", score the task's
//	P:tasks               SET   conversation ids of every task
//	P:t:<c>               HASH  queue, media, prio, enq (ms), score, req,
//	                            pref, target, step, tm (1: its next step
//	                            change is in P:steps), state (queued|offered),
//	                            offers (pending offer ids, space separated),
//	                            nexcl, mem (where it waits: "<conv padded
//	                            to 19>|<x or ->|<req>" in a class, its
//	                            direct member for a direct transfer, ""
//	                            when offered)
//	P:t:<c>:excl          SET   agents excluded for the task (rejected or
//	                            missed it)
//	P:of:<id>             STRING "conv|agent|queue|media|state|created|
//	                            expires|ended|reason" (ms); kept for an
//	                            hour after the offer ended, so a late
//	                            Accept gets ECONFLICT rather than ENOTFOUND
//	P:expiry              ZSET  pending offer ids by expires (ms)
//	P:steps               ZSET  conversation ids by next step change (ms)
//	P:wrap                ZSET  "<agent>|<media>|<seq>" by wrap-up end (ms)
//	P:c:<conv>            STRING queue an accepted conversation came from
//	                            (30-day TTL; Transfer's wrap-up)
//
// An agent's load on a media is asg + pend + wrap, and a slot is free
// while the load is below cap. Separate counters make Release (which only
// decrements asg, never below 0) unable to free a slot a pending offer or
// a wrap-up holds.
//
// # Scripts
//
// KEYS[1] is the hash tag itself ("{parley}") and the scripts build every
// other key name from it. Passing each key in KEYS is impossible here:
// which agents, tasks and offers a dispatch touches is only known inside
// the script. Because all names carry the same hash tag they map to the
// slot KEYS[1] routes the call to, the one slot every key of a call lives
// in.
//
// lib.lua holds what the scripts share (cached reads, eligibility,
// ranking, steps, make_offer, end_offer, dispatch, pull, cancel, misses,
// release); router.go loads it and every script body as one function
// library (each body a function that starts with begin(KEYS, ARGV)), so
// every call is one FCALL. ARGV: now (ms), scan depth, miss limit, n (the
// most offers the call may make), a fresh offer id base, then the
// script's own arguments. The reply is {code, message, body}, the body
// one string of lines: the counts of offered, ended, more, extra and
// away, then their fields (see lib.lua); numbers travel as decimal
// strings (Lua numbers are doubles; every value stored stays below 2^53).
//
//	enqueue.lua      add a task (unless queued or offered) and offer it
//	                 (work-conserving: nothing else can have changed)
//	transfer.lua     release an assigned slot (wrap-up of the queue it came
//	                 from), add the task to the new queue, dispatch, pull
//	remove.lua       delete a task; cancel its pending offers; agents pull
//	presence.lua     set presence; available → miss streak 0 and pull; else
//	                 cancel offers
//	accept.lua       CAS pending → accepted; pend → asg; miss 0; rescind the
//	                 task's other offers; delete the task
//	reject.lua       CAS pending → rejected; exclude; requeue when no offer
//	                 of the task is left; dispatch; pull
//	expire.lua       due offers (CAS pending → timeout: as reject, plus a
//	                 miss), wrap-up ends, step changes; 100 of each a call
//	release.lua      asg - 1 (floor 0), into wrap-up or free; the agent pulls
//	dispatch.lua     run work items: "q<id>" dispatch, "a<id>" pull,
//	                 "t<conv>" offer one task
//	syncqueue.lua    replace config and members (and members' queue sets);
//	                 re-score and re-encode tasks when steps or aging change
//	syncagent.lua    replace capacity, voice-blocks-digital and skills
//	removequeue.lua  delete config and membership (tasks stay)
//	removeagent.lua  cancel its offers, turn direct transfers to it into
//	                 ordinary tasks, delete it, dispatch the tasks
//	reconcile.lua    rebuild from a PostgreSQL snapshot, dispatch all
//	position.lua     read-only: a task's place among the waiting
//	staffed.lua      read-only: available members and their free slots
//
// Offer ids are <base>-<i>, the base from Options.NewID in Go. A script
// that has made its n offers stops dispatching and returns the
// unfinished work items in "more"; Router.run finishes them with
// dispatch.lua and a new base. Each step is atomic and leaves a valid
// state, so another instance acting in between changes nothing.
//
// Cost model (measured with callgrind on redis-server, instructions per
// call): a redis.call costs about 10,000 to 15,000 instructions whatever
// it does; a Lua number passed as its argument is formatted with
// printf("%.17g") and a score read back parsed with strtod (each about as
// dear as a small call), so arguments are strings and scores are never
// read; each element of the script's reply costs about 1,600 and each
// table in it 4,000 more, so the reply is one string; decoding an agent
// record costs about 15,000; a Lua pattern that is not anchored can cost
// hundreds of thousands. Hence the class sets and
// their first-member lists (no scan past tasks nobody free can take, no
// class read for a pull), the free sets, the agent records in one hash
// (the free members of a queue in one HMGET, decoded only when their
// skills qualify; changes written once per call), and one HMGET for all
// of an agent's queue configs.
//
// # Order
//
// Waiting tasks are ordered by one exact score kept in the task hash, so
// a task that goes back after a rejected, missed or canceled offer keeps
// its place. Strict (default): (100 - priority) * 2^41 + ms since
// 2024-01-01, below 101 * 2^41 < 2^53. Aging (QueueSpec.Aging): (100 -
// priority) * 60000 + ms since 2024-01-01, i.e. enqueued_ms - priority *
// 60 s shifted to stay positive, below 2^41 + 6e6. Equal scores order by
// conversation id (members start with the padded id).
//
// # Eligibility and choice
//
// An agent is eligible for a task when it is available, a member of the
// queue, has a free slot of the media (pending offers, assigned
// conversations and wrap-ups count; with VoiceBlocksDigital no chat or
// email while any voice slot is in use), is not excluded (it rejected or
// missed the task) and has every skill of the effective requirement at
// or above its level: the current step's Require merged with
// Task.Require (the higher level per skill). A direct transfer
// (Task.TargetAgent) is eligible to its target alone, whatever its
// membership and skills.
//
// Among eligible agents: the preferred agent (Task.PreferredAgent) alone
// while now - enqueued < StickyWindow; else, with ProficiencyFirst, the
// higher sum of levels in the effective requirement's skills first; then
// voice → longest idle (idle is set when the agent becomes available and
// when a voice slot frees by Release, the end of a wrap-up, reject or
// timeout; a cancel or rescind leaves it); chat and email → most spare
// capacity ratio, then the longest since the last offer, then the lowest
// id. With MaxParallelOffers N the N best get an offer each; the first
// Accept wins and the others are rescinded (reason "accepted_elsewhere";
// no exclusion, no miss; their agents pull). A task is offered while any
// of its offers is pending and goes back at its score when the last one
// is rejected, timed out or canceled (lost offers are not topped up).
//
// A dispatch of a queue walks each media's waiting tasks in order and
// offers each to its chosen eligible agents; tasks no free member can
// take are passed over without being read, because the walk goes
// through the requirement classes (see the keys): for each class some
// free member qualifies for it takes the class's first task, offers the
// lowest of these heads, and repeats until no free member or no head is
// left. Within a class it skips at most ScanDepth tasks whose qualified
// free members are all excluded (they rejected or missed it). Paused
// queues dispatch nothing (direct transfers excepted).
//
// The router is work-conserving: after every call no available agent
// with a free slot is eligible for a waiting task of an unpaused queue it
// belongs to (the differential test checks this after every operation).
// So an arrival offers just the new task, and a freed agent just pulls.
//
// An agent with a free slot pulls (a pull makes one offer per task):
// first its direct transfers, then, in each (queue, media) it has a free
// slot for, the first task of each class it qualifies for (at most
// ScanDepth tasks that exclude it skipped per class); the lowest such
// task in the queue of highest priority wins, lowest score winning
// between queues of equal priority; it repeats while it has free slots.
// Pulls run when an agent becomes available, releases a slot, ends a
// wrap-up, or is freed by a reject, timeout, cancel or rescind (after
// the task's queue has been dispatched, so the task goes to someone else
// first).
//
// # Steps
//
// A task's current step is the first whose expiry (enqueued +
// ExpireAfter) is still ahead, skipping steps with SkipIfNoAgents when no
// logged-in (presence not offline) member has their skills (step ∪
// Task.Require); it is evaluated at enqueue and at each step change,
// starting from the current step (steps only widen). After the last step
// expired any member may take the task (Step reports len(steps)). The
// next change is a timer in P:steps fired by ExpireDue, which re-encodes
// a waiting task and dispatches its queue at once; an offered task keeps
// its offers. A better-matching agent who frees up during step 0 gets the
// task at once through its pull.
//
// # Misses, wrap-up, transfers
//
// A timeout grows the agent's miss streak; at Options.MissLimit (default
// 3) the agent is set away, its other pending offers canceled and their
// tasks re-offered, and Outcome.Away says so (reason "missed_offers").
// Rejects and cancels (logout, away, removal) are not misses; Accept and
// the agent setting itself available reset the streak. ReleaseAfter
// keeps the slot as wrap-up until its timer; Transfer releases with the
// wrap-up of the queue the conversation was accepted from and enqueues it
// in the new queue with the transferring agent excluded. A direct
// transfer that is rejected or missed drops its target and becomes an
// ordinary task of its queue.
package routing
