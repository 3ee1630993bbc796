package data

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestBenchProduceThenConsume(t *testing.T) {
	brokers, _ := fakeCluster(t, 3, kfake.SeedTopics(6, "bench"))
	ctx := testContext(t)
	rep, err := BenchProduce(ctx, brokers, BenchProduceOptions{Topic: "bench", RecordSize: 100, Records: 3000})
	if err != nil {
		t.Fatalf("BenchProduce: %v", err)
	}
	if rep.Records != 3000 || rep.Bytes != 300_000 || rep.StoppedBy != "records" {
		t.Errorf("report = %d records, %d bytes, stopped by %q; want 3000, 300000, records", rep.Records, rep.Bytes, rep.StoppedBy)
	}
	if rep.Seconds <= 0 || rep.RecordsPerSec <= 0 || rep.MBPerSec <= 0 {
		t.Errorf("report has no throughput: %+v", rep)
	}
	lat := []float64{rep.LatencyP50Ms, rep.LatencyP95Ms, rep.LatencyP99Ms, rep.LatencyMaxMs}
	for i := range lat {
		if lat[i] <= 0 || (i > 0 && lat[i] < lat[i-1]) {
			t.Errorf("latencies p50, p95, p99, max = %v: want positive and rising", lat)
			break
		}
	}
	if want := (BenchProducerSettings{Acks: "all", Idempotent: true, Compression: "none", LingerMs: 5, BatchMaxBytes: DefaultBenchBatchMaxBytes, MaxBufferedBytes: DefaultBenchMaxBufferedBytes}); rep.Settings != want {
		t.Errorf("settings = %+v, want the defaults %+v", rep.Settings, want)
	}

	got, err := BenchConsume(ctx, brokers, "bench")
	if err != nil {
		t.Fatalf("BenchConsume: %v", err)
	}
	if got.Records != 3000 || got.Bytes != 300_000 || got.Partitions != 6 || got.MBPerSec <= 0 {
		t.Errorf("consume report = %+v, want 3000 records, 300000 bytes from 6 partitions", got)
	}
	// The values are random capital letters, as ProducerPerformance sends.
	for _, r := range readAll(t, brokers, "bench", 10) {
		if len(r.Value) != 100 || strings.Trim(string(r.Value), "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
			t.Errorf("value %q: want 100 capital letters", r.Value)
		}
	}
}

func TestBenchProduceBounds(t *testing.T) {
	tests := []struct {
		name        string
		opts        BenchProduceOptions
		wantRecords int64 // 0: any number above 0
		wantBy      string
	}{
		{name: "bytes", opts: BenchProduceOptions{RecordSize: 100, Bytes: 10_050}, wantRecords: 100, wantBy: "bytes"},
		{name: "fewer records than bytes allow", opts: BenchProduceOptions{RecordSize: 100, Bytes: 10_000, Records: 40}, wantRecords: 40, wantBy: "records"},
		{name: "fewer bytes than records", opts: BenchProduceOptions{RecordSize: 100, Bytes: 1_000, Records: 40}, wantRecords: 10, wantBy: "bytes"},
		{name: "duration", opts: BenchProduceOptions{RecordSize: 100, Duration: 200 * time.Millisecond}, wantBy: "duration"},
		{name: "compressed, no linger", opts: BenchProduceOptions{Records: 500, Compression: "lz4", Linger: -1}, wantRecords: 500, wantBy: "records"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(2, "bench"))
			o := tt.opts
			o.Topic = "bench"
			rep, err := BenchProduce(testContext(t), brokers, o)
			if err != nil {
				t.Fatalf("BenchProduce: %v", err)
			}
			if (tt.wantRecords == 0 && rep.Records == 0) || (tt.wantRecords > 0 && rep.Records != tt.wantRecords) || rep.StoppedBy != tt.wantBy {
				t.Errorf("sent %d records, stopped by %q; want %d, %q", rep.Records, rep.StoppedBy, tt.wantRecords, tt.wantBy)
			}
		})
	}
}

