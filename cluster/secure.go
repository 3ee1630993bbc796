package cluster

// This file owns a secured lab's material: its CA and certificates, the passwords
// of its users, what the renderer gets from them, and the client settings
// kraftlab's own commands (and client-config) connect with.

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/magiconair/properties"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/kraftlab/kraftlab/cluster/internal/kraft"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/internal/pki"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
)

// PKIDir is where a secured lab keeps its CA and certificates.
func (l *Lab) PKIDir() string { return filepath.Join(l.dir.Path, "pki") }

// secretsFile holds the lab's passwords, one user=password per line, 0600.
func (l *Lab) secretsFile() string { return filepath.Join(l.dir.Path, "secrets", "passwords") }

// newPassword is 24 random letters and digits: no character that a JAAS line, a
// SCRAM argument or a properties file would need to escape.
func newPassword() (string, error) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}

// validPassword is nil for a password kraftlab can pass to Kafka unescaped.
func validPassword(p string) error {
	if len(p) < 8 || strings.ContainsAny(p, "\"\\,[]=\n\r\t ") {
		return errors.New("want at least 8 characters, none of quotes, backslashes, commas, brackets, '=' or white space (they would need escaping in JAAS and SCRAM configuration)")
	}
	return nil
}

// passwords reads the lab's passwords; a lab without security has none.
func (l *Lab) passwords() (map[string]string, error) {
	b, err := os.ReadFile(l.secretsFile())
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the lab's passwords: %w", err)
	}
	p, err := properties.Load(b, properties.UTF8)
	if err != nil {
		return nil, fmt.Errorf("read the lab's passwords: %w", err)
	}
	return p.Map(), nil
}

// savePasswords writes the lab's passwords, readable by the owner only.
func (l *Lab) savePasswords(pw map[string]string) error {
	dir := filepath.Dir(l.secretsFile())
	if err := l.dir.MkdirNode(dir); err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("# The lab's users and their passwords (user=password). Keep it private.\n")
	for _, u := range slices.Sorted(maps.Keys(pw)) {
		fmt.Fprintf(&b, "%s=%s\n", u, pw[u])
	}
	return labdir.WriteFile(l.secretsFile(), []byte(b.String()), 0o600)
}

// prepareSecurity makes a new secured lab's material: its CA, a certificate for
// every node and for admin (when TLS is on), and passwords for admin, the nodes
// and every user of the spec (when SASL is).
func (o *op) prepareSecurity() error {
	sec := o.spec.Security
	if !sec.Secured() {
		return nil
	}
	if sec.UsesTLS() {
		ca, err := pki.NewCA(o.Name(), time.Now())
		if err != nil {
			return err
		}
		if err := ca.Save(o.PKIDir()); err != nil {
			return err
		}
		for _, n := range o.nodes() {
			if err := o.issueNodeCert(ca, n); err != nil {
				return err
			}
		}
		names := []string{AdminUser}
		if sec.ClientCertificates() {
			for _, u := range sec.Users {
				names = append(names, u.Name)
			}
		}
		for _, name := range names {
			if err := issueClientCert(ca, o.PKIDir(), name); err != nil {
				return err
			}
		}
	}
	pw, err := NewPasswords(*sec)
	if err != nil || len(pw) == 0 {
		return err
	}
	return o.savePasswords(pw)
}

// NewPasswords makes a password for every SASL identity of a secured lab: admin,
// the nodes' principal and every user of the spec. A lab without SASL (TLS alone)
// has none.
func NewPasswords(sec SecuritySpec) (map[string]string, error) {
	if !sec.Secured() || (sec.SASL() == "" && sec.UsesTLS()) {
		return map[string]string{}, nil
	}
	pw := map[string]string{}
	for _, u := range append([]UserSpec{{Name: AdminUser}, {Name: NodePrincipal}}, sec.Users...) {
		p, err := newPassword()
		if err != nil {
			return nil, err
		}
		pw[u.Name] = p
	}
	return pw, nil
}

// issueNodeCert writes node n's certificate, its SANs every address a client or
// another node may dial it by.
func (l *Lab) issueNodeCert(ca *pki.CA, n node) error {
	hosts := []string{"localhost", "127.0.0.1"}
	if !slices.Contains(hosts, n.Host) {
		hosts = append(hosts, n.Host)
	}
	c, err := ca.IssueNode(n.ID, hosts, time.Now())
	if err != nil {
		return fmt.Errorf("node %d certificate: %w", n.ID, err)
	}
	_, err = ca.SaveCert(l.PKIDir(), pki.NodeName(n.ID), c, time.Now())
	return err
}

func issueClientCert(ca *pki.CA, dir, name string) error {
	c, err := ca.IssueClient(name, time.Now())
	if err != nil {
		return err
	}
	_, err = ca.SaveCert(dir, name, c, time.Now())
	return err
}

// renderSecurity is what the renderer needs of the lab's security; nil for a
// plaintext lab.
func (l *Lab) renderSecurity() (*render.Security, error) {
	sec := l.spec.Security
	if !sec.Secured() {
		return nil, nil
	}
	pw, err := l.passwords()
	if err != nil {
		return nil, err
	}
	if len(pw) == 0 {
		// A lab not created yet (render, export): its passwords are still to be made.
		for _, u := range append([]UserSpec{{Name: AdminUser}, {Name: NodePrincipal}}, sec.Users...) {
			pw[u.Name] = "<" + u.Name + "-password>"
		}
	}
	return RenderSecurity(*sec, pw, l.PKIDir()), nil
}

