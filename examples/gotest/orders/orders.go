// Package orders is a small producer and consumer, here to be tested against real
// Kafka with kafkatest: a Publisher that returns once Kafka has acknowledged an
// order, and a Worker that handles orders as one member of a consumer group.
package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Order is what the shop sells.
type Order struct {
	ID       int    `json:"id"`
	Customer string `json:"customer"`
}

// Publisher writes orders, keyed by customer so one customer's orders stay in order.
type Publisher struct {
	cl *kgo.Client
}

// NewPublisher returns a publisher writing to topic. Every order is acknowledged by
// all in-sync replicas (acks=all) and written once even when retried (idempotence):
// franz-go's defaults, spelt out.
func NewPublisher(brokers []string, topic string) (*Publisher, error) {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
	)
	if err != nil {
		return nil, err
	}
	return &Publisher{cl: cl}, nil
}

// Publish returns nil once Kafka has acknowledged the order.
func (p *Publisher) Publish(ctx context.Context, o Order) error {
	v, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return p.cl.ProduceSync(ctx, &kgo.Record{Key: []byte(o.Customer), Value: v}).FirstErr()
}

// Close closes the publisher.
func (p *Publisher) Close() { p.cl.Close() }

// Worker handles the orders of the partitions its group gives it.
type Worker struct {
	cl     *kgo.Client
	handle func(Order)

	mu       sync.Mutex
	assigned map[int32]bool
}

// NewWorker returns a member of group reading topic from its start; Run handles
// the orders.
func NewWorker(brokers []string, topic, group string, handle func(Order)) (*Worker, error) {
	w := &Worker{handle: handle, assigned: map[int32]bool{}}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(brokers...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumerGroup(group),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { w.track(m[topic], true) }),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { w.track(m[topic], false) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) { w.track(m[topic], false) }),
	)
	if err != nil {
		return nil, err
	}
	w.cl = cl
	return w, nil
}

func (w *Worker) track(partitions []int32, assigned bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range partitions {
		if assigned {
			w.assigned[p] = true
		} else {
			delete(w.assigned, p)
		}
	}
}

// Assigned lists the partitions the worker holds now.
func (w *Worker) Assigned() []int32 {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int32
	for p := range w.assigned {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// Run handles orders until ctx ends or the worker is closed; offsets are committed
// as it goes (at least once: an order may be handled again after a rebalance).
func (w *Worker) Run(ctx context.Context) error {
	for {
		fetches := w.cl.PollFetches(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return nil
		}
		var err error
		fetches.EachError(func(topic string, p int32, e error) { err = fmt.Errorf("%s/%d: %w", topic, p, e) })
		if err != nil {
			return err
		}
		fetches.EachRecord(func(r *kgo.Record) {
			var o Order
			if json.Unmarshal(r.Value, &o) == nil {
				w.handle(o)
			}
		})
	}
}

// Close leaves the group, handing the worker's partitions to the others.
func (w *Worker) Close() { w.cl.Close() }

// CustomerOf spreads test orders over customers.
func CustomerOf(id int) string { return "customer-" + strconv.Itoa(id%7) }
