package cluster

// This file owns the lab spec: one declarative description of a lab that the CLI
// flags, 'up -f lab.yaml', the Go API and the exporters all fill in and read. Its
// defaults and validation live here; its YAML form in specfile.go.

import (
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
	"github.com/kraftlab/kraftlab/cluster/internal/strictyaml"
)

// Spec is a lab: its name, Kafka release, topology, ports, JVM and broker
// settings, and the topics it starts with. The zero value of a field means its
// default (see Default).
type Spec struct {
	// Name names the lab: its directory under the lab home. [a-z0-9-], 1-63
	// characters.
	Name string `yaml:"name" json:"name" pattern:"^[a-z0-9][a-z0-9-]{0,62}$" doc:"The lab's name: its directory under the lab home."`
	// Kafka is the release the nodes run.
	Kafka KafkaSpec `yaml:"kafka,omitempty" json:"kafka,omitempty" doc:"The Kafka release the nodes run."`
	// Quorum is QuorumStatic (controller.quorum.voters, the default) or
	// QuorumDynamic (KIP-853: voters added and removed at run time).
	Quorum string `yaml:"quorum,omitempty" json:"quorum,omitempty" enum:"static,dynamic" doc:"static: controller.quorum.voters (default); dynamic: KIP-853, voters added and removed at run time."`
	// Nodes is the topology.
	Nodes NodesSpec `yaml:"nodes,omitempty" json:"nodes,omitempty" doc:"The topology: counts of combined, controller-only and broker-only nodes, or an explicit list. Default: 3 combined."`
	// Ports places the listeners.
	Ports PortsSpec `yaml:"ports,omitempty" json:"ports,omitempty" doc:"Where the listeners go."`
	// Bind is the address every listener binds and advertises; 127.0.0.1 by default.
	Bind string `yaml:"bind,omitempty" json:"bind,omitempty" doc:"The address every listener binds and advertises (default 127.0.0.1)."`
	// Profile is the set of broker properties, JVM flags and default heap the
	// nodes run with: ProfileLab (the default), ProfileProduction or ProfileLean.
	Profile string `yaml:"profile,omitempty" json:"profile,omitempty" enum:"lab,production,lean" doc:"lab: KRaft timers for one machine and a C1-only JIT (default); production: Kafka's own settings; lean: lab plus fewer threads, serial GC and a 256M heap, for the least memory per node."`
	// Heap is the JVM heap of each node, e.g. 512M or 1G; the profile's by default.
	Heap string `yaml:"heap,omitempty" json:"heap,omitempty" pattern:"^[1-9][0-9]*[mMgG]$" doc:"JVM heap per node, e.g. 512M or 1G (default: the profile's, 512M; lean 256M)."`
	// Properties are broker properties set on every node (what --set key=value
	// does). Properties kraftlab derives from the topology are refused.
	Properties map[string]string `yaml:"properties,omitempty" json:"properties,omitempty" doc:"Broker properties for every node (--set key=value)."`
	// NodeProperties are broker properties for one node, by node id (what --set
	// ID:key=value does); they win over Properties.
	NodeProperties map[int]map[string]string `yaml:"nodeProperties,omitempty" json:"nodeProperties,omitempty" doc:"Broker properties for one node, by node id (--set ID:key=value)."`
	// PluginProperties are property names (or prefixes ending in '.') Kafka's own
	// list does not know, a plugin's, passed through unchecked.
	PluginProperties []string `yaml:"pluginProperties,omitempty" json:"pluginProperties,omitempty" doc:"Property names (or prefixes ending in '.') that Kafka's own list does not know, e.g. a plugin's; passed through unchecked (--plugin-property)."`
	// Security secures every listener (clients, between brokers, the controllers'),
	// with users and ACLs; nil is a plaintext lab.
	Security *SecuritySpec `yaml:"security,omitempty" json:"security,omitempty" doc:"TLS, mTLS or SASL on every listener, users and ACLs (default: plaintext)."`
	// Topics are created, if missing, once the lab is ready.
	Topics []TopicSpec `yaml:"topics,omitempty" json:"topics,omitempty" doc:"Topics created, if missing, once the lab is ready."`
}

