package e2e

import (
	"strings"
	"testing"
	"time"
)

// checkFaults exercises issue 4's node faults and chaos on a running 3-node lab.
func checkFaults(t *testing.T, l *lab) {
	nodeState := func(id int) string {
		t.Helper()
		var st statusJSON
		decodeJSON(t, l.must("status", "-o", "json").stdout, &st)
		for _, n := range st.Nodes {
			if n.ID == id {
				return n.State
			}
		}
		t.Fatalf("node %d not in status", id)
		return ""
	}
	var res struct {
		Node int `json:"node"`
	}
	decodeJSON(t, l.must("node", "kill", "controller", "-o", "json").stdout, &res)
	killed := res.Node
	if got := nodeState(killed); got != "stopped" {
		t.Errorf("after kill, node %d is %s", killed, got)
	}
	if r := l.kraftlab("status", "--check"); r.code == 0 {
		t.Errorf("status --check passed with node %d killed", killed)
	}
	// start waits until the node has rejoined, so the lab is healthy right after.
	l.must("node", "start", itoa(killed))
	l.status(t)

	l.must("node", "pause", "2")
	if got := nodeState(2); got != "paused" {
		t.Errorf("after pause, node 2 is %s", got)
	}
	// Chaos on a lab with a paused node says so up front.
	if r := l.kraftlab("chaos", "--count", "1"); r.code == 0 || !strings.Contains(r.stderr, "are paused") || !strings.Contains(r.stderr, "node resume") {
		t.Errorf("chaos with node 2 paused: %s", r)
	}
	l.must("node", "resume", "2")

	// With two of three voters killed the quorum has no leader, and kraftlab says
	// so instead of a raw protocol error.
	l.must("node", "kill", "1")
	l.must("node", "kill", "2")
	// A quorum leader learns that its voters are gone only when its check-quorum
	// timer (1.5 x controller.quorum.fetch.timeout.ms) runs out, so node 3, if it
	// led, still says it does for a few seconds: status is polled until it tells.
	deadline := time.Now().Add(30 * time.Second)
	for r := l.must("status"); !strings.Contains(r.stdout, "has no leader"); r = l.must("status") {
		if time.Now().After(deadline) {
			t.Fatalf("status 30 s after losing the quorum does not say so: %s", r.stdout)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := l.kraftlab("node", "kill", "controller"); r.code == 0 || !strings.Contains(r.stderr, "has no leader") || strings.Contains(r.stderr, "NOT_LEADER") {
		t.Errorf("node kill controller without a quorum: %s", r)
	}
	l.must("up")
	l.must("node", "restart", "leader:kraft-test/0")
	l.status(t)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"node", "explode", "1"}, `action "explode"`},
		{[]string{"node", "stop", "7"}, "node 7: no such node"},
		{[]string{"node", "stop", "leader:kraft-test"}, "leader:TOPIC/PARTITION"},
		{[]string{"node", "stop", "leader:missing/0"}, `"missing"`},
		{[]string{"chaos", "--faults", "melt"}, `--faults "melt"`},
	} {
		if r := l.kraftlab(tc.args...); r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("kraftlab %s: want an error containing %q, got %s", strings.Join(tc.args, " "), tc.want, r)
		}
	}

	type chaosJSON struct {
		Passed   bool `json:"passed"`
		Workload struct {
			Acked   int     `json:"acked"`
			MaxGapS float64 `json:"max_gap_s"`
		} `json:"workload"`
		Verification struct {
			Lost, Duplicated, Reordered, Corrupted int
		} `json:"verification"`
		Faults []struct {
			Fault     string  `json:"fault"`
			Node      int     `json:"node"`
			RecoveryS float64 `json:"recovery_s"`
		} `json:"faults"`
	}
	var chaos chaosJSON
	decodeJSON(t, l.must("chaos", "--duration", "60s", "--interval", "5s", "--target", "controller,leader", "--seed", "7", "-o", "json").stdout, &chaos)
	v := chaos.Verification
	if !chaos.Passed || chaos.Workload.Acked == 0 || v.Lost+v.Duplicated+v.Reordered+v.Corrupted != 0 || len(chaos.Faults) < 3 {
		t.Errorf("chaos: %+v", chaos)
	}
	t.Logf("chaos: %d acked, %d lost, max gap %.1fs, faults %+v", chaos.Workload.Acked, v.Lost, chaos.Workload.MaxGapS, chaos.Faults)

	var cut chaosJSON
	decodeJSON(t, l.must("chaos", "--nemesis", "all-kill", "--interval", "3s", "--topic", "power-cut", "-o", "json").stdout, &cut)
	if !cut.Passed || cut.Workload.Acked == 0 || cut.Verification.Lost != 0 {
		t.Errorf("all-kill: %+v", cut)
	}
	t.Logf("all-kill: %d acked, %d lost, recovery %+v", cut.Workload.Acked, cut.Verification.Lost, cut.Faults)
	l.status(t)
}
