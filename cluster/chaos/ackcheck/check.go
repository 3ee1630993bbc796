package ackcheck

// This file owns the check: the topic read back from its start to its end offsets
// with a consumer of its own, each record of the run decoded from its key, header
// and value bytes, counted per partition and per sequence number, and compared
// with the log.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// idleTimeout is how long the read-back may go without a record before Check
// gives up: the topic's end offsets are known, so a silence this long means the
// cluster stopped serving.
const idleTimeout = 30 * time.Second

// maxProblems caps the discrepancies Result describes; the counts are complete.
const maxProblems = 10

// Result is what Check found. Every acknowledged record must be read back exactly
// once, at the partition and offset it was acknowledged at, with the same value
// checksum, after every record of the run with a lower sequence number in that
// partition.
type Result struct {
	Run   string `json:"run"`
	Topic string `json:"topic"`
	Acked int    `json:"acked"` // records the log lists
	Read  int    `json:"read"`  // records of the run read back, every copy counted
	// Unacked counts records of the run read back that the log does not list: sent,
	// but their acknowledgement never came (a send that failed may still have been
	// written). They are allowed.
	Unacked int `json:"unacked"`
	Other   int `json:"other"` // records of other runs or producers, skipped
	// Lost counts logged records never read back.
	Lost int `json:"lost"`
	// Duplicated counts extra copies of a sequence number, acknowledged or not.
	Duplicated int `json:"duplicated"`
	// OutOfOrder counts records read after a record of a higher sequence number in
	// the same partition (a duplicate counts only as a duplicate).
	OutOfOrder int `json:"out_of_order"`
	// Misplaced counts logged records read back only at another partition or
	// offset than the one acknowledged.
	Misplaced int `json:"misplaced"`
	// Corrupted counts logged records whose value at the acknowledged place has
	// another checksum, and records of the run whose key is not a sequence number.
	Corrupted  int               `json:"corrupted"`
	Partitions []PartitionResult `json:"partitions"`
	// Problems describes the first discrepancies, for people.
	Problems []string `json:"problems,omitempty"`
}

// PartitionResult is one partition's counts.
type PartitionResult struct {
	Partition  int32 `json:"partition"`
	Acked      int   `json:"acked"`
	Read       int   `json:"read"`
	Lost       int   `json:"lost"`
	Duplicated int   `json:"duplicated"`
	OutOfOrder int   `json:"out_of_order"`
}

// Err is nil when the check found nothing wrong.
func (r Result) Err() error {
	if r.Lost+r.Duplicated+r.OutOfOrder+r.Misplaced+r.Corrupted == 0 {
		return nil
	}
	msg := fmt.Sprintf("independent check: %d lost, %d duplicated, %d out of order, %d misplaced, %d corrupted of %d acknowledged records",
		r.Lost, r.Duplicated, r.OutOfOrder, r.Misplaced, r.Corrupted, r.Acked)
	if len(r.Problems) > 0 {
		msg += ": " + strings.Join(r.Problems, "; ")
	}
	return errors.New(msg)
}

// Check reads log.Topic back from the cluster at brokers and compares it with log.
// conn are how to connect (TLS, SASL), nothing else. It returns an error only
// when it could not read the topic; what it found wrong is in the Result.
func Check(ctx context.Context, brokers []string, log *Log, conn ...kgo.Opt) (Result, error) {
	c := newChecker(log)
	starts, ends, err := offsetRange(ctx, brokers, log.Topic, conn)
	if err != nil {
		return c.result(), err
	}
	for p := range ends {
		c.partition(p)
	}
	if err := c.read(ctx, brokers, starts, ends, conn); err != nil {
		return c.result(), err
	}
	return c.result(), nil
}

// sequenceState is what was read of one sequence number.
type sequenceState struct {
	copies int
	// intact: a copy was read at the acknowledged place with the logged checksum;
	// damaged: a copy there had another checksum.
	intact, damaged bool
}

type checker struct {
	log   *Log
	acks  map[int64]Ack
	seqs  map[int64]*sequenceState
	last  map[int32]int64 // partition -> highest sequence number read there
	parts map[int32]*PartitionResult
	res   Result
	extra int
}

