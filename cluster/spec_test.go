package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

func TestSpecValidate(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want []string // substrings, each must appear; none = valid
	}{
		{name: "defaults are valid"},
		{name: "isolated roles are valid", spec: Spec{Nodes: NodesSpec{Controllers: 3, Brokers: 2}, Quorum: QuorumDynamic, Ports: PortsSpec{Auto: true}}},
		{name: "combined with extra brokers is valid", spec: Spec{Nodes: NodesSpec{Combined: 3, Brokers: 1}}},
		{name: "ten nodes", spec: Spec{Nodes: NodesSpec{Combined: 10}}, want: []string{"nodes.combined 10: want 0 to 9"}},
		{name: "negative nodes", spec: Spec{Nodes: NodesSpec{Combined: -1}}, want: []string{"nodes.combined -1"}},
		{name: "too many in all", spec: Spec{Nodes: NodesSpec{Controllers: 5, Brokers: 5}}, want: []string{"10 nodes: at most 9 in all"}},
		{name: "controllers without brokers", spec: Spec{Nodes: NodesSpec{Controllers: 3}}, want: []string{"no broker"}},
		{name: "brokers without controllers", spec: Spec{Nodes: NodesSpec{Brokers: 2}}, want: []string{"no controller"}},
		{name: "counts and a list", spec: Spec{Nodes: NodesSpec{Combined: 1, List: []NodeSpec{{ID: 1, Role: RoleCombined}}}}, want: []string{"either the counts"}},
		{name: "list with a bad role and a duplicate id", spec: Spec{Nodes: NodesSpec{List: []NodeSpec{{ID: 1, Role: "leader"}, {ID: 1, Role: RoleCombined}}}},
			want: []string{`nodes.list[0].role "leader": want combined, controller or broker`, "nodes.list[1].id 1: appears twice"}},
		{name: "bad quorum", spec: Spec{Quorum: "raft"}, want: []string{`quorum "raft": want static or dynamic`}},
		{name: "bad heap", spec: Spec{Heap: "lots"}, want: []string{`heap "lots": want a size like 512M`}},
		{name: "bad name", spec: Spec{Name: "My Lab"}, want: []string{`name "My Lab"`}},
		{name: "bad version", spec: Spec{Kafka: KafkaSpec{Version: "4.x"}}, want: []string{"kafka.version", "want MAJOR.MINOR.PATCH"}},
		{name: "unspecified bind", spec: Spec{Bind: "0.0.0.0"}, want: []string{`bind "0.0.0.0": want one unicast IP address`}},
		{name: "multicast bind", spec: Spec{Bind: "224.0.0.1"}, want: []string{`bind "224.0.0.1"`}},
		{name: "broadcast bind", spec: Spec{Bind: "255.255.255.255"}, want: []string{`bind "255.255.255.255"`}},
		{name: "not an address", spec: Spec{Bind: "localhost"}, want: []string{`bind "localhost"`}},
		{name: "ports out of range", spec: Spec{Ports: PortsSpec{Broker: 80}}, want: []string{"ports.broker 80: want a port within 1024-65535"}},
		{name: "blocks run past 65535", spec: Spec{Ports: PortsSpec{Broker: 65534}}, want: []string{"node 3 broker listener would be on port 65536"}},
		{name: "blocks overlap", spec: Spec{Ports: PortsSpec{Broker: 19093}}, want: []string{"would share port 19093", "overlap"}},
		{name: "managed keys are refused with the setting to use", spec: Spec{Properties: map[string]string{"node.id": "7", "broker.id": "7", "metadata.log.dir": "/tmp/x", "log.dirs": "/tmp/y"}},
			want: []string{`properties["node.id"]: node.id is set by kraftlab`, `properties["broker.id"]`, `properties["metadata.log.dir"]: metadata.log.dir is set by kraftlab`, `properties["log.dirs"]`}},
		{name: "property name", spec: Spec{Properties: map[string]string{"a b": "v"}}, want: []string{`properties["a b"]: not a property name`}},
		{name: "line break", spec: Spec{Properties: map[string]string{"a": "b\nc=d"}}, want: []string{"line break"}},
		{name: "beyond U+FFFF", spec: Spec{Properties: map[string]string{"a": "🎉"}}, want: []string{"beyond U+FFFF"}},
		{name: "a node that does not exist", spec: Spec{NodeProperties: map[int]map[string]string{7: {"a": "b"}}}, want: []string{"nodeProperties[7]: node 7 does not exist (this lab has nodes 1, 2, 3)"}},
		{name: "topics", spec: Spec{Topics: []TopicSpec{{Name: "ok"}, {Name: "ok"}, {Name: "bad/name"}, {Name: "rf", ReplicationFactor: 4}, {Name: "p", Partitions: -1}}},
			want: []string{`topics[1].name "ok": appears twice`, `topics[2].name "bad/name"`, "topics[3].replicationFactor 4: want 1 to the lab's 3 broker(s)", "topics[4].partitions -1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errs := tt.spec.Default().Validate()
			if len(tt.want) == 0 {
				if len(errs) > 0 {
					t.Fatalf("want valid, got %v", errs)
				}
				return
			}
			got := fmt.Sprint(errs)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("problems %s do not mention %q", got, w)
				}
			}
		})
	}
}

