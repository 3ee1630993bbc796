package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// -o json carries every byte: text as strings, anything else as base64 in a field
// that says so.
func TestConsumeJSONIsLossless(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "bin"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	binary := []byte{0xff, 0x00, 0xfe, 'a'}
	records := []*kgo.Record{
		{Topic: "bin", Key: []byte("k<1>"), Value: []byte("héllo \"x\"")},
		{Topic: "bin", Key: binary, Value: binary, Headers: []kgo.RecordHeader{{Key: "h", Value: binary}, {Key: "t", Value: []byte("text")}}},
		{Topic: "bin", Value: nil},
		{Topic: "bin", Key: []byte{}, Value: []byte{}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	out, stderr, err := runData(t, c.ListenAddrs()[0], "", "consume", "bin", "--from-beginning", "-e", "-o", "json")
	if err != nil {
		t.Fatalf("consume: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(records) {
		t.Fatalf("got %d lines, want %d:\n%s", len(lines), len(records), out)
	}
	want := []string{
		`"key":"k\u003c1\u003e","value":"héllo \"x\""`,
		`"key_base64":"/wD+YQ==","value_base64":"/wD+YQ==","headers":[{"key":"h","value_base64":"/wD+YQ=="},{"key":"t","value":"text"}]`,
		`"key":null,"value":null`,
		`"key":"","value":""`,
	}
	for i, line := range lines {
		if !strings.Contains(line, want[i]) {
			t.Errorf("record %d: %s\nlacks %s", i, line, want[i])
		}
		var rec struct {
			Key         *string `json:"key"`
			KeyBase64   []byte  `json:"key_base64"`
			Value       *string `json:"value"`
			ValueBase64 []byte  `json:"value_base64"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("record %d is not JSON: %v", i, err)
		}
		value := rec.ValueBase64
		if rec.Value != nil {
			value = []byte(*rec.Value)
		}
		if string(value) != string(records[i].Value) || (records[i].Value == nil) != (value == nil) {
			t.Errorf("record %d: value decodes to %q, was %q", i, value, records[i].Value)
		}
	}
}

func TestConsumeSaysWhereItStarts(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := runData(t, c.ListenAddrs()[0], "a\nb\n", "produce", "t"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantStderr string // empty: no notice at all
		wantOut    string
	}{
		{name: "new consumer waits at the end", args: []string{"--timeout", "300ms"}, wantStderr: "Waiting for new records on t (a consumer without committed offsets starts at the end; --from-beginning reads the existing ones"},
		{name: "new group waits at the end", args: []string{"--group", "fresh", "--timeout", "300ms"}, wantStderr: "Waiting for new records on t"},
		{name: "exit at end from the end has nothing to read", args: []string{"-e"}, wantStderr: "Nothing to read: a consumer without committed offsets starts at the end of t; --from-beginning reads the existing records"},
		{name: "from the beginning says nothing", args: []string{"--from-beginning", "--exit-at-end"}, wantOut: "a\nb\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, stderr, err := runData(t, c.ListenAddrs()[0], "", append([]string{"consume", "t"}, tt.args...)...)
			if err != nil {
				t.Fatalf("consume: %v", err)
			}
			notice := strings.Count(stderr, "Waiting for new records") + strings.Count(stderr, "Nothing to read")
			if tt.wantStderr == "" && notice != 0 || tt.wantStderr != "" && (notice != 1 || !strings.Contains(stderr, tt.wantStderr)) {
				t.Errorf("stderr = %q, want the notice %q once", stderr, tt.wantStderr)
			}
			if out != tt.wantOut {
				t.Errorf("stdout = %q, want %q", out, tt.wantOut)
			}
		})
	}
}