func newChecker(log *Log) *checker {
	c := &checker{
		log: log, acks: make(map[int64]Ack, len(log.Acks)), seqs: make(map[int64]*sequenceState),
		last: make(map[int32]int64), parts: make(map[int32]*PartitionResult),
		res: Result{Run: log.Run, Topic: log.Topic, Acked: len(log.Acks)},
	}
	for _, a := range log.Acks {
		if prev, ok := c.acks[a.Seq]; ok {
			c.res.Duplicated++
			c.problem("the log lists sequence %d twice: at partition %d offset %d and at partition %d offset %d", a.Seq, prev.Partition, prev.Offset, a.Partition, a.Offset)
			continue
		}
		c.acks[a.Seq] = a
		c.partition(a.Partition).Acked++
	}
	return c
}

func (c *checker) partition(p int32) *PartitionResult {
	pr, ok := c.parts[p]
	if !ok {
		pr = &PartitionResult{Partition: p}
		c.parts[p] = pr
	}
	return pr
}

// offsetRange lists the log start and end offset of every partition of topic.
func offsetRange(ctx context.Context, brokers []string, topic string, conn []kgo.Opt) (starts, ends map[int32]int64, err error) {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...)}, conn...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("independent check: client: %w", err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	list := func(which string, fn func(context.Context, ...string) (kadm.ListedOffsets, error)) (map[int32]int64, error) {
		listed, err := fn(ctx, topic)
		if err == nil {
			err = listed.Error()
		}
		if err != nil {
			return nil, fmt.Errorf("independent check: list %s offsets of %q: %w", which, topic, err)
		}
		out := make(map[int32]int64)
		listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
		if len(out) == 0 {
			return nil, fmt.Errorf("independent check: topic %q has no partitions", topic)
		}
		return out, nil
	}
	if starts, err = list("start", adm.ListStartOffsets); err != nil {
		return nil, nil, err
	}
	ends, err = list("end", adm.ListEndOffsets)
	return starts, ends, err
}

// read consumes every partition from its start to its end offset.
func (c *checker) read(ctx context.Context, brokers []string, starts, ends map[int32]int64, conn []kgo.Opt) error {
	pending := make(map[int32]int64) // partition -> end offset still to reach
	assign := make(map[int32]kgo.Offset)
	for p, end := range ends {
		if starts[p] < end {
			pending[p] = end
			assign[p] = kgo.NewOffset().At(starts[p])
		}
	}
	if len(pending) == 0 {
		return nil
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{c.log.Topic: assign})}, conn...)...)
	if err != nil {
		return fmt.Errorf("independent check: consumer: %w", err)
	}
	defer cl.Close()
	reached := make(map[int32]int64)
	for len(pending) > 0 {
		pctx, cancel := context.WithTimeout(ctx, idleTimeout)
		fetches := cl.PollFetches(pctx)
		cancel()
		n := 0
		fetches.EachRecord(func(r *kgo.Record) {
			n++
			reached[r.Partition] = r.Offset + 1
			end, ok := pending[r.Partition]
			if !ok || r.Offset >= end {
				delete(pending, r.Partition) // written after the check began
				return
			}
			c.record(r)
			if r.Offset+1 >= end {
				delete(pending, r.Partition)
			}
		})
		if ctx.Err() != nil {
			return fmt.Errorf("independent check: read back: %w", ctx.Err())
		}
		if n > 0 {
			continue
		}
		var errs []error
		for _, fe := range fetches.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) {
				errs = append(errs, fmt.Errorf("partition %d: %w", fe.Partition, fe.Err))
			}
		}
		if len(errs) == 0 {
			errs = append(errs, fmt.Errorf("no record for %s", idleTimeout))
		}
		var where []string
		for _, p := range slices.Sorted(maps.Keys(pending)) {
			where = append(where, fmt.Sprintf("partition %d at offset %d of %d", p, max(reached[p], starts[p]), pending[p]))
		}
		return fmt.Errorf("independent check: read back stopped (%s): %w", strings.Join(where, ", "), errors.Join(errs...))
	}
	return nil
}

