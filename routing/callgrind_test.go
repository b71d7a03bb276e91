package routing

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/parleyhq/parley"
)

// BenchmarkCyclePhases runs the reservation cycle of BenchmarkDispatch in
// phases, b.N rounds over all 500 agents: every agent releases a chat
// slot and pulls (release), the offers are accepted (accept), 500 tasks
// arrive (arrival). It reports the mean wall time per call of each phase.
//
// With PARLEY_CALLGRIND_PID set to the pid of a redis-server running
// under `valgrind --tool=callgrind` (and PARLEY_TEST_REDIS_URL pointing at
// it), each phase is bracketed by `callgrind_control -z` and `-d`, so
// callgrind_annotate gives the instructions Redis spent on it: a figure
// that does not move with the machine's load (docs/benchmarks.md).
func BenchmarkCyclePhases(b *testing.B) {
	e, w := benchEnv(b, false)
	pid := os.Getenv("PARLEY_CALLGRIND_PID")
	mark := func(arg string) {
		if pid == "" {
			return
		}
		if out, err := exec.Command("callgrind_control", arg, pid).CombinedOutput(); err != nil {
			b.Fatalf("callgrind_control %s: %v\n%s", arg, err, out)
		}
	}
	rng := rand.New(rand.NewPCG(5, 6))
	var rel, acc, arr time.Duration
	var nrel, nacc, narr int
	b.ResetTimer()
	for range b.N {
		var offers []parley.Offer
		mark("-z")
		start := time.Now()
		for a := int64(1); a <= benchAgents; a++ {
			out, err := e.r.Release(e.ctx, a, parley.MediaChat)
			if err != nil {
				b.Fatal(err)
			}
			offers = append(offers, out.Offered...)
		}
		rel += time.Since(start)
		nrel += benchAgents
		mark("-d")
		mark("-z")
		start = time.Now()
		for _, o := range offers {
			if _, _, err := e.r.Accept(e.ctx, o.ID, o.AgentID); err != nil {
				b.Fatal(err)
			}
		}
		acc += time.Since(start)
		nacc += len(offers)
		mark("-d")
		mark("-z")
		start = time.Now()
		for range benchAgents {
			if _, err := e.r.Enqueue(e.ctx, randomBenchTask(rng, benchQueues, w.next.Add(1), e.clock.Now())); err != nil {
				b.Fatal(err)
			}
		}
		arr += time.Since(start)
		narr += benchAgents
		mark("-d")
	}
	b.StopTimer()
	b.ReportMetric(float64(rel.Microseconds())/float64(nrel), "release-µs")
	b.ReportMetric(float64(acc.Microseconds())/float64(max(nacc, 1)), "accept-µs")
	b.ReportMetric(float64(arr.Microseconds())/float64(narr), "arrival-µs")
}
