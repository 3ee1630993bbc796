package cluster

// This file owns changes to a dynamic KRaft quorum (KIP-853): 'controller add'
// starts a controller-only node and makes it a voter (AddRaftVoter), 'controller
// remove' takes a voter out (RemoveRaftVoter) and stops its node.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kraftlab/kraftlab/cluster/internal/kraft"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
)

// ControllerResult is the quorum after a change.
type ControllerResult struct {
	Action string  `json:"action"` // add or remove
	Node   int     `json:"node"`
	Voters []int32 `json:"voters"`
	Leader int32   `json:"leader"`
	// Tolerates is how many voters may fail with the quorum still electing a leader.
	Tolerates int `json:"tolerates"`
	// Warning says when the new voter count is a poor one: no failure tolerated,
	// or an even count that tolerates no more than one voter fewer.
	Warning string `json:"warning,omitempty"`
	// Restarted are nodes restarted before a removal because every controller they
	// were started with was going away.
	Restarted []int    `json:"restarted,omitempty"`
	Timings   []Timing `json:"timings"`
}

// beginDynamic begins an operation on a running lab whose quorum can change: a
// static one has its voters fixed in every node's controller.quorum.voters, so the
// answer says so.
func (l *Lab) beginDynamic(action string) (*op, error) {
	op, err := l.beginRunning()
	if err != nil {
		return nil, err
	}
	if op.spec.Quorum != QuorumDynamic {
		op.end()
		return nil, fmt.Errorf("lab %q has a static quorum: its voters are fixed in every node's controller.quorum.voters, so 'controller %s' cannot change them (KIP-853 voter changes need a dynamic quorum; create a lab with 'kraftlab up --quorum dynamic')", l.Name(), action)
	}
	return op, nil
}

// AddController starts one more controller-only node in the running dynamic lab,
// formatted to join (--no-initial-controllers), and makes it a voter once it has
// caught up as an observer. On failure before it became a voter, the node is
// stopped and dropped from the lab again.
func (l *Lab) AddController(ctx context.Context, o ScaleOptions) (*ControllerResult, error) {
	op, err := l.beginDynamic("add")
	if err != nil {
		return nil, err
	}
	defer op.end()
	id, err := op.addNode(ctx, RoleController, o.withDefaults())
	if err != nil {
		return nil, err
	}
	return op.quorumResult(ctx, "add", id)
}

// addVoter sends AddRaftVoter for node id to the quorum leader until it is
// accepted. The leader refuses (REQUEST_TIMED_OUT) while the node has not caught
// up or another change is pending, so those are retried until the deadline.
func (o *op) addVoter(ctx context.Context, id int, check func() error) error {
	n, _ := o.node(id)
	dirID, err := parseKafkaUUID(n.rec.DirectoryID)
	if err != nil {
		return fmt.Errorf("node %d directory id: %w", id, err)
	}
	v := kraft.Voter{ID: id, DirectoryID: dirID, Host: n.Host, Port: n.ControllerPort}
	return o.changeVoters(ctx, fmt.Sprintf("node %d to become a voter", id), func(ctx context.Context, ac *kraft.Clients, leader int) error {
		if err := check(); err != nil {
			return err
		}
		return ac.AddVoter(ctx, leader, o.st.ClusterID, v)
	})
}

