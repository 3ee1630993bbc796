package export

// This file owns what a secured lab's compose export adds: its own CA, node
// certificates for the containers' host names, passwords, the JAAS file the
// image's SASL convention reads (KAFKA_OPTS=-Djava.security.auth.login.config),
// a client configuration for this host, and for SCRAM a format service per node
// that creates the users at format time, as 'kraftlab up' does.
//
// The containers get their own secrets, not the lab's: a compose deployment is
// another cluster, and the lab's CA key stays in the lab. Every file under
// secrets/ is mounted read-only at /etc/kafka/secrets, the image's place for them.
//
// Stores are PEM (KIP-651), as in the lab: no store passwords. The listeners keep
// the lab's names (CLIENT, CONTROLLER, and HOST for the published port), so the
// image's checks for its own JKS and JAAS variables, which look for "SSL://" and
// "SASL_" in KAFKA_ADVERTISED_LISTENERS, stay out of the way.

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/internal/pki"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
)

const (
	// containerSecretsDir is where the image looks for secrets; the export's
	// secrets/ directory is mounted there.
	containerSecretsDir = "/etc/kafka/secrets"
	// jaasFile holds the SASL logins of every listener, one section each.
	jaasFile = "kafka_server_jaas.conf"
	// scramUsersFile holds the --add-scram arguments of the format services.
	scramUsersFile = "scram-users"
	// containerScramDataDir is a SCRAM lab's data directory: a named volume the
	// format service and the node share. The image creates it owned by its user.
	containerScramDataDir = "/var/lib/kafka/data"
	// containerFormatDir is where a format service finds format.sh and the
	// node's properties (the export's format/ directory).
	containerFormatDir = "/mnt/kraftlab"
	// hostListener is the secured listener published on this host; the lab's
	// client listener (render's CLIENT) serves the containers.
	hostListener = "HOST"
)

// composeSecrets are a secured compose export's own credentials.
type composeSecrets struct {
	spec      cluster.SecuritySpec
	passwords map[string]string
	ca        *pki.CA
}

// newComposeSecrets makes the export's CA (when the lab uses TLS) and passwords
// (when it uses SASL).
func newComposeSecrets(lay *cluster.Layout) (*composeSecrets, error) {
	s := &composeSecrets{spec: *lay.Spec.Security}
	pw, err := cluster.NewPasswords(s.spec)
	if err != nil {
		return nil, err
	}
	s.passwords = pw
	if s.spec.UsesTLS() {
		ca, err := pki.NewCA(lay.Spec.Name, time.Now())
		if err != nil {
			return nil, err
		}
		s.ca = ca
	}
	return s, nil
}

// containerLab is the lab as the containers render it: secured by sec's
// passwords, with its stores under containerSecretsDir.
func containerLab(rl render.Lab, spec cluster.SecuritySpec, passwords map[string]string) render.Lab {
	rl.Security = cluster.RenderSecurity(spec, passwords, containerSecretsDir)
	return rl
}

// files are the secrets/ (and, for SCRAM, format/) files of the export.
func (s *composeSecrets) files(lay *cluster.Layout, nodes []renderedNode, formatProps map[string][][2]string, bootstrap []string) ([]File, error) {
	var out []File
	secret := func(name string, data []byte) {
		out = append(out, File{Name: "secrets/" + name, Data: data, Secret: true})
	}
	if s.ca != nil {
		out = append(out, File{Name: "secrets/" + pki.CACertFile, Data: pki.EncodeCert(s.ca.Cert)})
		for _, rn := range nodes {
			n := rn.node
			c, err := s.ca.IssueNode(n.ID, []string{serviceName(n), "localhost", "127.0.0.1"}, time.Now())
			if err != nil {
				return nil, err
			}
			ks, err := s.ca.Keystore(c)
			if err != nil {
				return nil, err
			}
			secret(pki.NodeName(n.ID)+"-keystore.pem", ks)
		}
		if s.spec.ClientCertificates() {
			names := []string{cluster.AdminUser}
			for _, u := range s.spec.Users {
				names = append(names, u.Name)
			}
			for _, name := range names {
				c, err := s.ca.IssueClient(name, time.Now())
				if err != nil {
					return nil, err
				}
				ks, err := s.ca.Keystore(c)
				if err != nil {
					return nil, err
				}
				secret(name+"-keystore.pem", ks)
			}
		}
	}
	if len(s.passwords) > 0 {
		var b strings.Builder
		b.WriteString("# The users of the containers' cluster and their passwords (user=password).\n")
		for _, u := range slices.Sorted(maps.Keys(s.passwords)) {
			fmt.Fprintf(&b, "%s=%s\n", u, s.passwords[u])
		}
		secret("passwords", []byte(b.String()))
		secret(jaasFile, jaasConfig(lay.Spec.Name, nodes))
	}
	secret("admin.properties", []byte(cluster.FormatClientConfig(s.spec, cluster.ConfigProperties, cluster.ClientSettings{
		Lab: lay.Spec.Name, User: cluster.AdminUser, Password: s.passwords[cluster.AdminUser], Bootstrap: bootstrap,
		CAFile: "secrets/" + pki.CACertFile, KeystoreFile: "secrets/" + cluster.AdminUser + "-keystore.pem",
	})))
	if s.spec.SASL() == "SCRAM-SHA-512" {
		secret(scramUsersFile, []byte(strings.Join(cluster.ScramArgs(s.passwords), "\n")+"\n"))
		out = append(out, File{Name: "format/format.sh", Data: []byte(formatScript), Executable: true})
		for _, rn := range nodes {
			var b strings.Builder
			fmt.Fprintf(&b, "# The properties %s's format service formats its storage with: the ones its environment gives the image.\n", serviceName(rn.node))
			for _, kv := range formatProps[serviceName(rn.node)] {
				fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
			}
			out = append(out, File{Name: "format/" + serviceName(rn.node) + ".properties", Data: []byte(b.String())})
		}
	}
	return out, nil
}

