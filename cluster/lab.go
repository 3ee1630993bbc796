// Package cluster runs real Apache Kafka clusters in KRaft mode as plain processes
// on one machine: labs. A lab is declared by a Spec — topology, quorum, ports,
// Kafka release, broker properties, topics — and driven through a *Lab handle,
// whose methods do everything the kraftlab command does: bring it up and down,
// report its status, break and restart its nodes, add and remove brokers and
// controllers, and upgrade it. Each method holds the lab's lock for its whole
// duration, so two commands never act on one lab at once.
//
//	lab, err := cluster.New(cluster.Config{}, cluster.Spec{Name: "demo", Nodes: cluster.NodesSpec{Combined: 3}})
//	...
//	_, err = lab.Up(ctx, cluster.UpOptions{})
//	fmt.Println(lab.BootstrapServers())
//	_, err = lab.Down(ctx, cluster.DownOptions{Purge: true})
package cluster

// This file owns the Lab handle: opening a lab or declaring a new one, loading its
// spec and state, and the locked operation every method runs in.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/flock"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// Config says where labs live and how kraftlab gets Kafka. It is not part of any
// lab, and nothing in it is read from the environment: the kraftlab command maps
// KRAFTLAB_HOME and friends onto it.
type Config struct {
	// Home holds the labs, one directory each; "" = DefaultHome().
	Home string
	// Runtime says where runtimes are cached and fetched from. Its Version and
	// KafkaHome are ignored: a lab's spec chooses its release.
	Runtime dist.Options
	// Progress receives step progress (" ✓ Starting 3 nodes"); nil = discard.
	Progress io.Writer
}

// Timing is how long one step of an operation took.
type Timing = step.Timing

// ErrNoLab is returned by Open for a lab that does not exist.
var ErrNoLab = labdir.ErrNoLab

// ErrBusy is wrapped by the error of an operation on a lab that another command
// is working on.
var ErrBusy = flock.ErrBusy

// DefaultHome is ~/.kraftlab.
func DefaultHome() (string, error) {
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory (set a lab home explicitly): %w", err)
	}
	return filepath.Join(u, ".kraftlab"), nil
}

func (c Config) progress() io.Writer {
	if c.Progress == nil {
		return io.Discard
	}
	return c.Progress
}

// labDir is where lab name lives under the config's home.
func (c Config) labDir(name string) (labdir.Dir, error) {
	if !labNameRE.MatchString(name) {
		return labdir.Dir{}, usage.Errorf("lab name %q: use 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit", name)
	}
	home := c.Home
	if home == "" {
		h, err := DefaultHome()
		if err != nil {
			return labdir.Dir{}, err
		}
		home = h
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return labdir.Dir{}, fmt.Errorf("lab home %q: %w", home, err)
	}
	// Kafka reads log.dirs as a comma-separated list: a comma in the path would
	// send a node's data to another directory, outside the lab.
	if strings.ContainsAny(abs, ",\n\r") {
		return labdir.Dir{}, usage.Errorf("lab home %q contains a comma or a line break, which Kafka would read as a list of data directories outside the lab; choose another home (--home, KRAFTLAB_HOME)", abs)
	}
	return labdir.Dir{Path: filepath.Join(abs, name)}, nil
}

// Lab is a handle on one lab, existing or about to be created.
type Lab struct {
	cfg  Config
	dir  labdir.Dir
	spec Spec          // defaulted
	src  *SpecSource   // where a new lab's spec came from, for its problems; nil = field paths
	st   *labdir.State // nil until the lab has been formatted
	// stErr is why the state file could not be read, if it could not: only a purge
	// goes on regardless.
	stErr error
}

// Open returns the existing lab name. A lab that does not exist is ErrNoLab; a
// directory there that kraftlab did not create is refused.
func Open(cfg Config, name string) (*Lab, error) {
	d, err := cfg.labDir(name)
	if err != nil {
		return nil, err
	}
	l := &Lab{cfg: cfg, dir: d}
	if err := l.load(); err != nil {
		return nil, err
	}
	return l, nil
}

// New returns a handle on the lab spec declares, creating nothing: Up creates it.
// When the lab exists already, every field the spec sets must match it; the
// differences are refused, since a lab's layout, ports and properties are fixed
// when it is created.
func New(cfg Config, spec Spec) (*Lab, error) {
	return newLab(cfg, spec, nil)
}

