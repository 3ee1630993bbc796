// Package kraft speaks the raw KRaft and readiness RPCs kraftlab needs to one
// listener at a time: DescribeQuorum, DescribeCluster (whose cluster id is
// answering), ApiVersions, Metadata, and the voter changes of a dynamic quorum
// (KIP-853). kadm has no helpers for most of these; kcl shows the raw calls.
package kraft

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kraftlab/kraftlab/cluster/internal/proc"
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

// VoterIDs lists the voters' ids.
func (q *Quorum) VoterIDs() []int32 {
	var ids []int32
	for _, v := range q.Voters {
		ids = append(ids, v.ID)
	}
	return ids
}

// CaughtUp reports whether the quorum has a leader, all want voters, and every
// voter in mustCatchUp has replicated up to the high watermark (a voter that is
// deliberately down is left out of that set); it describes what it saw otherwise.
func (q *Quorum) CaughtUp(want int, mustCatchUp map[int32]bool) (bool, string) {
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
		return false, fmt.Sprintf("leader %d, voters not caught up: %s", q.LeaderID, joinComma(behind))
	}
	return true, fmt.Sprintf("leader %d, %d voters caught up", q.LeaderID, len(mustCatchUp))
}

func joinComma(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// Clients holds one client per address, so each request goes to exactly that
// listener rather than wherever metadata routing would send it.
type Clients struct {
	Addrs   []string
	clients []*kgo.Client
}

// Dial makes one client per address; extra options (TLS, SASL) apply to all.
func Dial(addrs []string, opts ...kgo.Opt) (*Clients, error) {
	c := &Clients{Addrs: addrs}
	for _, a := range addrs {
		all := append([]kgo.Opt{kgo.SeedBrokers(a), kgo.Dialer(DialListening), kgo.RequestRetries(0)}, opts...)
		cl, err := kgo.NewClient(all...)
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("client for %s: %w", a, err)
		}
		c.clients = append(c.clients, cl)
	}
	return c, nil
}

// Close closes every client.
func (c *Clients) Close() {
	for _, cl := range c.clients {
		cl.Close()
	}
}

// DialListening connects only once something listens on the port. A lab's ports
// may lie in the kernel's ephemeral port range, where connecting to a port nobody
// listens on can pick that very port as the source and connect the socket to
// itself. Go drops such a connection, but its TIME_WAIT then keeps the node that is
// about to bind the port from doing so, for a minute. Readiness polls a starting
// node's port ten times a second, and Linux hands out successive source ports, so
// without this check the poll walks into the port it waits for.
func DialListening(ctx context.Context, network, addr string) (net.Conn, error) {
	if _, port, err := net.SplitHostPort(addr); err == nil {
		if p, err := strconv.Atoi(port); err == nil {
			if listening, known := proc.Listening(p); known && !listening {
				return nil, fmt.Errorf("dial %s: nothing listens there yet: %w", addr, syscall.ECONNREFUSED)
			}
		}
	}
	d := net.Dialer{Timeout: 2 * time.Second}
	return d.DialContext(ctx, network, addr)
}

// requestTimeout bounds one request on loopback.
const requestTimeout = 3 * time.Second

// Request sends req to the i-th address only.
func (c *Clients) Request(ctx context.Context, i int, req kmsg.Request) (kmsg.Response, error) {
	return c.RequestWithin(ctx, i, req, requestTimeout)
}

// RequestWithin is Request for a request the server may take up to d to answer.
func (c *Clients) RequestWithin(ctx context.Context, i int, req kmsg.Request, d time.Duration) (kmsg.Response, error) {
	rctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return c.clients[i].SeedBrokers()[0].Request(rctx, req)
}

