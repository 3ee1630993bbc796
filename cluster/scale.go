package cluster

// This file owns growing and shrinking a running lab: adding a node (a broker, or a
// controller for quorum.go) through the same steps as 'up', and 'broker remove'.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/step"
)

// ScaleOptions is one 'kraftlab controller|broker add' or '... remove ID'.
type ScaleOptions struct {
	Home, Name string
	ID         int           // remove: the node to remove
	Force      bool          // broker remove: even while it hosts partition replicas
	Wait       time.Duration // how long the change may take; 0 = DefaultWait
	Timeout    time.Duration // remove: SIGTERM grace before SIGKILL; 0 = 30s
	Progress   io.Writer
}

// BrokerResult is the lab's brokers after 'broker add' or 'broker remove'.
type BrokerResult struct {
	Action    string        `json:"action"` // add or remove
	Node      int           `json:"node"`
	Bootstrap []string      `json:"bootstrap_servers"`
	Timings   []step.Timing `json:"timings"`
}

// AddBroker starts one more broker-only node in a running lab (combined or
// isolated, static or dynamic quorum) and returns once it is registered and
// serving. On failure the node is stopped and dropped from the lab again.
func AddBroker(ctx context.Context, o ScaleOptions) (*BrokerResult, error) {
	lab, err := OpenLab(o.Home, o.Name)
	if err != nil {
		return nil, err
	}
	if err := lab.RequireRunning(); err != nil {
		return nil, err
	}
	res, added, err := addNode(ctx, lab, o, "broker")
	if err != nil {
		return nil, err
	}
	return &BrokerResult{Action: "add", Node: added, Bootstrap: res.State.BootstrapServers(), Timings: res.Timings}, nil
}

// addNode plans one more node with the one role into a running lab and runs up's
// steps for it (runtime, render, format, start, wait); it returns the new node's id.
func addNode(ctx context.Context, lab *Lab, o ScaleOptions, role string) (*UpResult, int, error) {
	uo := UpOptions{Home: o.Home, Name: o.Name, Wait: o.Wait, Progress: o.Progress}
	uo.Normalize()
	r := &upRun{o: uo, paths: lab.Paths, steps: step.Steps{W: uo.Progress}}
	if err := r.planExisting(lab.State); err != nil {
		return nil, 0, err
	}
	r.planAdded(role)
	res, err := r.run(ctx)
	return res, r.added, err
}

// planAdded appends a node with the one role to the lab: the next id, and the
// port after the highest one the lab uses for that role.
func (r *upRun) planAdded(role string) {
	n := NodeState{ID: r.state.nextID(), Roles: []string{role}}
	for _, o := range r.state.Nodes {
		n.Host = o.Host
		if role == "controller" && o.IsController() {
			n.ControllerPort = max(n.ControllerPort, o.ControllerPort+1)
		}
		if role == "broker" && o.IsBroker() {
			n.BrokerPort = max(n.BrokerPort, o.BrokerPort+1)
		}
	}
	r.state.Nodes = append(r.state.Nodes, n)
	r.added = n.ID
}

// prepareAdded writes the new node's properties (and re-renders the others, whose
// voters or bootstrap servers and replication defaults may now differ, effective
// at their next start) and formats its storage to join the running cluster: on a
// dynamic quorum with --no-initial-controllers, since it is not an initial voter.
// A controller's directory id is recorded for AddRaftVoter.
func (r *upRun) prepareAdded(ctx context.Context) error {
	if err := writeNodeFiles(r.paths, r.state, r.state.Nodes); err != nil {
		return err
	}
	n, _ := r.state.Node(r.added)
	var quorumArgs []string
	if r.state.Dynamic() {
		quorumArgs = noInitialControllers
	}
	args := formatCommand(r.rt, r.paths, r.state.ClusterID, n.ID, quorumArgs)
	if err := dist.Run(ctx, args...); err != nil {
		return fmt.Errorf("format storage for node %d: %w", n.ID, err)
	}
	if n.IsController() {
		dirID, err := readDirectoryID(r.paths.MetaProperties(n.ID))
		if err != nil {
			return fmt.Errorf("node %d: %w", n.ID, err)
		}
		n.DirectoryID = dirID
	}
	return SaveState(r.paths, r.state)
}

// dropAdded removes a node this run added (and stopped) from the lab again.
func (r *upRun) dropAdded(cause error) error {
	id := r.added
	r.state.Nodes = slices.DeleteFunc(r.state.Nodes, func(n NodeState) bool { return n.ID == id })
	errs := []error{writeNodeFiles(r.paths, r.state, r.state.Nodes), SaveState(r.paths, r.state), os.RemoveAll(r.paths.NodeDir(id))}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w\nwhile dropping node %d again: %v", cause, id, err)
	}
	return fmt.Errorf("%w\n(node %d was stopped and removed from the lab again)", cause, id)
}

