package cluster

// This file owns the per-lab lock, so two kraftlab commands never act on one lab at
// once (two 'up's, or 'up' racing 'down').

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// labLock is an flock(2) on <lab>/.lock, released when the process exits even if it
// is killed, so a stale lock can never wedge a lab.
type labLock struct{ f *os.File }

// lockLab takes the lab's lock without waiting; a held lock is "lab is busy" naming
// the holder's pid.
func lockLab(p Paths) (*labLock, error) {
	f, err := os.OpenFile(p.LockFile(), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock lab: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(p.LockFile())
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := ""
			if pid := strings.TrimSpace(string(holder)); pid != "" {
				who = " (pid " + pid + ")"
			}
			return nil, fmt.Errorf("lab %s is busy: another kraftlab command%s is working on it; wait for it to finish", p.Dir, who)
		}
		return nil, fmt.Errorf("lock lab: %w", err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return &labLock{f: f}, nil
}

func (l *labLock) Unlock() {
	if l == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
}

// lockState takes the lab's lock and re-reads its state under it: whatever another
// command changed while it held the lock (pids after a restart, nodes added) is seen.
func lockState(p Paths) (*labLock, *State, error) {
	lock, err := lockLab(p)
	if err != nil {
		return nil, nil, err
	}
	s, err := LoadState(p)
	if err != nil {
		lock.Unlock()
		return nil, nil, err
	}
	return lock, s, nil
}
