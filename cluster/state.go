package cluster

// This file owns the lab's on-disk layout and its state file: where a lab lives,
// what is recorded about it, and reading/writing that record atomically.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"
)

const stateFileName = "state.json"

// ErrNoLab is returned when a lab has never been created (or was purged).
var ErrNoLab = errors.New("no such lab")

// State is what kraftlab records about a lab in <home>/<name>/state.json.
type State struct {
	Name         string `json:"name"`
	ClusterID    string `json:"cluster_id"`
	KafkaVersion string `json:"kafka_version"`
	RuntimeDir   string `json:"runtime_dir"`
	Java         string `json:"java"`
	Heap         string `json:"heap"`
	// Quorum is QuorumStatic or QuorumDynamic; "" (labs from before it was recorded)
	// is static.
	Quorum string `json:"quorum,omitempty"`
	// Sets are the --set overrides the lab was created with, so nodes added later
	// are rendered the same way.
	Sets      []string    `json:"sets,omitempty"`
	Nodes     []NodeState `json:"nodes"`
	CreatedAt time.Time   `json:"created_at"`
}

// NodeState is one node of the lab and, while it runs, the process serving it.
type NodeState struct {
	ID    int      `json:"id"`
	Roles []string `json:"roles"`
	// Host is the address every listener binds; "" means 127.0.0.1.
	Host           string `json:"host,omitempty"`
	BrokerPort     int    `json:"broker_port,omitempty"`
	ControllerPort int    `json:"controller_port,omitempty"`
	// DirectoryID is the directory.id of a controller's metadata log dir in a dynamic
	// quorum: voters are named by id and directory id (KIP-853).
	DirectoryID string `json:"directory_id,omitempty"`
	// QuorumBootstrap is the controller.quorum.bootstrap.servers the running process
	// started with (dynamic quorum). A node finds a new quorum leader through them,
	// so it must be restarted before every one of them is gone.
	QuorumBootstrap []string `json:"quorum_bootstrap,omitempty"`
	// KafkaVersion and RuntimeDir are set while a rolling upgrade has switched this
	// node to another runtime than the lab's; empty otherwise.
	KafkaVersion string `json:"kafka_version,omitempty"`
	RuntimeDir   string `json:"runtime_dir,omitempty"`
	// Process identity: a pid alone can be reused by an unrelated process, so the
	// process start time (clock ticks after boot, /proc/<pid>/stat field 22) and the
	// properties file on its command line are recorded and checked before signalling.
	PID       int    `json:"pid,omitempty"`
	StartTime uint64 `json:"start_time,omitempty"`
}

// IsBroker reports whether the node serves clients.
func (n NodeState) IsBroker() bool { return hasRole(n.Roles, "broker") }

// IsController reports whether the node is a KRaft controller (a voter).
func (n NodeState) IsController() bool { return hasRole(n.Roles, "controller") }

func hasRole(roles []string, role string) bool {
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}

// BrokerAddr is the node's client listener, host:port.
func (n NodeState) BrokerAddr() string { return hostPort(n.Host, n.BrokerPort) }

// ControllerAddr is the node's controller listener, host:port.
func (n NodeState) ControllerAddr() string { return hostPort(n.Host, n.ControllerPort) }

// DefaultBind is where every listener binds unless --bind says otherwise: a lab is
// reachable from this machine only.
const DefaultBind = "127.0.0.1"

func hostPort(host string, port int) string {
	return net.JoinHostPort(bindHost(host), strconv.Itoa(port))
}

// bindHost is the address a node's listeners bind: host, or DefaultBind if unset.
func bindHost(host string) string {
	if host == "" {
		return DefaultBind
	}
	return host
}

// BootstrapServers lists every broker's client address.
func (s *State) BootstrapServers() []string {
	var addrs []string
	for _, n := range s.Nodes {
		if n.IsBroker() {
			addrs = append(addrs, n.BrokerAddr())
		}
	}
	return addrs
}

// Brokers counts the lab's broker nodes.
func (s *State) Brokers() int { return len(s.BootstrapServers()) }

// Controllers lists the lab's controller nodes: the voters of its quorum.
func (s *State) Controllers() []NodeState {
	var out []NodeState
	for _, n := range s.Nodes {
		if n.IsController() {
			out = append(out, n)
		}
	}
	return out
}

// controllerAddrs lists the controller listeners of nodes.
func controllerAddrs(nodes []NodeState) []string {
	var addrs []string
	for _, n := range nodes {
		if n.IsController() {
			addrs = append(addrs, n.ControllerAddr())
		}
	}
	return addrs
}

