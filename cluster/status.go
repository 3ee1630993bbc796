package cluster

// This file owns 'status': what each node's process is doing and how it stands in
// the KRaft quorum, in plain words, and the --check verdict.

import (
	"context"
	"errors"
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
	Profile      string       `json:"profile"`     // what the nodes run with: lab, production or lean
	Bootstrap    []string     `json:"bootstrap_servers"`
	Nodes        []NodeStatus `json:"nodes"`
	Quorum       *Quorum      `json:"quorum,omitempty"`
	// Tolerates is how many voters may fail with the quorum still electing a leader.
	Tolerates int `json:"tolerates"`
	// QuorumError says, in plain words, why the quorum could not be described.
	QuorumError string `json:"quorum_error,omitempty"`
	// Warnings are things worth knowing that are not failures (a quorum that
	// tolerates no failure, say).
	Warnings []string `json:"warnings,omitempty"`
	// OldClients are requests the brokers refused for their version, most often
	// from clients that need a protocol version Kafka 4.0 removed.
	OldClients []OldClientRefusal `json:"old_clients,omitempty"`
}

// Status reports the lab's processes and, if any controller answers, its quorum.
// It reads the lab as it is now, without taking its lock: it changes nothing.
func (l *Lab) Status(ctx context.Context) (*Status, error) {
	if err := l.load(); err != nil {
		return nil, err
	}
	if err := l.requireExists(); err != nil {
		return nil, err
	}
	st := &Status{
		Name: l.Name(), Dir: l.dir.Path, ClusterID: l.st.ClusterID, KafkaVersion: l.st.KafkaVersion,
		Layout: l.layout(), QuorumMode: l.spec.Quorum, Profile: l.profile().Name, Bootstrap: l.BootstrapServers(),
		Tolerates: FailuresTolerated(l.voters()), OldClients: l.OldClientRefusals(),
	}
	if w := quorumSizeWarning(l.voters()); w != "" {
		st.Warnings = append(st.Warnings, w)
	}
	for _, n := range l.nodes() {
		ns := NodeStatus{ID: n.ID, Roles: n.Roles, State: "stopped"}
		if n.IsBroker() {
			ns.BrokerAddr = n.BrokerAddr()
		}
		if n.IsController() {
			ns.ControllerAddr = n.ControllerAddr()
		}
		if info, ok := l.process(n); ok {
			ns.PID, ns.State = n.rec.PID, "running"
			if info.Stopped {
				ns.State = "paused"
			}
		}
		st.Nodes = append(st.Nodes, ns)
	}
	if !st.anyRunning() {
		return st, nil
	}
	q, err := l.quorumState(ctx)
	if err != nil {
		st.QuorumError = plainQuorumError(err)
		return st, nil
	}
	st.Quorum = q
	for i := range st.Nodes {
		st.Nodes[i].setQuorumRole(q)
	}
	return st, nil
}

// plainQuorumError says what a failed DescribeQuorum means for the user.
func plainQuorumError(err error) string {
	var nl *NoLeaderError
	if errors.As(err, &nl) {
		return nl.Error()
	}
	return err.Error()
}

// layout describes the lab's shape: "3 combined" or "3 controllers + 2 brokers".
func (l *Lab) layout() string {
	var combined, controllers, brokers int
	for _, n := range l.nodes() {
		switch {
		case n.IsBroker() && n.IsController():
			combined++
		case n.IsController():
			controllers++
		default:
			brokers++
		}
	}
	var parts []string
	if combined > 0 {
		parts = append(parts, fmt.Sprintf("%d combined", combined))
	}
	if controllers > 0 {
		parts = append(parts, plural(controllers, "controller"))
	}
	if brokers > 0 {
		parts = append(parts, plural(brokers, "broker"))
	}
	return strings.Join(parts, " + ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
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
		problems = append(problems, st.QuorumError)
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