func TestNodeList(t *testing.T) {
	tests := []struct {
		name  string
		nodes NodesSpec
		want  string
	}{
		{name: "combined", nodes: NodesSpec{Combined: 3}, want: "1 combined 9092 19092, 2 combined 9093 19093, 3 combined 9094 19094"},
		{name: "isolated: controllers first, broker ids above every voter, first broker on the base port", nodes: NodesSpec{Controllers: 3, Brokers: 2},
			want: "1 controller 0 19092, 2 controller 0 19093, 3 controller 0 19094, 4 broker 9092 0, 5 broker 9093 0"},
		{name: "combined with an extra broker", nodes: NodesSpec{Combined: 1, Brokers: 1}, want: "1 combined 9092 19092, 2 broker 9093 0"},
		{name: "a list keeps its ids and ports", nodes: NodesSpec{List: []NodeSpec{{ID: 3, Role: RoleController, ControllerPort: 19093}, {ID: 2, Role: RoleBroker}}},
			want: "2 broker 9092 0, 3 controller 0 19093"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, errs := Spec{Nodes: tt.nodes}.Default().nodeList()
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			var got []string
			for _, n := range list {
				got = append(got, fmt.Sprintf("%d %s %d %d", n.ID, n.Role, n.BrokerPort, n.ControllerPort))
			}
			if strings.Join(got, ", ") != tt.want {
				t.Errorf("got  %s\nwant %s", strings.Join(got, ", "), tt.want)
			}
		})
	}
}