// KafkaSpec chooses the Kafka release.
type KafkaSpec struct {
	// Version is a release such as 4.1.1, fetched and cached on first use.
	Version string `yaml:"version,omitempty" json:"version,omitempty" pattern:"^[0-9]+\\.[0-9]+\\.[0-9]+$" doc:"A Kafka release such as 4.1.1, fetched and cached on first use."`
	// Home is an unpacked official Kafka tarball to run instead (its libs/); its own
	// version then wins, and Version, if set, must match it.
	Home string `yaml:"home,omitempty" json:"home,omitempty" doc:"An unpacked official Kafka tarball to run instead of a fetched release."`
}

// NodesSpec is the lab's topology: combined nodes (each broker and controller),
// controller-only and broker-only nodes. Ids count from 1 in that order: combined
// 1..N, then the controllers, then the brokers, so a broker id is never a voter id.
// List names each node instead, for labs whose nodes changed after creation.
type NodesSpec struct {
	Combined    int        `yaml:"combined,omitempty" json:"combined,omitempty" min:"0" max:"9" doc:"Nodes that are both broker and controller."`
	Controllers int        `yaml:"controllers,omitempty" json:"controllers,omitempty" min:"0" max:"9" doc:"Controller-only nodes (the KRaft voters)."`
	Brokers     int        `yaml:"brokers,omitempty" json:"brokers,omitempty" min:"0" max:"9" doc:"Broker-only nodes."`
	List        []NodeSpec `yaml:"list,omitempty" json:"list,omitempty" doc:"Every node by id, instead of the counts."`
}

// NodeSpec is one node of an explicit node list.
type NodeSpec struct {
	ID int `yaml:"id" json:"id" min:"1" doc:"The node id."`
	// Role is RoleCombined, RoleController or RoleBroker.
	Role string `yaml:"role" json:"role" enum:"combined,controller,broker" doc:"combined (broker and controller), controller or broker."`
	// BrokerPort and ControllerPort place this node's listeners; 0 counts on from
	// the port bases like the counted form does.
	BrokerPort     int `yaml:"brokerPort,omitempty" json:"brokerPort,omitempty" min:"1024" max:"65535" doc:"This node's broker port (default: counted on from ports.broker)."`
	ControllerPort int `yaml:"controllerPort,omitempty" json:"controllerPort,omitempty" min:"1024" max:"65535" doc:"This node's controller port (default: counted on from ports.controller)."`
}

// Node roles.
const (
	RoleCombined   = "combined"
	RoleController = "controller"
	RoleBroker     = "broker"
)

// PortsSpec places the listeners: the k-th broker listens on Broker+k-1, the k-th
// controller on Controller+k-1. Auto takes the first window of free ports from the
// bases upward instead, avoiding other labs and concurrent kraftlab commands.
type PortsSpec struct {
	Broker     int  `yaml:"broker,omitempty" json:"broker,omitempty" min:"1024" max:"65535" doc:"The first broker (client) port (default 9092)."`
	Controller int  `yaml:"controller,omitempty" json:"controller,omitempty" min:"1024" max:"65535" doc:"The first controller port (default 19092)."`
	Auto       bool `yaml:"auto,omitempty" json:"auto,omitempty" doc:"Take the first free window of ports from the bases upward."`
}

// TopicSpec is a topic the lab starts with.
type TopicSpec struct {
	Name string `yaml:"name" json:"name" doc:"The topic's name."`
	// Partitions defaults to 3.
	Partitions int `yaml:"partitions,omitempty" json:"partitions,omitempty" min:"1" max:"10000" doc:"Partition count (default 3)."`
	// ReplicationFactor defaults to min(3, brokers).
	ReplicationFactor int               `yaml:"replicationFactor,omitempty" json:"replicationFactor,omitempty" min:"1" max:"9" doc:"Replicas per partition (default min(3, brokers))."`
	Configs           map[string]string `yaml:"configs,omitempty" json:"configs,omitempty" doc:"Topic configs, e.g. min.insync.replicas."`
}

