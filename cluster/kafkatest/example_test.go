package kafkatest_test

// The examples are compiled, not run (they have no Output comment): each shows
// the body of a test, which needs a *testing.T and real brokers.

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/kafkatest"
)

// A test with a three-node lab of its own: a topic, a record written with
// acks=all and read back. The lab is removed when the test ends.
func ExampleStart() {
	// func TestOrders(t *testing.T) {
	testOrders := func(t *testing.T) {
		lab := kafkatest.Start(t, kafkatest.Nodes(3))
		topic := kafkatest.TopicName(t)
		lab.CreateTopic(t, topic, 3, 3, map[string]string{"min.insync.replicas": "2"})

		producer := lab.Client(t, kgo.DefaultProduceTopic(topic))
		if err := producer.ProduceSync(t.Context(), kgo.StringRecord("order 1")).FirstErr(); err != nil {
			t.Fatal(err)
		}
		consumer := lab.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumerGroup(kafkatest.GroupName(t)),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		fetches := consumer.PollFetches(t.Context())
		if err := fetches.Err0(); err != nil {
			t.Fatal(err)
		}
		if got := string(fetches.Records()[0].Value); got != "order 1" {
			t.Errorf("read %q, want %q", got, "order 1")
		}
	}
	_ = testOrders
}

// One lab for every test of the package: TestMain declares it, the first test
// that calls Shared starts it, and it is removed when the tests are done. Each
// test keeps to topics and groups of its own.
func ExampleMain() {
	// func TestMain(m *testing.M) {
	testMain := func(m *testing.M) {
		kafkatest.Main(m, kafkatest.Nodes(3), kafkatest.Version("4.1.1"))
	}
	// func TestInvoices(t *testing.T) {
	testInvoices := func(t *testing.T) {
		t.Parallel()
		lab := kafkatest.Shared(t)
		topic := kafkatest.TopicName(t)
		lab.CreateTopic(t, topic, 1, 3, nil)
		// ...
	}
	_, _ = testMain, testInvoices
}

// Kill the leader of a partition in the middle of a test, check that the
// cluster moved on, and bring the node back.
func ExampleLab_Kill() {
	testFailover := func(t *testing.T) {
		lab := kafkatest.Start(t, kafkatest.Nodes(3))
		topic := kafkatest.TopicName(t)
		lab.CreateTopic(t, topic, 1, 3, map[string]string{"min.insync.replicas": "2"})

		leader := lab.Leader(t, topic, 0)
		lab.Kill(t, leader) // SIGKILL: no controlled shutdown
		// Acknowledged once the controller has fenced the dead broker (after
		// broker.session.timeout.ms) and a new leader took over.
		producer := lab.Client(t, kgo.DefaultProduceTopic(topic))
		if err := producer.ProduceSync(t.Context(), kgo.StringRecord("still writable")).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if now := lab.Leader(t, topic, 0); now == leader {
			t.Fatalf("node %d is dead and still leads", leader)
		}
		lab.Start(t, leader) // returns once it has rejoined
	}
	_ = testFailover
}

// Controllers and brokers on separate nodes, a dynamic quorum and a topic from
// the start: anything a lab spec says.
func ExampleSpec() {
	testIsolated := func(t *testing.T) {
		lab := kafkatest.Start(t, kafkatest.Spec(cluster.Spec{
			Nodes:  cluster.NodesSpec{Controllers: 1, Brokers: 2},
			Quorum: cluster.QuorumDynamic,
			Topics: []cluster.TopicSpec{{Name: "events", Partitions: 6}},
		}))
		admin := lab.Admin(t)
		topics, err := admin.ListTopics(context.Background(), "events")
		if err != nil || topics["events"].Err != nil {
			t.Fatalf("topic events: %v %v", err, topics["events"].Err)
		}
	}
	_ = testIsolated
}

// Tests that may run where there is no Java: skipped there, rather than failed.
// Without this option a machine that cannot run Kafka fails the test, saying what
// to install.
func ExampleSkipIfUnavailable() {
	testOptional := func(t *testing.T) {
		lab := kafkatest.Start(t, kafkatest.SkipIfUnavailable())
		_ = lab.Brokers()
	}
	_ = testOptional
}
