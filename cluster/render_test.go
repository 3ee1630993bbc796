package cluster

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/magiconair/properties"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// testLab is a planned lab as 'up' would record it, with fixed directory ids in a
// dynamic quorum so the rendering is reproducible.
func testLab(name string, l layout, quorum string) *State {
	s := &State{Name: name, Quorum: quorum, Nodes: planNodes(l, "", DefaultBrokerPort, DefaultControllerPort)}
	for i, n := range s.Nodes {
		if quorum == QuorumDynamic && n.IsController() {
			s.Nodes[i].DirectoryID = fmt.Sprintf("dir%019dA", n.ID)
		}
	}
	return s
}

func combined(n int) layout { return layout{combined: n} }

func TestRenderPropertiesGolden(t *testing.T) {
	tests := []struct {
		name   string
		layout layout
		quorum string
		sets   []string
	}{
		{name: "combined-1", layout: combined(1)},
		{name: "combined-3", layout: combined(3)},
		{name: "combined-3-overrides", layout: combined(3), sets: []string{"log.retention.ms=60000", "2:num.io.threads=4", "num.partitions=6"}},
		{name: "isolated-3c-2b", layout: layout{controllers: 3, brokers: 2}},
		{name: "dynamic-isolated-3c-2b", layout: layout{controllers: 3, brokers: 2}, quorum: QuorumDynamic},
		{name: "dynamic-combined-1", layout: combined(1), quorum: QuorumDynamic},
	}
	p := Paths{Dir: "/labs/default"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testLab("default", tt.layout, tt.quorum)
			overrides, err := ParseOverrides(tt.sets, len(s.Nodes))
			if err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			for _, n := range s.Nodes {
				b, err := RenderProperties(s, p, n, overrides)
				if err != nil {
					t.Fatal(err)
				}
				again, _ := RenderProperties(s, p, n, overrides)
				if !bytes.Equal(b, again) {
					t.Fatalf("node %d: rendering is not deterministic", n.ID)
				}
				fmt.Fprintf(&got, "### node %d\n%s", n.ID, b)
				if args := formatQuorumArgs(s, n); len(args) > 0 {
					fmt.Fprintf(&got, "### node %d format flags: %s\n", n.ID, strings.Join(args, " "))
				}
			}
			golden := filepath.Join("testdata", "render-"+tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("rendered properties differ from %s (go test -update to accept):\n%s", golden, got.String())
			}
		})
	}
}

func TestRenderPropertiesValues(t *testing.T) {
	tests := []struct {
		name       string
		layout     layout
		quorum     string
		node       int
		sets       []string
		want       map[string]string
		wantAbsent []string
	}{
		{
			name: "single node sizes internal topics to one broker", layout: combined(1), node: 1,
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
			name: "five nodes cap replication at three", layout: combined(5), node: 4,
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
			name: "node override applies to its node only", layout: combined(3), node: 1,
			sets:       []string{"2:num.io.threads=4", "auto.create.topics.enable=false"},
			want:       map[string]string{"auto.create.topics.enable": "false"},
			wantAbsent: []string{"num.io.threads"},
		},
		{
			name: "values with special characters survive", layout: combined(1), node: 1,
			sets: []string{`sasl.jaas.config=a = b: c\d ${x} #y`},
			want: map[string]string{"sasl.jaas.config": `a = b: c\d ${x} #y`},
		},
		{
			name: "isolated controller listens on the controller port only", layout: layout{controllers: 3, brokers: 2}, node: 2,
			want: map[string]string{
				"process.roles":             "controller",
				"listeners":                 "CONTROLLER://127.0.0.1:19093",
				"controller.quorum.voters":  "1@127.0.0.1:19092,2@127.0.0.1:19093,3@127.0.0.1:19094",
				"controller.listener.names": "CONTROLLER",
			},
			wantAbsent: []string{"advertised.listeners", "inter.broker.listener.name"},
		},
		{
			name: "isolated broker has the controller listener name but does not listen on it", layout: layout{controllers: 3, brokers: 2}, node: 5,
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
			name: "dynamic quorum names bootstrap servers, not voters", layout: layout{controllers: 3, brokers: 1}, quorum: QuorumDynamic, node: 4,
			want: map[string]string{
				"controller.quorum.bootstrap.servers": "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094",
				"default.replication.factor":          "1",
			},
			wantAbsent: []string{"controller.quorum.voters"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testLab("x", tt.layout, tt.quorum)
			overrides, err := ParseOverrides(tt.sets, len(s.Nodes))
			if err != nil {
				t.Fatal(err)
			}
			b, err := RenderProperties(s, Paths{Dir: "/l"}, s.Nodes[tt.node-1], overrides)
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
	if err := p.Load(b, propertiesEncoding); err != nil {
		t.Fatalf("rendered output does not parse: %v\n%s", err, b)
	}
	return p.Map()
}

func TestParseOverride(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Override
		wantErr string
	}{
		{name: "all nodes", in: "log.retention.ms=1000", want: Override{Key: "log.retention.ms", Value: "1000"}},
		{name: "one node", in: "2:num.io.threads=4", want: Override{Node: 2, Key: "num.io.threads", Value: "4"}},
		{name: "empty value", in: "log.cleaner.enable=", want: Override{Key: "log.cleaner.enable"}},
		{name: "value with equals", in: "a.b=c=d", want: Override{Key: "a.b", Value: "c=d"}},
		{name: "no equals", in: "log.retention.ms", wantErr: "want key=value"},
		{name: "node out of range", in: "7:k=v", wantErr: "node 7 does not exist (this lab has nodes 1-3)"},
		{name: "node zero", in: "0:k=v", wantErr: "node 0 does not exist"},
		{name: "bad node", in: "x:k=v", wantErr: "is not a node id"},
		{name: "empty key", in: "=v", wantErr: "is not a property name"},
		{name: "space in key", in: "a b=v", wantErr: "is not a property name"},
		{name: "managed key", in: "node.id=7", wantErr: "node.id is set by kraftlab"},
		{name: "line break", in: "a=b\nc=d", wantErr: "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOverride(tt.in, 3)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func FuzzRenderOverride(f *testing.F) {
	for _, s := range []string{"log.retention.ms=1", "2:a.b=c", `x=\u0041 ${y} #z !w`, "k= lead", "k=trail ", "k=:=", "k=ü€"} {
		f.Add(s)
	}
	s := testLab("fuzz", combined(3), QuorumStatic)
	f.Fuzz(func(t *testing.T, set string) {
		o, err := ParseOverride(set, 3)
		if err != nil {
			return
		}
		b, err := RenderProperties(s, Paths{Dir: "/l"}, s.Nodes[1], []Override{o})
		if err != nil {
			t.Fatalf("valid override %q failed to render: %v", set, err)
		}
		got := parseProps(t, b)
		if o.Node == 0 || o.Node == 2 {
			if got[o.Key] != o.Value {
				t.Fatalf("override %q: rendered %s=%q, want %q", set, o.Key, got[o.Key], o.Value)
			}
		}
		if got["node.id"] != "2" {
			t.Fatalf("override %q changed node.id to %q", set, got["node.id"])
		}
	})
}
