package cluster

// This file owns 'up': the lifecycle as a list of named steps. For a new lab:
// validate → runtime → preflight (ports, lock) → cluster id → render → format →
// start → wait for quorum → wait for brokers → save state. For a stopped lab the same
// without id, render and format: same cluster id, same data.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kraftlab/kraftlab/cluster/step"

	"github.com/kraftlab/kraftlab/cluster/dist"
)

// UpResult is what 'up' reports.
type UpResult struct {
	State          *State        `json:"state"`
	Created        bool          `json:"created"`         // a new lab was formatted
	AlreadyRunning bool          `json:"already_running"` // nothing had to start
	Timings        []step.Timing `json:"timings"`
}

// upRun carries one 'up' through its steps.
type upRun struct {
	o       UpOptions
	paths   Paths
	state   *State
	created bool
	// added is the id of a node this run adds to a running lab ('broker add',
	// 'controller add' on a dynamic quorum), 0 if none; voterAdded once a controller
	// was made a voter (AddRaftVoter).
	added      int
	voterAdded bool
	rt         *dist.Runtime
	started    []*startedNode
	steps      step.Steps
}

// Up creates and starts a lab, or starts a stopped one, and returns once it is
// ready. On failure the nodes it started are stopped (and a new lab is removed)
// unless o.Retain.
func Up(ctx context.Context, o UpOptions) (*UpResult, error) {
	o.Normalize()
	paths, err := PathsFor(o.Home, o.Name)
	if err != nil {
		return nil, err
	}
	r := &upRun{o: o, paths: paths, steps: step.Steps{W: o.Progress}}

	existing, err := LoadState(paths)
	switch {
	case errors.Is(err, ErrNoLab):
		if err := r.planNew(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		if err := r.planExisting(existing); err != nil {
			return nil, err
		}
		if len(r.toStart()) == 0 {
			return &UpResult{State: r.state, AlreadyRunning: true}, nil
		}
	}

	return r.run(ctx)
}

// run takes a planned lab from the runtime to ready.
func (r *upRun) run(ctx context.Context) (*UpResult, error) {
	if err := r.steps.Run("Preparing Kafka "+r.wantVersion()+" runtime", r.ensureRuntime); err != nil {
		return nil, err
	}
	lock, err := r.preflight()
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()

	if err := r.bringUp(ctx); err != nil {
		return nil, r.cleanup(err)
	}
	return &UpResult{State: r.state, Created: r.created, Timings: r.steps.Timings}, nil
}

// planNew validates the options of a new lab and lays out its nodes.
func (r *upRun) planNew() error {
	s, err := r.o.plan(r.paths.Home())
	if err != nil {
		return err
	}
	r.created = true
	if r.o.Bind != "" && !net.ParseIP(r.o.Bind).IsLoopback() {
		fmt.Fprintf(r.o.Progress, "WARNING: --bind %s: the lab's listeners are reachable from other machines, with no authentication or encryption\n", r.o.Bind)
	}
	if ports, lo, hi := ephemeralPorts(s.Nodes); len(ports) > 0 {
		fmt.Fprintf(r.o.Progress, "WARNING: ports %v lie in this machine's ephemeral port range %d-%d: a client reconnecting to a stopped node can connect to itself there and keep the node from binding its port for a minute; port bases below %d avoid that\n", ports, lo, hi, lo)
	}
	r.state = s
	return nil
}

// planExisting takes the recorded lab as it is; flags that would change its shape
// are refused instead of silently ignored.
func (r *upRun) planExisting(s *State) error {
	recreate := fmt.Sprintf("'kraftlab down --purge --name %s' removes it (and its data) so it can be created anew", s.Name)
	if r.o.Nodes != 0 && r.o.Nodes != len(s.Nodes) {
		return fmt.Errorf("lab %q already exists with %d nodes, not %d; %s", s.Name, len(s.Nodes), r.o.Nodes, recreate)
	}
	if r.o.Controllers != 0 || r.o.Brokers != 0 {
		asked := fmt.Sprintf("%s + %s", plural(r.o.Controllers, "controller"), plural(r.o.Brokers, "broker"))
		if asked != s.Layout() {
			return fmt.Errorf("lab %q already exists with %s, not %s; %s", s.Name, s.Layout(), asked, recreate)
		}
	}
	if r.o.Quorum != "" && r.o.Quorum != s.QuorumMode() {
		return fmt.Errorf("lab %q already exists with a %s quorum; %s", s.Name, s.QuorumMode(), recreate)
	}
	for _, id := range r.o.Only {
		if _, ok := s.Node(id); !ok {
			return fmt.Errorf("node %d: no such node in lab %q (nodes 1-%d)", id, s.Name, len(s.Nodes))
		}
	}
	r.state = s
	return nil
}

// toStart lists the nodes this run starts: those not running, limited to o.Only
// when set.
func (r *upRun) toStart() []NodeState {
	var out []NodeState
	for _, n := range r.state.Nodes {
		if r.paths.NodeAlive(n) || (len(r.o.Only) > 0 && !slices.Contains(r.o.Only, n.ID)) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// expectedUp lists the nodes that must be ready when this run is done: the ones it
// started and the ones already running. A paused node is not expected to answer.
func (r *upRun) expectedUp() []NodeState {
	var out []NodeState
	for _, n := range r.state.Nodes {
		if r.paths.NodeAlive(n) && !r.paths.NodePaused(n) {
			out = append(out, n)
		}
	}
	return out
}

func (r *upRun) wantVersion() string {
	if r.state.KafkaVersion != "" {
		return r.state.KafkaVersion
	}
	if r.o.Runtime.Version != "" {
		return r.o.Runtime.Version
	}
	if v := os.Getenv("KRAFTLAB_KAFKA_VERSION"); v != "" {
		return v
	}
	return dist.DefaultVersion
}

// ensureRuntime finds (installing if needed) Java and the Kafka runtime. A stopped
// lab keeps the version it was created with.
func (r *upRun) ensureRuntime() error {
	ro := r.o.Runtime
	ro.Progress = r.o.Progress
	if !r.created {
		if ro.Version != "" && ro.Version != r.state.KafkaVersion {
			return fmt.Errorf("lab %q runs Kafka %s; --kafka-version %s does not apply to an existing lab", r.state.Name, r.state.KafkaVersion, ro.Version)
		}
		ro = recordedRuntime(ro, r.state.KafkaVersion, r.state.RuntimeDir)
	}
	rt, err := Install(context.Background(), ro)
	if err != nil {
		return err
	}
	r.rt = rt
	r.state.KafkaVersion, r.state.RuntimeDir, r.state.Java = rt.Version, rt.Dir, rt.Java
	return nil
}

// recordedRuntime asks for the runtime a lab (or node) recorded: the same version,
// from the same Kafka home when it did not come from the cache.
func recordedRuntime(ro dist.Options, version, dir string) dist.Options {
	ro.Version = version
	if ro.KafkaHome == "" && !strings.HasPrefix(dir, cacheDirOf(ro)) {
		ro.KafkaHome = dir
	}
	return ro
}

// runtimeFor is the runtime node n runs: the lab's, or during a rolling upgrade
// the one the node has been switched to.
func (r *upRun) runtimeFor(n NodeState) (*dist.Runtime, error) {
	if n.RuntimeDir == "" || n.RuntimeDir == r.rt.Dir {
		return r.rt, nil
	}
	ro := recordedRuntime(r.o.Runtime, n.KafkaVersion, n.RuntimeDir)
	ro.Progress = r.o.Progress
	rt, err := Install(context.Background(), ro)
	if err != nil {
		return nil, fmt.Errorf("node %d runtime: %w", n.ID, err)
	}
	return rt, nil
}

// cacheDirOf is the runtime cache a lab's runtime came from when it was not an
// explicit --kafka-home.
func cacheDirOf(o dist.Options) string {
	if o.CacheDir != "" {
		return o.CacheDir
	}
	if c, err := dist.DefaultCacheDir(); err == nil {
		return c
	}
	return "\x00" // matches no path
}

// preflight checks the ports of the nodes to start, then creates the lab dir and
// takes its lock. Nothing has been written when it fails, except an empty lab dir
// that it removes again.
func (r *upRun) preflight() (*labLock, error) {
	if err := checkPortsFree(portsOf(r.toStart())); err != nil {
		return nil, err
	}
	_, statErr := os.Stat(r.paths.Dir)
	if err := os.MkdirAll(r.paths.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create lab dir: %w", err)
	}
	lock, err := lockLab(r.paths)
	if err != nil {
		if os.IsNotExist(statErr) {
			os.Remove(r.paths.Dir)
		}
		return nil, err
	}
	// Another command may have created or changed the lab while we waited for the lock.
	if s, err := LoadState(r.paths); err == nil && r.created {
		lock.Unlock()
		return nil, fmt.Errorf("lab %q was created by another kraftlab command meanwhile (cluster id %s); run 'kraftlab up' again", s.Name, s.ClusterID)
	}
	return lock, nil
}

// bringUp runs the steps that write, format, start and wait.
func (r *upRun) bringUp(ctx context.Context) error {
	n := len(r.state.Nodes)
	if r.created {
		if err := r.steps.Run(fmt.Sprintf("Writing configuration (%d nodes)", n), r.writeConfig); err != nil {
			return err
		}
		if err := r.steps.Run(fmt.Sprintf("Formatting storage (%d nodes, cluster id %s)", n, r.state.ClusterID), func() error { return r.formatStorage(ctx) }); err != nil {
			return err
		}
	} else if r.added != 0 {
		if err := r.steps.Run(fmt.Sprintf("Writing configuration and formatting storage (node %d)", r.added), func() error { return r.prepareAdded(ctx) }); err != nil {
			return err
		}
	} else if err := r.checkFormatted(); err != nil {
		return err
	}
	if err := r.steps.Run(startingWhat(r.toStart()), r.startNodes); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, r.o.Wait)
	defer cancel()
	if n, ok := r.state.Node(r.added); ok && n.IsController() {
		if err := r.steps.Run(fmt.Sprintf("Adding node %d to the voters (AddRaftVoter)", r.added), func() error { return r.addVoter(wctx) }); err != nil {
			return err
		}
	}
	if err := r.steps.Run("Waiting for the KRaft quorum", func() error { return r.waitForQuorum(wctx) }); err != nil {
		return err
	}
	return r.steps.Run("Waiting for brokers", func() error { return r.waitForBrokers(wctx) })
}

// writeConfig picks the cluster id and writes every node's properties, the logging
// config, and the state file (so a later 'up' never reformats).
func (r *upRun) writeConfig() error {
	id, err := NewClusterID()
	if err != nil {
		return err
	}
	r.state.ClusterID = id
	r.state.CreatedAt = time.Now().UTC().Truncate(time.Second)
	if r.state.Dynamic() {
		for i := range r.state.Nodes {
			if !r.state.Nodes[i].IsController() {
				continue
			}
			if r.state.Nodes[i].DirectoryID, err = NewDirectoryID(); err != nil {
				return err
			}
		}
	}
	if err := writeLog4jConfig(r.paths, r.rt); err != nil {
		return err
	}
	if err := writeNodeFiles(r.paths, r.state, r.state.Nodes); err != nil {
		return err
	}
	return SaveState(r.paths, r.state)
}

// writeLog4jConfig writes the lab's logging config for the runtime's Kafka line.
func writeLog4jConfig(p Paths, rt *dist.Runtime) error {
	name, body, err := log4jConfig(rt.Major())
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(p.Dir, name), body, 0o600); err != nil {
		return fmt.Errorf("write logging config: %w", err)
	}
	return nil
}

// writeNodeFiles renders the properties of the given nodes of lab s and creates
// their directories. The lab's recorded --set overrides apply to every node,
// including one added later.
func writeNodeFiles(p Paths, s *State, nodes []NodeState) error {
	maxID := s.nextID() - 1
	overrides, err := ParseOverrides(s.Sets, maxID)
	if err != nil {
		return err
	}
	for _, n := range nodes {
		props, err := RenderProperties(s, p, n, overrides)
		if err != nil {
			return err
		}
		for _, d := range []string{p.NodeDir(n.ID), p.DataDir(n.ID), p.LogsDir(n.ID)} {
			if err := os.MkdirAll(d, 0o700); err != nil {
				return fmt.Errorf("node %d: %w", n.ID, err)
			}
		}
		if err := os.WriteFile(p.PropertiesFile(n.ID), props, 0o600); err != nil {
			return fmt.Errorf("node %d: write properties: %w", n.ID, err)
		}
	}
	return nil
}

// formatStorage runs Kafka's StorageTool on every node concurrently.
func (r *upRun) formatStorage(ctx context.Context) error {
	return eachNode(r.state.Nodes, func(n NodeState) error {
		args := formatCommand(r.rt, r.paths, r.state.ClusterID, n.ID, formatQuorumArgs(r.state, n))
		if err := dist.Run(ctx, args...); err != nil {
			return fmt.Errorf("format storage for node %d: %w", n.ID, err)
		}
		return nil
	})
}

// checkFormatted refuses to start a node whose storage vanished: Kafka would fail
// with "No meta.properties found", and reformatting would silently lose data.
func (r *upRun) checkFormatted() error {
	var errs []error
	for _, n := range r.state.Nodes {
		for _, f := range []string{r.paths.PropertiesFile(n.ID), r.paths.MetaProperties(n.ID)} {
			if _, err := os.Stat(f); err != nil {
				errs = append(errs, fmt.Errorf("node %d: %s is missing (was the node dir deleted by hand?); 'kraftlab down --purge --name %s' and 'kraftlab up' to start over", n.ID, f, r.state.Name))
				break
			}
		}
	}
	return errors.Join(errs...)
}

func startingWhat(nodes []NodeState) string {
	if len(nodes) == 1 {
		return fmt.Sprintf("Starting node %d", nodes[0].ID)
	}
	return fmt.Sprintf("Starting %d nodes", len(nodes))
}

// startNodes launches every node that is not running and records its process.
func (r *upRun) startNodes() error {
	var errs []error
	for _, n := range r.toStart() {
		rt, err := r.runtimeFor(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, err := startNode(n.ID, serverCommand(rt, r.paths, r.state.Heap, n.ID), r.paths.ConsoleLog(n.ID))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.started = append(r.started, s)
		node, _ := r.state.Node(n.ID)
		node.PID, node.StartTime = s.PID, s.Start
		if r.state.Dynamic() {
			node.QuorumBootstrap = quorumBootstrapOf(r.paths.PropertiesFile(n.ID))
		}
	}
	// Record pids at once: if this command is interrupted, 'down' can still find them.
	if err := SaveState(r.paths, r.state); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// checkStarted fails the wait at once if a node started by this run has exited.
func (r *upRun) checkStarted() error {
	for _, s := range r.started {
		if dead, exitErr := s.dead(); dead {
			return step.Stop(fmt.Errorf("node %d exited during start-up (%v)%s", s.ID, exitErr, r.paths.nodeLogExcerpt(s.ID)))
		}
	}
	return nil
}

func (r *upRun) waitForQuorum(ctx context.Context) error {
	var addrs []string
	voters := 0
	mustCatchUp := make(map[int32]bool)
	for _, n := range r.expectedUp() {
		if n.IsController() {
			addrs = append(addrs, n.ControllerAddr())
			mustCatchUp[int32(n.ID)] = true
		}
	}
	for _, n := range r.state.Nodes {
		if n.IsController() {
			voters++
		}
	}
	ac, err := newAddrClients(addrs)
	if err != nil {
		return err
	}
	defer ac.Close()
	err = step.Poll(ctx, "KRaft quorum", pollInterval, func(ctx context.Context) (bool, string, error) {
		if err := r.checkStarted(); err != nil {
			return false, "", err
		}
		q, err := ac.describeQuorum(ctx)
		if err != nil {
			return false, "no controller answered DescribeQuorum", err
		}
		done, seen := q.caughtUp(voters, mustCatchUp)
		return done, seen, nil
	})
	return r.explainWait(err)
}

func (r *upRun) waitForBrokers(ctx context.Context) error {
	var brokers []NodeState
	var addrs []string
	for _, n := range r.expectedUp() {
		if n.IsBroker() {
			brokers = append(brokers, n)
			addrs = append(addrs, n.BrokerAddr())
		}
	}
	ac, err := newAddrClients(addrs)
	if err != nil {
		return err
	}
	defer ac.Close()
	err = step.Poll(ctx, "brokers", pollInterval, func(ctx context.Context) (bool, string, error) {
		if err := r.checkStarted(); err != nil {
			return false, "", err
		}
		for i, n := range brokers {
			if err := ac.brokerServing(ctx, i); err != nil {
				return false, fmt.Sprintf("node %d broker %s not serving yet", n.ID, n.BrokerAddr()), err
			}
		}
		// Every broker must list every other: a client's first metadata answer
		// (e.g. the broker count that sizes a new topic's replication) can come
		// from any of them.
		for i, asked := range brokers {
			ids, err := ac.registeredBrokers(ctx, i)
			if err != nil {
				return false, fmt.Sprintf("metadata request to node %d failed", asked.ID), err
			}
			for _, n := range brokers {
				if !slices.Contains(ids, int32(n.ID)) {
					return false, fmt.Sprintf("node %d does not list broker %d yet (it lists %v)", asked.ID, n.ID, ids), nil
				}
			}
		}
		return true, "", nil
	})
	return r.explainWait(err)
}

// explainWait adds to a timed-out wait the log tail of a node this run started —
// the node's own error output, which the user needs, rather than "connection
// refused" from a client.
func (r *upRun) explainWait(err error) error {
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || len(r.started) == 0 {
		return err
	}
	id := r.started[0].ID
	for _, s := range r.started {
		if dead, _ := s.dead(); dead {
			return fmt.Errorf("%w\nnode %d is not running:%s", err, s.ID, r.paths.nodeLogExcerpt(s.ID))
		}
	}
	return fmt.Errorf("%w (deadline --wait %s)%s", err, r.o.Wait, r.paths.nodeLogExcerpt(id))
}

// cleanup undoes a failed 'up': the nodes this run started are stopped, and a lab
// this run created is removed, unless the user asked to retain them.
func (r *upRun) cleanup(cause error) error {
	if r.o.Retain {
		return fmt.Errorf("%w\n(--retain: the lab is left as it is in %s; 'kraftlab down --purge --name %s' removes it)", cause, r.paths.Dir, r.state.Name)
	}
	ctx := context.Background()
	var stopErrs []error
	for _, s := range r.started {
		n, _ := r.state.Node(s.ID)
		if err := r.paths.killNode(ctx, *n); err != nil {
			stopErrs = append(stopErrs, err)
		}
		n.PID, n.StartTime = 0, 0
	}
	if err := errors.Join(stopErrs...); err != nil {
		return fmt.Errorf("%w\nwhile stopping the started nodes: %v", cause, err)
	}
	if n, ok := r.state.Node(r.added); ok && !(n.IsController() && r.voterAdded) {
		// A broker, or a controller that never became a voter: dropped again.
		return r.dropAdded(cause)
	}
	if r.created {
		if err := os.RemoveAll(r.paths.Dir); err != nil {
			return fmt.Errorf("%w\nwhile removing the new lab: %v", cause, err)
		}
		return fmt.Errorf("%w\n(the new lab was removed; --retain keeps it for inspection)", cause)
	}
	if len(r.started) == 0 {
		return cause
	}
	if err := SaveState(r.paths, r.state); err != nil {
		return fmt.Errorf("%w\nwhile saving the lab state: %v", cause, err)
	}
	return fmt.Errorf("%w\n(the nodes started were stopped; data is kept)", cause)
}
