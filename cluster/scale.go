package cluster

// This file owns growing and shrinking a running lab: adding a node (a broker, or
// a controller made a voter in quorum.go) through the same steps as 'up', and
// removing one — checks, stop, and dropping it from the spec, the state and the
// disk — shared by 'broker remove' and 'controller remove'.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/internal/pki"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
)

// ScaleOptions is one 'controller|broker add' or '... remove ID'.
type ScaleOptions struct {
	Force   bool          // broker remove: even while it hosts partition replicas
	Wait    time.Duration // how long the change may take; 0 = DefaultWait
	Timeout time.Duration // remove: SIGTERM grace before SIGKILL; 0 = 30s
}

func (o ScaleOptions) withDefaults() ScaleOptions {
	if o.Wait <= 0 {
		o.Wait = DefaultWait
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	return o
}

// BrokerResult is the lab's brokers after 'broker add' or 'broker remove'.
type BrokerResult struct {
	Action    string   `json:"action"` // add or remove
	Node      int      `json:"node"`
	Bootstrap []string `json:"bootstrap_servers"`
	Timings   []Timing `json:"timings"`
}

// AddBroker starts one more broker-only node in the running lab (combined or
// isolated, static or dynamic quorum) and returns once it is registered and
// serving. On failure the node is stopped and dropped from the lab again.
func (l *Lab) AddBroker(ctx context.Context, o ScaleOptions) (*BrokerResult, error) {
	op, err := l.beginRunning()
	if err != nil {
		return nil, err
	}
	defer op.end()
	id, err := op.addNode(ctx, RoleBroker, o.withDefaults())
	if err != nil {
		return nil, err
	}
	return &BrokerResult{Action: "add", Node: id, Bootstrap: op.BootstrapServers(), Timings: op.steps.Timings}, nil
}

// beginRunning begins an operation on a lab whose every node runs.
func (l *Lab) beginRunning() (*op, error) {
	op, err := l.begin()
	if err != nil {
		return nil, err
	}
	if err := op.requireRunning(); err != nil {
		op.end()
		return nil, err
	}
	return op, nil
}

// RequireRunning is nil when every node of the lab runs.
func (l *Lab) RequireRunning() error {
	if err := l.requireExists(); err != nil {
		return err
	}
	return l.requireRunning()
}

func (l *Lab) requireRunning() error {
	var down, paused []int
	nodes := l.nodes()
	for _, n := range nodes {
		switch {
		case !l.alive(n):
			down = append(down, n.ID)
		case l.paused(n):
			paused = append(paused, n.ID)
		}
	}
	name := l.Name()
	switch {
	case len(down) == len(nodes):
		return fmt.Errorf("lab %q is not running; start it with 'kraftlab up --name %s'", name, name)
	case len(down) > 0:
		return fmt.Errorf("lab %q: node(s) %v are not running; 'kraftlab up --name %s' starts them", name, down, name)
	case len(paused) > 0:
		return fmt.Errorf("lab %q: node(s) %v are paused; 'kraftlab node resume ID --name %s' resumes them", name, paused, name)
	}
	return nil
}

// addNode plans one more node with role into the running lab and brings it up
// through up's steps (render, format, start, wait); it returns the new node's id.
// Every other node's properties are rendered anew (their voters or bootstrap
// servers and replication defaults may now differ), effective at their next start.
func (o *op) addNode(ctx context.Context, role string, so ScaleOptions) (int, error) {
	if len(o.st.Nodes) >= MaxNodes {
		return 0, fmt.Errorf("lab %q has %d nodes already, the most a lab may have", o.Name(), MaxNodes)
	}
	rt, err := o.labRuntime(ctx)
	if err != nil {
		return 0, err
	}
	rec := o.planAdded(role)
	before := o.spec.Nodes
	o.setNodes(append(o.nodeSpecs(), NodeSpec{ID: rec.ID, Role: role}))
	o.st.Nodes = append(o.st.Nodes, rec)
	id := rec.ID
	voter := false
	err = o.steps.Run(fmt.Sprintf("Writing configuration and formatting storage (node %d)", id), func() error {
		return o.prepareAdded(ctx, rt, id)
	})
	if err == nil {
		r := &startRun{op: o, o: UpOptions{Wait: so.Wait}, rt: rt}
		if role == RoleController {
			// The quorum counts it once it is a voter, so that comes before the wait.
			r.beforeWait = func(ctx context.Context) error {
				err := o.steps.Run(fmt.Sprintf("Adding node %d to the voters (AddRaftVoter)", id), func() error {
					return o.addVoter(ctx, id, r.checkStarted)
				})
				voter = err == nil
				return err
			}
		}
		err = r.start(ctx, []int{id})
		if err != nil && !voter {
			if serr := r.stopStarted(); serr != nil {
				return 0, fmt.Errorf("%w\nwhile stopping node %d: %v", err, id, serr)
			}
		}
	}
	if err != nil && !voter {
		// A broker, or a controller that never became a voter: dropped again.
		o.spec.Nodes = before
		return 0, o.dropAdded(o.interrupted(ctx, err), id)
	}
	if err != nil {
		return id, err
	}
	return id, o.saveSpec()
}

// planAdded is the record of a node with role added to the lab: the next id, and
// the port after the highest one the lab uses for that role.
func (o *op) planAdded(role string) labdir.Node {
	n := labdir.Node{}
	for _, r := range o.st.Nodes {
		n.ID = max(n.ID, r.ID)
	}
	n.ID++
	for _, x := range o.nodes() {
		if role == RoleController && x.IsController() {
			n.ControllerPort = max(n.ControllerPort, x.ControllerPort+1)
		}
		if role == RoleBroker && x.IsBroker() {
			n.BrokerPort = max(n.BrokerPort, x.BrokerPort+1)
		}
	}
	// The lab's first node of a role it had none of starts at the spec's base.
	if role == RoleController && n.ControllerPort == 0 {
		n.ControllerPort = o.spec.Ports.Controller
	}
	if role == RoleBroker && n.BrokerPort == 0 {
		n.BrokerPort = o.spec.Ports.Broker
	}
	return n
}

// nodeSpecs is the lab's topology as an explicit list with every port.
func (l *Lab) nodeSpecs() []NodeSpec {
	list, _ := l.spec.nodeList()
	for i := range list {
		if rec, ok := l.st.Node(list[i].ID); ok {
			list[i].BrokerPort, list[i].ControllerPort = rec.BrokerPort, rec.ControllerPort
		}
	}
	return list
}

// setNodes makes the spec's topology the given list.
func (l *Lab) setNodes(list []NodeSpec) { l.spec.Nodes = NodesSpec{List: list} }

// prepareAdded writes every node's properties and formats the new node's storage
// to join the running cluster: on a dynamic quorum with --no-initial-controllers,
// since it is not an initial voter. A controller's directory id is recorded for
// AddRaftVoter.
func (o *op) prepareAdded(ctx context.Context, rt *dist.Runtime, id int) error {
	n, _ := o.node(id)
	if o.spec.Security.UsesTLS() {
		ca, err := pki.LoadCA(o.PKIDir())
		if err != nil {
			return err
		}
		if err := o.issueNodeCert(ca, n); err != nil {
			return err
		}
	}
	if err := o.writeNodeFiles(o.nodes()); err != nil {
		return err
	}
	var quorumArgs []string
	if o.spec.Quorum == QuorumDynamic {
		quorumArgs = render.NoInitialControllers
	}
	if err := o.format(ctx, rt, n, quorumArgs); err != nil {
		return err
	}
	if n.IsController() {
		dirID, err := render.DirectoryIDOf(o.dir.MetaProperties(id))
		if err != nil {
			return fmt.Errorf("node %d: %w", id, err)
		}
		n.rec.DirectoryID = dirID
	}
	return o.save()
}

// dropAdded removes a node this operation added (and stopped) again.
func (o *op) dropAdded(cause error, id int) error {
	if err := o.dropNode(id); err != nil {
		return fmt.Errorf("%w\nwhile dropping node %d again: %v", cause, id, err)
	}
	return &CleanedUpError{Err: cause, What: fmt.Sprintf("node %d was stopped and removed from the lab again", id)}
}

// dropNode removes a stopped node from the spec, the state and the disk, and
// renders the other nodes' properties without it.
func (o *op) dropNode(id int) error {
	o.setNodes(slices.DeleteFunc(o.nodeSpecs(), func(n NodeSpec) bool { return n.ID == id }))
	o.st.Nodes = slices.DeleteFunc(o.st.Nodes, func(n labdir.Node) bool { return n.ID == id })
	for pid := range o.spec.NodeProperties {
		if pid == id {
			delete(o.spec.NodeProperties, pid)
		}
	}
	return errors.Join(o.saveSpec(), o.save(), o.writeNodeFiles(o.nodes()), os.RemoveAll(o.dir.NodeDir(id)))
}

// checkRemovable says why node id cannot be removed as role (RoleBroker or
// RoleController), if it cannot: only nodes of that role alone can go, and never
// the last of their role.
func (o *op) checkRemovable(id int, role string) error {
	n, ok := o.node(id)
	var count int
	for _, x := range o.nodes() {
		if (role == RoleBroker && x.IsBroker()) || (role == RoleController && x.IsController()) {
			count++
		}
	}
	other := map[string]string{RoleBroker: RoleController, RoleController: RoleBroker}[role]
	switch {
	case !ok:
		return fmt.Errorf("node %d: no such node in lab %q (nodes %s)", id, o.Name(), o.nodeIDList())
	case n.IsBroker() && n.IsController():
		return fmt.Errorf("node %d is a combined broker and controller; only %s-only nodes ('kraftlab %s add', or --%ss) can be removed, since stopping it would take a %s away too", id, role, role, role, other)
	case role == RoleBroker && !n.IsBroker(), role == RoleController && !n.IsController():
		return fmt.Errorf("node %d is a %s, not a %s", id, other, role)
	case count == 1:
		return fmt.Errorf("node %d is the only %s of lab %q", id, role, o.Name())
	}
	return nil
}

// RemoveBroker stops broker-only node id, unregisters it from the cluster metadata
// (UnregisterBroker) and then drops it from the lab. While it still hosts partition
// replicas that is refused unless o.Force: those partitions would lose a replica
// for good. If unregistering fails, the node stays in the lab, stopped, and the
// command can be run again.
func (l *Lab) RemoveBroker(ctx context.Context, id int, o ScaleOptions) (*BrokerResult, error) {
	o = o.withDefaults()
	op, err := l.begin()
	if err != nil {
		return nil, err
	}
	defer op.end()
	if err := op.checkRemovable(id, RoleBroker); err != nil {
		return nil, err
	}
	gone, _ := op.node(id)
	cl, err := op.otherBrokers(id)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	if !o.Force {
		err := op.steps.Run(fmt.Sprintf("Checking node %d hosts no partition replicas", id), func() error {
			return checkNoReplicas(wctx, cl, id)
		})
		if err != nil {
			return nil, err
		}
	}
	if op.alive(gone) {
		err = op.steps.Run(fmt.Sprintf("Stopping node %d", id), func() error {
			_, err := op.signal(ctx, gone, ActionStop, o.Timeout)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	// A stopped broker stays registered (fenced) in the metadata until unregistered.
	err = op.steps.Run(fmt.Sprintf("Unregistering broker %d (UnregisterBroker)", id), func() error {
		return unregisterBroker(wctx, cl, id)
	})
	if err != nil {
		return nil, fmt.Errorf("%w\n(node %d is stopped but still part of lab %q; run 'kraftlab broker remove %d' again)", err, id, op.Name(), id)
	}
	if err := op.dropNode(id); err != nil {
		return nil, err
	}
	return &BrokerResult{Action: "remove", Node: id, Bootstrap: op.BootstrapServers(), Timings: op.steps.Timings}, nil
}

// otherBrokers is a client for the running brokers other than id.
func (l *Lab) otherBrokers(id int) (*kgo.Client, error) {
	var rest []string
	for _, b := range l.nodes() {
		if b.IsBroker() && b.ID != id && l.alive(b) {
			rest = append(rest, b.BrokerAddr())
		}
	}
	if len(rest) == 0 {
		return nil, fmt.Errorf("lab %q has no other broker running; 'kraftlab up' starts its nodes", l.Name())
	}
	return l.client(kgo.SeedBrokers(rest...))
}

func unregisterBroker(ctx context.Context, cl *kgo.Client, id int) error {
	req := kmsg.NewPtrUnregisterBrokerRequest()
	req.BrokerID = int32(id)
	return step.Poll(ctx, fmt.Sprintf("broker %d to be unregistered", id), pollInterval, func(ctx context.Context) (bool, string, error) {
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
	return stopPoll(fmt.Errorf("node %d hosts replicas of %d partitions (%v...); move them first (kafka-reassign-partitions) or delete the topics, or --force to remove it anyway and leave those partitions a replica short", id, len(hosted), shown))
}
