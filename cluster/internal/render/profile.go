package render

// This file owns profiles: the broker properties, JVM flags, default heap and node
// environment a lab runs with besides its layout. 'production' is Kafka's own
// settings; 'lab' and 'lean' trade margins that guard against GC pauses and the
// networks of a data centre, which a one-machine lab does not have, for a lab that
// starts, stops and recovers quickly on a small machine. BENCHMARKS.md has the
// measurements behind every value.

import (
	"slices"
	"strconv"
	"strings"
)

// Profile names.
const (
	ProfileProduction = "production"
	ProfileLab        = "lab"
	ProfileLean       = "lean"
)

// ProfileProperty is one broker property a profile sets, and why.
type ProfileProperty struct {
	Key, Value, Why string
}

// Profile is what a lab runs with besides its layout.
type Profile struct {
	Name       string
	Properties []ProfileProperty
	// JVMFlags replace Kafka's performance flags (kafkaPerfFlags) when set.
	JVMFlags []string
	Heap     string // the default heap
	// InitialHeap is -Xms when smaller than the heap; "" is the heap itself (-Xms
	// equal to -Xmx, as kafka-server-start.sh sets them).
	InitialHeap string
	Env         []string // added to the environment of every node's JVM
}

// labProperties fit the KRaft timers to one machine, where a message takes
// microseconds and a node that stops answering has crashed or been stopped on
// purpose. controller.quorum.fetch.timeout.ms keeps Kafka's 2 s: at 1 s, a 60 s
// produce that saturates 2 cores cost 2 to 5 quorum elections, at 2 s one or two
// (scripts/bench-timers, BENCHMARKS.md).
var labProperties = []ProfileProperty{
	{"broker.heartbeat.interval.ms", "250", "Brokers report every 250 ms (Kafka: 2000), so registration, unfencing and controlled shutdown take one quick round each"},
	{"broker.session.timeout.ms", "2000", "A broker silent for 2 s is fenced (Kafka: 9000): a killed node's partitions move on, and its restart can register, within 2 s"},
	{"controller.quorum.election.timeout.ms", "250", "Voters wait 250-500 ms before an election (Kafka: 1000-2000 ms), at start-up and after the quorum leader dies"},
	{"controller.quorum.election.backoff.max.ms", "250", "A lost election is retried within 250 ms (Kafka: 1000)"},
	{"replica.lag.time.max.ms", "1500", "A follower 1.5 s behind leaves the ISR (Kafka: 30000), so acks=all writes go on without a killed follower as soon as a controller takes the change, before the node is fenced"},
	{"log.cleaner.dedupe.buffer.size", "4194304", "The log cleaner's dedupe map takes 4 MiB of heap (Kafka: 128 MiB, allocated and touched at start: 128 MB of RSS a node)"},
}

// leanProperties shrink what each node holds on to, on top of the lab's.
var leanProperties = append(slices.Clip(labProperties),
	ProfileProperty{"num.network.threads", "1", "One network thread per listener (Kafka: 3)"},
	ProfileProperty{"num.io.threads", "2", "Two request handler threads (Kafka: 8)"},
	ProfileProperty{"background.threads", "2", "Two background threads (Kafka: 10)"},
	ProfileProperty{"num.recovery.threads.per.data.dir", "1", "One log recovery thread (Kafka: 2)"},
	ProfileProperty{"group.coordinator.threads", "1", "One group coordinator thread (Kafka: 4)"},
)

// c1Only stops the JIT at its first tier: on 2 cores the optimising compiler's
// start-up work competes with the nodes starting.
var c1Only = []string{"-XX:TieredStopAtLevel=1"}

var profiles = []Profile{
	{Name: ProfileProduction, Heap: "512M"},
	{Name: ProfileLab, Properties: labProperties, JVMFlags: append(slices.Clip(kafkaPerfFlags), c1Only...), Heap: "512M"},
	{
		Name:       ProfileLean,
		Properties: leanProperties,
		JVMFlags: []string{
			"-server", "-XX:+UseSerialGC", "-XX:MaxInlineLevel=15", "-Djava.awt.headless=true",
			"-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
			"-XX:ReservedCodeCacheSize=48M", "-XX:MaxDirectMemorySize=64M",
		},
		Heap: "256M",
		// The heap grows as the node needs it instead of being touched whole.
		InitialHeap: "32M",
		// glibc gives each allocating thread its own 64 MB malloc arena; two are
		// plenty for a JVM that allocates on its heap.
		Env: []string{"MALLOC_ARENA_MAX=2"},
	},
}

// ProfileNames lists the profiles, for flags, the schema and errors.
func ProfileNames() []string {
	var names []string
	for _, p := range profiles {
		names = append(names, p.Name)
	}
	return names
}

// LookupProfile finds a profile by name.
func LookupProfile(name string) (Profile, bool) {
	for _, p := range profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// jvmFlags are the flags in place of Kafka's performance flags.
func (p Profile) jvmFlags() []string {
	if len(p.JVMFlags) > 0 {
		return p.JVMFlags
	}
	return kafkaPerfFlags
}

// initialHeap is -Xms for a node with heap as -Xmx.
func (p Profile) initialHeap(heap string) string {
	if p.InitialHeap != "" && heapMB(p.InitialHeap) < heapMB(heap) {
		return p.InitialHeap
	}
	return heap
}

// heapMB reads a heap size as the spec takes it (512M, 1G) in MiB; 0 if malformed.
func heapMB(s string) int {
	if len(s) < 2 {
		return 0
	}
	n, err := strconv.Atoi(s[:len(s)-1])
	if err != nil {
		return 0
	}
	if strings.ContainsAny(s[len(s)-1:], "gG") {
		n *= 1024
	}
	return n
}
