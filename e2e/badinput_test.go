package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// Every bad input gets exit code 2 or 1, a message naming the problem and what to
// do, and leaves nothing behind: no lab dir, no process.
func TestBadInputChangesNothing(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string
	}{
		{name: "zero nodes", args: []string{"up", "--nodes", "0"}, wantCode: 2, want: []string{"--nodes 0: want 1 to 9"}},
		{name: "negative nodes", args: []string{"up", "--nodes", "-1"}, wantCode: 2, want: []string{"--nodes -1"}},
		{name: "ten nodes", args: []string{"up", "--nodes", "10"}, wantCode: 2, want: []string{"--nodes 10: want 1 to 9"}},
		{name: "nodes not a number", args: []string{"up", "--nodes", "abc"}, wantCode: 2, want: []string{`"abc"`, "--nodes"}},
		{name: "unknown flag", args: []string{"up", "--nodez", "3"}, wantCode: 2, want: []string{"unknown flag: --nodez", "--help"}},
		{name: "set without equals", args: []string{"up", "--set", "log.retention.ms"}, wantCode: 2, want: []string{`--set "log.retention.ms": want key=value`}},
		{name: "set on a node that does not exist", args: []string{"up", "--nodes", "3", "--set", "7:k=v"}, wantCode: 2, want: []string{"--set: node 7 does not exist (this lab has nodes 1, 2, 3)"}},
		{name: "lab name with a path", args: []string{"up", "--name", "../x"}, wantCode: 2, want: []string{`lab name "../x"`, "a-z, 0-9"}},
		{name: "lab name with a space", args: []string{"up", "--name", "A B"}, wantCode: 2, want: []string{`lab name "A B"`}},
		{name: "overlapping port blocks", args: []string{"up", "--broker-port", "30000", "--controller-port", "30001"}, wantCode: 2, want: []string{"overlap"}},
		{name: "bind to any address", args: []string{"up", "--bind", "0.0.0.0"}, wantCode: 2, want: []string{"--bind", "unicast IP address"}},
		{name: "bind to a multicast address", args: []string{"up", "--bind", "224.0.0.1"}, wantCode: 2, want: []string{`--bind "224.0.0.1"`, "unicast"}},
		{name: "bind to an address of another machine", args: []string{"up", "--bind", "192.0.2.7"}, wantCode: 1, want: []string{"--bind 192.0.2.7", "not an address of this machine"}},
		{name: "misspelt property", args: []string{"up", "--set", "num.partitons=5"}, wantCode: 2, want: []string{"--set: num.partitons is not a broker property Kafka", "did you mean num.partitions?", "--plugin-property"}},
		{name: "misspelt property in render", args: []string{"render", "--set", "2:log.retention.mss=1"}, wantCode: 2, want: []string{"did you mean log.retention.ms"}},
		{name: "managed property", args: []string{"up", "--set", "metadata.log.dir=/tmp/x", "--set", "broker.id=7"}, wantCode: 2, want: []string{"2 problems", "metadata.log.dir is set by kraftlab", "broker.id is set by kraftlab"}},
		{name: "several problems at once", args: []string{"up", "--heap", "x", "--set", "bad"}, wantCode: 2, want: []string{"2 problems", "--heap", "--set"}},
		{name: "nodes mixed with isolated roles", args: []string{"up", "--nodes", "3", "--controllers", "3", "--brokers", "2"}, wantCode: 2, want: []string{"--nodes N", "--controllers C --brokers B"}},
		{name: "controllers without brokers", args: []string{"up", "--controllers", "3"}, wantCode: 2, want: []string{"isolated roles need both --controllers and --brokers"}},
		{name: "zero controllers", args: []string{"up", "--controllers", "0", "--brokers", "2"}, wantCode: 2, want: []string{"--controllers 0"}},
		{name: "unknown profile", args: []string{"up", "--profile", "fast"}, wantCode: 2, want: []string{`--profile "fast": want production, lab, lean`}},
		{name: "unknown quorum mode", args: []string{"up", "--quorum", "raft"}, wantCode: 2, want: []string{`--quorum "raft": want static or dynamic`}},
		{name: "unknown port placement", args: []string{"up", "--ports", "any"}, wantCode: 2, want: []string{`--ports "any": want fixed or auto`}},
		{name: "controller add on no lab", args: []string{"controller", "add"}, wantCode: 1, want: []string{"no such lab"}},
		{name: "controller remove without id", args: []string{"controller", "remove"}, wantCode: 2, want: []string{"want the id"}},
		{name: "upgrade without a target", args: []string{"upgrade"}, wantCode: 2, want: []string{"--to VERSION", "--finalize"}},
		{name: "output format", args: []string{"status", "-o", "yaml"}, wantCode: 2, want: []string{"--output"}},
		{name: "status of no lab", args: []string{"status"}, wantCode: 1, want: []string{"no such lab", "kraftlab up"}},
		{name: "logs of no lab", args: []string{"logs"}, wantCode: 1, want: []string{"no such lab"}},
		{name: "node of no lab", args: []string{"node", "kill", "1"}, wantCode: 1, want: []string{"no such lab"}},
		{name: "node without target", args: []string{"node", "kill"}, wantCode: 2, want: []string{"want ACTION TARGET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			r := kraftlabIn(t, home, tt.args...)
			if r.code != tt.wantCode {
				t.Fatalf("exit %d, want %d: %s", r.code, tt.wantCode, r)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr does not mention %q:\n%s", w, r.stderr)
				}
			}
			if entries, _ := os.ReadDir(home); len(entries) != 0 {
				t.Errorf("bad input left %v in the lab home", entries)
			}
		})
	}
	t.Run("down of no lab is fine", func(t *testing.T) {
		r := kraftlabIn(t, t.TempDir(), "down")
		if r.code != 0 || !strings.Contains(r.stdout, "nothing to do") {
			t.Errorf("%s", r)
		}
	})
}

