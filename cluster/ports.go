package cluster

// This file owns the port preflight: every port a lab needs is tried with a real
// listen before anything starts, so a clash is reported up front with the node and
// the flag that moves it, instead of as a broker dying later.

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// portUse is one port a node needs.
type portUse struct {
	Host string
	Port int
	Node int
	Role string // "broker" or "controller"
}

func (u portUse) flag() string {
	if u.Role == "broker" {
		return "--broker-port"
	}
	return "--controller-port"
}

// portsOf lists every port the nodes listen on.
func portsOf(nodes []NodeState) []portUse {
	var uses []portUse
	for _, n := range nodes {
		if n.IsBroker() {
			uses = append(uses, portUse{n.Host, n.BrokerPort, n.ID, "broker"})
		}
		if n.IsController() {
			uses = append(uses, portUse{n.Host, n.ControllerPort, n.ID, "controller"})
		}
	}
	return uses
}

// checkPortsFree listens on every port once and reports all that are taken.
func checkPortsFree(uses []portUse) error {
	var errs []error
	for _, u := range uses {
		ln, err := net.Listen("tcp", hostPort(u.Host, u.Port))
		if err == nil {
			ln.Close()
			continue
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			errs = append(errs, fmt.Errorf("port %d (node %d %s listener) is already in use by another program; free it or choose another base with %s", u.Port, u.Node, u.Role, u.flag()))
			continue
		}
		errs = append(errs, fmt.Errorf("port %d (node %d %s listener): %w; choose another base with %s", u.Port, u.Node, u.Role, err, u.flag()))
	}
	return errors.Join(errs...)
}