// Each problem of a file names file:line:column and the field's path.
func TestParseSpecErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "unknown field", yaml: "name: x\nnodes:\n  combnied: 3\n", want: []string{`lab.yaml:3:3: nodes.combnied: unknown field "combnied" (did you mean combined?)`}},
		{name: "unknown top-level field", yaml: "name: x\nbrokers: 3\n", want: []string{`lab.yaml:2:1: brokers: unknown field "brokers"`}},
		{name: "wrong type", yaml: "nodes:\n  combined: three\n", want: []string{`lab.yaml:2:13: nodes.combined: want a whole number, got "three"`}},
		{name: "a list where a mapping goes", yaml: "ports: [1, 2]\n", want: []string{`lab.yaml:1:8: ports: want a mapping of fields, got a list`}},
		{name: "a mapping as a property value", yaml: "properties:\n  a.b: {c: d}\n", want: []string{`lab.yaml:2:8: properties["a.b"]: want a single value, got a mapping`}},
		{name: "bool", yaml: "ports:\n  auto: maybe\n", want: []string{`ports.auto: want true or false, got "maybe"`}},
		{name: "node id key", yaml: "nodeProperties:\n  two: {a: b}\n", want: []string{`lab.yaml:2:3: nodeProperties: key "two": want a whole number`}},
		{name: "given twice", yaml: "heap: 1G\nheap: 2G\n", want: []string{"lab.yaml:2:1: heap: given twice"}},
		{name: "two documents", yaml: "name: a\n---\nname: b\n", want: []string{"more than one YAML document"}},
		{name: "empty", yaml: "", want: []string{"lab.yaml: the file is empty"}},
		{name: "not YAML", yaml: "name: [\n", want: []string{"lab.yaml:", "not valid YAML"}},
		{name: "huge number", yaml: "nodes:\n  combined: 99999999999\n", want: []string{"nodes.combined: 99999999999 is out of range"}},
		{name: "every problem at once", yaml: "nodes:\n  combined: x\nheep: 1G\n", want: []string{"2 problems", "nodes.combined", `unknown field "heep" (did you mean heap?)`}},
		// yaml.v3 keeps aliases unexpanded and the decoder follows one only where the
		// spec's types allow, so a bomb is refused at its first wrong value.
		{name: "alias bomb", yaml: aliasBomb(), want: []string{"properties: want a mapping, got a list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := ParseSpec("lab.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("want an error")
			}
			var ue *usage.Error
			if !errors.As(err, &ue) {
				t.Errorf("%v is not a usage error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// aliasBomb is a small document whose aliases expand a billion-fold.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("properties: *a8\n")
	return b.String()
}

// A value that parses but is out of range is reported at its line in the file,
// or at the flag that set it.
func TestValidationErrorsPointAtTheirSource(t *testing.T) {
	spec, src, err := ParseSpec("lab.yaml", []byte("name: x\nnodes:\n  combined: 12\nheap: 1G\n"))
	if err != nil {
		t.Fatal(err)
	}
	spec.Heap = "big"
	src.SetByFlag("heap", "--heap")
	_, err = NewFromSource(Config{Home: t.TempDir()}, spec, src)
	if err == nil {
		t.Fatal("want an error")
	}
	for _, w := range []string{"lab.yaml:3:3: nodes.combined: 12: want 0 to 9", `--heap "big": want a size`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestExampleSpecs(t *testing.T) {
	files, _ := filepath.Glob("../examples/labs/*.yaml")
	if len(files) < 3 {
		t.Fatalf("want the example labs, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			spec, src, err := ReadSpecFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := src.explain(spec.Default().Validate()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// The examples' schema is the one 'kraftlab spec --schema' prints.
func TestSpecSchema(t *testing.T) {
	b, err := SpecSchema()
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]struct {
			Type       string         `json:"type"`
			Enum       []string       `json:"enum"`
			Properties map[string]any `json:"properties"`
		} `json:"properties"`
		Required             []string `json:"required"`
		AdditionalProperties bool     `json:"additionalProperties"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatalf("schema is not JSON: %v", err)
	}
	if schema.AdditionalProperties || !reflect.DeepEqual(schema.Required, []string{"name"}) {
		t.Errorf("schema must refuse unknown fields and require the name: %+v", schema)
	}
	if q := schema.Properties["quorum"]; !reflect.DeepEqual(q.Enum, []string{"static", "dynamic"}) {
		t.Errorf("quorum enum = %v", q.Enum)
	}
	if _, ok := schema.Properties["nodes"].Properties["combined"]; !ok {
		t.Error("schema lacks nodes.combined")
	}
	golden := "../examples/labs/lab.schema.json"
	if *update {
		if err := os.WriteFile(golden, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil || !bytes.Equal(append(b, '\n'), want) {
		t.Errorf("%s is not what 'kraftlab spec --schema' prints (go test -update): %v", golden, err)
	}
}

func TestSpecYAMLRoundTrip(t *testing.T) {
	in := Spec{
		Name: "rt", Kafka: KafkaSpec{Version: "3.9.1"}, Quorum: QuorumDynamic,
		Nodes: NodesSpec{List: []NodeSpec{{ID: 2, Role: RoleBroker, BrokerPort: 9093}, {ID: 3, Role: RoleController, ControllerPort: 19093}}},
		Ports: PortsSpec{Broker: 9092, Controller: 19092, Auto: true}, Bind: "127.0.0.1", Heap: "1G",
		Properties:     map[string]string{"log.retention.ms": "60000", "x": "", "y": "true", "z": "a: b # c"},
		NodeProperties: map[int]map[string]string{2: {"num.io.threads": "4"}},
		Topics:         []TopicSpec{{Name: "t", Partitions: 6, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact"}}},
		Security: &SecuritySpec{Preset: SecuritySCRAM, TLS: new(bool), Authorization: true, Users: []UserSpec{{Name: "alice"}},
			ACLs: []ACLSpec{{Principal: "User:alice", Permission: "allow", Operations: []string{"read", "describe"}, Resource: "topic", Name: "t", Pattern: "prefixed", Host: "*"}}},
	}
	b, err := in.YAML()
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := ParseSpec("spec.yaml", b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !reflect.DeepEqual(in, out) {
		t.Errorf("round trip changed the spec:\n got %+v\nwant %+v\n%s", out, in, b)
	}
}

func TestDifferences(t *testing.T) {
	lab := Spec{Nodes: NodesSpec{Combined: 3}, Heap: "512M", Properties: map[string]string{"a": "1"}}.Default()
	tests := []struct {
		name  string
		asked Spec
		want  []string
	}{
		{name: "nothing asked", asked: Spec{Name: "default"}},
		{name: "the same", asked: Spec{Nodes: NodesSpec{Combined: 3}, Heap: "512M", Properties: map[string]string{"a": "1"}}},
		{name: "other heap and ports", asked: Spec{Heap: "1G", Ports: PortsSpec{Broker: 29092}}, want: []string{"ports.broker: the lab has 9092, asked 29092", "heap: the lab has 512M, asked 1G"}},
		{name: "another property", asked: Spec{Properties: map[string]string{"a": "2", "b": "x"}}, want: []string{`properties["a"]: the lab has "1", asked "2"`, `properties["b"]: the lab has it unset, asked "x"`}},
		{name: "another size", asked: Spec{Nodes: NodesSpec{Combined: 5}}, want: []string{"nodes.combined: the lab has 3, asked 5"}},
		{name: "bind", asked: Spec{Bind: "127.0.0.2"}, want: []string{"bind: the lab has 127.0.0.1, asked 127.0.0.2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.asked.differences(lab)
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// A spec keeps counts while the nodes follow them, and lists the nodes once
// they do not (a controller added after a broker, a node removed).
func TestCompactNodes(t *testing.T) {
	spec := Spec{Nodes: NodesSpec{Combined: 3}}.Default()
	st := &labdir.State{Nodes: []labdir.Node{{ID: 1, BrokerPort: 9092, ControllerPort: 19092}, {ID: 2, BrokerPort: 9093, ControllerPort: 19093}, {ID: 3, BrokerPort: 9094, ControllerPort: 19094}}}
	if got := compactNodes(spec, st); !reflect.DeepEqual(got, NodesSpec{Combined: 3}) {
		t.Errorf("plain lab: %+v", got)
	}
	spec.Nodes = NodesSpec{List: []NodeSpec{{ID: 1, Role: RoleCombined}, {ID: 2, Role: RoleCombined}, {ID: 3, Role: RoleCombined}, {ID: 4, Role: RoleBroker, BrokerPort: 9095}}}
	st.Nodes = append(st.Nodes, labdir.Node{ID: 4, BrokerPort: 9095})
	if got := compactNodes(spec, st); !reflect.DeepEqual(got, NodesSpec{Combined: 3, Brokers: 1}) {
		t.Errorf("a broker added: %+v", got)
	}
	spec.Nodes.List = append(spec.Nodes.List, NodeSpec{ID: 5, Role: RoleController, ControllerPort: 19095})
	st.Nodes = append(st.Nodes, labdir.Node{ID: 5, ControllerPort: 19095})
	got := compactNodes(spec, st)
	if len(got.List) != 5 || got.List[4] != (NodeSpec{ID: 5, Role: RoleController, ControllerPort: 19095}) {
		t.Errorf("a controller added after a broker must be listed: %+v", got)
	}
}

func TestUnknownProperties(t *testing.T) {
	known := map[string]bool{"num.partitions": true, "num.io.threads": true, "log.retention.ms": true, "log.retention.hours": true}
	spec := Spec{
		Properties:       map[string]string{"num.partitons": "5", "num.partitions": "3", "my.plugin.url": "x", "listener.name.plaintext.ssl.client.auth": "none", "exact.plugin": "y"},
		NodeProperties:   map[int]map[string]string{2: {"log.retention.mss": "1"}},
		PluginProperties: []string{"my.plugin.", "exact.plugin"},
	}
	got := fmt.Sprint(spec.unknownProperties(known, "4.1.1"))
	for _, w := range []string{
		`properties["num.partitons"]: num.partitons is not a broker property Kafka 4.1.1 knows (did you mean num.partitions`,
		"--plugin-property num.partitons",
		`nodeProperties[2]["log.retention.mss"]`, "did you mean log.retention.ms",
	} {
		if !strings.Contains(got, w) {
			t.Errorf("%s does not mention %q", got, w)
		}
	}
	for _, ok := range []string{"my.plugin.url", "exact.plugin", "listener.name"} {
		if strings.Contains(got, ok) {
			t.Errorf("%s refuses %s, which the spec allows", got, ok)
		}
	}
	if errs := spec.unknownProperties(nil, "4.1.1"); errs != nil {
		t.Errorf("without a list of names nothing can be refused: %v", errs)
	}
}
