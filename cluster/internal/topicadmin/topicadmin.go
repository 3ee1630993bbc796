// Package topicadmin is topic administration on any Kafka cluster: Kafka's naming
// rules, the defaults for a new topic, create (returning once every broker knows
// the topic), list, describe, delete, and the wait until a topic's every replica is
// in sync. Both the lab lifecycle (a spec's topics) and the public data package use
// it, so there is one way to create a topic.
package topicadmin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/kraftlab/kraftlab/cluster/internal/step"
	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	// ErrTopicNotFound is returned when a named topic does not exist.
	ErrTopicNotFound = errors.New("topic does not exist")
	// ErrTopicExists is returned when creating a topic that already exists.
	ErrTopicExists = errors.New("topic already exists")
)

const (
	// healthWait covers a topic created a moment ago: every broker must learn of
	// it and every replica catch up.
	healthWait     = 30 * time.Second
	healthInterval = 200 * time.Millisecond
	// topicPropagationWait bounds how long a new topic may take to reach every
	// broker's metadata after the controller accepted it.
	topicPropagationWait = 15 * time.Second
)

const (
	// DefaultPartitions is the partition count of a topic created without one.
	DefaultPartitions = 3
	// maxReplicationDefault caps the default replication factor: three copies is
	// the usual production choice, and more brokers than that should not make
	// every lab topic more expensive.
	maxReplicationDefault = 3
	// maxTopicNameLen is Kafka's limit: 249 leaves room for the partition suffix
	// in the 255-byte file names of the log directories.
	maxTopicNameLen = 249
)

// ValidateTopicName checks Kafka's rules for topic names.
func ValidateTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("topic name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("topic name %q is not allowed", name)
	case len(name) > maxTopicNameLen:
		return fmt.Errorf("topic name is %d characters long; at most %d are allowed", len(name), maxTopicNameLen)
	}
	for _, c := range name {
		if !isTopicNameChar(c) {
			return fmt.Errorf("topic name %q contains %q; only letters, digits, '.', '_' and '-' are allowed", name, c)
		}
	}
	return nil
}

func isTopicNameChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// DefaultReplication is the replication factor of a topic created without one on a
// cluster of the given size.
func DefaultReplication(brokers int) int16 {
	return int16(max(1, min(maxReplicationDefault, brokers)))
}

// TopicSpec is a topic to create. Zero values take the defaults.
type TopicSpec struct {
	Name              string
	Partitions        int32             // 0 means DefaultPartitions
	ReplicationFactor int16             // 0 means DefaultReplication(brokers in the cluster)
	Configs           map[string]string // topic-level overrides, e.g. min.insync.replicas
	IfNotExists       bool              // an existing topic is success, left as it is
}

func (s TopicSpec) validate() error {
	var problems []error
	if err := ValidateTopicName(s.Name); err != nil {
		problems = append(problems, err)
	}
	if s.Partitions < 0 {
		problems = append(problems, fmt.Errorf("partitions %d: want at least 1", s.Partitions))
	}
	if s.ReplicationFactor < 0 {
		problems = append(problems, fmt.Errorf("replication factor %d: want at least 1", s.ReplicationFactor))
	}
	for k := range s.Configs {
		if k == "" {
			problems = append(problems, errors.New("topic config with an empty name"))
		}
	}
	return usage.Errors(problems)
}

// CreatedTopic is the outcome of CreateTopic.
type CreatedTopic struct {
	Name              string `json:"name"`
	Partitions        int    `json:"partitions"`
	ReplicationFactor int    `json:"replication_factor"`
	// Created is false when the topic already existed and IfNotExists was set; the
	// counts are then the existing topic's.
	Created bool `json:"created"`
}

