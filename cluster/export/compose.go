package export

// This file owns 'export compose': the lab as a compose file for the apache/kafka
// image, one service per node, each node's rendered properties passed as the
// image's environment variables, with the listeners, voters and data directory
// rewritten for containers the way apache/kafka's own cluster examples lay them
// out (docker/examples/docker-compose-files/cluster/{combined,isolated}).

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// ComposeOptions shape a compose export.
type ComposeOptions struct {
	// ClusterID is the id every container formats its storage with when the lab
	// has none yet (a lab that exists keeps its own); "" generates one.
	ClusterID string
}

// The containers' listeners, as in apache/kafka's cluster examples: brokers reach
// each other on PLAINTEXT by hostname, clients on the host reach PLAINTEXT_HOST
// through the published port, controllers talk on CONTROLLER.
const (
	composeImage            = "apache/kafka"
	containerBrokerPort     = 19092
	containerHostPort       = 9092
	containerControllerPort = 9093
	// containerDataDir is where the image's examples keep data: inside the
	// container, so 'docker compose down' removes it.
	containerDataDir = "/tmp/kraft-combined-logs"
)

// containerKeys are the properties a compose export sets for the containers
// instead of the lab's rendered values: everything that names this machine's
// addresses, ports or directories. controller.quorum.bootstrap.servers (a dynamic
// quorum) is replaced by controller.quorum.voters (see Compose).
var containerKeys = []string{
	"listeners", "advertised.listeners", "listener.security.protocol.map",
	"controller.quorum.voters", "controller.quorum.bootstrap.servers", "log.dirs",
}

// Compose exports a lab as a compose file for the apache/kafka image of the lab's
// Kafka version, validated against the Compose Specification's schema.
func Compose(lay *cluster.Layout, o ComposeOptions) (*Result, error) {
	if lay.Spec.Security.Secured() {
		// The containers would need certificates for their own host names and
		// the secured listeners in a mounted file; not done yet.
		return nil, usage.Errorf("lab %q is secured (%s): compose export covers plaintext labs only so far; 'kraftlab export properties' gives every node's secured server.properties, and 'kraftlab export strimzi' the secured Strimzi resources", lay.Spec.Name, lay.Spec.Security.Preset)
	}
	version := lay.KafkaVersion
	if version == "" {
		return nil, usage.Errorf("the lab's Kafka version is not known (a new lab on a Kafka home): set kafka.version in the spec to choose the image apache/kafka:VERSION")
	}
	clusterID := lay.ClusterID
	if clusterID == "" {
		clusterID = o.ClusterID
	}
	if clusterID == "" {
		id, err := cluster.NewClusterID()
		if err != nil {
			return nil, err
		}
		clusterID = id
	}
	nodes, err := renderNodes(lay.Render)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	if lay.Render.Dynamic {
		res.Notes = append(res.Notes, "quorum: dynamic runs as a static quorum in the containers (controller.quorum.voters): the apache/kafka image formats storage with only --cluster-id, and Kafka refuses to format a controller that has no controller.quorum.voters without --initial-controllers or --standalone")
	}
	image := composeImage + ":" + version
	var controllers, bootstrap []string
	for _, n := range lay.Render.Nodes {
		if n.IsController() {
			controllers = append(controllers, serviceName(n))
		}
		if n.IsBroker() {
			bootstrap = append(bootstrap, net.JoinHostPort(n.Host, strconv.Itoa(n.BrokerPort)))
		}
	}
	var services orderedMap
	// A property the image cannot carry is usually on every node: one problem
	// each, naming the nodes.
	var problems []string
	problemNodes := map[string][]int{}
	for _, rn := range nodes {
		n := rn.node
		svc := composeService{Image: image, Hostname: serviceName(n)}
		if n.IsBroker() {
			svc.Ports = []string{net.JoinHostPort(n.Host, strconv.Itoa(n.BrokerPort)) + ":" + strconv.Itoa(containerHostPort)}
		}
		if !n.IsController() {
			svc.DependsOn = controllers
		}
		for _, kv := range containerProperties(lay.Render, n, rn) {
			env, err := envFor(kv[0], kv[1])
			if err != nil {
				if _, seen := problemNodes[err.Error()]; !seen {
					problems = append(problems, err.Error())
				}
				problemNodes[err.Error()] = append(problemNodes[err.Error()], n.ID)
				continue
			}
			svc.Environment = append(svc.Environment, [2]any{env, composeEscape(kv[1])})
		}
		svc.Environment = append(svc.Environment,
			[2]any{"CLUSTER_ID", clusterID},
			[2]any{"KAFKA_HEAP_OPTS", "-Xmx" + lay.Spec.Heap + " -Xms" + lay.Spec.Heap})
		services = append(services, [2]any{svc.Hostname, svc})
	}
	var errs []error
	for _, p := range problems {
		errs = append(errs, fmt.Errorf("%s (%s)", p, nodesText(problemNodes[p])))
	}
	if err := usage.Errors(errs); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(header(
		fmt.Sprintf("kraftlab export compose: lab %q, Kafka %s in the %s image, cluster id %s.", lay.Spec.Name, version, image, clusterID),
		"Start: docker compose -f compose.yaml up -d   Stop: docker compose -f compose.yaml down",
		"Clients on this host: "+strings.Join(bootstrap, ","),
		"Data stays inside each container ("+containerDataDir+"), as in apache/kafka's examples.",
	))
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(composeFile{Name: lay.Spec.Name, Services: services}); err != nil {
		return nil, fmt.Errorf("encode compose file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode compose file: %w", err)
	}
	res.Files = []File{{Name: "compose.yaml", Data: b.Bytes()}}
	res.Stream = b.Bytes()
	if err := ValidateCompose(res.Stream); err != nil {
		return nil, fmt.Errorf("the exported compose file does not pass the Compose Specification's schema (a kraftlab bug; please report it):\n%w", err)
	}
	return res, nil
}

