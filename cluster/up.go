package cluster

// This file owns 'up': the lifecycle as a list of named steps. For a new lab:
// plan (ports reserved and tried) → lab dir and lock → runtime → cluster id and
// configuration → format → start → wait for the quorum → wait for the brokers →
// topics. For a stopped lab the same without planning and formatting: same cluster
// id, same data. Starting one node (node start, restart, upgrade) runs the same
// steps for that node.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/flock"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/internal/ports"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
)

// DefaultWait is how long 'up' waits for a lab to be ready.
const DefaultWait = 120 * time.Second

// UpOptions is how 'up' runs; what the lab is comes from its spec.
type UpOptions struct {
	Wait   time.Duration // readiness deadline; 0 = DefaultWait
	Retain bool          // keep started nodes (and a new lab's files) when up fails
}

func (o UpOptions) wait() time.Duration {
	if o.Wait <= 0 {
		return DefaultWait
	}
	return o.Wait
}

// UpResult is what 'up' reports.
type UpResult struct {
	Created        bool     `json:"created"`         // a new lab was formatted
	AlreadyRunning bool     `json:"already_running"` // nothing had to start
	Started        []int    `json:"started"`         // nodes started
	Adopted        []int    `json:"adopted,omitempty"`
	Topics         []string `json:"topics_created,omitempty"`
	Timings        []Timing `json:"timings"`
}

// Up creates and starts the lab, or starts what of it is stopped, and returns once
// it is ready: the quorum has a leader with every voter caught up, every broker is
// registered and serving, and the spec's topics exist. On failure the nodes it
// started are stopped (and a lab it created is removed) unless o.Retain.
func (l *Lab) Up(ctx context.Context, o UpOptions) (*UpResult, error) {
	if l.st == nil && l.stErr == nil {
		return l.create(ctx, o)
	}
	op, err := l.begin()
	if err != nil {
		return nil, err
	}
	defer op.end()
	res := &UpResult{}
	res.Adopted = op.adoptStrays()
	if len(res.Adopted) > 0 {
		if err := op.save(); err != nil {
			return nil, err
		}
	}
	var stopped []int
	for _, n := range op.nodes() {
		if !op.alive(n) {
			stopped = append(stopped, n.ID)
		}
	}
	res.AlreadyRunning = len(stopped) == 0
	started, err := op.startNodes(ctx, stopped, o)
	res.Started = started
	if err != nil {
		return nil, err
	}
	if len(started) > 0 {
		op.balanceLeaders(ctx)
	}
	topics, err := op.ensureTopics(ctx, o)
	if err == nil {
		err = op.ensureACLs(ctx, o)
	}
	res.Topics, res.Timings = topics, op.steps.Timings
	return res, err
}

// create makes a new lab from its spec.
func (l *Lab) create(ctx context.Context, o UpOptions) (*UpResult, error) {
	if err := checkLocalAddress(l.spec.Bind); err != nil {
		return nil, err
	}
	warnExposed(l.cfg, l.spec.Bind)
	// The runtime first: it touches no lab, and only it knows which property names
	// are real, so a misspelt one is refused before anything is written.
	steps := l.stepsFor()
	rt, err := l.ensureRuntime(ctx, &steps)
	if err != nil {
		return nil, err
	}
	if err := l.checkPropertyNames(); err != nil {
		return nil, err
	}
	plan, res, err := l.planPorts()
	if err != nil {
		return nil, err
	}
	defer res.Release()
	lock, err := l.createDir()
	if err != nil {
		return nil, err
	}
	op := &op{Lab: l, lock: lock, steps: steps}
	defer op.end()
	cl := &creation{op: op, o: o, plan: plan, rt: rt}
	if err := cl.run(ctx); err != nil {
		return nil, cl.cleanup(ctx, err)
	}
	return &UpResult{Created: true, Started: cl.started, Topics: cl.topics, Timings: op.steps.Timings}, nil
}

