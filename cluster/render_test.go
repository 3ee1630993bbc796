package cluster

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/magiconair/properties"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// plannedLab is the lab a spec plans in dir, as 'up' would record it, with fixed
// directory ids in a dynamic quorum so the rendering is reproducible. Nothing is
// written.
func plannedLab(t testing.TB, spec Spec, dir string) *Lab {
	t.Helper()
	spec = spec.Default()
	if errs := spec.Validate(); len(errs) > 0 {
		t.Fatalf("spec: %v", errs)
	}
	l := &Lab{dir: labdir.Dir{Path: dir}, spec: spec}
	plan, _ := spec.nodeList()
	st := &labdir.State{ClusterID: "test", KafkaVersion: spec.Kafka.Version}
	for _, p := range plan {
		n := labdir.Node{ID: p.ID, BrokerPort: p.BrokerPort, ControllerPort: p.ControllerPort}
		if spec.Quorum == QuorumDynamic && p.hasController() {
			n.DirectoryID = fmt.Sprintf("dir%019dA", p.ID)
		}
		st.Nodes = append(st.Nodes, n)
	}
	l.st = st
	return l
}

// The golden files predate the spec: a lab built from a spec renders them byte
// for byte.
func TestRenderPropertiesGolden(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
	}{
		{name: "combined-1", spec: Spec{Nodes: NodesSpec{Combined: 1}}},
		{name: "combined-3", spec: Spec{Nodes: NodesSpec{Combined: 3}}},
		{name: "combined-3-overrides", spec: Spec{Nodes: NodesSpec{Combined: 3},
			Properties:     map[string]string{"log.retention.ms": "60000", "num.partitions": "6"},
			NodeProperties: map[int]map[string]string{2: {"num.io.threads": "4"}}}},
		{name: "isolated-3c-2b", spec: Spec{Nodes: NodesSpec{Controllers: 3, Brokers: 2}}},
		{name: "dynamic-isolated-3c-2b", spec: Spec{Nodes: NodesSpec{Controllers: 3, Brokers: 2}, Quorum: QuorumDynamic}},
		{name: "dynamic-combined-1", spec: Spec{Nodes: NodesSpec{Combined: 1}, Quorum: QuorumDynamic}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderAll(t, plannedLab(t, tt.spec, "/labs/default"))
			golden := filepath.Join("testdata", "render-"+tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("rendered properties differ from %s (go test -update to accept):\n%s", golden, got)
			}
		})
	}
}

// renderAll renders every node's properties and format flags, twice, failing if
// the two differ.
func renderAll(t testing.TB, l *Lab) []byte {
	t.Helper()
	rl, err := l.renderLab()
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	for _, n := range rl.Nodes {
		b, err := render.Properties(rl, n)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := render.Properties(rl, n)
		if !bytes.Equal(b, again) {
			t.Fatalf("node %d: rendering is not deterministic", n.ID)
		}
		fmt.Fprintf(&got, "### node %d\n%s", n.ID, b)
		if args := render.FormatQuorumArgs(rl, n); len(args) > 0 {
			fmt.Fprintf(&got, "### node %d format flags: %s\n", n.ID, strings.Join(args, " "))
		}
	}
	return got.Bytes()
}

