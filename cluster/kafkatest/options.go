package kafkatest

// This file owns what a test can ask of its lab: the options of Start and Main,
// their defaults, and the environment variables that fill in what the options
// leave unset — read here, and nowhere else in the package.

import (
	"maps"
	"os"
	"slices"
	"time"

	"github.com/kraftlab/kraftlab/cluster"
)

// Option changes the lab Start or Main brings up.
type Option func(*options)

type options struct {
	spec  cluster.Spec
	cache string
	wait  time.Duration
	skip  bool
}

// Defaults of a test lab, where they differ from the kraftlab command's.
const (
	// DefaultHeap is each node's JVM heap: plenty for a test's records, and small
	// enough for three nodes and the tests beside them on a laptop or a CI runner.
	DefaultHeap = "256M"
	// DefaultWait bounds how long a lab, or one of its nodes, may take to become ready.
	DefaultWait = 2 * time.Minute
	// Port bases from which a free window is picked (cluster.PortsSpec.Auto): below
	// the kernel's ephemeral range, away from Kafka's usual 9092 and kraftlab's
	// 19092, and reserved against every other test binary of the user while a lab
	// starts.
	defaultBrokerBase     = 21000
	defaultControllerBase = 26000
)

// testProperties are broker properties every test lab gets unless the test sets
// them itself (the package documentation lists them): a first consumer group
// forms quickly, and a killed broker is noticed in seconds.
var testProperties = map[string]string{
	// One partition for the internal topics instead of 50: they are created on a
	// group's or a transaction's first use, and each partition costs time.
	"offsets.topic.num.partitions":                 "1",
	"transaction.state.log.num.partitions":         "1",
	"share.coordinator.state.topic.num.partitions": "1",
	// A broker that stops heartbeating is fenced, and its partitions get new
	// leaders, after 4 s instead of 9 s: a test that kills a leader waits that long
	// for its producer to move on.
	"broker.heartbeat.interval.ms": "500",
	"broker.session.timeout.ms":    "4000",
}

// Environment variables that fill in what the options leave unset. An option
// always wins over its variable.
const (
	// EnvCache is the runtime cache directory (default: the user's cache dir,
	// kraftlab/ in it), shared with the kraftlab command. CacheDir sets it.
	EnvCache = "KRAFTLAB_CACHE"
	// EnvVersion is the Kafka release, such as 3.9.1, for a whole test run against
	// another release. Version sets it.
	EnvVersion = "KRAFTLAB_KAFKA_VERSION"
	// EnvKafkaHome is an unpacked Kafka tarball to run instead of a cached release:
	// it needs no download, so it works offline. KafkaHome sets it.
	EnvKafkaHome = "KAFKA_HOME"
)

// newOptions applies opts over the test defaults, then fills in from the
// environment what they left unset.
func newOptions(opts []Option, getenv func(string) string) *options {
	o := &options{wait: DefaultWait}
	for _, opt := range opts {
		opt(o)
	}
	s := &o.spec
	if s.Nodes.Combined == 0 && s.Nodes.Controllers == 0 && s.Nodes.Brokers == 0 && len(s.Nodes.List) == 0 {
		s.Nodes.Combined = 1
	}
	if s.Heap == "" {
		s.Heap = DefaultHeap
	}
	if s.Ports.Broker == 0 && s.Ports.Controller == 0 {
		s.Ports = cluster.PortsSpec{Broker: defaultBrokerBase, Controller: defaultControllerBase, Auto: true}
	}
	for k, v := range testProperties {
		if _, set := s.Properties[k]; !set {
			setProperty(s, k, v)
		}
	}
	if o.cache == "" {
		o.cache = getenv(EnvCache)
	}
	if s.Kafka.Version == "" && s.Kafka.Home == "" {
		s.Kafka.Version, s.Kafka.Home = getenv(EnvVersion), getenv(EnvKafkaHome)
	}
	return o
}

