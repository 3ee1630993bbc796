package cluster

// This file owns 'ls': the labs under one home, each with its state, version,
// shape, size on disk and bootstrap servers.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
)

// LabSummary is one lab as 'ls' lists it.
type LabSummary struct {
	Name string `json:"name"`
	Dir  string `json:"dir"`
	// State is running (every node), stopped (none), partial (some), or
	// unreadable when the lab cannot be read (Error says why).
	State        string   `json:"state"`
	KafkaVersion string   `json:"kafka_version,omitempty"`
	Layout       string   `json:"layout,omitempty"` // e.g. "3 combined", "3 controllers + 2 brokers"
	Nodes        int      `json:"nodes"`
	Quorum       string   `json:"quorum,omitempty"`
	SizeBytes    int64    `json:"size_bytes"`
	Bootstrap    []string `json:"bootstrap_servers,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// labEntry is one lab directory under a home, loaded if it could be.
type labEntry struct {
	*Lab
	err error
}

// readLabs finds the labs under home: directories with a lab's name that kraftlab
// created and that hold a state file. Anything else is not a lab (or a first 'up'
// interrupted before it formatted anything) and is left out.
func readLabs(home string) []labEntry {
	entries, err := os.ReadDir(home)
	if err != nil {
		return nil
	}
	var labs []labEntry
	for _, e := range entries {
		if !e.IsDir() || !labNameRE.MatchString(e.Name()) {
			continue
		}
		l := &Lab{dir: labdir.Dir{Path: filepath.Join(home, e.Name())}}
		if kind, _ := l.dir.Inspect(); kind != labdir.Lab {
			continue
		}
		err := l.load()
		if err == nil {
			err = l.stErr
		}
		if err == nil && l.st == nil {
			continue
		}
		labs = append(labs, labEntry{Lab: l, err: err})
	}
	return labs
}

// ListLabs lists the labs under the config's home, by name.
func ListLabs(cfg Config) ([]LabSummary, error) {
	home := cfg.Home
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
		ls := LabSummary{Name: e.Name(), Dir: e.dir.Path, SizeBytes: diskUsage(e.dir.Path)}
		if e.err != nil {
			ls.State, ls.Error = "unreadable", e.err.Error()
			out = append(out, ls)
			continue
		}
		nodes := e.nodes()
		ls.KafkaVersion, ls.Layout, ls.Nodes = e.st.KafkaVersion, e.layout(), len(nodes)
		ls.Quorum, ls.Bootstrap = e.spec.Quorum, e.BootstrapServers()
		alive := 0
		for _, n := range nodes {
			if e.alive(n) {
				alive++
			}
		}
		switch alive {
		case 0:
			ls.State = "stopped"
		case len(nodes):
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
