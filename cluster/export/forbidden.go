package export

// This file owns which broker properties the Strimzi operator refuses in
// spec.kafka.config: KafkaClusterSpec.FORBIDDEN_PREFIXES and
// FORBIDDEN_PREFIX_EXCEPTIONS of the Strimzi release in schemas/strimzi (commit
// 8541da1). The operator sets these itself from the Kafka and KafkaNodePool
// resources, and ignores them, with a warning, when a user sets them.

import "strings"

// strimziForbiddenPrefixes: a key that starts with one of these (compared in lower
// case, as the operator does) is forbidden...
var strimziForbiddenPrefixes = []string{
	"listeners", "advertised.", "broker.", "listener.", "host.name", "port",
	"inter.broker.listener.name", "sasl.", "ssl.", "security.", "password.", "log.dir",
	"zookeeper.connect", "zookeeper.set.acl", "zookeeper.ssl", "zookeeper.clientCnxnSocket", "authorizer.", "super.user",
	"cruise.control.metrics.topic", "cruise.control.metrics.reporter.bootstrap.servers",
	"node.id", "process.roles", "controller.", "metadata.log.dir", "zookeeper.metadata.migration.enable",
	"client.quota.callback.static.kafka.admin.", "client.quota.callback.static.produce", "client.quota.callback.static.fetch",
	"client.quota.callback.static.storage.per.volume.limit.min.available.", "client.quota.callback.static.excluded.principal.name.list",
	"prometheus.metrics.reporter.", "cordoned.log.dirs",
}

// ...unless it is exactly one of these.
var strimziForbiddenExceptions = []string{
	"zookeeper.connection.timeout.ms", "sasl.server.max.receive.size",
	"ssl.cipher.suites", "ssl.protocol", "ssl.enabled.protocols", "ssl.secure.random.implementation",
	"cruise.control.metrics.topic.num.partitions", "cruise.control.metrics.topic.replication.factor", "cruise.control.metrics.topic.retention.ms",
	"cruise.control.metrics.topic.auto.create.retries", "cruise.control.metrics.topic.auto.create.timeout.ms",
	"cruise.control.metrics.topic.min.insync.replicas",
	"broker.session.timeout.ms", "broker.heartbeat.interval.ms", "controller.socket.timeout.ms",
	"controller.quorum.election.backoff.max.ms", "controller.quorum.election.timeout.ms", "controller.quorum.fetch.timeout.ms",
}

// strimziForbids returns the forbidden prefix a key falls under, or "" when the
// operator accepts the key in spec.kafka.config. (Strimzi also accepts
// listener.name.<its listener>.max.connections and two more per-listener keys;
// a lab's listener names are not Strimzi's, so kraftlab never exports those.)
func strimziForbids(key string) string {
	lower := strings.ToLower(key)
	for _, p := range strimziForbiddenPrefixes {
		// The operator lower-cases the key, not the prefix: a prefix with capitals
		// (zookeeper.clientCnxnSocket) never matches, and neither does it here.
		if strings.HasPrefix(lower, p) {
			for _, e := range strimziForbiddenExceptions {
				if key == e {
					return ""
				}
			}
			return p
		}
	}
	return ""
}