// Defaults follow the tutorial users know: brokers on 9092.., controllers on 19092...
const (
	DefaultNodes          = 3
	MaxNodes              = 9
	DefaultBrokerPort     = 9092
	DefaultControllerPort = 19092
	DefaultHeap           = "512M"
	DefaultProfile        = ProfileLab
	// DefaultBind keeps a lab reachable from this machine only.
	DefaultBind = "127.0.0.1"
)

// Profiles: what the nodes run with besides the layout.
const (
	ProfileLab        = render.ProfileLab
	ProfileProduction = render.ProfileProduction
	ProfileLean       = render.ProfileLean
)

// Quorum modes.
const (
	QuorumStatic  = "static"
	QuorumDynamic = "dynamic"
)

// Default returns the spec with every unset field given its default. The Kafka
// version is left empty when a Kafka home is given: the home's own version is the
// lab's.
func (s Spec) Default() Spec {
	out := s.clone()
	if out.Name == "" {
		out.Name = "default"
	}
	if out.Kafka.Version == "" && out.Kafka.Home == "" {
		out.Kafka.Version = dist.DefaultVersion
	}
	if out.Quorum == "" {
		out.Quorum = QuorumStatic
	}
	if out.Nodes.Combined == 0 && out.Nodes.Controllers == 0 && out.Nodes.Brokers == 0 && len(out.Nodes.List) == 0 {
		out.Nodes.Combined = DefaultNodes
	}
	if out.Ports.Broker == 0 {
		out.Ports.Broker = DefaultBrokerPort
	}
	if out.Ports.Controller == 0 {
		out.Ports.Controller = DefaultControllerPort
	}
	if out.Bind == "" {
		out.Bind = DefaultBind
	}
	if out.Profile == "" {
		out.Profile = DefaultProfile
	}
	if out.Heap == "" {
		out.Heap = DefaultHeap
		if p, ok := render.LookupProfile(out.Profile); ok {
			out.Heap = p.Heap
		}
	}
	return out
}

// clone copies the spec deeply, so a caller's maps and slices are never shared.
func (s Spec) clone() Spec {
	out := s
	out.Nodes.List = slices.Clone(s.Nodes.List)
	out.Properties = maps.Clone(s.Properties)
	if s.NodeProperties != nil {
		out.NodeProperties = make(map[int]map[string]string, len(s.NodeProperties))
		for id, p := range s.NodeProperties {
			out.NodeProperties[id] = maps.Clone(p)
		}
	}
	out.PluginProperties = slices.Clone(s.PluginProperties)
	if s.Security != nil {
		sec := *s.Security
		sec.Users = slices.Clone(s.Security.Users)
		sec.ACLs = slices.Clone(s.Security.ACLs)
		for i, a := range sec.ACLs {
			sec.ACLs[i].Operations = slices.Clone(a.Operations)
		}
		out.Security = &sec
	}
	out.Topics = slices.Clone(s.Topics)
	for i, t := range out.Topics {
		out.Topics[i].Configs = maps.Clone(t.Configs)
	}
	return out
}

// FieldError is one problem with one field of a spec, by its path (e.g.
// nodes.combined, properties["num.partitions"], topics[0].name).
type FieldError struct {
	Path  string
	Value string // as given, for the message; "" when there is none
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: %s", e.Path, e.Msg)
	}
	return fmt.Sprintf("%s %s: %s", e.Path, e.Value, e.Msg)
}

