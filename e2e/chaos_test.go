package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// shortTimings are the KRaft timers of the chaos lab: a broker's session expires
// after 3 s instead of 9, so a killed node's successor registers, and its
// partitions move, in a third of the time. The faults and their handling are the
// same; only the waits are shorter, which keeps a 28-fault campaign within a few
// minutes.
var shortTimings = []string{"--set", "broker.session.timeout.ms=3000", "--set", "broker.heartbeat.interval.ms=500"}

// chaosReport is the part of 'chaos -o json' the tests read.
type chaosReport struct {
	Run      string `json:"run"`
	Outcome  string `json:"outcome"`
	Abort    string `json:"abort"`
	Passed   bool   `json:"passed"`
	Workload struct {
		Acked   int     `json:"acked"`
		MaxGapS float64 `json:"max_gap_s"`
	} `json:"workload"`
	Verification struct {
		Acked, Lost, Duplicated, Reordered, Corrupted int
	} `json:"verification"`
	Independent *struct {
		Acked, Read, Lost, Duplicated, Misplaced, Corrupted int
		OutOfOrder                                          int `json:"out_of_order"`
	} `json:"independent_check"`
	Faults []struct {
		Fault     string   `json:"fault"`
		Target    string   `json:"target"`
		Node      int      `json:"node"`
		RecoveryS float64  `json:"recovery_s"`
		GapS      float64  `json:"produce_gap_s"`
		Recovered bool     `json:"recovered"`
		Problems  []string `json:"fault_handling_problems"`
	} `json:"faults"`
	Summary []struct {
		By    string  `json:"by"`
		Name  string  `json:"name"`
		Count int     `json:"count"`
		P95S  float64 `json:"recovery_p95_s"`
	} `json:"summary"`
	HandlingProblems []string `json:"fault_handling_problems"`
	AckLog           string   `json:"ack_log"`
	AckLogRecords    int      `json:"ack_log_records"`
	ReportFile       string   `json:"report_file"`
}

// checkClean fails the test unless both checkers saw every acknowledged record
// exactly once and the campaign ran to its end.
func checkClean(t *testing.T, what string, r chaosReport) {
	t.Helper()
	v, c := r.Verification, r.Independent
	switch {
	case r.Outcome != "completed" || r.Abort != "":
		t.Errorf("%s: outcome %q, abort %q", what, r.Outcome, r.Abort)
	case !r.Passed || r.Workload.Acked == 0:
		t.Errorf("%s: passed %v with %d acknowledged", what, r.Passed, r.Workload.Acked)
	case v.Acked != r.Workload.Acked || v.Lost+v.Duplicated+v.Reordered+v.Corrupted != 0:
		t.Errorf("%s: kraftlab's check %+v of %d acknowledged", what, v, r.Workload.Acked)
	case c == nil || c.Acked != r.Workload.Acked || r.AckLogRecords != c.Acked:
		t.Errorf("%s: independent check %+v, ack log %d records, %d acknowledged", what, c, r.AckLogRecords, r.Workload.Acked)
	case c.Lost+c.Duplicated+c.OutOfOrder+c.Misplaced+c.Corrupted != 0 || c.Read < c.Acked:
		t.Errorf("%s: independent check %+v", what, *c)
	}
	for _, f := range r.Faults {
		if !f.Recovered {
			t.Errorf("%s: fault %+v not recovered", what, f)
		}
	}
	for _, p := range r.HandlingProblems {
		if strings.Contains(p, "in use") {
			t.Errorf("%s: a port was still in use: %s", what, p)
		}
		t.Logf("%s: fault-handling problem (retried): %s", what, p)
	}
}

// Issue 16 on one 3-node lab with short KRaft timings: a node killed and started
// again at once, 20 times, never finds its ports taken; a campaign of 25 faults of
// every kind and target, then 3 power cuts in a row, complete without an abort and
// with every acknowledged record found by both checkers and by this test's own
// reading of the ack log; and Ctrl-C in the middle of a fault brings every node
// back and prints the report so far.
func TestChaosCampaign(t *testing.T) {
	l := newLab(t, 3)
	began := time.Now()
	l.up(3, shortTimings...)

	t.Run("kill and start at once", func(t *testing.T) {
		start := time.Now()
		for i := 1; i <= 20; i++ {
			l.must("node", "kill", "3")
			// start checks the node's ports before it launches anything: a port the
			// killed JVM still held would fail it with "in use".
			if r := l.kraftlab("node", "start", "3"); r.code != 0 {
				t.Fatalf("start %d right after the kill: %s", i, r)
			}
		}
		t.Logf("20 kills and starts in %.0fs", time.Since(start).Seconds())
		l.status(t)
	})

	t.Run("campaign", func(t *testing.T) {
		start := time.Now()
		var rep chaosReport
		decodeJSON(t, l.must("chaos", "--count", "25", "--faults", "kill,pause,restart", "--target", "controller,leader,random",
			"--interval", "200ms", "--seed", "16", "-o", "json").stdout, &rep)
		checkClean(t, "25 faults", rep)
		// 25 faults are two full rounds of the 9 (fault, target) pairs and 7 more.
		pairs := map[string]int{}
		for _, f := range rep.Faults {
			pairs[f.Fault+" "+f.Target]++
		}
		for _, f := range []string{"kill", "pause", "restart"} {
			for _, tg := range []string{"controller", "leader", "random"} {
				if n := pairs[f+" "+tg]; n < 2 {
					t.Errorf("campaign of %d faults: %s %s %d times, want 2 or more", len(rep.Faults), f, tg, n)
				}
			}
		}
		if len(rep.Faults) != 25 || len(rep.Summary) != 6 {
			t.Errorf("%d faults, summary %+v", len(rep.Faults), rep.Summary)
		}
		recheckAckLog(t, l, rep)
		t.Logf("25 faults in %.0fs: %d acknowledged, longest produce gap %.1fs, summary %+v",
			time.Since(start).Seconds(), rep.Workload.Acked, rep.Workload.MaxGapS, rep.Summary)
	})

	t.Run("power cuts", func(t *testing.T) {
		start := time.Now()
		var rep chaosReport
		decodeJSON(t, l.must("chaos", "--nemesis", "all-kill", "--count", "3", "--interval", "200ms", "-o", "json").stdout, &rep)
		checkClean(t, "3 power cuts", rep)
		if len(rep.Faults) != 3 {
			t.Errorf("%d power cuts, want 3: %+v", len(rep.Faults), rep.Faults)
		}
		for _, f := range rep.Faults {
			if f.Fault != "all-kill" || f.Target != "all" || f.Node != 0 {
				t.Errorf("power cut recorded as %+v", f)
			}
		}
		t.Logf("3 power cuts in %.0fs: %d acknowledged, recoveries %+v", time.Since(start).Seconds(), rep.Workload.Acked, rep.Faults)
	})

	t.Run("interrupted", func(t *testing.T) { checkChaosInterrupt(t, l) })
	t.Logf("whole test: %.0fs", time.Since(began).Seconds())
}

