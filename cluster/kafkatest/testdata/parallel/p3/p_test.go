// Package p3 is one of four identical packages that kafkatest's own tests run at
// once (go test -p 4), each with a lab of its own, to check that labs started side
// by side by separate test binaries never collide.
package p3

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kraftlab/kraftlab/cluster/kafkatest"
)

func TestMain(m *testing.M) { kafkatest.Main(m) }

func TestRoundTrip(t *testing.T) {
	lab := kafkatest.Shared(t)
	fmt.Printf("BROKERS %s %s\n", lab.Name(), strings.Join(lab.Brokers(), ","))
	topic := kafkatest.TopicName(t)
	lab.CreateTopic(t, topic, 1, 1, nil)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	const n = 100
	var records []*kgo.Record
	for i := range n {
		records = append(records, &kgo.Record{Topic: topic, Value: []byte(strconv.Itoa(i))})
	}
	if err := lab.Client(t).ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	cl := lab.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(kafkatest.GroupName(t)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	for got := 0; got < n; {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err0(); err != nil {
			t.Fatalf("consume after %d of %d records: %v", got, n, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if want := strconv.Itoa(got); string(r.Value) != want {
				t.Fatalf("record %d: got %q, want %q", got, r.Value, want)
			}
			got++
		})
	}
}