// createDir makes the lab's directory, or takes over the one an interrupted first
// 'up' left (it carries the marker and holds nothing formatted), and locks it.
func (l *Lab) createDir() (*flock.Lock, error) {
	lock, err := labdir.Create(l.dir)
	if errors.Is(err, fs.ErrExist) {
		// Ours only if it carries the marker and nothing was formatted in it.
		if lerr := l.load(); lerr != nil {
			return nil, lerr
		}
		if l.st != nil || l.stErr != nil {
			return nil, fmt.Errorf("lab %q was created by another kraftlab command meanwhile; run 'kraftlab up' again", l.dir.Name())
		}
		return labdir.Lock(l.dir)
	}
	return lock, err
}

// planPorts places every node's listeners, reserving the ports against other
// kraftlab processes and trying each with a real listen, before anything is
// written.
func (l *Lab) planPorts() ([]NodeSpec, *ports.Reservation, error) {
	spec := l.spec
	var res *ports.Reservation
	if spec.Ports.Auto {
		b, c, r, err := ports.PickBases(spec.Bind, spec.Ports.Broker, spec.Ports.Controller, recordedPorts(l.dir.Home(), l.dir.Name()))
		if err != nil {
			return nil, nil, err
		}
		spec.Ports.Broker, spec.Ports.Controller, res = b, c, r
	}
	plan, errs := spec.nodeList()
	if len(errs) > 0 {
		res.Release()
		return nil, nil, errs[0]
	}
	uses := portUses(spec.Bind, plan)
	if res == nil {
		r, err := ports.Reserve(portNumbers(uses))
		if err != nil {
			return nil, nil, err
		}
		res = r
	}
	if err := ports.Check(uses, nil); err != nil {
		res.Release()
		return nil, nil, err
	}
	if eph, lo, hi := ports.Ephemeral(uses); len(eph) > 0 {
		fmt.Fprintf(l.cfg.progress(), "WARNING: ports %v lie in this machine's ephemeral port range %d-%d: a client reconnecting to a stopped node can connect to itself there and keep the node from binding its port for a minute; port bases below %d avoid that\n", eph, lo, hi, lo)
	}
	return plan, res, nil
}

func portUses(host string, plan []NodeSpec) []ports.Use {
	var uses []ports.Use
	for _, n := range plan {
		if n.hasBroker() {
			uses = append(uses, ports.Use{Host: host, Port: n.BrokerPort, Node: n.ID, Role: "broker"})
		}
		if n.hasController() {
			uses = append(uses, ports.Use{Host: host, Port: n.ControllerPort, Node: n.ID, Role: "controller"})
		}
	}
	return uses
}

func portNumbers(uses []ports.Use) []int {
	var out []int
	for _, u := range uses {
		out = append(out, u.Port)
	}
	return out
}

// recordedPorts is every port the other labs under home have recorded, running
// or not: a stopped lab will want its ports back.
func recordedPorts(home, except string) map[int]bool {
	out := map[int]bool{}
	for _, e := range readLabs(home) {
		if e.Name() == except || e.st == nil {
			continue
		}
		for _, n := range e.st.Nodes {
			out[n.BrokerPort], out[n.ControllerPort] = true, true
		}
	}
	delete(out, 0)
	return out
}

// checkLocalAddress refuses a bind address this machine does not have: a node
// would die a minute later with a bind error nobody sees.
func checkLocalAddress(bind string) error {
	ip := net.ParseIP(bind)
	if ip != nil && ip.IsLoopback() {
		return nil
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return fmt.Errorf("--bind %s: list this machine's addresses: %w", bind, err)
	}
	var have []string
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok {
			if ipn.IP.Equal(ip) {
				return nil
			}
			have = append(have, ipn.IP.String())
		}
	}
	return fmt.Errorf("--bind %s (spec: bind): not an address of this machine (it has %s)", bind, strings.Join(have, ", "))
}

func warnExposed(cfg Config, bind string) {
	if ip := net.ParseIP(bind); ip != nil && !ip.IsLoopback() {
		fmt.Fprintf(cfg.progress(), "WARNING: --bind %s: the lab's listeners are reachable from other machines, with no authentication or encryption\n", bind)
	}
}

