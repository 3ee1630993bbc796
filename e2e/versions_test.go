package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// The 3.9 line end to end: a runtime with log4j 1 (reload4j) logging, up, topic,
// smoke, versions, ls, down.
func TestKafka39(t *testing.T) {
	const version = "3.9.1"
	l := newLab(t, 3)
	start := time.Now()
	var up upJSON
	decodeJSON(t, l.up(3, "--kafka-version", version, "-o", "json").stdout, &up)
	t.Logf("Kafka %s, 3 nodes up in %s", version, time.Since(start).Round(100*time.Millisecond))
	if up.KafkaVersion != version {
		t.Fatalf("lab runs Kafka %s, want %s", up.KafkaVersion, version)
	}

	// The broker logs through the log4j 1 config the lab wrote.
	if _, err := os.Stat(filepath.Join(l.dir(), "log4j.properties")); err != nil {
		t.Errorf("no log4j.properties for a 3.x lab: %v", err)
	}
	log, err := os.ReadFile(filepath.Join(l.dir(), "node1", "logs", "server.log"))
	if err != nil || !strings.Contains(string(log), "Kafka version: "+version) {
		t.Errorf("node 1's server.log does not show Kafka %s starting (%v)", version, err)
	}

	st := l.status(t)
	if st.Quorum == nil || len(st.Quorum.Voters) != 3 {
		t.Fatalf("want 3 voters, got %+v", st.Quorum)
	}
	l.must("topic", "create", "old")
	if rf := replicationOf(t, l.bootstrap(3), "old"); rf != 3 {
		t.Errorf("replication %d, want 3", rf)
	}
	if r := l.must("smoke"); !strings.Contains(r.stdout, "0 lost") {
		t.Errorf("smoke: %s", r)
	}

	var versions []struct {
		Version string   `json:"version"`
		Labs    []string `json:"labs"`
	}
	decodeJSON(t, l.must("versions", "-o", "json").stdout, &versions)
	i := slices.IndexFunc(versions, func(v struct {
		Version string   `json:"version"`
		Labs    []string `json:"labs"`
	}) bool {
		return v.Version == version
	})
	if i < 0 || !slices.Contains(versions[i].Labs, l.name) {
		t.Errorf("versions does not list %s used by lab %s: %+v", version, l.name, versions)
	}
	if got := l.ls(t)[l.name]; got.KafkaVersion != version || got.State != "running" {
		t.Errorf("ls: %+v", got)
	}

	l.must("down")
	if pids := l.javaPIDs(); len(pids) != 0 {
		t.Fatalf("processes remain after down: %v", pids)
	}
}

// A rolling upgrade 3.9.1 → the default 4.x while a producer writes throughout:
// every acknowledged record is still there afterwards, smoke passes before and
// after, and --finalize raises metadata.version. The lab is secured (SASL/SCRAM over
// TLS, ACLs), the way production clusters run: the upgrade, the producer (a
// program of the test's own, configured from client-config) and what follows on
// the secured lab (TestSecuredSCRAM's checks) must all work through it.
func TestRollingUpgrade(t *testing.T) {
	l := newLab(t, 3)
	l.up(3, "--kafka-version", "3.9.1", "--security", "sasl-scram", "--acls")
	l.must("topic", "create", "rolling", "-c", "min.insync.replicas=2")
	l.must("smoke")
	admin := l.clientOpts(t, "admin")

	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(l.bootstrap(3)...), kgo.DefaultProduceTopic("rolling"),
		kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0)}, admin...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var (
		mu       sync.Mutex
		acked    = make(map[string]bool)
		failed   int
		lastAck  = time.Now()
		maxGap   time.Duration
		stop     = make(chan struct{})
		finished = make(chan struct{})
	)
	go func() {
		defer close(finished)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			v := strconv.Itoa(i)
			cl.Produce(context.Background(), kgo.StringRecord(v), func(_ *kgo.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed++
					return
				}
				acked[v] = true
				maxGap = max(maxGap, time.Since(lastAck))
				lastAck = time.Now()
			})
		}
	}()

	start := time.Now()
	var res struct {
		From  string `json:"from"`
		To    string `json:"to"`
		Nodes []struct {
			Step    string  `json:"step"`
			Seconds float64 `json:"seconds"`
		} `json:"nodes"`
	}
	decodeJSON(t, l.must("upgrade", "--to", defaultVersion(t), "-o", "json").stdout, &res)
	took := time.Since(start)
	time.Sleep(2 * time.Second) // writes on the upgraded lab too
	close(stop)
	<-finished
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := cl.Flush(ctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	mu.Lock()
	t.Logf("upgrade %s → %s in %s (%d nodes); producer: %d acked, %d failed, longest gap between acks %s",
		res.From, res.To, took.Round(100*time.Millisecond), len(res.Nodes), len(acked), failed, maxGap.Round(10*time.Millisecond))
	if res.From != "3.9.1" || len(res.Nodes) != 3 {
		t.Errorf("upgrade result: %+v", res)
	}
	got := readAll(t, l.bootstrap(3), "rolling", admin...)
	seen := make(map[string]bool, len(got))
	for _, v := range got {
		seen[v] = true
	}
	lost := 0
	for v := range acked {
		if !seen[v] {
			lost++
		}
	}
	mu.Unlock()
	if lost > 0 || len(acked) == 0 {
		t.Errorf("%d of %d acknowledged records lost across the upgrade", lost, len(acked))
	}

	if st := l.status(t); len(st.Quorum.Voters) != 3 {
		t.Errorf("after the upgrade: %+v", st.Quorum)
	}
	if got := l.ls(t)[l.name]; got.KafkaVersion != res.To {
		t.Errorf("ls after the upgrade: %+v", got)
	}
	if r := l.must("smoke"); !strings.Contains(r.stdout, "0 lost") {
		t.Errorf("smoke after the upgrade: %s", r)
	}
	if r := l.must("upgrade", "--finalize"); !strings.Contains(r.stdout, "metadata.version finalized") {
		t.Errorf("finalize: %s", r)
	}
	if r := l.must("smoke"); !strings.Contains(r.stdout, "0 lost") {
		t.Errorf("smoke after finalizing: %s", r)
	}
	checkSecuredSCRAM(t, l)
	l.must("down")
}

// defaultVersion is the release kraftlab installs by default (what TestMain installed).
func defaultVersion(t *testing.T) string {
	t.Helper()
	var versions []struct {
		Version string `json:"version"`
		Default bool   `json:"default"`
	}
	decodeJSON(t, kraftlabIn(t, t.TempDir(), "versions", "-o", "json").stdout, &versions)
	for _, v := range versions {
		if v.Default {
			return v.Version
		}
	}
	t.Fatal("the default Kafka version is not installed")
	return ""
}
