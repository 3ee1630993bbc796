package cluster

// This file owns deliberate node faults: stop, start, restart, kill, pause and
// resume one node, picked by id, as the current quorum leader, or as the leader of
// a partition.

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kraftlab/kraftlab/cluster/step"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// NodeActions are the faults 'kraftlab node' can apply.
var NodeActions = []string{"stop", "start", "restart", "kill", "pause", "resume"}

// NodeOptions is one 'kraftlab node ACTION TARGET'.
type NodeOptions struct {
	Home, Name string
	Action     string
	Target     string        // node id, "controller", or "leader:TOPIC/PARTITION"
	Timeout    time.Duration // stop: SIGTERM grace before SIGKILL
	Wait       time.Duration // start/restart: how long to wait for the node to rejoin
	Progress   io.Writer
}

// NodeResult says what was done to which node.
type NodeResult struct {
	Action string `json:"action"`
	Node   int    `json:"node"`
	PID    int    `json:"pid,omitempty"`
}

// NodeOp applies one action to one node of a lab.
func NodeOp(ctx context.Context, o NodeOptions) (*NodeResult, error) {
	if !slices.Contains(NodeActions, o.Action) {
		return nil, usage.Errorf("action %q: want one of %s", o.Action, strings.Join(NodeActions, ", "))
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	lab, err := OpenLab(o.Home, o.Name)
	if err != nil {
		return nil, err
	}
	id, err := lab.ResolveTarget(ctx, o.Target)
	if err != nil {
		return nil, err
	}
	res := &NodeResult{Action: o.Action, Node: id}
	switch o.Action {
	case "start":
		return res, lab.startOne(ctx, o, id)
	case "restart":
		if err := lab.signalOne(ctx, id, "stop", o.Timeout); err != nil {
			return nil, err
		}
		return res, lab.startOne(ctx, o, id)
	default:
		return res, lab.signalOne(ctx, id, o.Action, o.Timeout)
	}
}

// startOne starts a stopped node through the same path as 'up' and waits until it
// has rejoined: its voter caught up with the quorum, its broker registered.
func (l *Lab) startOne(ctx context.Context, o NodeOptions, id int) error {
	n, _ := l.State.Node(id)
	if l.Paths.NodeAlive(*n) {
		return fmt.Errorf("node %d is already running (pid %d)", id, n.PID)
	}
	_, err := Up(ctx, UpOptions{Home: o.Home, Name: o.Name, Only: []int{id}, Wait: o.Wait, Progress: o.Progress})
	return err
}

// signalOne stops, kills, pauses or resumes node id while holding the lab's lock.
func (l *Lab) signalOne(ctx context.Context, id int, action string, timeout time.Duration) error {
	lock, s, err := lockState(l.Paths)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	n, _ := s.Node(id)
	if !l.Paths.NodeAlive(*n) {
		return fmt.Errorf("node %d is not running; 'kraftlab node start %d' starts it", id, id)
	}
	switch action {
	case "stop":
		err = l.Paths.stopNode(ctx, *n, timeout)
	case "kill":
		err = l.Paths.killNode(ctx, *n)
	case "pause":
		err = l.Paths.signalAndWait(ctx, *n, syscall.SIGSTOP, true)
	case "resume":
		err = l.Paths.signalAndWait(ctx, *n, syscall.SIGCONT, false)
	}
	if err != nil {
		return fmt.Errorf("%s node %d: %w", action, id, err)
	}
	if action == "stop" || action == "kill" {
		n.PID, n.StartTime = 0, 0
		return SaveState(l.Paths, s)
	}
	return nil
}

// ResolveTarget turns a node id, "controller" (the KRaft quorum leader) or
// "leader:TOPIC/PARTITION" into a node id of this lab.
func (l *Lab) ResolveTarget(ctx context.Context, target string) (int, error) {
	switch {
	case target == "controller":
		return l.quorumLeader(ctx)
	case strings.HasPrefix(target, "leader:"):
		return l.partitionLeader(ctx, strings.TrimPrefix(target, "leader:"))
	}
	id, err := strconv.Atoi(target)
	if err != nil {
		return 0, usage.Errorf("target %q: want a node id, 'controller' or 'leader:TOPIC/PARTITION'", target)
	}
	if _, ok := l.State.Node(id); !ok {
		return 0, usage.Errorf("node %d: no such node in lab %q (nodes %s)", id, l.State.Name, l.nodeIDList())
	}
	return id, nil
}

func (l *Lab) quorumLeader(ctx context.Context) (int, error) {
	var addrs []string
	for _, n := range l.State.Nodes {
		if n.IsController() && l.Paths.NodeAlive(n) {
			addrs = append(addrs, n.ControllerAddr())
		}
	}
	if len(addrs) == 0 {
		return 0, fmt.Errorf("lab %q has no controller running; 'kraftlab up' starts its nodes", l.State.Name)
	}
	ac, err := newAddrClients(addrs)
	if err != nil {
		return 0, err
	}
	defer ac.Close()
	q, err := ac.describeQuorum(ctx)
	if err != nil {
		return 0, fmt.Errorf("find the quorum leader: %w", err)
	}
	if q.LeaderID < 0 {
		return 0, fmt.Errorf("the quorum of lab %q has no leader right now", l.State.Name)
	}
	return int(q.LeaderID), nil
}

func (l *Lab) partitionLeader(ctx context.Context, spec string) (int, error) {
	slash := strings.LastIndexByte(spec, '/')
	part, err := strconv.Atoi(spec[slash+1:])
	if slash <= 0 || err != nil || part < 0 {
		return 0, usage.Errorf("target leader:%s: want leader:TOPIC/PARTITION, e.g. leader:kraft-test/0", spec)
	}
	topic := spec[:slash]
	var seeds []string
	for _, n := range l.State.Nodes {
		if n.IsBroker() && l.Paths.NodeAlive(n) {
			seeds = append(seeds, n.BrokerAddr())
		}
	}
	if len(seeds) == 0 {
		return 0, fmt.Errorf("lab %q has no broker running; 'kraftlab up' starts its nodes", l.State.Name)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DialTimeout(2*time.Second))
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
		return 0, fmt.Errorf("topic %q: not found in lab %q", topic, l.State.Name)
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

// signalAndWait sends SIGSTOP or SIGCONT and returns once /proc shows the process
// paused (or running again): the kernel applies the signal asynchronously, and a
// 'status' right after 'node pause' must already say paused.
func (p Paths) signalAndWait(ctx context.Context, n NodeState, sig syscall.Signal, paused bool) error {
	if err := syscall.Kill(n.PID, sig); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return step.Poll(wctx, fmt.Sprintf("node %d to be %s", n.ID, map[bool]string{true: "paused", false: "running"}[paused]), 10*time.Millisecond,
		func(context.Context) (bool, string, error) { return p.NodePaused(n) == paused, "", nil })
}
