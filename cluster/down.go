package cluster

// This file owns 'down': stop every node of a lab (SIGTERM, wait, SIGKILL), only
// ever signalling the processes the state file recorded, and --purge.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// DownOptions is what 'kraftlab down' takes.
type DownOptions struct {
	Home    string
	Name    string
	Purge   bool          // delete the lab dir once its processes are gone
	Timeout time.Duration // per node, between SIGTERM and SIGKILL; 0 = 30s
}

// DownResult says what 'down' did.
type DownResult struct {
	Name    string `json:"name"`
	Stopped []int  `json:"stopped"` // node ids that were running
	Purged  bool   `json:"purged"`
	Existed bool   `json:"existed"`
	Dir     string `json:"dir"`
}

// Down stops a lab. A lab that is not running (or does not exist) is not an error.
func Down(ctx context.Context, o DownOptions) (*DownResult, error) {
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	paths, err := PathsFor(o.Home, o.Name)
	if err != nil {
		return nil, err
	}
	res := &DownResult{Name: o.Name, Dir: paths.Dir}
	if _, err := os.Stat(paths.Dir); errors.Is(err, os.ErrNotExist) {
		return res, nil
	}
	res.Existed = true
	lock, err := lockLab(paths)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()

	state, err := LoadState(paths)
	switch {
	case errors.Is(err, ErrNoLab):
		// A lab dir without state: an interrupted first 'up' before formatting.
	case err != nil && !o.Purge:
		return nil, err
	case err != nil:
		// The state is unreadable, so its pids are unknown: find the lab's nodes by
		// their command line instead, which names this lab's properties files.
		state = &State{Name: o.Name, Nodes: paths.labProcesses()}
		if err := stopAll(ctx, paths, state, o.Timeout, res); err != nil {
			return nil, err
		}
	default:
		if err := stopAll(ctx, paths, state, o.Timeout, res); err != nil {
			return nil, err
		}
	}
	if o.Purge {
		if err := os.RemoveAll(paths.Dir); err != nil {
			return nil, fmt.Errorf("purge lab: %w", err)
		}
		res.Purged = true
	}
	return res, nil
}

// stopAll stops every running node concurrently and clears their pids.
func stopAll(ctx context.Context, paths Paths, state *State, timeout time.Duration, res *DownResult) error {
	var running []NodeState
	for _, n := range state.Nodes {
		if paths.NodeAlive(n) {
			running = append(running, n)
			res.Stopped = append(res.Stopped, n.ID)
		}
	}
	err := eachNode(running, func(n NodeState) error { return paths.stopNode(ctx, n, timeout) })
	for i := range state.Nodes {
		if !paths.NodeAlive(state.Nodes[i]) {
			state.Nodes[i].PID, state.Nodes[i].StartTime = 0, 0
		}
	}
	if state.ClusterID == "" {
		return err // recovered from the process table: nothing worth saving
	}
	if serr := SaveState(paths, state); serr != nil {
		err = errors.Join(err, serr)
	}
	return err
}
