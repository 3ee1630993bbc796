// Package render turns a planned lab into the files and command lines Kafka runs
// with: each node's server.properties from the embedded template plus the spec's
// overrides, the logging config, and the exact java command lines. The output is
// deterministic: the same input gives byte-identical files.
package render

import (
	"bytes"
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/magiconair/properties"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/templates"
)

// Encoding is how kraftlab reads properties files. Kafka reads them with
// java.util.Properties.load on a stream, i.e. as ISO-8859-1 with \uXXXX escapes, so
// rendered files are written as plain ASCII (see escapeNonASCII) and read the same
// by both.
const Encoding = properties.UTF8

var serverTemplate = template.Must(template.ParseFS(templates.FS, "server.properties.tmpl"))

// Lab is what rendering needs of a lab.
type Lab struct {
	Name    string
	Dir     labdir.Dir
	Dynamic bool // a KIP-853 quorum: bootstrap servers instead of a voters line
	Nodes   []Node
	// Properties apply to every node, NodeProperties to one node (and win).
	Properties     map[string]string
	NodeProperties map[int]map[string]string
	// Security secures every listener; nil is plaintext.
	Security *Security
	// Profile's properties come after the template's defaults and before
	// Properties; the zero Profile is production, Kafka's own settings.
	Profile Profile
}

// Security is what rendering needs of a secured lab.
type Security struct {
	ClientProtocol     string // SSL, SASL_SSL or SASL_PLAINTEXT: clients and brokers
	ControllerProtocol string // SSL (mTLS) or SASL_PLAINTEXT (PLAIN)
	ClientAuth         string // ssl.client.auth of the client listener: none or required
	Mechanism          string // SCRAM-SHA-512, PLAIN, or "" for TLS alone
	Authorization      bool   // StandardAuthorizer, deny by default
	PKIDir             string // ca.crt and node<ID>-keystore.pem
	NodePrincipal      string // the name every node authenticates as
	NodePassword       string // its SASL password
	SuperUsers         []string
	// PlainUsers are the users (and passwords) a PLAIN listener accepts: the whole
	// list lives in each node's JAAS configuration.
	PlainUsers map[string]string
	// ControllerUsers are the PLAIN users of a SASL_PLAINTEXT controller listener.
	ControllerUsers map[string]string
}

// clientListener is the name of the listener clients and brokers use.
func (l Lab) clientListener() string {
	if l.Security != nil {
		return "CLIENT"
	}
	return "PLAINTEXT"
}

// Node is one planned node.
type Node struct {
	ID             int
	Roles          []string // process.roles: broker, controller or both
	Host           string   // the address every listener binds
	BrokerPort     int
	ControllerPort int
	DirectoryID    string // a dynamic quorum's controllers: their metadata dir id
}

// IsBroker reports whether the node serves clients.
func (n Node) IsBroker() bool { return slices.Contains(n.Roles, "broker") }

// IsController reports whether the node is a KRaft controller.
func (n Node) IsController() bool { return slices.Contains(n.Roles, "controller") }

// BrokerAddr is the node's client listener, host:port.
func (n Node) BrokerAddr() string { return net.JoinHostPort(n.Host, strconv.Itoa(n.BrokerPort)) }

// ControllerAddr is the node's controller listener, host:port.
func (n Node) ControllerAddr() string {
	return net.JoinHostPort(n.Host, strconv.Itoa(n.ControllerPort))
}

// managed are the properties rendered from the lab's layout, with the setting
// that controls each instead. Overriding one would break the quorum, the port plan
// or the lab's ownership of its data, so the spec refuses them.
var managed = map[string]string{
	"process.roles":                       "--nodes/--controllers/--brokers (spec: nodes)",
	"node.id":                             "--nodes/--controllers/--brokers (spec: nodes)",
	"broker.id":                           "--nodes/--controllers/--brokers (spec: nodes)",
	"listeners":                           "--broker-port/--controller-port/--bind (spec: ports, bind)",
	"advertised.listeners":                "--broker-port/--bind (spec: ports, bind)",
	"controller.listener.names":           "--controller-port (spec: ports)",
	"inter.broker.listener.name":          "--broker-port (spec: ports)",
	"listener.security.protocol.map":      "--broker-port/--controller-port (spec: ports)",
	"controller.quorum.voters":            "--nodes/--controller-port (spec: nodes, ports)",
	"controller.quorum.bootstrap.servers": "--quorum dynamic (spec: quorum)",
	"log.dirs":                            "--home/--name: data lives inside the lab",
	"log.dir":                             "--home/--name: data lives inside the lab",
	"metadata.log.dir":                    "--home/--name: data lives inside the lab",
	// Security, which the spec's preset decides for every listener at once.
	"ssl.keystore.type":                    "--security (spec: security)",
	"ssl.keystore.location":                "--security (spec: security)",
	"ssl.keystore.certificate.chain":       "--security (spec: security)",
	"ssl.keystore.key":                     "--security (spec: security)",
	"ssl.keystore.password":                "--security (spec: security)",
	"ssl.key.password":                     "--security (spec: security)",
	"ssl.truststore.type":                  "--security (spec: security)",
	"ssl.truststore.location":              "--security (spec: security)",
	"ssl.truststore.certificates":          "--security (spec: security)",
	"ssl.truststore.password":              "--security (spec: security)",
	"ssl.client.auth":                      "--security (spec: security)",
	"ssl.principal.mapping.rules":          "--security (spec: security)",
	"sasl.enabled.mechanisms":              "--security (spec: security)",
	"sasl.mechanism.inter.broker.protocol": "--security (spec: security)",
	"sasl.mechanism.controller.protocol":   "--security (spec: security)",
	"sasl.jaas.config":                     "--security (spec: security)",
	"security.inter.broker.protocol":       "--security (spec: security)",
	"authorizer.class.name":                "--acls (spec: security.authorization)",
	"allow.everyone.if.no.acl.found":       "--acls (spec: security.authorization)",
	"super.users":                          "--acls (spec: security.authorization); the nodes and admin are super users",
}

