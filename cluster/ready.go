package cluster

// This file owns how kraftlab knows a lab is ready: the KRaft quorum has a leader
// with every voter caught up (DescribeQuorum), every broker is registered and
// serving (ApiVersions on its own port, Metadata listing all of them), and every
// node that answers belongs to this lab's cluster id — a port taken over by
// another lab or Kafka is an error naming what answered, never a false "ready".

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kraftlab/kraftlab/cluster/data"
	"github.com/kraftlab/kraftlab/cluster/internal/kraft"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
	"github.com/kraftlab/kraftlab/cluster/internal/topicadmin"
)

// pollInterval is short because readiness should be noticed within ~100ms; each try
// is a cheap request on loopback.
const pollInterval = 100 * time.Millisecond

// Quorum is the state of the KRaft metadata quorum.
type Quorum = kraft.Quorum

// Replica is one voter's or observer's view of the metadata log.
type Replica = kraft.Replica

// stopPoll ends a wait at once with err.
func stopPoll(err error) error { return step.Stop(err) }

// dialBrokers makes one client per broker address, connecting as admin.
func (l *Lab) dialBrokers(addrs []string) (*kraft.Clients, error) {
	opts, err := l.ClientOpts(AdminUser)
	if err != nil {
		return nil, err
	}
	return kraft.Dial(addrs, opts...)
}

// dialControllers makes one client per controller address, connecting as admin.
func (l *Lab) dialControllers(addrs []string) (*kraft.Clients, error) {
	opts, err := l.controllerOpts()
	if err != nil {
		return nil, err
	}
	return kraft.Dial(addrs, opts...)
}

// controllerClients dials the controller listeners of nodes.
func (l *Lab) controllerClients(nodes []node) (*kraft.Clients, []node, error) {
	var addrs []string
	var ctrls []node
	for _, n := range nodes {
		if n.IsController() {
			addrs = append(addrs, n.ControllerAddr())
			ctrls = append(ctrls, n)
		}
	}
	c, err := l.dialControllers(addrs)
	return c, ctrls, err
}

// voters counts the lab's controllers.
func (l *Lab) voters() int {
	v := 0
	for _, n := range l.nodes() {
		if n.IsController() {
			v++
		}
	}
	return v
}

// waitForQuorum waits until the quorum has a leader and all its voters, and every
// expected controller has caught up. check, polled along, fails the wait at once
// (a started node died).
func (l *Lab) waitForQuorum(ctx context.Context, expected []node, check func() error) error {
	mustCatchUp := map[int32]bool{}
	for _, n := range expected {
		if n.IsController() {
			mustCatchUp[int32(n.ID)] = true
		}
	}
	ac, _, err := l.controllerClients(expected)
	if err != nil {
		return err
	}
	defer ac.Close()
	voters := l.voters()
	return step.Poll(ctx, "KRaft quorum", pollInterval, func(ctx context.Context) (bool, string, error) {
		if err := check(); err != nil {
			return false, "", err
		}
		q, err := ac.DescribeQuorum(ctx, l.st.ClusterID)
		var wrong *kraft.WrongClusterError
		if errors.As(err, &wrong) {
			return false, "", stopPoll(err)
		}
		if err != nil {
			return false, "no controller answered DescribeQuorum as leader", err
		}
		done, seen := q.CaughtUp(voters, mustCatchUp)
		return done, seen, nil
	})
}

// waitForBrokers waits until every expected broker serves on its own port and
// every one's metadata lists every other.
func (l *Lab) waitForBrokers(ctx context.Context, expected []node, check func() error) error {
	var brokers []node
	var addrs []string
	for _, n := range expected {
		if n.IsBroker() {
			brokers = append(brokers, n)
			addrs = append(addrs, n.BrokerAddr())
		}
	}
	ac, err := l.dialBrokers(addrs)
	if err != nil {
		return err
	}
	defer ac.Close()
	return step.Poll(ctx, "brokers", pollInterval, func(ctx context.Context) (bool, string, error) {
		if err := check(); err != nil {
			return false, "", err
		}
		for i, n := range brokers {
			if err := ac.BrokerServing(ctx, i); err != nil {
				return false, fmt.Sprintf("node %d broker %s not serving yet", n.ID, n.BrokerAddr()), err
			}
		}
		// Every broker must list every other: a client's first metadata answer
		// (e.g. the broker count that sizes a new topic's replication) can come
		// from any of them.
		for i, asked := range brokers {
			ids, cid, err := ac.RegisteredBrokers(ctx, i)
			if err != nil {
				return false, fmt.Sprintf("metadata request to node %d failed", asked.ID), err
			}
			if cid != l.st.ClusterID {
				return false, "", stopPoll(&kraft.WrongClusterError{Addr: asked.BrokerAddr(), Want: l.st.ClusterID, Got: cid})
			}
			for _, n := range brokers {
				if !slices.Contains(ids, int32(n.ID)) {
					return false, fmt.Sprintf("node %d does not list broker %d yet (it lists %v)", asked.ID, n.ID, ids), nil
				}
			}
		}
		return true, "", nil
	})
}