// creation carries one new lab through its steps.
type creation struct {
	*op
	o       UpOptions
	plan    []NodeSpec
	rt      *dist.Runtime
	started []int
	topics  []string
	// starts is the start of the nodes, so cleanup can stop what it started.
	starts *startRun
}

func (c *creation) run(ctx context.Context) error {
	if err := c.writeSpec(); err != nil {
		return err
	}
	rt := c.rt
	n := len(c.plan)
	if err := c.steps.Run(fmt.Sprintf("Writing configuration (%d nodes)", n), func() error { return c.writeConfig(rt) }); err != nil {
		return err
	}
	if err := c.steps.Run(fmt.Sprintf("Formatting storage (%d nodes, cluster id %s)", n, c.st.ClusterID), func() error { return c.formatAll(ctx, rt, false) }); err != nil {
		return err
	}
	var ids []int
	for _, p := range c.plan {
		ids = append(ids, p.ID)
	}
	c.starts = &startRun{op: c.op, o: c.o, rt: rt}
	err := c.starts.start(ctx, ids)
	c.started = c.starts.startedIDs()
	if err != nil {
		return err
	}
	if c.topics, err = c.ensureTopics(ctx, c.o); err != nil {
		return err
	}
	return c.ensureACLs(ctx, c.o)
}

// writeSpec keeps the spec in the lab directory, with the version resolved so a
// stopped lab keeps its release whatever kraftlab's default becomes.
func (c *creation) writeSpec() error {
	b, err := c.spec.YAML()
	if err != nil {
		return err
	}
	return labdir.WriteFile(c.dir.SpecFile(), b, 0o600)
}

// ensureRuntime finds (installing if needed) Java and the spec's Kafka runtime.
func (l *Lab) ensureRuntime(ctx context.Context, steps *step.Steps) (*dist.Runtime, error) {
	var rt *dist.Runtime
	err := steps.Run("Preparing Kafka "+l.versionLabel()+" runtime", func() error {
		var err error
		rt, err = l.installRuntime(ctx, l.spec.Kafka.Version, l.spec.Kafka.Home)
		return err
	})
	if err != nil {
		return nil, err
	}
	if l.spec.Kafka.Version == "" {
		// A Kafka home's own version is the lab's.
		l.spec.Kafka.Version = rt.Version
	}
	return rt, nil
}

func (l *Lab) versionLabel() string {
	if l.spec.Kafka.Version != "" {
		return l.spec.Kafka.Version
	}
	return "(from " + l.spec.Kafka.Home + ")"
}

// installRuntime is Install for one release or Kafka home, with the config's
// cache and source.
func (l *Lab) installRuntime(ctx context.Context, version, home string) (*dist.Runtime, error) {
	ro := l.cfg.Runtime
	ro.Version, ro.KafkaHome, ro.Progress = version, home, l.cfg.progress()
	return Install(ctx, ro)
}

// writeConfig picks the cluster id, records the planned nodes, and writes every
// node's properties and the logging config, then the state file, so that a later
// 'up' never picks another id.
func (c *creation) writeConfig(rt *dist.Runtime) error {
	id, err := NewClusterID()
	if err != nil {
		return err
	}
	st := &labdir.State{ClusterID: id, CreatedAt: time.Now().UTC().Truncate(time.Second), KafkaVersion: rt.Version, RuntimeDir: rt.Dir, Java: rt.Java}
	for _, p := range c.plan {
		n := labdir.Node{ID: p.ID, BrokerPort: p.BrokerPort, ControllerPort: p.ControllerPort}
		if c.spec.Quorum == QuorumDynamic && p.hasController() {
			if n.DirectoryID, err = NewDirectoryID(); err != nil {
				return err
			}
		}
		st.Nodes = append(st.Nodes, n)
	}
	c.st = st
	if err := c.prepareSecurity(); err != nil {
		return err
	}
	if err := c.writeLog4j(rt); err != nil {
		return err
	}
	if err := c.writeNodeFiles(c.nodes()); err != nil {
		return err
	}
	return c.save()
}

