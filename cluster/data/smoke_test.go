package data

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kadm"
)

func TestSmokePasses(t *testing.T) {
	brokers, cl := fakeCluster(t, 3)
	ctx := testContext(t)
	var progress bytes.Buffer
	o := SmokeOptions{Records: 500, RecordSize: 100, ExpectBrokers: 3, Progress: &progress}

	first, err := Smoke(ctx, brokers, o)
	if err != nil {
		t.Fatalf("Smoke: %v", err)
	}
	v := first.Verification
	if !first.Passed || !first.TopicCreated || first.Topic != DefaultSmokeTopic || first.Brokers != 3 || first.Partitions != 3 || first.ReplicationFactor != 3 {
		t.Errorf("report = %+v, want a passed run that created %s with 3 partitions, replication 3, on 3 brokers", first, DefaultSmokeTopic)
	}
	if v.Acked != 500 || v.Read != 500 || v.Lost+v.Duplicated+v.Reordered+v.Corrupted+v.Skipped != 0 {
		t.Errorf("verification = %+v, want 500 acknowledged and read back, nothing else", v)
	}
	if first.RecordsPerSec <= 0 || first.MBPerSec <= 0 || first.LatencyP50Ms <= 0 || first.LatencyP50Ms > first.LatencyP99Ms || first.LatencyP99Ms > first.LatencyMaxMs {
		t.Errorf("figures = %.0f rec/s, %.2f MB/s, p50 %.2f p99 %.2f max %.2f ms; want positive and ordered",
			first.RecordsPerSec, first.MBPerSec, first.LatencyP50Ms, first.LatencyP99Ms, first.LatencyMaxMs)
	}
	for _, step := range []string{"✓ Preparing topic kraft-test", "✓ Producing 500 records of 100 bytes", "✓ Reading them back"} {
		if !strings.Contains(progress.String(), step) {
			t.Errorf("progress %q lacks %q", progress.String(), step)
		}
	}
	desc, err := DescribeTopic(ctx, cl, DefaultSmokeTopic)
	if err != nil {
		t.Fatal(err)
	}
	if desc.Configs["min.insync.replicas"] != "2" {
		t.Errorf("smoke topic configs = %v, want min.insync.replicas=2", desc.Configs)
	}
	groups, err := kadm.NewClient(cl).ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 0 {
		t.Errorf("groups left behind: %v", groups.Groups())
	}

	// A second run reuses the topic and tells the first run's records, and another
	// producer's, from its own.
	if _, err := Produce(ctx, brokers, ProduceOptions{Topic: DefaultSmokeTopic, Input: strings.NewReader(`[{"id":1},{"id":2}]`)}); err != nil {
		t.Fatal(err)
	}
	second, err := Smoke(ctx, brokers, o)
	if err != nil {
		t.Fatalf("second Smoke: %v", err)
	}
	if second.TopicCreated || second.Run == first.Run || second.Verification.Read != 500 || second.Verification.Skipped != 502 {
		t.Errorf("second report = %+v, want the existing topic, a new run, 500 read and 502 skipped", second)
	}
}

func TestSmokeSingleBroker(t *testing.T) {
	brokers, cl := fakeCluster(t, 1)
	rep, err := Smoke(testContext(t), brokers, SmokeOptions{Topic: "solo", Records: 50, Partitions: 1})
	if err != nil {
		t.Fatalf("Smoke: %v", err)
	}
	if rep.ReplicationFactor != 1 || rep.Partitions != 1 || rep.Verification.Read != 50 {
		t.Errorf("report = %+v, want replication 1, 1 partition, 50 read", rep)
	}
	desc, err := DescribeTopic(testContext(t), cl, "solo")
	if err != nil {
		t.Fatal(err)
	}
	if desc.Configs["min.insync.replicas"] != "1" {
		t.Errorf("configs = %v, want min.insync.replicas=1 with one replica", desc.Configs)
	}
}

func TestSmokeFails(t *testing.T) {
	tests := []struct {
		name        string
		opts        SmokeOptions
		wantErr     string
		wantInvalid bool
	}{
		{
			name:    "fewer brokers than the lab has",
			opts:    SmokeOptions{Records: 10, ExpectBrokers: 4},
			wantErr: "cluster metadata lists 3 of 4 brokers",
		},
		{
			name:    "replication above the broker count",
			opts:    SmokeOptions{Records: 10, ReplicationFactor: 4},
			wantErr: "replication factor 4 is more than the 3 broker(s)",
		},
		{
			name:        "record size below the header",
			opts:        SmokeOptions{RecordSize: 10, Records: -1},
			wantErr:     "2 problems",
			wantInvalid: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers, _ := fakeCluster(t, 3)
			// The health wait would otherwise run its full course.
			ctx, cancel := context.WithTimeout(testContext(t), time.Second)
			defer cancel()
			rep, err := Smoke(ctx, brokers, tt.opts)
			if err == nil || rep.Passed {
				t.Fatalf("Smoke = %+v, want an error", rep)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			var ve *usage.Error
			if errors.As(err, &ve) != tt.wantInvalid {
				t.Errorf("error %v: validation error = %v, want %v", err, !tt.wantInvalid, tt.wantInvalid)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{name: "p50 of 100", sorted: d, p: 50, want: 50},
		{name: "p99 of 100", sorted: d, p: 99, want: 99},
		{name: "p100 is the max", sorted: d, p: 100, want: 100},
		{name: "one sample", sorted: d[:1], p: 99, want: 1},
		{name: "p50 of 3", sorted: d[:3], p: 50, want: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Fatalf("Percentile(n=%d, %d) = %d, want %d", len(tt.sorted), tt.p, got, tt.want)
			}
		})
	}
}