// client is a franz-go client for the lab's brokers, connecting as admin, made by
// data.NewClient: its short metadata age matters here too, as kadm's Metadata
// answers from a cache that age keeps (franz-go's 5 s held every poll of partition
// leaders and ISRs up to 5 s behind).
func (l *Lab) client(opts ...kgo.Opt) (*kgo.Client, error) {
	sec, err := l.ClientOpts(AdminUser)
	if err != nil {
		return nil, err
	}
	return data.NewClient(l.BootstrapServers(), append(append([]kgo.Opt{kgo.Dialer(kraft.DialListening)}, sec...), opts...)...)
}

// ensureTopics creates the spec's topics that do not exist yet, each returning
// once every broker knows it.
func (o *op) ensureTopics(ctx context.Context, uo UpOptions) ([]string, error) {
	if len(o.spec.Topics) == 0 {
		return nil, nil
	}
	var created []string
	err := o.steps.Run(fmt.Sprintf("Creating topics (%d in the spec)", len(o.spec.Topics)), func() error {
		cl, err := o.client()
		if err != nil {
			return err
		}
		defer cl.Close()
		wctx, cancel := context.WithTimeout(ctx, uo.wait())
		defer cancel()
		for _, t := range o.spec.Topics {
			res, err := topicadmin.CreateTopic(wctx, cl, topicadmin.TopicSpec{
				Name: t.Name, Partitions: int32(t.Partitions), ReplicationFactor: int16(t.ReplicationFactor),
				Configs: t.Configs, IfNotExists: true,
			})
			if err != nil {
				return fmt.Errorf("topic %s of the spec: %w", t.Name, err)
			}
			if res.Created {
				created = append(created, t.Name)
			}
		}
		return nil
	})
	return created, err
}

// quorumState describes the quorum, asking the running controllers; a quorum
// with no leader is said in plain words, naming the voters that are down.
func (l *Lab) quorumState(ctx context.Context) (*Quorum, error) {
	var running []node
	var down []string
	for _, n := range l.nodes() {
		if !n.IsController() {
			continue
		}
		switch {
		case l.paused(n):
			down = append(down, strconv.Itoa(n.ID)+" (paused)")
		case l.alive(n):
			running = append(running, n)
		default:
			down = append(down, strconv.Itoa(n.ID)+" (stopped)")
		}
	}
	if len(running) == 0 {
		return nil, fmt.Errorf("lab %q has no controller running; 'kraftlab up' starts its nodes", l.Name())
	}
	ac, _, err := l.controllerClients(running)
	if err != nil {
		return nil, err
	}
	defer ac.Close()
	q, err := ac.DescribeQuorum(ctx, l.st.ClusterID)
	var none *kraft.NoLeaderError
	if errors.As(err, &none) {
		return nil, &NoLeaderError{Lab: l.Name(), Voters: l.voters(), Down: down, Err: err}
	}
	return q, err
}

// NoLeaderError is a quorum with no leader that answers: an election is under
// way, or too few voters run to hold one.
type NoLeaderError struct {
	Lab    string
	Voters int
	Down   []string // voters not running, e.g. "1 (stopped)"
	Err    error
}

func (e *NoLeaderError) Error() string {
	need := e.Voters/2 + 1
	if len(e.Down) == 0 {
		return fmt.Sprintf("the quorum of lab %q has no leader right now: an election is under way (%d voters, all running)", e.Lab, e.Voters)
	}
	if e.Voters-len(e.Down) < need {
		return fmt.Sprintf("the quorum of lab %q has no leader: only %d of its %d voters run, and a leader needs %d; voters %v are down ('kraftlab up' starts them)", e.Lab, e.Voters-len(e.Down), e.Voters, need, e.Down)
	}
	return fmt.Sprintf("the quorum of lab %q has no leader right now: electing a new one; voters %v are down", e.Lab, e.Down)
}

func (e *NoLeaderError) Unwrap() error { return e.Err }
