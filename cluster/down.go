package cluster

// This file owns 'down': stop every node of a lab — brokers first, so each can
// hand over its partitions while the controllers still run — only ever signalling
// a process whose start time and command line match this lab's node, and --purge.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
)

// DownOptions is what 'down' takes.
type DownOptions struct {
	Purge   bool          // delete the lab dir once its processes are gone
	Timeout time.Duration // per node, between SIGTERM and SIGKILL; 0 = 30s
}

// DownResult says what 'down' did.
type DownResult struct {
	Name    string `json:"name"`
	Dir     string `json:"dir"`
	Existed bool   `json:"existed"`
	Stopped []int  `json:"stopped"`          // nodes that were running
	Killed  []int  `json:"killed,omitempty"` // nodes that needed SIGKILL after the timeout
	Purged  bool   `json:"purged"`
	// Warning is a problem that did not stop 'down' (e.g. the state could not be
	// saved on a full disk; the pids it keeps are checked before any use).
	Warning string `json:"warning,omitempty"`
}

// Down stops the lab named name under cfg. A lab that does not exist is not an
// error; a directory that kraftlab did not create is refused and left alone.
func Down(ctx context.Context, cfg Config, name string, o DownOptions) (*DownResult, error) {
	d, err := cfg.labDir(name)
	if err != nil {
		return nil, err
	}
	res := &DownResult{Name: name, Dir: d.Path}
	l := &Lab{cfg: cfg, dir: d}
	if err := l.load(); errors.Is(err, ErrNoLab) {
		return res, nil
	} else if err != nil && l.stErr == nil {
		return nil, err
	}
	res.Existed = true
	return l.down(ctx, o, res)
}

// Down stops the lab's nodes and, with o.Purge, deletes it.
func (l *Lab) Down(ctx context.Context, o DownOptions) (*DownResult, error) {
	res := &DownResult{Name: l.Name(), Dir: l.dir.Path, Existed: true}
	if kind, _ := l.dir.Inspect(); kind == labdir.Missing {
		res.Existed = false
		return res, nil
	}
	return l.down(ctx, o, res)
}

func (l *Lab) down(ctx context.Context, o DownOptions, res *DownResult) (*DownResult, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	lock, err := labdir.Lock(l.dir)
	if err != nil {
		return nil, err
	}
	defer lock.Unlock()
	if err := l.load(); err != nil && l.stErr == nil {
		return nil, err
	}
	if l.stErr != nil && !o.Purge {
		// The state is unreadable, so its pids are unknown: the lab's nodes are still
		// found by their command line and stopped, and the state left for the user.
		if err := l.stopFound(ctx, o.Timeout, res); err != nil {
			return nil, err
		}
		return res, l.stErr
	}
	if l.st != nil {
		changed := len(l.adoptStrays()) > 0
		if err := l.stopAll(ctx, o.Timeout, res); err != nil {
			return nil, err
		}
		changed = changed || len(res.Stopped) > 0
		// Saving is best effort: a purge deletes the file next, and a stale pid is
		// harmless (start time and command line are checked before any signal).
		if changed && !o.Purge {
			if err := labdir.SaveState(l.dir, l.st); err != nil {
				res.Warning = fmt.Sprintf("the nodes are stopped, but the lab state was not saved: %v", err)
			}
		}
	}
	// Whatever the state says, no JVM of this lab may outlive a purge.
	if err := l.stopFound(ctx, o.Timeout, res); err != nil {
		return nil, err
	}
	if o.Purge {
		if left := l.labProcesses(); len(left) > 0 {
			return nil, fmt.Errorf("not purging %s: node %d (pid %d) still runs", l.dir.Path, left[0].ID, left[0].PID)
		}
		if err := labdir.Remove(l.dir); err != nil {
			return nil, err
		}
		res.Purged = true
	}
	return res, nil
}

// stopAll stops every running node, brokers before controllers: a broker's
// controlled shutdown needs a live controller to hand its partitions over.
func (l *Lab) stopAll(ctx context.Context, timeout time.Duration, res *DownResult) error {
	var brokersOnly, rest []node
	for _, n := range l.nodes() {
		if !l.alive(n) {
			continue
		}
		res.Stopped = append(res.Stopped, n.ID)
		if n.IsController() {
			rest = append(rest, n)
		} else {
			brokersOnly = append(brokersOnly, n)
		}
	}
	for _, group := range append([][]node{brokersOnly}, voterWaves(rest, l.voters())...) {
		if err := l.stopGroup(ctx, group, timeout, res); err != nil {
			return err
		}
	}
	return nil
}

// voterWaves splits the live controllers of a quorum of voters into groups to
// stop one after the other, so that the quorum keeps a majority until the last
// group: a combined node's controlled shutdown needs an active controller, and
// one that loses it waits up to 5 minutes. Each wave stops as many as the
// majority can spare; three or fewer, or none to spare, go at once, as three
// combined nodes do cleanly (the last voter is let go once its logs are closed).
// Nine combined nodes stopped at once sometimes lost the quorum before every node
// had its shutdown approved, and waited out the timeout.
func voterWaves(live []node, voters int) [][]node {
	var waves [][]node
	majority := voters/2 + 1
	for len(live) > 3 && len(live)-majority >= 1 {
		n := len(live) - majority
		waves = append(waves, live[:n])
		live = live[n:]
	}
	if len(live) > 0 {
		waves = append(waves, live)
	}
	return waves
}

// stopGroup stops nodes concurrently, recording which needed SIGKILL, and clears
// the records of those that are gone.
func (l *Lab) stopGroup(ctx context.Context, nodes []node, timeout time.Duration, res *DownResult) error {
	killed := make([]bool, len(nodes))
	idx := map[int]int{}
	for i, n := range nodes {
		idx[n.ID] = i
	}
	err := eachNode(nodes, func(n node) error {
		k, err := l.stopNode(ctx, n, timeout)
		killed[idx[n.ID]] = k
		return err
	})
	for i, n := range nodes {
		if killed[i] {
			res.Killed = append(res.Killed, n.ID)
		}
		if !l.alive(n) {
			n.rec.PID, n.rec.StartTime = 0, 0
		}
	}
	return err
}

// stopFound stops the lab's JVMs found by command line, for when the state file
// cannot say which they are.
func (l *Lab) stopFound(ctx context.Context, timeout time.Duration, res *DownResult) error {
	var found []node
	for _, p := range l.labProcesses() {
		found = append(found, node{rec: &labdir.Node{ID: p.ID, PID: p.PID, StartTime: p.Start}, Node: render.Node{ID: p.ID}})
		res.Stopped = append(res.Stopped, p.ID)
	}
	return l.stopGroup(ctx, found, timeout, res)
}
