package cluster

// This file owns spotting old clients: Kafka 4.0 removed the oldest versions of
// many requests (KIP-896), and a 4.x broker closes the connection of a client
// that sends one, logging the refusal. Users see a client that cannot connect;
// the reason is only in the broker's log, so status reads it out.

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// removedBelow is, for each request a client sends whose oldest versions Kafka
// 4.0 removed, the oldest version 4.x still accepts (from kafka-clients' request
// schemas, 3.9.1 against 4.1.1). Metadata, ApiVersions, JoinGroup and the other
// group requests kept version 0.
var removedBelow = map[int16]int16{
	0:  3, // Produce
	1:  4, // Fetch
	2:  1, // ListOffsets
	8:  2, // OffsetCommit
	9:  1, // OffsetFetch
	19: 2, // CreateTopics
	20: 1, // DeleteTopics
	23: 2, // OffsetForLeaderEpoch
	29: 1, // DescribeAcls
	30: 1, // CreateAcls
	31: 1, // DeleteAcls
	32: 1, // DescribeConfigs
	34: 1, // AlterReplicaLogDirs
	35: 1, // DescribeLogDirs
	38: 1, // CreateDelegationToken
	39: 1, // RenewDelegationToken
	40: 1, // ExpireDelegationToken
	41: 1, // DescribeDelegationToken
}

// LastOldVersionRelease is the newest Kafka line that still accepts the removed
// versions.
const LastOldVersionRelease = "3.9.1"

// OldClientRefusal is one kind of request the lab's brokers refused because of
// its version: an API and version, how often, when last and from where.
type OldClientRefusal struct {
	API     string    `json:"api"`
	Key     int16     `json:"api_key"`
	Version int16     `json:"version"`
	Removed bool      `json:"removed_in_kafka_4"` // a version Kafka 4.0 removed, not merely unknown
	Count   int       `json:"count"`
	Last    time.Time `json:"last"` // in the broker's local time, as logged
	Nodes   []int     `json:"nodes"`
	Clients []string  `json:"clients"` // the clients' addresses, as host:port
	Advice  string    `json:"advice"`
}

// Kafka's SocketServer logs, when it closes a connection over a request version
// it does not accept:
//
//	[2026-11-30 12:32:49,373] ERROR Closing socket for 127.0.0.1:9092-127.0.0.1:35288-1-0 because of error (kafka.network.Processor)
//	org.apache.kafka.common.errors.UnsupportedVersionException: Received request for api with key 0 (Produce) and unsupported version 2
//
// and the exception again under "Exception while processing request from".
var (
	closingSocket      = regexp.MustCompile(`^\[[^]]+\] ERROR Closing socket for [^-]+-([^ ]+)-\d+-\d+ because of error`)
	unsupportedVersion = regexp.MustCompile(`UnsupportedVersionException: Received request for api with key (\d+) \(([A-Za-z]+)\) and unsupported version (\d+)`)
)

// oldClientScanBytes is how much of the end of each server log is read: recent
// refusals are the ones that matter, and status must stay quick.
const oldClientScanBytes = 4 << 20

// OldClientRefusals scans every node's server log for requests refused because
// their version is not supported, most recent first.
func (l *Lab) OldClientRefusals() []OldClientRefusal {
	byAPI := make(map[[2]int16]*OldClientRefusal)
	if l.st == nil {
		return nil
	}
	for _, n := range l.nodes() {
		scanRefusals(l.dir.ServerLog(n.ID), n.ID, byAPI)
	}
	var out []OldClientRefusal
	for _, r := range byAPI {
		r.Advice = r.advice()
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b OldClientRefusal) int {
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		return int(a.Key) - int(b.Key)
	})
	return out
}

// scanRefusals adds the refusals logged in path by node id to byAPI.
func scanRefusals(path string, id int, byAPI map[[2]int16]*OldClientRefusal) {
	text := readTail(path, oldClientScanBytes)
	var at time.Time
	client := ""
	for _, line := range strings.Split(text, "\n") {
		if m := closingSocket.FindStringSubmatch(line); m != nil {
			at, _ = logLineTime(line)
			client = m[1]
			continue
		}
		m := unsupportedVersion.FindStringSubmatch(line)
		if m == nil || client == "" {
			continue // the second report of the same refusal, or no closing line
		}
		key, err1 := strconv.ParseInt(m[1], 10, 16)
		version, err2 := strconv.ParseInt(m[3], 10, 16)
		if err1 != nil || err2 != nil {
			continue
		}
		k := [2]int16{int16(key), int16(version)}
		r := byAPI[k]
		if r == nil {
			min, known := removedBelow[int16(key)]
			r = &OldClientRefusal{API: m[2], Key: int16(key), Version: int16(version), Removed: known && int16(version) < min}
			byAPI[k] = r
		}
		r.Count++
		if at.After(r.Last) {
			r.Last = at
		}
		if !slices.Contains(r.Nodes, id) {
			r.Nodes = append(r.Nodes, id)
			slices.Sort(r.Nodes)
		}
		if !slices.Contains(r.Clients, client) && len(r.Clients) < 5 {
			r.Clients = append(r.Clients, client)
		}
		client = ""
	}
}

// advice says in plain words what happened and what to do.
func (r OldClientRefusal) advice() string {
	what := fmt.Sprintf("%s v%d (API key %d)", r.API, r.Version, r.Key)
	if !r.Removed {
		return fmt.Sprintf("%s is not supported by this broker: the client asked for a version the broker does not have", what)
	}
	return fmt.Sprintf("%s was removed in Kafka 4.0 (KIP-896; %s needs v%d or later): upgrade the client or run the lab on 3.9.x (kraftlab up --kafka-version %s)",
		what, r.API, removedBelow[r.Key], LastOldVersionRelease)
}

// String is the refusal in one line, as status prints it.
func (r OldClientRefusal) String() string {
	times := "once"
	if r.Count > 1 {
		times = fmt.Sprintf("%d times", r.Count)
	}
	return fmt.Sprintf("%s (refused %s, last at %s, by node %s, from %s)", r.Advice, times,
		r.Last.Format("2006-01-02 15:04:05"), joinInts(r.Nodes), strings.Join(r.Clients, ", "))
}

func joinInts(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	return strings.Join(s, ",")
}
