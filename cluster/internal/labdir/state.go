package labdir

// This file owns state.json: the facts a running lab adds to its spec — the
// cluster id, the runtime in use, the ports that were picked, and the processes
// serving each node — read and written atomically.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// State is what kraftlab records about a lab beyond its spec.
type State struct {
	ClusterID string    `json:"cluster_id"`
	CreatedAt time.Time `json:"created_at"`
	// Started is set once any node has been started: from then on the lab's
	// storage holds data, and an unformatted node is no longer an interrupted format.
	Started bool `json:"started,omitempty"`
	// KafkaVersion, RuntimeDir and Java are the runtime every node runs, unless a
	// node names its own during a rolling upgrade.
	KafkaVersion string `json:"kafka_version"`
	RuntimeDir   string `json:"runtime_dir"`
	Java         string `json:"java"`
	Nodes        []Node `json:"nodes"`

	// Legacy holds what labs from before the spec recorded here; it is read, to
	// rebuild their spec, and never written.
	Legacy *Legacy `json:"-"`
}

// Node is what is recorded about one node: its ports, its storage identity, and
// while it runs, the process serving it.
type Node struct {
	ID             int `json:"id"`
	BrokerPort     int `json:"broker_port,omitempty"`
	ControllerPort int `json:"controller_port,omitempty"`
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
	// process start time and the properties file on its command line are recorded
	// and checked before signalling.
	PID       int    `json:"pid,omitempty"`
	StartTime uint64 `json:"start_time,omitempty"`
}

// Legacy is the part of an older state file that now lives in the spec.
type Legacy struct {
	Name   string   `json:"name"`
	Heap   string   `json:"heap"`
	Quorum string   `json:"quorum"`
	Sets   []string `json:"sets"`
	Nodes  []struct {
		ID    int      `json:"id"`
		Roles []string `json:"roles"`
		Host  string   `json:"host"`
	} `json:"nodes"`
}

// Node returns the recorded node with the given id.
func (s *State) Node(id int) (*Node, bool) {
	for i := range s.Nodes {
		if s.Nodes[i].ID == id {
			return &s.Nodes[i], true
		}
	}
	return nil, false
}

// ErrNoState means the lab directory has no state file: a first 'up' that was
// interrupted before anything was recorded.
var ErrNoState = errors.New("lab has no state file")

// LoadState reads the lab's state file. A corrupt one is an error that says how
// to recover without losing data.
func LoadState(d Dir) (*State, error) {
	b, err := os.ReadFile(d.StateFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w at %s", ErrNoState, d.Path)
	}
	if err != nil {
		return nil, fmt.Errorf("read lab state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, &CorruptError{File: d.StateFile(), Err: err}
	}
	if s.ClusterID == "" || len(s.Nodes) == 0 {
		return nil, &CorruptError{File: d.StateFile(), Err: errors.New("no cluster id or nodes")}
	}
	var legacy Legacy
	if json.Unmarshal(b, &legacy) == nil && len(legacy.Nodes) > 0 && len(legacy.Nodes[0].Roles) > 0 {
		s.Legacy = &legacy
	}
	return &s, nil
}

// CorruptError is a state file that cannot be read back.
type CorruptError struct {
	File string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("lab state %s is corrupt (%v); 'kraftlab down --purge' stops the lab's nodes and removes it", e.File, e.Err)
}

func (e *CorruptError) Unwrap() error { return e.Err }

// SaveState writes the state file atomically.
func SaveState(d Dir, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFile(d.StateFile(), append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("write lab state: %w", err)
	}
	return nil
}
