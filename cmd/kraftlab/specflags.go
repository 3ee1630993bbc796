package main

// This file owns how 'up' and 'render' build a lab spec: from -f lab.yaml, then
// each flag the user gave overriding the file's field, then — for a lab that does
// not exist yet — KRAFTLAB_KAFKA_VERSION and KAFKA_HOME. The spec remembers which
// flag set what, so a problem names the flag (or the file's line) it came from.

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/dist"
)

// specFlags are the flags that describe a lab.
type specFlags struct {
	file                       string
	nodes, controllers, brkrs  int
	quorum                     string
	brokerPort, controllerPort int
	ports                      string
	heap, bindAddr, profile    string
	sets, plugin               []string
	security                   string
	acls, noTLS                bool
	version, kafkaHome         string
}

func (f *specFlags) register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&f.file, "file", "f", "", "a lab spec (YAML; 'kraftlab spec --schema' prints its schema); flags given too override its fields")
	fs.IntVar(&f.nodes, "nodes", 0, fmt.Sprintf("number of combined broker+controller nodes, 1-%d (default %d)", cluster.MaxNodes, cluster.DefaultNodes))
	fs.IntVar(&f.controllers, "controllers", 0, "isolated roles: number of controller-only nodes (ids 1..C; with --brokers, instead of --nodes)")
	fs.IntVar(&f.brkrs, "brokers", 0, "isolated roles: number of broker-only nodes (ids C+1..C+B; with --controllers)")
	fs.StringVar(&f.quorum, "quorum", cluster.QuorumStatic, "KRaft quorum: static (controller.quorum.voters) or dynamic (KIP-853, 'kraftlab controller add/remove')")
	fs.IntVar(&f.brokerPort, "broker-port", cluster.DefaultBrokerPort, "first broker (client) port; the k-th broker listens on this+k-1")
	fs.IntVar(&f.controllerPort, "controller-port", cluster.DefaultControllerPort, "first controller port; the k-th controller listens on this+k-1")
	fs.StringVar(&f.ports, "ports", "fixed", "fixed: the port bases as given; auto: the first free window of 10 ports per role from them upward, skipping other labs' ports and ports other kraftlab processes are taking")
	fs.StringVar(&f.profile, "profile", cluster.DefaultProfile, "what the nodes run with: lab (KRaft timers for one machine, C1-only JIT), production (Kafka's own settings) or lean (lab plus fewer threads, serial GC and a 256M heap: the least memory per node)")
	fs.StringVar(&f.heap, "heap", cluster.DefaultHeap, "JVM heap per node (lean profile: 256M)")
	fs.StringVar(&f.bindAddr, "bind", cluster.DefaultBind, "address every listener binds (anything but loopback exposes the lab, with a warning)")
	fs.StringArrayVar(&f.sets, "set", nil, "override a broker property: key=value on every node, or NODE:key=value on one (repeatable)")
	fs.StringVar(&f.security, "security", cluster.SecurityPlaintext, "secure every listener: plaintext, tls (server TLS), mtls (client certificates), sasl-scram or sasl-plain (SASL over TLS unless --no-tls)")
	fs.BoolVar(&f.acls, "acls", false, "turn on ACLs (StandardAuthorizer; what no ACL allows is denied); needs mtls, sasl-scram or sasl-plain")
	fs.BoolVar(&f.noTLS, "no-tls", false, "sasl-* presets: SASL without TLS (SASL_PLAINTEXT)")
	fs.StringArrayVar(&f.plugin, "plugin-property", nil, "a property name (or a prefix ending in '.') that this Kafka release does not list, e.g. a plugin's: passed through unchecked (repeatable)")
	fs.StringVar(&f.version, "kafka-version", "", fmt.Sprintf("Kafka version (default %s); env KRAFTLAB_KAFKA_VERSION", dist.DefaultVersion))
	fs.StringVar(&f.kafkaHome, "kafka-home", "", "an unpacked official Kafka tarball to use instead of fetching one; env KAFKA_HOME")
}

// given reports whether anything describing the lab was given: a file or a flag.
func (f *specFlags) given(cmd *cobra.Command) bool {
	if f.file != "" {
		return true
	}
	for _, name := range []string{"nodes", "controllers", "brokers", "quorum", "broker-port", "controller-port", "ports", "profile", "heap", "bind", "set", "plugin-property", "security", "acls", "no-tls", "kafka-version", "kafka-home"} {
		if cmd.Flags().Changed(name) {
			return true
		}
	}
	return false
}

