package cluster

// This file owns rendering: each node's server.properties from the embedded template
// plus --set overrides, the logging config, and the exact java command lines. The
// output is deterministic: the same input gives byte-identical files.

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/magiconair/properties"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/templates"
)

// propertiesEncoding is how kraftlab reads properties files. Kafka reads them with
// java.util.Properties.load on a stream, i.e. as ISO-8859-1 with \uXXXX escapes, so
// rendered files are written as plain ASCII (see escapeNonASCII) and read the same
// by both.
const propertiesEncoding = properties.UTF8

var serverTemplate = template.Must(template.ParseFS(templates.FS, "server.properties.tmpl"))

// Kafka's own default JVM performance flags (kafka-run-class.sh).
var kafkaPerfFlags = []string{
	"-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
	"-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
	"-XX:MaxInlineLevel=15", "-Djava.awt.headless=true",
}

// internalReplication is the replication factor for internal and default topics on
// a cluster of n brokers: 3, or fewer when there are fewer brokers.
func internalReplication(n int) int { return min(3, n) }

// minInsyncReplicas keeps one replica of slack: 2, or 1 on a single broker.
func minInsyncReplicas(n int) int { return min(2, n) }

// RenderProperties returns node n's server.properties for the lab s. On a static
// quorum every node names the voters; on a dynamic one it names the controllers only
// as bootstrap servers, since the voter set lives in the metadata log.
func RenderProperties(s *State, p Paths, n NodeState, overrides []Override) ([]byte, error) {
	var voters, controllers []string
	brokers := 0
	for _, o := range s.Nodes {
		if o.IsController() {
			voters = append(voters, fmt.Sprintf("%d@%s", o.ID, o.ControllerAddr()))
			controllers = append(controllers, o.ControllerAddr())
		}
		if o.IsBroker() {
			brokers++
		}
	}
	if s.Dynamic() {
		voters = nil
	}
	var listeners []string
	in := map[string]any{
		"Lab":                  s.Name,
		"NodeID":               n.ID,
		"Roles":                strings.Join(n.Roles, ","),
		"Voters":               strings.Join(voters, ","),
		"BootstrapControllers": strings.Join(controllers, ","),
		"DataDir":              p.DataDir(n.ID),
		"Brokers":              brokers,
		"InternalRF":           internalReplication(brokers),
		"MinISR":               minInsyncReplicas(brokers),
	}
	if n.IsBroker() {
		listeners = append(listeners, "PLAINTEXT://"+n.BrokerAddr())
		in["AdvertisedListeners"] = "PLAINTEXT://" + n.BrokerAddr()
		in["InterBrokerListener"] = "PLAINTEXT"
	}
	// A broker-only node keeps controller.listener.names (it says how to reach the
	// controllers) but does not listen on it.
	if n.IsController() {
		listeners = append(listeners, "CONTROLLER://"+n.ControllerAddr())
	}
	in["Listeners"] = strings.Join(listeners, ",")

	var buf bytes.Buffer
	if err := serverTemplate.Execute(&buf, in); err != nil {
		return nil, fmt.Errorf("render node %d: %w", n.ID, err)
	}
	props := properties.NewProperties()
	props.DisableExpansion = true // Kafka reads ${...} literally
	if err := props.Load(buf.Bytes(), propertiesEncoding); err != nil {
		return nil, fmt.Errorf("render node %d: template output does not parse: %w", n.ID, err)
	}
	for _, o := range overrides {
		if o.Node != 0 && o.Node != n.ID {
			continue
		}
		if _, _, err := props.Set(o.Key, o.Value); err != nil {
			return nil, fmt.Errorf("node %d: --set %s=%s: %w", n.ID, o.Key, o.Value, err)
		}
	}
	var out bytes.Buffer
	if _, err := props.WriteComment(&out, "# ", propertiesEncoding); err != nil {
		return nil, fmt.Errorf("render node %d: %w", n.ID, err)
	}
	return escapeNonASCII(out.Bytes()), nil
}

