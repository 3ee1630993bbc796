package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// clientOpts are franz-go options for user, built from what 'client-config
// --format env' prints, as a user's own program would build them.
func (l *lab) clientOpts(t *testing.T, user string) []kgo.Opt {
	t.Helper()
	env := keyValues(l.must("client-config", "--format", "env", "--user", user).stdout)
	var opts []kgo.Opt
	if ca := env["KAFKA_TLS_CA_FILE"]; ca != "" {
		cfg := &tls.Config{RootCAs: x509.NewCertPool()}
		pem, err := os.ReadFile(ca)
		if err != nil || !cfg.RootCAs.AppendCertsFromPEM(pem) {
			t.Fatalf("the CA client-config names: %v", err)
		}
		if env["KAFKA_TLS_CERT_FILE"] != "" {
			c, err := tls.LoadX509KeyPair(env["KAFKA_TLS_CERT_FILE"], env["KAFKA_TLS_KEY_FILE"])
			if err != nil {
				t.Fatal(err)
			}
			cfg.Certificates = []tls.Certificate{c}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	switch env["KAFKA_SASL_MECHANISM"] {
	case "SCRAM-SHA-512":
		opts = append(opts, kgo.SASL(scram.Auth{User: env["KAFKA_SASL_USERNAME"], Pass: env["KAFKA_SASL_PASSWORD"]}.AsSha512Mechanism()))
	case "PLAIN":
		opts = append(opts, kgo.SASL(plain.Auth{User: env["KAFKA_SASL_USERNAME"], Pass: env["KAFKA_SASL_PASSWORD"]}.AsMechanism()))
	}
	return opts
}

// ping reaches the lab's brokers with opts and returns the error, if any.
func ping(brokers []string, opts ...kgo.Opt) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.RequestRetries(0), kgo.RetryTimeout(3 * time.Second)}, opts...)...)
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return cl.Ping(ctx)
}