type composeFile struct {
	Name     string     `yaml:"name"`
	Services orderedMap `yaml:"services"`
}

type composeService struct {
	Image       string     `yaml:"image"`
	Hostname    string     `yaml:"hostname"`
	Ports       []string   `yaml:"ports,omitempty"`
	Environment orderedMap `yaml:"environment"`
	DependsOn   []string   `yaml:"depends_on,omitempty"`
}

// orderedMap is a YAML mapping that keeps its keys in the order given (node id
// order for services, the properties file's order for environments).
type orderedMap [][2]any

func (m orderedMap) MarshalYAML() (any, error) {
	node := &yaml.Node{Kind: yaml.MappingNode}
	for _, kv := range m {
		var k, v yaml.Node
		if err := k.Encode(kv[0]); err != nil {
			return nil, err
		}
		if err := v.Encode(kv[1]); err != nil {
			return nil, err
		}
		node.Content = append(node.Content, &k, &v)
	}
	return node, nil
}

// serviceName is a node's service and host name: controller-ID for a
// controller-only node, kafka-ID for any node that serves clients. The lab's node
// id is in the name, so 'kraftlab logs 4' and the service kafka-4 are one node.
func serviceName(n render.Node) string {
	if n.IsController() && !n.IsBroker() {
		return fmt.Sprintf("controller-%d", n.ID)
	}
	return fmt.Sprintf("kafka-%d", n.ID)
}

// containerProperties is node n's rendered properties, in the file's order, with
// the containerKeys set for the containers.
func containerProperties(rl render.Lab, n render.Node, rn renderedNode) [][2]string {
	var voters []string
	for _, o := range rl.Nodes {
		if o.IsController() {
			voters = append(voters, fmt.Sprintf("%d@%s:%d", o.ID, serviceName(o), containerControllerPort))
		}
	}
	var listeners []string
	if n.IsBroker() {
		listeners = append(listeners, fmt.Sprintf("PLAINTEXT://:%d", containerBrokerPort))
	}
	if n.IsController() {
		listeners = append(listeners, fmt.Sprintf("CONTROLLER://:%d", containerControllerPort))
	}
	if n.IsBroker() {
		listeners = append(listeners, fmt.Sprintf("PLAINTEXT_HOST://:%d", containerHostPort))
	}
	set := map[string]string{
		"listeners":                      strings.Join(listeners, ","),
		"advertised.listeners":           fmt.Sprintf("PLAINTEXT://%s:%d,PLAINTEXT_HOST://%s", serviceName(n), containerBrokerPort, net.JoinHostPort(n.Host, strconv.Itoa(n.BrokerPort))),
		"listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT",
		"controller.quorum.voters":       strings.Join(voters, ","),
		"log.dirs":                       containerDataDir,
	}
	var out [][2]string
	for _, k := range rn.props.Keys() {
		v, _ := rn.props.Get(k)
		switch k {
		case "controller.quorum.bootstrap.servers":
			k = "controller.quorum.voters"
			fallthrough
		default:
			if s, ok := set[k]; ok {
				v = s
			}
		}
		out = append(out, [2]string{k, v})
	}
	return out
}