// CreateTopic creates the topic spec describes.
func CreateTopic(ctx context.Context, cl *kgo.Client, spec TopicSpec) (CreatedTopic, error) {
	if err := spec.validate(); err != nil {
		return CreatedTopic{}, err
	}
	meta, t, err := TopicMetadata(ctx, cl, spec.Name)
	switch {
	case err == nil:
		return existingTopic(spec, t)
	case !errors.Is(err, ErrTopicNotFound):
		return CreatedTopic{}, fmt.Errorf("create topic %q: %w", spec.Name, err)
	}

	brokers := len(meta.Brokers)
	partitions, rf := spec.Partitions, spec.ReplicationFactor
	if partitions == 0 {
		partitions = DefaultPartitions
	}
	if rf == 0 {
		rf = DefaultReplication(brokers)
	}
	// Kafka refuses this too, but its message does not say how many brokers there
	// are, which is the number the user needs.
	if int(rf) > brokers {
		return CreatedTopic{}, fmt.Errorf("create topic %q: replication factor %d is more than the %d broker(s) in the cluster", spec.Name, rf, brokers)
	}
	configs := make(map[string]*string, len(spec.Configs))
	for k, v := range spec.Configs {
		configs[k] = kadm.StringPtr(v)
	}
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, rf, configs, spec.Name)
	if errors.Is(err, kerr.TopicAlreadyExists) {
		// Created concurrently between our metadata request and this one.
		_, t, err := TopicMetadata(ctx, cl, spec.Name)
		if err != nil {
			return CreatedTopic{}, fmt.Errorf("create topic %q: %w", spec.Name, err)
		}
		return existingTopic(spec, t)
	}
	if err != nil {
		return CreatedTopic{}, fmt.Errorf("create topic %q: %w", spec.Name, WithBrokerMessage(err, resp.ErrMessage))
	}
	if err := waitTopicEverywhere(ctx, cl, meta, spec.Name, int(partitions)); err != nil {
		return CreatedTopic{}, fmt.Errorf("create topic %q: %w", spec.Name, err)
	}
	return CreatedTopic{Name: spec.Name, Partitions: int(partitions), ReplicationFactor: int(rf), Created: true}, nil
}

// waitTopicEverywhere waits until every broker's metadata lists the new topic with
// a leader for each partition. The controller acknowledges a creation before the
// brokers have replayed it, and a produce or describe sent right after to another
// broker would otherwise be told the topic does not exist.
func waitTopicEverywhere(ctx context.Context, cl *kgo.Client, meta *kmsg.MetadataResponse, topic string, partitions int) error {
	wctx, cancel := context.WithTimeout(ctx, topicPropagationWait)
	defer cancel()
	return step.Poll(wctx, "topic "+topic+" on every broker", healthInterval, func(ctx context.Context) (bool, string, error) {
		for _, b := range meta.Brokers {
			req := kmsg.NewPtrMetadataRequest()
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(topic)
			req.Topics = append(req.Topics, rt)
			kresp, err := cl.Broker(int(b.NodeID)).Request(ctx, req)
			if err != nil {
				return false, fmt.Sprintf("broker %d", b.NodeID), err
			}
			resp := kresp.(*kmsg.MetadataResponse)
			if len(resp.Topics) != 1 || resp.Topics[0].ErrorCode != 0 || len(resp.Topics[0].Partitions) != partitions {
				return false, fmt.Sprintf("broker %d does not know the topic yet", b.NodeID), nil
			}
			for _, p := range resp.Topics[0].Partitions {
				if p.Leader < 0 {
					return false, fmt.Sprintf("broker %d: partition %d has no leader yet", b.NodeID, p.Partition), nil
				}
			}
		}
		return true, "", nil
	})
}

func existingTopic(spec TopicSpec, t kmsg.MetadataResponseTopic) (CreatedTopic, error) {
	if !spec.IfNotExists {
		return CreatedTopic{}, fmt.Errorf("create topic %q: %w", spec.Name, ErrTopicExists)
	}
	info := TopicFromMetadata(t)
	return CreatedTopic{Name: info.Name, Partitions: len(info.Partitions), ReplicationFactor: info.ReplicationFactor}, nil
}

