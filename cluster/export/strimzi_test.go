package export

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// describe prints what an export left out and noted, for golden files.
func describe(res *Result) string {
	var b strings.Builder
	for _, d := range res.Dropped {
		fmt.Fprintf(&b, "# dropped %s=%s nodes %v: %s\n", d.Key, d.Value, d.Nodes, d.Reason)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "# note: %s\n", n)
	}
	return b.String()
}

func TestStrimziGolden(t *testing.T) {
	for _, name := range exampleLabs {
		t.Run(name, func(t *testing.T) {
			res, err := Strimzi(exampleLayout(t, name), StrimziOptions{KafkaVersion: "4.2.0"})
			if err != nil {
				t.Fatal(err)
			}
			again, _ := Strimzi(exampleLayout(t, name), StrimziOptions{KafkaVersion: "4.2.0"})
			if string(again.Stream) != string(res.Stream) {
				t.Fatal("two exports of one lab differ")
			}
			golden(t, "strimzi-"+name+".golden", append(res.Stream, "### report\n"+describe(res)...))
		})
	}
}

// Every example lab exports, and what it exports passes the schemas (Strimzi
// validates before returning; this checks the stream once more as written).
func TestStrimziExportsEveryExample(t *testing.T) {
	for _, name := range exampleLabFiles(t) {
		t.Run(name, func(t *testing.T) {
			res, err := Strimzi(exampleLayout(t, name), StrimziOptions{KafkaVersion: "4.3.1"})
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateStrimzi(res.Stream); err != nil {
				t.Fatal(err)
			}
			if len(res.Files) < 2 {
				t.Fatalf("%d files; want at least a node pool and a Kafka", len(res.Files))
			}
		})
	}
}

func TestStrimziForbids(t *testing.T) {
	tests := []struct {
		key  string
		want string // the forbidden prefix, "" when the operator accepts the key
	}{
		{"listeners", "listeners"},
		{"advertised.listeners", "advertised."},
		{"broker.id", "broker."},
		{"broker.session.timeout.ms", ""}, // an exception
		{"listener.security.protocol.map", "listener."},
		{"listener.name.plaintext.max.connections", "listener."},
		{"port", "port"},
		{"portal.anything", "port"}, // a prefix, not a key
		{"inter.broker.listener.name", "inter.broker.listener.name"},
		{"sasl.enabled.mechanisms", "sasl."},
		{"sasl.server.max.receive.size", ""},
		{"ssl.keystore.location", "ssl."},
		{"ssl.cipher.suites", ""},
		{"ssl.protocol", ""},
		{"SSL.PROTOCOL", "ssl."}, // the prefix check lower-cases, the exception check does not
		{"security.inter.broker.protocol", "security."},
		{"log.dirs", "log.dir"},
		{"log.dir", "log.dir"},
		{"log.dir.failure.timeout.ms", "log.dir"},
		{"log.retention.hours", ""},
		{"authorizer.class.name", "authorizer."},
		{"super.users", "super.user"},
		{"node.id", "node.id"},
		{"process.roles", "process.roles"},
		{"controller.quorum.voters", "controller."},
		{"controller.quorum.bootstrap.servers", "controller."},
		{"controller.listener.names", "controller."},
		{"controller.quorum.election.timeout.ms", ""},
		{"controller.quorum.fetch.timeout.ms", ""},
		{"controller.socket.timeout.ms", ""},
		{"metadata.log.dir", "metadata.log.dir"},
		{"metadata.log.segment.bytes", ""},
		{"cruise.control.metrics.topic", "cruise.control.metrics.topic"},
		{"cruise.control.metrics.topic.replication.factor", ""},
		{"zookeeper.clientCnxnSocket", ""}, // the operator's prefix has capitals and never matches a lower-cased key
		{"prometheus.metrics.reporter.listener", "prometheus.metrics.reporter."},
		{"cordoned.log.dirs", "cordoned.log.dirs"},
		{"client.quota.callback.static.produce", "client.quota.callback.static.produce"},
		{"client.quota.callback.class", ""},
		{"offsets.topic.replication.factor", ""},
		{"group.initial.rebalance.delay.ms", ""},
		{"num.partitions", ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := strimziForbids(tt.key); got != tt.want {
				t.Errorf("strimziForbids(%q) = %q; want %q", tt.key, got, tt.want)
			}
		})
	}
}

