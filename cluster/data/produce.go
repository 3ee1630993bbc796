package data

// This file owns producing: turning input (lines or a JSON array) into records with
// keys and headers, the acks/idempotence settings, and the one send loop that both
// Produce and Smoke use.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kgo"
)

// deliveryTimeout bounds how long a record may wait for its acknowledgement. The
// default is forever, which turns a dead cluster into a hung command.
const deliveryTimeout = 30 * time.Second

// ProduceOptions says what Produce sends where.
type ProduceOptions struct {
	Topic string
	// Input is one record per line (blank lines skipped), or, when its first
	// non-blank character is '[', a JSON array with one record per element (the
	// element's compact JSON).
	Input    io.Reader
	Key      string // the key of every record; empty means none
	KeyField string // take each record's key from this top-level field of its JSON object
	Headers  []kgo.RecordHeader
	Acks     string // "all" (the default, with idempotence), "1" or "0"
}

func (o ProduceOptions) validate() error {
	var problems []error
	if err := ValidateTopicName(o.Topic); err != nil {
		problems = append(problems, err)
	}
	if o.Input == nil {
		problems = append(problems, errors.New("no input to produce"))
	}
	if o.Key != "" && o.KeyField != "" {
		problems = append(problems, errors.New("a fixed key and a key field are exclusive; give one"))
	}
	if _, err := producerOptions(o.Acks); err != nil {
		problems = append(problems, err)
	}
	return usage.Errors(problems)
}

// producerOptions returns the client settings for an acks value.
func producerOptions(acks string) ([]kgo.Opt, error) {
	switch acks {
	case "", "all", "-1":
		// franz-go is idempotent by default; with acks=all that makes its retries
		// safe: no duplicates, and order kept within a partition.
		return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}, nil
	case "1":
		// franz-go's idempotent producer only works with acks=all.
		return []kgo.Opt{kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()}, nil
	case "0":
		return []kgo.Opt{kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite()}, nil
	}
	return nil, fmt.Errorf("acks %q: want all, 1 or 0", acks)
}

// ProduceResult counts the acknowledged records.
type ProduceResult struct {
	Topic      string             `json:"topic"`
	Records    int                `json:"records"`
	Partitions []PartitionOffsets `json:"partitions"`
}

// PartitionOffsets is where the acknowledged records of one partition landed. With
// acks=0 Kafka does not say, and the offsets are -1.
type PartitionOffsets struct {
	Partition   int32 `json:"partition"`
	Records     int   `json:"records"`
	FirstOffset int64 `json:"first_offset"`
	LastOffset  int64 `json:"last_offset"`
}

// Produce reads every record from o.Input, then sends them to o.Topic. Input is
// read and checked in full first, so a malformed record sends nothing. On a failed
// send the error names the first record that failed, and the result still counts
// what was acknowledged.
func Produce(ctx context.Context, brokers []string, o ProduceOptions) (ProduceResult, error) {
	res := ProduceResult{Topic: o.Topic}
	if err := o.validate(); err != nil {
		return res, err
	}
	records, err := readRecords(o)
	if err != nil {
		return res, fmt.Errorf("read input: %w", err)
	}
	opts, err := producerOptions(o.Acks)
	if err != nil {
		return res, err
	}
	cl, err := NewClient(brokers, append(opts, kgo.RecordDeliveryTimeout(deliveryTimeout))...)
	if err != nil {
		return res, err
	}
	defer cl.Close()
	// franz-go would retry an unknown topic for a while before failing every record;
	// asking first gives one clear error.
	if _, _, err := topicMetadata(ctx, cl, o.Topic); err != nil {
		return res, fmt.Errorf("produce to %q: %w", o.Topic, err)
	}

	parts := make(map[int32]*PartitionOffsets)
	failed, err := sendAll(ctx, cl, len(records), func(i int) *kgo.Record { return records[i].record },
		func(_ int, r *kgo.Record, _ time.Duration) {
			p := parts[r.Partition]
			if p == nil {
				p = &PartitionOffsets{Partition: r.Partition, FirstOffset: r.Offset, LastOffset: r.Offset}
				parts[r.Partition] = p
			}
			p.Records++
			p.FirstOffset, p.LastOffset = min(p.FirstOffset, r.Offset), max(p.LastOffset, r.Offset)
			res.Records++
		})
	for _, p := range parts {
		if o.Acks == "0" {
			p.FirstOffset, p.LastOffset = -1, -1
		}
		res.Partitions = append(res.Partitions, *p)
	}
	sort.Slice(res.Partitions, func(i, j int) bool { return res.Partitions[i].Partition < res.Partitions[j].Partition })
	switch {
	case failed >= 0:
		return res, fmt.Errorf("produce to %q: record %d (%s) failed: %w; %d of %d records acknowledged",
			o.Topic, failed+1, records[failed].source, err, res.Records, len(records))
	case err != nil:
		return res, fmt.Errorf("produce to %q: %w; %d of %d records acknowledged", o.Topic, err, res.Records, len(records))
	}
	return res, nil
}

