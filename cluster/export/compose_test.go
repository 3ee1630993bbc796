package export

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/kraftlab/kraftlab/cluster"
)

// testClusterID keeps the golden files reproducible.
const testClusterID = "MkU3OEVBNTcwNTJENDM2Qk"

func TestComposeGolden(t *testing.T) {
	for _, name := range exampleLabs {
		t.Run(name, func(t *testing.T) {
			res, err := Compose(exampleLayout(t, name), ComposeOptions{ClusterID: testClusterID})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "compose-"+name+".golden", append(res.Stream, "### report\n"+describe(res)...))
		})
	}
}

func TestComposeExportsEveryExample(t *testing.T) {
	for _, name := range exampleLabFiles(t) {
		t.Run(name, func(t *testing.T) {
			res, err := Compose(exampleLayout(t, name), ComposeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateCompose(res.Stream); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// interpolation is what compose substitutes in a value: $$ is a literal $, and
// $NAME or ${...} a variable of the shell compose runs in.
var interpolation = regexp.MustCompile(`\$\$|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)

// composeEnvs reads a compose file back: each service's environment as the
// container sees it, interpolated as compose does with no variables set.
func composeEnvs(t *testing.T, data []byte) map[string]map[string]string {
	t.Helper()
	var f struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{}
	for name, s := range f.Services {
		env := map[string]string{}
		for k, v := range s.Environment {
			env[k] = interpolation.ReplaceAllStringFunc(v, func(m string) string {
				if m == "$$" {
					return "$"
				}
				return ""
			})
		}
		out[name] = env
	}
	return out
}

// Round trip: what the apache/kafka image makes of each container's environment
// (its own rules, imageProperties) is what 'render' shows for that node, except
// for exactly these, the container rewrite:
//   - containerKeys get the container values: listeners on 19092 (PLAINTEXT),
//     9092 (PLAINTEXT_HOST) and 9093 (CONTROLLER); advertised.listeners by
//     service name and by the lab's bind address and broker port; the protocol
//     map with PLAINTEXT_HOST; controller.quorum.voters by service name; log.dirs
//     inside the container;
//   - a dynamic quorum's controller.quorum.bootstrap.servers is gone and
//     controller.quorum.voters is there instead;
//   - heap.opts appears, from KAFKA_HEAP_OPTS (the image does not exclude it;
//     the broker ignores it).
func TestComposeRoundTrip(t *testing.T) {
	specs := map[string]cluster.Spec{}
	for _, name := range exampleLabs {
		spec, _, err := cluster.ReadSpecFile("../../examples/labs/" + name + ".yaml")
		if err != nil {
			t.Fatal(err)
		}
		spec.Ports.Auto = false
		specs[name] = spec
	}
	// Every security preset, on isolated roles (a controller-only node has no
	// client listener).
	no := false
	for _, sec := range []cluster.SecuritySpec{
		{Preset: cluster.SecurityTLS}, {Preset: cluster.SecurityMTLS}, {Preset: cluster.SecuritySCRAM},
		{Preset: cluster.SecurityPlain}, {Preset: cluster.SecuritySCRAM, TLS: &no}, {Preset: cluster.SecurityPlain, TLS: &no},
	} {
		name := sec.Preset
		if sec.TLS != nil {
			name += " without TLS"
		}
		specs[name] = cluster.Spec{Name: "sec", Nodes: cluster.NodesSpec{Controllers: 1, Brokers: 2}, Security: &sec}
	}
	// Values compose would interpolate, and per-node properties.
	specs["awkward values"] = cluster.Spec{
		Name: "awkward", Nodes: cluster.NodesSpec{Combined: 1, Brokers: 1},
		Properties:     map[string]string{"sasl.kerberos.service.name": "$kafka", "log.cleaner.min.cleanable.ratio": "0.5", "client.quota.callback.class": "a.B$C"},
		NodeProperties: map[int]map[string]string{2: {"num.io.threads": "16", "broker.rack": "rack-b"}},
	}
	for name, spec := range specs {
		t.Run(name, func(t *testing.T) {
			lay := specLayout(t, spec)
			res, err := Compose(lay, ComposeOptions{ClusterID: testClusterID})
			if err != nil {
				t.Fatal(err)
			}
			envs := composeEnvs(t, res.Stream)
			rl := lay.Render
			if lay.Spec.Security.Secured() {
				rl = containerLab(rl, *lay.Spec.Security, map[string]string{})
			}
			nodes, err := renderNodes(rl)
			if err != nil {
				t.Fatal(err)
			}
			for name := range envs {
				if strings.HasSuffix(name, "-format") {
					delete(envs, name) // TestComposeSecured checks them
				}
			}
			if len(envs) != len(nodes) {
				t.Fatalf("%d services for %d nodes", len(envs), len(nodes))
			}
			for _, rn := range nodes {
				svc := serviceName(rn.node)
				env, ok := envs[svc]
				if !ok {
					t.Fatalf("no service %s for node %d", svc, rn.node.ID)
				}
				if env["CLUSTER_ID"] != testClusterID {
					t.Errorf("%s: CLUSTER_ID %q", svc, env["CLUSTER_ID"])
				}
				got := imageProperties(env)
				want := map[string]string{}
				for _, k := range rn.props.Keys() {
					v, _ := rn.props.Get(k)
					if !lay.Spec.Security.Secured() {
						want[k] = v
						continue
					}
					// A secured lab's logins are in the JAAS file; the client
					// listener's settings are the published one's too.
					switch rest, client := strings.CutPrefix(k, "listener.name.client."); {
					case strings.HasSuffix(k, ".sasl.jaas.config"):
					case k == "ssl.principal.mapping.rules":
						want[k] = strings.ReplaceAll(v, "CN=", "CN.")
					case client:
						want[k], want["listener.name.host."+rest] = v, v
					default:
						want[k] = v
					}
				}
				if _, ok := want["controller.quorum.bootstrap.servers"]; ok {
					delete(want, "controller.quorum.bootstrap.servers")
					want["controller.quorum.voters"] = ""
				}
				for _, k := range containerKeys {
					if _, ok := want[k]; ok {
						want[k] = got[k] // checked below, against the layout
					}
				}
				want["heap.opts"] = "-Xmx" + lay.Spec.Heap + " -Xms" + lay.Spec.Heap
				if !reflect.DeepEqual(got, want) {
					for _, k := range slices.Sorted(maps.Keys(want)) {
						if got[k] != want[k] {
							t.Errorf("%s: %s = %q; render shows %q", svc, k, got[k], want[k])
						}
					}
					for _, k := range slices.Sorted(maps.Keys(got)) {
						if _, ok := want[k]; !ok {
							t.Errorf("%s: %s = %q, which render does not show", svc, k, got[k])
						}
					}
				}
				checkContainerKeys(t, lay, rn, got)
			}
		})
	}
}

// checkContainerKeys checks the rewritten keys of one node against the layout.
func checkContainerKeys(t *testing.T, lay *cluster.Layout, rn renderedNode, got map[string]string) {
	t.Helper()
	n := rn.node
	var voters []string
	for _, o := range lay.Render.Nodes {
		if o.IsController() {
			voters = append(voters, fmt.Sprintf("%d@%s:9093", o.ID, serviceName(o)))
		}
	}
	internal, host, dataDir := "PLAINTEXT", "PLAINTEXT_HOST", "/tmp/kraft-combined-logs"
	protocols := "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,PLAINTEXT_HOST:PLAINTEXT"
	if sec := lay.Spec.Security; sec.Secured() {
		internal, host = "CLIENT", "HOST"
		client, controller := "SSL", "SSL"
		switch {
		case sec.SASL() != "" && sec.UsesTLS():
			client = "SASL_SSL"
		case sec.SASL() != "":
			client, controller = "SASL_PLAINTEXT", "SASL_PLAINTEXT"
		}
		protocols = "CONTROLLER:" + controller + ",CLIENT:" + client + ",HOST:" + client
		if sec.SASL() == "SCRAM-SHA-512" {
			dataDir = "/var/lib/kafka/data"
		}
	}
	want := map[string]string{
		"controller.quorum.voters":       strings.Join(voters, ","),
		"log.dirs":                       dataDir,
		"listener.security.protocol.map": protocols,
	}
	switch {
	case n.IsBroker() && n.IsController():
		want["listeners"] = internal + "://:19092,CONTROLLER://:9093," + host + "://:9092"
	case n.IsBroker():
		want["listeners"] = internal + "://:19092," + host + "://:9092"
	default:
		want["listeners"] = "CONTROLLER://:9093"
	}
	if n.IsBroker() {
		want["advertised.listeners"] = fmt.Sprintf("%s://%s:19092,%s://%s:%d", internal, serviceName(n), host, lay.Spec.Bind, n.BrokerPort)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q; want %q", serviceName(n), k, got[k], v)
		}
	}
	if _, ok := got["advertised.listeners"]; ok && !n.IsBroker() {
		t.Errorf("%s: a controller-only node advertises listeners (the image refuses that)", serviceName(n))
	}
}

func TestEnvNames(t *testing.T) {
	tests := []struct {
		key, env string
	}{
		{"log.retention.hours", "KAFKA_LOG_RETENTION_HOURS"},
		{"node.id", "KAFKA_NODE_ID"},
		{"client.quota.callback.static.storage.check-interval", "KAFKA_CLIENT_QUOTA_CALLBACK_STATIC_STORAGE_CHECK___INTERVAL"},
		{"some_key.with-both", "KAFKA_SOME__KEY_WITH___BOTH"},
		{"listener.name.controller.sasl.enabled.mechanisms", "KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := envName(tt.key); got != tt.env {
				t.Errorf("envName(%q) = %q; want %q", tt.key, got, tt.env)
			}
			if back := propertyName(strings.TrimPrefix(tt.env, "KAFKA_")); back != tt.key {
				t.Errorf("the image reads %s back as %q; want %q", tt.env, back, tt.key)
			}
		})
	}
}

// Properties the image cannot carry are refused, naming the property and why.
func TestEnvForRefuses(t *testing.T) {
	tests := []struct {
		key, value string
		want       string
	}{
		{"a.b.c", "1", `read its variable KAFKA_A_B_C back as "a.b_c"`},
		{"ssl.Keystore.type", "PEM", "back as"},
		{"version", "1", "KAFKA_VERSION"},
		{"opts", "x", "KAFKA_OPTS"},
		{"sasl.jaas.config", `x required user="a";`, "'='"},
		{"ssl.keystore.location", `C:\ks`, "backslash"},
		{"broker.rack", "zürich", "printable ASCII"},
		{"broker.rack", " a", "leading space"},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.value, func(t *testing.T) {
			_, err := envFor(tt.key, tt.value)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), tt.key) {
				t.Errorf("error %v; want one naming %s and saying %q", err, tt.key, tt.want)
			}
		})
	}
	if env, err := envFor("log.retention.hours", "24"); err != nil || env != "KAFKA_LOG_RETENTION_HOURS" {
		t.Errorf("envFor(log.retention.hours) = %q, %v", env, err)
	}
}

// A spec property the image would mangle fails the export, changing nothing.
func TestComposeRefusesWhatTheImageCannotCarry(t *testing.T) {
	lay := specLayout(t, cluster.Spec{Name: "bad",
		Properties:     map[string]string{"plugin.jaas": "x y=z;"},
		NodeProperties: map[int]map[string]string{2: {"a.b.c": "1"}}})
	res, err := Compose(lay, ComposeOptions{})
	if err == nil || res != nil {
		t.Fatalf("result %v, error %v; want a refusal", res, err)
	}
	for _, want := range []string{"plugin.jaas=x y=z;: ", "(nodes 1, 2, 3)", "a.b.c: ", "(node 2)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
	if strings.Count(err.Error(), "plugin.jaas") != 1 {
		t.Errorf("the problem on every node is reported more than once:\n%v", err)
	}
}

// A lab that exists keeps its cluster id; a spec gets the one asked for, or a new
// one each time.
func TestComposeClusterID(t *testing.T) {
	lay := exampleLayout(t, "combined-3")
	a, _ := Compose(lay, ComposeOptions{})
	b, _ := Compose(lay, ComposeOptions{})
	idA, idB := composeEnvs(t, a.Stream)["kafka-1"]["CLUSTER_ID"], composeEnvs(t, b.Stream)["kafka-1"]["CLUSTER_ID"]
	if len(idA) != 22 || idA == idB {
		t.Errorf("generated cluster ids %q and %q; want two new 22-character ids", idA, idB)
	}
	lay.ClusterID = "existingClusterIdAAAAA"
	c, _ := Compose(lay, ComposeOptions{ClusterID: testClusterID})
	for svc, env := range composeEnvs(t, c.Stream) {
		if env["CLUSTER_ID"] != "existingClusterIdAAAAA" {
			t.Errorf("%s: CLUSTER_ID %q; want the lab's", svc, env["CLUSTER_ID"])
		}
	}
}

// TestComposeSecured checks what a secured lab's compose export adds for every
// preset: node certificates for the containers' names that chain to the export's
// CA, the JAAS file with a section per SASL listener, passwords that stay out of
// compose.yaml, and for SCRAM a format service per node with every user.
func TestComposeSecured(t *testing.T) {
	no := false
	for _, sec := range []cluster.SecuritySpec{
		{Preset: cluster.SecurityTLS}, {Preset: cluster.SecurityMTLS, Users: []cluster.UserSpec{{Name: "alice"}}},
		{Preset: cluster.SecuritySCRAM, Users: []cluster.UserSpec{{Name: "alice"}}}, {Preset: cluster.SecurityPlain},
		{Preset: cluster.SecurityPlain, TLS: &no},
	} {
		name := sec.Preset
		if sec.TLS != nil {
			name += " without TLS"
		}
		t.Run(name, func(t *testing.T) {
			lay := specLayout(t, cluster.Spec{Name: "sec", Nodes: cluster.NodesSpec{Controllers: 1, Brokers: 2}, Security: &sec})
			res, err := Compose(lay, ComposeOptions{ClusterID: testClusterID})
			if err != nil {
				t.Fatal(err)
			}
			files := map[string]File{}
			for _, f := range res.Files {
				files[f.Name] = f
			}
			compose := string(files["compose.yaml"].Data)
			if strings.Contains(compose, "PRIVATE KEY") {
				t.Error("compose.yaml holds a key")
			}
			pw := map[string]string{}
			if f, ok := files["secrets/passwords"]; ok {
				for _, line := range strings.Split(string(f.Data), "\n") {
					if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
						pw[k] = v
					}
				}
			}
			if (sec.SASL() != "") != (len(pw) > 0) {
				t.Fatalf("SASL %q, passwords %v", sec.SASL(), pw)
			}
			for u, p := range pw {
				if strings.Contains(compose, p) {
					t.Errorf("compose.yaml holds %s's password", u)
				}
				if !strings.Contains(string(files["secrets/admin.properties"].Data), pw["admin"]) {
					t.Error("admin.properties lacks admin's password")
				}
			}
			for name, f := range files {
				secret := strings.HasPrefix(name, "secrets/") && name != "secrets/ca.crt"
				if f.Secret != secret {
					t.Errorf("%s: secret %v", name, f.Secret)
				}
			}

			// Certificates: each node's, for its service name, localhost and
			// 127.0.0.1, chaining to the CA; an mTLS client's for each user.
			if sec.UsesTLS() {
				roots := x509.NewCertPool()
				if !roots.AppendCertsFromPEM(files["secrets/ca.crt"].Data) {
					t.Fatal("secrets/ca.crt holds no certificate")
				}
				for _, n := range lay.Render.Nodes {
					f, ok := files[fmt.Sprintf("secrets/node%d-keystore.pem", n.ID)]
					if !ok {
						t.Fatalf("no keystore for node %d", n.ID)
					}
					cert, err := tls.X509KeyPair(f.Data, f.Data)
					if err != nil {
						t.Fatalf("node %d keystore: %v", n.ID, err)
					}
					leaf, err := x509.ParseCertificate(cert.Certificate[0])
					if err != nil {
						t.Fatal(err)
					}
					for _, host := range []string{serviceName(n), "localhost", "127.0.0.1"} {
						if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}); err != nil {
							t.Errorf("node %d certificate for %s: %v", n.ID, host, err)
						}
					}
				}
				for _, u := range sec.Users {
					if _, ok := files["secrets/"+u.Name+"-keystore.pem"]; ok != sec.ClientCertificates() {
						t.Errorf("user %s: client certificate %v on %s", u.Name, ok, sec.Preset)
					}
				}
			} else if _, ok := files["secrets/ca.crt"]; ok {
				t.Error("a CA without TLS")
			}

			// JAAS: a section for each SASL listener, the nodes' login in each.
			jaas := string(files["secrets/kafka_server_jaas.conf"].Data)
			var want []string
			switch {
			case sec.SASL() != "" && !sec.UsesTLS():
				want = []string{"client", "controller", "host"}
			case sec.SASL() != "":
				want = []string{"client", "host"}
			}
			for _, l := range want {
				if !strings.Contains(jaas, l+".KafkaServer {\n  ") || !strings.Contains(jaas, `username="kraftlab-node" password="`+pw["kraftlab-node"]+`"`) {
					t.Errorf("JAAS file lacks the %s listener's login:\n%s", l, jaas)
				}
			}
			if want != nil && !strings.Contains(compose, "KAFKA_OPTS: -Djava.security.auth.login.config=/etc/kafka/secrets/kafka_server_jaas.conf") {
				t.Error("no KAFKA_OPTS naming the JAAS file")
			}

			// SCRAM: every node formats with every user first.
			scram := string(files["secrets/scram-users"].Data)
			for _, n := range lay.Render.Nodes {
				svc := serviceName(n)
				_, format := files["format/"+svc+".properties"]
				if format != (sec.SASL() == "SCRAM-SHA-512") || strings.Contains(compose, svc+"-format:") != format {
					t.Errorf("%s: format service %v on %s", svc, format, sec.Preset)
				}
			}
			for u, p := range pw {
				if sec.SASL() == "SCRAM-SHA-512" && !strings.Contains(scram, "SCRAM-SHA-512=[name="+u+",password="+p+"]") {
					t.Errorf("scram-users lacks %s", u)
				}
			}
			if err := ValidateCompose(files["compose.yaml"].Data); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A secured export's keys and passwords are never printed; in a directory they
// are the owner's alone.
func TestComposeSecuredWrite(t *testing.T) {
	res, err := Compose(exampleLayout(t, "secured"), ComposeOptions{ClusterID: testClusterID})
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := Write(res, "-", &out); err == nil || !strings.Contains(err.Error(), "-o DIR") || out.Len() > 0 {
		t.Fatalf("to stdout: %v, %d bytes", err, out.Len())
	}
	dir := t.TempDir()
	if err := Write(res, dir, &out); err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		st, err := os.Stat(filepath.Join(dir, f.Name))
		if err != nil {
			t.Fatal(err)
		}
		if f.Secret && st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", f.Name, st.Mode().Perm())
		}
	}
}
