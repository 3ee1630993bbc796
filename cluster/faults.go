package cluster

// This file owns deliberate node faults: stop, start, restart, kill, pause and
// resume one node, picked by id, as the current quorum leader, or as the leader of
// a partition — each one operation under the lab's lock.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/kraftlab/kraftlab/cluster/internal/ports"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// Node actions.
const (
	ActionStop    = "stop"
	ActionStart   = "start"
	ActionRestart = "restart"
	ActionKill    = "kill"
	ActionPause   = "pause"
	ActionResume  = "resume"
)

// NodeActions are the faults 'kraftlab node' can apply.
var NodeActions = []string{ActionStop, ActionStart, ActionRestart, ActionKill, ActionPause, ActionResume}

// NodeOptions is one 'kraftlab node ACTION TARGET'.
type NodeOptions struct {
	Action  string
	Target  string        // node id, "controller", or "leader:TOPIC/PARTITION"
	Timeout time.Duration // stop/restart: SIGTERM grace before SIGKILL; 0 = 30s
	Wait    time.Duration // start/restart: how long the node may take to rejoin; 0 = DefaultWait
}

// NodeResult says what was done to which node.
type NodeResult struct {
	Action string `json:"action"`
	Node   int    `json:"node"`
	PID    int    `json:"pid,omitempty"`
	Killed bool   `json:"killed,omitempty"` // stop needed SIGKILL after the timeout
}

// NodeOp applies one action to one node of the lab. start and restart return once
// the node has rejoined: its voter caught up with the quorum, its broker
// registered; pause and resume once the OS shows the new state.
func (l *Lab) NodeOp(ctx context.Context, o NodeOptions) (*NodeResult, error) {
	if !slices.Contains(NodeActions, o.Action) {
		return nil, usage.Errorf("action %q: want one of %s", o.Action, strings.Join(NodeActions, ", "))
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	op, err := l.begin()
	if err != nil {
		return nil, err
	}
	defer op.end()
	id, err := op.resolveTarget(ctx, o.Target)
	if err != nil {
		return nil, err
	}
	res := &NodeResult{Action: o.Action, Node: id}
	n, _ := op.node(id)
	switch o.Action {
	case ActionStart:
		if op.alive(n) {
			return nil, fmt.Errorf("node %d is already running (pid %d)", id, n.rec.PID)
		}
		if _, err = op.startNodes(ctx, []int{id}, UpOptions{Wait: o.Wait}); err == nil && n.IsBroker() {
			op.balanceLeaders(ctx)
		}
	case ActionRestart:
		if res.Killed, err = op.signal(ctx, n, ActionStop, o.Timeout); err == nil {
			if _, err = op.startNodes(ctx, []int{id}, UpOptions{Wait: o.Wait}); err == nil && n.IsBroker() {
				op.balanceLeaders(ctx)
			}
		}
	default:
		res.Killed, err = op.signal(ctx, n, o.Action, o.Timeout)
	}
	if err != nil {
		return nil, err
	}
	if n, ok := op.node(id); ok && op.alive(n) {
		res.PID = n.rec.PID
	}
	return res, nil
}

// signal stops, kills, pauses or resumes node n. After stop and kill it returns
// only once the process is gone and its ports are free, so starting the node again
// right after never finds them taken.
func (o *op) signal(ctx context.Context, n node, action string, timeout time.Duration) (killed bool, err error) {
	if !o.alive(n) {
		return false, fmt.Errorf("node %d is not running; 'kraftlab node start %d' starts it", n.ID, n.ID)
	}
	switch action {
	case ActionStop:
		killed, err = o.stopNode(ctx, n, timeout)
	case ActionKill:
		err = o.killNode(ctx, n)
	case ActionPause:
		err = o.signalAndWait(ctx, n, syscall.SIGSTOP, true)
	case ActionResume:
		err = o.signalAndWait(ctx, n, syscall.SIGCONT, false)
	}
	if err != nil {
		return killed, fmt.Errorf("%s node %d: %w", action, n.ID, err)
	}
	if action == ActionStop || action == ActionKill {
		n.rec.PID, n.rec.StartTime = 0, 0
		if err := o.save(); err != nil {
			return killed, err
		}
		return killed, o.waitPortsFree(ctx, n)
	}
	return killed, nil
}

// waitPortsFree waits until nothing listens on node n's ports: a JVM killed with
// SIGKILL can hold its sockets a moment after the OS reports it gone.
func (l *Lab) waitPortsFree(ctx context.Context, n node) error {
	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return step.Poll(wctx, fmt.Sprintf("node %d's ports to be free", n.ID), pollInterval, func(context.Context) (bool, string, error) {
		for _, p := range []int{n.BrokerPort, n.ControllerPort} {
			if p != 0 && !ports.Free(n.Host, p) {
				return false, fmt.Sprintf("port %d still taken", p), nil
			}
		}
		return true, "", nil
	})
}

// ResolveTarget turns a node id, "controller" (the KRaft quorum leader) or
// "leader:TOPIC/PARTITION" into a node id of this lab.
func (l *Lab) ResolveTarget(ctx context.Context, target string) (int, error) {
	if err := l.requireExists(); err != nil {
		return 0, err
	}
	return l.resolveTarget(ctx, target)
}

func (l *Lab) resolveTarget(ctx context.Context, target string) (int, error) {
	switch {
	case target == "controller":
		q, err := l.quorumState(ctx)
		if err != nil {
			return 0, fmt.Errorf("find the quorum leader: %w", err)
		}
		return int(q.LeaderID), nil
	case strings.HasPrefix(target, "leader:"):
		return l.partitionLeader(ctx, strings.TrimPrefix(target, "leader:"))
	}
	id, err := strconv.Atoi(target)
	if err != nil {
		return 0, usage.Errorf("target %q: want a node id, 'controller' or 'leader:TOPIC/PARTITION'", target)
	}
	if _, ok := l.node(id); !ok {
		return 0, usage.Errorf("node %d: no such node in lab %q (nodes %s)", id, l.Name(), l.nodeIDList())
	}
	return id, nil
}

func (l *Lab) nodeIDList() string {
	var ids []string
	for _, n := range l.nodes() {
		ids = append(ids, strconv.Itoa(n.ID))
	}
	return strings.Join(ids, ", ")
}

func (l *Lab) partitionLeader(ctx context.Context, spec string) (int, error) {
	slash := strings.LastIndexByte(spec, '/')
	part, err := strconv.Atoi(spec[slash+1:])
	if slash <= 0 || err != nil || part < 0 {
		return 0, usage.Errorf("target leader:%s: want leader:TOPIC/PARTITION, e.g. leader:kraft-test/0", spec)
	}
	topic := spec[:slash]
	var seeds []string
	for _, n := range l.nodes() {
		if n.IsBroker() && l.alive(n) && !l.paused(n) {
			seeds = append(seeds, n.BrokerAddr())
		}
	}
	if len(seeds) == 0 {
		return 0, fmt.Errorf("lab %q has no broker running; 'kraftlab up' starts its nodes", l.Name())
	}
	cl, err := l.client()
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	mctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).Metadata(mctx, topic)
	if err != nil {
		return 0, fmt.Errorf("find the leader of %s/%d: %w", topic, part, err)
	}
	td, ok := md.Topics[topic]
	if !ok || td.Err != nil {
		return 0, fmt.Errorf("topic %q: not found in lab %q", topic, l.Name())
	}
	p, ok := td.Partitions[int32(part)]
	if !ok {
		return 0, fmt.Errorf("topic %q has no partition %d (it has %d)", topic, part, len(td.Partitions))
	}
	if p.Leader < 0 {
		return 0, fmt.Errorf("%s/%d has no leader right now", topic, part)
	}
	return int(p.Leader), nil
}

