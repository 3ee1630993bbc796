package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// TestComposeExportRunsHere runs what 'export compose' writes for a secured lab
// (sasl-scram with ACLs) on real brokers. There is no Docker here, so the nodes
// run as plain processes on the loopback: each node's format properties (the
// ones its container environment gives the image) with the containers' host
// names and ports mapped to this host's, formatted with the scram-users the
// format services use, started with the JAAS file KAFKA_OPTS names. Then admin
// connects as secrets/admin.properties says, creates the topic the export's note
// names and round-trips records with acks=all (replication between brokers over
// SCRAM, registration with the controllers over mTLS, both by the certificates'
// principal mapping), and alice is refused until her ACL exists.
func TestComposeExportRunsHere(t *testing.T) {
	home := t.TempDir()
	// Brokers' published ports, then their container-internal listeners;
	// controllers.
	b, c := freePortBlocks(t, 6)
	spec := filepath.Join(home, "lab.yaml")
	writeFile(t, spec, `name: exported
nodes:
  combined: 3
ports:
  broker: `+itoa(b)+`
  controller: `+itoa(c)+`
heap: 256M
security:
  preset: sasl-scram
  authorization: true
  users:
    - name: alice
  acls:
    - principal: User:alice
      operations: [write, describe]
      resource: topic
      name: orders
topics:
  - name: orders
    partitions: 3
`)
	out := filepath.Join(home, "export")
	r := kraftlabIn(t, home, "export", "compose", "-f", spec, "-o", out)
	if r.code != 0 {
		t.Fatalf("export compose: %s", r)
	}
	if !strings.Contains(r.stderr, "kafka-topics.sh --bootstrap-server 127.0.0.1:"+itoa(b)+" --command-config secrets/admin.properties --create --topic orders --partitions 3") {
		t.Errorf("the export does not say how to make topic orders:\n%s", r.stderr)
	}
	compose := readFile(t, filepath.Join(out, "compose.yaml"))
	version := regexp.MustCompile(`image: apache/kafka:(\S+)`).FindStringSubmatch(compose)
	clusterID := regexp.MustCompile(`CLUSTER_ID: (\S+)`).FindStringSubmatch(compose)
	if version == nil || clusterID == nil {
		t.Fatalf("compose.yaml names no image or cluster id:\n%s", compose)
	}
	libs := filepath.Join(cacheDir, "kafka-"+version[1], "libs", "*")

	// The containers' names and ports, mapped to this host's.
	secrets := filepath.Join(out, "secrets")
	pairs := []string{"/etc/kafka/secrets", secrets}
	for i := 1; i <= 3; i++ {
		pairs = append(pairs,
			"kafka-"+itoa(i)+":19092", "127.0.0.1:"+itoa(b+2+i),
			"kafka-"+itoa(i)+":9093", "127.0.0.1:"+itoa(c+i-1))
	}
	scramArgs := strings.Split(strings.TrimSpace(readFile(t, secrets, "scram-users")), "\n")
	for i := 1; i <= 3; i++ {
		node := strings.NewReplacer(append(pairs,
			"CLIENT://:19092", "CLIENT://127.0.0.1:"+itoa(b+2+i),
			"CONTROLLER://:9093", "CONTROLLER://127.0.0.1:"+itoa(c+i-1),
			"HOST://:9092", "HOST://127.0.0.1:"+itoa(b+i-1),
			"/var/lib/kafka/data", filepath.Join(home, "data"+itoa(i)))...).
			Replace(readFile(t, filepath.Join(out, "format", "kafka-"+itoa(i)+".properties")))
		props := filepath.Join(home, "node"+itoa(i)+".properties")
		writeFile(t, props, node)
		format := exec.Command("java", append([]string{"-cp", libs, "kafka.tools.StorageTool", "format", "--ignore-formatted",
			"--cluster-id", clusterID[1], "--config", props}, scramArgs...)...)
		if b, err := format.CombinedOutput(); err != nil {
			t.Fatalf("format node %d as its format service does: %v\n%s", i, err, b)
		}
		logf, err := os.Create(filepath.Join(home, "node"+itoa(i)+".log"))
		if err != nil {
			t.Fatal(err)
		}
		start := exec.Command("java", "-Xmx256M", "-Xms256M", "-XX:TieredStopAtLevel=1",
			"-Djava.security.auth.login.config="+filepath.Join(secrets, "kafka_server_jaas.conf"),
			"-cp", libs, "kafka.Kafka", props)
		start.Stdout, start.Stderr = logf, logf
		if err := start.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_ = start.Process.Kill()
			_ = start.Wait()
			logf.Close()
			if t.Failed() {
				t.Logf("node %d's output:\n%s", i, readFile(t, logf.Name()))
			}
		})
	}

	// As admin, by secrets/admin.properties.
	admin := keyValues(readFile(t, secrets, "admin.properties"))
	passwords := keyValues(readFile(t, secrets, "passwords"))
	if admin["security.protocol"] != "SASL_SSL" || admin["ssl.truststore.location"] != "secrets/ca.crt" || admin["bootstrap.servers"] == "" {
		t.Fatalf("admin.properties: %v", admin)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(readFile(t, filepath.Join(out, admin["ssl.truststore.location"])))) {
		t.Fatal("the CA admin.properties names holds no certificate")
	}
	client := func(user string, opts ...kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(append([]kgo.Opt{
			kgo.SeedBrokers(strings.Split(admin["bootstrap.servers"], ",")...),
			kgo.DialTLSConfig(&tls.Config{RootCAs: roots}),
			kgo.SASL(scram.Auth{User: user, Pass: passwords[user]}.AsSha512Mechanism()),
		}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	adm := kadm.NewClient(client("admin"))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// Ready: three brokers registered and unfenced, so a topic of RF 3 can be made.
	var created kadm.CreateTopicResponse
	for {
		var err error
		created, err = adm.CreateTopic(ctx, 3, 3, nil, "orders")
		if err == nil && created.Err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the exported cluster never took topic orders (RF 3): %v %v", err, created.Err)
		}
		time.Sleep(250 * time.Millisecond) // polling readiness, not waiting it out
	}

	producer := client("admin", kgo.DefaultProduceTopic("orders"), kgo.RequiredAcks(kgo.AllISRAcks()))
	for i := 0; i < 100; i++ {
		if err := producer.ProduceSync(ctx, &kgo.Record{Value: []byte(itoa(i))}).FirstErr(); err != nil {
			t.Fatalf("produce as admin, acks=all: %v", err)
		}
	}
	consumer := client("admin", kgo.ConsumeTopics("orders"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	seen := map[string]bool{}
	for len(seen) < 100 && ctx.Err() == nil {
		consumer.PollFetches(ctx).EachRecord(func(r *kgo.Record) { seen[string(r.Value)] = true })
	}
	if len(seen) != 100 {
		t.Fatalf("consumed %d of 100 records", len(seen))
	}

	// alice exists (made at format) but may not write before her ACL.
	alice := client("alice", kgo.DefaultProduceTopic("orders"), kgo.RequestRetries(0))
	err := alice.ProduceSync(ctx, &kgo.Record{Value: []byte("denied")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice produced before her ACL: %v", err)
	}
	acl := kadm.NewACLs().Allow("User:alice").Topics("orders").Operations(kadm.OpWrite, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral)
	if _, err := adm.CreateACLs(ctx, acl); err != nil {
		t.Fatal(err)
	}
	for {
		err := alice.ProduceSync(ctx, &kgo.Record{Value: []byte("allowed")}).FirstErr()
		if err == nil {
			break
		}
		if ctx.Err() != nil || !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("alice with her ACL: %v", err)
		}
		time.Sleep(250 * time.Millisecond) // until every broker has the ACL
	}
}

// writeFile writes a file of the test, readable by its owner only.
func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

// keyValues reads the key=value lines of a file kraftlab wrote, less comments.
func keyValues(text string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") {
			out[k] = v
		}
	}
	return out
}
