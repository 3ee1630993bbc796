package kafkatest

// This file owns what a test uses the lab through: franz-go clients closed with the
// test, topics, and names no other test uses.

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/data"
	"github.com/kraftlab/kraftlab/cluster/internal/kraft"
	"github.com/kraftlab/kraftlab/cluster/internal/topicadmin"
)

// Client returns a franz-go client of the lab's brokers, closed when the test
// ends. opts come after the lab's own (seed brokers, a dialer that waits for a
// restarted broker's listener, and data.NewClient's: a metadata age of 250 ms, so
// a moved partition leader is found at once after a fault), so they can change
// any of them.
func (l *Lab) Client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	return l.ClientAs(t, cluster.AdminUser, opts...)
}

// ClientAs returns a franz-go client connected as user (one of a secured lab's
// users, or admin): TLS trusting the lab's CA, the user's certificate on an mTLS
// lab, its SASL credentials on a SASL lab. It is closed when the test ends. On a
// plaintext lab it is Client.
func (l *Lab) ClientAs(t testing.TB, user string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	l.mu.Lock()
	sec, err := l.lab.ClientOpts(user)
	l.mu.Unlock()
	if err != nil {
		t.Fatalf("kafkatest: client of lab %s as %s: %v", l.name, user, err)
	}
	cl, err := data.NewClient(l.brokers, append(append([]kgo.Opt{kgo.Dialer(kraft.DialListening)}, sec...), opts...)...)
	if err != nil {
		t.Fatalf("kafkatest: client of lab %s: %v", l.name, err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// Admin returns a franz-go admin client of the lab, closed when the test ends.
func (l *Lab) Admin(t testing.TB) *kadm.Client {
	t.Helper()
	return kadm.NewClient(l.Client(t))
}

// topicWait bounds CreateTopic.
const topicWait = time.Minute

// CreateTopic creates a topic and returns once every broker knows it and each
// partition has a leader, so the test's first produce never meets "unknown
// topic". partitions and replicationFactor 0 take kraftlab's defaults (3, and
// min(3, brokers)); configs are topic configs such as min.insync.replicas.
func (l *Lab) CreateTopic(t testing.TB, name string, partitions, replicationFactor int, configs map[string]string) {
	t.Helper()
	cl := l.Client(t)
	ctx, cancel := context.WithTimeout(t.Context(), topicWait)
	defer cancel()
	_, err := topicadmin.CreateTopic(ctx, cl, topicadmin.TopicSpec{
		Name: name, Partitions: int32(partitions), ReplicationFactor: int16(replicationFactor), Configs: configs,
	})
	if err != nil {
		t.Fatalf("kafkatest: lab %s: %v", l.name, err)
	}
}

// names counts the names handed out, so each is new within the process.
var names atomic.Int64

// TopicName returns a topic name of the test's own, made from its name and a
// number: tests sharing a lab never write to each other's topics, and a test run
// again (-count) gets a new topic.
func TopicName(t testing.TB) string { return uniqueName(t, "") }

// GroupName returns a consumer group id of the test's own, as TopicName does a
// topic.
func GroupName(t testing.TB) string { return uniqueName(t, "group-") }

func uniqueName(t testing.TB, prefix string) string {
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-':
			return r
		case r == '/':
			return '.'
		}
		return '_'
	}, t.Name())
	// Kafka topic names have at most 249 characters.
	if len(name) > 200 {
		name = name[:200]
	}
	return prefix + name + "-" + strconv.FormatInt(names.Add(1), 10)
}
