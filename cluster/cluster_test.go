package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster/data"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/internal/proc"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestNewClusterID(t *testing.T) {
	seen := make(map[string]bool)
	for i := 0; i < 10000; i++ {
		id, err := NewClusterID()
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 22 {
			t.Fatalf("id %q has %d chars, want 22", id, len(id))
		}
		if id[0] == '-' {
			t.Fatalf("id %q starts with '-'", id)
		}
		b, err := base64.RawURLEncoding.DecodeString(id)
		if err != nil || len(b) != 16 {
			t.Fatalf("id %q does not decode to 16 bytes: %v", id, err)
		}
		if b[6]>>4 != 4 || b[8]>>6 != 2 {
			t.Fatalf("id %q lacks version-4/variant bits: %x", id, b)
		}
		if seen[id] {
			t.Fatalf("id %q generated twice", id)
		}
		seen[id] = true
	}
}

// writeLab records a created lab on disk, as 'up' leaves it, without starting it.
func writeLab(t *testing.T, home string, spec Spec) *Lab {
	t.Helper()
	l := plannedLab(t, spec, filepath.Join(home, spec.Default().Name))
	lock, err := labdir.Create(l.dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	op := &op{Lab: l, lock: lock}
	if err := op.saveSpec(); err != nil {
		t.Fatal(err)
	}
	if err := op.save(); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestListLabs(t *testing.T) {
	home := t.TempDir()
	writeLab(t, home, Spec{Name: "b-iso", Kafka: KafkaSpec{Version: "3.9.1"}, Quorum: QuorumDynamic, Nodes: NodesSpec{Controllers: 3, Brokers: 2}, Ports: PortsSpec{Broker: 45000, Controller: 46000}})
	writeLab(t, home, Spec{Name: "a-comb", Nodes: NodesSpec{Combined: 1}, Ports: PortsSpec{Broker: 47000, Controller: 48000}})
	broken := writeLab(t, home, Spec{Name: "broken"})
	if err := os.WriteFile(broken.dir.StateFile(), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(home, "not-a-lab"), 0o700); err != nil {
		t.Fatal(err)
	}
	labs, err := ListLabs(Config{Home: home})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range labs {
		got = append(got, fmt.Sprintf("%s %s %s %q %d %s %v", l.Name, l.State, l.KafkaVersion, l.Layout, l.Nodes, l.Quorum, l.Bootstrap))
	}
	want := []string{
		`a-comb stopped 4.1.1 "1 combined" 1 static [127.0.0.1:47000]`,
		`b-iso stopped 3.9.1 "3 controllers + 2 brokers" 5 dynamic [127.0.0.1:45000 127.0.0.1:45001]`,
		`broken unreadable  "" 0  []`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if labs[0].SizeBytes <= 0 {
		t.Errorf("size of a lab with a state file = %d", labs[0].SizeBytes)
	}
	if empty, err := ListLabs(Config{Home: home + "/nothing-here"}); err != nil || len(empty) != 0 {
		t.Errorf("a missing home: %v, %v; want no labs, no error", empty, err)
	}
	if ports := recordedPorts(home, "a-comb"); !ports[45000] || !ports[46002] || ports[47000] {
		t.Errorf("recorded ports of the other labs = %v", ports)
	}
}

// A lab recorded by a kraftlab without specs (everything in state.json) opens with
// the spec its state describes.
func TestLegacyLabOpens(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "old")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	legacy := map[string]any{
		"name": "old", "cluster_id": "MkU3OEVBNTcwNTJENDM2Qk", "kafka_version": "3.9.1", "runtime_dir": "/r", "java": "java",
		"heap": "384M", "quorum": "dynamic", "sets": []string{"num.io.threads=4", "2:log.retention.ms=1000"},
		"nodes": []map[string]any{
			{"id": 1, "roles": []string{"controller"}, "controller_port": 19092, "directory_id": "xd9hAj0GQ5W4fQEXAMPLEg"},
			{"id": 2, "roles": []string{"broker"}, "broker_port": 9092},
		},
	}
	b, _ := json.Marshal(legacy)
	if err := os.WriteFile(filepath.Join(dir, "state.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := Open(Config{Home: home}, "old")
	if err != nil {
		t.Fatal(err)
	}
	s := l.Spec()
	if s.Heap != "384M" || s.Quorum != QuorumDynamic || s.Kafka.Version != "3.9.1" || !reflect.DeepEqual(s.Nodes, NodesSpec{Controllers: 1, Brokers: 1}) ||
		s.Properties["num.io.threads"] != "4" || s.NodeProperties[2]["log.retention.ms"] != "1000" {
		t.Errorf("legacy spec = %+v", s)
	}
	if got := l.BootstrapServers(); !reflect.DeepEqual(got, []string{"127.0.0.1:9092"}) {
		t.Errorf("bootstrap = %v", got)
	}
}

func TestIsOurs(t *testing.T) {
	l := &Lab{dir: labdir.Dir{Path: "/l"}}
	props := l.dir.PropertiesFile(1)
	n := node{rec: &labdir.Node{ID: 1, PID: 100, StartTime: 555}}
	n.ID = 1
	tests := []struct {
		name string
		node node
		info proc.Info
		want bool
	}{
		{name: "same process", node: n, info: proc.Info{StartTime: 555, Argv: []string{"java", "kafka.Kafka", props}}, want: true},
		{name: "pid reused by another program", node: n, info: proc.Info{StartTime: 999, Argv: []string{"sleep", "100"}}},
		{name: "pid reused by another lab's node", node: n, info: proc.Info{StartTime: 999, Argv: []string{"java", "kafka.Kafka", "/other/node1/server.properties"}}},
		{name: "same start time, other command", node: n, info: proc.Info{StartTime: 555, Argv: []string{"bash"}}},
		{name: "a zombie is gone", node: n, info: proc.Info{StartTime: 555, Zombie: true, Argv: []string{"java", "kafka.Kafka", props}}},
		{name: "no pid recorded", node: node{rec: &labdir.Node{ID: 1}}, info: proc.Info{Argv: []string{props}}},
		{name: "pid -1 recorded", node: node{rec: &labdir.Node{ID: 1, PID: -1}}, info: proc.Info{Argv: []string{props}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := l.isOurs(tt.node, tt.info); got != tt.want {
				t.Errorf("isOurs = %v, want %v", got, tt.want)
			}
		})
	}
}

// An unrelated live process whose pid the state file records is never signalled.
func TestStopNodeLeavesStrangerAlone(t *testing.T) {
	l := &Lab{dir: labdir.Dir{Path: t.TempDir()}}
	self := os.Getpid()
	info, err := proc.Read(self)
	if err != nil {
		t.Fatal(err)
	}
	stranger := node{rec: &labdir.Node{ID: 1, PID: self, StartTime: info.StartTime + 1}}
	if l.alive(stranger) {
		t.Fatal("a process with another start time counts as the node")
	}
	if _, err := l.stopNode(t.Context(), stranger, time.Second); err != nil {
		t.Fatal(err)
	}
	if err := l.killNode(t.Context(), stranger); err != nil {
		t.Fatal(err)
	}
	// Still here, so no signal was sent.
}

// A lab's nodes are found by their command line alone: the properties file of one
// of its nodes after kafka.Kafka. A shell waiting on stdin stands in for the JVM;
// only its arguments matter here.
func TestLabProcessesFindsNodesByCommandLine(t *testing.T) {
	l := &Lab{dir: labdir.Dir{Path: t.TempDir()}}
	other := labdir.Dir{Path: t.TempDir()}
	start := func(props string) *exec.Cmd {
		cmd := exec.Command("sh", "-c", "read x", "kafka.Kafka", props)
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
		return cmd
	}
	ours := start(l.dir.PropertiesFile(2))
	start(other.PropertiesFile(1))
	start(l.dir.Path + "/node2/other.properties")
	start(l.dir.Path + "/node2/../node3/server.properties")

	var found []labProcess
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	// Until exec has set it up, a new process shows no command line.
	err := step.Poll(ctx, "node 2 to be found", 10*time.Millisecond, func(context.Context) (bool, string, error) {
		found = l.labProcesses()
		return len(found) > 0, fmt.Sprintf("%+v", found), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	info, err := proc.Read(ours.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	want := []labProcess{{ID: 2, PID: ours.Process.Pid, Start: info.StartTime}}
	if !reflect.DeepEqual(found, want) {
		t.Errorf("labProcesses = %+v, want %+v", found, want)
	}
}

// A directory kraftlab did not make is neither opened, locked, written to, nor
// deleted; a new lab never moves into one.
func TestForeignDirectoriesAreLeftAlone(t *testing.T) {
	home := t.TempDir()
	notes := filepath.Join(home, "notes")
	if err := os.MkdirAll(filepath.Join(notes, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(notes, "sub", "f"), []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := t.TempDir()
	if err := os.Symlink(target, filepath.Join(home, "link")); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Home: home}
	for _, name := range []string{"notes", "link"} {
		t.Run(name, func(t *testing.T) {
			if _, err := Open(cfg, name); !errors.Is(err, labdir.ErrNotLab) {
				t.Errorf("Open: %v, want not a lab", err)
			}
			if _, err := New(cfg, Spec{Name: name}); !errors.Is(err, labdir.ErrNotLab) {
				t.Errorf("New: %v, want not a lab", err)
			}
			for _, purge := range []bool{false, true} {
				if _, err := Down(t.Context(), cfg, name, DownOptions{Purge: purge}); !errors.Is(err, labdir.ErrNotLab) {
					t.Errorf("Down purge=%v: %v, want not a lab", purge, err)
				}
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(notes, "sub", "f")); err != nil || string(b) != "precious" {
		t.Errorf("the foreign file: %q, %v", b, err)
	}
	if entries, _ := os.ReadDir(notes); len(entries) != 1 {
		t.Errorf("something was written into the foreign dir: %v", entries)
	}
	if entries, _ := os.ReadDir(target); len(entries) != 0 {
		t.Errorf("something was written through the symlink: %v", entries)
	}
}

// Controllers stop in waves that keep a majority of the voters alive until the
// last, which goes at once.
func TestVoterWaves(t *testing.T) {
	nodes := func(n int) []node {
		out := make([]node, n)
		for i := range out {
			out[i].Node.ID = i + 1
		}
		return out
	}
	sizes := func(waves [][]node) []int {
		var out []int
		for _, w := range waves {
			out = append(out, len(w))
		}
		return out
	}
	for _, tt := range []struct {
		live, voters int
		want         []int
	}{
		{0, 3, nil}, {1, 1, []int{1}}, {3, 3, []int{3}}, {2, 3, []int{2}},
		{5, 5, []int{2, 3}}, {9, 9, []int{4, 5}}, {7, 9, []int{2, 5}}, {4, 5, []int{1, 3}},
	} {
		got := voterWaves(nodes(tt.live), tt.voters)
		if !slices.Equal(sizes(got), tt.want) {
			t.Errorf("%d live of %d voters: waves %v, want %v", tt.live, tt.voters, sizes(got), tt.want)
		}
		seen := 0
		for _, w := range got {
			seen += len(w)
		}
		if seen != tt.live {
			t.Errorf("%d live: %d stopped", tt.live, seen)
		}
	}
}

// The lab's own client polls leaders and ISRs through kadm, which answers from
// franz-go's metadata cache: at franz-go's 5 s age every poll after a restart saw
// the cluster up to 5 s late (moving leaders back took 11 s instead of 1).
func TestLabClientMetadataAge(t *testing.T) {
	l := plannedLab(t, Spec{}, filepath.Join(t.TempDir(), "lab"))
	cl, err := l.client()
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	want, err := data.NewClient([]string{"127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	defer want.Close()
	got, exp := cl.OptValue(kgo.MetadataMinAge), want.OptValue(kgo.MetadataMinAge)
	if got != exp || exp.(time.Duration) >= time.Second {
		t.Fatalf("lab client metadata age %v, data.NewClient's %v: want the same, under a second", got, exp)
	}
}