// checkSecuredSCRAM runs the secured-lab checks on a running 3-node sasl-scram lab
// with ACLs: what is refused, users and ACLs, Kafka's own console tools with the
// printed configuration, and a short chaos.
func checkSecuredSCRAM(t *testing.T, l *lab) {
	brokers := l.bootstrap(3)
	// A plaintext client is refused on the secured port.
	if err := ping(brokers); err == nil {
		t.Error("a plaintext client reached a SASL_SSL listener")
	}
	// A wrong password fails as an authentication error, quickly.
	admin := l.clientOpts(t, "admin")
	start := time.Now()
	wrong := append(admin[:1:1], kgo.SASL(scram.Auth{User: "admin", Pass: "wrong-password"}.AsSha512Mechanism()))
	if err := ping(brokers, wrong...); !errors.Is(err, kerr.SaslAuthenticationFailed) {
		t.Errorf("a wrong password: %v, want SASL_AUTHENTICATION_FAILED", err)
	} else if took := time.Since(start); took > 15*time.Second {
		t.Errorf("a wrong password took %s to fail, like a timeout", took)
	}
	// A client that dials by a name missing from the certificates fails hostname
	// verification.
	cfg := &tls.Config{RootCAs: x509.NewCertPool(), ServerName: "not-in-the-sans.example"}
	pem, _ := os.ReadFile(filepath.Join(l.dir(), "pki", "ca.crt"))
	cfg.RootCAs.AppendCertsFromPEM(pem)
	if err := ping(brokers, kgo.DialTLSConfig(cfg), admin[1]); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a host name missing from the SANs: %v, want a certificate error", err)
	}

	// alice, without ACLs, is denied; after acl add she can read and write; after
	// acl delete she is denied again.
	if r := l.must("user", "add", "alice"); !strings.Contains(r.stdout, "Password (shown once") {
		t.Errorf("user add: %s", r)
	}
	if r := l.kraftlab("user", "add", "alice"); r.code != 2 || !strings.Contains(r.stderr, "exists already") {
		t.Errorf("a duplicate user: %s", r)
	}
	if r := l.kraftlab("user", "delete", "bob"); r.code != 2 || !strings.Contains(r.stderr, `no user "bob"`) {
		t.Errorf("an unknown user: %s", r)
	}
	if r := l.kraftlab("acl", "add", "--principal", "alice", "--operation", "read", "--topic", "orders"); r.code != 2 || !strings.Contains(r.stderr, "want User:NAME") {
		t.Errorf("a malformed principal: %s", r)
	}
	l.must("topic", "create", "orders")
	alice := l.clientOpts(t, "alice")
	produce := func() error {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic("orders"), kgo.RecordRetries(2)}, alice...)...)
		if err != nil {
			return err
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return cl.ProduceSync(ctx, kgo.StringRecord("from alice")).FirstErr()
	}
	if err := produce(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("alice without ACLs: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	l.must("acl", "add", "--principal", "User:alice", "--operation", "read,write,describe", "--topic", "orders")
	l.must("acl", "add", "--principal", "User:alice", "--operation", "read", "--group", "alice-", "--prefixed")
	if err := produce(); err != nil {
		t.Errorf("alice with ACLs: %v", err)
	}
	if r := l.must("consume", "orders", "--from-beginning", "-e", "--user", "alice", "--group", "alice-e2e"); !strings.Contains(r.stdout, "from alice") {
		t.Errorf("alice consuming with ACLs: %s", r)
	}
	if r := l.must("spec"); !strings.Contains(r.stdout, "principal: User:alice") || !strings.Contains(r.stdout, "- name: alice") {
		t.Errorf("the lab's spec lacks alice and her ACLs:\n%s", r.stdout)
	}
	l.must("acl", "delete", "--principal", "User:alice", "--operation", "read,write,describe", "--topic", "orders")
	if err := produce(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("alice after acl delete: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}

	// Kafka's own console producer and consumer, with the file client-config wrote.
	checkConsoleTools(t, l)

	var rep struct {
		Passed bool `json:"passed"`
	}
	decodeJSON(t, l.must("chaos", "--count", "2", "--interval", "1s", "--faults", "kill,restart", "-o", "json").stdout, &rep)
	if !rep.Passed {
		t.Error("chaos on the secured lab did not pass")
	}
}

// checkConsoleTools produces and consumes with Kafka's ConsoleProducer and
// ConsoleConsumer (org.apache.kafka:kafka-tools, beside the runtime's libs), as
// admin, through the properties file client-config writes.
func checkConsoleTools(t *testing.T, l *lab) {
	t.Helper()
	var up upJSON
	decodeJSON(t, l.must("status", "-o", "json").stdout, &up)
	tools := filepath.Join(cacheDir, "kafka-tools-"+up.KafkaVersion)
	jar := filepath.Join(tools, "kafka-tools-"+up.KafkaVersion+".jar")
	if _, err := os.Stat(jar); err != nil {
		out, err := exec.Command("mvn", "-q", "-B", "dependency:copy", "-Dartifact=org.apache.kafka:kafka-tools:"+up.KafkaVersion, "-DoutputDirectory="+tools).CombinedOutput()
		if err != nil {
			t.Fatalf("fetch kafka-tools %s: %v\n%s", up.KafkaVersion, err, out)
		}
	}
	conf := filepath.Join(t.TempDir(), "admin.properties")
	l.must("client-config", "--file", conf)
	if info, err := os.Stat(conf); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("client-config --file: %v, mode %v, want 0600", err, info.Mode())
	}
	cp := filepath.Join(cacheDir, "kafka-"+up.KafkaVersion, "libs", "*") + string(os.PathListSeparator) + jar
	run := func(stdin string, args ...string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "java", append([]string{"-cp", cp}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", args[0], err, out)
		}
		return string(out)
	}
	bootstrap := strings.Join(l.bootstrap(3), ",")
	run("console-1\nconsole-2\n", "org.apache.kafka.tools.ConsoleProducer", "--bootstrap-server", bootstrap, "--topic", "console", "--producer.config", conf)
	out := run("", "org.apache.kafka.tools.consumer.ConsoleConsumer", "--bootstrap-server", bootstrap, "--topic", "console",
		"--from-beginning", "--max-messages", "2", "--consumer.config", conf, "--group", "console-e2e")
	if !strings.Contains(out, "console-1") || !strings.Contains(out, "console-2") {
		t.Errorf("the console consumer read:\n%s", out)
	}
}

// Each preset on a one-node lab: a client without its security is refused, the
// admin produces and consumes, and smoke passes; on mTLS a certificate of another
// CA is refused and one kraftlab issued works.
func TestSecurityPresets(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{"tls", []string{"--security", "tls"}},
		{"mtls", []string{"--security", "mtls", "--acls"}},
		{"sasl-plain", []string{"--security", "sasl-plain"}},
		{"sasl-scram-without-tls", []string{"--security", "sasl-scram", "--no-tls"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newLab(t, 1)
			l.up(1, tc.flags...)
			brokers := l.bootstrap(1)
			if err := ping(brokers); err == nil {
				t.Error("a client without the lab's security reached its broker")
			}
			if err := ping(brokers, l.clientOpts(t, "admin")...); err != nil {
				t.Errorf("admin with client-config's settings: %v", err)
			}
			l.must("topic", "create", "sec", "-r", "1")
			l.must("produce", "sec", "--file", "../examples/app.json")
			if r := l.must("consume", "sec", "--from-beginning", "-e"); len(strings.Split(strings.TrimSpace(r.stdout), "\n")) < 2 {
				t.Errorf("consume: %s", r)
			}
			if r := l.must("smoke", "--records", "500"); !strings.Contains(r.stdout, "0 lost") {
				t.Errorf("smoke: %s", r)
			}
			if tc.name == "mtls" {
				checkForeignCertificate(t, l)
			}
			l.must("down", "--purge")
		})
	}
	if r := kraftlabIn(t, t.TempDir(), "up", "--security", "tls", "--acls"); r.code != 2 || !strings.Contains(r.stderr, "ACLs need clients that authenticate") {
		t.Errorf("--acls without authentication: %s", r)
	}
}

// checkForeignCertificate: on an mTLS lab a certificate the lab's CA did not sign
// is refused, and one that 'cert issue' made is accepted.
func checkForeignCertificate(t *testing.T, l *lab) {
	other := newLab(t, 1)
	other.up(1, "--security", "mtls")
	// Our CA, the other lab's certificate: the broker refuses the handshake.
	cfg := &tls.Config{RootCAs: x509.NewCertPool()}
	pem, _ := os.ReadFile(filepath.Join(l.dir(), "pki", "ca.crt"))
	cfg.RootCAs.AppendCertsFromPEM(pem)
	c, err := tls.LoadX509KeyPair(filepath.Join(other.dir(), "pki", "admin.crt"), filepath.Join(other.dir(), "pki", "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Certificates = []tls.Certificate{c}
	if err := ping(l.bootstrap(1), kgo.DialTLSConfig(cfg)); err == nil {
		t.Error("a certificate of another lab's CA was accepted")
	}
	other.must("down", "--purge")
	// A user kraftlab certifies: bob, allowed to describe the cluster.
	l.must("cert", "issue", "bob")
	l.must("acl", "add", "--principal", "User:bob", "--operation", "describe", "--cluster")
	if err := ping(l.bootstrap(1), l.clientOpts(t, "bob")...); err != nil {
		t.Errorf("bob with the certificate cert issue made: %v", err)
	}
}