func TestRenderPropertiesValues(t *testing.T) {
	tests := []struct {
		name       string
		spec       Spec
		node       int
		want       map[string]string
		wantAbsent []string
	}{
		{
			name: "single node sizes internal topics to one broker", spec: Spec{Nodes: NodesSpec{Combined: 1}}, node: 1,
			want: map[string]string{
				"offsets.topic.replication.factor":                 "1",
				"transaction.state.log.min.isr":                    "1",
				"min.insync.replicas":                              "1",
				"default.replication.factor":                       "1",
				"controller.quorum.voters":                         "1@127.0.0.1:19092",
				"listeners":                                        "PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:19092",
				"share.coordinator.state.topic.replication.factor": "1",
			},
		},
		{
			name: "five nodes cap replication at three", spec: Spec{Nodes: NodesSpec{Combined: 5}}, node: 4,
			want: map[string]string{
				"node.id":                          "4",
				"offsets.topic.replication.factor": "3",
				"min.insync.replicas":              "2",
				"advertised.listeners":             "PLAINTEXT://127.0.0.1:9095",
				"controller.quorum.voters":         "1@127.0.0.1:19092,2@127.0.0.1:19093,3@127.0.0.1:19094,4@127.0.0.1:19095,5@127.0.0.1:19096",
				"log.dirs":                         "/l/node4/data",
				"group.initial.rebalance.delay.ms": "0",
			},
		},
		{
			name: "node override applies to its node only", node: 1,
			spec:       Spec{NodeProperties: map[int]map[string]string{2: {"num.io.threads": "4"}}, Properties: map[string]string{"auto.create.topics.enable": "false"}},
			want:       map[string]string{"auto.create.topics.enable": "false"},
			wantAbsent: []string{"num.io.threads"},
		},
		{
			name: "a node's own property wins over every node's", node: 2,
			spec: Spec{NodeProperties: map[int]map[string]string{2: {"num.io.threads": "4"}}, Properties: map[string]string{"num.io.threads": "8"}},
			want: map[string]string{"num.io.threads": "4"},
		},
		{
			name: "values with special characters survive", spec: Spec{Nodes: NodesSpec{Combined: 1}}, node: 1,
			want: map[string]string{"plugin.setting": `a = b: c\d ${x} #y`},
		},
		{
			name: "isolated controller listens on the controller port only", spec: Spec{Nodes: NodesSpec{Controllers: 3, Brokers: 2}}, node: 2,
			want: map[string]string{
				"process.roles":             "controller",
				"listeners":                 "CONTROLLER://127.0.0.1:19093",
				"controller.quorum.voters":  "1@127.0.0.1:19092,2@127.0.0.1:19093,3@127.0.0.1:19094",
				"controller.listener.names": "CONTROLLER",
			},
			wantAbsent: []string{"advertised.listeners", "inter.broker.listener.name"},
		},
		{
			name: "isolated broker has the controller listener name but does not listen on it", spec: Spec{Nodes: NodesSpec{Controllers: 3, Brokers: 2}}, node: 5,
			want: map[string]string{
				"process.roles":             "broker",
				"node.id":                   "5",
				"listeners":                 "PLAINTEXT://127.0.0.1:9093",
				"advertised.listeners":      "PLAINTEXT://127.0.0.1:9093",
				"controller.listener.names": "CONTROLLER",
				"controller.quorum.voters":  "1@127.0.0.1:19092,2@127.0.0.1:19093,3@127.0.0.1:19094",
				// Replication derives from the two brokers, not the five nodes.
				"default.replication.factor":       "2",
				"offsets.topic.replication.factor": "2",
				"min.insync.replicas":              "2",
			},
		},
		{
			name: "dynamic quorum names bootstrap servers, not voters", spec: Spec{Nodes: NodesSpec{Controllers: 3, Brokers: 1}, Quorum: QuorumDynamic}, node: 4,
			want: map[string]string{
				"controller.quorum.bootstrap.servers": "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094",
				"default.replication.factor":          "1",
			},
			wantAbsent: []string{"controller.quorum.voters"},
		},
		{
			name: "a bind address is every listener's host", spec: Spec{Nodes: NodesSpec{Combined: 1}, Bind: "127.0.0.2"}, node: 1,
			want: map[string]string{"listeners": "PLAINTEXT://127.0.0.2:9092,CONTROLLER://127.0.0.2:19092", "advertised.listeners": "PLAINTEXT://127.0.0.2:9092"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "values with special characters survive" {
				tt.spec.Properties = map[string]string{"plugin.setting": `a = b: c\d ${x} #y`}
			}
			l := plannedLab(t, tt.spec, "/l")
			rl, err := l.renderLab()
			if err != nil {
				t.Fatal(err)
			}
			b, err := render.Properties(rl, rl.Nodes[tt.node-1])
			if err != nil {
				t.Fatal(err)
			}
			got := parseProps(t, b)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for _, k := range tt.wantAbsent {
				if _, ok := got[k]; ok {
					t.Errorf("%s is set, want it absent", k)
				}
			}
		})
	}
}

func parseProps(t testing.TB, b []byte) map[string]string {
	t.Helper()
	p := properties.NewProperties()
	p.DisableExpansion = true
	if err := p.Load(b, render.Encoding); err != nil {
		t.Fatalf("rendered output does not parse: %v\n%s", err, b)
	}
	return p.Map()
}

// Every property the renderer derives from the lab's layout is one a spec may not
// set; the rest of what it writes are defaults a user may change.
func TestManagedKeysCoverWhatTheLayoutRenders(t *testing.T) {
	userDefaults := []string{
		"offsets.topic.replication.factor", "transaction.state.log.replication.factor",
		"transaction.state.log.min.isr", "share.coordinator.state.topic.replication.factor",
		"share.coordinator.state.topic.min.isr", "default.replication.factor",
		"min.insync.replicas", "num.partitions", "group.initial.rebalance.delay.ms",
	}
	lean, _ := render.LookupProfile(ProfileLean)
	for _, p := range lean.Properties { // the profiles' settings are defaults too
		userDefaults = append(userDefaults, p.Key)
	}
	seen := map[string]bool{}
	for _, spec := range []Spec{
		{Nodes: NodesSpec{Combined: 3}, Profile: ProfileLean},
		{Nodes: NodesSpec{Controllers: 3, Brokers: 2}, Quorum: QuorumDynamic},
	} {
		l := plannedLab(t, spec, "/l")
		rl, err := l.renderLab()
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range rl.Nodes {
			b, err := render.Properties(rl, n)
			if err != nil {
				t.Fatal(err)
			}
			for k := range parseProps(t, b) {
				seen[k] = true
			}
		}
	}
	for k := range seen {
		if render.ManagedBy(k) == "" && !slices.Contains(userDefaults, k) {
			t.Errorf("the renderer writes %s from the layout, but a spec may override it: add it to the managed keys", k)
		}
	}
	for _, k := range []string{"broker.id", "log.dir", "metadata.log.dir"} {
		if render.ManagedBy(k) == "" {
			t.Errorf("%s changes what the layout decides (an alias of node.id, or where data lives), but is not managed", k)
		}
	}
}

