package export

// This file owns 'export compose': the lab as a compose file for the apache/kafka
// image, one service per node, each node's rendered properties passed as the
// image's environment variables, with the listeners, voters and data directory
// rewritten for containers the way apache/kafka's own cluster examples lay them
// out (docker/examples/docker-compose-files/cluster/{combined,isolated}).

import (
	"bytes"
	"fmt"
	"maps"
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
	rl := lay.Render
	var secrets *composeSecrets
	if lay.Spec.Security.Secured() {
		var err error
		secrets, err = newComposeSecrets(lay)
		if err != nil {
			return nil, err
		}
		rl = containerLab(rl, *lay.Spec.Security, secrets.passwords)
	}
	nodes, err := renderNodes(rl)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	if rl.Dynamic {
		res.Notes = append(res.Notes, "quorum: dynamic runs as a static quorum in the containers (controller.quorum.voters): the apache/kafka image formats storage with only --cluster-id, and Kafka refuses to format a controller that has no controller.quorum.voters without --initial-controllers or --standalone")
	}
	image := composeImage + ":" + version
	scram := lay.Spec.Security.SASL() == "SCRAM-SHA-512"
	var controllers []string
	for _, n := range rl.Nodes {
		if n.IsController() {
			controllers = append(controllers, serviceName(n))
		}
	}
	bootstrap := hostBootstrap(rl)
	formatProps := map[string][][2]string{}
	var volumes orderedMap
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
		var dependsOn []string
		if !n.IsController() {
			dependsOn = controllers
			svc.DependsOn = dependsOn
		}
		props := containerProperties(rl, n, rn)
		for _, kv := range props {
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
		if secrets != nil {
			svc.Volumes = []string{"./secrets:" + containerSecretsDir + ":ro"}
			if lay.Spec.Security.SASL() != "" {
				svc.Environment = append(svc.Environment, [2]any{"KAFKA_OPTS", "-Djava.security.auth.login.config=" + containerSecretsDir + "/" + jaasFile})
			}
		}
		if scram {
			// The node starts on storage its format service made, in a volume
			// both mount.
			name := svc.Hostname
			formatProps[name] = props
			svc.Volumes = append(svc.Volumes, name+"-data:"+containerScramDataDir)
			deps := orderedMap{{name + "-format", map[string]string{"condition": "service_completed_successfully"}}}
			for _, c := range dependsOn {
				deps = append(deps, [2]any{c, map[string]string{"condition": "service_started"}})
			}
			svc.DependsOn = deps
			services = append(services, [2]any{name + "-format", formatService(image, clusterID, n)})
			volumes = append(volumes, [2]any{name + "-data", map[string]string{}})
		}
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
	head := []string{
		fmt.Sprintf("kraftlab export compose: lab %q, Kafka %s in the %s image, cluster id %s.", lay.Spec.Name, version, image, clusterID),
		"Start: docker compose -f compose.yaml up -d   Stop: docker compose -f compose.yaml down",
		"Clients on this host: " + strings.Join(bootstrap, ","),
	}
	switch {
	case scram:
		head = append(head, "Data is in a volume per node ("+containerScramDataDir+"), which its format service made with the SCRAM users; 'down -v' removes it.")
	default:
		head = append(head, "Data stays inside each container ("+containerDataDir+"), as in apache/kafka's examples.")
	}
	if secrets != nil {
		var own []string
		if lay.Spec.Security.UsesTLS() {
			own = append(own, "CA and keystores")
		}
		if lay.Spec.Security.SASL() != "" {
			own = append(own, "passwords")
		}
		head = append(head,
			"Security: "+lay.Spec.Security.Preset+", with the export's own "+strings.Join(own, " and ")+" in secrets/ (mounted at "+containerSecretsDir+").",
			"The containers run as uid 1000: the files in secrets/ are yours alone (0600), so chown them to 1000 if you are not.",
			"As admin from this host: kafka-topics.sh --bootstrap-server "+bootstrap[0]+" --command-config secrets/admin.properties --list")
	}
	b.WriteString(header(head...))
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(composeFile{Name: lay.Spec.Name, Services: services, Volumes: volumes}); err != nil {
		return nil, fmt.Errorf("encode compose file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode compose file: %w", err)
	}
	res.Notes = append(res.Notes, setupNotes(lay, bootstrap[0], secrets != nil)...)
	res.Files = []File{{Name: "compose.yaml", Data: b.Bytes()}}
	res.Stream = b.Bytes()
	if secrets != nil {
		files, err := secrets.files(lay, nodes, formatProps, bootstrap)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, files...)
	}
	if err := ValidateCompose(res.Stream); err != nil {
		return nil, fmt.Errorf("the exported compose file does not pass the Compose Specification's schema (a kraftlab bug; please report it):\n%w", err)
	}
	return res, nil
}