// NewFromSource is New for a spec read from a file and flags: problems are
// reported at the line or flag they came from.
func NewFromSource(cfg Config, spec Spec, src *SpecSource) (*Lab, error) {
	return newLab(cfg, spec, src)
}

func newLab(cfg Config, asked Spec, src *SpecSource) (*Lab, error) {
	spec := asked.Default()
	if err := src.explain(spec.Validate()); err != nil {
		return nil, err
	}
	d, err := cfg.labDir(spec.Name)
	if err != nil {
		return nil, err
	}
	l := &Lab{cfg: cfg, dir: d}
	err = l.load()
	switch {
	case errors.Is(err, ErrNoLab):
		l.spec, l.src = spec, src
		return l, nil
	case err != nil:
		return nil, err
	case l.stErr != nil:
		return nil, l.stErr
	case l.st == nil:
		// Created by a first 'up' that was interrupted before anything was formatted:
		// the directory is ours, and the lab is still to be made.
		l.spec, l.src = spec, src
		return l, nil
	}
	if diffs := asked.differences(l.spec); len(diffs) > 0 {
		return nil, usage.Errorf("lab %q already exists with other settings, which are fixed when a lab is created:\n  %s\n'kraftlab up --name %s' with no settings starts it as it is; 'kraftlab down --purge --name %s' removes it (and its data) so it can be created anew", spec.Name, strings.Join(diffs, "\n  "), spec.Name, spec.Name)
	}
	return l, nil
}

// load reads the lab's spec and state from its directory.
func (l *Lab) load() error {
	if kind, _ := l.dir.Inspect(); kind == labdir.Missing {
		return fmt.Errorf("%w %q in %s (create it with 'kraftlab up')", ErrNoLab, l.dir.Name(), l.dir.Home())
	}
	if err := l.dir.Require(); err != nil {
		return err
	}
	l.st, l.stErr = nil, nil
	st, err := labdir.LoadState(l.dir)
	switch {
	case errors.Is(err, labdir.ErrNoState):
	case err != nil:
		l.stErr = err
	default:
		l.st = st
	}
	spec, err := l.readSpec()
	if err != nil {
		if l.st == nil {
			// Nothing was formatted yet: the spec comes from whoever brings it up.
			return nil
		}
		return err
	}
	l.spec = spec
	if l.st != nil {
		return l.checkConsistent()
	}
	return nil
}

// readSpec reads the lab's spec file, or rebuilds the spec of a lab made before
// specs existed from its state file.
func (l *Lab) readSpec() (Spec, error) {
	data, err := os.ReadFile(l.dir.SpecFile())
	if errors.Is(err, fs.ErrNotExist) && l.st != nil && l.st.Legacy != nil {
		return legacySpec(l.st), nil
	}
	if err != nil {
		return Spec{}, fmt.Errorf("read lab spec: %w", err)
	}
	s, _, err := ParseSpec(l.dir.SpecFile(), data)
	if err != nil {
		return Spec{}, fmt.Errorf("lab spec %s: %w", l.dir.SpecFile(), err)
	}
	return s.Default(), nil
}

// legacySpec is the spec of a lab recorded by a kraftlab without specs.
func legacySpec(st *labdir.State) Spec {
	lg := st.Legacy
	s := Spec{Name: lg.Name, Heap: lg.Heap, Quorum: lg.Quorum, Kafka: KafkaSpec{Version: st.KafkaVersion}}
	for _, n := range lg.Nodes {
		role := RoleBroker
		switch {
		case slices.Contains(n.Roles, "broker") && slices.Contains(n.Roles, "controller"):
			role = RoleCombined
		case slices.Contains(n.Roles, "controller"):
			role = RoleController
		}
		s.Nodes.List = append(s.Nodes.List, NodeSpec{ID: n.ID, Role: role})
		if n.Host != "" {
			s.Bind = n.Host
		}
	}
	for _, set := range lg.Sets {
		applySet(&s, set)
	}
	s = s.Default()
	s.Nodes = compactNodes(s, st)
	return s
}

