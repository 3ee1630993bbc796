package data

// This file owns the continuous workload that runs while faults are injected: a
// paced, idempotent acks=all producer of smoke records, a consumer reading along,
// the times with no successful produce, and the verification at the end that
// every acknowledged record is readable exactly once, in order per partition.

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// WorkloadOptions says what the workload writes.
type WorkloadOptions struct {
	// ClientOpts are added to every client it opens: TLS and SASL for a secured
	// cluster.
	ClientOpts []kgo.Opt
	Topic      string
	RecordSize int // bytes per record; 0 = DefaultSmokeRecordSize
	Rate       int // records per second; 0 = 500
	// DeliveryTimeout bounds how long one record may wait for an ack, across
	// leader elections and restarts; 0 = 2 minutes, longer than any fault here.
	DeliveryTimeout time.Duration
	// Run names this workload's records (see NewRunID); "" = a fresh run id.
	Run string
	// OnAck, if set, is called for every acknowledged record with its sequence
	// number, one call at a time, as the acknowledgements arrive.
	OnAck func(seq int64, r *kgo.Record)
}

// RunHeader is the record header carrying the run id, so that a reader which does
// not decode the value can still tell this run's records from others. The key is
// the sequence number in decimal.
const RunHeader = "kraftlab-run"

// NewRunID returns a fresh run id: runIDLen characters of a-z and 2-7.
func NewRunID() string { return strings.ToLower(rand.Text()[:runIDLen]) }

// gapFloor is the shortest time without a successful produce that the workload
// keeps as a gap: acknowledgements normally come every few milliseconds, and a
// pause this long already means the cluster held writes up.
const gapFloor = 100 * time.Millisecond

// Gap is a time with no successful produce: from one acknowledgement to the next.
type Gap struct {
	StartS float64 `json:"start_s"` // since the workload started
	S      float64 `json:"s"`
	// Open is a gap still going on when it was reported: no acknowledgement since.
	Open bool `json:"open,omitempty"`
}

// WorkloadStats is what the workload has seen so far.
type WorkloadStats struct {
	Sent     int     `json:"sent"`
	Acked    int     `json:"acked"`
	Failed   int     `json:"failed"` // records that ended in an error (not acknowledged)
	LiveRead int64   `json:"live_read"`
	MaxGapS  float64 `json:"max_gap_s"` // longest time with no successful produce
	// FirstError is the first produce error, for people.
	FirstError string `json:"first_error,omitempty"`
}

// Workload is a running producer and consumer.
type Workload struct {
	o       WorkloadOptions
	run     string
	brokers []string

	prod, live *kgo.Client
	stop       context.CancelFunc
	done       sync.WaitGroup

	started time.Time

	mu       sync.Mutex
	acked    map[int64]int32 // seq -> partition
	ends     map[int32]int64 // partition -> highest acknowledged offset
	sent     int
	failed   int
	firstErr error
	lastAck  time.Time
	maxGap   time.Duration
	gaps     []Gap // every gap of at least gapFloor, in order
	stopped  bool
	liveRead atomic.Int64
}

// StartWorkload starts producing to o.Topic (which must exist) and reading along.
func StartWorkload(ctx context.Context, brokers []string, o WorkloadOptions) (*Workload, error) {
	if o.RecordSize == 0 {
		o.RecordSize = DefaultSmokeRecordSize
	}
	if o.Rate == 0 {
		o.Rate = 500
	}
	if o.DeliveryTimeout == 0 {
		o.DeliveryTimeout = 2 * time.Minute
	}
	if o.RecordSize < MinRecordSize {
		return nil, fmt.Errorf("record size %d: at least %d", o.RecordSize, MinRecordSize)
	}
	if o.Run == "" {
		o.Run = NewRunID()
	}
	if len(o.Run) != runIDLen || strings.Trim(o.Run, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return nil, fmt.Errorf("run id %q: want %d characters of a-z and 0-9 (see NewRunID)", o.Run, runIDLen)
	}
	opts, err := producerOptions("all")
	if err != nil {
		return nil, err
	}
	prod, err := NewClient(brokers, append(append(opts, kgo.RecordDeliveryTimeout(o.DeliveryTimeout), kgo.MaxBufferedRecords(4*o.Rate+1)), o.ClientOpts...)...)
	if err != nil {
		return nil, err
	}
	live, err := newConsumer(brokers, o.Topic, kgo.NewOffset().AtStart(), "", o.ClientOpts...)
	if err != nil {
		prod.Close()
		return nil, err
	}
	now := time.Now()
	w := &Workload{
		o: o, run: o.Run, brokers: brokers, prod: prod, live: live, started: now,
		acked: make(map[int64]int32), ends: make(map[int32]int64), lastAck: now,
	}
	wctx, cancel := context.WithCancel(ctx)
	w.stop = cancel
	w.done.Add(2)
	go w.produce(wctx)
	go w.readAlong(wctx)
	return w, nil
}

