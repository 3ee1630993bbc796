package cluster

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster/dist"
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
		name string
		o    UpOptions
		want []string // substrings, each must appear
	}{
		{name: "defaults are valid"},
		{name: "isolated roles are valid", o: UpOptions{Controllers: 3, Brokers: 2, Quorum: QuorumDynamic, Ports: PortsAuto}},
		{name: "ten nodes", o: UpOptions{Nodes: 10}, want: []string{"--nodes 10: want 1 to 9"}},
		{name: "negative nodes", o: UpOptions{Nodes: -1}, want: []string{"--nodes -1"}},
		{name: "nodes mixed with isolated roles", o: UpOptions{Nodes: 3, Controllers: 3, Brokers: 2}, want: []string{"choose combined nodes (--nodes N) or isolated roles"}},
		{name: "controllers without brokers", o: UpOptions{Controllers: 3}, want: []string{"--brokers 0: want 1 to 9"}},
		{name: "brokers without controllers", o: UpOptions{Brokers: 2}, want: []string{"--controllers 0"}},
		{name: "too many isolated nodes", o: UpOptions{Controllers: 5, Brokers: 5}, want: []string{"at most 9 nodes in all"}},
		{name: "bad quorum", o: UpOptions{Quorum: "raft"}, want: []string{`--quorum "raft": want static or dynamic`}},
		{name: "bad ports", o: UpOptions{Ports: "any"}, want: []string{`--ports "any": want fixed or auto`}},
		{name: "bad name", o: UpOptions{Name: "../x"}, want: []string{`--name: lab name "../x"`}},
		{name: "name with space", o: UpOptions{Name: "A B"}, want: []string{`lab name "A B"`}},
		{name: "overlapping ports", o: UpOptions{BrokerPort: 9092, ControllerPort: 9093}, want: []string{"overlap"}},
		// 3 controllers from 9090 and 2 brokers from 9093 do not overlap; 3 of each would.
		{name: "isolated blocks sized per role", o: UpOptions{Controllers: 3, Brokers: 2, BrokerPort: 9093, ControllerPort: 9090}},
		{name: "isolated blocks overlap", o: UpOptions{Controllers: 3, Brokers: 2, BrokerPort: 9092, ControllerPort: 9090}, want: []string{"--controller-port 9090 (3 ports)", "overlap"}},
		{name: "port too high", o: UpOptions{BrokerPort: 65534}, want: []string{"--broker-port 65534"}},
		{name: "bad heap", o: UpOptions{Heap: "lots", Nodes: 1}, want: []string{`--heap "lots"`}},
		{name: "bad Kafka version", o: UpOptions{Runtime: dist.Options{Version: "4.x"}}, want: []string{`--kafka-version: invalid Kafka version "4.x"`}},
		{name: "set for a broker of an isolated lab", o: UpOptions{Controllers: 1, Brokers: 2, Sets: []string{"3:num.io.threads=4"}}},
		{
			name: "every problem at once", o: UpOptions{Name: "A", Heap: "x", Quorum: "q", Sets: []string{"nokey", "9:a=b"}},
			want: []string{"5 problems", "lab name", "--heap", "--quorum", `--set "nokey"`, `--set "9:a=b"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Normalize()
			err := tt.o.Validate()
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

func TestPlanNodes(t *testing.T) {
	type node struct {
		id, broker, controller int
		roles                  string
	}
	tests := []struct {
		name   string
		layout layout
		want   []node
	}{
		{name: "combined", layout: combined(3), want: []node{
			{1, 9092, 19092, "broker,controller"}, {2, 9093, 19093, "broker,controller"}, {3, 9094, 19094, "broker,controller"},
		}},
		{name: "isolated: controllers first, broker ids above every voter, first broker on the base port", layout: layout{controllers: 3, brokers: 2}, want: []node{
			{1, 0, 19092, "controller"}, {2, 0, 19093, "controller"}, {3, 0, 19094, "controller"},
			{4, 9092, 0, "broker"}, {5, 9093, 0, "broker"},
		}},
		{name: "isolated single controller", layout: layout{controllers: 1, brokers: 1}, want: []node{
			{1, 0, 19092, "controller"}, {2, 9092, 0, "broker"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []node
			for _, n := range planNodes(tt.layout, "", 9092, 19092) {
				got = append(got, node{n.ID, n.BrokerPort, n.ControllerPort, strings.Join(n.Roles, ",")})
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %v\nwant %v", got, tt.want)
			}
			s := &State{Nodes: planNodes(tt.layout, "", 9092, 19092)}
			if s.Brokers() != tt.layout.brokerCount() || len(s.Controllers()) != tt.layout.controllerCount() {
				t.Errorf("%d brokers and %d controllers, want %d and %d", s.Brokers(), len(s.Controllers()), tt.layout.brokerCount(), tt.layout.controllerCount())
			}
		})
	}
}

func TestPickPortBases(t *testing.T) {
	busy := func(ports ...int) func(string, int) bool {
		return func(_ string, p int) bool { return !slices.Contains(ports, p) }
	}
	tests := []struct {
		name                 string
		broker, controller   int
		recorded             []int
		free                 func(string, int) bool
		wantBroker, wantCtrl int
		wantErr              string
	}{
		{name: "the given bases when free", broker: 9092, controller: 19092, free: busy(), wantBroker: 9092, wantCtrl: 19092},
		{name: "a default port in use moves both blocks", broker: 9092, controller: 19092, free: busy(9092), wantBroker: 9102, wantCtrl: 19102},
		{name: "a port anywhere in the window counts", broker: 9092, controller: 19092, free: busy(19101), wantBroker: 9102, wantCtrl: 19102},
		{name: "ports another (stopped) lab recorded are skipped", broker: 45000, controller: 46000, recorded: []int{45000, 46000, 45011}, free: busy(), wantBroker: 45020, wantCtrl: 46020},
		{name: "nothing free up to 65535", broker: 65500, controller: 65520, free: func(string, int) bool { return false }, wantErr: "no free window"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := make(map[int]bool)
			for _, p := range tt.recorded {
				rec[p] = true
			}
			b, c, err := pickPortBases("", tt.broker, tt.controller, rec, tt.free)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || b != tt.wantBroker || c != tt.wantCtrl {
				t.Errorf("got %d, %d, %v; want %d, %d", b, c, err, tt.wantBroker, tt.wantCtrl)
			}
		})
	}
}

// --ports auto plans around the ports another lab in the same home recorded, even
// while that lab is stopped.
func TestPlanPortsAutoAvoidsOtherLabs(t *testing.T) {
	home := t.TempDir()
	other := Paths{Dir: home + "/other"}
	if err := os.MkdirAll(other.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	base := freeWindowBase(t)
	if err := SaveState(other, &State{Name: "other", ClusterID: "x", Nodes: planNodes(combined(3), "", base, base+portWindow)}); err != nil {
		t.Fatal(err)
	}
	o := UpOptions{Name: "next", BrokerPort: base, ControllerPort: base + portWindow, Ports: PortsAuto}
	o.Normalize()
	s, err := o.plan(home)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range s.Nodes {
		if n.BrokerPort < base+portWindow || n.ControllerPort < base+2*portWindow {
			t.Errorf("node %d planned on ports %d/%d, which the other lab recorded", n.ID, n.BrokerPort, n.ControllerPort)
		}
	}
	if s.Quorum != QuorumStatic {
		t.Errorf("quorum = %q, want static by default", s.Quorum)
	}
}

// freeWindowBase finds a base with 4 windows of free loopback ports above 45000.
func freeWindowBase(t *testing.T) int {
	t.Helper()
	for base := 45000; base < 60000; base += 100 {
		ok := true
		for p := base; p < base+4*portWindow && ok; p++ {
			ok = portFree("", p)
		}
		if ok {
			return base
		}
	}
	t.Skip("no free port range found")
	return 0
}

func TestListLabs(t *testing.T) {
	home := t.TempDir()
	mk := func(name string, s *State, raw string) {
		p := Paths{Dir: home + "/" + name}
		if err := os.MkdirAll(p.Dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if s != nil {
			if err := SaveState(p, s); err != nil {
				t.Fatal(err)
			}
		}
		if raw != "" {
			if err := os.WriteFile(p.StateFile(), []byte(raw), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	mk("b-iso", &State{Name: "b-iso", ClusterID: "x", KafkaVersion: "3.9.1", Quorum: QuorumDynamic, Nodes: planNodes(layout{controllers: 3, brokers: 2}, "", 45000, 46000)}, "")
	mk("a-comb", &State{Name: "a-comb", ClusterID: "y", KafkaVersion: "4.1.1", Nodes: planNodes(combined(1), "", 47000, 48000)}, "")
	mk("broken", nil, "{")
	mk("not-a-lab", nil, "")
	labs, err := ListLabs(home)
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
	if empty, err := ListLabs(home + "/nothing-here"); err != nil || len(empty) != 0 {
		t.Errorf("a missing home: %v, %v; want no labs, no error", empty, err)
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
		Quorum: QuorumDynamic, Sets: []string{"num.io.threads=4"},
		Nodes:     planNodes(layout{controllers: 1, brokers: 2}, "", 9092, 19092),
		CreatedAt: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
	}
	in.Nodes[1].PID, in.Nodes[1].StartTime = 4242, 987654
	in.Nodes[0].DirectoryID = "xd9hAj0GQ5W4fQEXAMPLEg"
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
	if got := strings.Join(out.BootstrapServers(), ","); got != "127.0.0.1:9092,127.0.0.1:9093" {
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

func TestListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if !listening(port) {
		t.Errorf("port %d has a listener, listening says no", port)
	}
	ln.Close()
	if listening(port) {
		t.Errorf("port %d has no listener any more, listening says yes", port)
	}
	if _, err := dialListening(t.Context(), "tcp", ln.Addr().String()); err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial of a closed port: %v, want connection refused without dialing", err)
	}
}
