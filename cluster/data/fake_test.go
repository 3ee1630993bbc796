package data

// This file owns the test fixture: an in-process kfake cluster and a client for it.

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fakeCluster starts an in-process cluster with that many brokers (opts can seed
// topics) and returns its addresses and a client; both go away with the test.
func fakeCluster(t *testing.T, brokers int, opts ...kfake.Opt) ([]string, *kgo.Client) {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(brokers)}, opts...)...)
	if err != nil {
		t.Fatalf("start fake cluster: %v", err)
	}
	t.Cleanup(c.Close)
	cl, err := NewClient(c.ListenAddrs())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return c.ListenAddrs(), cl
}

// testContext ends with the test, and after a bound so a hang fails instead of
// stalling the suite.
func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
