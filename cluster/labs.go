package cluster

// This file owns 'ls': the labs under one home, each with its state, version, shape,
// size on disk and bootstrap servers.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// LabSummary is one lab as 'ls' lists it.
type LabSummary struct {
	Name string `json:"name"`
	Dir  string `json:"dir"`
	// State is running (every node), stopped (none), partial (some), or
	// unreadable when the state file cannot be read (Error says why).
	State        string   `json:"state"`
	KafkaVersion string   `json:"kafka_version,omitempty"`
	Layout       string   `json:"layout,omitempty"` // e.g. "3 combined", "3 controllers + 2 brokers"
	Nodes        int      `json:"nodes"`
	Quorum       string   `json:"quorum,omitempty"`
	SizeBytes    int64    `json:"size_bytes"`
	Bootstrap    []string `json:"bootstrap_servers,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// labEntry is one lab dir under a home and its state, if readable.
type labEntry struct {
	Paths Paths
	State *State
	Err   error
}

// readLabs finds the labs under home: dirs with a lab's name holding a state file.
// A dir without one is not a lab (or an interrupted first 'up') and is left out.
func readLabs(home string) []labEntry {
	entries, err := os.ReadDir(home)
	if err != nil {
		return nil
	}
	var labs []labEntry
	for _, e := range entries {
		if !e.IsDir() || ValidateName(e.Name()) != nil {
			continue
		}
		p := Paths{Dir: filepath.Join(home, e.Name())}
		if _, err := os.Stat(p.StateFile()); err != nil {
			continue
		}
		s, err := LoadState(p)
		labs = append(labs, labEntry{Paths: p, State: s, Err: err})
	}
	return labs
}

// ListLabs lists the labs under home ("" = DefaultHome), by name.
func ListLabs(home string) ([]LabSummary, error) {
	if home == "" {
		h, err := DefaultHome()
		if err != nil {
			return nil, err
		}
		home = h
	}
	abs, err := filepath.Abs(home)
	if err != nil {
		return nil, fmt.Errorf("lab home %q: %w", home, err)
	}
	if _, err := os.Stat(abs); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("lab home: %w", err)
	}
	out := []LabSummary{}
	for _, e := range readLabs(abs) {
		ls := LabSummary{Name: filepath.Base(e.Paths.Dir), Dir: e.Paths.Dir, SizeBytes: diskUsage(e.Paths.Dir)}
		if e.Err != nil {
			ls.State, ls.Error = "unreadable", e.Err.Error()
			out = append(out, ls)
			continue
		}
		s := e.State
		ls.KafkaVersion, ls.Layout, ls.Nodes = s.KafkaVersion, s.Layout(), len(s.Nodes)
		ls.Quorum, ls.Bootstrap = s.QuorumMode(), s.BootstrapServers()
		alive := 0
		for _, n := range s.Nodes {
			if e.Paths.NodeAlive(n) {
				alive++
			}
		}
		switch alive {
		case 0:
			ls.State = "stopped"
		case len(s.Nodes):
			ls.State = "running"
		default:
			ls.State = "partial"
		}
		out = append(out, ls)
	}
	return out, nil
}

// diskUsage is the space the files under dir take on disk (allocated blocks, like
// du), so sparse preallocated log segments count for what they really use.
func diskUsage(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a file removed meanwhile, or unreadable: count what we can
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok {
			total += st.Blocks * 512
		} else {
			total += info.Size()
		}
		return nil
	})
	return total
}