// RemoveBroker stops broker-only node o.ID, unregisters it from the cluster
// metadata (UnregisterBroker) and drops it from the lab. While it still hosts
// partition replicas that is refused unless o.Force: those partitions would lose a
// replica for good.
func RemoveBroker(ctx context.Context, o ScaleOptions) (*BrokerResult, error) {
	if o.Wait == 0 {
		o.Wait = DefaultWait
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	lab, err := OpenLab(o.Home, o.Name)
	if err != nil {
		return nil, err
	}
	lock, s, err := lockState(lab.Paths)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	n, ok := s.Node(o.ID)
	switch {
	case !ok:
		return nil, fmt.Errorf("node %d: no such node in lab %q", o.ID, s.Name)
	case !n.IsBroker():
		return nil, fmt.Errorf("node %d is a controller, not a broker ('kraftlab controller remove %d' on a dynamic quorum)", o.ID, o.ID)
	case n.IsController():
		return nil, fmt.Errorf("node %d is a combined broker and controller; only broker-only nodes (from 'kraftlab broker add' or --brokers) can be removed", o.ID)
	case s.Brokers() == 1:
		return nil, fmt.Errorf("node %d is the only broker of lab %q", o.ID, s.Name)
	}
	gone := *n
	var rest []string
	for _, b := range s.Nodes {
		if b.IsBroker() && b.ID != gone.ID && lab.Paths.NodeAlive(b) {
			rest = append(rest, b.BrokerAddr())
		}
	}
	if len(rest) == 0 {
		return nil, fmt.Errorf("lab %q has no other broker running; 'kraftlab up' starts its nodes", s.Name)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(rest...), kgo.DialTimeout(2*time.Second))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	steps := step.Steps{W: o.Progress}
	if !o.Force {
		err := steps.Run(fmt.Sprintf("Checking node %d hosts no partition replicas", gone.ID), func() error {
			return checkNoReplicas(wctx, cl, gone.ID)
		})
		if err != nil {
			return nil, err
		}
	}
	err = steps.Run(fmt.Sprintf("Stopping node %d", gone.ID), func() error {
		if err := lab.Paths.stopNode(ctx, gone, o.Timeout); err != nil {
			return err
		}
		s.Nodes = slices.DeleteFunc(s.Nodes, func(x NodeState) bool { return x.ID == gone.ID })
		if err := SaveState(lab.Paths, s); err != nil {
			return err
		}
		return errors.Join(writeNodeFiles(lab.Paths, s, s.Nodes), os.RemoveAll(lab.Paths.NodeDir(gone.ID)))
	})
	if err != nil {
		return nil, err
	}
	// A stopped broker stays registered (fenced) in the metadata until unregistered.
	err = steps.Run(fmt.Sprintf("Unregistering broker %d (UnregisterBroker)", gone.ID), func() error {
		req := kmsg.NewPtrUnregisterBrokerRequest()
		req.BrokerID = int32(gone.ID)
		return step.Poll(wctx, fmt.Sprintf("broker %d to be unregistered", gone.ID), pollInterval, func(ctx context.Context) (bool, string, error) {
			resp, err := req.RequestWith(ctx, cl)
			if err != nil {
				return false, "", err
			}
			err = kerr.ErrorForCode(resp.ErrorCode)
			if err != nil && !errors.Is(err, kerr.BrokerIDNotRegistered) {
				return false, "", err
			}
			return true, "", nil
		})
	})
	if err != nil {
		return nil, err
	}
	return &BrokerResult{Action: "remove", Node: gone.ID, Bootstrap: s.BootstrapServers(), Timings: steps.Timings}, nil
}

// checkNoReplicas fails when broker id hosts a replica of any partition, naming
// a few of them.
func checkNoReplicas(ctx context.Context, cl *kgo.Client, id int) error {
	req := kmsg.NewPtrMetadataRequest()
	req.Topics = nil // all topics
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("list partitions: %w", err)
	}
	var hosted []string
	for _, t := range resp.Topics {
		for _, p := range t.Partitions {
			if slices.Contains(p.Replicas, int32(id)) && t.Topic != nil {
				hosted = append(hosted, fmt.Sprintf("%s/%d", *t.Topic, p.Partition))
			}
		}
	}
	if len(hosted) == 0 {
		return nil
	}
	shown := hosted[:min(5, len(hosted))]
	return step.Stop(fmt.Errorf("node %d hosts replicas of %d partitions (%v...); move them first (kafka-reassign-partitions) or delete the topics, or --force to remove it anyway and leave those partitions a replica short", id, len(hosted), shown))
}