type composeFile struct {
	Name     string     `yaml:"name"`
	Services orderedMap `yaml:"services"`
	Volumes  orderedMap `yaml:"volumes,omitempty"`
}

type composeService struct {
	Image       string     `yaml:"image"`
	Hostname    string     `yaml:"hostname,omitempty"`
	Entrypoint  []string   `yaml:"entrypoint,omitempty"`
	Ports       []string   `yaml:"ports,omitempty"`
	Environment orderedMap `yaml:"environment"`
	Volumes     []string   `yaml:"volumes,omitempty"`
	// DependsOn is a list of services, or a map of each to its condition.
	DependsOn any `yaml:"depends_on,omitempty"`
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
	// The lab's client listener serves the containers; its twin (HOST) is
	// published on this host.
	internal, host, protocols := "PLAINTEXT", "PLAINTEXT_HOST", "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT"
	if s := rl.Security; s != nil {
		internal, host = "CLIENT", hostListener
		protocols = "CONTROLLER:" + s.ControllerProtocol + ",CLIENT:" + s.ClientProtocol + "," + hostListener + ":" + s.ClientProtocol
	}
	var listeners []string
	if n.IsBroker() {
		listeners = append(listeners, fmt.Sprintf("%s://:%d", internal, containerBrokerPort))
	}
	if n.IsController() {
		listeners = append(listeners, fmt.Sprintf("CONTROLLER://:%d", containerControllerPort))
	}
	if n.IsBroker() {
		listeners = append(listeners, fmt.Sprintf("%s://:%d", host, containerHostPort))
	}
	dataDir := containerDataDir
	if rl.Security != nil && rl.Security.Mechanism == "SCRAM-SHA-512" {
		dataDir = containerScramDataDir
	}
	set := map[string]string{
		"listeners":                      strings.Join(listeners, ","),
		"advertised.listeners":           fmt.Sprintf("%s://%s:%d,%s://%s", internal, serviceName(n), containerBrokerPort, host, net.JoinHostPort(n.Host, strconv.Itoa(n.BrokerPort))),
		"listener.security.protocol.map": protocols,
		"controller.quorum.voters":       strings.Join(voters, ","),
		"log.dirs":                       dataDir,
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
		if rl.Security != nil {
			out = append(out, securedContainerProperties(k, v)...)
			continue
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

// setupNotes say how to make the spec's topics and ACLs in the containers, which
// start without them (Kafka makes both only on a running cluster), with the
// commands of Kafka's own tools.
func setupNotes(lay *cluster.Layout, bootstrap string, secured bool) []string {
	tool := func(name string) string {
		cmd := name + " --bootstrap-server " + bootstrap
		if secured {
			cmd += " --command-config secrets/admin.properties"
		}
		return cmd
	}
	var notes []string
	for _, tp := range lay.Spec.Topics {
		cmd := fmt.Sprintf("%s --create --topic %s", tool("kafka-topics.sh"), tp.Name)
		if tp.Partitions > 0 {
			cmd += " --partitions " + strconv.Itoa(tp.Partitions)
		}
		if tp.ReplicationFactor > 0 {
			cmd += " --replication-factor " + strconv.Itoa(tp.ReplicationFactor)
		}
		for _, k := range slices.Sorted(maps.Keys(tp.Configs)) {
			cmd += " --config " + k + "=" + tp.Configs[k]
		}
		notes = append(notes, "topic "+tp.Name+": the containers start without it; once they are up: "+cmd)
	}
	if lay.Spec.Security == nil {
		return notes
	}
	for _, a := range lay.Spec.Security.ACLs {
		notes = append(notes, "ACL for "+a.Principal+": the containers start without it; once they are up: "+aclCommand(tool("kafka-acls.sh"), a))
	}
	return notes
}

// aclCommand is the kafka-acls.sh command that adds a.
func aclCommand(tool string, a cluster.ACLSpec) string {
	perm := "allow"
	if a.Permission == "deny" {
		perm = "deny"
	}
	cmd := tool + " --add --" + perm + "-principal " + a.Principal
	if a.Host != "" {
		cmd += " --" + perm + "-host " + a.Host
	}
	for _, op := range a.Operations {
		// read -> Read, describe-configs -> DescribeConfigs: the tool's names.
		var b strings.Builder
		for _, part := range strings.Split(op, "-") {
			if part != "" {
				b.WriteString(strings.ToUpper(part[:1]) + part[1:])
			}
		}
		cmd += " --operation " + b.String()
	}
	if a.Resource == "cluster" {
		cmd += " --cluster"
	} else {
		cmd += " --" + a.Resource + " " + a.Name
	}
	if a.Pattern == "prefixed" {
		cmd += " --resource-pattern-type prefixed"
	}
	return cmd
}
