package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

// runData runs kraftlab with args against brokers and returns stdout, stderr and
// the error main would print.
func runData(t *testing.T, brokers string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCommand(&globals{})
	root.SetArgs(append(args, "--brokers", brokers))
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func TestDataCommands(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(1, "seeded"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := strings.Join(c.ListenAddrs(), ",")

	// Steps run in order: later ones read what earlier ones wrote.
	tests := []struct {
		name      string
		args      []string
		stdin     string
		wantOut   []string // substrings of stdout
		wantErr   string   // substring; empty means success
		wantUsage bool     // exit code 2
	}{
		{name: "create", args: []string{"topic", "create", "kraft-test"}, wantOut: []string{"Created topic kraft-test: 3 partitions, replication factor 3"}},
		{name: "create again", args: []string{"topic", "create", "kraft-test"}, wantErr: "topic already exists"},
		{name: "create if not exists as json", args: []string{"topic", "create", "kraft-test", "--if-not-exists", "-o", "json"}, wantOut: []string{`"created": false`}},
		{name: "bad topic name is a usage error", args: []string{"topic", "create", "a b"}, wantErr: "contains ' '", wantUsage: true},
		{name: "zero partitions is a usage error", args: []string{"topic", "create", "x", "-p", "0"}, wantErr: "--partitions 0", wantUsage: true},
		{name: "config without value is a usage error", args: []string{"topic", "create", "x", "-c", "retention.ms"}, wantErr: "want key=value", wantUsage: true},
		{name: "missing name is a usage error", args: []string{"topic", "describe"}, wantErr: "accepts 1 arg", wantUsage: true},
		{name: "describe", args: []string{"topic", "describe", "kraft-test"}, wantOut: []string{"3 partitions, replication factor 3", "PARTITION  LEADER  REPLICAS  ISR"}},
		{name: "list", args: []string{"topic", "list"}, wantOut: []string{"kraft-test  3", "seeded      1"}},
		{name: "produce JSON array", args: []string{"produce", "kraft-test", "--key-field", "id", "-H", "src=test"}, stdin: `[{"id":"a"},{"id":"b"},{"id":"c"}]`, wantOut: []string{"Produced 3 records to kraft-test"}},
		{name: "produce a pretty-printed object", args: []string{"produce", "seeded"}, stdin: "{\n  \"id\": \"p\"\n}\n", wantOut: []string{"Produced 1 records to seeded"}},
		{name: "produce malformed JSON names stdin, line and column", args: []string{"produce", "seeded"}, stdin: "{\"id\": \"a\"}\n{\"id\" \"b\"}\n", wantErr: "read stdin: line 2, column 7: invalid character"},
		{name: "produce to a missing topic", args: []string{"produce", "nope"}, stdin: "x\n", wantErr: `produce to "nope": topic does not exist`},
		{name: "key and key field is a usage error", args: []string{"produce", "kraft-test", "-k", "k", "--key-field", "id"}, stdin: "x\n", wantErr: "exclusive", wantUsage: true},
		{name: "consume", args: []string{"consume", "kraft-test", "--from-beginning", "-n", "3"}, wantOut: []string{`{"id":"a"}`, `{"id":"b"}`, `{"id":"c"}`}},
		{name: "consume as json", args: []string{"consume", "kraft-test", "--from-beginning", "-n", "1", "-o", "json"}, wantOut: []string{`"headers":[{"key":"src","value":"test"}]`}},
		{name: "beginning and offset is a usage error", args: []string{"consume", "kraft-test", "--from-beginning", "--offset", "1"}, wantErr: "not both", wantUsage: true},
		{name: "smoke", args: []string{"smoke", "--records", "200", "--topic", "smoke-test"}, wantOut: []string{"Smoke test on smoke-test PASSED", "0 lost, 0 duplicated, 0 reordered, 0 corrupted"}},
		{name: "smoke with too small records is a usage error", args: []string{"smoke", "--record-size", "8"}, wantErr: "--record-size 8: want 44 to 1000000", wantUsage: true},
		{name: "smoke with the smallest records", args: []string{"smoke", "--records", "20", "--record-size", "44", "--topic", "smoke-small"}, wantOut: []string{"Smoke test on smoke-small PASSED", "20 of 20 records of 44 bytes"}},
		{name: "delete", args: []string{"topic", "delete", "kraft-test"}, wantOut: []string{"Deleted topic kraft-test"}},
		{name: "delete a missing topic", args: []string{"topic", "delete", "kraft-test"}, wantErr: `delete topic "kraft-test": topic does not exist`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := runData(t, brokers, tt.stdin, tt.args...)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("kraftlab %s: %v", strings.Join(tt.args, " "), err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("kraftlab %s: error %v, want one containing %q", strings.Join(tt.args, " "), err, tt.wantErr)
			}
			if (err != nil && exitCode(err) == exitUsage) != tt.wantUsage {
				t.Errorf("kraftlab %s: usage error = %v, want %v", strings.Join(tt.args, " "), !tt.wantUsage, tt.wantUsage)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("kraftlab %s: stdout %q lacks %q", strings.Join(tt.args, " "), out, w)
				}
			}
		})
	}
}

func TestSmokeJSONIsTheReport(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out, stderr, err := runData(t, c.ListenAddrs()[0], "", "smoke", "--records", "50", "-o", "json")
	if err != nil {
		t.Fatalf("smoke: %v", err)
	}
	var rep struct {
		Passed       bool `json:"passed"`
		Verification struct {
			Acked int `json:"acked"`
			Read  int `json:"read"`
		} `json:"verification"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not one JSON document: %v\n%s", err, out)
	}
	if !rep.Passed || rep.Verification.Acked != 50 || rep.Verification.Read != 50 {
		t.Errorf("report = %+v, want passed with 50 acknowledged and read", rep)
	}
	if !strings.Contains(stderr, "✓ Producing 50 records") {
		t.Errorf("progress %q did not go to stderr", stderr)
	}
}