// checkPropertyNames refuses the property names of a new lab's spec that its
// Kafka release does not know, pointing at the file line or flag that gave each.
func (l *Lab) checkPropertyNames() error {
	known := knownPropertyNames(l.cfg.Runtime, l.spec.Kafka.Version)
	if known == nil {
		fmt.Fprintf(l.cfg.progress(), "note: the property names Kafka %s knows are not known to kraftlab, so they go unchecked\n", l.spec.Kafka.Version)
	}
	return l.src.explain(l.spec.unknownProperties(known, l.spec.Kafka.Version))
}

// checkConsistent is nil when the spec's nodes are the state's.
func (l *Lab) checkConsistent() error {
	list, errs := l.spec.nodeList()
	if len(errs) > 0 {
		return fmt.Errorf("lab spec %s: %v", l.dir.SpecFile(), errs[0])
	}
	var want, have []int
	for _, n := range list {
		want = append(want, n.ID)
	}
	for _, n := range l.st.Nodes {
		have = append(have, n.ID)
	}
	slices.Sort(have)
	if !slices.Equal(want, have) {
		return fmt.Errorf("lab %q: its spec names nodes %v but its state records nodes %v; 'kraftlab down --purge --name %s' starts over", l.dir.Name(), want, have, l.dir.Name())
	}
	return nil
}

// node is one node of the lab as planned (render.Node) with what is recorded about
// it (rec points into the state, so changes to it are saved with the state).
type node struct {
	render.Node
	rec *labdir.Node
}

// nodes joins the spec's topology with the recorded state, in id order.
func (l *Lab) nodes() []node {
	list, _ := l.spec.nodeList()
	var out []node
	for _, n := range list {
		rec, ok := l.st.Node(n.ID)
		if !ok {
			continue // checkConsistent rules this out for a loaded lab
		}
		out = append(out, node{
			Node: render.Node{
				ID: n.ID, Roles: n.roles(), Host: l.spec.Bind,
				BrokerPort: rec.BrokerPort, ControllerPort: rec.ControllerPort,
				DirectoryID: rec.DirectoryID,
			},
			rec: rec,
		})
	}
	return out
}

// node returns the node with the given id.
func (l *Lab) node(id int) (node, bool) {
	for _, n := range l.nodes() {
		if n.ID == id {
			return n, true
		}
	}
	return node{}, false
}

// renderLab is what rendering needs of this lab.
func (l *Lab) renderLab() (render.Lab, error) {
	var nodes []render.Node
	for _, n := range l.nodes() {
		nodes = append(nodes, n.Node)
	}
	sec, err := l.renderSecurity()
	if err != nil {
		return render.Lab{}, err
	}
	return render.Lab{
		Name: l.spec.Name, Dir: l.dir, Dynamic: l.spec.Quorum == QuorumDynamic, Nodes: nodes,
		Properties: l.spec.Properties, NodeProperties: l.spec.NodeProperties, Security: sec,
		Profile: l.profile(),
	}, nil
}

// profile is what the lab's nodes run with; a name this kraftlab does not know
// (a lab from another version) runs Kafka's own settings.
func (l *Lab) profile() render.Profile {
	p, ok := render.LookupProfile(l.spec.Profile)
	if !ok {
		p, _ = render.LookupProfile(ProfileProduction)
	}
	return p
}

// Name is the lab's name.
func (l *Lab) Name() string { return l.dir.Name() }

// Dir is the lab's directory.
func (l *Lab) Dir() string { return l.dir.Path }

// Spec is the lab's spec, with its defaults filled in.
func (l *Lab) Spec() Spec { return l.spec.clone() }

// Exists reports whether the lab has been created.
func (l *Lab) Exists() bool { return l.st != nil }

// ClusterID is the lab's cluster id; "" before it is created.
func (l *Lab) ClusterID() string {
	if l.st == nil {
		return ""
	}
	return l.st.ClusterID
}

// BootstrapServers lists every broker's client address.
func (l *Lab) BootstrapServers() []string {
	if l.st == nil {
		return nil
	}
	var addrs []string
	for _, n := range l.nodes() {
		if n.IsBroker() {
			addrs = append(addrs, n.BrokerAddr())
		}
	}
	return addrs
}

// Brokers counts the lab's brokers.
func (l *Lab) Brokers() int { return len(l.BootstrapServers()) }

// requireExists is nil for a lab that has been created and whose state reads.
func (l *Lab) requireExists() error {
	if l.stErr != nil {
		return l.stErr
	}
	if l.st == nil {
		return fmt.Errorf("%w %q in %s: it was never brought up (create it with 'kraftlab up')", ErrNoLab, l.dir.Name(), l.dir.Home())
	}
	return nil
}

