package data

// This file owns the data path's topic administration API. The work is done by
// cluster/internal/topicadmin, which the lab lifecycle shares (a spec's topics are
// created the same way), so there is one way to create a topic.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kraftlab/kraftlab/cluster/internal/topicadmin"
)

// DefaultPartitions is the partition count of a topic created without one.
const DefaultPartitions = topicadmin.DefaultPartitions

var (
	// ErrTopicNotFound is returned when a named topic does not exist.
	ErrTopicNotFound = topicadmin.ErrTopicNotFound
	// ErrTopicExists is returned when creating a topic that already exists.
	ErrTopicExists = topicadmin.ErrTopicExists
)

// TopicSpec is a topic to create: Name; Partitions (0 = DefaultPartitions);
// ReplicationFactor (0 = DefaultReplication of the cluster's brokers); Configs,
// topic-level overrides such as min.insync.replicas; IfNotExists, to take an
// existing topic as success.
type TopicSpec = topicadmin.TopicSpec

// CreatedTopic is the outcome of CreateTopic.
type CreatedTopic = topicadmin.CreatedTopic

// Topic is a topic as the cluster's metadata describes it.
type Topic = topicadmin.Topic

// Partition is one partition's placement and health.
type Partition = topicadmin.Partition

// ValidateTopicName checks Kafka's rules for topic names.
func ValidateTopicName(name string) error { return topicadmin.ValidateTopicName(name) }

// DefaultReplication is the replication factor of a topic created without one on a
// cluster of the given size: at most 3.
func DefaultReplication(brokers int) int16 { return topicadmin.DefaultReplication(brokers) }

// CreateTopic creates the topic spec describes and returns once every broker's
// metadata lists it with a leader for each partition.
func CreateTopic(ctx context.Context, cl *kgo.Client, spec TopicSpec) (CreatedTopic, error) {
	return topicadmin.CreateTopic(ctx, cl, spec)
}

// ListTopics returns every topic, internal ones included, sorted by name.
func ListTopics(ctx context.Context, cl *kgo.Client) ([]Topic, error) {
	return topicadmin.ListTopics(ctx, cl)
}

// DescribeTopic returns the topic's partitions (leader, replicas, ISR) and the
// configs that differ from the defaults.
func DescribeTopic(ctx context.Context, cl *kgo.Client, name string) (Topic, error) {
	return topicadmin.DescribeTopic(ctx, cl, name)
}

// DeleteTopic deletes the topic.
func DeleteTopic(ctx context.Context, cl *kgo.Client, name string) error {
	return topicadmin.DeleteTopic(ctx, cl, name)
}

// WaitHealthy waits until the cluster lists at least expectBrokers brokers (when
// more than 0) and every partition of topic has a leader and all its replicas in
// sync. On timeout the error says what was wrong at the last look.
func WaitHealthy(ctx context.Context, cl *kgo.Client, topic string, expectBrokers int) (int, Topic, error) {
	return topicadmin.WaitHealthy(ctx, cl, topic, expectBrokers)
}

// metadata asks the cluster directly, bypassing franz-go's metadata cache.
func metadata(ctx context.Context, cl *kgo.Client, topics ...string) (*kmsg.MetadataResponse, error) {
	return topicadmin.Metadata(ctx, cl, topics...)
}

// topicMetadata returns the metadata of one existing topic (ErrTopicNotFound if
// it does not exist), and the whole response for its broker list.
func topicMetadata(ctx context.Context, cl *kgo.Client, topic string) (*kmsg.MetadataResponse, kmsg.MetadataResponseTopic, error) {
	return topicadmin.TopicMetadata(ctx, cl, topic)
}
