package e2e

import (
	bin "encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// sendPinned sends req at exactly version on a fresh connection, as a client
// from before Kafka 4 would, and reports whether the broker answered (a 4.x
// broker closes the connection over a removed version instead).
func sendPinned(t *testing.T, addr string, req kmsg.Request, version int16) bool {
	t.Helper()
	req.SetVersion(version)
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write(kmsg.NewRequestFormatter(kmsg.FormatterClientID("old-client")).AppendRequest(nil, req, 1)); err != nil {
		t.Fatal(err)
	}
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return false
	}
	_, err = io.CopyN(io.Discard, c, int64(bin.BigEndian.Uint32(size[:])))
	return err == nil
}

// A client that sends a request version Kafka 4.0 removed gets its connection
// closed, with no answer; status says which request, that 4.0 removed it, and
// what to do.
func TestOldClientShowsInStatus(t *testing.T) {
	l := newLab(t, 1)
	l.up(1)
	addr := l.bootstrap(1)[0]
	if !sendPinned(t, addr, kmsg.NewPtrMetadataRequest(), 0) {
		t.Fatalf("Metadata v0 got no answer; Kafka 4 still serves it")
	}
	if sendPinned(t, addr, kmsg.NewPtrProduceRequest(), 2) {
		t.Fatalf("Produce v2 was answered; Kafka 4 removed it")
	}

	want := "Produce v2 (API key 0) was removed in Kafka 4.0 (KIP-896; Produce needs v3 or later): upgrade the client or run the lab on 3.9.x (kraftlab up --kafka-version 3.9.1)"
	var out string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if out = l.must("status").stdout; strings.Contains(out, want) {
			break
		}
	}
	if !strings.Contains(out, want) || !strings.Contains(out, "refused once") || strings.Contains(out, "Metadata") {
		t.Fatalf("status does not report the refused Produce v2 (and only it):\n%s", out)
	}
	var st struct {
		OldClients []struct {
			API     string `json:"api"`
			Version int16  `json:"version"`
			Removed bool   `json:"removed_in_kafka_4"`
			Count   int    `json:"count"`
		} `json:"old_clients"`
	}
	decodeJSON(t, l.must("status", "-o", "json").stdout, &st)
	if len(st.OldClients) != 1 || st.OldClients[0].API != "Produce" || st.OldClients[0].Version != 2 || !st.OldClients[0].Removed || st.OldClients[0].Count != 1 {
		t.Errorf("status -o json old_clients = %+v, want one removed Produce v2", st.OldClients)
	}
}