// op is one operation on the lab, holding its lock from begin to end.
type op struct {
	*Lab
	lock  *flock.Lock
	steps step.Steps
}

// begin takes the lab's lock and re-reads its spec and state under it, so an
// operation decides on what is true now, never on what another command changed
// meanwhile. A lab another command works on is "busy".
func (l *Lab) begin() (*op, error) {
	if err := l.requireExists(); err != nil {
		return nil, err
	}
	lock, err := labdir.Lock(l.dir)
	if err != nil {
		return nil, err
	}
	if err := l.load(); err != nil {
		lock.Unlock()
		return nil, err
	}
	if err := l.requireExists(); err != nil {
		lock.Unlock()
		return nil, err
	}
	return &op{Lab: l, lock: lock, steps: step.Steps{W: l.cfg.progress()}}, nil
}

func (o *op) end() { o.lock.Unlock() }

// save writes the state file.
func (o *op) save() error { return labdir.SaveState(o.dir, o.st) }

// saveSpec writes the spec file, with the topology compacted back to counts when
// the nodes still follow them.
func (o *op) saveSpec() error {
	o.spec.Nodes = compactNodes(o.spec, o.st)
	b, err := o.spec.YAML()
	if err != nil {
		return err
	}
	if err := labdir.WriteFile(o.dir.SpecFile(), b, 0o600); err != nil {
		return fmt.Errorf("write lab spec: %w", err)
	}
	return nil
}

// compactNodes is the spec's topology as counts when the recorded nodes are what
// those counts plan, ports included; otherwise an explicit list of every node.
func compactNodes(s Spec, st *labdir.State) NodesSpec {
	list, errs := s.nodeList()
	if len(errs) > 0 {
		return s.Nodes
	}
	counts := NodesSpec{}
	for _, n := range list {
		switch n.Role {
		case RoleCombined:
			counts.Combined++
		case RoleController:
			counts.Controllers++
		default:
			counts.Brokers++
		}
	}
	planned := s
	planned.Nodes = counts
	plan, _ := planned.nodeList()
	same := len(plan) == len(list)
	for i := 0; same && i < len(plan); i++ {
		rec, ok := st.Node(list[i].ID)
		same = ok && plan[i].ID == list[i].ID && plan[i].Role == list[i].Role &&
			plan[i].BrokerPort == rec.BrokerPort && plan[i].ControllerPort == rec.ControllerPort
	}
	if same {
		return counts
	}
	var out NodesSpec
	for _, n := range list {
		rec, _ := st.Node(n.ID)
		e := NodeSpec{ID: n.ID, Role: n.Role}
		if rec != nil {
			e.BrokerPort, e.ControllerPort = rec.BrokerPort, rec.ControllerPort
		}
		out.List = append(out.List, e)
	}
	return out
}

// ParseSet parses one --set: "key=value" for every node, or "ID:key=value" for
// node ID. The key and value are checked with the rest of the spec.
func ParseSet(set string) (node int, key, value string, err error) {
	left, value, ok := strings.Cut(set, "=")
	if !ok {
		return 0, "", "", usage.Errorf("--set %q: want key=value or NODE:key=value", set)
	}
	key = left
	if idText, rest, ok := strings.Cut(left, ":"); ok {
		id, err := strconv.Atoi(idText)
		if err != nil || id < 1 {
			return 0, "", "", usage.Errorf("--set %q: %q before ':' is not a node id", set, idText)
		}
		node, key = id, rest
	}
	return node, key, value, nil
}

// ApplySet puts one --set into a spec.
func ApplySet(s *Spec, set string) error {
	_, _, _, err := ParseSet(set)
	if err != nil {
		return err
	}
	applySet(s, set)
	return nil
}

func applySet(s *Spec, set string) {
	id, k, v, err := ParseSet(set)
	if err != nil {
		return
	}
	if id == 0 {
		if s.Properties == nil {
			s.Properties = map[string]string{}
		}
		s.Properties[k] = v
		return
	}
	if s.NodeProperties == nil {
		s.NodeProperties = map[int]map[string]string{}
	}
	if s.NodeProperties[id] == nil {
		s.NodeProperties[id] = map[string]string{}
	}
	s.NodeProperties[id][k] = v
}
