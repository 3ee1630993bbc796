package labdir

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster/internal/flock"
)

func TestCreateAndLock(t *testing.T) {
	d := Dir{Path: filepath.Join(t.TempDir(), "home", "lab")}
	lock, err := Create(d)
	if err != nil {
		t.Fatal(err)
	}
	if kind, _ := d.Inspect(); kind != Lab {
		t.Errorf("a created lab inspects as %v", kind)
	}
	if _, err := Lock(d); !errors.Is(err, flock.ErrBusy) || !strings.Contains(err.Error(), "is busy") {
		t.Errorf("second lock: %v, want busy", err)
	}
	if _, err := Create(d); !errors.Is(err, fs.ErrExist) {
		t.Errorf("create over an existing lab: %v", err)
	}
	lock.Unlock()
	again, err := Lock(d)
	if err != nil {
		t.Fatal(err)
	}
	again.Unlock()
	if err := Remove(d); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(d.Path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("removed lab still there: %v", err)
	}
}

// Nothing kraftlab did not create is locked, written to or removed: a directory
// without the marker, a file, a symbolic link (followed, it would lead anywhere).
func TestForeignPathsAreRefused(t *testing.T) {
	home := t.TempDir()
	target := t.TempDir()
	foreign := Dir{Path: filepath.Join(home, "notes")}
	if err := os.MkdirAll(filepath.Join(foreign.Path, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	file := Dir{Path: filepath.Join(home, "file")}
	if err := os.WriteFile(file.Path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := Dir{Path: filepath.Join(home, "link")}
	if err := os.Symlink(target, link.Path); err != nil {
		t.Fatal(err)
	}
	// A link to a real lab is still a link.
	realLab := Dir{Path: filepath.Join(t.TempDir(), "real")}
	l, err := Create(realLab)
	if err != nil {
		t.Fatal(err)
	}
	l.Unlock()
	linkToLab := Dir{Path: filepath.Join(home, "linked")}
	if err := os.Symlink(realLab.Path, linkToLab.Path); err != nil {
		t.Fatal(err)
	}
	for _, d := range []Dir{foreign, file, link, linkToLab} {
		t.Run(filepath.Base(d.Path), func(t *testing.T) {
			if kind, _ := d.Inspect(); kind != Foreign {
				t.Errorf("inspects as %v, want foreign", kind)
			}
			if _, err := Lock(d); !errors.Is(err, ErrNotLab) {
				t.Errorf("lock: %v, want not a lab", err)
			}
			if err := Remove(d); !errors.Is(err, ErrNotLab) {
				t.Errorf("remove: %v, want not a lab", err)
			}
			if _, err := Create(d); !errors.Is(err, fs.ErrExist) {
				t.Errorf("create: %v, want exists", err)
			}
		})
	}
	for _, dir := range []string{target, foreign.Path, realLab.Path} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if e.Name() == lockName && dir != realLab.Path {
				t.Errorf("a lock file was created in %s", dir)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(foreign.Path, "sub")); err != nil {
		t.Errorf("the foreign dir lost its content: %v", err)
	}
}

func TestStateRoundTrip(t *testing.T) {
	d := Dir{Path: t.TempDir()}
	in := &State{
		ClusterID: "MkU3OEVBNTcwNTJENDM2Qk", KafkaVersion: "4.1.1", RuntimeDir: "/r", Java: "/usr/bin/java", Started: true,
		Nodes: []Node{
			{ID: 1, ControllerPort: 19092, DirectoryID: "xd9hAj0GQ5W4fQEXAMPLEg"},
			{ID: 2, BrokerPort: 9092, PID: 4242, StartTime: 987654, QuorumBootstrap: []string{"127.0.0.1:19092"}},
		},
		CreatedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
	}
	if err := SaveState(d, in); err != nil {
		t.Fatal(err)
	}
	out, err := LoadState(d)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the state:\n got %+v\nwant %+v", out, in)
	}
	if info, _ := os.Stat(d.StateFile()); info.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v", info.Mode())
	}
}

func TestLoadStateErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string // "" = no file
		want    error
		msg     string
	}{
		{name: "missing", want: ErrNoState},
		{name: "truncated", content: `{"cluster_id":"x","no`, msg: "is corrupt"},
		{name: "empty object", content: `{}`, msg: "no cluster id or nodes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Dir{Path: t.TempDir()}
			if tt.content != "" {
				if err := os.WriteFile(d.StateFile(), []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadState(d)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v / %q", err, tt.want, tt.msg)
			}
		})
	}
}

// WriteFile replaces a symbolic link at the path instead of writing through it.
func TestWriteFileDoesNotFollowLinks(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(outside, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "server.properties")
	if err := os.Symlink(outside, path); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep" {
		t.Errorf("wrote through the link: %q", b)
	}
	if info, _ := os.Lstat(path); info.Mode()&fs.ModeSymlink != 0 {
		t.Error("the link is still there")
	}
}
