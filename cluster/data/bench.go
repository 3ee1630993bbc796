package data

// This file owns the benchmarks: BenchProduce sends fixed-size records as fast as
// the cluster takes them (acks=all, idempotent) and measures throughput and
// per-record latency the way Kafka's own ProducerPerformance does; BenchConsume
// reads a topic from its start to the end it had when the read began.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The produce benchmark's defaults. Without a bound it runs like the issue's
// benchmark: 1 GB or 60 s of 1 KiB records, whichever comes first.
const (
	DefaultBenchRecordSize = 1024
	DefaultBenchBytes      = 1_000_000_000
	DefaultBenchDuration   = 60 * time.Second
)

// The producer settings of the benchmark, chosen by measuring a 3-node lab on a
// 2-core machine (BENCHMARKS.md has the sweep). Throughput and latency pull
// against each other through the buffer: every buffered byte is queueing time
// in the latency of the records behind it.
//
//   - At most 8 MiB buffered. 2 MiB starved the brokers (half the throughput).
//     franz-go's default, 50,000 records (50 MB of 1 KiB records), bought up to
//     a third more throughput and 32 MiB none, both for four to five times the
//     median latency. (The Java producer buffers up to 32 MiB.)
//   - Batches up to 1 MB (franz-go's default, Kafka's max.message.bytes): the
//     partitioner moves on every 64 KiB, so a batch only grows past that while
//     its partition waits behind in-flight requests, when a bigger batch is what
//     keeps the broker busy. 64 KiB and 256 KiB caps measured no better.
//   - Linger 5 ms, as the Java producer since Kafka 4.0; 0 and 20 ms measured no
//     better, within the noise.
//   - No compression. The values are random letters, as ProducerPerformance makes
//     them: lz4 and snappy find little in them and cost CPU that the brokers on
//     the same cores need (lz4 measured about a third slower); zstd shrinks them
//     only because of the small alphabet, which real data does not share.
const (
	DefaultBenchLinger           = 5 * time.Millisecond
	DefaultBenchBatchMaxBytes    = 1_000_000
	DefaultBenchMaxBufferedBytes = 8 << 20
	DefaultBenchCompression      = "none"
)

const (
	// benchLatencySamples bounds the latencies kept for percentiles; past it a
	// uniform sample is kept, as ProducerPerformance keeps at most 500,000.
	benchLatencySamples = 500_000
	// benchReportEvery is how often progress is printed, as ProducerPerformance.
	benchReportEvery = 5 * time.Second
	// benchPoolBytes is the random text record values are cut from. It is bigger
	// than a batch, so no batch holds the same bytes twice and compression sees
	// what it would see in per-record random values.
	benchPoolBytes = 4 << 20
	// benchMinPause is the least a paced benchmark waits to keep its rate, as
	// ProducerPerformance's throttler.
	benchMinPause = 2 * time.Millisecond
	// benchConsumeIdle ends a consume benchmark that stopped receiving records
	// before reaching the end it set out to read.
	benchConsumeIdle = 15 * time.Second
)

// BenchProduceOptions says what BenchProduce sends. It stops at the first bound
// reached; with no bound at all it uses DefaultBenchBytes and DefaultBenchDuration.
type BenchProduceOptions struct {
	// ClientOpts are added to every client it opens: TLS and SASL for a secured
	// cluster.
	ClientOpts []kgo.Opt
	Topic      string
	RecordSize int           // bytes per record value; 0 = DefaultBenchRecordSize
	Records    int64         // stop after this many records; 0 = no count bound
	Bytes      int64         // stop after this many bytes of record values; 0 = none
	Duration   time.Duration // stop handing over records after this long; 0 = none
	// Rate paces the records handed over to this many a second on average since
	// the start, as ProducerPerformance's --throughput does; 0 = as fast as the
	// client takes them. Latency is measured from when a record is handed over,
	// after any pause for the pace.
	Rate int

	// Producer settings; zero values take the defaults above.
	Compression      string        // none, gzip, snappy, lz4 or zstd
	Linger           time.Duration // negative = send as soon as possible
	BatchMaxBytes    int32
	MaxBufferedBytes int

	Progress io.Writer // a line every 5 s; nil for none
}

