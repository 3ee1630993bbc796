package kafkatest

// This file owns the fault helpers: one node of the lab killed, stopped, started,
// restarted, paused or resumed, and the nodes worth picking (a partition's leader,
// the quorum's), through the lab handle's own node operations.

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
)

// Kill SIGKILLs node id and returns once its process is gone and its ports are
// free: a crash, with no controlled shutdown.
func (l *Lab) Kill(t testing.TB, id int) {
	t.Helper()
	l.nodeOp(t, cluster.ActionKill, id)
}

// Stop shuts node id down cleanly (SIGTERM: a broker hands its partitions over
// first) and returns once it is gone.
func (l *Lab) Stop(t testing.TB, id int) {
	t.Helper()
	l.nodeOp(t, cluster.ActionStop, id)
}

// Start starts node id again after Kill or Stop, and returns once it has rejoined:
// its controller caught up with the quorum, its broker registered.
func (l *Lab) Start(t testing.TB, id int) {
	t.Helper()
	l.nodeOp(t, cluster.ActionStart, id)
}

// Restart stops node id cleanly and starts it again, returning once it has rejoined.
func (l *Lab) Restart(t testing.TB, id int) {
	t.Helper()
	l.nodeOp(t, cluster.ActionRestart, id)
}

// Pause freezes node id (SIGSTOP): it holds its connections and answers nothing,
// as a node in a long GC pause or behind a partition does, until Resume.
func (l *Lab) Pause(t testing.TB, id int) {
	t.Helper()
	l.nodeOp(t, cluster.ActionPause, id)
}

// Resume lets a paused node run again (SIGCONT).
func (l *Lab) Resume(t testing.TB, id int) {
	t.Helper()
	l.nodeOp(t, cluster.ActionResume, id)
}

func (l *Lab) nodeOp(t testing.TB, action string, id int) {
	t.Helper()
	err := l.do(t, func(ctx context.Context) error {
		_, err := l.lab.NodeOp(ctx, cluster.NodeOptions{Action: action, Target: strconv.Itoa(id), Wait: l.wait})
		return err
	})
	if err != nil {
		t.Fatalf("kafkatest: lab %s: %s node %d: %v", l.name, action, id, err)
	}
}

// leaderWait bounds how long Leader and QuorumLeader wait for an election.
const leaderWait = 30 * time.Second

// Leader returns the node that leads the partition, waiting while it has none
// (an election after a fault, a topic just created).
func (l *Lab) Leader(t testing.TB, topic string, partition int32) int {
	t.Helper()
	return l.resolve(t, fmt.Sprintf("leader:%s/%d", topic, partition), fmt.Sprintf("the leader of %s/%d", topic, partition))
}

// QuorumLeader returns the node that leads the KRaft quorum (the active
// controller), waiting while an election is under way.
func (l *Lab) QuorumLeader(t testing.TB) int {
	t.Helper()
	return l.resolve(t, "controller", "the quorum leader")
}

func (l *Lab) resolve(t testing.TB, target, what string) int {
	t.Helper()
	var id int
	err := l.do(t, func(ctx context.Context) error {
		wctx, cancel := context.WithTimeout(ctx, leaderWait)
		defer cancel()
		return step.Poll(wctx, what, 100*time.Millisecond, func(ctx context.Context) (bool, string, error) {
			n, err := l.lab.ResolveTarget(ctx, target)
			id = n
			return err == nil && n >= 0, "", err
		})
	})
	if err != nil {
		t.Fatalf("kafkatest: lab %s: find %s: %v", l.name, what, err)
	}
	return id
}

// do runs one operation on the lab, with its progress logged to t and following
// t's context.
func (l *Lab) do(t testing.TB, fn func(context.Context) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return fmt.Errorf("the lab was removed when the test that started it ended")
	}
	l.log.attach(t)
	defer l.log.detach()
	return fn(t.Context())
}
