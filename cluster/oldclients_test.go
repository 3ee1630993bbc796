package cluster

import (
	"os"
	"strings"
	"testing"
)

func TestOldClientRefusals(t *testing.T) {
	// Logged by a 4.1.1 broker sent Produce v2, Fetch v3 and ListOffsets v0 (the
	// e2e test TestOldClientShowsInStatus does this against a live one).
	real, err := os.ReadFile("testdata/oldclient-server.log")
	if err != nil {
		t.Fatal(err)
	}
	node2 := `[2026-11-30 13:00:00,000] ERROR Closing socket for 127.0.0.1:9093-10.1.2.3:40000-0-7 because of error (kafka.network.Processor)
org.apache.kafka.common.errors.UnsupportedVersionException: Received request for api with key 0 (Produce) and unsupported version 2
[2026-11-30 13:00:00,001] ERROR Exception while processing request from 127.0.0.1:9093-10.1.2.3:40000-0-7 (kafka.network.Processor)
org.apache.kafka.common.errors.UnsupportedVersionException: Received request for api with key 0 (Produce) and unsupported version 2
[2026-11-30 13:00:01,000] ERROR Closing socket for 127.0.0.1:9093-127.0.0.1:40001-0-8 because of error (kafka.network.Processor)
org.apache.kafka.common.errors.UnsupportedVersionException: Received request for api with key 3 (Metadata) and unsupported version 99
`
	l := logLab(t, string(real), node2, "[2026-11-30 13:00:00,000] INFO nothing refused here (x)\n")
	got := l.OldClientRefusals()
	want := []struct {
		api     string
		version int16
		removed bool
		count   int
		nodes   string
		clients string
		advice  string
	}{
		{"Metadata", 99, false, 1, "2", "127.0.0.1:40001", "Metadata v99 (API key 3) is not supported by this broker"},
		{"Produce", 2, true, 2, "1,2", "127.0.0.1:35288,10.1.2.3:40000", "Produce v2 (API key 0) was removed in Kafka 4.0 (KIP-896; Produce needs v3 or later): upgrade the client or run the lab on 3.9.x (kraftlab up --kafka-version 3.9.1)"},
		{"ListOffsets", 0, true, 1, "1", "127.0.0.1:35344", "ListOffsets v0 (API key 2) was removed in Kafka 4.0"},
		{"Fetch", 3, true, 1, "1", "127.0.0.1:35292", "Fetch v3 (API key 1) was removed in Kafka 4.0 (KIP-896; Fetch needs v4 or later)"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d refusals, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.API != w.api || g.Version != w.version || g.Removed != w.removed || g.Count != w.count ||
			joinInts(g.Nodes) != w.nodes || strings.Join(g.Clients, ",") != w.clients || !strings.HasPrefix(g.Advice, w.advice) {
			t.Errorf("refusal %d = %+v\nwant %+v", i, g, w)
		}
	}
	if s := got[1].String(); !strings.Contains(s, "(refused 2 times, last at 2026-11-30 13:00:00, by node 1,2, from 127.0.0.1:35288, 10.1.2.3:40000)") {
		t.Errorf("String() = %q", s)
	}
}

func TestOldClientRefusalsNone(t *testing.T) {
	l := logLab(t, node1Log, "")
	if got := l.OldClientRefusals(); len(got) != 0 {
		t.Errorf("refusals in logs without any: %+v", got)
	}
}