// spec.kafka.config holds the rendered broker properties the operator accepts,
// and the report says what was left out and why.
func TestStrimziConfig(t *testing.T) {
	lay := specLayout(t, cluster.Spec{
		Name:  "cfg",
		Nodes: cluster.NodesSpec{Combined: 3},
		Properties: map[string]string{
			"log.retention.ms":                   "60000",
			"auto.create.topics.enable":          "false",
			"compression.type":                   "zstd",
			"authorizer.plugin.setting":          "x",
			"controller.quorum.fetch.timeout.ms": "3000",
		},
		NodeProperties: map[int]map[string]string{2: {"num.io.threads": "4"}},
	})
	config, dropped, err := strimziConfig(lay)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		// The user's, typed the way Strimzi's examples write them.
		"log.retention.ms": int64(60000), "auto.create.topics.enable": false, "compression.type": "zstd",
		"controller.quorum.fetch.timeout.ms": int64(3000),
		// kraftlab's defaults sized to three brokers.
		"offsets.topic.replication.factor": int64(3), "transaction.state.log.replication.factor": int64(3),
		"transaction.state.log.min.isr": int64(2), "share.coordinator.state.topic.replication.factor": int64(3),
		"share.coordinator.state.topic.min.isr": int64(2), "default.replication.factor": int64(3),
		"min.insync.replicas": int64(2), "num.partitions": int64(1), "group.initial.rebalance.delay.ms": int64(0),
	}
	if !reflect.DeepEqual(config, want) {
		t.Errorf("config\n got %v\nwant %v", config, want)
	}
	reasons := map[string]string{}
	for _, d := range dropped {
		reasons[d.Key] = d.Reason
		if d.Key == "num.io.threads" && (d.Value != "4" || !reflect.DeepEqual(d.Nodes, []int{2})) {
			t.Errorf("num.io.threads dropped as %+v; want value 4 on node 2", d)
		}
	}
	for _, k := range []string{"process.roles", "node.id", "listeners", "advertised.listeners", "controller.listener.names",
		"inter.broker.listener.name", "listener.security.protocol.map", "controller.quorum.voters", "log.dirs", "authorizer.plugin.setting"} {
		if reasons[k] != reasonForbidden {
			t.Errorf("%s: dropped for %q; want the operator's rule", k, reasons[k])
		}
	}
	if !strings.Contains(reasons["num.io.threads"], "per-node") {
		t.Errorf("num.io.threads: dropped for %q; want it named a per-node property", reasons["num.io.threads"])
	}
	// The lab profile's one-machine settings, but for the one the spec sets itself.
	for _, k := range []string{"broker.heartbeat.interval.ms", "broker.session.timeout.ms", "controller.quorum.election.timeout.ms",
		"controller.quorum.election.backoff.max.ms", "replica.lag.time.max.ms", "log.cleaner.dedupe.buffer.size"} {
		if !strings.Contains(reasons[k], "lab profile") {
			t.Errorf("%s: dropped for %q; want the lab profile named", k, reasons[k])
		}
	}
	if len(dropped) != 17 {
		t.Errorf("%d dropped; want 17: the 9 layout keys, the user's ssl key, num.io.threads and 6 of the lab profile's; got %+v", len(dropped), dropped)
	}
}

