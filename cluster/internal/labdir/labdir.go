// Package labdir owns a lab's directory: where its files live, the marker that
// says kraftlab made it, the lock that keeps two commands from acting on it at
// once, and its state file. It is the one place that decides whether a directory
// may be written to or deleted: only one kraftlab created (it carries the marker),
// reached without following a symlink.
package labdir

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/kraftlab/kraftlab/cluster/internal/flock"
)

// File names inside a lab directory.
const (
	markerName = ".kraftlab-lab"
	lockName   = ".lock"
	stateName  = "state.json"
	specName   = "lab.yaml"
)

// markerText is what the marker holds: enough for a person who finds the file to
// know what it is.
const markerText = "This directory is a kraftlab lab: 'kraftlab down --purge --name NAME' removes it.\n"

// ErrNoLab means no lab directory exists at the path.
var ErrNoLab = errors.New("no such lab")

// ErrNotLab means something exists at the path that kraftlab did not create.
var ErrNotLab = errors.New("not a kraftlab lab")

// Dir is one lab's directory, <home>/<name>.
type Dir struct{ Path string }

// Name is the lab's name: the directory's base name.
func (d Dir) Name() string { return filepath.Base(d.Path) }

// Home is the directory holding this lab and its neighbours.
func (d Dir) Home() string { return filepath.Dir(d.Path) }

func (d Dir) join(elem ...string) string { return filepath.Join(append([]string{d.Path}, elem...)...) }

func (d Dir) StateFile() string  { return d.join(stateName) }
func (d Dir) SpecFile() string   { return d.join(specName) }
func (d Dir) LockFile() string   { return d.join(lockName) }
func (d Dir) MarkerFile() string { return d.join(markerName) }

func (d Dir) NodeDir(id int) string        { return d.join("node" + strconv.Itoa(id)) }
func (d Dir) PropertiesFile(id int) string { return filepath.Join(d.NodeDir(id), "server.properties") }
func (d Dir) DataDir(id int) string        { return filepath.Join(d.NodeDir(id), "data") }
func (d Dir) LogsDir(id int) string        { return filepath.Join(d.NodeDir(id), "logs") }
func (d Dir) ServerLog(id int) string      { return filepath.Join(d.LogsDir(id), "server.log") }
func (d Dir) ConsoleLog(id int) string     { return filepath.Join(d.NodeDir(id), "console.log") }
func (d Dir) MetaProperties(id int) string { return filepath.Join(d.DataDir(id), "meta.properties") }

// Kind is what exists at a lab's path.
type Kind int

const (
	Missing Kind = iota // nothing there
	Lab                 // a directory kraftlab created
	Foreign             // something else: a directory without the marker, a file, a symlink
)

// Inspect says what is at the lab's path, without following a symlink. A directory
// from an older kraftlab that has a state file but no marker counts as a lab.
func (d Dir) Inspect() (Kind, error) {
	info, err := os.Lstat(d.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return Missing, nil
	}
	if err != nil {
		return Foreign, err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return Foreign, fmt.Errorf("%s is a symbolic link; kraftlab never follows one out of the lab home", d.Path)
	}
	if !info.IsDir() {
		return Foreign, fmt.Errorf("%s is not a directory", d.Path)
	}
	if regularFile(d.MarkerFile()) || regularFile(d.StateFile()) {
		return Lab, nil
	}
	return Foreign, nil
}

func regularFile(path string) bool {
	info, err := os.Lstat(path)
	return err == nil && info.Mode().IsRegular()
}

// Create makes the directory of a new lab and takes its lock. It fails if anything
// exists at the path: a new lab never moves into a directory that was there
// before. The marker is the first file written, so whatever a failure leaves
// behind is recognisably kraftlab's.
func Create(d Dir) (*flock.Lock, error) {
	if err := os.MkdirAll(d.Home(), 0o700); err != nil {
		return nil, fmt.Errorf("create lab home: %w", err)
	}
	if err := os.Mkdir(d.Path, 0o700); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return nil, fs.ErrExist
		}
		return nil, fmt.Errorf("create lab dir: %w", err)
	}
	lock, err := flock.TryLock(d.LockFile())
	if err != nil {
		os.Remove(d.Path)
		return nil, busyOr(d, err)
	}
	if err := writeNew(d.MarkerFile(), []byte(markerText)); err != nil {
		lock.Unlock()
		os.RemoveAll(d.Path)
		return nil, fmt.Errorf("create lab dir: %w", err)
	}
	return lock, nil
}

