package e2e

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sentinel is what must never change whatever kraftlab is asked: a directory tree
// outside every lab home and a process kraftlab did not start.
type sentinel struct {
	dir   string
	proc  *exec.Cmd
	start []byte // /proc/<pid>/stat start time field, the process identity
	tree  map[string]string
}

func newSentinel(t *testing.T) *sentinel {
	t.Helper()
	s := &sentinel{dir: t.TempDir()}
	for path, content := range map[string]string{"notes/todo": "precious", "notes/sub/f": "also precious", "conf/server.properties": "node.id=1\n"} {
		p := filepath.Join(s.dir, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.proc = exec.Command("sleep", "3600")
	if err := s.proc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.proc.Process.Kill(); s.proc.Wait() })
	s.start = procStart(t, s.proc.Process.Pid)
	s.tree = snapshot(t, s.dir)
	return s
}

// check fails the test if the tree or the process changed.
func (s *sentinel) check(t *testing.T) {
	t.Helper()
	if got := snapshot(t, s.dir); fmt.Sprint(got) != fmt.Sprint(s.tree) {
		t.Errorf("the sentinel tree outside the lab home changed:\nbefore %v\nafter  %v", s.tree, got)
	}
	if err := s.proc.Process.Signal(syscall.Signal(0)); err != nil || !bytes.Equal(procStart(t, s.proc.Process.Pid), s.start) {
		t.Errorf("the sentinel process %d was signalled or replaced: %v", s.proc.Process.Pid, err)
	}
}

// snapshot is every path under dir with its mode, size, content hash and mtime.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sum := ""
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h := sha256.Sum256(b)
			sum = hex.EncodeToString(h[:8])
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = fmt.Sprintf("%v %d %s %d", info.Mode(), info.Size(), sum, info.ModTime().UnixNano())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func procStart(t *testing.T, pid int) []byte {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	fields := bytes.Fields(b[bytes.LastIndexByte(b, ')')+1:])
	return fields[19]
}

