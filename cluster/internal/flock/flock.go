// Package flock is kraftlab's one file lock: flock(2) on a lock file, dropped by
// the kernel when the process exits however it exits, so a killed command never
// leaves a lab, a runtime install or a port reservation wedged.
package flock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrBusy is returned by TryLock when another process holds the lock.
var ErrBusy = errors.New("locked by another process")

// Lock is a held lock.
type Lock struct{ f *os.File }

// open opens (creating if create) the lock file without following a symlink: a
// lock file is always kraftlab's own, never a link planted somewhere else.
func open(path string, create bool) (*os.File, error) {
	flags := os.O_RDWR | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	if create {
		flags |= os.O_CREATE
	}
	return os.OpenFile(path, flags, 0o600)
}

// TryLock takes the lock at path without waiting. A lock held elsewhere is an
// error wrapping ErrBusy that names the holder's pid when it wrote one.
func TryLock(path string) (*Lock, error) {
	f, err := open(path, true)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, busyError(f)
		}
		return nil, err
	}
	l := &Lock{f: f}
	l.writeOwner()
	return l, nil
}

// Wait takes the lock at path, waiting while another process holds it, until ctx
// ends. poll is how often it tries again.
func Wait(ctx context.Context, path string, poll time.Duration) (*Lock, error) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		l, err := TryLock(path)
		if !errors.Is(err, ErrBusy) {
			return l, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (while waiting: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

// Held reports whether some process holds the lock at path right now; a missing
// file is not held. It never creates the file.
func Held(path string) bool {
	f, err := open(path, false)
	if err != nil {
		return false
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB); err != nil {
		return errors.Is(err, syscall.EWOULDBLOCK)
	}
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}

// Unlock releases the lock; nil-safe.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	l.f.Close()
	l.f = nil
}

// writeOwner records the holder's pid in the file, for the busy message. It is
// best effort: on a full disk the lock still holds.
func (l *Lock) writeOwner() {
	_ = l.f.Truncate(0)
	_, _ = l.f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
}

type busy struct{ pid string }

func (b busy) Error() string {
	if b.pid == "" {
		return ErrBusy.Error()
	}
	return fmt.Sprintf("%s (pid %s)", ErrBusy, b.pid)
}
func (b busy) Unwrap() error { return ErrBusy }

func busyError(f *os.File) error {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	return busy{pid: strings.TrimSpace(string(buf[:n]))}
}

// HolderPID is the pid a busy error names, or "".
func HolderPID(err error) string {
	var b busy
	if errors.As(err, &b) {
		return b.pid
	}
	return ""
}
