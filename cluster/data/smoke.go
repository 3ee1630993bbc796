package data

// This file owns the smoke check: prepare a healthy topic, produce numbered
// records with acks=all and idempotence, read them back with a fresh consumer
// group, verify each one, and report throughput and latency.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/kraftlab/kraftlab/cluster/internal/step"
	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// The smoke run's defaults; kraft-test is the tutorial's topic.
	DefaultSmokeTopic      = "kraft-test"
	DefaultSmokeRecords    = 10000
	DefaultSmokeRecordSize = 256
	// MaxRecordSize stays under Kafka's default max.message.bytes (1 MiB and a
	// bit), which caps a batch, and so a single record.
	MaxRecordSize = 1000 * 1000
	// smokeIdle ends the read-back when nothing more arrives; by then whatever is
	// missing is lost. It includes joining the group, which Kafka delays by
	// group.initial.rebalance.delay.ms (3s by default).
	smokeIdle = 15 * time.Second
)

// SmokeOptions configures a smoke run. Zero values take the defaults.
type SmokeOptions struct {
	// ClientOpts are added to every client it opens: TLS and SASL for a secured
	// cluster.
	ClientOpts        []kgo.Opt
	Topic             string
	Records           int
	RecordSize        int   // bytes per record value, at least MinRecordSize
	Partitions        int32 // for a topic smoke creates; an existing one is used as it is
	ReplicationFactor int16 // likewise; default DefaultReplication(brokers)
	// ExpectBrokers fails the run unless the cluster's metadata lists at least this
	// many brokers; 0 skips the check (a cluster kraftlab does not manage).
	ExpectBrokers int
	Progress      io.Writer // step lines, as the lab commands print them; nil for none
}

