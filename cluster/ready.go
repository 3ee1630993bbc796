package cluster

// This file owns how kraftlab knows a lab is ready: the KRaft quorum has a leader
// with every voter caught up (DescribeQuorum), and every broker is registered and
// serving (ApiVersions on its own port, Metadata listing all of them).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Quorum is the state of the KRaft metadata quorum.
type Quorum struct {
	LeaderID      int32     `json:"leader_id"`
	LeaderEpoch   int32     `json:"leader_epoch"`
	HighWatermark int64     `json:"high_watermark"`
	Voters        []Replica `json:"voters"`
	Observers     []Replica `json:"observers"`
}

// Replica is one voter's or observer's view of the metadata log.
type Replica struct {
	ID           int32 `json:"id"`
	LogEndOffset int64 `json:"log_end_offset"`
}

// Lag is how far the replica's log end is behind the high watermark.
func (q *Quorum) Lag(r Replica) int64 { return max(0, q.HighWatermark-r.LogEndOffset) }

// caughtUp reports whether the quorum has a leader, all want voters, and every
// voter in mustCatchUp has replicated up to the high watermark (a voter that is
// deliberately down is left out of that set); it describes what it saw otherwise.
func (q *Quorum) caughtUp(want int, mustCatchUp map[int32]bool) (bool, string) {
	if q.LeaderID < 0 {
		return false, "no quorum leader yet"
	}
	if len(q.Voters) != want {
		return false, fmt.Sprintf("leader %d, %d of %d voters", q.LeaderID, len(q.Voters), want)
	}
	var behind []string
	for _, v := range q.Voters {
		if !mustCatchUp[v.ID] {
			continue
		}
		if q.HighWatermark <= 0 || v.LogEndOffset < q.HighWatermark {
			behind = append(behind, fmt.Sprintf("%d (offset %d of %d)", v.ID, v.LogEndOffset, q.HighWatermark))
		}
	}
	if len(behind) > 0 {
		return false, fmt.Sprintf("leader %d, voters not caught up: %s", q.LeaderID, strings.Join(behind, ", "))
	}
	return true, fmt.Sprintf("leader %d, %d voters caught up", q.LeaderID, len(mustCatchUp))
}

// addrClients holds one client per address, so each request goes to exactly that
// listener rather than wherever metadata routing would send it.
type addrClients struct {
	addrs   []string
	clients []*kgo.Client
}

func newAddrClients(addrs []string) (*addrClients, error) {
	ac := &addrClients{addrs: addrs}
	for _, a := range addrs {
		cl, err := kgo.NewClient(kgo.SeedBrokers(a), kgo.Dialer(dialListening), kgo.RequestRetries(0))
		if err != nil {
			ac.Close()
			return nil, fmt.Errorf("client for %s: %w", a, err)
		}
		ac.clients = append(ac.clients, cl)
	}
	return ac, nil
}

// dialListening connects only once something listens on the port. A lab's ports
// may lie in the kernel's ephemeral port range, where connecting to a port nobody
// listens on can pick that very port as the source and connect the socket to
// itself. Go drops such a connection, but its TIME_WAIT then keeps the node that is
// about to bind the port from doing so, for a minute. Readiness polls a starting
// node's port ten times a second, and Linux hands out successive source ports, so
// without this check the poll walks into the port it waits for.
func dialListening(ctx context.Context, network, addr string) (net.Conn, error) {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		if p, err := strconv.Atoi(port); err == nil && !listening(p) {
			return nil, fmt.Errorf("dial %s: nothing listens there yet: %w", addr, syscall.ECONNREFUSED)
		}
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	return d.DialContext(ctx, network, addr)
}

// listening reports whether any socket of this machine listens on TCP port, from
// /proc/net/tcp and tcp6 (state 0A is LISTEN). Without /proc it assumes so.
func listening(port int) bool {
	suffix := fmt.Sprintf(":%04X", port)
	readable := false
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		readable = true
		for _, line := range strings.Split(string(b), "\n") {
			fields := strings.Fields(line)
			if len(fields) > 3 && fields[3] == "0A" && strings.HasSuffix(fields[1], suffix) {
				return true
			}
		}
	}
	return !readable
}