// DescribeQuorum asks the controllers, in turn, for the quorum state; only the
// quorum leader answers without error. Every controller asked must belong to the
// cluster clusterID ("" skips the check).
func (c *Clients) DescribeQuorum(ctx context.Context, clusterID string) (*Quorum, error) {
	var errs []error
	for i := range c.clients {
		if clusterID != "" {
			if err := c.CheckClusterID(ctx, i, clusterID, true); err != nil {
				var wrong *WrongClusterError
				if errors.As(err, &wrong) {
					return nil, err
				}
				errs = append(errs, fmt.Errorf("%s: %w", c.Addrs[i], err))
				continue
			}
		}
		q, err := c.DescribeQuorumAt(ctx, i)
		if err == nil {
			return q, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", c.Addrs[i], err))
	}
	return nil, &NoLeaderError{Errs: errs}
}

// NoLeaderError is a DescribeQuorum that no controller answered as leader.
type NoLeaderError struct{ Errs []error }

func (e *NoLeaderError) Error() string   { return errors.Join(e.Errs...).Error() }
func (e *NoLeaderError) Unwrap() []error { return e.Errs }

// DescribeQuorumAt asks the i-th address for the quorum state.
func (c *Clients) DescribeQuorumAt(ctx context.Context, i int) (*Quorum, error) {
	req := kmsg.NewPtrDescribeQuorumRequest()
	t := kmsg.NewDescribeQuorumRequestTopic()
	t.Topic = "__cluster_metadata"
	t.Partitions = append(t.Partitions, kmsg.NewDescribeQuorumRequestTopicPartition())
	req.Topics = append(req.Topics, t)
	kresp, err := c.Request(ctx, i, req)
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

// WrongClusterError is a node of another cluster answering on an address the lab
// expects its own node on: another lab, or another Kafka, took the port.
type WrongClusterError struct {
	Addr, Want, Got string
}

func (e *WrongClusterError) Error() string {
	return fmt.Sprintf("%s is answered by a node of another Kafka cluster (cluster id %s, not this lab's %s): another lab or Kafka took the port; stop it, or move this lab's ports", e.Addr, e.Got, e.Want)
}

// CheckClusterID asks the i-th address which cluster it belongs to (DescribeCluster;
// controller selects the controller endpoint type, KIP-919) and returns a
// *WrongClusterError unless it is want.
func (c *Clients) CheckClusterID(ctx context.Context, i int, want string, controller bool) error {
	req := kmsg.NewPtrDescribeClusterRequest()
	if controller {
		req.EndpointType = 2
	}
	kresp, err := c.Request(ctx, i, req)
	if err != nil {
		return err
	}
	resp := kresp.(*kmsg.DescribeClusterResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return err
	}
	if resp.ClusterID != want {
		return &WrongClusterError{Addr: c.Addrs[i], Want: want, Got: resp.ClusterID}
	}
	return nil
}

// BrokerServing checks the i-th broker listener answers ApiVersions, which it only
// opens once the broker is registered and unfenced.
func (c *Clients) BrokerServing(ctx context.Context, i int) error {
	kresp, err := c.Request(ctx, i, apiVersionsRequest())
	if err != nil {
		return err
	}
	return kerr.ErrorForCode(kresp.(*kmsg.ApiVersionsResponse).ErrorCode)
}

func apiVersionsRequest() *kmsg.ApiVersionsRequest {
	req := kmsg.NewPtrApiVersionsRequest()
	// v3+ requires a client name and version; an empty one is INVALID_REQUEST.
	req.ClientSoftwareName, req.ClientSoftwareVersion = "kraftlab", "1"
	return req
}

// RegisteredBrokers returns the broker ids the i-th broker's metadata lists, and
// the cluster id it reports.
func (c *Clients) RegisteredBrokers(ctx context.Context, i int) ([]int32, string, error) {
	kresp, err := c.Request(ctx, i, kmsg.NewPtrMetadataRequest())
	if err != nil {
		return nil, "", err
	}
	resp := kresp.(*kmsg.MetadataResponse)
	var ids []int32
	for _, b := range resp.Brokers {
		ids = append(ids, b.NodeID)
	}
	sort.Slice(ids, func(a, b int) bool { return ids[a] < ids[b] })
	cid := ""
	if resp.ClusterID != nil {
		cid = *resp.ClusterID
	}
	return ids, cid, nil
}

// MetadataVersionLevels reads, from the ApiVersions answer of the i-th address,
// the highest metadata.version level it supports and the finalized one.
func (c *Clients) MetadataVersionLevels(ctx context.Context, i int) (supported, finalized int16, err error) {
	kresp, err := c.Request(ctx, i, apiVersionsRequest())
	if err != nil {
		return 0, 0, err
	}
	resp := kresp.(*kmsg.ApiVersionsResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return 0, 0, err
	}
	supported, finalized = -1, -1
	for _, f := range resp.SupportedFeatures {
		if f.Name == "metadata.version" {
			supported = f.MaxVersion
		}
	}
	for _, f := range resp.FinalizedFeatures {
		if f.Name == "metadata.version" {
			finalized = f.MaxVersionLevel
		}
	}
	if supported < 0 {
		return 0, 0, errors.New("no metadata.version among its supported features")
	}
	return supported, finalized, nil
}

// VoterChangeTimeout bounds one AddRaftVoter/RemoveRaftVoter round trip: the leader
// answers once the new voter set is committed, which takes a few fetch rounds.
const VoterChangeTimeout = 10 * time.Second

// Voter names a voter by id and metadata directory id, with its controller
// listener.
type Voter struct {
	ID          int
	DirectoryID [16]byte
	Host        string
	Port        int
}

// AddVoter sends AddRaftVoter to the i-th address (the quorum leader).
func (c *Clients) AddVoter(ctx context.Context, i int, clusterID string, v Voter) error {
	req := kmsg.NewPtrAddRaftVoterRequest()
	req.TimeoutMillis = int32(VoterChangeTimeout / time.Millisecond)
	req.ClusterID = kmsg.StringPtr(clusterID)
	req.VoterID = int32(v.ID)
	req.VoterDirectoryID = v.DirectoryID
	l := kmsg.NewAddRaftVoterRequestListener()
	l.Name, l.Host, l.Port = "CONTROLLER", v.Host, uint16(v.Port)
	req.Listeners = append(req.Listeners, l)
	kresp, err := c.RequestWithin(ctx, i, req, VoterChangeTimeout+2*time.Second)
	if err != nil {
		return err
	}
	resp := kresp.(*kmsg.AddRaftVoterResponse)
	return voterChangeError(resp.ErrorCode, resp.ErrorMessage, kerr.DuplicateVoter)
}

// RemoveVoter sends RemoveRaftVoter to the i-th address (the quorum leader).
func (c *Clients) RemoveVoter(ctx context.Context, i int, clusterID string, v Voter) error {
	req := kmsg.NewPtrRemoveRaftVoterRequest()
	req.ClusterID = kmsg.StringPtr(clusterID)
	req.VoterID, req.VoterDirectoryID = int32(v.ID), v.DirectoryID
	kresp, err := c.RequestWithin(ctx, i, req, VoterChangeTimeout)
	if err != nil {
		return err
	}
	resp := kresp.(*kmsg.RemoveRaftVoterResponse)
	return voterChangeError(resp.ErrorCode, resp.ErrorMessage, kerr.VoterNotFound)
}

// voterChangeError is the error of an AddRaftVoter/RemoveRaftVoter response, with
// Kafka's message; done (already a voter / not a voter) counts as success, so a
// retry after a lost response is harmless.
func voterChangeError(code int16, msg *string, done *kerr.Error) error {
	err := kerr.ErrorForCode(code)
	if err == nil || errors.Is(err, done) {
		return nil
	}
	if msg != nil && *msg != "" {
		return fmt.Errorf("%w: %s", err, *msg)
	}
	return err
}

// BrokerConfigNames asks the i-th address, broker id, for every broker property it
// knows (DescribeConfigs on its broker resource), sorted.
func (c *Clients) BrokerConfigNames(ctx context.Context, i, id int) ([]string, error) {
	req := kmsg.NewPtrDescribeConfigsRequest()
	r := kmsg.NewDescribeConfigsRequestResource()
	r.ResourceType = kmsg.ConfigResourceTypeBroker
	r.ResourceName = strconv.Itoa(id)
	req.Resources = append(req.Resources, r)
	kresp, err := c.Request(ctx, i, req)
	if err != nil {
		return nil, err
	}
	resp := kresp.(*kmsg.DescribeConfigsResponse)
	if len(resp.Resources) != 1 {
		return nil, errors.New("DescribeConfigs: unexpected response shape")
	}
	if err := kerr.ErrorForCode(resp.Resources[0].ErrorCode); err != nil {
		return nil, err
	}
	var names []string
	for _, cfg := range resp.Resources[0].Configs {
		names = append(names, cfg.Name)
	}
	sort.Strings(names)
	return names, nil
}

// TLSDialer dials like DialListening, then speaks TLS with cfg, checking the
// certificate against the host dialed (as franz-go's own TLS dialing does). It
// replaces kgo.DialTLSConfig, which cannot be combined with a dialer of one's own.
func TLSDialer(cfg *tls.Config) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := DialListening(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		c := cfg.Clone()
		if c.ServerName == "" {
			if host, _, err := net.SplitHostPort(addr); err == nil {
				c.ServerName = host
			}
		}
		tc := tls.Client(conn, c)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
}
