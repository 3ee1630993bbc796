// Package data is kraftlab's data path: topic administration, producing, consuming,
// and the smoke check that verifies every record. It talks to any Kafka cluster
// through franz-go only and knows nothing about labs: callers pass bootstrap servers.
//
// Admin functions take a *kgo.Client the caller owns (see NewClient). Produce,
// Consume and Smoke take bootstrap servers instead and open their own clients,
// because acks, idempotence, consumer groups and start offsets are client-level
// settings in franz-go.
package data

// This file owns how the package connects (the one client constructor and direct,
// uncached metadata requests) and the errors callers can test for.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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

// dialTimeout is short because kraftlab mostly talks to brokers on loopback, where
// a connection either succeeds at once or the broker is not there.
const dialTimeout = 5 * time.Second

// NewClient returns a franz-go client seeded with brokers. opts are appended, so
// they can override anything set here.
func NewClient(brokers []string, opts ...kgo.Opt) (*kgo.Client, error) {
	if len(brokers) == 0 {
		return nil, errors.New("no bootstrap servers given")
	}
	all := append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.DialTimeout(dialTimeout)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", strings.Join(brokers, ","), err)
	}
	return cl, nil
}

// metadata asks the cluster directly instead of going through kadm: kadm answers
// from franz-go's metadata cache (up to 5s old), which would hide a topic created
// or deleted a moment ago. No topics means all topics.
func metadata(ctx context.Context, cl *kgo.Client, topics ...string) (*kmsg.MetadataResponse, error) {
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

// topicMetadata returns the metadata of one existing topic, and the whole response
// for its broker list. The error does not name the topic; callers do.
func topicMetadata(ctx context.Context, cl *kgo.Client, topic string) (*kmsg.MetadataResponse, kmsg.MetadataResponseTopic, error) {
	resp, err := metadata(ctx, cl, topic)
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