// Lock takes the lock of an existing lab without waiting. Something at the path
// that kraftlab did not create is refused, and nothing is written to it.
func Lock(d Dir) (*flock.Lock, error) {
	if err := d.requireLab(); err != nil {
		return nil, err
	}
	lock, err := flock.TryLock(d.LockFile())
	if err != nil {
		return nil, busyOr(d, err)
	}
	if !regularFile(d.MarkerFile()) {
		// A lab from an older kraftlab: mark it now (best effort; it is a lab by
		// its state file either way).
		_ = writeNew(d.MarkerFile(), []byte(markerText))
	}
	return lock, nil
}

// Require is nil when the path is a lab directory; otherwise it says what is
// there instead: nothing (ErrNoLab), something kraftlab did not make (ErrNotLab),
// or a lab being created by another command right now (busy).
func (d Dir) Require() error { return d.requireLab() }

func (d Dir) requireLab() error {
	kind, err := d.Inspect()
	switch {
	case kind == Missing:
		return fmt.Errorf("%w at %s (create it with 'kraftlab up')", ErrNoLab, d.Path)
	case kind == Foreign && err != nil:
		return fmt.Errorf("%w: %w", ErrNotLab, err)
	case kind == Foreign && flock.Held(d.LockFile()):
		return busyOr(d, flock.ErrBusy)
	case kind == Foreign:
		return fmt.Errorf("%w: %s exists and is not a kraftlab lab (it has no %s marker); kraftlab leaves it alone: choose another lab name, or move it away", ErrNotLab, d.Path, markerName)
	}
	return nil
}

// Busy is the error of a lab another command is working on.
type Busy struct {
	Dir string
	PID string
}

func (b *Busy) Error() string {
	who := ""
	if b.PID != "" {
		who = " (pid " + b.PID + ")"
	}
	return fmt.Sprintf("lab %s is busy: another kraftlab command%s is working on it; wait for it to finish", b.Dir, who)
}

func (b *Busy) Unwrap() error { return flock.ErrBusy }

func busyOr(d Dir, err error) error {
	if errors.Is(err, flock.ErrBusy) {
		return &Busy{Dir: d.Path, PID: flock.HolderPID(err)}
	}
	return fmt.Errorf("lock lab: %w", err)
}

// Remove deletes the lab directory and everything in it. Only a directory kraftlab
// created is removed, and never through a symbolic link.
func Remove(d Dir) error {
	if err := d.requireLab(); err != nil {
		return err
	}
	if err := os.RemoveAll(d.Path); err != nil {
		return fmt.Errorf("remove lab %s: %w", d.Path, err)
	}
	return nil
}

// MkdirNode creates a directory inside the lab (a node's dir, its data or logs),
// refusing one that exists as a symbolic link.
func (d Dir) MkdirNode(path string) error { return Mkdir(path) }

// Mkdir creates directory path (0700, with its parents), refusing one that exists
// as a symbolic link or as anything but a directory.
func Mkdir(path string) error {
	if info, err := os.Lstat(path); err == nil {
		if info.Mode()&fs.ModeSymlink != 0 || !info.IsDir() {
			return fmt.Errorf("%s exists and is not a directory kraftlab made; remove it or purge the lab", path)
		}
		return nil
	}
	return os.MkdirAll(path, 0o700)
}

// WriteFile writes a file inside the lab atomically (temp file, then rename), so a
// crash never leaves it truncated and a symbolic link at the path is replaced,
// never written through.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// writeNew creates a file that must not exist yet, without following a link.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// UserTemp is the per-user directory <temp dir>/kraftlab-<uid>/sub, shared by every
// kraftlab process of this user whatever its lab home (port reservations, the labs
// of Go tests), created if missing. It is refused if it or its parent is a
// symbolic link or not the user's own: on a shared /tmp another user could plant one.
func UserTemp(sub string) (string, error) {
	dir := filepath.Join(os.TempDir(), "kraftlab-"+strconv.Itoa(os.Getuid()), sub)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	for _, d := range []string{filepath.Dir(dir), dir} {
		info, err := os.Lstat(d)
		if err != nil {
			return "", err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if info.Mode()&fs.ModeSymlink != 0 || !info.IsDir() || (ok && int(st.Uid) != os.Getuid()) {
			return "", fmt.Errorf("%s is not a directory of this user's; remove it", d)
		}
	}
	return dir, nil
}
