package export

import (
	"fmt"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kraftlab/kraftlab/cluster"
)

// testClusterID keeps the golden files reproducible.
const testClusterID = "MkU3OEVBNTcwNTJENDM2Qk"

func TestComposeGolden(t *testing.T) {
	for _, name := range exampleLabs {
		t.Run(name, func(t *testing.T) {
			res, err := Compose(exampleLayout(t, name), ComposeOptions{ClusterID: testClusterID})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "compose-"+name+".golden", append(res.Stream, "### report\n"+describe(res)...))
		})
	}
}

func TestComposeExportsEveryExample(t *testing.T) {
	for _, name := range exampleLabFiles(t) {
		t.Run(name, func(t *testing.T) {
			lay := exampleLayout(t, name)
			res, err := Compose(lay, ComposeOptions{})
			if lay.Spec.Security.Secured() {
				// Not covered yet: refused, saying what to use instead.
				if err == nil || !strings.Contains(err.Error(), "compose export covers plaintext labs only") || !strings.Contains(err.Error(), "export strimzi") {
					t.Fatalf("compose of a secured lab: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateCompose(res.Stream); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// interpolation is what compose substitutes in a value: $$ is a literal $, and
// $NAME or ${...} a variable of the shell compose runs in.
var interpolation = regexp.MustCompile(`\$\$|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// composeEnvs reads a compose file back: each service's environment as the
// container sees it, interpolated as compose does with no variables set.
func composeEnvs(t *testing.T, data []byte) map[string]map[string]string {
	t.Helper()
	var f struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for name, s := range f.Services {
		env := map[string]string{}
		for k, v := range s.Environment {
			env[k] = interpolation.ReplaceAllStringFunc(v, func(m string) string {
				if m == "$$" {
					return "$"
				}
				return ""
			})
		}
		out[name] = env
	}
	return out
}

// Round trip: what the apache/kafka image makes of each container's environment
// (its own rules, imageProperties) is what 'render' shows for that node, except
// for exactly these, the container rewrite:
//   - containerKeys get the container values: listeners on 19092 (PLAINTEXT),
//     9092 (PLAINTEXT_HOST) and 9093 (CONTROLLER); advertised.listeners by
//     service name and by the lab's bind address and broker port; the protocol
//     map with PLAINTEXT_HOST; controller.quorum.voters by service name; log.dirs
//     inside the container;
//   - a dynamic quorum's controller.quorum.bootstrap.servers is gone and
//     controller.quorum.voters is there instead;
//   - heap.opts appears, from KAFKA_HEAP_OPTS (the image does not exclude it;
//     the broker ignores it).
func TestComposeRoundTrip(t *testing.T) {
	specs := map[string]cluster.Spec{}
	for _, name := range exampleLabs {
		spec, _, err := cluster.ReadSpecFile("../../examples/labs/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		spec.Ports.Auto = false
		specs[name] = spec
	}
	// Values compose would interpolate, and per-node properties.
	specs["awkward values"] = cluster.Spec{
		Name: "awkward", Nodes: cluster.NodesSpec{Combined: 1, Brokers: 1},
		Properties:     map[string]string{"sasl.kerberos.service.name": "$kafka", "log.cleaner.min.cleanable.ratio": "0.5", "client.quota.callback.class": "a.B$C"},
		NodeProperties: map[int]map[string]string{2: {"num.io.threads": "16", "broker.rack": "rack-b"}},
	}
	for name, spec := range specs {
		t.Run(name, func(t *testing.T) {
			lay := specLayout(t, spec)
			res, err := Compose(lay, ComposeOptions{ClusterID: testClusterID})
			if err != nil {
				t.Fatal(err)
			}
			envs := composeEnvs(t, res.Stream)
			nodes, err := renderNodes(lay.Render)
			if err != nil {
				t.Fatal(err)
			}
			if len(envs) != len(nodes) {
				t.Fatalf("%d services for %d nodes", len(envs), len(nodes))
			}
			for _, rn := range nodes {
				svc := serviceName(rn.node)
				env, ok := envs[svc]
				if !ok {
					t.Fatalf("no service %s for node %d", svc, rn.node.ID)
				}
				if env["CLUSTER_ID"] != testClusterID {
					t.Errorf("%s: CLUSTER_ID %q", svc, env["CLUSTER_ID"])
				}
				got := imageProperties(env)
				want := map[string]string{}
				for _, k := range rn.props.Keys() {
					want[k], _ = rn.props.Get(k)
				}
				if _, ok := want["controller.quorum.bootstrap.servers"]; ok {
					delete(want, "controller.quorum.bootstrap.servers")
					want["controller.quorum.voters"] = ""
				}
				for _, k := range containerKeys {
					if _, ok := want[k]; ok {
						want[k] = got[k] // checked below, against the layout
					}
				}
				want["heap.opts"] = "-Xmx" + lay.Spec.Heap + " -Xms" + lay.Spec.Heap
				if !reflect.DeepEqual(got, want) {
					for _, k := range slices.Sorted(maps.Keys(want)) {
						if got[k] != want[k] {
							t.Errorf("%s: %s = %q; render shows %q", svc, k, got[k], want[k])
						}
					}
					for _, k := range slices.Sorted(maps.Keys(got)) {
						if _, ok := want[k]; !ok {
							t.Errorf("%s: %s = %q, which render does not show", svc, k, got[k])
						}
					}
				}
				checkContainerKeys(t, lay, rn, got)
			}
		})
	}
}

// checkContainerKeys checks the rewritten keys of one node against the layout.
func checkContainerKeys(t *testing.T, lay *cluster.Layout, rn renderedNode, got map[string]string) {
	t.Helper()
	n := rn.node
	var voters []string
	for _, o := range lay.Render.Nodes {
		if o.IsController() {
			voters = append(voters, fmt.Sprintf("%d@%s:9093", o.ID, serviceName(o)))
		}
	}
	want := map[string]string{
		"controller.quorum.voters":       strings.Join(voters, ","),
		"log.dirs":                       "/tmp/kraft-combined-logs",
		"listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT",
	}
	switch {
	case n.IsBroker() && n.IsController():
		want["listeners"] = "PLAINTEXT://:19092,CONTROLLER://:9093,PLAINTEXT_HOST://:9092"
	case n.IsBroker():
		want["listeners"] = "PLAINTEXT://:19092,PLAINTEXT_HOST://:9092"
	default:
		want["listeners"] = "CONTROLLER://:9093"
	}
	if n.IsBroker() {
		want["advertised.listeners"] = fmt.Sprintf("PLAINTEXT://%s:19092,PLAINTEXT_HOST://%s:%d", serviceName(n), lay.Spec.Bind, n.BrokerPort)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q; want %q", serviceName(n), k, got[k], v)
		}
	}
	if _, ok := got["advertised.listeners"]; ok && !n.IsBroker() {
		t.Errorf("%s: a controller-only node advertises listeners (the image refuses that)", serviceName(n))
	}
}

func TestEnvNames(t *testing.T) {
	tests := []struct {
		key, env string
	}{
		{"log.retention.hours", "KAFKA_LOG_RETENTION_HOURS"},
		{"node.id", "KAFKA_NODE_ID"},
		{"client.quota.callback.static.storage.check-interval", "KAFKA_CLIENT_QUOTA_CALLBACK_STATIC_STORAGE_CHECK___INTERVAL"},
		{"some_key.with-both", "KAFKA_SOME__KEY_WITH___BOTH"},
		{"listener.name.controller.sasl.enabled.mechanisms", "KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := envName(tt.key); got != tt.env {
				t.Errorf("envName(%q) = %q; want %q", tt.key, got, tt.env)
			}
			if back := propertyName(strings.TrimPrefix(tt.env, "KAFKA_")); back != tt.key {
				t.Errorf("the image reads %s back as %q; want %q", tt.env, back, tt.key)
			}
		})
	}
}

// Properties the image cannot carry are refused, naming the property and why.
func TestEnvForRefuses(t *testing.T) {
	tests := []struct {
		key, value string
		want       string
	}{
		{"a.b.c", "1", `read its variable KAFKA_A_B_C back as "a.b_c"`},
		{"ssl.Keystore.type", "PEM", "back as"},
		{"version", "1", "KAFKA_VERSION"},
		{"opts", "x", "KAFKA_OPTS"},
		{"sasl.jaas.config", `x required user="a";`, "'='"},
		{"ssl.keystore.location", `C:\ks`, "backslash"},
		{"broker.rack", "zürich", "printable ASCII"},
		{"broker.rack", " a", "leading space"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			_, err := envFor(tt.key, tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %v; want one naming %s and saying %q", err, tt.key, tt.want)
			}
		})
	}
	if env, err := envFor("log.retention.hours", "24"); err != nil || env != "KAFKA_LOG_RETENTION_HOURS" {
		t.Errorf("envFor(log.retention.hours) = %q, %v", env, err)
	}
}

// A spec property the image would mangle fails the export, changing nothing.
func TestComposeRefusesWhatTheImageCannotCarry(t *testing.T) {
	lay := specLayout(t, cluster.Spec{Name: "bad",
		Properties:     map[string]string{"plugin.jaas": "x y=z;"},
		NodeProperties: map[int]map[string]string{2: {"a.b.c": "1"}}})
	res, err := Compose(lay, ComposeOptions{})
	if err == nil || res != nil {
		t.Fatalf("result %v, error %v; want a refusal", res, err)
	}
	for _, want := range []string{"plugin.jaas=x y=z;: ", "(nodes 1, 2, 3)", "a.b.c: ", "(node 2)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if strings.Count(err.Error(), "plugin.jaas") != 1 {
		t.Errorf("the problem on every node is reported more than once:\n%v", err)
	}
}

// A lab that exists keeps its cluster id; a spec gets the one asked for, or a new
// one each time.
func TestComposeClusterID(t *testing.T) {
	lay := exampleLayout(t, "combined-3")
	a, _ := Compose(lay, ComposeOptions{})
	b, _ := Compose(lay, ComposeOptions{})
	idA, idB := composeEnvs(t, a.Stream)["kafka-1"]["CLUSTER_ID"], composeEnvs(t, b.Stream)["kafka-1"]["CLUSTER_ID"]
	if len(idA) != 22 || idA == idB {
		t.Errorf("generated cluster ids %q and %q; want two new 22-character ids", idA, idB)
	}
	lay.ClusterID = "existingClusterIdAAAAA"
	c, _ := Compose(lay, ComposeOptions{ClusterID: testClusterID})
	for svc, env := range composeEnvs(t, c.Stream) {
		if env["CLUSTER_ID"] != "existingClusterIdAAAAA" {
			t.Errorf("%s: CLUSTER_ID %q; want the lab's", svc, env["CLUSTER_ID"])
		}
	}
}
