package data

// This file owns consuming: where a consumer starts, when it stops (a count, an
// idle timeout, or the caller's context), and committing only what was delivered.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kgo"
)

// commitTimeout bounds the final offset commit, which runs even after the caller's
// context ended.
const commitTimeout = 10 * time.Second

// ConsumeOptions says what Consume reads and when it stops. By default it starts
// at the end of every partition, like kafka-console-consumer: only new records.
type ConsumeOptions struct {
	Topic         string
	FromBeginning bool   // start at the earliest offset of every partition
	Offset        *int64 // start every partition at this offset
	Max           int    // stop after this many records; 0 means no limit
	// Group consumes as this consumer group and commits the delivered records. A
	// group with committed offsets resumes from them; FromBeginning and Offset
	// only apply to a group without any. Empty means no group and no commits.
	Group       string
	IdleTimeout time.Duration // stop after this long without a record; 0 means never
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
	cl, err := newConsumer(brokers, o.Topic, start, o.Group)
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	// A consumer of a missing topic would wait forever for it; say so instead.
	if _, _, err := topicMetadata(ctx, cl, o.Topic); err != nil {
		return 0, fmt.Errorf("consume %q: %w", o.Topic, err)
	}

	n := 0
	err = pollRecords(ctx, cl, o.IdleTimeout, func(r *kgo.Record) (bool, error) {
		if err := fn(r); err != nil {
			return false, err
		}
		n++
		cl.MarkCommitRecords(r)
		return o.Max == 0 || n < o.Max, nil
	})
	if o.Group != "" {
		err = errors.Join(err, commitMarked(ctx, cl))
	}
	return n, err
}

// newConsumer returns a client reading topic from start, in group if one is given.
func newConsumer(brokers []string, topic string, start kgo.Offset, group string) (*kgo.Client, error) {
	opts := []kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(start)}
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
