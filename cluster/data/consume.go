package data

// This file owns consuming: where a consumer starts, when it stops (a count, an
// idle timeout, the end of the topic as it was at the start, or the caller's
// context), and committing only what was delivered.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// commitTimeout bounds the final offset commit, which runs even after the caller's
// context ended.
const commitTimeout = 10 * time.Second

// ConsumeOptions says what Consume reads and when it stops. By default it starts
// at the end of every partition, like kafka-console-consumer: only new records.
type ConsumeOptions struct {
	// ClientOpts are added to every client it opens: TLS and SASL for a secured
	// cluster.
	ClientOpts    []kgo.Opt
	Topic         string
	FromBeginning bool   // start at the earliest offset of every partition
	Offset        *int64 // start every partition at this offset
	Max           int    // stop after this many records; 0 means no limit
	// Group consumes as this consumer group and commits the delivered records. A
	// group with committed offsets resumes from them; FromBeginning and Offset
	// only apply to a group without any. Empty means no group and no commits.
	Group       string
	IdleTimeout time.Duration // stop after this long without a record; 0 means never
	// ExitAtEnd stops once every partition's end offset as of the start has been
	// reached (kcat -e); records written after the start are left alone. With
	// nothing to read it returns at once.
	ExitAtEnd bool
	// OnStart, if set, is called once before the first record with whether the
	// consumer starts at the end of the topic (no start asked for, and no group
	// offsets committed for it), i.e. only waits for new records.
	OnStart func(atEnd bool)
}

func (o ConsumeOptions) validate() error {
	var problems []error
	if err := ValidateTopicName(o.Topic); err != nil {
		problems = append(problems, err)
	}
	if o.FromBeginning && o.Offset != nil {
		problems = append(problems, errors.New("start from the beginning or from an offset, not both"))
	}
	if o.Offset != nil && *o.Offset < 0 {
		problems = append(problems, fmt.Errorf("offset %d: want 0 or more", *o.Offset))
	}
	if o.Max < 0 {
		problems = append(problems, fmt.Errorf("max records %d: want 0 (no limit) or more", o.Max))
	}
	if o.IdleTimeout < 0 {
		problems = append(problems, fmt.Errorf("idle timeout %s: want 0 (none) or more", o.IdleTimeout))
	}
	return usage.Errors(problems)
}

// Consume calls fn for each record of o.Topic, in order within each partition,
// and returns how many it delivered. Ending ctx is a normal way to stop it (an
// unbounded consume has no other), so that returns no error. An error from fn
// stops the consume and is returned.
func Consume(ctx context.Context, brokers []string, o ConsumeOptions, fn func(*kgo.Record) error) (int, error) {
	if err := o.validate(); err != nil {
		return 0, err
	}
	start := kgo.NewOffset().AtEnd()
	switch {
	case o.FromBeginning:
		start = kgo.NewOffset().AtStart()
	case o.Offset != nil:
		start = kgo.NewOffset().At(*o.Offset)
	}
	var extra []kgo.Opt
	if o.ExitAtEnd {
		// Transaction markers take up offsets too: without them a partition whose
		// last offset is a marker would never be seen to end.
		extra = append(extra, kgo.KeepControlRecords())
	}
	cl, err := newConsumer(brokers, o.Topic, start, o.Group, append(extra, o.ClientOpts...)...)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	// A consumer of a missing topic would wait forever for it; say so instead.
	if _, _, err := topicMetadata(ctx, cl, o.Topic); err != nil {
		return 0, fmt.Errorf("consume %q: %w", o.Topic, err)
	}
	plan, err := planConsume(ctx, cl, o)
	if err != nil {
		return 0, fmt.Errorf("consume %q: %w", o.Topic, err)
	}
	if o.OnStart != nil {
		o.OnStart(plan.atEnd)
	}
	if o.ExitAtEnd && len(plan.ends) == 0 {
		return 0, nil
	}

	n := 0
	err = pollRecords(ctx, cl, o.IdleTimeout, func(r *kgo.Record) (bool, error) {
		if o.ExitAtEnd {
			end, reading := plan.ends[r.Partition]
			if !reading || r.Offset >= end {
				return true, nil // written after the start, or a finished partition
			}
			if r.Offset >= end-1 {
				delete(plan.ends, r.Partition)
			}
			if r.Attrs.IsControl() {
				// Kept only to see a partition end on a transaction marker.
				return len(plan.ends) > 0, nil
			}
		}
		if err := fn(r); err != nil {
			return false, err
		}
		n++
		cl.MarkCommitRecords(r)
		return (o.Max == 0 || n < o.Max) && (!o.ExitAtEnd || len(plan.ends) > 0), nil
	})
	if o.Group != "" {
		err = errors.Join(err, commitMarked(ctx, cl))
	}
	return n, err
}