// produce sends Rate records per second until ctx ends. Records are produced under
// a context that Stop does not cancel, so what was sent can still be acknowledged
// while Stop flushes. When the cluster cannot take writes the client's buffer fills;
// the loop then waits rather than block, and catches up when the cluster does.
func (w *Workload) produce(ctx context.Context) {
	defer w.done.Done()
	const tick = 10 * time.Millisecond
	t := time.NewTicker(tick)
	defer t.Stop()
	pctx := context.WithoutCancel(ctx)
	start := time.Now()
	var seq int64
	runHeader := []kgo.RecordHeader{{Key: RunHeader, Value: []byte(w.run)}}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		due := int64(time.Since(start).Seconds() * float64(w.o.Rate))
		for ; seq < due && w.prod.BufferedProduceRecords() < w.maxBuffered(); seq++ {
			s := seq
			r := &kgo.Record{Topic: w.o.Topic, Key: strconv.AppendInt(nil, s, 10), Value: encodePayload(w.run, s, w.o.RecordSize), Headers: runHeader}
			w.mu.Lock()
			w.sent++
			w.mu.Unlock()
			w.prod.Produce(pctx, r, func(r *kgo.Record, err error) { w.settle(s, r, err) })
		}
	}
}

// maxBuffered bounds the records waiting for an ack: a few seconds' worth.
func (w *Workload) maxBuffered() int64 { return int64(4 * w.o.Rate) }

func (w *Workload) settle(seq int64, r *kgo.Record, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err != nil {
		w.failed++
		if w.firstErr == nil {
			w.firstErr = err
		}
		return
	}
	w.noteAck(time.Now())
	w.acked[seq] = r.Partition
	w.ends[r.Partition] = max(w.ends[r.Partition], r.Offset)
	if w.o.OnAck != nil {
		w.o.OnAck(seq, r)
	}
}

// noteAck ends the time without a successful produce at now; w.mu is held.
func (w *Workload) noteAck(now time.Time) {
	gap := now.Sub(w.lastAck)
	w.maxGap = max(w.maxGap, gap)
	if gap >= gapFloor {
		w.gaps = append(w.gaps, Gap{StartS: w.lastAck.Sub(w.started).Seconds(), S: gap.Seconds()})
	}
	w.lastAck = now
}

// LastAck is when the last record was acknowledged; zero before the first.
func (w *Workload) LastAck() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.acked) == 0 {
		return time.Time{}
	}
	return w.lastAck
}

// Run is the run id the workload's records carry.
func (w *Workload) Run() string { return w.run }

// Started is when the workload started; gaps are timed from it.
func (w *Workload) Started() time.Time { return w.started }

// Gaps lists every time with no successful produce of at least least, in order,
// including one still going on.
func (w *Workload) Gaps(least time.Duration) []Gap {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := []Gap{}
	for _, g := range w.gaps {
		if g.S >= least.Seconds() {
			out = append(out, g)
		}
	}
	if open := time.Since(w.lastAck); open >= max(least, gapFloor) && !w.stopped {
		out = append(out, Gap{StartS: w.lastAck.Sub(w.started).Seconds(), S: open.Seconds(), Open: true})
	}
	return out
}

// readAlong consumes the topic as it is written, as an application would, so the
// run shows consumers riding through the faults too.
func (w *Workload) readAlong(ctx context.Context) {
	defer w.done.Done()
	_ = pollRecords(ctx, w.live, 0, func(*kgo.Record) (bool, error) {
		w.liveRead.Add(1)
		return true, nil
	})
}

// Stats returns the counts so far.
func (w *Workload) Stats() WorkloadStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := WorkloadStats{
		Sent: w.sent, Acked: len(w.acked), Failed: w.failed,
		LiveRead: w.liveRead.Load(), MaxGapS: w.maxGap.Seconds(),
	}
	if w.firstErr != nil {
		st.FirstError = w.firstErr.Error()
	}
	return st
}

// Stop ends producing, waits until every record sent is acknowledged or failed
// (bounded by ctx), stops the consumer, and returns the final counts.
func (w *Workload) Stop(ctx context.Context) WorkloadStats {
	// The time since the last acknowledgement is a gap too: writes may be stuck.
	w.mu.Lock()
	w.noteAck(time.Now())
	w.stopped = true
	w.mu.Unlock()
	w.stop()
	w.done.Wait()
	_ = w.prod.Flush(ctx)
	w.prod.Close()
	w.live.Close()
	return w.Stats()
}

// Verify reads the topic from the start with a fresh consumer and checks that every
// acknowledged record is there exactly once, intact, in order per partition. Call
// it after Stop.
func (w *Workload) Verify(ctx context.Context) (Verification, error) {
	v := NewVerifier(w.run)
	w.mu.Lock()
	for seq, p := range w.acked {
		v.Acked(seq, p)
	}
	w.mu.Unlock()
	if err := readBack(ctx, w.brokers, w.o.Topic, "", w.ends, v, w.o.ClientOpts...); err != nil {
		return v.Result(), err
	}
	return v.Result(), nil
}