// A paced run cannot finish sooner than its pace allows (a lower bound, which a
// slow machine only makes longer), and says it was paced.
func TestBenchProduceRate(t *testing.T) {
	brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(2, "bench"))
	rep, err := BenchProduce(testContext(t), brokers, BenchProduceOptions{Topic: "bench", RecordSize: 100, Records: 400, Rate: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Records != 400 || rep.Seconds < 0.19 || rep.Settings.Rate != 2000 {
		t.Errorf("400 records at 2000/s: %d in %.3fs, rate %d; want 400 in at least 0.2s", rep.Records, rep.Seconds, rep.Settings.Rate)
	}
}

func TestBenchErrors(t *testing.T) {
	brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(1, "empty"))
	ctx := testContext(t)
	tests := []struct {
		name      string
		opts      BenchProduceOptions
		wantErr   string
		wantIs    error
		wantUsage bool
	}{
		{name: "missing topic", opts: BenchProduceOptions{Topic: "nope", Records: 1}, wantErr: "kraftlab topic create nope", wantIs: ErrTopicNotFound},
		{name: "every bad option at once", opts: BenchProduceOptions{Topic: "a b", Records: -1, Compression: "brotli", RecordSize: MaxRecordSize + 1},
			wantErr: "4 problems", wantUsage: true},
		{name: "linger over a minute", opts: BenchProduceOptions{Topic: "empty", Linger: time.Hour}, wantErr: "linger 1h0m0s: want at most 1m", wantUsage: true},
		{name: "negative rate", opts: BenchProduceOptions{Topic: "empty", Rate: -5}, wantErr: "rate -5", wantUsage: true},
		{name: "buffer smaller than a record", opts: BenchProduceOptions{Topic: "empty", RecordSize: 2000, MaxBufferedBytes: 1000}, wantErr: "max buffered bytes 1000", wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := BenchProduce(ctx, brokers, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			var ue *usage.Error
			if errors.As(err, &ue) != tt.wantUsage {
				t.Errorf("error %v: usage error = %v, want %v", err, !tt.wantUsage, tt.wantUsage)
			}
		})
	}
	if _, err := BenchConsume(ctx, brokers, "empty"); err == nil || !strings.Contains(err.Error(), "has no records") {
		t.Errorf("consume of an empty topic: error %v, want one saying it has no records", err)
	}
	if _, err := BenchConsume(ctx, brokers, "nope"); !errors.Is(err, ErrTopicNotFound) {
		t.Errorf("consume of a missing topic: error %v, want %v", err, ErrTopicNotFound)
	}
}

func TestBenchLatencySampleStaysUniform(t *testing.T) {
	s := newBenchStats(nil, 1)
	// Three times the sample size, rising: a sample that kept only the first or
	// the last values would put the median far from the middle.
	const n = 3 * benchLatencySamples
	for i := 1; i <= n; i++ {
		s.acked++
		s.sample(time.Duration(i))
	}
	if len(s.samples) != benchLatencySamples {
		t.Fatalf("kept %d samples, want %d", len(s.samples), benchLatencySamples)
	}
	var rep BenchProduceReport
	s.acked = n
	s.fill(&rep, time.Second)
	if mid := millis(n / 2); rep.LatencyP50Ms < 0.97*mid || rep.LatencyP50Ms > 1.03*mid {
		t.Errorf("median of the sample = %g ms, want about %g ms", rep.LatencyP50Ms, mid)
	}
}

func TestBenchValues(t *testing.T) {
	v := newBenchValues(1000)
	prev := v.value(0)
	for _, i := range []int64{1, 2, benchPoolBytes/1000 - 1, benchPoolBytes / 1000, 1 << 40} {
		b := v.value(i)
		if len(b) != 1000 || cap(b) != 1000 {
			t.Fatalf("value %d has length %d, capacity %d; want 1000 and 1000", i, len(b), cap(b))
		}
		if string(b) == string(prev) {
			t.Errorf("value %d repeats the one before", i)
		}
		prev = b
	}
}