// writeLog4j writes the lab's logging config for the runtime's Kafka line.
func (l *Lab) writeLog4j(rt *dist.Runtime) error {
	name, body, err := render.Log4jConfig(rt.Major())
	if err != nil {
		return err
	}
	if err := labdir.WriteFile(render.Log4jPath(l.dir, rt.Major()), body, 0o600); err != nil {
		return fmt.Errorf("write logging config %s: %w", name, err)
	}
	return nil
}

// writeNodeFiles renders the properties of the given nodes and creates their
// directories.
func (l *Lab) writeNodeFiles(nodes []node) error {
	rl, err := l.renderLab()
	if err != nil {
		return err
	}
	for _, n := range nodes {
		props, err := render.Properties(rl, n.Node)
		if err != nil {
			return err
		}
		for _, d := range []string{l.dir.NodeDir(n.ID), l.dir.DataDir(n.ID), l.dir.LogsDir(n.ID)} {
			if err := l.dir.MkdirNode(d); err != nil {
				return fmt.Errorf("node %d: %w", n.ID, err)
			}
		}
		if err := labdir.WriteFile(l.dir.PropertiesFile(n.ID), props, 0o600); err != nil {
			return fmt.Errorf("node %d: write properties: %w", n.ID, err)
		}
	}
	return nil
}

// formatAll formats every node: Kafka's StorageTool on one node of each kind and a
// copy of its storage on the others (format.go). again formats an interrupted
// format once more, StorageTool on every node, skipping nodes it had finished.
func (c *op) formatAll(ctx context.Context, rt *dist.Runtime, again bool) error {
	rl, err := c.renderLab()
	if err != nil {
		return err
	}
	scram, err := c.scramArgs()
	if err != nil {
		return err
	}
	if !again {
		return c.formatByKind(ctx, rt, func(n node) []string {
			return append(render.FormatQuorumArgs(rl, n.Node), scram...)
		}, c.storageTemplate(rt))
	}
	return eachNode(c.nodes(), func(n node) error {
		args := append(render.FormatQuorumArgs(rl, n.Node), scram...)
		if again {
			args = append(args, "--ignore-formatted")
		}
		return c.format(ctx, rt, n, args)
	})
}

// format runs StorageTool for one node. Arguments that hold a password (the SCRAM
// users it creates) go to the JVM through an argument file (java @file) readable
// by the owner only, never on a command line other users can see.
func (l *Lab) format(ctx context.Context, rt *dist.Runtime, n node, quorumArgs []string) error {
	cmd := render.FormatCommand(rt, l.dir, l.st.ClusterID, n.ID, quorumArgs, archivePath(rt, storageArchive))
	if slices.ContainsFunc(cmd, func(a string) bool { return strings.Contains(a, "password=") }) {
		argfile := filepath.Join(l.dir.NodeDir(n.ID), ".format-args")
		if err := labdir.WriteFile(argfile, javaArgFile(cmd[1:]), 0o600); err != nil {
			return fmt.Errorf("format storage for node %d: %w", n.ID, err)
		}
		defer os.Remove(argfile)
		cmd = []string{cmd[0], "@" + argfile}
	}
	if err := dist.Run(ctx, cmd...); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("format storage for node %d: interrupted", n.ID)
		}
		return fmt.Errorf("format storage for node %d: %w", n.ID, err)
	}
	return nil
}

// javaArgFile is args as a java @argument file: each quoted, backslashes and
// quotes escaped.
func javaArgFile(args []string) []byte {
	var b strings.Builder
	for _, a := range args {
		b.WriteString(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(a) + "\"\n")
	}
	return []byte(b.String())
}

