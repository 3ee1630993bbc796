package flock

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	if Held(path) {
		t.Fatal("a missing lock is held")
	}
	l, err := TryLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if !Held(path) {
		t.Error("a taken lock is not held")
	}
	_, err = TryLock(path)
	if !errors.Is(err, ErrBusy) || HolderPID(err) != strconv.Itoa(os.Getpid()) {
		t.Errorf("second lock: %v (pid %q), want busy naming this pid", err, HolderPID(err))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Millisecond)
	defer cancel()
	if _, err := Wait(ctx, path, 20*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("wait on a held lock: %v, want the deadline", err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		l.Unlock()
	}()
	l2, err := Wait(t.Context(), path, 20*time.Millisecond)
	if err != nil {
		t.Fatalf("wait for a released lock: %v", err)
	}
	l2.Unlock()
	l2.Unlock() // twice is harmless
}

func TestLockRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	link := filepath.Join(dir, "lock")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if _, err := TryLock(link); err == nil {
		t.Fatal("locked through a symlink")
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the link's target was created: %v", err)
	}
}