// Dynamic reports whether the lab's quorum is dynamic (KIP-853).
func (s *State) Dynamic() bool { return s.Quorum == QuorumDynamic }

// QuorumMode is QuorumStatic or QuorumDynamic.
func (s *State) QuorumMode() string {
	if s.Dynamic() {
		return QuorumDynamic
	}
	return QuorumStatic
}

// Layout describes the lab's shape: "3 combined" or "3 controllers + 2 brokers"
// (a combined lab that gained controller-only nodes shows both).
func (s *State) Layout() string {
	var combined, controllers, brokers int
	for _, n := range s.Nodes {
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

// nextID is the id for a node added to the lab: above every id it has, so it never
// clashes with a broker id or a voter.
func (s *State) nextID() int {
	id := 0
	for _, n := range s.Nodes {
		id = max(id, n.ID)
	}
	return id + 1
}

// Node returns the node with the given id.
func (s *State) Node(id int) (*NodeState, bool) {
	for i := range s.Nodes {
		if s.Nodes[i].ID == id {
			return &s.Nodes[i], true
		}
	}
	return nil, false
}

var labNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidateName checks a lab name: it becomes a directory name, so only [a-z0-9-].
func ValidateName(name string) error {
	if !labNameRE.MatchString(name) {
		return usage.Errorf("lab name %q: use 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit", name)
	}
	return nil
}

// DefaultHome is $KRAFTLAB_HOME, else ~/.kraftlab.
func DefaultHome() (string, error) {
	if h := os.Getenv("KRAFTLAB_HOME"); h != "" {
		return h, nil
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory (set KRAFTLAB_HOME): %w", err)
	}
	return filepath.Join(u, ".kraftlab"), nil
}

// Paths is the layout of one lab on disk.
type Paths struct {
	Dir string // <home>/<name>
}

// PathsFor returns the layout of lab name under home ("" = DefaultHome).
func PathsFor(home, name string) (Paths, error) {
	if err := ValidateName(name); err != nil {
		return Paths{}, err
	}
	if home == "" {
		h, err := DefaultHome()
		if err != nil {
			return Paths{}, err
		}
		home = h
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return Paths{}, fmt.Errorf("lab home %q: %w", home, err)
	}
	return Paths{Dir: filepath.Join(abs, name)}, nil
}

// Home is the directory holding this lab and its neighbours.
func (p Paths) Home() string { return filepath.Dir(p.Dir) }

func (p Paths) StateFile() string     { return filepath.Join(p.Dir, stateFileName) }
func (p Paths) LockFile() string      { return filepath.Join(p.Dir, ".lock") }
func (p Paths) NodeDir(id int) string { return filepath.Join(p.Dir, "node"+strconv.Itoa(id)) }
func (p Paths) PropertiesFile(id int) string {
	return filepath.Join(p.NodeDir(id), "server.properties")
}
func (p Paths) DataDir(id int) string    { return filepath.Join(p.NodeDir(id), "data") }
func (p Paths) LogsDir(id int) string    { return filepath.Join(p.NodeDir(id), "logs") }
func (p Paths) ServerLog(id int) string  { return filepath.Join(p.LogsDir(id), "server.log") }
func (p Paths) ConsoleLog(id int) string { return filepath.Join(p.NodeDir(id), "console.log") }
func (p Paths) MetaProperties(id int) string {
	return filepath.Join(p.DataDir(id), "meta.properties")
}

// LoadState reads a lab's state file. A missing file is ErrNoLab; a corrupt one is
// an error that says how to recover without losing data.
func LoadState(p Paths) (*State, error) {
	b, err := os.ReadFile(p.StateFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s (create it with 'kraftlab up')", ErrNoLab, p.Dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read lab state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("lab state %s is corrupt (%v); 'kraftlab down --purge' stops its nodes and removes it", p.StateFile(), err)
	}
	if s.ClusterID == "" || len(s.Nodes) == 0 {
		return nil, fmt.Errorf("lab state %s is incomplete (no cluster id or nodes); 'kraftlab down --purge' to start over", p.StateFile())
	}
	return &s, nil
}

// SaveState writes the state file atomically (temp file + rename), so a crash never
// leaves a truncated state behind.
func SaveState(p Paths, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(p.Dir, ".state-*.json")
	if err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write lab state: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	if err := os.Rename(tmp.Name(), p.StateFile()); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	return nil
}