func FuzzRenderOverride(f *testing.F) {
	for _, s := range []string{"log.retention.ms=1", "2:a.b=c", `x=\u0041 ${y} #z !w`, "k= lead", "k=trail ", "k=:=", "k=ü€"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, set string) {
		var spec Spec
		if err := ApplySet(&spec, set); err != nil {
			return
		}
		spec = spec.Default()
		if errs := spec.Validate(); len(errs) > 0 {
			return
		}
		id, key, value, _ := ParseSet(set)
		l := plannedLab(t, spec, "/l")
		rl, err := l.renderLab()
		if err != nil {
			t.Fatal(err)
		}
		b, err := render.Properties(rl, rl.Nodes[1])
		if err != nil {
			t.Fatalf("valid override %q failed to render: %v", set, err)
		}
		got := parseProps(t, b)
		if id == 0 || id == 2 {
			if got[key] != value {
				t.Fatalf("override %q: rendered %s=%q, want %q", set, key, got[key], value)
			}
		}
		if got["node.id"] != "2" {
			t.Fatalf("override %q changed node.id to %q", set, got["node.id"])
		}
	})
}

// renderNode renders the node with the given id.
func renderNode(rl render.Lab, id int) ([]byte, error) {
	for _, n := range rl.Nodes {
		if n.ID == id {
			return render.Properties(rl, n)
		}
	}
	return nil, fmt.Errorf("no node %d", id)
}

// A profile's properties come after the template's defaults and lose to the spec's
// own; production renders none, and each profile's heap, -Xms, JVM flags and
// environment reach the command line.
func TestProfiles(t *testing.T) {
	rt := &dist.Runtime{Java: "java", Version: "4.1.1"}
	for _, c := range []struct {
		profile, heap   string
		props           map[string]string // rendered values; "" = absent
		flags, notFlags []string
		env             []string
	}{
		{ProfileProduction, "512M",
			map[string]string{"broker.heartbeat.interval.ms": "", "num.io.threads": ""},
			[]string{"-Xmx512M", "-Xms512M", "-XX:+UseG1GC"}, []string{"-XX:TieredStopAtLevel=1"}, nil},
		{ProfileLab, "512M",
			map[string]string{"broker.heartbeat.interval.ms": "250", "controller.quorum.election.timeout.ms": "250", "num.io.threads": ""},
			[]string{"-Xmx512M", "-Xms512M", "-XX:+UseG1GC", "-XX:TieredStopAtLevel=1"}, nil, nil},
		{ProfileLean, "256M",
			map[string]string{"broker.heartbeat.interval.ms": "250", "num.io.threads": "2", "num.network.threads": "1"},
			[]string{"-Xmx256M", "-Xms32M", "-XX:+UseSerialGC"}, []string{"-XX:+UseG1GC"}, []string{"MALLOC_ARENA_MAX=2"}},
	} {
		t.Run(c.profile, func(t *testing.T) {
			l := plannedLab(t, Spec{Nodes: NodesSpec{Combined: 1}, Profile: c.profile, Properties: map[string]string{"broker.session.timeout.ms": "3000"}}, "/l")
			if l.spec.Heap != c.heap {
				t.Errorf("default heap %s, want %s", l.spec.Heap, c.heap)
			}
			rl, err := l.renderLab()
			if err != nil {
				t.Fatal(err)
			}
			b, err := render.Properties(rl, rl.Nodes[0])
			if err != nil {
				t.Fatal(err)
			}
			got := parseProps(t, b)
			for k, want := range c.props {
				if got[k] != want {
					t.Errorf("%s = %q, want %q", k, got[k], want)
				}
			}
			if got["broker.session.timeout.ms"] != "3000" {
				t.Errorf("the spec's own broker.session.timeout.ms lost to the profile: %q", got["broker.session.timeout.ms"])
			}
			cmd := render.ServerCommand(rt, l.dir, rl.Profile, l.spec.Heap, 1, "")
			for _, f := range c.flags {
				if !slices.Contains(cmd, f) {
					t.Errorf("command lacks %s: %v", f, cmd)
				}
			}
			for _, f := range c.notFlags {
				if slices.Contains(cmd, f) {
					t.Errorf("command has %s: %v", f, cmd)
				}
			}
			if !slices.Equal(rl.Profile.Env, c.env) {
				t.Errorf("env %v, want %v", rl.Profile.Env, c.env)
			}
		})
	}
	errs := Spec{Profile: "fast"}.Default().Validate()
	if len(errs) != 1 || errs[0].Path != "profile" || !strings.Contains(errs[0].Error(), "production") {
		t.Errorf("profile fast: %v, want one error on profile naming the profiles", errs)
	}
}