// log4jConfig returns the logging config file name and body for a runtime: log4j2
// for Kafka 4.x, log4j 1 (reload4j) for 3.x.
func log4jConfig(major int) (name string, body []byte, err error) {
	tmpl := "log4j2.xml.tmpl"
	if major < 4 {
		tmpl = "log4j.properties.tmpl"
	}
	body, err = templates.FS.ReadFile(tmpl)
	return strings.TrimSuffix(tmpl, ".tmpl"), body, err
}

// log4jFlag is the JVM flag that points Kafka at the lab's logging config.
func log4jFlag(major int, file string) string {
	if major < 4 {
		return "-Dlog4j.configuration=file:" + file
	}
	return "-Dlog4j2.configurationFile=" + file
}

// log4jPath is where the lab's logging config lives for a runtime.
func log4jPath(p Paths, major int) string {
	name, _, _ := log4jConfig(major)
	return filepath.Join(p.Dir, name)
}

// serverCommand is the java command line that runs node id, the way
// kafka-server-start.sh builds it.
func serverCommand(rt *dist.Runtime, p Paths, heap string, id int) []string {
	args := []string{rt.Java, "-Xmx" + heap, "-Xms" + heap}
	args = append(args, kafkaPerfFlags...)
	args = append(args, sharedArchiveFlags(rt, serverArchive)...)
	args = append(args,
		"-Dkafka.logs.dir="+p.LogsDir(id),
		log4jFlag(rt.Major(), log4jPath(p, rt.Major())),
		"-cp", rt.Classpath(),
		"kafka.Kafka", p.PropertiesFile(id),
	)
	return args
}

// formatCommand is the java command line that formats node id's storage, the way
// kafka-storage.sh builds it; quorumArgs are the quorum flags (see formatQuorumArgs).
func formatCommand(rt *dist.Runtime, p Paths, clusterID string, id int, quorumArgs []string) []string {
	args := []string{rt.Java, "-Xmx256M", "-Djava.awt.headless=true"}
	args = append(args, sharedArchiveFlags(rt, storageArchive)...)
	args = append(args,
		"-Dkafka.logs.dir="+p.LogsDir(id),
		log4jFlag(rt.Major(), log4jPath(p, rt.Major())),
		"-cp", rt.Classpath(),
		"kafka.tools.StorageTool", "format", "-t", clusterID, "-c", p.PropertiesFile(id),
	)
	return append(args, quorumArgs...)
}

// noInitialControllers formats a node that joins an existing dynamic quorum: a
// broker, or a controller added later (it starts as an observer until AddRaftVoter).
var noInitialControllers = []string{"--no-initial-controllers"}

// formatQuorumArgs are the StorageTool quorum flags for node n of a new lab s. A
// static quorum needs none (3.9.2/4.0.2/4.1.1 even refuse them next to
// controller.quorum.voters). A dynamic quorum's initial controllers all get the same
// --initial-controllers id@host:port:directoryId list, and each takes its own
// directory id from it; everything else joins with --no-initial-controllers.
func formatQuorumArgs(s *State, n NodeState) []string {
	if !s.Dynamic() {
		return nil
	}
	if !n.IsController() {
		return noInitialControllers
	}
	var voters []string
	for _, c := range s.Controllers() {
		voters = append(voters, fmt.Sprintf("%d@%s:%s", c.ID, c.ControllerAddr(), c.DirectoryID))
	}
	return []string{"--initial-controllers", strings.Join(voters, ",")}
}

// escapeNonASCII turns every non-ASCII character into a \uXXXX escape, which Java's
// Properties decodes in keys and values alike; raw UTF-8 would be misread as
// ISO-8859-1. ParseOverride refuses characters beyond U+FFFF, which would need
// surrogate pairs.
func escapeNonASCII(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
			continue
		}
		out = fmt.Appendf(out, "\\u%04x", r)
	}
	return out
}
