package e2e

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// checkDataPath runs the tutorial scenario of issue 3 on a running 3-node lab:
// create kraft-test (3 partitions, replication 3, every replica in sync), produce
// the example JSON file, read it back byte for byte, a 20,000-record smoke check,
// and the admin errors a user can act on.
func checkDataPath(t *testing.T, l *lab) {
	l.must("topic", "create", "kraft-test", "--partitions", "3", "--replication-factor", "3", "--if-not-exists")

	var topic struct {
		ReplicationFactor int `json:"replication_factor"`
		Partitions        []struct {
			Leader   int32   `json:"leader"`
			Replicas []int32 `json:"replicas"`
			ISR      []int32 `json:"isr"`
		} `json:"partitions"`
	}
	decodeJSON(t, l.must("topic", "describe", "kraft-test", "-o", "json").stdout, &topic)
	if len(topic.Partitions) != 3 {
		t.Fatalf("kraft-test has %d partitions, want 3", len(topic.Partitions))
	}
	for i, p := range topic.Partitions {
		if len(p.Replicas) != 3 || len(p.ISR) != 3 || p.Leader < 1 {
			t.Errorf("partition %d: leader %d, replicas %v, isr %v; want 3 replicas all in sync", i, p.Leader, p.Replicas, p.ISR)
		}
	}

	l.must("produce", "kraft-test", "--file", "../examples/app.json", "--key-field", "id")
	got := strings.Split(strings.TrimSpace(l.must("consume", "kraft-test", "--from-beginning", "-n", "10", "--timeout", "30s").stdout), "\n")
	want := compactElements(t, "../examples/app.json")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("consumed records differ from examples/app.json:\n got %q\nwant %q", got, want)
	}

	var smoke struct {
		Passed       bool    `json:"passed"`
		RecordsPerS  float64 `json:"records_per_sec"`
		P99          float64 `json:"latency_p99_ms"`
		Verification struct {
			Acked, Read, Lost, Duplicated, Reordered, Corrupted int
		} `json:"verification"`
	}
	decodeJSON(t, l.must("smoke", "--records", "20000", "-o", "json").stdout, &smoke)
	v := smoke.Verification
	if !smoke.Passed || v.Acked != 20000 || v.Lost+v.Duplicated+v.Reordered+v.Corrupted != 0 {
		t.Errorf("smoke: %+v", smoke)
	}
	t.Logf("smoke on a 3-node lab: %.0f records/s, p99 %.0f ms", smoke.RecordsPerS, smoke.P99)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"topic", "create", "too-many", "-r", "4"}, "more than the 3 broker(s)"},
		{[]string{"topic", "create", "bad/name"}, `"bad/name"`},
		{[]string{"topic", "create", ".."}, `".."`},
		{[]string{"topic", "create", "kraft-test"}, "already exists"},
		{[]string{"topic", "describe", "missing"}, "does not exist"},
		{[]string{"topic", "delete", "missing"}, "does not exist"},
	} {
		r := l.kraftlab(tc.args...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("kraftlab %s: want an error containing %q, got %s", strings.Join(tc.args, " "), tc.want, r)
		}
	}
	l.must("topic", "create", "kraft-test", "--if-not-exists")
}

// compactElements returns each element of the JSON array in file as compact JSON.
func compactElements(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range elems {
		var c bytes.Buffer
		if err := json.Compact(&c, e); err != nil {
			t.Fatal(err)
		}
		out = append(out, c.String())
	}
	return out
}