// Java and the runtime: missing, too old, or a --kafka-home that is not Kafka.
func TestBadRuntime(t *testing.T) {
	fakeBin := t.TempDir()
	oldJava := filepath.Join(fakeBin, "java")
	if err := os.WriteFile(oldJava, []byte("#!/bin/sh\necho 'openjdk version \"11.0.22\" 2024-01-16' >&2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notKafka := t.TempDir()
	tests := []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{name: "no java", env: []string{"PATH=" + t.TempDir(), "JAVA_HOME="}, args: []string{"up"}, want: []string{"java not found", "JDK 17"}},
		{name: "java 11", env: []string{"PATH=" + fakeBin, "JAVA_HOME="}, args: []string{"up"}, want: []string{"11", "17"}},
		{name: "kafka home that is not kafka", args: []string{"up", "--kafka-home", notKafka}, want: []string{"not a Kafka installation"}},
		{name: "unknown version shape", args: []string{"install", "--kafka-version", "latest"}, want: []string{`"latest"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			cmd := exec.Command(binary, append(tt.args, "--broker-port", "31092", "--controller-port", "32092")...)
			if tt.args[0] == "install" {
				cmd = exec.Command(binary, tt.args...)
			}
			cmd.Env = append(os.Environ(), append([]string{"KRAFTLAB_HOME=" + home, "KRAFTLAB_CACHE=" + cacheDir}, tt.env...)...)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("succeeded: %s", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output does not mention %q:\n%s", w, out)
				}
			}
			if entries, _ := os.ReadDir(home); len(entries) != 0 {
				t.Errorf("left %v in the lab home", entries)
			}
		})
	}
}

// A lab home that is a file, not a directory: a clear error, nothing written.
func TestLabDirNotWritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "home")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	l := &lab{t: t, home: file, name: "e2e"}
	l.brokerBase, l.controllerBase = freePortBlocks(t, 1)
	r := l.kraftlab("up", "--nodes", "1", "--broker-port", itoa(l.brokerBase), "--controller-port", itoa(l.controllerBase))
	if r.code == 0 || !strings.Contains(r.stderr, file) || !strings.Contains(r.stderr, "not a directory") {
		t.Fatalf("want an error naming %s as not a directory: %s", file, r)
	}
}

// A state file that is truncated, or whose pid now belongs to an unrelated process.
func TestBadStateFile(t *testing.T) {
	t.Run("truncated", func(t *testing.T) {
		home := t.TempDir()
		dir := filepath.Join(home, "e2e")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"name":"e2e","cluster_id":"abc","no`), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{{"status"}, {"up"}, {"down"}} {
			r := kraftlabIn(t, home, append(args, "--name", "e2e")...)
			if r.code == 0 || !strings.Contains(r.stderr, "is corrupt") || !strings.Contains(r.stderr, "down --purge") {
				t.Errorf("%v on a truncated state: %s", args, r)
			}
		}
		if _, err := os.Stat(dir); err != nil {
			t.Fatalf("a corrupt state must not delete the lab without --purge: %v", err)
		}
		if r := kraftlabIn(t, home, "down", "--purge", "--name", "e2e"); r.code != 0 {
			t.Fatalf("down --purge of a corrupt lab: %s", r)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("lab dir still there after --purge")
		}
	})
	t.Run("pid of a stranger", func(t *testing.T) {
		stranger := exec.Command("sleep", "300")
		if err := stranger.Start(); err != nil {
			t.Fatal(err)
		}
		defer stranger.Process.Kill()
		home := t.TempDir()
		dir := filepath.Join(home, "e2e")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		state := `{"name":"e2e","cluster_id":"MkU3OEVBNTcwNTJENDM2Qk","kafka_version":"4.1.1","heap":"384M",
  "nodes":[{"id":1,"roles":["broker","controller"],"broker_port":31092,"controller_port":32092,"pid":` + itoa(stranger.Process.Pid) + `,"start_time":1}]}`
		if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(state), 0o600); err != nil {
			t.Fatal(err)
		}
		if r := kraftlabIn(t, home, "status", "--name", "e2e"); !strings.Contains(r.stdout, "stopped") {
			t.Errorf("a stranger's pid shows as the node running: %s", r)
		}
		if r := kraftlabIn(t, home, "down", "--name", "e2e"); r.code != 0 {
			t.Errorf("down: %s", r)
		}
		if err := stranger.Process.Signal(syscall.Signal(0)); err != nil {
			t.Fatalf("down signalled an unrelated process: %v", err)
		}
	})
}

// Two commands on one lab at once: the second is told the lab is busy.
func TestLabBusy(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "e2e")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	bb, cb := freePortBlocks(t, 1)
	for _, args := range [][]string{
		{"up", "--nodes", "1", "--broker-port", itoa(bb), "--controller-port", itoa(cb)},
		{"down"},
	} {
		r := kraftlabIn(t, home, append(args, "--name", "e2e")...)
		if r.code == 0 || !strings.Contains(r.stderr, "is busy") {
			t.Errorf("%v while another command holds the lab: %s", args, r)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json")); !os.IsNotExist(err) {
		t.Errorf("up wrote state while the lab was busy")
	}
}
