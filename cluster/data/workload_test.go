package data

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The workload hands every acknowledged record to OnAck, tags each with its run
// in a header and its sequence number as the key, and notes a stall of produce
// requests as a gap; its records verify.
func TestWorkload(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "wl"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Once the workload has been acknowledged a while, hold one produce request
	// for 600 ms: a time with no successful produce.
	var produces atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(kmsg.Request) (kmsg.Response, error, bool) {
		if produces.Add(1) == 20 {
			time.Sleep(600 * time.Millisecond)
		}
		return nil, nil, false
	})
	ctx := testContext(t)
	var onAck, badRecords atomic.Int64
	run := NewRunID()
	w, err := StartWorkload(ctx, c.ListenAddrs(), WorkloadOptions{
		Topic: "wl", Rate: 400, Run: run,
		OnAck: func(seq int64, r *kgo.Record) {
			onAck.Add(1)
			if string(r.Key) != strconv.FormatInt(seq, 10) || len(r.Headers) != 1 || r.Headers[0].Key != RunHeader || string(r.Headers[0].Value) != run {
				badRecords.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if w.Run() != run || !w.LastAck().IsZero() {
		t.Errorf("run %q, last ack %v before any ack", w.Run(), w.LastAck())
	}
	time.Sleep(1500 * time.Millisecond)
	if w.LastAck().Before(w.Started()) {
		t.Errorf("no acknowledgement after 1.5s: %+v", w.Stats())
	}
	st := w.Stop(ctx)
	if st.Acked == 0 || int64(st.Acked) != onAck.Load() || badRecords.Load() != 0 {
		t.Errorf("%d acknowledged, OnAck called %d times, %d records without their key or run header", st.Acked, onAck.Load(), badRecords.Load())
	}
	gaps := w.Gaps(500 * time.Millisecond)
	if len(gaps) == 0 || gaps[len(gaps)-1].S < 0.55 || st.MaxGapS < 0.55 {
		t.Errorf("the held produce request left gaps %+v, longest %.2fs", gaps, st.MaxGapS)
	}
	for _, g := range w.Gaps(0) {
		if g.S < gapFloor.Seconds() || g.Open {
			t.Errorf("gap %+v: below the floor, or open after Stop", g)
		}
	}
	v, err := w.Verify(ctx)
	if err != nil || v.Err() != nil || v.Acked != st.Acked {
		t.Errorf("verify: %+v, %v", v, err)
	}
	if _, err := StartWorkload(ctx, c.ListenAddrs(), WorkloadOptions{Topic: "wl", Run: "UPPER123"}); err == nil {
		t.Error("a run id of other characters was taken")
	}
}