var (
	heapRE        = regexp.MustCompile(`^[1-9][0-9]*[mMgG]$`)
	labNameRE     = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	propertyKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// Validate checks a defaulted spec and returns every problem found, each naming
// its field.
func (s Spec) Validate() []*FieldError {
	var errs []*FieldError
	add := func(path, value, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Value: value, Msg: fmt.Sprintf(format, args...)})
	}
	if !labNameRE.MatchString(s.Name) {
		add("name", strconv.Quote(s.Name), "use 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit")
	}
	if s.Kafka.Version != "" {
		if err := dist.ValidateVersion(s.Kafka.Version); err != nil {
			add("kafka.version", "", "%v", err)
		}
	}
	if s.Quorum != QuorumStatic && s.Quorum != QuorumDynamic {
		add("quorum", strconv.Quote(s.Quorum), "want %s or %s", QuorumStatic, QuorumDynamic)
	}
	if _, ok := render.LookupProfile(s.Profile); !ok {
		add("profile", strconv.Quote(s.Profile), "want %s", strings.Join(render.ProfileNames(), ", "))
	}
	if !heapRE.MatchString(s.Heap) {
		add("heap", strconv.Quote(s.Heap), "want a size like 512M or 1G")
	}
	if ip := net.ParseIP(s.Bind); ip == nil || ip.IsUnspecified() || ip.IsMulticast() || ip.Equal(net.IPv4bcast) {
		add("bind", strconv.Quote(s.Bind), "want one unicast IP address of this machine (clients are told to connect to it, so not 0.0.0.0, ::, a multicast or a broadcast address)")
	}
	nodes, nodeErrs := s.nodeList()
	errs = append(errs, nodeErrs...)
	if len(nodeErrs) == 0 {
		errs = append(errs, validatePorts(s.Ports, nodes)...)
	}
	errs = append(errs, validateProperties("properties", s.Properties)...)
	for _, id := range sortedKeys(s.NodeProperties) {
		path := fmt.Sprintf("nodeProperties[%d]", id)
		if len(nodeErrs) == 0 && !slices.ContainsFunc(nodes, func(n NodeSpec) bool { return n.ID == id }) {
			add(path, "", "node %d does not exist (this lab has nodes %s)", id, idList(nodes))
		}
		errs = append(errs, validateProperties(path, s.NodeProperties[id])...)
	}
	errs = append(errs, validateTopics(s.Topics, nodes)...)
	errs = append(errs, s.Security.validate()...)
	return errs
}

// nodeList expands the topology into one entry per node, in id order, with every
// port placed.
func (s Spec) nodeList() ([]NodeSpec, []*FieldError) {
	n := s.Nodes
	var errs []*FieldError
	if len(n.List) > 0 {
		if n.Combined != 0 || n.Controllers != 0 || n.Brokers != 0 {
			errs = append(errs, &FieldError{Path: "nodes.list", Msg: "give either the counts (combined, controllers, brokers) or a list of nodes, not both"})
			return nil, errs
		}
		return s.explicitNodes()
	}
	for _, c := range []struct {
		path string
		v    int
	}{{"nodes.combined", n.Combined}, {"nodes.controllers", n.Controllers}, {"nodes.brokers", n.Brokers}} {
		if c.v < 0 || c.v > MaxNodes {
			errs = append(errs, &FieldError{Path: c.path, Value: strconv.Itoa(c.v), Msg: fmt.Sprintf("want 0 to %d", MaxNodes)})
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	var list []NodeSpec
	for range n.Combined {
		list = append(list, NodeSpec{ID: len(list) + 1, Role: RoleCombined})
	}
	for range n.Controllers {
		list = append(list, NodeSpec{ID: len(list) + 1, Role: RoleController})
	}
	for range n.Brokers {
		list = append(list, NodeSpec{ID: len(list) + 1, Role: RoleBroker})
	}
	s.Nodes.List = list
	return s.explicitNodes()
}

// explicitNodes checks an explicit node list and places the ports not given.
func (s Spec) explicitNodes() ([]NodeSpec, []*FieldError) {
	var errs []*FieldError
	add := func(path, value, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Value: value, Msg: fmt.Sprintf(format, args...)})
	}
	var brokers, controllers int
	seen := map[int]bool{}
	for i, n := range s.Nodes.List {
		path := fmt.Sprintf("nodes.list[%d]", i)
		if n.ID < 1 {
			add(path+".id", strconv.Itoa(n.ID), "want a node id of 1 or more")
		}
		if seen[n.ID] {
			add(path+".id", strconv.Itoa(n.ID), "appears twice")
		}
		seen[n.ID] = true
		switch n.Role {
		case RoleCombined:
			brokers++
			controllers++
		case RoleBroker:
			brokers++
		case RoleController:
			controllers++
		default:
			add(path+".role", strconv.Quote(n.Role), "want %s, %s or %s", RoleCombined, RoleController, RoleBroker)
		}
	}
	switch {
	case len(s.Nodes.List) > MaxNodes:
		add("nodes", "", "%d nodes: at most %d in all", len(s.Nodes.List), MaxNodes)
	case controllers == 0:
		add("nodes", "", "no controller: a KRaft lab needs at least one combined or controller node")
	case brokers == 0:
		add("nodes", "", "no broker: a lab needs at least one combined or broker node to serve clients")
	}
	if len(errs) > 0 {
		return nil, errs
	}
	list := slices.Clone(s.Nodes.List)
	sort.SliceStable(list, func(a, b int) bool { return list[a].ID < list[b].ID })
	kb, kc := 0, 0
	for i := range list {
		if list[i].hasBroker() {
			if list[i].BrokerPort == 0 {
				list[i].BrokerPort = s.Ports.Broker + kb
			}
			kb++
		} else {
			list[i].BrokerPort = 0
		}
		if list[i].hasController() {
			if list[i].ControllerPort == 0 {
				list[i].ControllerPort = s.Ports.Controller + kc
			}
			kc++
		} else {
			list[i].ControllerPort = 0
		}
	}
	return list, nil
}