// recheckAckLog reads the run's ack log with this test's own parser and finds
// every record it lists in the topic, at its partition and offset, with the
// value's CRC-32C: what any external tool can do with a run.
func recheckAckLog(t *testing.T, l *lab, rep chaosReport) {
	t.Helper()
	f, err := os.Open(rep.AckLog)
	if err != nil {
		t.Fatalf("ack log: %v", err)
	}
	defer f.Close()
	type place struct {
		p   int32
		off int64
	}
	want := map[place]uint32{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "#") {
			continue
		}
		var p int32
		var off, seq int64
		var crc uint32
		if _, err := fmt.Sscanf(sc.Text(), "%d %d %d %08x", &p, &off, &seq, &crc); err != nil {
			t.Fatalf("ack log line %q: %v", sc.Text(), err)
		}
		want[place{p, off}] = crc
	}
	if len(want) != rep.Workload.Acked {
		t.Fatalf("ack log lists %d places, %d records were acknowledged", len(want), rep.Workload.Acked)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(l.bootstrap(3)...), kgo.ConsumeTopics("chaos"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	castagnoli := crc32.MakeTable(crc32.Castagnoli)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for len(want) > 0 && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			crc, ok := want[place{r.Partition, r.Offset}]
			if !ok {
				return
			}
			if got := crc32.Checksum(r.Value, castagnoli); got != crc {
				t.Errorf("partition %d offset %d: crc32c %08x, ack log says %08x", r.Partition, r.Offset, got, crc)
			}
			delete(want, place{r.Partition, r.Offset})
		})
	}
	if len(want) > 0 {
		t.Errorf("%d acknowledged records not found where the ack log puts them", len(want))
	}
}

// checkChaosInterrupt sends Ctrl-C to a campaign while a node is paused: it must
// exit 130, print the report so far with both checks clean, and leave every node
// running, none paused.
func checkChaosInterrupt(t *testing.T, l *lab) {
	cmd := exec.Command(binary, "chaos", "--faults", "pause", "--target", "random", "--count", "6", "--interval", "1s", "--name", l.name)
	cmd.Env = append(os.Environ(), "KRAFTLAB_HOME="+l.home, "KRAFTLAB_CACHE="+cacheDir)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	deadline := time.Now().Add(2 * time.Minute)
wait:
	for {
		select {
		case err = <-exited:
			t.Fatalf("chaos ended before any node was seen paused (%v):\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no node was seen paused: %s", stderr.String())
		}
		var st statusJSON
		if r := l.kraftlab("status", "-o", "json"); r.code == 0 && json.Unmarshal([]byte(r.stdout), &st) == nil {
			for _, n := range st.Nodes {
				if n.State == "paused" {
					break wait
				}
			}
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err = <-exited
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("interrupted chaos: %v, want exit code 130\n%s", err, stderr.String())
	}
	for _, w := range []string{"interrupted while applying fault", "passed both checks"} {
		if !strings.Contains(stderr.String(), w) {
			t.Errorf("interrupted chaos does not say %q:\n%s", w, stderr.String())
		}
	}
	out := stdout.String()
	if !strings.Contains(out, "INTERRUPTED") || !strings.Contains(out, "independent check") || !strings.Contains(out, "0 lost") {
		t.Errorf("interrupted chaos printed no report so far:\n%s", out)
	}
	var st statusJSON
	decodeJSON(t, l.must("status", "-o", "json").stdout, &st)
	for _, n := range st.Nodes {
		if n.State != "running" {
			t.Errorf("after the interrupt node %d is %s", n.ID, n.State)
		}
	}
	run := strings.Fields(out)[2] // "Chaos run RUN on ..."
	var saved chaosReport
	data, err := os.ReadFile(l.dir() + "/chaos/" + run + "/report.json")
	if err != nil {
		t.Fatalf("saved report of run %s: %v", run, err)
	}
	decodeJSON(t, string(data), &saved)
	if saved.Outcome != "interrupted" || saved.Passed {
		t.Errorf("saved report: outcome %q, passed %v", saved.Outcome, saved.Passed)
	}
}
