// Package bench20 is what scripts/bench-gotest times: twenty tests that share one
// lab, each writing 1,000 records to a topic of its own and reading them back in a
// consumer group of its own. With BENCH_BACKEND=kfake the same tests run against
// franz-go's in-process fake cluster instead, for the price of real Kafka.
// TestReady, run on its own with BENCH_READY_RUNS=N, times Start of a one-node lab.
package bench20

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kraftlab/kraftlab/cluster/kafkatest"
)

// fake is the kfake cluster's address, when the tests run against one.
var fake []string

func TestMain(m *testing.M) {
	if os.Getenv("BENCH_BACKEND") != "kfake" {
		kafkatest.Main(m)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fake = c.ListenAddrs()
	code := m.Run()
	c.Close()
	os.Exit(code)
}

const records = 1000

// roundTrip creates a topic, writes the records with acks=all and reads them back
// in order.
func roundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	topic := kafkatest.TopicName(t)
	var brokers []string
	if fake != nil {
		brokers = fake
		adm, err := kadm.NewOptClient(kgo.SeedBrokers(brokers...))
		if err != nil {
			t.Fatal(err)
		}
		defer adm.Close()
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, topic); err != nil {
			t.Fatal(err)
		}
	} else {
		lab := kafkatest.Shared(t)
		brokers = lab.Brokers()
		lab.CreateTopic(t, topic, 1, 1, nil)
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	batch := make([]*kgo.Record, records)
	for i := range batch {
		batch[i] = &kgo.Record{Value: []byte(strconv.Itoa(i))}
	}
	if err := prod.ProduceSync(ctx, batch...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	cons, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumerGroup(kafkatest.GroupName(t)), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	for got := 0; got < records; {
		fetches := cons.PollFetches(ctx)
		if err := fetches.Err0(); err != nil {
			t.Fatalf("consume after %d records: %v", got, err)
		}
		for _, r := range fetches.Records() {
			if string(r.Value) != strconv.Itoa(got) {
				t.Fatalf("record %d: got %q", got, r.Value)
			}
			got++
		}
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

func Test01(t *testing.T) { roundTrip(t) }
func Test02(t *testing.T) { roundTrip(t) }
func Test03(t *testing.T) { roundTrip(t) }
func Test04(t *testing.T) { roundTrip(t) }
func Test05(t *testing.T) { roundTrip(t) }
func Test06(t *testing.T) { roundTrip(t) }
func Test07(t *testing.T) { roundTrip(t) }
func Test08(t *testing.T) { roundTrip(t) }
func Test09(t *testing.T) { roundTrip(t) }
func Test10(t *testing.T) { roundTrip(t) }
func Test11(t *testing.T) { roundTrip(t) }
func Test12(t *testing.T) { roundTrip(t) }
func Test13(t *testing.T) { roundTrip(t) }
func Test14(t *testing.T) { roundTrip(t) }
func Test15(t *testing.T) { roundTrip(t) }
func Test16(t *testing.T) { roundTrip(t) }
func Test17(t *testing.T) { roundTrip(t) }
func Test18(t *testing.T) { roundTrip(t) }
func Test19(t *testing.T) { roundTrip(t) }
func Test20(t *testing.T) { roundTrip(t) }

// TestReady starts and removes a one-node lab BENCH_READY_RUNS times, printing
// how long each Start took.
func TestReady(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("BENCH_READY_RUNS"))
	if runs == 0 || fake != nil {
		t.Skip("set BENCH_READY_RUNS")
	}
	for i := range runs {
		t.Run(strconv.Itoa(i+1), func(t *testing.T) {
			start := time.Now()
			kafkatest.Start(t)
			fmt.Printf("READY %.3f\n", time.Since(start).Seconds())
		})
	}
}