func (o BenchProduceOptions) withDefaults() BenchProduceOptions {
	if o.RecordSize == 0 {
		o.RecordSize = DefaultBenchRecordSize
	}
	if o.Records == 0 && o.Bytes == 0 && o.Duration == 0 {
		o.Bytes, o.Duration = DefaultBenchBytes, DefaultBenchDuration
	}
	if o.Compression == "" {
		o.Compression = DefaultBenchCompression
	}
	switch {
	case o.Linger == 0:
		o.Linger = DefaultBenchLinger
	case o.Linger < 0:
		o.Linger = 0
	}
	if o.BatchMaxBytes == 0 {
		o.BatchMaxBytes = DefaultBenchBatchMaxBytes
	}
	if o.MaxBufferedBytes == 0 {
		o.MaxBufferedBytes = DefaultBenchMaxBufferedBytes
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

func (o BenchProduceOptions) validate() error {
	var problems []error
	if err := ValidateTopicName(o.Topic); err != nil {
		problems = append(problems, err)
	}
	if o.RecordSize < 1 || o.RecordSize > MaxRecordSize {
		problems = append(problems, fmt.Errorf("record size %d: want 1 to %d bytes", o.RecordSize, MaxRecordSize))
	}
	if o.Records < 0 {
		problems = append(problems, fmt.Errorf("records %d: want 0 (no bound) or more", o.Records))
	}
	if o.Bytes < 0 {
		problems = append(problems, fmt.Errorf("bytes %d: want 0 (no bound) or more", o.Bytes))
	}
	if o.Duration < 0 {
		problems = append(problems, fmt.Errorf("duration %s: want 0 (no bound) or more", o.Duration))
	}
	if o.Rate < 0 {
		problems = append(problems, fmt.Errorf("rate %d: want 0 (as fast as possible) or more records a second", o.Rate))
	}
	if _, err := compressionCodec(o.Compression); err != nil {
		problems = append(problems, err)
	}
	// franz-go refuses a linger above a minute, and batches outside these bounds,
	// when the client is created.
	if o.Linger > time.Minute {
		problems = append(problems, fmt.Errorf("linger %s: want at most 1m", o.Linger))
	}
	if o.BatchMaxBytes < 512 || o.BatchMaxBytes > 1<<30 {
		problems = append(problems, fmt.Errorf("batch max bytes %d: want 512 to %d", o.BatchMaxBytes, 1<<30))
	}
	if o.MaxBufferedBytes < o.RecordSize {
		problems = append(problems, fmt.Errorf("max buffered bytes %d: want at least the record size (%d)", o.MaxBufferedBytes, o.RecordSize))
	}
	return usage.Errors(problems)
}

// recordLimit is how many records the count and byte bounds allow, and which
// bound that is ("records" or "bytes"; "" when only the duration bounds the run).
func (o BenchProduceOptions) recordLimit() (int64, string) {
	limit, by := int64(math.MaxInt64), ""
	if o.Records > 0 {
		limit, by = o.Records, "records"
	}
	if n := max(1, o.Bytes/int64(o.RecordSize)); o.Bytes > 0 && n < limit {
		limit, by = n, "bytes"
	}
	return limit, by
}

// compressionCodec maps a codec name to franz-go's codec.
func compressionCodec(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "none":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("compression %q: want none, gzip, snappy, lz4 or zstd", name)
}

// BenchProducerSettings are the client settings a produce benchmark ran with.
type BenchProducerSettings struct {
	Acks             string  `json:"acks"`
	Idempotent       bool    `json:"idempotent"`
	Compression      string  `json:"compression"`
	LingerMs         float64 `json:"linger_ms"`
	BatchMaxBytes    int32   `json:"batch_max_bytes"`
	MaxBufferedBytes int     `json:"max_buffered_bytes"`
	Rate             int     `json:"rate,omitempty"` // records/s asked for; 0 = unpaced
}

// BenchProduceReport is what a produce benchmark measured. MB is 10^6 bytes of
// record values, as in the smoke report (ProducerPerformance prints MiB/s).
// Latency runs from handing a record to the client (which blocks while its
// buffer is full) to its acknowledgement, as ProducerPerformance measures it.
type BenchProduceReport struct {
	Topic         string                `json:"topic"`
	RecordSize    int                   `json:"record_size"`
	Records       int64                 `json:"records"` // acknowledged
	Bytes         int64                 `json:"bytes"`
	Seconds       float64               `json:"seconds"`
	RecordsPerSec float64               `json:"records_per_sec"`
	MBPerSec      float64               `json:"mb_per_sec"`
	LatencyAvgMs  float64               `json:"latency_avg_ms"`
	LatencyP50Ms  float64               `json:"latency_p50_ms"`
	LatencyP95Ms  float64               `json:"latency_p95_ms"`
	LatencyP99Ms  float64               `json:"latency_p99_ms"`
	LatencyMaxMs  float64               `json:"latency_max_ms"`
	StoppedBy     string                `json:"stopped_by"` // records, bytes or duration
	Settings      BenchProducerSettings `json:"settings"`
}

// BenchProduce sends records of random letters to o.Topic, which must exist, until
// a bound is reached, then waits for every acknowledgement. It stops at the first
// failed record; the report then covers what was acknowledged until then.
func BenchProduce(ctx context.Context, brokers []string, o BenchProduceOptions) (BenchProduceReport, error) {
	o = o.withDefaults()
	rep := BenchProduceReport{Topic: o.Topic, RecordSize: o.RecordSize, Settings: BenchProducerSettings{
		Acks: "all", Idempotent: true, Compression: o.Compression, LingerMs: millis(o.Linger),
		BatchMaxBytes: o.BatchMaxBytes, MaxBufferedBytes: o.MaxBufferedBytes, Rate: o.Rate,
	}}
	if err := o.validate(); err != nil {
		return rep, err
	}
	codec, _ := compressionCodec(o.Compression) // validated above
	opts, err := producerOptions("all")
	if err != nil {
		return rep, err
	}
	cl, err := NewClient(brokers, append(append(opts, o.ClientOpts...),
		kgo.RecordDeliveryTimeout(deliveryTimeout),
		kgo.ProducerBatchCompression(codec),
		kgo.ProducerLinger(o.Linger),
		kgo.ProducerBatchMaxBytes(o.BatchMaxBytes),
		kgo.MaxBufferedBytes(o.MaxBufferedBytes),
		// The byte bound is the one that matters; franz-go's record bound (50,000)
		// would otherwise cap small records first.
		kgo.MaxBufferedRecords(max(1, o.MaxBufferedBytes/o.RecordSize)),
	)...)
	if err != nil {
		return rep, err
	}
	defer cl.Close()
	if err := benchTopicReady(ctx, cl, o.Topic); err != nil {
		return rep, fmt.Errorf("bench produce to %q: %w", o.Topic, err)
	}

	values := newBenchValues(o.RecordSize)
	stats := newBenchStats(o.Progress, o.RecordSize)
	limit, limitedBy := o.recordLimit()
	rep.StoppedBy = limitedBy
	var wg sync.WaitGroup
	start := time.Now()
	stats.start(start)
	for i := int64(0); i < limit; i++ {
		if o.Rate > 0 {
			// Ahead of the pace by more than a couple of milliseconds: wait (a
			// sleep per record would cost more than it paces).
			due := start.Add(time.Duration(float64(i) / float64(o.Rate) * float64(time.Second)))
			if ahead := time.Until(due); ahead >= benchMinPause {
				select {
				case <-time.After(ahead):
				case <-ctx.Done():
				}
			}
		}
		sent := time.Now()
		if o.Duration > 0 && sent.Sub(start) >= o.Duration {
			rep.StoppedBy = "duration"
			break
		}
		if ctx.Err() != nil || stats.failed() {
			break
		}
		wg.Add(1)
		cl.Produce(ctx, &kgo.Record{Topic: o.Topic, Value: values.value(i)}, func(_ *kgo.Record, err error) {
			defer wg.Done()
			stats.settle(time.Since(sent), err)
		})
	}
	if cl.Flush(ctx) != nil {
		// ctx ended: fail what is still buffered so every callback has run before
		// the report is read. This only errors when its own context ends.
		_ = cl.AbortBufferedRecords(context.Background())
	}
	wg.Wait()
	stats.fill(&rep, time.Since(start))
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("bench produce to %q: %w; %d records acknowledged", o.Topic, err, rep.Records)
	}
	if err := stats.firstErr; err != nil {
		return rep, fmt.Errorf("bench produce to %q: %w; %d records acknowledged", o.Topic, err, rep.Records)
	}
	return rep, nil
}

// benchTopicReady checks the topic exists (CreateTopic returns once every broker
// knows a new topic) and waits until every partition has a leader and all its
// replicas in sync, so acks=all measures replication rather than a follower
// catching up.
func benchTopicReady(ctx context.Context, cl *kgo.Client, topic string) error {
	if _, _, err := topicMetadata(ctx, cl, topic); err != nil {
		if errors.Is(err, ErrTopicNotFound) {
			return fmt.Errorf("%w (kraftlab topic create %s makes it)", err, topic)
		}
		return err
	}
	_, _, err := WaitHealthy(ctx, cl, topic, 0)
	return err
}

// benchValues hands out record values: windows onto one pool of random capital
// letters, the alphabet ProducerPerformance fills its records with, so neither
// tool gets an edge from compressible data. Cutting windows instead of filling
// each record keeps the generator off the producer's critical path; the client
// never writes to a value.
type benchValues struct {
	pool []byte
	size int
}

func newBenchValues(size int) benchValues {
	pool := make([]byte, benchPoolBytes+size)
	for i := range pool {
		pool[i] = byte('A' + rand.IntN(26))
	}
	return benchValues{pool: pool, size: size}
}

// value i follows value i-1 in the pool, wrapping around after benchPoolBytes.
func (v benchValues) value(i int64) []byte {
	off := int((i * int64(v.size)) % benchPoolBytes)
	return v.pool[off : off+v.size : off+v.size]
}

// benchStats accumulates acknowledgements from the client's callbacks, which run
// one at a time per partition but concurrently across partitions.
type benchStats struct {
	mu         sync.Mutex
	recordSize int
	acked      int64
	total      time.Duration
	maxLatency time.Duration
	samples    []time.Duration // a uniform sample of latencies, see sample
	rng        *rand.Rand
	firstErr   error

	progress    io.Writer
	windowStart time.Time
	windowCount int64
	windowMax   time.Duration
}

func newBenchStats(progress io.Writer, recordSize int) *benchStats {
	return &benchStats{
		recordSize: recordSize,
		samples:    make([]time.Duration, 0, 1024),
		rng:        rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		progress:   progress,
	}
}

func (s *benchStats) start(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.windowStart = t
}

func (s *benchStats) failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.firstErr != nil
}