// The hostile cases of the safety issue: a directory that was there before, one
// that is not a lab, a symlinked lab name, a lab JVM the state does not record, a
// down racing an up, a full disk, and an interrupted format. Before and after, a
// sentinel tree and process must be exactly as they were.
func TestHostile(t *testing.T) {
	s := newSentinel(t)
	defer s.check(t)

	t.Run("a failed up leaves a directory that was there alone", func(t *testing.T) {
		home := t.TempDir()
		notes := filepath.Join(home, "notes")
		if err := os.CopyFS(notes, os.DirFS(filepath.Join(s.dir, "notes"))); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, notes)
		bb, cb := freePortBlocks(t, 1)
		r := kraftlabIn(t, home, "up", "--name", "notes", "--nodes", "1", "--wait", "1s", "--broker-port", itoa(bb), "--controller-port", itoa(cb))
		if r.code == 0 || !strings.Contains(r.stderr, "exists and is not a kraftlab lab") {
			t.Fatalf("up into a directory that was there: %s", r)
		}
		for _, args := range [][]string{{"down", "--purge"}, {"down"}, {"status"}} {
			if r := kraftlabIn(t, home, append(args, "--name", "notes")...); r.code == 0 || !strings.Contains(r.stderr, "not a kraftlab lab") {
				t.Errorf("%v of a directory that is not a lab: %s", args, r)
			}
		}
		if after := snapshot(t, notes); fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("the directory changed:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("a lab home with a comma", func(t *testing.T) {
		// Kafka splits log.dirs at commas: such a lab would write outside itself.
		home := filepath.Join(t.TempDir(), "a,b")
		bb, cb := freePortBlocks(t, 1)
		r := kraftlabIn(t, home, "up", "--nodes", "1", "--broker-port", itoa(bb), "--controller-port", itoa(cb))
		if r.code != 2 || !strings.Contains(r.stderr, "contains a comma") {
			t.Errorf("up in a home with a comma: %s", r)
		}
		if _, err := os.Stat(home); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the home was created: %v", err)
		}
	})

	t.Run("a symlinked lab name is never followed", func(t *testing.T) {
		home := t.TempDir()
		if err := os.Symlink(s.dir, filepath.Join(home, "link")); err != nil {
			t.Fatal(err)
		}
		bb, cb := freePortBlocks(t, 1)
		for _, args := range [][]string{{"down"}, {"down", "--purge"}, {"status"}, {"logs"}, {"up", "--nodes", "1", "--broker-port", itoa(bb), "--controller-port", itoa(cb)}} {
			if r := kraftlabIn(t, home, append(args, "--name", "link")...); r.code == 0 || !strings.Contains(r.stderr, "symbolic link") {
				t.Errorf("%v through a symlink: %s", args, r)
			}
		}
		if _, err := os.Lstat(filepath.Join(s.dir, ".lock")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a lock file was created through the symlink: %v", err)
		}
	})

	t.Run("a lab JVM the state does not record", func(t *testing.T) {
		l := newLab(t, 1)
		l.up(1)
		pids := l.javaPIDs()
		editState(t, l, func(st map[string]any) {
			for _, n := range st["nodes"].([]any) {
				n.(map[string]any)["pid"] = -1
			}
		})
		// up finds the node by its command line and takes it back instead of
		// starting a second JVM that would fail on its own port.
		r := l.must("up")
		if !strings.Contains(r.stdout, "already running") {
			t.Errorf("up with the node's pid lost: %s", r)
		}
		if got := l.javaPIDs(); fmt.Sprint(got) != fmt.Sprint(pids) {
			t.Errorf("node processes %v, want the same %v", got, pids)
		}
		editState(t, l, func(st map[string]any) {
			for _, n := range st["nodes"].([]any) {
				n.(map[string]any)["pid"] = -1
			}
		})
		// down --purge stops it too, rather than deleting the lab under it.
		l.must("down", "--purge")
		if got := l.javaPIDs(); len(got) != 0 {
			t.Errorf("down --purge left the unrecorded node running: %v", got)
		}
	})

	t.Run("a command holding the lab: up says busy and never a stale already running", func(t *testing.T) {
		l := newLab(t, 1)
		l.up(1)
		// What 'kraftlab down' holds while it stops the nodes: the lab's lock.
		f, err := os.OpenFile(filepath.Join(l.dir(), ".lock"), os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"up"}, {"down"}, {"node", "kill", "1"}, {"broker", "add"}} {
			if r := l.kraftlab(args...); r.code != 1 || !strings.Contains(r.stderr, "is busy") {
				t.Errorf("%v while another command holds the lab: %s", args, r)
			}
		}
		// Reading is not deciding: status still answers.
		if r := l.kraftlab("status"); r.code != 0 {
			t.Errorf("status while the lab is busy: %s", r)
		}
		f.Close()
		l.must("down", "--purge")
	})

	t.Run("a full disk: down and down --purge still work", func(t *testing.T) {
		home := tmpfsHome(t, "300m")
		l := newLabOn(t, home, "full", 0, 0)
		l.brokerBase, l.controllerBase = freePortBlocks(t, 1)
		l.up(1, "--heap", "256M")
		fillDisk(t, home)
		if r := l.must("down", "--timeout", "10s"); !strings.Contains(r.stdout, "Stopped") {
			t.Errorf("down on a full disk: %s", r)
		}
		if pids := l.javaPIDs(); len(pids) != 0 {
			t.Errorf("down on a full disk left %v", pids)
		}
		l.must("down") // nothing to stop: nothing to write either
		if r := l.must("down", "--purge"); !strings.Contains(r.stdout, "Removed") {
			t.Errorf("down --purge on a full disk: %s", r)
		}
	})

	t.Run("an up killed while formatting is formatted again", func(t *testing.T) {
		l := newLab(t, 3)
		cmd := exec.Command(binary, "up", "--nodes", "3", "--heap", "384M", "--name", l.name,
			"--broker-port", itoa(l.brokerBase), "--controller-port", itoa(l.controllerBase))
		cmd.Env = append(os.Environ(), "KRAFTLAB_HOME="+l.home, "KRAFTLAB_CACHE="+cacheDir)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for !strings.Contains(stderr.String(), "Formatting storage") {
			if time.Now().After(deadline) {
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				t.Fatalf("up never reached the format: %s", stderr.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
		// As a terminal does: the whole process group, StorageTool JVMs included.
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		r := l.must("up", "--heap", "384M")
		if strings.Contains(r.stderr, "meta.properties is missing") {
			t.Errorf("up after an interrupted format blames the user: %s", r)
		}
		t.Logf("up after the interrupted format:\n%s", r.stderr)
		l.must("smoke", "--records", "500")
		l.must("down", "--purge")
	})
}

// editState changes the lab's state.json as a user editing it by hand would.
func editState(t *testing.T, l *lab, change func(map[string]any)) {
	t.Helper()
	path := filepath.Join(l.dir(), "state.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	change(st)
	if b, err = json.Marshal(st); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// tmpfsHome mounts a small tmpfs to hold a lab, so that the test can fill it. It
// needs root, which CI has; elsewhere the case is skipped, under CI it fails.
func tmpfsHome(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("mount a tmpfs for the full-disk case (CI runs as root): %v\n%s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here (not root?): %v", err)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a file until the file system holding dir has no space left.
func fillDisk(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill the disk: %v", err)
			}
			break
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "probe"), []byte("x"), 0o600); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("the disk is not full: %v", err)
	}
}