// signalAndWait sends SIGSTOP or SIGCONT and returns once the OS shows the process
// paused (or running again): the kernel applies the signal asynchronously, and a
// 'status' right after 'node pause' must already say paused.
func (l *Lab) signalAndWait(ctx context.Context, n node, sig syscall.Signal, paused bool) error {
	if err := syscall.Kill(n.rec.PID, sig); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	want := map[bool]string{true: "paused", false: "running"}[paused]
	return step.Poll(wctx, fmt.Sprintf("node %d to be %s", n.ID, want), 10*time.Millisecond,
		func(context.Context) (bool, string, error) { return l.paused(n) == paused, "", nil })
}

// KillAll SIGKILLs every running node at once — the power cut — and returns once
// every process is gone and its ports are free.
func (l *Lab) KillAll(ctx context.Context) ([]int, error) {
	op, err := l.begin()
	if err != nil {
		return nil, err
	}
	defer op.end()
	var killed []int
	var running []node
	for _, n := range op.nodes() {
		if op.alive(n) {
			running = append(running, n)
			killed = append(killed, n.ID)
		}
	}
	err = eachNode(running, func(n node) error {
		if err := op.killNode(ctx, n); err != nil {
			return err
		}
		return op.waitPortsFree(ctx, n)
	})
	for _, n := range op.nodes() {
		if !op.alive(n) {
			n.rec.PID, n.rec.StartTime = 0, 0
		}
	}
	return killed, errors.Join(err, op.save())
}