func TestStrimziVersion(t *testing.T) {
	tests := []struct {
		name, lab, asked string
		want, metadata   string
		wantNote         string
		wantErr          []string
	}{
		{name: "supported", lab: "4.2.1", want: "4.2.1", metadata: "4.2-IV1"},
		{name: "default", lab: "4.3.1", want: "4.3.1", metadata: "4.3-IV0"},
		{name: "older minor", lab: "4.1.1", wantErr: []string{"Kafka 4.1.1", "4.2.0, 4.2.1, 4.3.0, 4.3.1", "nearest is 4.2.0", "--kafka-version 4.2.0"}},
		{name: "3.9", lab: "3.9.1", wantErr: []string{"nearest is 4.2.0"}},
		{name: "unknown patch of a supported line", lab: "4.2.9", wantErr: []string{"nearest is 4.2.1"}},
		{name: "newer than any", lab: "5.0.0", wantErr: []string{"nearest is 4.3.1"}},
		{name: "asked for a supported one", lab: "4.1.1", asked: "4.3.0", want: "4.3.0", metadata: "4.3-IV0", wantNote: "the lab runs Kafka 4.1.1"},
		{name: "asked for one this Strimzi does not support", lab: "4.1.1", asked: "4.4.0", want: "4.4.0", wantNote: "not one Strimzi"},
		{name: "asked for a malformed one", lab: "4.1.1", asked: "4.2", wantErr: []string{"--kafka-version", "4.2"}},
		{name: "version unknown", lab: "", wantErr: []string{"kafka.version", "--kafka-version"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, metadata, notes, err := strimziKafkaVersion(tt.lab, tt.asked)
			if len(tt.wantErr) > 0 {
				var ue *usage.Error
				if !errors.As(err, &ue) {
					t.Fatalf("error %v; want a usage error", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not mention %q: %v", w, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || metadata != tt.metadata {
				t.Errorf("version %q metadata %q; want %q %q", got, metadata, tt.want, tt.metadata)
			}
			if tt.wantNote != "" && !strings.Contains(strings.Join(notes, "\n"), tt.wantNote) {
				t.Errorf("notes %q; want one saying %q", notes, tt.wantNote)
			}
		})
	}
}

// A lab on a version Strimzi does not support is refused whole: nothing exported.
func TestStrimziRefusesUnsupportedVersion(t *testing.T) {
	res, err := Strimzi(exampleLayout(t, "combined-3"), StrimziOptions{})
	if err == nil || res != nil || !strings.Contains(err.Error(), "--kafka-version 4.2.0") {
		t.Fatalf("result %v, error %v; want a refusal naming --kafka-version 4.2.0", res, err)
	}
}

func TestStrimziStorage(t *testing.T) {
	tests := []struct {
		name    string
		o       StrimziOptions
		want    strimziVolume
		wantErr string
	}{
		{name: "default", want: strimziVolume{Type: "persistent-claim", Size: "10Gi", KraftMetadata: "shared"}},
		{name: "size and class", o: StrimziOptions{StorageSize: "100Gi", StorageClass: "fast-ssd"}, want: strimziVolume{Type: "persistent-claim", Size: "100Gi", Class: "fast-ssd", KraftMetadata: "shared"}},
		{name: "ephemeral", o: StrimziOptions{Ephemeral: true}, want: strimziVolume{Type: "ephemeral", KraftMetadata: "shared"}},
		{name: "bad size", o: StrimziOptions{StorageSize: "10GB"}, wantErr: `--storage "10GB"`},
		{name: "zero size", o: StrimziOptions{StorageSize: "0"}, wantErr: "--storage"},
		{name: "bad class", o: StrimziOptions{StorageClass: "Fast_SSD"}, wantErr: "--storage-class"},
		{name: "ephemeral with a size", o: StrimziOptions{Ephemeral: true, StorageSize: "1Gi"}, wantErr: "--ephemeral"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.o.storage()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v; want one mentioning %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Type != "jbod" || len(got.Volumes) != 1 || got.Volumes[0] != tt.want {
				t.Errorf("storage %+v; want jbod with %+v", got, tt.want)
			}
		})
	}
}

// Topics keep their names where Kubernetes takes them; others get a resource name
// and keep theirs in spec.topicName. Defaults follow the lab's.
func TestKafkaTopics(t *testing.T) {
	lay := specLayout(t, cluster.Spec{
		Name:  "topics",
		Nodes: cluster.NodesSpec{Controllers: 1, Brokers: 2},
		Topics: []cluster.TopicSpec{
			{Name: "orders"},
			{Name: "Orders_v1", Partitions: 12, ReplicationFactor: 1, Configs: map[string]string{"cleanup.policy": "compact", "retention.ms": "-1"}},
			{Name: "orders-v1"},
			{Name: "__private"},
		},
	})
	topics, err := kafkaTopics(lay, "topics")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		name, topicName      string
		partitions, replicas int
	}
	var got []row
	for _, tp := range topics {
		got = append(got, row{tp.Metadata.Name, tp.Spec.TopicName, tp.Spec.Partitions, tp.Spec.Replicas})
		if tp.Metadata.Labels["strimzi.io/cluster"] != "topics" {
			t.Errorf("%s: labels %v; want strimzi.io/cluster: topics", tp.Metadata.Name, tp.Metadata.Labels)
		}
	}
	want := []row{
		{"orders", "", 3, 2},
		{topicResourceName("Orders_v1"), "Orders_v1", 12, 1},
		{"orders-v1", "", 3, 2},
		{topicResourceName("__private"), "__private", 3, 2},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("topics\n got %+v\nwant %+v", got, want)
	}
	if !strings.HasPrefix(want[1].name, "orders-v1-") || want[1].name == "orders-v1" || !strings.HasPrefix(want[3].name, "private-") {
		t.Errorf("resource names %q, %q; want orders-v1-<hash> and private-<hash>", want[1].name, want[3].name)
	}
	if c := topics[1].Spec.Config; c["cleanup.policy"] != "compact" || c["retention.ms"] != int64(-1) {
		t.Errorf("config %v; want cleanup.policy compact and retention.ms -1", c)
	}
}