// cleanup undoes a failed creation: the nodes it started are stopped and the lab
// directory it made is removed, unless the user asked to retain them.
func (c *creation) cleanup(ctx context.Context, cause error) error {
	cause = c.interrupted(ctx, cause)
	if c.o.Retain {
		return fmt.Errorf("%w\n(--retain: the lab is left as it is in %s; 'kraftlab down --purge --name %s' removes it)", cause, c.dir.Path, c.dir.Name())
	}
	if c.starts != nil {
		if err := c.starts.stopStarted(); err != nil {
			return fmt.Errorf("%w\nwhile stopping the started nodes: %v", cause, err)
		}
	}
	if err := labdir.Remove(c.dir); err != nil {
		return fmt.Errorf("%w\nwhile removing the new lab: %v", cause, err)
	}
	return &CleanedUpError{Err: cause, What: "the new lab was removed; --retain keeps it for inspection"}
}

// CleanedUpError is a failed or interrupted operation after kraftlab undid what
// it had done; What says what that was.
type CleanedUpError struct {
	Err  error
	What string
}

func (e *CleanedUpError) Error() string { return fmt.Sprintf("%v\n(%s)", e.Err, e.What) }
func (e *CleanedUpError) Unwrap() error { return e.Err }

// ErrInterrupted matches the error of an operation cut short by its context
// (Ctrl-C): an *InterruptedError.
var ErrInterrupted = errors.New("interrupted")

// InterruptedError is an operation cut short by its context, and the step it was in.
type InterruptedError struct{ Step string }

func (e *InterruptedError) Error() string {
	if e.Step == "" {
		return "interrupted"
	}
	return "interrupted while " + strings.ToLower(e.Step[:1]) + e.Step[1:]
}

func (e *InterruptedError) Is(target error) bool { return target == ErrInterrupted }

// interrupted says plainly what a cancelled operation was doing, instead of
// whatever each cancelled command or request reported.
func (o *op) interrupted(ctx context.Context, err error) error {
	if ctx.Err() == nil || errors.Is(err, ErrInterrupted) {
		return err
	}
	return &InterruptedError{Step: o.steps.Failed}
}

// startRun starts some nodes of a lab and waits until they have joined.
type startRun struct {
	*op
	o       UpOptions
	rt      *dist.Runtime
	started []*startedNode
	// beforeWait runs once the nodes are launched, before the lab is waited for:
	// a controller added to a dynamic quorum becomes a voter there.
	beforeWait func(ctx context.Context) error
}

func (r *startRun) startedIDs() []int {
	var ids []int
	for _, s := range r.started {
		ids = append(ids, s.ID)
	}
	return ids
}

// startNodes starts the given nodes of an existing lab (all that are stopped, for
// 'up'; one, for 'node start') and waits until they have joined. On failure what
// it started is stopped again, unless o.Retain; the data is kept.
func (o *op) startNodes(ctx context.Context, ids []int, uo UpOptions) ([]int, error) {
	if len(ids) == 0 {
		// Nothing to start: only check the lab is ready.
		r := &startRun{op: o, o: uo}
		return nil, r.start(ctx, nil)
	}
	rt, err := o.labRuntime(ctx)
	if err != nil {
		return nil, err
	}
	if err := o.prepareFormatted(ctx, rt, ids); err != nil {
		return nil, err
	}
	r := &startRun{op: o, o: uo, rt: rt}
	if err := r.start(ctx, ids); err != nil {
		err = o.interrupted(ctx, err)
		if uo.Retain || len(r.started) == 0 {
			return r.startedIDs(), err
		}
		if serr := r.stopStarted(); serr != nil {
			return nil, fmt.Errorf("%w\nwhile stopping the started nodes: %v", err, serr)
		}
		return nil, &CleanedUpError{Err: err, What: "the nodes started were stopped; data is kept"}
	}
	return r.startedIDs(), nil
}

// labRuntime is the runtime the lab was created with.
func (o *op) labRuntime(ctx context.Context) (*dist.Runtime, error) {
	var rt *dist.Runtime
	err := o.steps.Run("Preparing Kafka "+o.st.KafkaVersion+" runtime", func() error {
		var err error
		rt, err = o.installRuntime(ctx, o.st.KafkaVersion, o.kafkaHomeOf(o.st.RuntimeDir))
		return err
	})
	return rt, err
}

