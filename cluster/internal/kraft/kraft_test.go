package kraft

import (
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/kraftlab/kraftlab/cluster/internal/proc"
	"github.com/twmb/franz-go/pkg/kfake"
)

// A dial to a port nothing listens on fails without a connect attempt, so a lab
// port in the ephemeral range is never taken by a self-connected client.
func TestDialListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := DialListening(t.Context(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial of a listening port: %v", err)
	}
	conn.Close()
	ln.Close()
	if _, known := proc.Listening(0); !known {
		t.Skip("this system cannot tell whether a port has a listener")
	}
	if _, err := DialListening(t.Context(), "tcp", ln.Addr().String()); !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "nothing listens there yet") {
		t.Errorf("dial of a closed port: %v, want refused by the listener check", err)
	}
}

func TestCaughtUp(t *testing.T) {
	q := &Quorum{LeaderID: 1, HighWatermark: 10, Voters: []Replica{{1, 10}, {2, 10}, {3, 4}}}
	all := map[int32]bool{1: true, 2: true, 3: true}
	if ok, seen := q.CaughtUp(3, all); ok || !strings.Contains(seen, "3 (offset 4 of 10)") {
		t.Errorf("a voter behind: %v %q", ok, seen)
	}
	if ok, _ := q.CaughtUp(3, map[int32]bool{1: true, 2: true}); !ok {
		t.Error("a voter deliberately down still held the wait")
	}
	if ok, seen := q.CaughtUp(4, all); ok || !strings.Contains(seen, "3 of 4 voters") {
		t.Errorf("a missing voter: %v %q", ok, seen)
	}
	if ok, seen := (&Quorum{LeaderID: -1}).CaughtUp(1, nil); ok || seen != "no quorum leader yet" {
		t.Errorf("no leader: %v %q", ok, seen)
	}
}

// A node of another cluster on the address is named as such, never taken for the
// lab's own.
func TestCheckClusterID(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ClusterID("someone-elses"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ac, err := Dial(c.ListenAddrs())
	if err != nil {
		t.Fatal(err)
	}
	defer ac.Close()
	err = ac.CheckClusterID(t.Context(), 0, "this-labs-id", false)
	var wrong *WrongClusterError
	if !errors.As(err, &wrong) || wrong.Got != "someone-elses" || !strings.Contains(err.Error(), "another Kafka cluster (cluster id someone-elses, not this lab's this-labs-id)") {
		t.Errorf("CheckClusterID: %v", err)
	}
	if err := ac.CheckClusterID(t.Context(), 0, "someone-elses", false); err != nil {
		t.Errorf("the right cluster: %v", err)
	}
	if _, cid, err := ac.RegisteredBrokers(t.Context(), 0); err != nil || cid != "someone-elses" {
		t.Errorf("RegisteredBrokers: cluster id %q, %v", cid, err)
	}
}