// formatScript is run by every node's format service of a SCRAM lab.
const formatScript = `#!/usr/bin/env bash
# kraftlab export compose: run by each node's NODE-format service before the node
# starts. It formats the node's storage with the lab's SCRAM users, whose
# credentials live in the metadata log and so are made at format time, as
# 'kraftlab up' makes them. The image's own start then finds the storage
# formatted ("already formatted") and goes on.
set -euo pipefail
readarray -t scram < ` + containerSecretsDir + "/" + scramUsersFile + `
exec /opt/kafka/bin/kafka-storage.sh format --ignore-formatted --cluster-id "$CLUSTER_ID" \
  --config "` + containerFormatDir + `/$1.properties" "${scram[@]}"
`

// jaasConfig is the JAAS file of the containers: one section per SASL listener,
// from the listener.name.L.MECH.sasl.jaas.config properties the lab renders (the
// image drops variables whose value holds '=', and passwords do not belong in a
// compose file). The client listener's login serves the published one too.
func jaasConfig(lab string, nodes []renderedNode) []byte {
	sections := map[string]string{}
	for _, rn := range nodes {
		for _, k := range rn.props.Keys() {
			listener, ok := jaasListener(k)
			if !ok {
				continue
			}
			v, _ := rn.props.Get(k)
			sections[listener] = v
			if listener == "client" {
				sections[strings.ToLower(hostListener)] = v
			}
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "// kraftlab export compose: the SASL logins of lab %q's containers, one section\n// per listener: each node's identity towards the others and, for PLAIN, the users\n// the listener accepts.\n", lab)
	for _, l := range slices.Sorted(maps.Keys(sections)) {
		fmt.Fprintf(&b, "%s.KafkaServer {\n  %s\n};\n", l, sections[l])
	}
	return []byte(b.String())
}

// jaasListener is the listener of a listener.name.L.MECH.sasl.jaas.config key.
func jaasListener(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "listener.name.")
	if !ok || !strings.HasSuffix(rest, ".sasl.jaas.config") {
		return "", false
	}
	listener, _, _ := strings.Cut(rest, ".")
	return listener, true
}

// securedContainerProperties turns one secured property of the lab into the
// containers': the client listener's settings apply to the published listener
// too; JAAS logins move to the JAAS file; the principal mapping rules match
// "CN" and the name with '.' in place of '=' (the image drops values holding
// '='; every certificate of the export is issued as CN=NAME).
func securedContainerProperties(k, v string) [][2]string {
	if _, ok := jaasListener(k); ok {
		return nil
	}
	if k == "ssl.principal.mapping.rules" {
		return [][2]string{{k, strings.ReplaceAll(v, "^CN=", "^CN.")}}
	}
	out := [][2]string{{k, v}}
	if rest, ok := strings.CutPrefix(k, "listener.name.client."); ok {
		out = append(out, [2]string{"listener.name." + strings.ToLower(hostListener) + "." + rest, v})
	}
	return out
}

// formatService is node n's one-shot service of a SCRAM lab, formatting its data
// volume with the SCRAM users before the node's own service starts.
func formatService(image, clusterID string, n render.Node) composeService {
	name := serviceName(n)
	return composeService{
		Image:      image,
		Entrypoint: []string{"/bin/bash", containerFormatDir + "/format.sh", name},
		Environment: orderedMap{
			{"CLUSTER_ID", clusterID},
		},
		Volumes: []string{
			name + "-data:" + containerScramDataDir,
			"./secrets:" + containerSecretsDir + ":ro",
			"./format:" + containerFormatDir + ":ro",
		},
	}
}

// hostBootstrap is the brokers' published addresses.
func hostBootstrap(rl render.Lab) []string {
	var out []string
	for _, n := range rl.Nodes {
		if n.IsBroker() {
			out = append(out, net.JoinHostPort(n.Host, strconv.Itoa(n.BrokerPort)))
		}
	}
	return out
}