// WithBrokerMessage adds the broker's explanation, when it sent one, to an error
// code's generic text (e.g. which config value it rejected).
func WithBrokerMessage(err error, msg string) error {
	if msg == "" {
		return err
	}
	return fmt.Errorf("%w (%s)", err, msg)
}

// Topic is a topic as the cluster's metadata describes it.
type Topic struct {
	Name              string      `json:"name"`
	ID                string      `json:"id"`
	Internal          bool        `json:"internal,omitempty"`
	ReplicationFactor int         `json:"replication_factor"`
	Partitions        []Partition `json:"partitions"`
	// Configs holds the topic's settings that differ from the defaults; only
	// DescribeTopic fills it.
	Configs map[string]string `json:"configs,omitempty"`
}

// Partition is one partition's placement and health.
type Partition struct {
	Partition int32   `json:"partition"`
	Leader    int32   `json:"leader"` // -1 when there is none
	Replicas  []int32 `json:"replicas"`
	ISR       []int32 `json:"isr"`
	Offline   []int32 `json:"offline,omitempty"`
	Error     string  `json:"error,omitempty"` // why the partition cannot be served, if it cannot
}

func TopicFromMetadata(t kmsg.MetadataResponseTopic) Topic {
	// Kafka's tools print topic ids as unpadded URL-safe base64.
	info := Topic{Internal: t.IsInternal, ID: base64.RawURLEncoding.EncodeToString(t.TopicID[:])}
	if t.Topic != nil {
		info.Name = *t.Topic
	}
	for _, p := range t.Partitions {
		part := Partition{Partition: p.Partition, Leader: p.Leader, Replicas: p.Replicas, ISR: p.ISR, Offline: p.OfflineReplicas}
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			part.Error = err.Error()
		}
		info.Partitions = append(info.Partitions, part)
		info.ReplicationFactor = max(info.ReplicationFactor, len(p.Replicas))
	}
	sort.Slice(info.Partitions, func(i, j int) bool { return info.Partitions[i].Partition < info.Partitions[j].Partition })
	return info
}

