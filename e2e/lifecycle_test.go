package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type upJSON struct {
	Name           string   `json:"name"`
	ClusterID      string   `json:"cluster_id"`
	KafkaVersion   string   `json:"kafka_version"`
	Bootstrap      []string `json:"bootstrap_servers"`
	Created        bool     `json:"created"`
	AlreadyRunning bool     `json:"already_running"`
	Topics         []string `json:"topics_created"`
}

type statusJSON struct {
	ClusterID string `json:"cluster_id"`
	Nodes     []struct {
		ID         int    `json:"id"`
		State      string `json:"state"`
		QuorumRole string `json:"quorum_role"`
	} `json:"nodes"`
	Quorum *struct {
		LeaderID int32 `json:"leader_id"`
		Voters   []struct {
			ID int32 `json:"id"`
		} `json:"voters"`
	} `json:"quorum"`
}

// The lifecycle on one 3-node lab made from examples/labs/combined-3.yaml (its
// ports, name and heap overridden by flags): up, status, a record written, down
// (no process left), up again (same cluster id, record still there), the spec
// round trip (spec, purge, up -f of it: the same render), down --purge.
func TestLifecycleThreeNodes(t *testing.T) {
	l := newLab(t, 3)

	var up upJSON
	decodeJSON(t, l.must("up", "-f", "../examples/labs/combined-3.yaml", "--heap", "384M",
		"--broker-port", itoa(l.brokerBase), "--controller-port", itoa(l.controllerBase), "-o", "json").stdout, &up)
	if !slices.Equal(up.Topics, []string{"kraft-test"}) {
		t.Errorf("up created topics %v, want the spec's kraft-test", up.Topics)
	}
	if !up.Created || len(up.ClusterID) != 22 || strings.Join(up.Bootstrap, ",") != strings.Join(l.bootstrap(3), ",") {
		t.Fatalf("unexpected up result: %+v", up)
	}

	checkLoopbackOnly(t, l, 3)
	st := l.status(t)
	if st.Quorum == nil || len(st.Quorum.Voters) != 3 {
		t.Fatalf("want 3 voters, got %+v", st.Quorum)
	}
	leaders := 0
	for _, n := range st.Nodes {
		if n.State != "running" {
			t.Errorf("node %d is %s", n.ID, n.State)
		}
		if n.QuorumRole == "leader" {
			leaders++
		}
	}
	if leaders != 1 {
		t.Errorf("want exactly one quorum leader, got %d: %+v", leaders, st.Nodes)
	}

	// A record written with our own client, acked by all replicas.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(l.bootstrap(3)...), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("lifecycle"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, kgo.StringRecord("survives-restart")).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	cl.Close()

	checkDataPath(t, l)
	checkFaults(t, l)

	if r := l.must("up", "-o", "json"); !strings.Contains(r.stdout, `"already_running": true`) {
		t.Errorf("up on a running lab: %s", r)
	}

	l.must("down")
	if pids := l.javaPIDs(); len(pids) != 0 {
		t.Fatalf("java processes of the lab remain after down: %v", pids)
	}
	if r := l.kraftlab("status", "--check"); r.code == 0 {
		t.Errorf("status --check passed on a stopped lab: %s", r)
	}
	if r := l.must("down"); !strings.Contains(r.stdout, "not running") {
		t.Errorf("second down: %s", r)
	}
	for _, args := range [][]string{{"topic", "list"}, {"smoke"}, {"node", "kill", "controller"}} {
		if r := l.kraftlab(args...); r.code == 0 || !strings.Contains(r.stderr, "kraftlab up") {
			t.Errorf("%v on a stopped lab: %s", args, r)
		}
	}

	var again upJSON
	decodeJSON(t, l.must("up", "-o", "json").stdout, &again)
	if again.ClusterID != up.ClusterID || again.Created {
		t.Fatalf("restart changed the cluster: before %+v, after %+v", up, again)
	}
	if got := readAll(t, l.bootstrap(3), "lifecycle"); len(got) != 1 || got[0] != "survives-restart" {
		t.Fatalf("after restart the topic holds %q, want the one record", got)
	}
	// Leadership is back on each partition's preferred replica, not on whichever
	// node came back first.
	var topic struct {
		Partitions []struct {
			Partition int     `json:"partition"`
			Leader    int32   `json:"leader"`
			Replicas  []int32 `json:"replicas"`
		} `json:"partitions"`
	}
	decodeJSON(t, l.must("topic", "describe", "kraft-test", "-o", "json").stdout, &topic)
	for _, p := range topic.Partitions {
		if len(p.Replicas) == 0 || p.Leader != p.Replicas[0] {
			t.Errorf("after restart kraft-test/%d is led by %d, not its preferred replica %v", p.Partition, p.Leader, p.Replicas)
		}
	}

	if r := l.kraftlab("up", "--nodes", "1"); r.code == 0 || !strings.Contains(r.stderr, "down --purge") {
		t.Errorf("up --nodes 1 on a 3-node lab: %s", r)
	}

	// The spec round-trips: up -f of what 'spec' prints makes a lab that renders
	// the same.
	specFile := filepath.Join(t.TempDir(), "lab.yaml")
	if err := os.WriteFile(specFile, []byte(l.must("spec").stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	rendered := l.must("render").stdout

	// A node dir deleted by hand: up refuses (no silent reformat) and says how to recover.
	l.must("down")
	if err := os.RemoveAll(filepath.Join(l.dir(), "node2", "data")); err != nil {
		t.Fatal(err)
	}
	if r := l.kraftlab("up"); r.code == 0 || !strings.Contains(r.stderr, "node 2") || !strings.Contains(r.stderr, "meta.properties") {
		t.Errorf("up with node 2's data deleted: %s", r)
	}
	if pids := l.javaPIDs(); len(pids) != 0 {
		t.Errorf("a refused up started processes: %v", pids)
	}

	l.must("down", "--purge")
	if _, err := os.Stat(l.dir()); !os.IsNotExist(err) {
		t.Errorf("lab dir still there after --purge: %v", err)
	}
	if pids := l.javaPIDs(); len(pids) != 0 {
		t.Errorf("java processes remain after down --purge: %v", pids)
	}

	l.must("up", "-f", specFile)
	if again := l.must("render").stdout; again != rendered {
		t.Errorf("up -f of the lab's spec renders another lab:\n--- before\n%s\n--- after\n%s", rendered, again)
	}
	l.must("down", "--purge")
}

func TestSingleNode(t *testing.T) {
	l := newLab(t, 1)
	l.up(1)
	// install built the runtime's class-data archive, and the node maps it.
	for _, pid := range l.javaPIDs() {
		cmd, _ := os.ReadFile(filepath.Join("/proc", itoa(pid), "cmdline"))
		if !strings.Contains(string(cmd), "-XX:SharedArchiveFile=") {
			t.Errorf("node process %d runs without the class-data archive: %q", pid, cmd)
		}
	}
	st := l.status(t)
	if st.Quorum == nil || len(st.Quorum.Voters) != 1 || st.Quorum.LeaderID != 1 {
		t.Fatalf("want node 1 as the only voter and leader, got %+v", st.Quorum)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(l.bootstrap(1)...), kgo.AllowAutoTopicCreation(), kgo.DefaultProduceTopic("one"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, kgo.StringRecord("x")).FirstErr(); err != nil {
		t.Fatalf("produce on a 1-node lab (internal topics sized to 1 broker): %v", err)
	}
	l.must("down", "--purge")
}

// A port taken by another program fails up before anything starts, naming the port,
// the node and the flag, and leaves no lab behind.
func TestPortTaken(t *testing.T) {
	l := newLab(t, 3)
	ln := listenOn(t, l.controllerBase+1)
	defer ln.Close()
	r := l.kraftlab("up", "--nodes", "3", "--broker-port", itoa(l.brokerBase), "--controller-port", itoa(l.controllerBase))
	if r.code == 0 {
		t.Fatalf("up succeeded with a taken port: %s", r)
	}
	for _, want := range []string{"port " + itoa(l.controllerBase+1), "node 2 controller listener", "--controller-port"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("error does not mention %q: %s", want, r.stderr)
		}
	}
	if _, err := os.Stat(l.dir()); !os.IsNotExist(err) {
		t.Errorf("a failed up left %s behind", l.dir())
	}
	if pids := l.javaPIDs(); len(pids) != 0 {
		t.Errorf("java processes started: %v", pids)
	}
}

func (l *lab) status(t *testing.T) statusJSON {
	t.Helper()
	var st statusJSON
	decodeJSON(t, l.must("status", "--check", "-o", "json").stdout, &st)
	return st
}

// readAll consumes a topic from the start until it has been idle for a while.
func readAll(t *testing.T, brokers []string, topic string, opts ...kgo.Opt) []string {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		if ctx.Err() != nil && fs.NumRecords() == 0 {
			return got
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
}