// sendAll hands records 0..n-1 to the client in order and waits until every one
// handed over is acknowledged or failed. After the first failure it hands over no
// more: with idempotence every later record of that partition fails too, and the
// user wants the first cause, not a copy per record. acked runs once per
// acknowledged record, one call at a time, with the time from hand-over to
// acknowledgement. It returns the lowest index that failed and its error, or -1
// and ctx's error if ctx ended first.
func sendAll(ctx context.Context, cl *kgo.Client, n int, record func(i int) *kgo.Record, acked func(i int, r *kgo.Record, latency time.Duration)) (int, error) {
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstBad = -1
		firstErr error
	)
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return firstBad >= 0
	}
	for i := 0; i < n && !failed() && ctx.Err() == nil; i++ {
		start := time.Now()
		wg.Add(1)
		cl.Produce(ctx, record(i), func(r *kgo.Record, err error) {
			defer wg.Done()
			latency := time.Since(start)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				acked(i, r, latency)
			} else if firstBad < 0 || i < firstBad {
				firstBad, firstErr = i, err
			}
		})
	}
	if cl.Flush(ctx) != nil {
		// ctx ended: fail what is still buffered so every callback has run before
		// we return. It only errors when its own context ends, which this one cannot.
		_ = cl.AbortBufferedRecords(context.Background())
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return -1, err
	}
	return firstBad, firstErr
}

// inputRecord is a record read from input and where it came from, for errors.
type inputRecord struct {
	source string // "line 3" or "array element 3"
	record *kgo.Record
}

func readRecords(o ProduceOptions) ([]inputRecord, error) {
	in, err := io.ReadAll(o.Input)
	if err != nil {
		return nil, err
	}
	values, err := splitInput(in)
	if err != nil {
		return nil, err
	}
	if len(values) == 0 {
		return nil, errors.New("input has no records")
	}
	records := make([]inputRecord, len(values))
	for i, v := range values {
		r := &kgo.Record{Topic: o.Topic, Value: v.value, Headers: o.Headers}
		switch {
		case o.Key != "":
			r.Key = []byte(o.Key)
		case o.KeyField != "":
			if r.Key, err = keyFromField(v.value, o.KeyField); err != nil {
				return nil, fmt.Errorf("%s: %w", v.source, err)
			}
		}
		records[i] = inputRecord{source: v.source, record: r}
	}
	return records, nil
}

type inputValue struct {
	source string
	value  []byte
}

// splitInput cuts input into record values: the elements of a JSON array, else
// its non-blank lines.
func splitInput(in []byte) ([]inputValue, error) {
	var values []inputValue
	if trimmed := bytes.TrimSpace(in); bytes.HasPrefix(trimmed, []byte("[")) {
		var elems []json.RawMessage
		if err := json.Unmarshal(trimmed, &elems); err != nil {
			return nil, fmt.Errorf("input starts with '[' but is not one JSON array: %w", err)
		}
		for i, e := range elems {
			var b bytes.Buffer
			// Compact cannot fail on an element Unmarshal accepted.
			_ = json.Compact(&b, e)
			values = append(values, inputValue{source: fmt.Sprintf("array element %d", i+1), value: b.Bytes()})
		}
		return values, nil
	}
	for i, line := range strings.Split(string(in), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		values = append(values, inputValue{source: fmt.Sprintf("line %d", i+1), value: []byte(line)})
	}
	return values, nil
}

// keyFromField returns the value of field in a JSON object: a string as it is,
// anything else as its JSON text, so {"id": 42} gives the key 42.
func keyFromField(value []byte, field string) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(value, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("key field %q: record is not a JSON object", field)
	}
	raw, ok := obj[field]
	if !ok {
		return nil, fmt.Errorf("key field %q: record has no such field", field)
	}
	if string(raw) == "null" {
		return nil, fmt.Errorf("key field %q: field is null", field)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []byte(s), nil
	}
	var b bytes.Buffer
	_ = json.Compact(&b, raw) // raw came out of a successful Unmarshal
	return b.Bytes(), nil
}