func TestIDRanges(t *testing.T) {
	tests := []struct {
		ids  []int
		want string
	}{
		{[]int{1}, "[1]"},
		{[]int{1, 2, 3}, "[1-3]"},
		{[]int{4, 6, 7}, "[4, 6-7]"},
		{[]int{1, 3, 5}, "[1, 3, 5]"},
	}
	for _, tt := range tests {
		if got := idRanges(tt.ids); got != tt.want {
			t.Errorf("idRanges(%v) = %q; want %q", tt.ids, got, tt.want)
		}
	}
}

// A lab whose topology was changed by hand (an explicit node list) keeps its ids
// in the node pools.
func TestStrimziNodePoolsFromAList(t *testing.T) {
	lay := specLayout(t, cluster.Spec{Name: "list", Nodes: cluster.NodesSpec{List: []cluster.NodeSpec{
		{ID: 1, Role: cluster.RoleCombined}, {ID: 2, Role: cluster.RoleCombined}, {ID: 3, Role: cluster.RoleCombined},
		{ID: 5, Role: cluster.RoleBroker}, {ID: 7, Role: cluster.RoleBroker},
	}}})
	res, err := Strimzi(lay, StrimziOptions{KafkaVersion: "4.2.0"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: dual-role", "strimzi.io/next-node-ids: '[1-3]'", "replicas: 3", "name: broker", "strimzi.io/next-node-ids: '[5, 7]'", "replicas: 2"} {
		if !strings.Contains(string(res.Stream), want) {
			t.Errorf("export does not contain %q:\n%s", want, res.Stream)
		}
	}
}

// A secured lab's listener, authorization and users go to Strimzi too: SCRAM on a
// TLS listener, simple authorization with admin a super user, and a KafkaUser per
// user with its ACLs.
func TestStrimziSecured(t *testing.T) {
	res, err := Strimzi(exampleLayout(t, "secured"), StrimziOptions{KafkaVersion: "4.2.0"})
	if err != nil {
		t.Fatal(err)
	}
	out := string(res.Stream)
	for _, want := range []string{
		"name: tls\n        port: 9093\n        type: internal\n        tls: true\n        authentication:\n          type: scram-sha-512",
		"authorization:\n      type: simple\n      superUsers:\n        - admin",
		"userOperator: {}",
		"kind: KafkaUser\nmetadata:\n  name: alice",
		"name: alice-\n", "patternType: prefix", "- Describe",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the export lacks %q:\n%s", want, out)
		}
	}
}

func TestStrimziRefusesPlain(t *testing.T) {
	lay := specLayout(t, cluster.Spec{Name: "p", Security: &cluster.SecuritySpec{Preset: cluster.SecurityPlain}})
	if _, err := Strimzi(lay, StrimziOptions{KafkaVersion: "4.2.0"}); err == nil || !strings.Contains(err.Error(), "SASL/PLAIN, which Strimzi's listeners do not offer") {
		t.Errorf("export of a sasl-plain lab: %v", err)
	}
}