func (n NodeSpec) hasBroker() bool     { return n.Role == RoleCombined || n.Role == RoleBroker }
func (n NodeSpec) hasController() bool { return n.Role == RoleCombined || n.Role == RoleController }

// roles is the node's process.roles.
func (n NodeSpec) roles() []string {
	switch n.Role {
	case RoleCombined:
		return []string{"broker", "controller"}
	case RoleController:
		return []string{"controller"}
	}
	return []string{"broker"}
}

func idList(nodes []NodeSpec) string {
	var ids []string
	for _, n := range nodes {
		ids = append(ids, strconv.Itoa(n.ID))
	}
	return strings.Join(ids, ", ")
}

// validatePorts checks every port lies in range and no two nodes share one.
func validatePorts(p PortsSpec, nodes []NodeSpec) []*FieldError {
	var errs []*FieldError
	for _, b := range []struct {
		path string
		v    int
	}{{"ports.broker", p.Broker}, {"ports.controller", p.Controller}} {
		if b.v < 1024 || b.v > 65535 {
			errs = append(errs, &FieldError{Path: b.path, Value: strconv.Itoa(b.v), Msg: "want a port within 1024-65535"})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	owner := map[int]string{}
	for _, n := range nodes {
		for _, u := range []struct {
			port int
			what string
			path string
		}{{n.BrokerPort, "broker", "ports.broker"}, {n.ControllerPort, "controller", "ports.controller"}} {
			if u.port == 0 {
				continue
			}
			me := fmt.Sprintf("node %d %s listener", n.ID, u.what)
			if u.port < 1024 || u.port > 65535 {
				errs = append(errs, &FieldError{Path: u.path, Value: strconv.Itoa(u.port), Msg: fmt.Sprintf("%s would be on port %d: the ports must lie within 1024-65535; choose a lower base", me, u.port)})
				continue
			}
			if other, ok := owner[u.port]; ok {
				errs = append(errs, &FieldError{Path: u.path, Value: strconv.Itoa(u.port), Msg: fmt.Sprintf("%s and %s would share port %d: the broker and controller blocks overlap; move one of them", other, me, u.port)})
				continue
			}
			owner[u.port] = me
		}
	}
	return errs
}

// validateProperties checks broker property overrides: names Kafka could know,
// none that kraftlab derives from the topology, values a properties file can hold.
func validateProperties(path string, props map[string]string) []*FieldError {
	var errs []*FieldError
	for _, k := range slices.Sorted(maps.Keys(props)) {
		v := props[k]
		p := fmt.Sprintf("%s[%q]", path, k)
		switch {
		case !propertyKeyRE.MatchString(k):
			errs = append(errs, &FieldError{Path: p, Msg: "not a property name"})
		case render.ManagedBy(k) != "":
			errs = append(errs, &FieldError{Path: p, Msg: fmt.Sprintf("%s is set by kraftlab; use %s instead", k, render.ManagedBy(k))})
		case !utf8.ValidString(k + v):
			errs = append(errs, &FieldError{Path: p, Msg: "not valid UTF-8 text"})
		case strings.IndexFunc(v, func(r rune) bool { return r > 0xFFFF }) >= 0:
			errs = append(errs, &FieldError{Path: p, Msg: "characters beyond U+FFFF (e.g. emoji) are not supported in properties"})
		case strings.ContainsAny(v, "\n\r"):
			errs = append(errs, &FieldError{Path: p, Msg: "the value may not contain a line break"})
		}
	}
	return errs
}

var topicNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

func validateTopics(topics []TopicSpec, nodes []NodeSpec) []*FieldError {
	var errs []*FieldError
	brokers := 0
	for _, n := range nodes {
		if n.hasBroker() {
			brokers++
		}
	}
	seen := map[string]bool{}
	for i, t := range topics {
		path := fmt.Sprintf("topics[%d]", i)
		switch {
		case !topicNameRE.MatchString(t.Name) || t.Name == "." || t.Name == "..":
			errs = append(errs, &FieldError{Path: path + ".name", Value: strconv.Quote(t.Name), Msg: "want 1-249 characters of letters, digits, '.', '_' and '-' (not . or ..)"})
		case seen[t.Name]:
			errs = append(errs, &FieldError{Path: path + ".name", Value: strconv.Quote(t.Name), Msg: "appears twice"})
		}
		seen[t.Name] = true
		if t.Partitions < 0 || t.Partitions > 10000 {
			errs = append(errs, &FieldError{Path: path + ".partitions", Value: strconv.Itoa(t.Partitions), Msg: "want 1 to 10000"})
		}
		if t.ReplicationFactor < 0 || (brokers > 0 && t.ReplicationFactor > brokers) {
			errs = append(errs, &FieldError{Path: path + ".replicationFactor", Value: strconv.Itoa(t.ReplicationFactor), Msg: fmt.Sprintf("want 1 to the lab's %d broker(s)", brokers)})
		}
		for _, k := range slices.Sorted(maps.Keys(t.Configs)) {
			if !propertyKeyRE.MatchString(k) {
				errs = append(errs, &FieldError{Path: fmt.Sprintf("%s.configs[%q]", path, k), Msg: "not a topic config name"})
			}
		}
	}
	return errs
}

func sortedKeys[V any](m map[int]V) []int { return slices.Sorted(maps.Keys(m)) }

// unknownProperties lists the spec's property names that known (every broker
// property the lab's release reports) lacks, with the closest known names; names
// the spec declares a plugin's pass, and so do per-listener settings
// (listener.name.<listener>.<property>), which Kafka does not list by name.
func (s Spec) unknownProperties(known map[string]bool, version string) []*FieldError {
	if known == nil {
		return nil
	}
	var names []string
	for name := range known {
		names = append(names, name)
	}
	var errs []*FieldError
	check := func(path string, props map[string]string) {
		for _, k := range slices.Sorted(maps.Keys(props)) {
			if known[k] || strings.HasPrefix(k, "listener.name.") || s.isPluginProperty(k) {
				continue
			}
			msg := fmt.Sprintf("%s is not a broker property Kafka %s knows", k, version)
			if close := strictyaml.Closest(k, names, 3); len(close) > 0 {
				msg += fmt.Sprintf(" (did you mean %s?)", strings.Join(close[:min(3, len(close))], " or "))
			}
			msg += "; a plugin's own property passes with --plugin-property " + k + " (spec: pluginProperties)"
			errs = append(errs, &FieldError{Path: fmt.Sprintf("%s[%q]", path, k), Msg: msg})
		}
	}
	check("properties", s.Properties)
	for _, id := range sortedKeys(s.NodeProperties) {
		check(fmt.Sprintf("nodeProperties[%d]", id), s.NodeProperties[id])
	}
	return errs
}

func (s Spec) isPluginProperty(name string) bool {
	for _, p := range s.PluginProperties {
		if p == name || (strings.HasSuffix(p, ".") && strings.HasPrefix(name, p)) {
			return true
		}
	}
	return false
}