// consumePlan is where a consume starts, as far as it can be known up front.
type consumePlan struct {
	atEnd bool // starts at the end of every partition: only new records
	// ends holds, with ExitAtEnd, the end offset of every partition that has
	// records to read between where the consumer starts and the end at the start.
	ends map[int32]int64
}

// planConsume works out where each partition starts: a group's committed offset,
// else the start asked for, else the end.
func planConsume(ctx context.Context, cl *kgo.Client, o ConsumeOptions) (consumePlan, error) {
	adm := kadm.NewClient(cl)
	committed := make(map[int32]int64)
	if o.Group != "" {
		offsets, err := adm.FetchOffsets(ctx, o.Group)
		if errors.Is(err, kerr.GroupIDNotFound) {
			err = nil // a group never seen: nothing committed
		}
		if err != nil {
			return consumePlan{}, fmt.Errorf("fetch committed offsets of group %q: %w", o.Group, err)
		}
		for p, r := range offsets[o.Topic] {
			if r.Err == nil && r.At >= 0 {
				committed[p] = r.At
			}
		}
	}
	plan := consumePlan{atEnd: !o.FromBeginning && o.Offset == nil && len(committed) == 0}
	if !o.ExitAtEnd {
		return plan, nil
	}
	starts, err := listOffsets(ctx, adm, o.Topic, false)
	if err != nil {
		return consumePlan{}, err
	}
	ends, err := listOffsets(ctx, adm, o.Topic, true)
	if err != nil {
		return consumePlan{}, err
	}
	plan.ends = make(map[int32]int64)
	for p, end := range ends {
		from, ok := committed[p]
		switch {
		case ok:
		case o.FromBeginning:
			from = starts[p]
		case o.Offset != nil:
			from = *o.Offset
		default:
			from = end
		}
		if max(from, starts[p]) < end {
			plan.ends[p] = end
		}
	}
	return plan, nil
}

// listOffsets returns the end (or, with end false, the log start) offset of every
// partition of topic.
func listOffsets(ctx context.Context, adm *kadm.Client, topic string, end bool) (map[int32]int64, error) {
	list, which := adm.ListStartOffsets, "start"
	if end {
		list, which = adm.ListEndOffsets, "end"
	}
	offsets, err := list(ctx, topic)
	if err == nil {
		err = offsets.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list %s offsets: %w", which, err)
	}
	out := make(map[int32]int64)
	offsets.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}

// newConsumer returns a client reading topic from start, in group if one is given,
// with any extra options.
func newConsumer(brokers []string, topic string, start kgo.Offset, group string, extra ...kgo.Opt) (*kgo.Client, error) {
	opts := append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(start)}, extra...)
	if group != "" {
		// Commit what was handed to the caller, not all that was fetched: a consume
		// stopped after N records leaves the rest for the next one.
		opts = append(opts, kgo.ConsumerGroup(group), kgo.AutoCommitMarks())
	}
	return NewClient(brokers, opts...)
}

// commitMarked commits the marked records even when ctx has ended: Ctrl-C is how
// most consumes end, and what was delivered must not be delivered again.
func commitMarked(ctx context.Context, cl *kgo.Client) error {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	defer cancel()
	if err := cl.CommitMarkedOffsets(cctx); err != nil {
		return fmt.Errorf("commit offsets: %w", err)
	}
	return nil
}

// pollRecords feeds fetched records to fn until fn says stop or fails, idle passes
// without a record (when idle > 0), or ctx ends; only fn's error or a fetch error
// is returned.
func pollRecords(ctx context.Context, cl *kgo.Client, idle time.Duration, fn func(*kgo.Record) (more bool, err error)) error {
	for {
		pctx, cancel := ctx, context.CancelFunc(func() {})
		if idle > 0 {
			pctx, cancel = context.WithTimeout(ctx, idle)
		}
		fetches := cl.PollFetches(pctx)
		cancel()
		for it := fetches.RecordIter(); !it.Done(); {
			more, err := fn(it.Next())
			if err != nil || !more {
				return err
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		for _, fe := range fetches.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) {
				return nil // idle: the poll's own deadline passed
			}
			return fmt.Errorf("fetch %s partition %d: %w", fe.Topic, fe.Partition, fe.Err)
		}
	}
}
