package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newCA(t *testing.T, lab string) *CA {
	t.Helper()
	ca, err := NewCA(lab, now)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func TestNewCA(t *testing.T) {
	ca := newCA(t, "lab1")
	c := ca.Cert
	if got, want := c.Subject.CommonName, "kraftlab lab1 CA"; got != want {
		t.Errorf("CN = %q, want %q", got, want)
	}
	if !c.IsCA || !c.BasicConstraintsValid || !c.MaxPathLenZero {
		t.Errorf("IsCA=%v BasicConstraintsValid=%v MaxPathLenZero=%v, want all true", c.IsCA, c.BasicConstraintsValid, c.MaxPathLenZero)
	}
	if c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("key usage %b lacks CertSign", c.KeyUsage)
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("CA is not self-signed: %v", err)
	}
	if got := c.NotAfter.Sub(now); got < 9*365*24*time.Hour {
		t.Errorf("CA valid for %v after issue, want about 10 years", got)
	}
	if c.PublicKeyAlgorithm != x509.ECDSA {
		t.Errorf("key algorithm %v, want ECDSA", c.PublicKeyAlgorithm)
	}
	if _, err := NewCA("", now); err == nil {
		t.Error("NewCA with an empty lab name: no error")
	}
}

func TestIssueNodeSANs(t *testing.T) {
	ca := newCA(t, "sans")
	tests := []struct {
		name    string
		id      int
		hosts   []string
		wantDNS []string
		wantIPs []string
		wantErr string
	}{
		{name: "loopback", id: 1, hosts: []string{"localhost", "127.0.0.1"}, wantDNS: []string{"localhost"}, wantIPs: []string{"127.0.0.1"}},
		{name: "bind address and ipv6", id: 2, hosts: []string{"localhost", "127.0.0.1", "10.1.2.3", "::1", "kafka-2.lab.example"},
			wantDNS: []string{"localhost", "kafka-2.lab.example"}, wantIPs: []string{"127.0.0.1", "10.1.2.3", "::1"}},
		{name: "duplicates dropped", id: 3, hosts: []string{"127.0.0.1", "localhost", "127.0.0.1", "localhost"}, wantDNS: []string{"localhost"}, wantIPs: []string{"127.0.0.1"}},
		{name: "no hosts", id: 1, wantErr: "no host names"},
		{name: "any address", id: 1, hosts: []string{"0.0.0.0"}, wantErr: `"0.0.0.0" is the any-address`},
		{name: "ipv6 any address", id: 1, hosts: []string{"::"}, wantErr: "any-address"},
		{name: "not a name", id: 1, hosts: []string{"local host"}, wantErr: "neither an IP address nor a DNS name"},
		{name: "trailing dot", id: 1, hosts: []string{"localhost."}, wantErr: "neither"},
		{name: "every bad host named", id: 1, hosts: []string{"localhost", "a b", "0.0.0.0"}, wantErr: "\"a b\" is neither an IP address nor a DNS name\nhost \"0.0.0.0\" is the any-address"},
		{name: "negative id", id: -1, hosts: []string{"localhost"}, wantErr: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ca.IssueNode(tt.id, tt.hosts, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.Cert.DNSNames, tt.wantDNS) {
				t.Errorf("DNS SANs %v, want %v", c.Cert.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range c.Cert.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.wantIPs) {
				t.Errorf("IP SANs %v, want %v", ips, tt.wantIPs)
			}
			if got, want := c.Cert.Subject.String(), "CN="+NodeName(tt.id); got != want {
				t.Errorf("subject %q, want %q (Kafka's principal is User:%s)", got, want, want)
			}
			for _, h := range tt.hosts {
				if err := c.Cert.VerifyHostname(h); err != nil {
					t.Errorf("VerifyHostname(%q): %v", h, err)
				}
			}
			if err := c.Cert.VerifyHostname("elsewhere.example"); err == nil {
				t.Error("VerifyHostname accepts a name that is not a SAN")
			}
		})
	}
}