// kafkaHomeOf is the Kafka home a recorded runtime dir came from, or "" when it
// is a cached runtime.
func (l *Lab) kafkaHomeOf(dir string) string {
	cache := l.cfg.Runtime.CacheDir
	if cache == "" {
		cache, _ = dist.DefaultCacheDir()
	}
	if dir == "" || (cache != "" && strings.HasPrefix(dir, cache+string(os.PathSeparator))) {
		return ""
	}
	return dir
}

// prepareFormatted checks every node to start has its properties and storage. A
// format that was interrupted before any node ever ran is simply run again; after
// that, missing storage is data lost, which kraftlab refuses to paper over.
func (o *op) prepareFormatted(ctx context.Context, rt *dist.Runtime, ids []int) error {
	var missing []string
	for _, id := range ids {
		for _, f := range []string{o.dir.PropertiesFile(id), o.dir.MetaProperties(id)} {
			if _, err := os.Stat(f); err != nil {
				missing = append(missing, fmt.Sprintf("node %d: %s", id, f))
				break
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if o.st.Started {
		return fmt.Errorf("%s is missing (was the node dir deleted by hand?); its data is gone: 'kraftlab down --purge --name %s' and 'kraftlab up' start over", strings.Join(missing, "; "), o.dir.Name())
	}
	return o.steps.Run("Formatting storage again (an earlier format was interrupted)", func() error {
		if err := o.writeLog4j(rt); err != nil {
			return err
		}
		if err := o.writeNodeFiles(o.nodes()); err != nil {
			return err
		}
		return o.formatAll(ctx, rt, true)
	})
}

// start launches the nodes ids, records their processes and waits until they
// (and every other running node) are ready.
func (r *startRun) start(ctx context.Context, ids []int) error {
	var nodes []node
	for _, id := range ids {
		n, _ := r.node(id)
		nodes = append(nodes, n)
	}
	if err := r.reservePorts(nodes); err != nil {
		return err
	}
	if len(nodes) > 0 {
		if err := r.steps.Run(startingWhat(ids), func() error { return r.launch(nodes) }); err != nil {
			return err
		}
	}
	wctx, cancel := context.WithTimeout(ctx, r.o.wait())
	defer cancel()
	if r.beforeWait != nil {
		if err := r.beforeWait(wctx); err != nil {
			return err
		}
	}
	return r.waitReady(wctx)
}

// reservePorts holds the nodes' ports against concurrent kraftlab processes and
// checks each is free, naming a JVM of this lab that holds one.
func (r *startRun) reservePorts(nodes []node) error {
	var uses []ports.Use
	for _, n := range nodes {
		if n.IsBroker() {
			uses = append(uses, ports.Use{Host: n.Host, Port: n.BrokerPort, Node: n.ID, Role: "broker"})
		}
		if n.IsController() {
			uses = append(uses, ports.Use{Host: n.Host, Port: n.ControllerPort, Node: n.ID, Role: "controller"})
		}
	}
	return ports.Check(uses, r.portOwner)
}

// portOwner names a process of this lab that holds port, if one does.
func (l *Lab) portOwner(port int) string {
	for _, p := range l.labProcesses() {
		n, ok := l.node(p.ID)
		if ok && (n.BrokerPort == port || n.ControllerPort == port) {
			return fmt.Sprintf("this lab's own node %d (pid %d), which its state does not record as running; 'kraftlab down --name %s' stops it", p.ID, p.PID, l.dir.Name())
		}
	}
	return ""
}

func startingWhat(ids []int) string {
	if len(ids) == 1 {
		return fmt.Sprintf("Starting node %d", ids[0])
	}
	return fmt.Sprintf("Starting %d nodes", len(ids))
}

// launch starts each node's JVM and records its process at once: if this command
// is interrupted, 'down' still finds them.
func (r *startRun) launch(nodes []node) error {
	var errs []error
	for _, n := range nodes {
		rt, err := r.runtimeFor(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		prof := r.profile()
		cmd := render.ServerCommand(rt, r.dir, prof, r.spec.Heap, n.ID, archivePath(rt, serverArchive))
		s, err := startProcess(n.ID, prof.Env, cmd, r.dir.ConsoleLog(n.ID))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.started = append(r.started, s)
		n.rec.PID, n.rec.StartTime = s.PID, s.Start
		if r.spec.Quorum == QuorumDynamic {
			n.rec.QuorumBootstrap = render.QuorumBootstrapOf(r.dir.PropertiesFile(n.ID))
		}
	}
	if len(r.started) > 0 {
		r.st.Started = true
	}
	if err := r.save(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// runtimeFor is the runtime node n runs: the lab's, or during a rolling upgrade
// the one the node has been switched to.
func (r *startRun) runtimeFor(n node) (*dist.Runtime, error) {
	if n.rec.RuntimeDir == "" || n.rec.RuntimeDir == r.rt.Dir {
		return r.rt, nil
	}
	rt, err := r.installRuntime(context.Background(), n.rec.KafkaVersion, r.kafkaHomeOf(n.rec.RuntimeDir))
	if err != nil {
		return nil, fmt.Errorf("node %d runtime: %w", n.ID, err)
	}
	return rt, nil
}

// stopStarted kills the nodes this run started and clears their records.
func (r *startRun) stopStarted() error {
	var errs []error
	for _, s := range r.started {
		n, ok := r.node(s.ID)
		if !ok {
			continue
		}
		errs = append(errs, r.killNode(context.Background(), n))
		n.rec.PID, n.rec.StartTime = 0, 0
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if _, err := os.Stat(r.dir.StateFile()); err == nil {
		return r.save()
	}
	return nil
}

// checkStarted fails a wait at once if a node started by this run has exited.
func (r *startRun) checkStarted() error {
	for _, s := range r.started {
		if dead, exitErr := s.dead(); dead {
			return stopPoll(fmt.Errorf("node %d exited during start-up (%v)%s", s.ID, exitErr, r.nodeLogExcerpt(s.ID)))
		}
	}
	return nil
}

// expectedUp lists the nodes that must be ready: every running node that is not
// paused (a paused node is not expected to answer).
func (l *Lab) expectedUp() []node {
	var out []node
	for _, n := range l.nodes() {
		if l.alive(n) && !l.paused(n) {
			out = append(out, n)
		}
	}
	return out
}

func (r *startRun) waitReady(ctx context.Context) error {
	expected := r.expectedUp()
	if err := r.steps.Run("Waiting for the KRaft quorum", func() error {
		return r.explainWait(r.waitForQuorum(ctx, expected, r.checkStarted))
	}); err != nil {
		return err
	}
	return r.steps.Run("Waiting for brokers", func() error {
		return r.explainWait(r.waitForBrokers(ctx, expected, r.checkStarted))
	})
}

// explainWait adds to a timed-out wait the log tail of a node this run started —
// the node's own error output, which the user needs, rather than "connection
// refused" from a client.
func (r *startRun) explainWait(err error) error {
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || len(r.started) == 0 {
		return err
	}
	for _, s := range r.started {
		if dead, _ := s.dead(); dead {
			return fmt.Errorf("%w\nnode %d is not running:%s", err, s.ID, r.nodeLogExcerpt(s.ID))
		}
	}
	return fmt.Errorf("%w (deadline --wait %s)%s", err, r.o.wait(), r.nodeLogExcerpt(r.started[0].ID))
}

// stepsFor is a fresh step printer on the config's progress writer.
func (l *Lab) stepsFor() step.Steps { return step.Steps{W: l.cfg.progress()} }

// eachNode runs fn for every node concurrently and joins the errors.
func eachNode(nodes []node, fn func(node) error) error {
	errs := make([]error, len(nodes))
	done := make(chan struct{})
	for i, n := range nodes {
		go func() {
			defer func() { done <- struct{}{} }()
			errs[i] = fn(n)
		}()
	}
	for range nodes {
		<-done
	}
	return errors.Join(errs...)
}