// RenderSecurity is what the renderer needs to secure a lab's listeners by sec,
// with the identities' passwords pw and the CA and node keystores in pkiDir; nil
// for a plaintext lab. An export renders the same lab for other hosts with its
// own passwords and directory.
func RenderSecurity(sec SecuritySpec, pw map[string]string, pkiDir string) *render.Security {
	if !sec.Secured() {
		return nil
	}
	r := &render.Security{
		ClientProtocol: "SSL", ControllerProtocol: "SSL", ClientAuth: "none",
		Mechanism: sec.SASL(), Authorization: sec.Authorization, PKIDir: pkiDir,
		NodePrincipal: NodePrincipal, NodePassword: pw[NodePrincipal],
		SuperUsers: []string{NodePrincipal, AdminUser},
	}
	switch {
	case sec.ClientCertificates():
		r.ClientAuth = "required"
	case sec.SASL() != "" && sec.UsesTLS():
		r.ClientProtocol = "SASL_SSL"
	case sec.SASL() != "":
		r.ClientProtocol, r.ControllerProtocol = "SASL_PLAINTEXT", "SASL_PLAINTEXT"
		r.ControllerUsers = map[string]string{NodePrincipal: pw[NodePrincipal], AdminUser: pw[AdminUser]}
	}
	if sec.SASL() == "PLAIN" {
		r.PlainUsers = map[string]string{}
		for _, u := range append([]UserSpec{{Name: AdminUser}, {Name: NodePrincipal}}, sec.Users...) {
			r.PlainUsers[u.Name] = pw[u.Name]
		}
	}
	return r
}

// scramArgs are the StorageTool flags that create the SCRAM users before the first
// start (their credentials live in the metadata log): the nodes', admin's and every
// user's of the spec.
func (l *Lab) scramArgs() ([]string, error) {
	if l.spec.Security.SASL() != "SCRAM-SHA-512" {
		return nil, nil
	}
	pw, err := l.passwords()
	if err != nil {
		return nil, err
	}
	return ScramArgs(pw), nil
}

// ScramArgs are the StorageTool flags (kafka-storage.sh format --add-scram) that
// create a SCRAM-SHA-512 user for every user=password of pw, in name order.
func ScramArgs(pw map[string]string) []string {
	var args []string
	for _, u := range slices.Sorted(maps.Keys(pw)) {
		args = append(args, "--add-scram", fmt.Sprintf("SCRAM-SHA-512=[name=%s,password=%s]", u, pw[u]))
	}
	return args
}

// ClientOpts are the franz-go options that connect to the lab's brokers as user
// (admin when ""): TLS trusting the lab's CA, the user's certificate on an mTLS
// lab, the user's SASL credentials on a SASL lab. A plaintext lab needs none.
func (l *Lab) ClientOpts(user string) ([]kgo.Opt, error) {
	sec := l.spec.Security
	if !sec.Secured() {
		return nil, nil
	}
	if user == "" {
		user = AdminUser
	}
	if !sec.HasUser(user) {
		return nil, fmt.Errorf("lab %q has no user %q (users: %s); 'kraftlab user add %s' adds one", l.Name(), user, strings.Join(l.userNames(), ", "), user)
	}
	var opts []kgo.Opt
	if sec.UsesTLS() {
		cfg, err := l.tlsConfig(user, sec.ClientCertificates())
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.Dialer(kraft.TLSDialer(cfg)))
	}
	if mech := sec.SASL(); mech != "" {
		pw, err := l.passwords()
		if err != nil {
			return nil, err
		}
		p, ok := pw[user]
		if !ok {
			return nil, fmt.Errorf("lab %q keeps no password for %q", l.Name(), user)
		}
		if mech == "PLAIN" {
			opts = append(opts, kgo.SASL(plain.Auth{User: user, Pass: p}.AsMechanism()))
		} else {
			opts = append(opts, kgo.SASL(scram.Auth{User: user, Pass: p}.AsSha512Mechanism()))
		}
	}
	return opts, nil
}

// controllerOpts connect to the controller listeners as admin: with admin's
// certificate over mTLS, or PLAIN without TLS.
func (l *Lab) controllerOpts() ([]kgo.Opt, error) {
	sec := l.spec.Security
	switch {
	case !sec.Secured():
		return nil, nil
	case sec.UsesTLS():
		cfg, err := l.tlsConfig(AdminUser, true)
		if err != nil {
			return nil, err
		}
		return []kgo.Opt{kgo.Dialer(kraft.TLSDialer(cfg))}, nil
	}
	pw, err := l.passwords()
	if err != nil {
		return nil, err
	}
	return []kgo.Opt{kgo.SASL(plain.Auth{User: AdminUser, Pass: pw[AdminUser]}.AsMechanism())}, nil
}

// tlsConfig trusts the lab's CA and, with withCert, presents user's certificate.
// Hostname verification stays on: franz-go checks each broker's certificate
// against the host it dials.
func (l *Lab) tlsConfig(user string, withCert bool) (*tls.Config, error) {
	caPEM, err := os.ReadFile(filepath.Join(l.PKIDir(), pki.CACertFile))
	if err != nil {
		return nil, fmt.Errorf("lab %q's CA: %w", l.Name(), err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("lab %q's CA %s holds no certificate", l.Name(), pki.CACertFile)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if withCert {
		f := pki.FilesOf(l.PKIDir(), user)
		c, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("certificate of %q: %w ('kraftlab cert issue %s' makes one)", user, err, user)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// userNames lists admin and the spec's users.
func (l *Lab) userNames() []string {
	names := []string{AdminUser}
	if l.spec.Security != nil {
		for _, u := range l.spec.Security.Users {
			names = append(names, u.Name)
		}
	}
	return names
}