// composeEscape keeps compose from interpolating a value: $ is written $$.
func composeEscape(v string) string { return strings.ReplaceAll(v, "$", "$$") }

// imageExcludes are the KAFKA_ variables the apache/kafka image does not turn
// into properties (docker/resources/common-scripts/kafka-propertiesSpec.json).
// KAFKA_HEAP_OPTS is not among them ("KAFKA_HEAP_OPT" is): the image also writes
// it into server.properties as heap.opts, which the broker ignores.
var imageExcludes = []string{
	"KAFKA_VERSION", "KAFKA_HEAP_OPT", "KAFKA_LOG4J_OPTS", "KAFKA_OPTS", "KAFKA_JMX_OPTS",
	"KAFKA_JVM_PERFORMANCE_OPTS", "KAFKA_GC_LOG_OPTS", "KAFKA_LOG4J_ROOT_LOGLEVEL",
	"KAFKA_LOG4J_LOGGERS", "KAFKA_TOOLS_LOG4J_LOGLEVEL",
}

// envName is the image's environment variable for a property: KAFKA_ and the key
// in upper case, with _ written __, - written ___ and . written _.
func envName(key string) string {
	r := strings.NewReplacer("_", "__", "-", "___", ".", "_")
	return "KAFKA_" + strings.ToUpper(r.Replace(key))
}

// singleUnderscore is the image's own pattern (docker/resources/utility): a lone
// _ between two other characters; matches do not overlap.
var singleUnderscore = regexp.MustCompile("[^_]_[^_]")

// propertyName is the property the image makes of a KAFKA_ variable name (the
// prefix already removed), by its own rules, quirks included: a one-character
// segment such as the b of a.b.c comes back wrong (a.b_c).
func propertyName(name string) string {
	s := singleUnderscore.ReplaceAllStringFunc(name, func(m string) string { return strings.ReplaceAll(m, "_", ".") })
	s = strings.ReplaceAll(s, "___", "-")
	return strings.ToLower(strings.ReplaceAll(s, "__", "_"))
}

// imageProperties is what the apache/kafka image writes into server.properties
// for an environment, by its rules: every variable starting with KAFKA, less its
// excludes, and less any whose value holds '=' (the image splits each
// NAME=VALUE at every '=' and drops what does not split in two).
func imageProperties(env map[string]string) map[string]string {
	out := map[string]string{}
	for name, v := range env {
		if !strings.HasPrefix(name, "KAFKA") || len(name) < len("KAFKA_")+1 || slices.Contains(imageExcludes, name) || strings.Contains(v, "=") {
			continue
		}
		out[propertyName(name[len("KAFKA_"):])] = v
	}
	return out
}

// envFor is a property's variable, or why the image cannot carry it: the image
// writes NAME=VALUE lines into server.properties without escaping them.
func envFor(key, value string) (string, error) {
	env := envName(key)
	switch {
	case propertyName(env[len("KAFKA_"):]) != key:
		return "", fmt.Errorf("property %s: the apache/kafka image would read its variable %s back as %q; leave it out of the spec, or mount a server.properties ('kraftlab export properties')", key, env, propertyName(env[len("KAFKA_"):]))
	case slices.Contains(imageExcludes, env):
		return "", fmt.Errorf("property %s: the apache/kafka image keeps %s for itself and does not pass it to Kafka; leave it out of the spec", key, env)
	case strings.Contains(value, "="):
		return "", fmt.Errorf("property %s=%s: the apache/kafka image drops variables whose value holds '='; leave it out of the spec, or mount a server.properties ('kraftlab export properties')", key, value)
	case strings.ContainsAny(value, `\`) || strings.IndexFunc(value, func(r rune) bool { return r < ' ' || r > '~' }) >= 0 || strings.TrimLeft(value, " ") != value:
		return "", fmt.Errorf("property %s=%q: the apache/kafka image writes values into server.properties unescaped, so a backslash, a leading space or a character outside printable ASCII would change meaning; leave it out of the spec, or mount a server.properties ('kraftlab export properties')", key, value)
	}
	return env, nil
}