// spec builds the spec the file and the given flags describe. withEnv adds the
// environment's Kafka version and home where neither file nor flag chose one: for
// a lab about to be created, never to compare with an existing one.
func (f *specFlags) spec(cmd *cobra.Command, g *globals, withEnv bool) (cluster.Spec, *cluster.SpecSource, error) {
	changed := cmd.Flags().Changed
	s, src := cluster.Spec{}, &cluster.SpecSource{}
	if f.file != "" {
		var err error
		if s, src, err = cluster.ReadSpecFile(f.file); err != nil {
			return s, nil, err
		}
	}
	if s.Name == "" || g.nameGiven(cmd) {
		s.Name = g.name
		src.SetByFlag("name", "--name")
	}
	set := func(flag, path string, apply func()) {
		if changed(flag) {
			apply()
			src.SetByFlag(path, "--"+flag)
		}
	}
	for _, flag := range []string{"nodes", "controllers", "brokers"} {
		if n := map[string]int{"nodes": f.nodes, "controllers": f.controllers, "brokers": f.brkrs}[flag]; changed(flag) && (n < 1 || n > cluster.MaxNodes) {
			return s, nil, usagef("--%s %d: want 1 to %d", flag, map[string]int{"nodes": f.nodes, "controllers": f.controllers, "brokers": f.brkrs}[flag], cluster.MaxNodes)
		}
	}
	for flag, port := range map[string]int{"broker-port": f.brokerPort, "controller-port": f.controllerPort} {
		if changed(flag) && (port < 1024 || port > 65535) {
			return s, nil, usagef("--%s %d: want a port from 1024 to 65535", flag, port)
		}
	}
	if changed("nodes") && (changed("controllers") || changed("brokers")) {
		return s, nil, usagef("--nodes %d with --controllers/--brokers: choose combined nodes (--nodes N) or isolated roles (--controllers C --brokers B), not both", f.nodes)
	}
	if changed("controllers") != changed("brokers") {
		return s, nil, usagef("isolated roles need both --controllers and --brokers")
	}
	set("nodes", "nodes", func() { s.Nodes = cluster.NodesSpec{Combined: f.nodes} })
	if changed("controllers") {
		s.Nodes = cluster.NodesSpec{Controllers: f.controllers, Brokers: f.brkrs}
		src.SetByFlag("nodes.controllers", "--controllers")
		src.SetByFlag("nodes.brokers", "--brokers")
		src.SetByFlag("nodes", "--controllers/--brokers")
	}
	set("quorum", "quorum", func() { s.Quorum = f.quorum })
	set("broker-port", "ports.broker", func() { s.Ports.Broker = f.brokerPort })
	set("controller-port", "ports.controller", func() { s.Ports.Controller = f.controllerPort })
	if changed("ports") {
		switch f.ports {
		case "auto", "fixed":
			s.Ports.Auto = f.ports == "auto"
			src.SetByFlag("ports.auto", "--ports")
		default:
			return s, nil, usagef("--ports %q: want fixed or auto", f.ports)
		}
	}
	set("profile", "profile", func() { s.Profile = f.profile })
	set("heap", "heap", func() { s.Heap = f.heap })
	set("bind", "bind", func() { s.Bind = f.bindAddr })
	set("kafka-version", "kafka.version", func() { s.Kafka.Version = f.version })
	set("kafka-home", "kafka.home", func() { s.Kafka.Home = f.kafkaHome })
	for _, kv := range f.sets {
		if err := cluster.ApplySet(&s, kv); err != nil {
			src.AddProblem(err)
		}
		src.SetByFlag("properties", "--set")
		src.SetByFlag("nodeProperties", "--set")
	}
	if changed("security") || changed("acls") || changed("no-tls") {
		if s.Security == nil {
			s.Security = &cluster.SecuritySpec{}
		}
		if changed("security") {
			s.Security.Preset = f.security
			src.SetByFlag("security.preset", "--security")
		}
		if changed("acls") {
			s.Security.Authorization = f.acls
			src.SetByFlag("security.authorization", "--acls")
		}
		if changed("no-tls") {
			tls := !f.noTLS
			s.Security.TLS = &tls
			src.SetByFlag("security.tls", "--no-tls")
		}
	}
	if changed("plugin-property") {
		s.PluginProperties = append(s.PluginProperties, f.plugin...)
		src.SetByFlag("pluginProperties", "--plugin-property")
	}
	if withEnv && s.Kafka.Version == "" && s.Kafka.Home == "" {
		if v := os.Getenv("KRAFTLAB_KAFKA_VERSION"); v != "" {
			s.Kafka.Version = v
			src.SetByFlag("kafka.version", "KRAFTLAB_KAFKA_VERSION")
		}
		if h := os.Getenv("KAFKA_HOME"); h != "" {
			s.Kafka.Home = h
			src.SetByFlag("kafka.home", "KAFKA_HOME")
		}
	}
	return s, src, nil
}

// lab is the lab the command's flags describe: the existing lab named, checked
// against whatever file and flags were given, or a new one.
func (f *specFlags) lab(cmd *cobra.Command, g *globals) (*cluster.Lab, error) {
	cfg := g.config(cmd)
	name := g.name
	if f.file != "" && !g.nameGiven(cmd) {
		s, _, err := cluster.ReadSpecFile(f.file)
		if err != nil {
			return nil, err
		}
		if s.Name != "" {
			name = s.Name
		}
	}
	existing, err := cluster.Open(cfg, name)
	switch {
	case errors.Is(err, cluster.ErrNoLab):
	case err != nil:
		return nil, err
	case existing.Exists() && !f.given(cmd):
		return existing, nil
	}
	newLab := err != nil || !existing.Exists()
	spec, src, err := f.spec(cmd, g, newLab)
	if err != nil {
		return nil, err
	}
	return cluster.NewFromSource(cfg, spec, src)
}