// ListTopics returns every topic, internal ones included, sorted by name.
func ListTopics(ctx context.Context, cl *kgo.Client) ([]Topic, error) {
	resp, err := Metadata(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var topics []Topic
	for _, t := range resp.Topics {
		info := TopicFromMetadata(t)
		if err := kerr.ErrorForCode(t.ErrorCode); err != nil {
			return nil, fmt.Errorf("list topics: topic %q: %w", info.Name, err)
		}
		topics = append(topics, info)
	}
	sort.Slice(topics, func(i, j int) bool { return topics[i].Name < topics[j].Name })
	return topics, nil
}

// DescribeTopic returns the topic's partitions (leader, replicas, ISR) and the
// configs that differ from the defaults.
func DescribeTopic(ctx context.Context, cl *kgo.Client, name string) (Topic, error) {
	if err := ValidateTopicName(name); err != nil {
		return Topic{}, usage.Errors([]error{err})
	}
	_, t, err := TopicMetadata(ctx, cl, name)
	if err != nil {
		return Topic{}, fmt.Errorf("describe topic %q: %w", name, err)
	}
	info := TopicFromMetadata(t)
	configs, err := kadm.NewClient(cl).DescribeTopicConfigs(ctx, name)
	if err == nil {
		var rc kadm.ResourceConfig
		rc, err = configs.On(name, nil)
		if err == nil {
			err = WithBrokerMessage(rc.Err, rc.ErrMessage)
		}
		info.Configs = nonDefaultConfigs(rc.Configs)
	}
	if err != nil {
		return Topic{}, fmt.Errorf("describe configs of topic %q: %w", name, err)
	}
	return info, nil
}

// nonDefaultConfigs keeps what someone set: on the topic, or for every topic in the
// brokers' configuration.
func nonDefaultConfigs(configs []kadm.Config) map[string]string {
	out := make(map[string]string)
	for _, c := range configs {
		if c.Source == kmsg.ConfigSourceDefaultConfig || c.Source == kmsg.ConfigSourceUnknown {
			continue
		}
		v := c.MaybeValue()
		if c.Sensitive {
			v = "(sensitive)"
		}
		out[c.Key] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// DeleteTopic deletes the topic.
func DeleteTopic(ctx context.Context, cl *kgo.Client, name string) error {
	if err := ValidateTopicName(name); err != nil {
		return usage.Errors([]error{err})
	}
	resp, err := kadm.NewClient(cl).DeleteTopic(ctx, name)
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return fmt.Errorf("delete topic %q: %w", name, ErrTopicNotFound)
	case err != nil:
		return fmt.Errorf("delete topic %q: %w", name, WithBrokerMessage(err, resp.ErrMessage))
	}
	return nil
}

// Metadata asks the cluster directly instead of going through kadm: kadm answers
// from franz-go's metadata cache (up to 5s old), which would hide a topic created
// or deleted a moment ago. No topics means all topics.
func Metadata(ctx context.Context, cl *kgo.Client, topics ...string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	for _, t := range topics {
		rt := kmsg.NewMetadataRequestTopic()
		rt.Topic = kmsg.StringPtr(t)
		req.Topics = append(req.Topics, rt)
	}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("request metadata: %w", err)
	}
	return resp, nil
}

// TopicMetadata returns the metadata of one existing topic, and the whole response
// for its broker list. The error does not name the topic; callers do.
func TopicMetadata(ctx context.Context, cl *kgo.Client, topic string) (*kmsg.MetadataResponse, kmsg.MetadataResponseTopic, error) {
	resp, err := Metadata(ctx, cl, topic)
	if err != nil {
		return nil, kmsg.MetadataResponseTopic{}, err
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		err := kerr.ErrorForCode(t.ErrorCode)
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			err = ErrTopicNotFound
		}
		return resp, t, err
	}
	return resp, kmsg.MetadataResponseTopic{}, ErrTopicNotFound
}

// WaitHealthy waits until the cluster lists at least expectBrokers brokers (when
// more than 0) and every partition of topic has a leader and all its replicas in
// sync. On timeout the error says what was wrong at the last look.
func WaitHealthy(ctx context.Context, cl *kgo.Client, topic string, expectBrokers int) (int, Topic, error) {
	ctx, cancel := context.WithTimeout(ctx, healthWait)
	defer cancel()
	var brokers int
	var info Topic
	err := step.Poll(ctx, "cluster health", healthInterval, func(ctx context.Context) (bool, string, error) {
		meta, t, err := TopicMetadata(ctx, cl, topic)
		if err != nil {
			return false, "", fmt.Errorf("topic %s: %w", topic, err)
		}
		brokers, info = len(meta.Brokers), TopicFromMetadata(t)
		problems := HealthProblems(brokers, expectBrokers, info)
		return len(problems) == 0, strings.Join(problems, "; "), nil
	})
	if err != nil {
		return 0, Topic{}, err
	}
	return brokers, info, nil
}

// HealthProblems lists what keeps the topic from taking acks=all writes safely.
func HealthProblems(brokers, expectBrokers int, t Topic) []string {
	var problems []string
	if expectBrokers > 0 && brokers < expectBrokers {
		problems = append(problems, fmt.Sprintf("cluster metadata lists %d of %d brokers", brokers, expectBrokers))
	}
	for _, p := range t.Partitions {
		switch {
		case p.Error != "":
			problems = append(problems, fmt.Sprintf("partition %d: %s", p.Partition, p.Error))
		case p.Leader < 0:
			problems = append(problems, fmt.Sprintf("partition %d has no leader", p.Partition))
		case len(p.ISR) < len(p.Replicas):
			problems = append(problems, fmt.Sprintf("partition %d: in-sync replicas %v are fewer than replicas %v", p.Partition, p.ISR, p.Replicas))
		}
	}
	return problems
}