func (o SmokeOptions) withDefaults() SmokeOptions {
	if o.Topic == "" {
		o.Topic = DefaultSmokeTopic
	}
	if o.Records == 0 {
		o.Records = DefaultSmokeRecords
	}
	if o.RecordSize == 0 {
		o.RecordSize = DefaultSmokeRecordSize
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return o
}

func (o SmokeOptions) validate() error {
	var problems []error
	if err := ValidateTopicName(o.Topic); err != nil {
		problems = append(problems, err)
	}
	if o.Records < 1 {
		problems = append(problems, fmt.Errorf("records %d: want at least 1", o.Records))
	}
	if o.RecordSize < MinRecordSize || o.RecordSize > MaxRecordSize {
		problems = append(problems, fmt.Errorf("record size %d: want %d to %d bytes", o.RecordSize, MinRecordSize, MaxRecordSize))
	}
	if o.Partitions < 0 {
		problems = append(problems, fmt.Errorf("partitions %d: want at least 1", o.Partitions))
	}
	if o.ReplicationFactor < 0 {
		problems = append(problems, fmt.Errorf("replication factor %d: want at least 1", o.ReplicationFactor))
	}
	if o.ExpectBrokers < 0 {
		problems = append(problems, fmt.Errorf("expected brokers %d: want 0 or more", o.ExpectBrokers))
	}
	return usage.Errors(problems)
}

// SmokeReport is what a smoke run measured and found.
type SmokeReport struct {
	Topic             string `json:"topic"`
	Run               string `json:"run"` // tells this run's records from earlier runs'
	Brokers           int    `json:"brokers"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor"`
	TopicCreated      bool   `json:"topic_created"`
	Records           int    `json:"records"`
	RecordSize        int    `json:"record_size"`
	Group             string `json:"group"`

	// Throughput and latency of producing. Latency runs from handing a record to
	// the client until its acknowledgement; records are handed over as fast as the
	// client takes them, so it includes time queued behind earlier records, as in
	// kafka-producer-perf-test.
	FirstAckMs     float64 `json:"first_ack_ms"` // record 0, sent alone before timing starts
	ProduceSeconds float64 `json:"produce_seconds"`
	RecordsPerSec  float64 `json:"records_per_sec"`
	MBPerSec       float64 `json:"mb_per_sec"` // 10^6 bytes of record values per second
	LatencyP50Ms   float64 `json:"latency_p50_ms"`
	LatencyP99Ms   float64 `json:"latency_p99_ms"`
	LatencyMaxMs   float64 `json:"latency_max_ms"`
	ConsumeSeconds float64 `json:"consume_seconds"`

	Verification Verification `json:"verification"`
	Passed       bool         `json:"passed"`
}

// Smoke runs the smoke check against the cluster at brokers. It returns an error
// if the cluster is unhealthy, a record fails to produce, or any acknowledged
// record is lost, duplicated, reordered or corrupted; the report holds whatever
// was measured up to then.
func Smoke(ctx context.Context, brokers []string, o SmokeOptions) (SmokeReport, error) {
	o = o.withDefaults()
	rep := SmokeReport{Topic: o.Topic, Records: o.Records, RecordSize: o.RecordSize}
	if err := o.validate(); err != nil {
		return rep, err
	}
	rep.Run = NewRunID()
	rep.Group = "kraftlab-smoke-" + rep.Run

	admin, err := NewClient(brokers, o.ClientOpts...)
	if err != nil {
		return rep, err
	}
	defer admin.Close()

	verifier := NewVerifier(rep.Run)
	var ends map[int32]int64
	steps := step.Steps{W: o.Progress}
	err = steps.Run("Preparing topic "+o.Topic, func() error {
		return prepareSmokeTopic(ctx, admin, o, &rep)
	})
	if err == nil {
		err = steps.Run(fmt.Sprintf("Producing %d records of %d bytes", o.Records, o.RecordSize), func() (err error) {
			ends, err = smokeProduce(ctx, brokers, o, verifier, &rep)
			return err
		})
	}
	if err == nil {
		err = steps.Run("Reading them back with consumer group "+rep.Group, func() error {
			return smokeConsume(ctx, brokers, admin, o.Topic, rep.Group, ends, verifier, &rep, o.ClientOpts...)
		})
	}
	rep.Verification = verifier.Result()
	if err != nil {
		return rep, fmt.Errorf("smoke on topic %q: %w", o.Topic, err)
	}
	if err := rep.Verification.Err(); err != nil {
		return rep, fmt.Errorf("smoke on topic %q: %w", o.Topic, err)
	}
	rep.Passed = true
	return rep, nil
}

// prepareSmokeTopic creates the topic if it is missing and waits until the
// cluster and the topic are healthy.
func prepareSmokeTopic(ctx context.Context, cl *kgo.Client, o SmokeOptions, rep *SmokeReport) error {
	meta, err := metadata(ctx, cl, o.Topic)
	if err != nil {
		return err
	}
	rf := o.ReplicationFactor
	if rf == 0 {
		rf = DefaultReplication(len(meta.Brokers))
	}
	created, err := CreateTopic(ctx, cl, TopicSpec{
		Name:              o.Topic,
		Partitions:        o.Partitions,
		ReplicationFactor: rf,
		// With two in-sync copies required, an acknowledged record survives the
		// loss of any one broker; one copy is all a single-broker cluster has.
		Configs:     map[string]string{"min.insync.replicas": strconv.Itoa(int(min(2, rf)))},
		IfNotExists: true,
	})
	if err != nil {
		return err
	}
	rep.TopicCreated = created.Created
	brokers, topic, err := WaitHealthy(ctx, cl, o.Topic, o.ExpectBrokers)
	if err != nil {
		return err
	}
	rep.Brokers, rep.Partitions, rep.ReplicationFactor = brokers, len(topic.Partitions), topic.ReplicationFactor
	return nil
}

// smokeProduce sends the numbered records and returns, per partition written, the
// offset of the last acknowledged record: where reading back may stop.
func smokeProduce(ctx context.Context, brokers []string, o SmokeOptions, v *Verifier, rep *SmokeReport) (map[int32]int64, error) {
	opts, err := producerOptions("all")
	if err != nil {
		return nil, err
	}
	cl, err := NewClient(brokers, append(append(opts, kgo.RecordDeliveryTimeout(deliveryTimeout)), o.ClientOpts...)...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	ends := make(map[int32]int64)
	record := func(i int) *kgo.Record {
		// The key spreads records over the partitions; the seq is in the value.
		return &kgo.Record{Topic: o.Topic, Key: strconv.AppendInt(nil, int64(i), 10), Value: encodePayload(rep.Run, int64(i), o.RecordSize)}
	}
	// Record 0 goes alone and untimed: a new producer's first ack waits for its
	// producer id and the topic's metadata (seconds on a fresh lab), a one-time cost
	// that would otherwise show up as every record's latency.
	warm := time.Now()
	first, err := cl.ProduceSync(ctx, record(0)).First()
	if err != nil {
		return nil, fmt.Errorf("record seq 0 failed: %w", err)
	}
	rep.FirstAckMs = millis(time.Since(warm))
	v.Acked(0, first.Partition)
	ends[first.Partition] = first.Offset

	latencies := make([]time.Duration, 0, o.Records)
	start := time.Now()
	failed, err := sendAll(ctx, cl, o.Records-1,
		func(i int) *kgo.Record { return record(i + 1) },
		func(i int, r *kgo.Record, latency time.Duration) {
			v.Acked(int64(i+1), r.Partition)
			latencies = append(latencies, latency)
			ends[r.Partition] = max(ends[r.Partition], r.Offset)
		})
	elapsed := time.Since(start)
	acked := len(latencies)
	rep.ProduceSeconds = elapsed.Seconds()
	rep.RecordsPerSec = float64(acked) / elapsed.Seconds()
	rep.MBPerSec = float64(acked*o.RecordSize) / 1e6 / elapsed.Seconds()
	if acked > 0 {
		slices.Sort(latencies)
		rep.LatencyP50Ms = millis(Percentile(latencies, 50))
		rep.LatencyP99Ms = millis(Percentile(latencies, 99))
		rep.LatencyMaxMs = millis(latencies[acked-1])
	}
	switch {
	case failed >= 0:
		return nil, fmt.Errorf("record seq %d failed: %w; %d of %d acknowledged", failed+1, err, acked+1, o.Records)
	case err != nil:
		return nil, fmt.Errorf("produce: %w; %d of %d acknowledged", err, acked+1, o.Records)
	}
	return ends, nil
}

// Percentile is the nearest-rank percentile of sorted, which is not empty.
func Percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// smokeConsume reads the topic from the beginning with a fresh group until every
// partition written is read up to its last acknowledged offset, or nothing more
// arrives. It commits what it read, which exercises the group coordinator and
// __consumer_offsets, then deletes the group so runs do not pile up groups.
func smokeConsume(ctx context.Context, brokers []string, admin *kgo.Client, topic, group string, ends map[int32]int64, v *Verifier, rep *SmokeReport, clientOpts ...kgo.Opt) error {
	start := time.Now()
	if err := readBack(ctx, brokers, topic, group, ends, v, clientOpts...); err != nil {
		return err
	}
	rep.ConsumeSeconds = time.Since(start).Seconds()
	if _, err := kadm.NewClient(admin).DeleteGroup(ctx, group); err != nil {
		return fmt.Errorf("delete consumer group %q: %w", group, err)
	}
	return nil
}

// readBack reads topic from the start into the verifier until every partition in
// ends is read up to its offset there, or nothing arrives for smokeIdle. With a
// group it commits what it read; its consumer is closed, leaving the group, before
// it returns.
func readBack(ctx context.Context, brokers []string, topic, group string, ends map[int32]int64, v *Verifier, clientOpts ...kgo.Opt) error {
	cl, err := newConsumer(brokers, topic, kgo.NewOffset().AtStart(), group, clientOpts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	pending := maps.Clone(ends)
	err = pollRecords(ctx, cl, smokeIdle, func(r *kgo.Record) (bool, error) {
		v.Read(r.Partition, r.Offset, r.Value)
		if group != "" {
			cl.MarkCommitRecords(r)
		}
		if end, ok := pending[r.Partition]; ok && r.Offset >= end {
			delete(pending, r.Partition)
		}
		return len(pending) > 0, nil
	})
	// pollRecords stops quietly when ctx ends; here that means the run was cut short.
	err = errors.Join(err, ctx.Err())
	if group != "" {
		err = errors.Join(err, commitMarked(ctx, cl))
	}
	if err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	return nil
}
