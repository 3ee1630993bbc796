package cluster

// This file owns changes to a dynamic KRaft quorum (KIP-853): 'controller add'
// starts a controller-only node and makes it a voter (AddRaftVoter), 'controller
// remove' takes a voter out (RemoveRaftVoter) and stops its node.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/magiconair/properties"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kraftlab/kraftlab/cluster/step"
)

// ControllerResult is the quorum after a change.
type ControllerResult struct {
	Action string  `json:"action"` // add or remove
	Node   int     `json:"node"`
	Voters []int32 `json:"voters"`
	Leader int32   `json:"leader"`
	// Restarted are nodes restarted after a removal because every controller they
	// were started with is gone (see NodeState.QuorumBootstrap).
	Restarted []int         `json:"restarted,omitempty"`
	Timings   []step.Timing `json:"timings"`
}

// openDynamic opens a lab whose quorum can change: a static one has its voters
// fixed in every node's controller.quorum.voters, so the answer says so.
func openDynamic(home, name, action string) (*Lab, error) {
	lab, err := OpenLab(home, name)
	if err != nil {
		return nil, err
	}
	if !lab.State.Dynamic() {
		return nil, fmt.Errorf("lab %q has a static quorum: its voters are fixed in every node's controller.quorum.voters, so 'controller %s' cannot change them (KIP-853 voter changes need a dynamic quorum; create a lab with 'kraftlab up --quorum dynamic')", lab.State.Name, action)
	}
	if err := lab.RequireRunning(); err != nil {
		return nil, err
	}
	return lab, nil
}

// AddController starts one more controller-only node in a running dynamic lab,
// formatted to join (--no-initial-controllers), and makes it a voter once it has
// caught up as an observer. On failure before it became a voter, the node is
// stopped and dropped from the lab again.
func AddController(ctx context.Context, o ScaleOptions) (*ControllerResult, error) {
	lab, err := openDynamic(o.Home, o.Name, "add")
	if err != nil {
		return nil, err
	}
	res, added, err := addNode(ctx, lab, o, "controller")
	if err != nil {
		return nil, err
	}
	return quorumResult(ctx, res.State, "add", added, res.Timings)
}

// readDirectoryID reads directory.id from a meta.properties that StorageTool wrote.
func readDirectoryID(file string) (string, error) {
	p, err := properties.LoadFile(file, propertiesEncoding)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	id, ok := p.Get("directory.id")
	if !ok {
		return "", fmt.Errorf("%s has no directory.id", file)
	}
	return id, nil
}

// quorumBootstrapOf reads controller.quorum.bootstrap.servers from a node's
// properties: what its process knows of the controllers when started from it.
func quorumBootstrapOf(file string) []string {
	p, err := properties.LoadFile(file, propertiesEncoding)
	if err != nil {
		return nil
	}
	return strings.FieldsFunc(p.GetString("controller.quorum.bootstrap.servers", ""), func(r rune) bool { return r == ',' || r == ' ' })
}

// addVoter sends AddRaftVoter for the new node to the quorum leader until it is
// accepted. The leader refuses (REQUEST_TIMED_OUT) while the node has not caught
// up or another change is pending, so those are retried until the deadline.
func (r *upRun) addVoter(ctx context.Context) error {
	n, _ := r.state.Node(r.added)
	dirID, err := parseKafkaUUID(n.DirectoryID)
	if err != nil {
		return fmt.Errorf("node %d directory id: %w", n.ID, err)
	}
	req := kmsg.NewPtrAddRaftVoterRequest()
	req.TimeoutMillis = int32(voterChangeTimeout / time.Millisecond)
	req.ClusterID = kmsg.StringPtr(r.state.ClusterID)
	req.VoterID = int32(n.ID)
	req.VoterDirectoryID = dirID
	l := kmsg.NewAddRaftVoterRequestListener()
	l.Name, l.Host, l.Port = "CONTROLLER", bindHost(n.Host), uint16(n.ControllerPort)
	req.Listeners = append(req.Listeners, l)
	err = changeVoters(ctx, r.state, fmt.Sprintf("node %d to become a voter", n.ID), func(ctx context.Context, ac *addrClients, leader int) error {
		if err := r.checkStarted(); err != nil {
			return err
		}
		kresp, err := ac.requestWithin(ctx, leader, req, voterChangeTimeout+2*time.Second)
		if err != nil {
			return err
		}
		resp := kresp.(*kmsg.AddRaftVoterResponse)
		return voterChangeError(resp.ErrorCode, resp.ErrorMessage, kerr.DuplicateVoter)
	})
	if err != nil {
		return r.explainWait(err)
	}
	r.voterAdded = true
	return nil
}