// settle records one record's outcome.
func (s *benchStats) settle(latency time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if s.firstErr == nil {
			s.firstErr = err
		}
		return
	}
	s.acked++
	s.total += latency
	s.maxLatency = max(s.maxLatency, latency)
	s.sample(latency)
	s.windowCount++
	s.windowMax = max(s.windowMax, latency)
	if now := time.Now(); now.Sub(s.windowStart) >= benchReportEvery {
		secs := now.Sub(s.windowStart).Seconds()
		fmt.Fprintf(s.progress, "%d records acknowledged, %.0f records/s (%.2f MB/s), %.1f ms max latency\n",
			s.windowCount, float64(s.windowCount)/secs, float64(s.windowCount*int64(s.recordSize))/1e6/secs, millis(s.windowMax))
		s.windowStart, s.windowCount, s.windowMax = now, 0, 0
	}
}

// sample keeps every latency up to benchLatencySamples, then a uniform sample of
// that many (reservoir sampling), so a long run needs bounded memory and the
// percentiles still describe the whole run.
func (s *benchStats) sample(latency time.Duration) {
	if len(s.samples) < benchLatencySamples {
		s.samples = append(s.samples, latency)
		return
	}
	if j := s.rng.Int64N(s.acked); j < benchLatencySamples {
		s.samples[j] = latency
	}
}