// managedPrefixes are families of properties kraftlab renders, with the setting
// that controls them.
var managedPrefixes = map[string]string{
	"listener.name.": "--security (spec: security); per-listener settings are rendered for every listener",
}

// ManagedBy names the setting that controls a property kraftlab renders from the
// lab's layout or security, or "" when the property is the user's to set.
func ManagedBy(key string) string {
	if m, ok := managed[key]; ok {
		return m
	}
	for p, m := range managedPrefixes {
		if strings.HasPrefix(key, p) {
			return m
		}
	}
	return ""
}

// internalReplication is the replication factor for internal and default topics on
// a cluster of n brokers: 3, or fewer when there are fewer brokers.
func internalReplication(n int) int { return min(3, n) }

// minInsyncReplicas keeps one replica of slack: 2, or 1 on a single broker.
func minInsyncReplicas(n int) int { return min(2, n) }

// Properties returns node n's server.properties. On a static quorum every node
// names the voters; on a dynamic one it names the controllers only as bootstrap
// servers, since the voter set lives in the metadata log.
func Properties(l Lab, n Node) ([]byte, error) {
	var voters, controllers []string
	brokers := 0
	for _, o := range l.Nodes {
		if o.IsController() {
			voters = append(voters, fmt.Sprintf("%d@%s", o.ID, o.ControllerAddr()))
			controllers = append(controllers, o.ControllerAddr())
		}
		if o.IsBroker() {
			brokers++
		}
	}
	if l.Dynamic {
		voters = nil
	}
	var listeners []string
	in := map[string]any{
		"Lab":                  l.Name,
		"NodeID":               n.ID,
		"Roles":                strings.Join(n.Roles, ","),
		"Voters":               strings.Join(voters, ","),
		"BootstrapControllers": strings.Join(controllers, ","),
		"DataDir":              l.Dir.DataDir(n.ID),
		"Brokers":              brokers,
		"InternalRF":           internalReplication(brokers),
		"MinISR":               minInsyncReplicas(brokers),
		"Profile":              l.Profile,
	}
	client := l.clientListener()
	in["Secured"] = l.Security != nil
	in["ProtocolMap"] = "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
	if s := l.Security; s != nil {
		in["ProtocolMap"] = "CONTROLLER:" + s.ControllerProtocol + ",CLIENT:" + s.ClientProtocol
	}
	if n.IsBroker() {
		listeners = append(listeners, client+"://"+n.BrokerAddr())
		in["AdvertisedListeners"] = client + "://" + n.BrokerAddr()
		in["InterBrokerListener"] = client
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
	if err := props.Load(buf.Bytes(), Encoding); err != nil {
		return nil, fmt.Errorf("render node %d: template output does not parse: %w", n.ID, err)
	}
	for _, kv := range l.securityProperties(n) {
		if _, _, err := props.Set(kv[0], kv[1]); err != nil {
			return nil, fmt.Errorf("node %d: property %s: %w", n.ID, kv[0], err)
		}
	}
	for _, set := range []map[string]string{l.Properties, l.NodeProperties[n.ID]} {
		for _, k := range slices.Sorted(maps.Keys(set)) {
			if _, _, err := props.Set(k, set[k]); err != nil {
				return nil, fmt.Errorf("node %d: property %s=%s: %w", n.ID, k, set[k], err)
			}
		}
	}
	var out bytes.Buffer
	if _, err := props.WriteComment(&out, "# ", Encoding); err != nil {
		return nil, fmt.Errorf("render node %d: %w", n.ID, err)
	}
	return escapeNonASCII(out.Bytes()), nil
}

// Log4jConfig returns the logging config file name and body for a Kafka major
// version: log4j2 for 4.x, log4j 1 (reload4j) for 3.x.
func Log4jConfig(major int) (name string, body []byte, err error) {
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

// Log4jPath is where a lab's logging config for a Kafka major version lives.
func Log4jPath(d labdir.Dir, major int) string {
	name, _, _ := Log4jConfig(major)
	return filepath.Join(d.Path, name)
}

// Kafka's own default JVM performance flags (kafka-run-class.sh).
var kafkaPerfFlags = []string{
	"-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
	"-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
	"-XX:MaxInlineLevel=15", "-Djava.awt.headless=true",
}

// ServerCommand is the java command line that runs node id, the way
// kafka-server-start.sh builds it, with the profile's JVM flags in place of Kafka's
// performance flags; archive is the class-data archive to map, if any. The
// profile's Env goes into the process's environment.
func ServerCommand(rt *dist.Runtime, d labdir.Dir, prof Profile, heap string, id int, archive string) []string {
	args := []string{rt.Java, "-Xmx" + heap, "-Xms" + prof.initialHeap(heap)}
	args = append(args, prof.jvmFlags()...)
	args = append(args, archiveFlags(archive)...)
	return append(args,
		"-Dkafka.logs.dir="+d.LogsDir(id),
		log4jFlag(rt.Major(), Log4jPath(d, rt.Major())),
		"-cp", rt.Classpath(),
		"kafka.Kafka", d.PropertiesFile(id),
	)
}

// FormatCommand is the java command line that formats node id's storage, the way
// kafka-storage.sh builds it; quorumArgs are the quorum flags (see FormatQuorumArgs).
func FormatCommand(rt *dist.Runtime, d labdir.Dir, clusterID string, id int, quorumArgs []string, archive string) []string {
	args := []string{rt.Java, "-Xmx256M", "-Djava.awt.headless=true"}
	args = append(args, archiveFlags(archive)...)
	args = append(args,
		"-Dkafka.logs.dir="+d.LogsDir(id),
		log4jFlag(rt.Major(), Log4jPath(d, rt.Major())),
		"-cp", rt.Classpath(),
		"kafka.tools.StorageTool", "format", "-t", clusterID, "-c", d.PropertiesFile(id),
	)
	return append(args, quorumArgs...)
}

// archiveFlags maps a class-data archive; a JVM that finds it does not match
// (another JDK) ignores it and starts as usual.
func archiveFlags(archive string) []string {
	if archive == "" {
		return nil
	}
	return []string{"-XX:SharedArchiveFile=" + archive}
}

// NoInitialControllers formats a node that joins an existing dynamic quorum: a
// broker, or a controller added later (it starts as an observer until AddRaftVoter).
var NoInitialControllers = []string{"--no-initial-controllers"}

// FormatQuorumArgs are the StorageTool quorum flags for node n of a new lab. A
// static quorum needs none (3.9.2/4.0.2/4.1.1 even refuse them next to
// controller.quorum.voters). A dynamic quorum's initial controllers all get the same
// --initial-controllers id@host:port:directoryId list, and each takes its own
// directory id from it; everything else joins with --no-initial-controllers.
func FormatQuorumArgs(l Lab, n Node) []string {
	if !l.Dynamic {
		return nil
	}
	if !n.IsController() {
		return NoInitialControllers
	}
	var voters []string
	for _, c := range l.Nodes {
		if c.IsController() {
			voters = append(voters, fmt.Sprintf("%d@%s:%s", c.ID, c.ControllerAddr(), c.DirectoryID))
		}
	}
	return []string{"--initial-controllers", strings.Join(voters, ",")}
}

// escapeNonASCII turns every non-ASCII character into a \uXXXX escape, which Java's
// Properties decodes in keys and values alike; raw UTF-8 would be misread as
// ISO-8859-1. The spec refuses characters beyond U+FFFF, which would need
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

// QuorumBootstrapOf reads controller.quorum.bootstrap.servers from a node's
// rendered properties: what its process knows of the controllers when started.
func QuorumBootstrapOf(file string) []string {
	p, err := properties.LoadFile(file, Encoding)
	if err != nil {
		return nil
	}
	return strings.FieldsFunc(p.GetString("controller.quorum.bootstrap.servers", ""), func(r rune) bool { return r == ',' || r == ' ' })
}

// DirectoryIDOf reads directory.id from a meta.properties that StorageTool wrote.
func DirectoryIDOf(file string) (string, error) {
	p, err := properties.LoadFile(file, Encoding)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", file, err)
	}
	id, ok := p.Get("directory.id")
	if !ok {
		return "", fmt.Errorf("%s has no directory.id", file)
	}
	return id, nil
}
