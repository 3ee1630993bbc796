package cluster

import (
	"encoding/base64"
	"errors"
	"net"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"
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

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		o     UpOptions
		nodes int
		want  []string // substrings, each must appear
	}{
		{name: "defaults are valid", nodes: 3},
		{name: "zero nodes", nodes: 0, want: []string{"--nodes 0: want 1 to 9"}},
		{name: "ten nodes", nodes: 10, want: []string{"--nodes 10"}},
		{name: "negative nodes", nodes: -1, want: []string{"--nodes -1"}},
		{name: "bad name", o: UpOptions{Name: "../x"}, nodes: 3, want: []string{`--name: lab name "../x"`}},
		{name: "name with space", o: UpOptions{Name: "A B"}, nodes: 3, want: []string{`lab name "A B"`}},
		{name: "overlapping ports", o: UpOptions{BrokerPort: 9092, ControllerPort: 9093}, nodes: 3, want: []string{"overlap"}},
		{name: "port too high", o: UpOptions{BrokerPort: 65534}, nodes: 3, want: []string{"--broker-port 65534"}},
		{name: "bad heap", o: UpOptions{Heap: "lots"}, nodes: 1, want: []string{`--heap "lots"`}},
		{
			name: "every problem at once", o: UpOptions{Name: "A", Heap: "x", Sets: []string{"nokey", "9:a=b"}}, nodes: 3,
			want: []string{"4 problems", "lab name", "--heap", `--set "nokey"`, `--set "9:a=b"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Normalize()
			err := tt.o.Validate(tt.nodes)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var ve *usage.Error
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *usage.Error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestCheckPortsFree(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port

	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()

	tests := []struct {
		name string
		uses []portUse
		want []string
	}{
		{name: "free port", uses: []portUse{{"", freePort, 1, "broker"}}},
		{name: "taken broker port", uses: []portUse{{"", freePort, 1, "controller"}, {"", taken, 2, "broker"}},
			want: []string{"already in use", "node 2 broker listener", "--broker-port"}},
		{name: "taken controller port", uses: []portUse{{"127.0.0.1", taken, 3, "controller"}},
			want: []string{"node 3 controller listener", "--controller-port"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkPortsFree(tt.uses)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestStateRoundTrip(t *testing.T) {
	p := Paths{Dir: t.TempDir()}
	in := &State{
		Name: "default", ClusterID: "MkU3OEVBNTcwNTJENDM2Qk", KafkaVersion: "4.1.1",
		RuntimeDir: "/r", Java: "/usr/bin/java", Heap: "512M",
		Nodes:     planNodes(3, "", 9092, 19092),
		CreatedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
	}
	in.Nodes[1].PID, in.Nodes[1].StartTime = 4242, 987654
	if err := SaveState(p, in); err != nil {
		t.Fatal(err)
	}
	out, err := LoadState(p)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the state:\n got %+v\nwant %+v", out, in)
	}
	if got := strings.Join(out.BootstrapServers(), ","); got != "127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094" {
		t.Errorf("bootstrap = %s", got)
	}
}

func TestLoadStateErrors(t *testing.T) {
	tests := []struct {
		name    string
		content string // "" = no file
		want    string
	}{
		{name: "missing", want: "no such lab"},
		{name: "truncated", content: `{"name":"default","clus`, want: "is corrupt"},
		{name: "empty object", content: `{}`, want: "is incomplete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Paths{Dir: t.TempDir()}
			if tt.content != "" {
				if err := os.WriteFile(p.StateFile(), []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			_, err := LoadState(p)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name      string
		stat      string
		wantStart uint64
		wantState byte
		wantErr   bool
	}{
		{name: "plain", stat: "1234 (java) S 1 1234 1234 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 30 0 5550123 1000 100 18446744073709551615", wantStart: 5550123, wantState: 'S'},
		{name: "name with spaces and parens", stat: "77 (a (b) c) T 1 77 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0", wantStart: 42, wantState: 'T'},
		{name: "garbage", stat: "nonsense", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := parseStat([]byte(tt.stat))
			if tt.wantErr {
				if err == nil {
					t.Fatal("want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if info.StartTime != tt.wantStart || info.State != tt.wantState {
				t.Errorf("got start %d state %c, want %d %c", info.StartTime, info.State, tt.wantStart, tt.wantState)
			}
		})
	}
}

func TestIsOurs(t *testing.T) {
	const props = "/l/node1/server.properties"
	node := NodeState{ID: 1, PID: 100, StartTime: 555}
	tests := []struct {
		name string
		node NodeState
		info procInfo
		want bool
	}{
		{name: "same process", node: node, info: procInfo{StartTime: 555, Cmdline: []string{"java", "kafka.Kafka", props}}, want: true},
		{name: "pid reused by another program", node: node, info: procInfo{StartTime: 999, Cmdline: []string{"sleep", "100"}}},
		{name: "pid reused by another lab's node", node: node, info: procInfo{StartTime: 999, Cmdline: []string{"java", "kafka.Kafka", "/other/node1/server.properties"}}},
		{name: "same start time, other command", node: node, info: procInfo{StartTime: 555, Cmdline: []string{"bash"}}},
		{name: "no pid recorded", node: NodeState{ID: 1}, info: procInfo{Cmdline: []string{props}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isOurs(tt.node, props, tt.info); got != tt.want {
				t.Errorf("isOurs = %v, want %v", got, tt.want)
			}
		})
	}
}

// An unrelated live process whose pid the state file records is never signalled.
func TestStopNodeLeavesStrangerAlone(t *testing.T) {
	p := Paths{Dir: t.TempDir()}
	self := os.Getpid()
	info, err := readProc(self)
	if err != nil {
		t.Fatal(err)
	}
	stranger := NodeState{ID: 1, PID: self, StartTime: info.StartTime + 1}
	if p.NodeAlive(stranger) {
		t.Fatal("a process with another start time counts as the node")
	}
	if err := p.stopNode(t.Context(), stranger, time.Second); err != nil {
		t.Fatal(err)
	}
	// Still here, so no signal was sent.
}
