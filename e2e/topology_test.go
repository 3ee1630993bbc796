package e2e

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type lsJSON struct {
	Name         string   `json:"name"`
	State        string   `json:"state"`
	KafkaVersion string   `json:"kafka_version"`
	Layout       string   `json:"layout"`
	Nodes        int      `json:"nodes"`
	Quorum       string   `json:"quorum"`
	SizeBytes    int64    `json:"size_bytes"`
	Bootstrap    []string `json:"bootstrap_servers"`
}

func (l *lab) ls(t *testing.T) map[string]lsJSON {
	t.Helper()
	var labs []lsJSON
	decodeJSON(t, l.must("ls", "-o", "json").stdout, &labs)
	out := make(map[string]lsJSON)
	for _, x := range labs {
		out[x.Name] = x
	}
	return out
}

type topoStatusJSON struct {
	Layout     string `json:"layout"`
	QuorumMode string `json:"quorum_mode"`
	Profile    string `json:"profile"`
	Nodes      []struct {
		ID         int      `json:"id"`
		Roles      []string `json:"roles"`
		State      string   `json:"state"`
		QuorumRole string   `json:"quorum_role"`
	} `json:"nodes"`
	Quorum *struct {
		LeaderID  int32                `json:"leader_id"`
		Voters    []struct{ ID int32 } `json:"voters"`
		Observers []struct{ ID int32 } `json:"observers"`
	} `json:"quorum"`
}

func (l *lab) topoStatus(t *testing.T) topoStatusJSON {
	t.Helper()
	var st topoStatusJSON
	decodeJSON(t, l.must("status", "--check", "-o", "json").stdout, &st)
	return st
}

