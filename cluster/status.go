package cluster

// This file owns 'status': what each node's process is doing and how it stands in
// the KRaft quorum, and the --check verdict.

import (
	"context"
	"fmt"
	"strings"
)

// NodeStatus is one node as 'status' shows it.
type NodeStatus struct {
	ID             int      `json:"id"`
	Roles          []string `json:"roles"`
	PID            int      `json:"pid,omitempty"`
	State          string   `json:"state"` // running, paused, stopped
	BrokerAddr     string   `json:"broker_addr,omitempty"`
	ControllerAddr string   `json:"controller_addr,omitempty"`
	QuorumRole     string   `json:"quorum_role,omitempty"` // leader, follower, observer
	Lag            *int64   `json:"lag,omitempty"`         // metadata log entries behind the high watermark
}

// Status is the whole lab as 'status' shows it.
type Status struct {
	Name         string       `json:"name"`
	Dir          string       `json:"dir"`
	ClusterID    string       `json:"cluster_id"`
	KafkaVersion string       `json:"kafka_version"`
	Layout       string       `json:"layout"`
	QuorumMode   string       `json:"quorum_mode"` // static or dynamic
	Bootstrap    []string     `json:"bootstrap_servers"`
	Nodes        []NodeStatus `json:"nodes"`
	Quorum       *Quorum      `json:"quorum,omitempty"`
	QuorumError  string       `json:"quorum_error,omitempty"`
	// OldClients are requests the brokers refused for their version, most often
	// from clients that need a protocol version Kafka 4.0 removed.
	OldClients []OldClientRefusal `json:"old_clients,omitempty"`
}

// Status reports the lab's processes and, if any controller answers, its quorum.
func (l *Lab) Status(ctx context.Context) (*Status, error) {
	st := &Status{
		Name:         l.State.Name,
		Dir:          l.Paths.Dir,
		ClusterID:    l.State.ClusterID,
		KafkaVersion: l.State.KafkaVersion,
		Layout:       l.State.Layout(),
		QuorumMode:   l.State.QuorumMode(),
		Bootstrap:    l.State.BootstrapServers(),
		OldClients:   l.OldClientRefusals(),
	}
	var ctrlAddrs []string
	for _, n := range l.State.Nodes {
		ns := NodeStatus{ID: n.ID, Roles: n.Roles, State: "stopped"}
		if n.IsBroker() {
			ns.BrokerAddr = n.BrokerAddr()
		}
		if n.IsController() {
			ns.ControllerAddr = n.ControllerAddr()
			ctrlAddrs = append(ctrlAddrs, n.ControllerAddr())
		}
		if l.Paths.NodeAlive(n) {
			ns.PID, ns.State = n.PID, "running"
			if l.Paths.NodePaused(n) {
				ns.State = "paused"
			}
		}
		st.Nodes = append(st.Nodes, ns)
	}
	if !st.anyRunning() {
		return st, nil
	}
	ac, err := newAddrClients(ctrlAddrs)
	if err != nil {
		return nil, err
	}
	defer ac.Close()
	q, err := ac.describeQuorum(ctx)
	if err != nil {
		st.QuorumError = err.Error()
		return st, nil
	}
	st.Quorum = q
	for i := range st.Nodes {
		st.Nodes[i].setQuorumRole(q)
	}
	return st, nil
}

func (st *Status) anyRunning() bool {
	for _, n := range st.Nodes {
		if n.State != "stopped" {
			return true
		}
	}
	return false
}

func (ns *NodeStatus) setQuorumRole(q *Quorum) {
	for role, set := range map[string][]Replica{"voter": q.Voters, "observer": q.Observers} {
		for _, r := range set {
			if int(r.ID) != ns.ID {
				continue
			}
			lag := q.Lag(r)
			ns.Lag = &lag
			switch {
			case role == "observer":
				ns.QuorumRole = "observer"
			case r.ID == q.LeaderID:
				ns.QuorumRole = "leader"
			default:
				ns.QuorumRole = "follower"
			}
		}
	}
}

// Check is nil when every node runs and the quorum has a leader; otherwise it says
// what is wrong.
func (st *Status) Check() error {
	var problems []string
	for _, n := range st.Nodes {
		if n.State != "running" {
			problems = append(problems, fmt.Sprintf("node %d is %s", n.ID, n.State))
		}
	}
	switch {
	case st.Quorum == nil && st.QuorumError != "":
		problems = append(problems, "no controller answered DescribeQuorum: "+st.QuorumError)
	case st.Quorum == nil:
		problems = append(problems, "quorum unknown")
	case st.Quorum.LeaderID < 0:
		problems = append(problems, "the quorum has no leader")
	}
	if len(problems) > 0 {
		return fmt.Errorf("lab %q is not healthy: %s", st.Name, strings.Join(problems, "; "))
	}
	return nil
}