// RemoveController takes controller-only node o.ID out of the voters of a running
// dynamic lab (RemoveRaftVoter), waits until the quorum has committed that, then
// stops the node and drops it from the lab.
//
// A running node finds a new quorum leader only through the bootstrap servers it
// was started with. One that knows no controller but the removed one would be
// stranded at the next leader change (and cannot even shut down cleanly), so it is
// restarted first, with the lab's new controller.quorum.bootstrap.servers, while
// the quorum is still whole.
func RemoveController(ctx context.Context, o ScaleOptions) (*ControllerResult, error) {
	if o.Wait == 0 {
		o.Wait = DefaultWait
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	lab, err := openDynamic(o.Home, o.Name, "remove")
	if err != nil {
		return nil, err
	}
	stranded, err := prepareRemoval(lab.Paths, o.ID)
	if err != nil {
		return nil, err
	}
	steps := step.Steps{W: o.Progress}
	for _, id := range stranded {
		err := steps.Run(fmt.Sprintf("Restarting node %d (it knows no controller but node %d)", id, o.ID), func() error {
			_, err := NodeOp(ctx, NodeOptions{Home: o.Home, Name: o.Name, Action: "restart", Target: strconv.Itoa(id), Timeout: o.Timeout, Wait: o.Wait})
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	s, err := removeVoter(ctx, lab.Paths, o, &steps)
	if err != nil {
		return nil, err
	}
	res, err := quorumResult(ctx, s, "remove", o.ID, steps.Timings)
	if err != nil {
		return nil, err
	}
	res.Restarted = stranded
	return res, nil
}

// prepareRemoval checks node id can be removed, renders every other node's
// properties without it, and returns the running nodes that would be stranded.
func prepareRemoval(p Paths, id int) ([]int, error) {
	lock, s, err := lockState(p)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if err := checkRemovable(s, id); err != nil {
		return nil, err
	}
	rest := *s
	rest.Nodes = slices.DeleteFunc(slices.Clone(s.Nodes), func(n NodeState) bool { return n.ID == id })
	if err := writeNodeFiles(p, &rest, rest.Nodes); err != nil {
		return nil, err
	}
	return strandedNodes(p, &rest), nil
}

// removeVoter is the voter change of RemoveController, under the lab's lock:
// RemoveRaftVoter, the wait for the new voter set, stopping the node and dropping
// it from the lab.
func removeVoter(ctx context.Context, p Paths, o ScaleOptions, steps *step.Steps) (*State, error) {
	lock, s, err := lockState(p)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if err := checkRemovable(s, o.ID); err != nil {
		return nil, err
	}
	n, _ := s.Node(o.ID)
	gone := *n
	dirID, err := parseKafkaUUID(gone.DirectoryID)
	if err != nil {
		return nil, fmt.Errorf("node %d directory id: %w", gone.ID, err)
	}
	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	err = steps.Run(fmt.Sprintf("Removing node %d from the voters (RemoveRaftVoter)", gone.ID), func() error {
		req := kmsg.NewPtrRemoveRaftVoterRequest()
		req.ClusterID = kmsg.StringPtr(s.ClusterID)
		req.VoterID, req.VoterDirectoryID = int32(gone.ID), dirID
		return changeVoters(wctx, s, fmt.Sprintf("node %d to leave the voters", gone.ID), func(ctx context.Context, ac *addrClients, leader int) error {
			kresp, err := ac.requestWithin(ctx, leader, req, voterChangeTimeout)
			if err != nil {
				return err
			}
			resp := kresp.(*kmsg.RemoveRaftVoterResponse)
			return voterChangeError(resp.ErrorCode, resp.ErrorMessage, kerr.VoterNotFound)
		})
	})
	if err != nil {
		return nil, err
	}
	err = steps.Run(fmt.Sprintf("Waiting for the quorum without node %d", gone.ID), func() error {
		return waitForVoters(wctx, s, gone.ID)
	})
	if err != nil {
		return nil, err
	}
	err = steps.Run(fmt.Sprintf("Stopping node %d", gone.ID), func() error {
		if err := p.stopNode(ctx, gone, o.Timeout); err != nil {
			return err
		}
		s.Nodes = slices.DeleteFunc(s.Nodes, func(x NodeState) bool { return x.ID == gone.ID })
		if err := SaveState(p, s); err != nil {
			return err
		}
		// Its metadata log is of no use to anyone now.
		return os.RemoveAll(p.NodeDir(gone.ID))
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// strandedNodes lists the running nodes of s that were started knowing only
// controllers that are not in s.
func strandedNodes(p Paths, s *State) []int {
	live := controllerAddrs(s.Controllers())
	var ids []int
	for _, n := range s.Nodes {
		if !p.NodeAlive(n) || len(n.QuorumBootstrap) == 0 {
			continue
		}
		if !slices.ContainsFunc(n.QuorumBootstrap, func(a string) bool { return slices.Contains(live, a) }) {
			ids = append(ids, n.ID)
		}
	}
	return ids
}

// checkRemovable says why node id cannot be removed from lab s, if it cannot.
func checkRemovable(s *State, id int) error {
	n, ok := s.Node(id)
	switch {
	case !ok:
		return fmt.Errorf("node %d: no such node in lab %q", id, s.Name)
	case !n.IsController():
		return fmt.Errorf("node %d is a broker, not a controller", id)
	case n.IsBroker():
		return fmt.Errorf("node %d is a combined broker and controller; only controller-only nodes (from 'kraftlab controller add' or --controllers) can be removed, since stopping it would take a broker away too", id)
	case len(s.Controllers()) == 1:
		return fmt.Errorf("node %d is the only controller of lab %q; a quorum needs at least one voter", id, s.Name)
	}
	return nil
}

// voterChangeTimeout bounds one AddRaftVoter/RemoveRaftVoter round trip: the leader
// answers once the new voter set is committed, which takes a few fetch rounds.
const voterChangeTimeout = 10 * time.Second

// changeVoters sends a voter change through send to the quorum leader's controller
// listener (only the leader acts on it) until send succeeds, retrying while it
// fails with a retriable error.
func changeVoters(ctx context.Context, s *State, what string, send func(ctx context.Context, ac *addrClients, leader int) error) error {
	var controllers []NodeState
	var addrs []string
	for _, n := range s.Controllers() {
		controllers = append(controllers, n)
		addrs = append(addrs, n.ControllerAddr())
	}
	ac, err := newAddrClients(addrs)
	if err != nil {
		return err
	}
	defer ac.Close()
	return step.Poll(ctx, what, pollInterval, func(ctx context.Context) (bool, string, error) {
		q, err := ac.describeQuorum(ctx)
		if err != nil {
			return false, "no controller answered DescribeQuorum", err
		}
		leader := slices.IndexFunc(controllers, func(n NodeState) bool { return int32(n.ID) == q.LeaderID })
		if leader < 0 {
			return false, fmt.Sprintf("quorum leader %d is not a known controller", q.LeaderID), nil
		}
		if err := send(ctx, ac, leader); err != nil {
			var ke *kerr.Error
			if errors.As(err, &ke) && !ke.Retriable {
				return false, "", step.Stop(err)
			}
			return false, fmt.Sprintf("leader %d: %v", q.LeaderID, err), err
		}
		return true, "", nil
	})
}

// voterChangeError is the error of an AddRaftVoter/RemoveRaftVoter response, with
// Kafka's message; done (already a voter / not a voter) counts as success, so a
// retry after a lost response is harmless.
func voterChangeError(code int16, msg *string, done *kerr.Error) error {
	err := kerr.ErrorForCode(code)
	if err == nil || errors.Is(err, done) {
		return nil
	}
	if msg != nil && *msg != "" {
		return fmt.Errorf("%w: %s", err, *msg)
	}
	return err
}

// waitForVoters waits until the quorum has a leader and node gone is no voter.
func waitForVoters(ctx context.Context, s *State, gone int) error {
	var addrs []string
	for _, n := range s.Controllers() {
		if n.ID != gone {
			addrs = append(addrs, n.ControllerAddr())
		}
	}
	ac, err := newAddrClients(addrs)
	if err != nil {
		return err
	}
	defer ac.Close()
	return step.Poll(ctx, "the new voter set", pollInterval, func(ctx context.Context) (bool, string, error) {
		q, err := ac.describeQuorum(ctx)
		if err != nil {
			return false, "no controller answered DescribeQuorum", err
		}
		ids := voterIDs(q)
		if q.LeaderID < 0 || int(q.LeaderID) == gone || slices.Contains(ids, int32(gone)) {
			return false, fmt.Sprintf("leader %d, voters %v", q.LeaderID, ids), nil
		}
		return true, "", nil
	})
}

func voterIDs(q *Quorum) []int32 {
	var ids []int32
	for _, v := range q.Voters {
		ids = append(ids, v.ID)
	}
	return ids
}

// quorumResult describes the quorum after a change.
func quorumResult(ctx context.Context, s *State, action string, id int, timings []step.Timing) (*ControllerResult, error) {
	var addrs []string
	for _, n := range s.Controllers() {
		addrs = append(addrs, n.ControllerAddr())
	}
	ac, err := newAddrClients(addrs)
	if err != nil {
		return nil, err
	}
	defer ac.Close()
	q, err := ac.describeQuorum(ctx)
	if err != nil {
		return nil, fmt.Errorf("describe the quorum after the change: %w", err)
	}
	return &ControllerResult{Action: action, Node: id, Voters: voterIDs(q), Leader: q.LeaderID, Timings: timings}, nil
}