// fill writes the totals into rep; elapsed runs from the first record handed over
// to the last acknowledgement.
func (s *benchStats) fill(rep *BenchProduceReport, elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rep.Records = s.acked
	rep.Bytes = s.acked * int64(s.recordSize)
	rep.Seconds = elapsed.Seconds()
	if s.acked == 0 || elapsed <= 0 {
		return
	}
	rep.RecordsPerSec = float64(s.acked) / elapsed.Seconds()
	rep.MBPerSec = float64(rep.Bytes) / 1e6 / elapsed.Seconds()
	rep.LatencyAvgMs = millis(s.total) / float64(s.acked)
	slices.Sort(s.samples)
	rep.LatencyP50Ms = millis(Percentile(s.samples, 50))
	rep.LatencyP95Ms = millis(Percentile(s.samples, 95))
	rep.LatencyP99Ms = millis(Percentile(s.samples, 99))
	rep.LatencyMaxMs = millis(s.maxLatency)
}

// BenchConsumeReport is what a consume benchmark measured; MB is 10^6 bytes of
// record values.
type BenchConsumeReport struct {
	Topic         string  `json:"topic"`
	Partitions    int     `json:"partitions"`
	Records       int64   `json:"records"`
	Bytes         int64   `json:"bytes"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
}

// BenchConsume reads every partition of topic from its earliest offset up to the
// end offset it had when the benchmark began, without a consumer group, and
// reports how fast. Time runs from the first fetch to the last record.
func BenchConsume(ctx context.Context, brokers []string, topic string, clientOpts ...kgo.Opt) (BenchConsumeReport, error) {
	rep := BenchConsumeReport{Topic: topic}
	if err := ValidateTopicName(topic); err != nil {
		return rep, usage.Errorf("%w", err)
	}
	pending, err := benchConsumeEnds(ctx, brokers, topic, clientOpts...)
	if err != nil {
		return rep, fmt.Errorf("bench consume %q: %w", topic, err)
	}
	rep.Partitions = len(pending)
	for p, end := range pending {
		if end <= 0 {
			delete(pending, p)
		}
	}
	if len(pending) == 0 {
		return rep, fmt.Errorf("bench consume %q: the topic has no records (kraftlab bench produce %s writes some)", topic, topic)
	}
	cl, err := newConsumer(brokers, topic, kgo.NewOffset().AtStart(), "", clientOpts...)
	if err != nil {
		return rep, err
	}
	defer cl.Close()

	start := time.Now()
	err = pollRecords(ctx, cl, benchConsumeIdle, func(r *kgo.Record) (bool, error) {
		rep.Records++
		rep.Bytes += int64(len(r.Value))
		if end, ok := pending[r.Partition]; ok && r.Offset >= end-1 {
			delete(pending, r.Partition)
		}
		return len(pending) > 0, nil
	})
	elapsed := time.Since(start)
	rep.Seconds = elapsed.Seconds()
	if rep.Records > 0 {
		rep.RecordsPerSec = float64(rep.Records) / elapsed.Seconds()
		rep.MBPerSec = float64(rep.Bytes) / 1e6 / elapsed.Seconds()
	}
	// pollRecords stops quietly when ctx ends or nothing arrives; either way the
	// partitions still pending were not read to their end.
	err = errors.Join(err, ctx.Err())
	if err == nil && len(pending) > 0 {
		err = fmt.Errorf("no records for %s; partitions %s not read to their end", benchConsumeIdle, partitionList(pending))
	}
	if err != nil {
		return rep, fmt.Errorf("bench consume %q: %w; %d records read", topic, err, rep.Records)
	}
	return rep, nil
}

// benchConsumeEnds returns the end offset of every partition of topic.
func benchConsumeEnds(ctx context.Context, brokers []string, topic string, clientOpts ...kgo.Opt) (map[int32]int64, error) {
	cl, err := NewClient(brokers, clientOpts...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	if _, _, err := topicMetadata(ctx, cl, topic); err != nil {
		return nil, err
	}
	return listOffsets(ctx, kadm.NewClient(cl), topic, true)
}

// partitionList names partitions in order: "0, 3, 5".
func partitionList(ps map[int32]int64) string {
	ids := make([]string, 0, len(ps))
	for _, p := range slices.Sorted(maps.Keys(ps)) {
		ids = append(ids, fmt.Sprint(p))
	}
	return strings.Join(ids, ", ")
}
