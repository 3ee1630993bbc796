package cluster

// This file owns what a user asks of a lab (UpOptions), its defaults, and the
// validation that reports every problem at once before anything is touched.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/kraftlab/kraftlab/cluster/dist"
)

// Defaults follow the tutorial users know: brokers on 9092.., controllers on 19092...
const (
	DefaultNodes          = 3
	MaxNodes              = 9
	DefaultBrokerPort     = 9092
	DefaultControllerPort = 19092
	DefaultHeap           = "512M"
	DefaultWait           = 120 * time.Second
)

// UpOptions is everything 'kraftlab up' takes. The zero value of each field means
// its default; Normalize fills them in.
type UpOptions struct {
	Home string // "" = DefaultHome()
	Name string // lab name

	Nodes          int    // combined nodes; 0 = DefaultNodes (or the existing lab's size)
	BrokerPort     int    // base of the broker listener ports
	ControllerPort int    // base of the controller listener ports
	Heap           string // JVM heap per node, e.g. 512M
	Bind           string // address every listener binds; "" = 127.0.0.1
	Sets           []string
	Wait           time.Duration // readiness deadline
	Retain         bool          // keep started nodes when up fails
	Only           []int         // start only these nodes of an existing lab (node start)

	Runtime  dist.Options
	Progress io.Writer // step progress (stderr); nil = discard
}

// Normalize fills in defaults.
func (o *UpOptions) Normalize() {
	if o.Name == "" {
		o.Name = "default"
	}
	if o.BrokerPort == 0 {
		o.BrokerPort = DefaultBrokerPort
	}
	if o.ControllerPort == 0 {
		o.ControllerPort = DefaultControllerPort
	}
	if o.Heap == "" {
		o.Heap = DefaultHeap
	}
	if o.Wait == 0 {
		o.Wait = DefaultWait
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

var heapRE = regexp.MustCompile(`^[1-9][0-9]*[mMgG]$`)

// Validate checks the options of a new lab and returns every problem found, joined.
// nodes is the lab size to plan for.
func (o *UpOptions) Validate(nodes int) error {
	var errs []error
	if err := ValidateName(o.Name); err != nil {
		errs = append(errs, fmt.Errorf("--name: %w", err))
	}
	if nodes < 1 || nodes > MaxNodes {
		errs = append(errs, fmt.Errorf("--nodes %d: want 1 to %d", nodes, MaxNodes))
	}
	if !heapRE.MatchString(o.Heap) {
		errs = append(errs, fmt.Errorf("--heap %q: want a size like 512M or 1G", o.Heap))
	}
	if o.Wait < 0 {
		errs = append(errs, fmt.Errorf("--wait %s: must be positive", o.Wait))
	}
	if o.Bind != "" {
		if ip := net.ParseIP(o.Bind); ip == nil || ip.IsUnspecified() {
			errs = append(errs, fmt.Errorf("--bind %q: want one concrete IP address of this machine (clients are told to connect to it, so not 0.0.0.0 or ::)", o.Bind))
		}
	}
	if nodes >= 1 && nodes <= MaxNodes {
		errs = append(errs, validatePortBlocks(o.BrokerPort, o.ControllerPort, nodes)...)
	}
	for _, set := range o.Sets {
		if _, err := ParseOverride(set, nodes); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return usage.Errors(errs)
}

func validatePortBlocks(broker, controller, nodes int) []error {
	var errs []error
	check := func(flag string, base int) bool {
		if base < 1024 || base+nodes-1 > 65535 {
			errs = append(errs, fmt.Errorf("%s %d: the %d ports from it must lie within 1024-65535", flag, base, nodes))
			return false
		}
		return true
	}
	okB := check("--broker-port", broker)
	okC := check("--controller-port", controller)
	if okB && okC && broker < controller+nodes && controller < broker+nodes {
		errs = append(errs, fmt.Errorf("--broker-port %d and --controller-port %d: the blocks of %d ports overlap; move one of them", broker, controller, nodes))
	}
	return errs
}

// Override is one --set: a property for every node (Node 0) or for one node.
type Override struct {
	Node  int
	Key   string
	Value string
}

// managedKeys are rendered from the lab's topology; overriding them would break the
// quorum or the port plan, so the flags that control them are named instead.
var managedKeys = map[string]string{
	"process.roles":                  "--nodes",
	"node.id":                        "--nodes",
	"listeners":                      "--broker-port/--controller-port",
	"advertised.listeners":           "--broker-port",
	"controller.listener.names":      "--controller-port",
	"controller.quorum.voters":       "--nodes/--controller-port",
	"listener.security.protocol.map": "--broker-port/--controller-port",
	"inter.broker.listener.name":     "--broker-port",
	"log.dirs":                       "--home/--name",
}

var propertyKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ParseOverride parses "key=value" or "NODE:key=value".
func ParseOverride(s string, nodes int) (Override, error) {
	eq := strings.IndexByte(s, '=')
	if eq < 0 {
		return Override{}, fmt.Errorf("--set %q: want key=value or NODE:key=value", s)
	}
	left, value := s[:eq], s[eq+1:]
	o := Override{Key: left, Value: value}
	if colon := strings.IndexByte(left, ':'); colon >= 0 {
		id, err := strconv.Atoi(left[:colon])
		if err != nil {
			return Override{}, fmt.Errorf("--set %q: %q before ':' is not a node id", s, left[:colon])
		}
		if id < 1 || id > nodes {
			return Override{}, fmt.Errorf("--set %q: node %d does not exist (this lab has nodes 1-%d)", s, id, nodes)
		}
		o.Node, o.Key = id, left[colon+1:]
	}
	if !propertyKeyRE.MatchString(o.Key) {
		return Override{}, fmt.Errorf("--set %q: %q is not a property name", s, o.Key)
	}
	if flag, ok := managedKeys[o.Key]; ok {
		return Override{}, fmt.Errorf("--set %q: %s is set by kraftlab from the lab's layout; use %s instead", s, o.Key, flag)
	}
	if strings.ContainsAny(value, "\n\r") {
		return Override{}, fmt.Errorf("--set %q: the value may not contain a line break", s)
	}
	return o, nil
}

// ParseOverrides parses every --set, reporting all malformed ones together.
func ParseOverrides(sets []string, nodes int) ([]Override, error) {
	var out []Override
	var errs []error
	for _, s := range sets {
		o, err := ParseOverride(s, nodes)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, o)
	}
	return out, errors.Join(errs...)
}

// planNodes lays out n combined nodes on host: ids 1..n, ports counting up from
// the bases.
func planNodes(n int, host string, brokerBase, controllerBase int) []NodeState {
	nodes := make([]NodeState, n)
	for i := range nodes {
		nodes[i] = NodeState{
			ID:             i + 1,
			Host:           host,
			Roles:          []string{"broker", "controller"},
			BrokerPort:     brokerBase + i,
			ControllerPort: controllerBase + i,
		}
	}
	return nodes
}