func TestUsages(t *testing.T) {
	ca := newCA(t, "usages")
	node, err := ca.IssueNode(1, []string{"127.0.0.1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	client, err := ca.IssueClient("alice", now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		cert     *x509.Certificate
		wantCN   string
		wantExt  []x509.ExtKeyUsage
		wantUses x509.KeyUsage
	}{
		{name: "node is server and client", cert: node.Cert, wantCN: "node1",
			wantExt: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, wantUses: x509.KeyUsageDigitalSignature},
		{name: "client is client only", cert: client.Cert, wantCN: "alice",
			wantExt: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, wantUses: x509.KeyUsageDigitalSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cert
			if c.Subject.CommonName != tt.wantCN {
				t.Errorf("CN %q, want %q", c.Subject.CommonName, tt.wantCN)
			}
			if !slices.Equal(c.ExtKeyUsage, tt.wantExt) {
				t.Errorf("extended key usage %v, want %v", c.ExtKeyUsage, tt.wantExt)
			}
			if c.KeyUsage != tt.wantUses {
				t.Errorf("key usage %b, want %b", c.KeyUsage, tt.wantUses)
			}
			if c.IsCA {
				t.Error("leaf certificate is a CA")
			}
			if err := c.CheckSignatureFrom(ca.Cert); err != nil {
				t.Errorf("not signed by the lab CA: %v", err)
			}
			if !bytes.Equal(c.AuthorityKeyId, ca.Cert.SubjectKeyId) || len(c.AuthorityKeyId) == 0 {
				t.Errorf("authority key id %x, want the CA's subject key id %x", c.AuthorityKeyId, ca.Cert.SubjectKeyId)
			}
			if c.NotAfter.After(ca.Cert.NotAfter) {
				t.Errorf("leaf valid until %v, after its CA (%v)", c.NotAfter, ca.Cert.NotAfter)
			}
		})
	}
}

