package cluster

// This file owns the port preflight: every port a lab needs is tried with a real
// listen before anything starts, so a clash is reported up front with the node and
// the flag that moves it, instead of as a broker dying later.

import (
	"errors"
	"fmt"
	"net"
	"os"
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

// listenOnce tries a real listen on host:port and closes it again.
func listenOnce(host string, port int) error {
	ln, err := net.Listen("tcp", hostPort(host, port))
	if err != nil {
		return err
	}
	return ln.Close()
}

// portFree reports whether nothing listens on host:port.
func portFree(host string, port int) bool { return listenOnce(host, port) == nil }

// checkPortsFree listens on every port once and reports all that are taken.
func checkPortsFree(uses []portUse) error {
	var errs []error
	for _, u := range uses {
		err := listenOnce(u.Host, u.Port)
		if err == nil {
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

// portWindow is how many ports per role a lab placed by --ports auto keeps to
// itself: room for MaxNodes and a node added later, so neighbouring labs never meet.
const portWindow = 10

// pickPortBases returns the first pair of bases, from the given ones upward in steps
// of portWindow, whose windows are wholly free: no port recorded by another lab
// (which may be stopped now but will want its ports back) and none listened on by
// any program. Both bases move together, so the blocks stay as far apart as asked.
func pickPortBases(host string, broker, controller int, recorded map[int]bool, free func(host string, port int) bool) (int, int, error) {
	windowFree := func(base int) bool {
		for p := base; p < base+portWindow; p++ {
			if recorded[p] || !free(host, p) {
				return false
			}
		}
		return true
	}
	for b, c := broker, controller; max(b, c)+portWindow-1 <= 65535; b, c = b+portWindow, c+portWindow {
		if windowFree(b) && windowFree(c) {
			return b, c, nil
		}
	}
	return 0, 0, fmt.Errorf("--ports auto: no free window of %d ports from --broker-port %d and --controller-port %d upward; choose lower bases", portWindow, broker, controller)
}

// recordedPorts is every port the labs under home have recorded, running or not.
func recordedPorts(home string) map[int]bool {
	ports := make(map[int]bool)
	for _, s := range readLabs(home) {
		if s.State == nil {
			continue
		}
		for _, n := range s.State.Nodes {
			ports[n.BrokerPort], ports[n.ControllerPort] = true, true
		}
	}
	delete(ports, 0)
	return ports
}

// ephemeralPorts lists the ports of nodes inside the kernel's ephemeral port range
// (net.ipv4.ip_local_port_range), and that range. There a client that keeps
// reconnecting to a stopped node (a broker to a killed controller, say) can be
// handed that very port as its source and connect to itself; the socket then holds
// the port, and the node cannot bind it again for a minute.
func ephemeralPorts(nodes []NodeState) (ports []int, lo, hi int) {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return nil, 0, 0
	}
	if _, err := fmt.Sscan(string(b), &lo, &hi); err != nil {
		return nil, 0, 0
	}
	for _, u := range portsOf(nodes) {
		if u.Port >= lo && u.Port <= hi {
			ports = append(ports, u.Port)
		}
	}
	return ports, lo, hi
}