func replicaIDs(rs []struct{ ID int32 }) []int32 {
	var ids []int32
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

// Two labs in one home at once, both placed by --ports auto from the same bases: the
// first skips a window where another program listens, the second skips the first
// lab's window; ls shows both, then one stopped.
func TestLabsSideBySide(t *testing.T) {
	a := newLab(t, 30)
	b := newLabOn(t, a.home, "e2e-b", a.brokerBase, a.controllerBase)
	// Another program on the first window's last controller port.
	ln := listenOn(t, a.controllerBase+9)
	defer ln.Close()

	auto := []string{"--nodes", "1", "--heap", "384M", "--ports", "auto",
		"--broker-port", itoa(a.brokerBase), "--controller-port", itoa(a.controllerBase), "-o", "json"}
	var upA, upB upJSON
	decodeJSON(t, a.must(append([]string{"up"}, auto...)...).stdout, &upA)
	decodeJSON(t, b.must(append([]string{"up"}, auto...)...).stdout, &upB)
	// The labs' ports lie in the kernel's ephemeral range, where other programs'
	// client sockets may briefly hold a port of a window too; so the tests check
	// which windows were skipped, not exactly where each lab lands.
	portA, portB := portOf(t, upA.Bootstrap[0]), portOf(t, upB.Bootstrap[0])
	if portA < a.brokerBase+10 || (portA-a.brokerBase)%10 != 0 {
		t.Errorf("lab a on broker port %d, want a window after the first (it has a port in use)", portA)
	}
	if portB < portA+10 || (portB-a.brokerBase)%10 != 0 {
		t.Errorf("lab b on broker port %d, want a window after lab a's (%d)", portB, portA)
	}
	labs := a.ls(t)
	for _, x := range []struct {
		name string
		up   upJSON
	}{{a.name, upA}, {b.name, upB}} {
		got, ok := labs[x.name]
		if !ok || got.State != "running" || got.KafkaVersion == "" || got.Nodes != 1 || got.Layout != "1 combined" ||
			got.SizeBytes <= 0 || strings.Join(got.Bootstrap, ",") != strings.Join(x.up.Bootstrap, ",") {
			t.Errorf("ls entry for %s: %+v (up said %+v)", x.name, got, x.up)
		}
	}
	if r := a.must("ls"); !strings.Contains(r.stdout, "e2e-b") || !strings.Contains(r.stdout, "running") {
		t.Errorf("ls text output:\n%s", r.stdout)
	}

	// Both serve at once.
	for _, x := range []upJSON{upA, upB} {
		produceOne(t, x.Bootstrap, "side", x.Name)
	}

	a.must("down")
	labs = a.ls(t)
	if labs[a.name].State != "stopped" || labs[b.name].State != "running" {
		t.Errorf("after down of a: %+v", labs)
	}
	// A stopped lab keeps its ports: a third auto lab does not take them.
	c := newLabOn(t, a.home, "e2e-c", a.brokerBase, a.controllerBase)
	var upC upJSON
	decodeJSON(t, c.must(append([]string{"up"}, auto...)...).stdout, &upC)
	if portC := portOf(t, upC.Bootstrap[0]); portC == portA || portC == portB {
		t.Errorf("lab c on broker port %d, which lab a (stopped) or b recorded", portC)
	}
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("bootstrap %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func produceOne(t *testing.T, brokers []string, topic, value string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, kgo.StringRecord(value)).FirstErr(); err != nil {
		t.Fatalf("produce to %v: %v", brokers, err)
	}
}

// Isolated roles: 3 controller-only nodes (the voters, ids 1-3) and 2 broker-only
// nodes (ids 4-5, quorum observers); replication defaults follow the 2 brokers.
func TestIsolatedRoles(t *testing.T) {
	l := newLab(t, 3)
	start := time.Now()
	var up upJSON
	// Kafka's own settings here; the other labs of the suite run the default lab profile.
	decodeJSON(t, l.must("up", "-f", "../examples/labs/isolated-3c-2b.yaml", "--heap", "384M", "--profile", "production",
		"--broker-port", itoa(l.brokerBase), "--controller-port", itoa(l.controllerBase), "-o", "json").stdout, &up)
	// The spec's topic, with its partitions and replication.
	if !slices.Equal(up.Topics, []string{"orders"}) {
		t.Errorf("up created topics %v, want the spec's orders", up.Topics)
	}
	var orders struct {
		Partitions []struct {
			Replicas []int32 `json:"replicas"`
		} `json:"partitions"`
	}
	decodeJSON(t, l.must("topic", "describe", "orders", "-o", "json").stdout, &orders)
	if len(orders.Partitions) != 6 || len(orders.Partitions[0].Replicas) != 2 {
		t.Errorf("orders: %+v, want 6 partitions of 2 replicas", orders)
	}
	t.Logf("isolated 3 controllers + 2 brokers up in %s", time.Since(start).Round(100*time.Millisecond))
	if strings.Join(up.Bootstrap, ",") != strings.Join(l.bootstrap(2), ",") {
		t.Errorf("bootstrap %s, want the two brokers on the base ports %v", up.Bootstrap, l.bootstrap(2))
	}

	st := l.topoStatus(t)
	if st.Quorum == nil {
		t.Fatal("no quorum in status")
	}
	if got := replicaIDs(st.Quorum.Voters); !slices.Equal(got, []int32{1, 2, 3}) {
		t.Errorf("voters %v, want the controllers 1-3", got)
	}
	if got := replicaIDs(st.Quorum.Observers); !slices.Equal(got, []int32{4, 5}) {
		t.Errorf("observers %v, want the brokers 4-5", got)
	}
	for _, n := range st.Nodes {
		wantRole := "controller"
		if n.ID > 3 {
			wantRole = "broker"
		}
		if strings.Join(n.Roles, ",") != wantRole || n.State != "running" {
			t.Errorf("node %d: roles %v, %s; want %s, running", n.ID, n.Roles, n.State, wantRole)
		}
	}
	if st.Layout != "3 controllers + 2 brokers" || st.QuorumMode != "static" || st.Profile != "production" {
		t.Errorf("status layout %q, quorum %q, profile %q", st.Layout, st.QuorumMode, st.Profile)
	}
	// A controller-only node serves no clients.
	if r := l.kraftlab("render"); r.code != 0 || strings.Contains(strings.Split(strings.Split(r.stdout, "### node 1")[1], "### node 2")[0], "PLAINTEXT://") {
		t.Errorf("render of an isolated layout: node 1 has a client listener or render failed: %s", r)
	}

	l.must("topic", "create", "iso")
	if rf := replicationOf(t, l.bootstrap(2), "iso"); rf != 2 {
		t.Errorf("topic created with replication %d, want 2 (the broker count)", rf)
	}
	if r := l.must("smoke"); !strings.Contains(r.stdout, "0 lost") {
		t.Errorf("smoke: %s", r)
	}

	// A static quorum cannot change its voters: controller add explains why not.
	if r := l.kraftlab("controller", "add"); r.code == 0 || !strings.Contains(r.stderr, "static") || !strings.Contains(r.stderr, "--quorum dynamic") {
		t.Errorf("controller add on a static lab: %s", r)
	}

	// Node faults work on controller-only nodes: the quorum leader goes and comes back.
	l.must("node", "restart", "controller")
	if st := l.topoStatus(t); st.Quorum == nil || len(st.Quorum.Voters) != 3 {
		t.Errorf("after restarting the leader: %+v", st.Quorum)
	}

	l.must("down")
	if pids := l.javaPIDs(); len(pids) != 0 {
		t.Fatalf("processes remain after down: %v", pids)
	}
}

// replicationOf is the replica count of partition 0 of topic, once the broker
// asked knows the new topic (metadata reaches each broker a moment after creation).
func replicationOf(t *testing.T, brokers []string, topic string) int {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		md, err := adm.Metadata(ctx, topic)
		cancel()
		if err == nil && md.Topics[topic].Err == nil {
			if p, ok := md.Topics[topic].Partitions[0]; ok && len(p.Replicas) > 0 {
				return len(p.Replicas)
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("metadata of %s: %v, %+v", topic, err, md.Topics[topic])
		}
		time.Sleep(200 * time.Millisecond)
	}
}

type controllerJSON struct {
	Action    string  `json:"action"`
	Node      int     `json:"node"`
	Voters    []int32 `json:"voters"`
	Leader    int32   `json:"leader"`
	Restarted []int   `json:"restarted"`
}

// Dynamic quorum (KIP-853): 1 controller → add 2 → 3 voters → remove the first →
// 2 voters; the broker, which only knew the first controller, is restarted with
// the new bootstrap servers before it goes, and smoke passes on the changed lab.
func TestDynamicQuorum(t *testing.T) {
	l := newLab(t, 3)
	l.must("up", "--controllers", "1", "--brokers", "1", "--quorum", "dynamic", "--heap", "384M",
		"--broker-port", itoa(l.brokerBase), "--controller-port", itoa(l.controllerBase))
	if props := readFile(t, l.dir(), "node2", "server.properties"); !strings.Contains(props, "controller.quorum.bootstrap.servers") || strings.Contains(props, "controller.quorum.voters") {
		t.Errorf("a dynamic lab's broker properties:\n%s", props)
	}

	for i, wantID := range []int{3, 4} {
		start := time.Now()
		var res controllerJSON
		decodeJSON(t, l.must("controller", "add", "-o", "json").stdout, &res)
		t.Logf("controller add (node %d) in %s", res.Node, time.Since(start).Round(100*time.Millisecond))
		if res.Node != wantID || len(res.Voters) != i+2 || !slices.Contains(res.Voters, int32(wantID)) {
			t.Fatalf("controller add %d: %+v", i+1, res)
		}
	}
	st := l.topoStatus(t)
	if got := replicaIDs(st.Quorum.Voters); !slices.Equal(got, []int32{1, 3, 4}) {
		t.Fatalf("voters after two adds: %v, want [1 3 4]", got)
	}
	if st.Layout != "3 controllers + 1 broker" || st.QuorumMode != "dynamic" || st.Profile != "lab" {
		t.Errorf("status layout %q, quorum %q, profile %q (want the default lab)", st.Layout, st.QuorumMode, st.Profile)
	}

	start := time.Now()
	var res controllerJSON
	decodeJSON(t, l.must("controller", "remove", "1", "-o", "json").stdout, &res)
	t.Logf("controller remove 1 in %s (restarted %v)", time.Since(start).Round(100*time.Millisecond), res.Restarted)
	if !slices.Equal(res.Voters, []int32{3, 4}) || !slices.Equal(res.Restarted, []int{2}) {
		t.Errorf("controller remove 1: %+v, want voters [3 4] and broker 2 restarted", res)
	}
	st = l.topoStatus(t)
	if got := replicaIDs(st.Quorum.Voters); !slices.Equal(got, []int32{3, 4}) {
		t.Errorf("voters after remove: %v, want [3 4]", got)
	}
	for _, n := range st.Nodes {
		if n.ID == 1 {
			t.Errorf("node 1 still in the lab: %+v", n)
		}
	}
	if r := l.must("smoke"); !strings.Contains(r.stdout, "0 lost") {
		t.Errorf("smoke: %s", r)
	}
	// The lab survives a leader change without node 1: the broker knows 3 and 4 now.
	l.must("node", "restart", "controller")
	if r := l.must("smoke"); !strings.Contains(r.stdout, "0 lost") {
		t.Errorf("smoke after the leader restarted: %s", r)
	}

	for _, bad := range []struct{ id, want string }{
		{"2", "is a broker"}, {"9", "no such node"},
	} {
		if r := l.kraftlab("controller", "remove", bad.id); r.code == 0 || !strings.Contains(r.stderr, bad.want) {
			t.Errorf("controller remove %s: %s", bad.id, r)
		}
	}
	l.must("down")
	if pids := l.javaPIDs(); len(pids) != 0 {
		t.Fatalf("processes remain after down: %v", pids)
	}
}

func readFile(t *testing.T, parts ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Scaling brokers on a running combined lab: broker add registers a new broker-only
// node; broker remove refuses while it hosts replicas, --force removes and
// unregisters it.
func TestScaleBrokers(t *testing.T) {
	l := newLab(t, 3)
	l.up(1)
	var add struct {
		Node      int      `json:"node"`
		Bootstrap []string `json:"bootstrap_servers"`
	}
	decodeJSON(t, l.must("broker", "add", "-o", "json").stdout, &add)
	if add.Node != 2 || !slices.Equal(add.Bootstrap, l.bootstrap(2)) {
		t.Fatalf("broker add: %+v, want node 2 on the next broker port", add)
	}
	if got := registeredBrokers(t, l.bootstrap(1)); !slices.Equal(got, []int32{1, 2}) {
		t.Errorf("registered brokers %v, want [1 2]", got)
	}
	l.must("topic", "create", "both", "-r", "2")

	if r := l.kraftlab("broker", "remove", "2"); r.code == 0 || !strings.Contains(r.stderr, "hosts replicas") || !strings.Contains(r.stderr, "both/") {
		t.Errorf("broker remove of a broker with replicas: %s", r)
	}
	if r := l.kraftlab("broker", "remove", "1"); r.code == 0 || !strings.Contains(r.stderr, "combined") {
		t.Errorf("broker remove of a combined node: %s", r)
	}
	l.must("broker", "remove", "2", "--force")
	if got := registeredBrokers(t, l.bootstrap(1)); !slices.Equal(got, []int32{1}) {
		t.Errorf("registered brokers after remove %v, want [1]", got)
	}
	if st := l.topoStatus(t); len(st.Nodes) != 1 {
		t.Errorf("lab nodes after remove: %+v", st.Nodes)
	}
}

func registeredBrokers(t *testing.T, brokers []string) []int32 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bs, err := kadm.NewClient(cl).ListBrokers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := bs.NodeIDs()
	slices.Sort(ids)
	return ids
}