func (ac *addrClients) Close() {
	for _, cl := range ac.clients {
		cl.Close()
	}
}

// request sends req to the i-th address only.
func (ac *addrClients) request(ctx context.Context, i int, req kmsg.Request) (kmsg.Response, error) {
	return ac.requestWithin(ctx, i, req, 3*time.Second)
}

// requestWithin is request for a request the server may take up to d to answer.
func (ac *addrClients) requestWithin(ctx context.Context, i int, req kmsg.Request, d time.Duration) (kmsg.Response, error) {
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return ac.clients[i].SeedBrokers()[0].Request(rctx, req)
}

// describeQuorum asks the controllers, in turn, for the quorum state; only the
// quorum leader answers without error.
func (ac *addrClients) describeQuorum(ctx context.Context) (*Quorum, error) {
	var errs []error
	for i := range ac.clients {
		q, err := ac.describeQuorumAt(ctx, i)
		if err == nil {
			return q, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", ac.addrs[i], err))
	}
	return nil, errors.Join(errs...)
}

func (ac *addrClients) describeQuorumAt(ctx context.Context, i int) (*Quorum, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	p := kmsg.NewDescribeQuorumRequestTopicPartition()
	t.Partitions = append(t.Partitions, p)
	req.Topics = append(req.Topics, t)
	kresp, err := ac.request(ctx, i, req)
	if err != nil {
		return nil, err
	}
	resp := kresp.(*kmsg.DescribeQuorumResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return nil, err
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, errors.New("DescribeQuorum: unexpected response shape")
	}
	part := resp.Topics[0].Partitions[0]
	if err := kerr.ErrorForCode(part.ErrorCode); err != nil {
		return nil, err
	}
	q := &Quorum{LeaderID: part.LeaderID, LeaderEpoch: part.LeaderEpoch, HighWatermark: part.HighWatermark}
	for _, v := range part.CurrentVoters {
		q.Voters = append(q.Voters, Replica{ID: v.ReplicaID, LogEndOffset: v.LogEndOffset})
	}
	for _, o := range part.Observers {
		q.Observers = append(q.Observers, Replica{ID: o.ReplicaID, LogEndOffset: o.LogEndOffset})
	}
	sort.Slice(q.Voters, func(a, b int) bool { return q.Voters[a].ID < q.Voters[b].ID })
	sort.Slice(q.Observers, func(a, b int) bool { return q.Observers[a].ID < q.Observers[b].ID })
	return q, nil
}

// brokerServing checks the i-th broker listener answers ApiVersions, which it only
// opens once the broker is registered and unfenced.
func (ac *addrClients) brokerServing(ctx context.Context, i int) error {
	req := kmsg.NewPtrApiVersionsRequest()
	// v3+ requires a client name and version; an empty one is INVALID_REQUEST.
	req.ClientSoftwareName, req.ClientSoftwareVersion = "kraftlab", "1"
	kresp, err := ac.request(ctx, i, req)
	if err != nil {
		return err
	}
	return kerr.ErrorForCode(kresp.(*kmsg.ApiVersionsResponse).ErrorCode)
}

// registeredBrokers returns the broker ids the i-th broker's metadata lists.
func (ac *addrClients) registeredBrokers(ctx context.Context, i int) ([]int32, error) {
	kresp, err := ac.request(ctx, i, kmsg.NewPtrMetadataRequest())
	if err != nil {
		return nil, err
	}
	var ids []int32
	for _, b := range kresp.(*kmsg.MetadataResponse).Brokers {
		ids = append(ids, b.NodeID)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	return ids, nil
}

// pollInterval is short because readiness should be noticed within ~100ms; each try
// is a cheap request on loopback.
const pollInterval = 100 * time.Millisecond
