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
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// dialTimeout is short because kraftlab mostly talks to brokers on loopback, where
// a connection either succeeds at once or the broker is not there.
const dialTimeout = 5 * time.Second

// metadataMinAge is how soon a client may ask for metadata again. franz-go waits
// 5 s by default, also after a produce or fetch failed because a partition's
// leader moved: its first refresh right after a broker died can still name the
// dead leader, and the one with the new leader came 5 s later, a stall the
// cluster did not cause (the Java clients retry after retry.backoff.ms, 100 ms).
// On loopback a metadata request costs next to nothing.
const metadataMinAge = 250 * time.Millisecond

// NewClient returns a franz-go client seeded with brokers. opts are appended, so
// they can override anything set here.
func NewClient(brokers []string, opts ...kgo.Opt) (*kgo.Client, error) {
	if len(brokers) == 0 {
		return nil, errors.New("no bootstrap servers given")
	}
	all := append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.DialTimeout(dialTimeout), kgo.MetadataMinAge(metadataMinAge)}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", strings.Join(brokers, ","), err)
	}
	return cl, nil
}
