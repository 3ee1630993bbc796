package orders_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kraftlab/kraftlab/cluster/kafkatest"
	"github.com/kraftlab/kraftlab/examples/gotest/orders"
)

// One three-node lab for the package: it starts with the first test that asks for
// it and is removed when the tests are done.
func TestMain(m *testing.M) { kafkatest.Main(m, kafkatest.Nodes(3)) }

// A second worker joining the group takes half the partitions; when it leaves, the
// first takes them back, and every order is handled along the way.
func TestRebalance(t *testing.T) {
	lab := kafkatest.Shared(t)
	topic, group := kafkatest.TopicName(t), kafkatest.GroupName(t)
	lab.CreateTopic(t, topic, 4, 3, nil)
	handled := newHandled()

	a := startWorker(t, lab, topic, group, handled.by("a"))
	eventually(t, "worker a to hold all 4 partitions", func() bool { return len(a.Assigned()) == 4 })
	publish(t, lab, topic, 0, 100)
	handled.waitFor(t, 0, 100)

	b := startWorker(t, lab, topic, group, handled.by("b"))
	eventually(t, "workers a and b to hold 2 partitions each", func() bool {
		pa, pb := a.Assigned(), b.Assigned()
		return len(pa) == 2 && len(pb) == 2 && !slices.ContainsFunc(pa, func(p int32) bool { return slices.Contains(pb, p) })
	})
	publish(t, lab, topic, 100, 200)
	handled.waitFor(t, 100, 200)
	if n := handled.count("b"); n == 0 {
		t.Errorf("worker b handled no order after the rebalance")
	}

	b.Close()
	eventually(t, "worker a to hold all 4 partitions again", func() bool { return len(a.Assigned()) == 4 })
	publish(t, lab, topic, 200, 300)
	handled.waitFor(t, 200, 300)
}

// The partition leader is killed while orders are being published: publishing goes
// on, and every order Kafka acknowledged can be read back.
func TestLeaderKilledWhilePublishing(t *testing.T) {
	lab := kafkatest.Shared(t)
	topic := kafkatest.TopicName(t)
	lab.CreateTopic(t, topic, 1, 3, map[string]string{"min.insync.replicas": "2"})
	pub, err := orders.NewPublisher(lab.Brokers(), topic)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

	var mu sync.Mutex
	acked := map[int]bool{}
	ackedCount := func() int { mu.Lock(); defer mu.Unlock(); return len(acked) }
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for id := 0; ctx.Err() == nil; id++ {
			if err := pub.Publish(ctx, orders.Order{ID: id, Customer: orders.CustomerOf(id)}); err == nil {
				mu.Lock()
				acked[id] = true
				mu.Unlock()
			}
		}
	}()

	eventually(t, "100 orders acknowledged", func() bool { return ackedCount() >= 100 })
	leader := lab.Leader(t, topic, 0)
	lab.Kill(t, leader)
	before := ackedCount()
	eventually(t, "100 more orders acknowledged with the leader dead", func() bool { return ackedCount() >= before+100 })
	stop()
	<-done
	// The lab is shared: bring the node back for the tests that follow.
	lab.Start(t, leader)

	read := map[int]bool{}
	cl := lab.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	rctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for missing := len(acked); missing > 0; {
		fetches := cl.PollFetches(rctx)
		if err := fetches.Err0(); err != nil {
			t.Fatalf("read back with %d acknowledged orders missing: %v", missing, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			var o orders.Order
			if json.Unmarshal(r.Value, &o) == nil && acked[o.ID] && !read[o.ID] {
				read[o.ID] = true
				missing--
			}
		})
	}
	t.Logf("node %d, the leader, was killed after %d orders; all %d acknowledged orders read back", leader, before, len(acked))
}

func startWorker(t *testing.T, lab *kafkatest.Lab, topic, group string, handle func(orders.Order)) *orders.Worker {
	t.Helper()
	w, err := orders.NewWorker(lab.Brokers(), topic, group, handle)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		w.Close()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	return w
}

func publish(t *testing.T, lab *kafkatest.Lab, topic string, from, to int) {
	t.Helper()
	pub, err := orders.NewPublisher(lab.Brokers(), topic)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	for id := from; id < to; id++ {
		if err := pub.Publish(t.Context(), orders.Order{ID: id, Customer: orders.CustomerOf(id)}); err != nil {
			t.Fatalf("publish order %d: %v", id, err)
		}
	}
}

// handled records which worker handled each order (the last one to, since a
// rebalance may hand an order to a second worker).
type handled struct {
	mu  sync.Mutex
	who map[int]string
}

func newHandled() *handled { return &handled{who: map[int]string{}} }

// by is worker's handler.
func (h *handled) by(worker string) func(orders.Order) {
	return func(o orders.Order) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.who[o.ID] = worker
	}
}

func (h *handled) count(worker string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, w := range h.who {
		if w == worker {
			n++
		}
	}
	return n
}

// waitFor waits until orders from..to-1 have all been handled.
func (h *handled) waitFor(t *testing.T, from, to int) {
	t.Helper()
	eventually(t, fmt.Sprintf("orders %d to %d handled", from, to-1), func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		for id := from; id < to; id++ {
			if h.who[id] == "" {
				return false
			}
		}
		return true
	})
}

// eventually polls cond until it holds, failing the test after a minute.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		<-tick.C
	}
}
