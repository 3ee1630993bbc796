package data

// This file owns producing: turning input (lines or JSON values) into records with
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
	"unicode/utf8"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kgo"
)

// deliveryTimeout bounds how long a record may wait for its acknowledgement. The
// default is forever, which turns a dead cluster into a hung command.
const deliveryTimeout = 30 * time.Second

// ProduceOptions says what Produce sends where.
type ProduceOptions struct {
	// ClientOpts are added to every client it opens: TLS and SASL for a secured
	// cluster.
	ClientOpts []kgo.Opt
	Topic      string
	// Input is JSON when its first non-space byte is '{' or '[': one record per
	// element of a single array, else one per top-level value (an object, even
	// pretty-printed, or JSON lines), each as compact JSON. Any other input is
	// one record per non-blank line.
	Input io.Reader
	// InputName names the input in errors ("app.json"); empty means "input".
	InputName string
	Key       string // the key of every record; empty means none
	KeyField  string // take each record's key from this top-level field of its JSON object
	Headers   []kgo.RecordHeader
	Acks      string // "all" (the default, with idempotence), "1" or "0"
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
		name := o.InputName
		if name == "" {
			name = "input"
		}
		return res, fmt.Errorf("read %s: %w", name, err)
	}
	opts, err := producerOptions(o.Acks)
	if err != nil {
		return res, err
	}
	cl, err := NewClient(brokers, append(append(opts, kgo.RecordDeliveryTimeout(deliveryTimeout)), o.ClientOpts...)...)
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
	source string // "line 3", "array element 3 (line 4)" or "JSON value 2 (line 9)"
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

// splitInput cuts input into record values. Input whose first non-space byte is
// '{' or '[' is JSON: a single array gives one record per element, anything else
// (one object, even pretty-printed; JSON lines; values one after another) one
// record per top-level value, each as compact JSON. Other input gives one record
// per non-blank line, as it is.
func splitInput(in []byte) ([]inputValue, error) {
	if trimmed := bytes.TrimLeft(in, " \t\r\n"); len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		return splitJSON(in)
	}
	var values []inputValue
	for i, line := range strings.Split(string(in), "\n") {
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		values = append(values, inputValue{source: fmt.Sprintf("line %d", i+1), value: []byte(line)})
	}
	return values, nil
}

// jsonValue is one JSON value of the input and where it starts.
type jsonValue struct {
	raw   json.RawMessage
	start int64 // byte offset in the input
}

// splitJSON reads every top-level JSON value of in. A malformed value is an error
// that says where, by line and column.
func splitJSON(in []byte) ([]inputValue, error) {
	top, err := decodeValues(in)
	if err != nil {
		return nil, err
	}
	var values []inputValue
	if len(top) == 1 && top[0].raw[0] == '[' {
		// Decoding the array's elements again, one by one, keeps their positions.
		arr := top[0]
		dec := json.NewDecoder(bytes.NewReader(arr.raw))
		_, _ = dec.Token() // '[': the array already decoded whole
		for i := 1; dec.More(); i++ {
			var e json.RawMessage
			_ = dec.Decode(&e) // cannot fail on an array that decoded whole
			start := arr.start + dec.InputOffset() - int64(len(e))
			values = append(values, inputValue{source: fmt.Sprintf("array element %d (line %d)", i, lineOf(in, start)), value: compactJSON(e)})
		}
		return values, nil
	}
	for i, v := range top {
		values = append(values, inputValue{source: fmt.Sprintf("JSON value %d (line %d)", i+1, lineOf(in, v.start)), value: compactJSON(v.raw)})
	}
	return values, nil
}

// decodeValues reads the JSON values of in one after another, as JSON lines or
// values simply concatenated.
func decodeValues(in []byte) ([]jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(in))
	var values []jsonValue
	for {
		from := dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return values, nil
		}
		var syntax *json.SyntaxError
		switch {
		case errors.As(err, &syntax):
			// Offset counts the bytes read up to and including the bad one.
			return nil, fmt.Errorf("%s: %w", position(in, syntax.Offset-1), err)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, fmt.Errorf("%s: JSON value not complete at the end of the input", position(in, skipSpace(in, from)))
		case err != nil:
			return nil, err
		}
		values = append(values, jsonValue{raw: raw, start: dec.InputOffset() - int64(len(raw))})
	}
}

// skipSpace returns the offset of the first non-space byte of in at or after off.
func skipSpace(in []byte, off int64) int64 {
	for off < int64(len(in)) && strings.IndexByte(" \t\r\n", in[off]) >= 0 {
		off++
	}
	return off
}

// lineOf is the 1-based line of byte offset off in in.
func lineOf(in []byte, off int64) int {
	off = min(max(off, 0), int64(len(in)))
	return bytes.Count(in[:off], []byte("\n")) + 1
}

// position names byte offset off of in as "line L, column C", the column counted
// in characters from 1.
func position(in []byte, off int64) string {
	off = min(max(off, 0), int64(len(in)))
	lineStart := bytes.LastIndexByte(in[:off], '\n') + 1
	return fmt.Sprintf("line %d, column %d", lineOf(in, off), utf8.RuneCount(in[lineStart:off])+1)
}

// compactJSON is valid JSON without insignificant space.
func compactJSON(raw []byte) []byte {
	var b bytes.Buffer
	_ = json.Compact(&b, raw) // raw came out of a successful Decode
	return b.Bytes()
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
	return compactJSON(raw), nil
}
