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
	"unicode/utf8"

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

// Quorum modes: a static voter set (controller.quorum.voters, fixed at format time,
// as in the tutorial) or a dynamic one (KIP-853: controller.quorum.bootstrap.servers,
// voters added and removed at run time).
const (
	QuorumStatic  = "static"
	QuorumDynamic = "dynamic"
)

// Port placement: the bases as given, or the first free window at or after them.
const (
	PortsFixed = "fixed"
	PortsAuto  = "auto"
)

// UpOptions is everything 'kraftlab up' takes. The zero value of each field means
// its default; Normalize fills them in.
type UpOptions struct {
	Home string // "" = DefaultHome()
	Name string // lab name

	Nodes          int    // combined nodes; 0 = DefaultNodes (or the existing lab's size)
	Controllers    int    // isolated roles: controller-only nodes (with Brokers, instead of Nodes)
	Brokers        int    // isolated roles: broker-only nodes (with Controllers, instead of Nodes)
	Quorum         string // QuorumStatic or QuorumDynamic; "" = static (or the existing lab's)
	BrokerPort     int    // base of the broker listener ports
	ControllerPort int    // base of the controller listener ports
	Ports          string // PortsFixed or PortsAuto; "" = fixed
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

// layout is the shape of a lab: combined nodes (each broker and controller), or
// isolated controller-only and broker-only nodes.
type layout struct {
	combined    int
	controllers int // controller-only
	brokers     int // broker-only
}

func (l layout) size() int            { return l.combined + l.controllers + l.brokers }
func (l layout) brokerCount() int     { return l.combined + l.brokers }
func (l layout) controllerCount() int { return l.combined + l.controllers }

// layout resolves the shape of a new lab: --controllers C --brokers B for isolated
// roles, else --nodes N (default DefaultNodes) combined. Mixing the two is a problem.
func (o *UpOptions) layout() (layout, []error) {
	if o.Controllers == 0 && o.Brokers == 0 {
		n := o.Nodes
		if n == 0 {
			n = DefaultNodes
		}
		if n < 1 || n > MaxNodes {
			return layout{}, []error{fmt.Errorf("--nodes %d: want 1 to %d", n, MaxNodes)}
		}
		return layout{combined: n}, nil
	}
	if o.Nodes != 0 {
		return layout{}, []error{fmt.Errorf("--nodes %d with --controllers/--brokers: choose combined nodes (--nodes N) or isolated roles (--controllers C --brokers B), not both", o.Nodes)}
	}
	var errs []error
	if o.Controllers < 1 || o.Controllers > MaxNodes {
		errs = append(errs, fmt.Errorf("--controllers %d: want 1 to %d (isolated roles need both --controllers and --brokers)", o.Controllers, MaxNodes))
	}
	if o.Brokers < 1 || o.Brokers > MaxNodes {
		errs = append(errs, fmt.Errorf("--brokers %d: want 1 to %d (isolated roles need both --controllers and --brokers)", o.Brokers, MaxNodes))
	}
	if len(errs) == 0 && o.Controllers+o.Brokers > MaxNodes {
		errs = append(errs, fmt.Errorf("--controllers %d --brokers %d: at most %d nodes in all", o.Controllers, o.Brokers, MaxNodes))
	}
	return layout{controllers: o.Controllers, brokers: o.Brokers}, errs
}

// Validate checks the options of a new lab and returns every problem found, joined.
func (o *UpOptions) Validate() error {
	var errs []error
	if err := ValidateName(o.Name); err != nil {
		errs = append(errs, fmt.Errorf("--name: %w", err))
	}
	l, layoutErrs := o.layout()
	errs = append(errs, layoutErrs...)
	if o.Quorum != "" && o.Quorum != QuorumStatic && o.Quorum != QuorumDynamic {
		errs = append(errs, fmt.Errorf("--quorum %q: want %s or %s", o.Quorum, QuorumStatic, QuorumDynamic))
	}
	if o.Ports != "" && o.Ports != PortsFixed && o.Ports != PortsAuto {
		errs = append(errs, fmt.Errorf("--ports %q: want %s or %s", o.Ports, PortsFixed, PortsAuto))
	}
	if o.Runtime.Version != "" {
		if err := dist.ValidateVersion(o.Runtime.Version); err != nil {
			errs = append(errs, fmt.Errorf("--kafka-version: %w", err))
		}
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
	if len(layoutErrs) == 0 {
		errs = append(errs, validatePortBlocks(o.BrokerPort, o.ControllerPort, l)...)
		for _, set := range o.Sets {
			if _, err := ParseOverride(set, l.size()); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return usage.Errors(errs)
}

// validatePortBlocks checks the block of broker ports (one per broker) and of
// controller ports (one per controller) lie in range and apart.
func validatePortBlocks(broker, controller int, l layout) []error {
	var errs []error
	check := func(flag string, base, n int) bool {
		if base < 1024 || base > 65535-(n-1) { // not base+n-1: a huge base would overflow
			errs = append(errs, fmt.Errorf("%s %d: the %d ports from it must lie within 1024-65535", flag, base, n))
			return false
		}
		return true
	}
	nb, nc := l.brokerCount(), l.controllerCount()
	okB := check("--broker-port", broker, nb)
	okC := check("--controller-port", controller, nc)
	if okB && okC && nb > 0 && nc > 0 && broker < controller+nc && controller < broker+nb {
		errs = append(errs, fmt.Errorf("--broker-port %d (%d ports) and --controller-port %d (%d ports): the blocks overlap; move one of them", broker, nb, controller, nc))
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
	"process.roles":                       "--nodes",
	"node.id":                             "--nodes",
	"listeners":                           "--broker-port/--controller-port",
	"advertised.listeners":                "--broker-port",
	"controller.listener.names":           "--controller-port",
	"controller.quorum.voters":            "--nodes/--controller-port",
	"controller.quorum.bootstrap.servers": "--quorum dynamic",
	"listener.security.protocol.map":      "--broker-port/--controller-port",
	"inter.broker.listener.name":          "--broker-port",
	"log.dirs":                            "--home/--name",
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
	if !utf8.ValidString(s) {
		return Override{}, fmt.Errorf("--set %q: not valid UTF-8 text", s)
	}
	if strings.IndexFunc(value, func(r rune) bool { return r > 0xFFFF }) >= 0 {
		return Override{}, fmt.Errorf("--set %q: characters beyond U+FFFF (e.g. emoji) are not supported in properties", s)
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

// planNodes lays out a lab on host. Ids count from 1, controllers first: combined
// nodes are 1..N; isolated controllers 1..C and brokers C+1..C+B, so a broker id is
// never a voter id. Ports count up from the bases per role: the k-th broker listens
// on brokerBase+k-1, the k-th controller on controllerBase+k-1, so the first broker
// is on the base port in either mode.
func planNodes(l layout, host string, brokerBase, controllerBase int) []NodeState {
	var nodes []NodeState
	for i := 0; i < l.combined; i++ {
		nodes = append(nodes, NodeState{
			ID:             i + 1,
			Host:           host,
			Roles:          []string{"broker", "controller"},
			BrokerPort:     brokerBase + i,
			ControllerPort: controllerBase + i,
		})
	}
	for i := 0; i < l.controllers; i++ {
		nodes = append(nodes, NodeState{
			ID:             len(nodes) + 1,
			Host:           host,
			Roles:          []string{"controller"},
			ControllerPort: controllerBase + i,
		})
	}
	for i := 0; i < l.brokers; i++ {
		nodes = append(nodes, NodeState{
			ID:         len(nodes) + 1,
			Host:       host,
			Roles:      []string{"broker"},
			BrokerPort: brokerBase + i,
		})
	}
	return nodes
}

// plan validates the options of a new lab and lays out its nodes, placing the port
// blocks first when --ports auto asks for it. home is where other labs' recorded
// ports are looked up.
func (o *UpOptions) plan(home string) (*State, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	l, _ := o.layout()
	broker, controller := o.BrokerPort, o.ControllerPort
	if o.Ports == PortsAuto {
		var err error
		broker, controller, err = pickPortBases(o.Bind, broker, controller, recordedPorts(home), portFree)
		if err != nil {
			return nil, err
		}
	}
	quorum := o.Quorum
	if quorum == "" {
		quorum = QuorumStatic
	}
	return &State{
		Name:   o.Name,
		Heap:   o.Heap,
		Quorum: quorum,
		Sets:   o.Sets,
		Nodes:  planNodes(l, o.Bind, broker, controller),
	}, nil
}