// RemoveController takes controller-only node id out of the voters of the running
// dynamic lab (RemoveRaftVoter), waits until the quorum has committed that, then
// stops the node and drops it from the lab.
//
// A running node finds a new quorum leader only through the bootstrap servers it
// was started with. One that knows no controller but the removed one would be
// stranded at the next leader change (and could not even shut down cleanly), so it
// is restarted first, with the lab's new controller.quorum.bootstrap.servers, while
// the quorum is still whole.
func (l *Lab) RemoveController(ctx context.Context, id int, o ScaleOptions) (*ControllerResult, error) {
	o = o.withDefaults()
	op, err := l.beginDynamic("remove")
	if err != nil {
		return nil, err
	}
	defer op.end()
	if err := op.checkRemovable(id, RoleController); err != nil {
		return nil, err
	}
	gone, _ := op.node(id)
	dirID, err := parseKafkaUUID(gone.rec.DirectoryID)
	if err != nil {
		return nil, fmt.Errorf("node %d directory id: %w", id, err)
	}
	stranded, err := op.renderWithout(id)
	if err != nil {
		return nil, err
	}
	for _, sid := range stranded {
		err := op.steps.Run(fmt.Sprintf("Restarting node %d (it knows no controller but node %d)", sid, id), func() error {
			n, _ := op.node(sid)
			if _, err := op.signal(ctx, n, ActionStop, o.Timeout); err != nil {
				return err
			}
			_, err := op.startNodes(ctx, []int{sid}, UpOptions{Wait: o.Wait})
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	v := kraft.Voter{ID: id, DirectoryID: dirID}
	err = op.steps.Run(fmt.Sprintf("Removing node %d from the voters (RemoveRaftVoter)", id), func() error {
		return op.changeVoters(wctx, fmt.Sprintf("node %d to leave the voters", id), func(ctx context.Context, ac *kraft.Clients, leader int) error {
			return ac.RemoveVoter(ctx, leader, op.st.ClusterID, v)
		})
	})
	if err != nil {
		return nil, err
	}
	err = op.steps.Run(fmt.Sprintf("Waiting for the quorum without node %d", id), func() error {
		return op.waitForVoters(wctx, id)
	})
	if err != nil {
		return nil, err
	}
	err = op.steps.Run(fmt.Sprintf("Stopping node %d", id), func() error {
		if _, err := op.signal(ctx, gone, ActionStop, o.Timeout); err != nil {
			return err
		}
		// Its metadata log is of no use to anyone now.
		return op.dropNode(id)
	})
	if err != nil {
		return nil, err
	}
	res, err := op.quorumResult(ctx, "remove", id)
	if err != nil {
		return nil, err
	}
	res.Restarted = stranded
	return res, nil
}

// renderWithout renders every other node's properties without node id, and
// returns the running nodes that were started knowing only controllers that are
// now gone.
func (o *op) renderWithout(id int) ([]int, error) {
	rl, err := o.renderLab()
	if err != nil {
		return nil, err
	}
	rl.Nodes = slices.DeleteFunc(rl.Nodes, func(n render.Node) bool { return n.ID == id })
	var live []string
	for _, n := range rl.Nodes {
		if n.IsController() {
			live = append(live, n.ControllerAddr())
		}
	}
	var stranded []int
	for _, n := range o.nodes() {
		if n.ID == id {
			continue
		}
		props, err := render.Properties(rl, n.Node)
		if err != nil {
			return nil, err
		}
		if err := labdir.WriteFile(o.dir.PropertiesFile(n.ID), props, 0o600); err != nil {
			return nil, fmt.Errorf("node %d: write properties: %w", n.ID, err)
		}
		if !o.alive(n) || len(n.rec.QuorumBootstrap) == 0 {
			continue
		}
		if !slices.ContainsFunc(n.rec.QuorumBootstrap, func(a string) bool { return slices.Contains(live, a) }) {
			stranded = append(stranded, n.ID)
		}
	}
	return stranded, nil
}

// changeVoters sends a voter change through send to the quorum leader's controller
// listener (only the leader acts on it) until send succeeds, retrying while it
// fails with a retriable error.
func (o *op) changeVoters(ctx context.Context, what string, send func(ctx context.Context, ac *kraft.Clients, leader int) error) error {
	ac, controllers, err := o.controllerClients(o.nodes())
	if err != nil {
		return err
	}
	defer ac.Close()
	return step.Poll(ctx, what, pollInterval, func(ctx context.Context) (bool, string, error) {
		q, err := ac.DescribeQuorum(ctx, o.st.ClusterID)
		if err != nil {
			return false, "no controller answered DescribeQuorum as leader", err
		}
		leader := slices.IndexFunc(controllers, func(n node) bool { return int32(n.ID) == q.LeaderID })
		if leader < 0 {
			return false, fmt.Sprintf("quorum leader %d is not a known controller", q.LeaderID), nil
		}
		if err := send(ctx, ac, leader); err != nil {
			var ke *kerr.Error
			if errors.As(err, &ke) && !ke.Retriable {
				return false, "", stopPoll(err)
			}
			return false, fmt.Sprintf("leader %d: %v", q.LeaderID, err), err
		}
		return true, "", nil
	})
}

// waitForVoters waits until the quorum has a leader and node gone is no voter.
func (o *op) waitForVoters(ctx context.Context, gone int) error {
	var rest []node
	for _, n := range o.nodes() {
		if n.ID != gone {
			rest = append(rest, n)
		}
	}
	ac, _, err := o.controllerClients(rest)
	if err != nil {
		return err
	}
	defer ac.Close()
	return step.Poll(ctx, "the new voter set", pollInterval, func(ctx context.Context) (bool, string, error) {
		q, err := ac.DescribeQuorum(ctx, o.st.ClusterID)
		if err != nil {
			return false, "no controller answered DescribeQuorum as leader", err
		}
		ids := q.VoterIDs()
		if q.LeaderID < 0 || int(q.LeaderID) == gone || slices.Contains(ids, int32(gone)) {
			return false, fmt.Sprintf("leader %d, voters %v", q.LeaderID, ids), nil
		}
		return true, "", nil
	})
}

// quorumResult describes the quorum after a change.
func (o *op) quorumResult(ctx context.Context, action string, id int) (*ControllerResult, error) {
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	q, err := o.quorumState(qctx)
	if err != nil {
		return nil, fmt.Errorf("describe the quorum after the change: %w", err)
	}
	voters := len(q.Voters)
	return &ControllerResult{
		Action: action, Node: id, Voters: q.VoterIDs(), Leader: q.LeaderID,
		Tolerates: FailuresTolerated(voters), Warning: quorumSizeWarning(voters), Timings: o.steps.Timings,
	}, nil
}

// FailuresTolerated is how many of n voters may fail with the quorum still able to
// elect a leader: a majority must remain.
func FailuresTolerated(n int) int { return max(0, (n-1)/2) }

// quorumSizeWarning says what is poor about a voter count, if anything.
func quorumSizeWarning(n int) string {
	switch {
	case n < 3:
		return fmt.Sprintf("%d voter(s) tolerate no failure: losing any one stops the quorum; 3 voters tolerate one", n)
	case n%2 == 0:
		return fmt.Sprintf("%d voters tolerate no more failures than %d do (%d), and need more votes for every election; an odd count is better", n, n-1, FailuresTolerated(n))
	}
	return ""
}