// record checks one record read back.
func (c *checker) record(r *kgo.Record) {
	if runOf(r) != c.log.Run {
		c.res.Other++
		return
	}
	pr := c.partition(r.Partition)
	c.res.Read++
	pr.Read++
	at := fmt.Sprintf("partition %d offset %d", r.Partition, r.Offset)
	seq, ok := decodeSequence(r.Key)
	if !ok {
		c.res.Corrupted++
		c.problem("%s: key %q is not a sequence number", at, r.Key)
		return
	}
	st := c.seqs[seq]
	if st == nil {
		st = &sequenceState{}
		c.seqs[seq] = st
	}
	st.copies++
	switch last, ok := c.last[r.Partition]; {
	case st.copies > 1:
		c.res.Duplicated++
		pr.Duplicated++
		c.problem("sequence %d read again at %s", seq, at)
	case ok && seq < last:
		c.res.OutOfOrder++
		pr.OutOfOrder++
		c.problem("sequence %d read at %s, after sequence %d", seq, at, last)
	default:
		c.last[r.Partition] = seq
	}
	a, acked := c.acks[seq]
	switch {
	case !acked:
		c.res.Unacked++
	case a.Partition != r.Partition || a.Offset != r.Offset:
		// Judged at the end: another copy may be at the right place.
	case Checksum(r.Value) != a.CRC:
		st.damaged = true
		c.res.Corrupted++
		c.problem("sequence %d at %s: value checksum %08x, acknowledged with %08x", seq, at, Checksum(r.Value), a.CRC)
	default:
		st.intact = true
	}
}

// result adds up what was not read back, or only elsewhere.
func (c *checker) result() Result {
	res := c.res
	var lost, moved []int64
	for seq, a := range c.acks {
		st := c.seqs[seq]
		switch {
		case st == nil:
			lost = append(lost, seq)
			c.parts[a.Partition].Lost++
		case !st.intact && !st.damaged:
			moved = append(moved, seq)
		}
	}
	slices.Sort(lost)
	slices.Sort(moved)
	res.Lost, res.Misplaced = len(lost), len(moved)
	res.Problems = slices.Clone(res.Problems)
	extra := c.extra
	note := func(msg string) {
		if len(res.Problems) < maxProblems {
			res.Problems = append(res.Problems, msg)
		} else {
			extra++
		}
	}
	for _, seq := range lost {
		a := c.acks[seq]
		note(fmt.Sprintf("sequence %d, acknowledged at partition %d offset %d, never read back", seq, a.Partition, a.Offset))
	}
	for _, seq := range moved {
		a := c.acks[seq]
		note(fmt.Sprintf("sequence %d, acknowledged at partition %d offset %d, read back only elsewhere", seq, a.Partition, a.Offset))
	}
	if extra > 0 {
		res.Problems = append(res.Problems, fmt.Sprintf("and %d more", extra))
	}
	for _, p := range slices.Sorted(maps.Keys(c.parts)) {
		res.Partitions = append(res.Partitions, *c.parts[p])
	}
	return res
}

func (c *checker) problem(format string, args ...any) {
	if len(c.res.Problems) == maxProblems {
		c.extra++
		return
	}
	c.res.Problems = append(c.res.Problems, fmt.Sprintf(format, args...))
}

// runOf is the run id a record carries in its header, "" if none.
func runOf(r *kgo.Record) string {
	for _, h := range r.Headers {
		if h.Key == RunHeader {
			return string(h.Value)
		}
	}
	return ""
}

// decodeSequence reads a key written as a decimal sequence number: digits only,
// no sign, no leading zero.
func decodeSequence(key []byte) (int64, bool) {
	if len(key) == 0 || len(key) > 18 || (key[0] == '0' && len(key) > 1) {
		return 0, false
	}
	var n int64
	for _, b := range key {
		if b < '0' || b > '9' {
			return 0, false
		}
		n = n*10 + int64(b-'0')
	}
	return n, true
}