// setProperty sets one broker property on a copy of the spec's map: the caller's
// own map is never written to.
func setProperty(s *cluster.Spec, k, v string) {
	s.Properties = maps.Clone(s.Properties)
	if s.Properties == nil {
		s.Properties = map[string]string{}
	}
	s.Properties[k] = v
}

// Spec starts from a whole lab spec, for what the other options do not cover
// (isolated roles with an explicit node list, a dynamic quorum, per-node
// properties). Options after it change its fields. Its name is only a prefix:
// every test lab gets a name of its own. Its ports, unless it sets a base, are
// picked as for any test lab.
func Spec(s cluster.Spec) Option {
	return func(o *options) {
		o.spec = s
		o.spec.Properties = maps.Clone(s.Properties)
		o.spec.Topics = slices.Clone(s.Topics)
	}
}

// Security secures the lab: a preset (cluster.SecurityTLS, SecurityMTLS,
// SecuritySCRAM, SecurityPlain), ACLs on or off, and the users besides admin.
// Client and Admin connect as admin; ClientAs as one of the users.
func Security(preset string, acls bool, users ...string) Option {
	return func(o *options) {
		sec := &cluster.SecuritySpec{Preset: preset, Authorization: acls}
		for _, u := range users {
			sec.Users = append(sec.Users, cluster.UserSpec{Name: u})
		}
		o.spec.Security = sec
	}
}

// Nodes makes the lab n combined nodes, each a broker and a KRaft controller (the
// default is one).
func Nodes(n int) Option { return func(o *options) { o.spec.Nodes.Combined = n } }

// Controllers adds n controller-only nodes: with Brokers, a lab with isolated roles.
func Controllers(n int) Option { return func(o *options) { o.spec.Nodes.Controllers = n } }

// Brokers adds n broker-only nodes.
func Brokers(n int) Option { return func(o *options) { o.spec.Nodes.Brokers = n } }

// Version runs this Kafka release (e.g. "3.9.1"), fetched once into the runtime
// cache on first use. The default is kraftlab's pinned release.
func Version(v string) Option { return func(o *options) { o.spec.Kafka.Version = v } }

// KafkaHome runs the Kafka unpacked at dir (an official tarball: its libs/), which
// needs no download.
func KafkaHome(dir string) Option { return func(o *options) { o.spec.Kafka.Home = dir } }

// Heap sets each node's JVM heap, e.g. "512M" (default DefaultHeap).
func Heap(size string) Option { return func(o *options) { o.spec.Heap = size } }

// Properties sets broker properties on every node, over the test defaults (see the package documentation) and
// Kafka's defaults.
func Properties(props map[string]string) Option {
	return func(o *options) {
		for _, k := range slices.Sorted(maps.Keys(props)) {
			setProperty(&o.spec, k, props[k])
		}
	}
}

// Topics are created once the lab is ready; a partition count or replication
// factor left 0 takes kraftlab's default (3 partitions, replication min(3, brokers)).
func Topics(topics ...cluster.TopicSpec) Option {
	return func(o *options) { o.spec.Topics = append(slices.Clone(o.spec.Topics), topics...) }
}

// CacheDir is where Kafka runtimes are cached (default: $KRAFTLAB_CACHE, else the
// one the kraftlab command uses, so a runtime is fetched once per user).
func CacheDir(dir string) Option { return func(o *options) { o.cache = dir } }

// Wait bounds how long the lab, and later each node a fault helper starts again,
// may take to be ready (default DefaultWait).
func Wait(d time.Duration) Option { return func(o *options) { o.wait = d } }

// SkipIfUnavailable skips the test, instead of failing it, when this machine
// cannot run Kafka: no Java 17+, or no Kafka runtime and no way to fetch one.
// Anything that goes wrong once the runtime is there still fails the test.
func SkipIfUnavailable() Option { return func(o *options) { o.skip = true } }

// environ is how the package reads the environment: the variables above only.
func environ(key string) string {
	switch key {
	case EnvCache, EnvVersion, EnvKafkaHome:
		return os.Getenv(key)
	}
	return ""
}