func TestIssueClientNames(t *testing.T) {
	ca := newCA(t, "names")
	tests := []struct {
		name    string
		cn      string
		wantErr string
	}{
		{name: "plain", cn: "alice"},
		{name: "dots dashes underscores", cn: "svc.orders_v2-test"},
		{name: "admin", cn: "admin"},
		{name: "empty", cn: "", wantErr: "1-64 letters"},
		{name: "comma would split the DN", cn: "alice,O=evil", wantErr: "1-64 letters"},
		{name: "equals", cn: "a=b", wantErr: "1-64 letters"},
		{name: "space", cn: "al ice", wantErr: "1-64 letters"},
		{name: "leading dash", cn: "-alice", wantErr: "1-64 letters"},
		{name: "too long", cn: strings.Repeat("a", 65), wantErr: "1-64 letters"},
		{name: "node name", cn: "node2", wantErr: "node's name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ca.IssueClient(tt.cn, now)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.Cert.Subject.String(), "CN="+tt.cn; got != want {
				t.Errorf("subject %q, want %q", got, want)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	ca := newCA(t, "own")
	foreign := newCA(t, "foreign")
	own, err := ca.IssueClient("alice", now)
	if err != nil {
		t.Fatal(err)
	}
	alien, err := foreign.IssueClient("alice", now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		cert    *Cert
		at      time.Time
		wantErr string
	}{
		{name: "issued by this CA", cert: own, at: now},
		{name: "foreign CA refused", cert: alien, at: now, wantErr: `was not issued by this lab's CA "CN=kraftlab own CA"`},
		{name: "foreign CA certificate itself", cert: &Cert{Cert: foreign.Cert, Key: foreign.Key}, at: now, wantErr: "not issued by this lab's CA"},
		{name: "key of another certificate", cert: &Cert{Cert: own.Cert, Key: alien.Key}, at: now, wantErr: "private key does not belong"},
		{name: "expired", cert: own, at: now.Add(Validity + time.Hour), wantErr: "expired"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ca.Verify(tt.cert, tt.at)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// pemTypes lists the block types of a PEM file in order.
func pemTypes(t *testing.T, data []byte) []string {
	t.Helper()
	var types []string
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if len(b.Headers) != 0 {
			t.Errorf("PEM block %s has headers %v (Kafka reads none)", b.Type, b.Headers)
		}
		types = append(types, b.Type)
	}
	if len(bytes.TrimSpace(data)) != 0 {
		t.Errorf("trailing non-PEM data %q", data)
	}
	return types
}

func TestSaveFiles(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "files")
	if err := ca.Save(dir); err != nil {
		t.Fatal(err)
	}
	node, err := ca.IssueNode(1, []string{"localhost", "127.0.0.1"}, now)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ca.SaveCert(dir, "node1", node, now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		path      string
		wantMode  os.FileMode
		wantTypes []string
		wantFirst string
	}{
		{name: "CA certificate (truststore)", path: filepath.Join(dir, CACertFile), wantMode: 0o644, wantTypes: []string{"CERTIFICATE"}},
		{name: "CA key", path: filepath.Join(dir, CAKeyFile), wantMode: 0o600, wantTypes: []string{"PRIVATE KEY"}, wantFirst: "-----BEGIN PRIVATE KEY-----\n"},
		{name: "node certificate", path: f.Cert, wantMode: 0o644, wantTypes: []string{"CERTIFICATE"}},
		{name: "node key", path: f.Key, wantMode: 0o600, wantTypes: []string{"PRIVATE KEY"}, wantFirst: "-----BEGIN PRIVATE KEY-----\n"},
		{name: "node keystore: key, then chain", path: f.Keystore, wantMode: 0o600,
			wantTypes: []string{"PRIVATE KEY", "CERTIFICATE", "CERTIFICATE"}, wantFirst: "-----BEGIN PRIVATE KEY-----\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, err := os.Lstat(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if !st.Mode().IsRegular() || st.Mode().Perm() != tt.wantMode {
				t.Errorf("mode %v, want regular %v", st.Mode(), tt.wantMode)
			}
			data, err := os.ReadFile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if got := pemTypes(t, data); !slices.Equal(got, tt.wantTypes) {
				t.Errorf("PEM blocks %v, want %v", got, tt.wantTypes)
			}
			if tt.wantFirst != "" && !strings.HasPrefix(string(data), tt.wantFirst) {
				t.Errorf("file starts %q, want %q", data[:min(len(data), 40)], tt.wantFirst)
			}
		})
	}

	// The keystore's chain is the node's certificate, then the CA's.
	ks, _ := os.ReadFile(f.Keystore)
	var certs [][]byte
	for rest := ks; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		if b.Type == "CERTIFICATE" {
			certs = append(certs, b.Bytes)
		}
	}
	if len(certs) != 2 || !bytes.Equal(certs[0], node.Cert.Raw) || !bytes.Equal(certs[1], ca.Cert.Raw) {
		t.Error("keystore chain is not [node certificate, CA certificate]")
	}

	// No temporary files are left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

func TestLoadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	ca := newCA(t, "load")
	if err := ca.Save(dir); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !loaded.Cert.Equal(ca.Cert) {
		t.Fatal("loaded CA certificate differs from the saved one")
	}
	// The loaded CA issues certificates that verify against the original.
	c, err := loaded.IssueClient("bob", now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := loaded.SaveCert(dir, "bob", c, now); err != nil {
		t.Fatal(err)
	}
	back, err := LoadCert(dir, "bob")
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.Verify(back, now); err != nil {
		t.Fatalf("certificate issued by the loaded CA: %v", err)
	}
	if err := ca.Save(dir); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second Save: err = %v, want 'already exists'", err)
	}

	// A certificate already in place (but no key) refuses the Save and leaves no
	// orphan key behind.
	lone := t.TempDir()
	if err := os.WriteFile(filepath.Join(lone, CACertFile), EncodeCert(ca.Cert), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := newCA(t, "other").Save(lone); err == nil {
		t.Error("Save over an existing ca.crt: no error")
	}
	if _, err := os.Lstat(filepath.Join(lone, CAKeyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("failed Save left %s behind: %v", CAKeyFile, err)
	}
}

func TestLoadRefuses(t *testing.T) {
	ca := newCA(t, "refuse")
	foreign := newCA(t, "foreign")
	leaf, err := ca.IssueClient("carol", now)
	if err != nil {
		t.Fatal(err)
	}
	alien, err := foreign.IssueClient("carol", now)
	if err != nil {
		t.Fatal(err)
	}
	write := func(t *testing.T, path string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	key := func(c *Cert) []byte {
		b, err := EncodeKey(c.Key)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, dir string)
		load    func(dir string) error
		wantErr string
	}{
		{name: "no CA", setup: func(*testing.T, string) {}, load: func(dir string) error { _, err := LoadCA(dir); return err }, wantErr: "no such file"},
		{name: "leaf as CA", setup: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, CACertFile), EncodeCert(leaf.Cert))
			write(t, filepath.Join(dir, CAKeyFile), key(leaf))
		}, load: func(dir string) error { _, err := LoadCA(dir); return err }, wantErr: "not a CA certificate"},
		{name: "CA key of another CA", setup: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, CACertFile), EncodeCert(ca.Cert))
			write(t, filepath.Join(dir, CAKeyFile), key(&Cert{Key: foreign.Key}))
		}, load: func(dir string) error { _, err := LoadCA(dir); return err }, wantErr: "private key does not belong"},
		{name: "key is a symlink", setup: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, CACertFile), EncodeCert(ca.Cert))
			write(t, filepath.Join(dir, "elsewhere.key"), key(&Cert{Key: ca.Key}))
			if err := os.Symlink(filepath.Join(dir, "elsewhere.key"), filepath.Join(dir, CAKeyFile)); err != nil {
				t.Fatal(err)
			}
		}, load: func(dir string) error { _, err := LoadCA(dir); return err }, wantErr: "is a symbolic link"},
		{name: "encrypted key", setup: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, CACertFile), EncodeCert(ca.Cert))
			write(t, filepath.Join(dir, CAKeyFile), pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}))
		}, load: func(dir string) error { _, err := LoadCA(dir); return err }, wantErr: "encrypted"},
		{name: "not PEM", setup: func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, CACertFile), []byte("hello"))
		}, load: func(dir string) error { _, err := LoadCA(dir); return err }, wantErr: "no PEM CERTIFICATE block"},
		{name: "foreign certificate refused on save", setup: func(*testing.T, string) {},
			load: func(dir string) error { _, err := ca.SaveCert(dir, "carol", alien, now); return err }, wantErr: "not issued by this lab's CA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			err := tt.load(dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			if _, statErr := os.Stat(FilesOf(dir, "carol").Key); tt.name == "foreign certificate refused on save" && !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("refused certificate was written anyway: %v", statErr)
			}
		})
	}
}

func TestWriteDoesNotFollowSymlinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("untouched"), 0o644); err != nil {
		t.Fatal(err)
	}
	ca := newCA(t, "links")
	c, err := ca.IssueClient("dave", now)
	if err != nil {
		t.Fatal(err)
	}
	f := FilesOf(dir, "dave")
	for _, p := range []string{f.Key, f.Keystore, filepath.Join(dir, CAKeyFile)} {
		if err := os.Symlink(victim, p); err != nil {
			t.Fatal(err)
		}
	}
	// A link at a CA file makes Save refuse (the name exists); at a certificate's
	// files SaveCert replaces the link itself.
	if err := ca.Save(dir); err == nil {
		t.Error("Save over a symlinked ca.key: no error")
	}
	if _, err := ca.SaveCert(dir, "dave", c, now); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "untouched" {
		t.Fatalf("write went through the symlink: victim holds %q", b)
	}
	for _, p := range []string{f.Key, f.Keystore} {
		st, err := os.Lstat(p)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Mode().IsRegular() || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want a regular 0600 file", p, st.Mode())
		}
	}
}

// TestHandshake runs real TLS 1.3 handshakes between lab certificates the way Kafka
// uses them: a node serving, a client (or another node) presenting its certificate,
// both trusting only the lab CA, with hostname verification on.
func TestHandshake(t *testing.T) {
	ca := newCA(t, "tls")
	foreign := newCA(t, "foreign")
	node1, err := ca.IssueNode(1, []string{"localhost", "127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	node2, err := ca.IssueNode(2, []string{"localhost", "127.0.0.1"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	alice, err := ca.IssueClient("alice", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := foreign.IssueClient("mallory", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pool := func(c *CA) *x509.CertPool {
		p := x509.NewCertPool()
		p.AddCert(c.Cert)
		return p
	}
	pair := func(c *Cert) []tls.Certificate {
		return []tls.Certificate{{Certificate: [][]byte{c.Cert.Raw, ca.Cert.Raw}, PrivateKey: c.Key, Leaf: c.Cert}}
	}
	tests := []struct {
		name       string
		serverName string
		client     *Cert
		trust      *CA
		wantPeer   string // subject the server sees; "" = none
		wantErr    string
	}{
		{name: "node to node by IP", serverName: "127.0.0.1", client: node2, trust: ca, wantPeer: "CN=node2"},
		{name: "client by name", serverName: "localhost", client: alice, trust: ca, wantPeer: "CN=alice"},
		{name: "name missing from SANs", serverName: "broker.example", client: alice, trust: ca, wantErr: "not broker.example"},
		{name: "client trusting another CA", serverName: "127.0.0.1", client: alice, trust: foreign, wantErr: "unknown authority"},
		{name: "no client certificate", serverName: "127.0.0.1", trust: ca, wantErr: "certificate"},
		{name: "client certificate of another CA", serverName: "127.0.0.1", client: mallory, trust: ca, wantErr: "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Loopback TCP rather than net.Pipe: TLS 1.3 has both ends write at once
			// (session tickets, alerts), which an unbuffered pipe deadlocks on.
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			cc, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer cc.Close()
			sc, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			deadline := time.Now().Add(10 * time.Second)
			sc.SetDeadline(deadline)
			cc.SetDeadline(deadline)
			server := tls.Server(sc, &tls.Config{
				Certificates: pair(node1),
				ClientCAs:    pool(ca),
				ClientAuth:   tls.RequireAndVerifyClientCert,
				MinVersion:   tls.VersionTLS13,
			})
			cfg := &tls.Config{ServerName: tt.serverName, RootCAs: pool(tt.trust), MinVersion: tls.VersionTLS13}
			if tt.client != nil {
				cfg.Certificates = pair(tt.client)
			}
			client := tls.Client(cc, cfg)
			serverErr := make(chan error, 1)
			go func() {
				err := server.Handshake()
				if err == nil {
					// TLS 1.3 reports a refused client certificate on the first read.
					_, err = server.Read(make([]byte, 1))
				}
				sc.Close()
				serverErr <- err
			}()
			err = client.Handshake()
			if err == nil {
				_, err = client.Write([]byte{1})
			}
			sErr := <-serverErr
			if tt.wantErr != "" {
				if err == nil && sErr == nil {
					t.Fatalf("handshake succeeded, want an error containing %q", tt.wantErr)
				}
				if !strings.Contains(errString(err)+" "+errString(sErr), tt.wantErr) {
					t.Fatalf("client err %v, server err %v: want %q", err, sErr, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("client: %v (server: %v)", err, sErr)
			}
			peers := server.ConnectionState().PeerCertificates
			if len(peers) == 0 || peers[0].Subject.String() != tt.wantPeer {
				t.Fatalf("server sees peer %v, want %s", peers, tt.wantPeer)
			}
		})
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
