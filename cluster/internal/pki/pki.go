// Package pki issues the certificates of a secured lab: one lab CA, a certificate per
// node (server and client at once, for TLS between nodes) and one per named client,
// and writes them as the PEM files that Kafka's PEM stores read (KIP-651).
//
// Keys are ECDSA P-256: Kafka's PEM keystore turns an unencrypted PKCS#8 key into a
// Java key with the first of the RSA, DSA and EC key factories that accepts it, and
// Java 17, librdkafka and Go all speak TLS with ECDSA certificates. P-256 keys are
// generated in microseconds where RSA 2048 takes tens of milliseconds per node.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"regexp"
	"strconv"
	"time"
)

// Validity of the lab CA and of every certificate it issues. A lab is not a
// production system: certificates that outlive it spare the user a renewal story.
const Validity = 10 * 365 * 24 * time.Hour

// backdate lets a certificate issued a moment ago be valid on a clock that is a
// little behind.
const backdate = time.Hour

// CA is a lab's certificate authority: a self-signed certificate and its key.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Cert is a certificate issued by a lab CA, with its private key.
type Cert struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// Name rules for a client certificate's common name: it becomes the Kafka principal
// (User:CN=NAME, or User:NAME under the mapping rule PrincipalMappingRules), so it
// keeps to characters that need no escaping in a distinguished name and that a
// SCRAM or PLAIN user name may hold too.
var clientNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// PrincipalMappingRules is the ssl.principal.mapping.rules value that maps a lab
// certificate's subject "CN=NAME" to the principal User:NAME, so a client has the
// same principal whether it authenticates with a certificate or with a password.
const PrincipalMappingRules = "RULE:^CN=([^,]+)$/$1/,DEFAULT"

// NodeName is the common name of node id's certificate. Without mapping rules Kafka
// derives the principal User:CN=node<id> from it.
func NodeName(id int) string { return "node" + strconv.Itoa(id) }

// NewCA creates a self-signed CA for lab, valid from now for Validity.
func NewCA(lab string, now time.Time) (*CA, error) {
	if lab == "" {
		return nil, errors.New("create lab CA: empty lab name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("create lab CA: generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, fmt.Errorf("create lab CA: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "kraftlab " + lab + " CA"},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(Validity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		// The CA signs leaf certificates only, never another CA.
		MaxPathLenZero: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("create lab CA: sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("create lab CA: %w", err)
	}
	return &CA{Cert: cert, Key: key}, nil
}

// IssueNode issues node id's certificate: subject CN=node<id>, usable for both ends
// of a TLS connection (a node is a server to clients and a client to other nodes),
// with a SAN for every host, each an IP address or a DNS name.
func (ca *CA) IssueNode(id int, hosts []string, now time.Time) (*Cert, error) {
	if id < 0 {
		return nil, fmt.Errorf("issue node certificate: node id %d is negative", id)
	}
	if len(hosts) == 0 {
		return nil, fmt.Errorf("issue certificate for node %d: no host names: give every host and IP clients connect to (e.g. localhost, 127.0.0.1)", id)
	}
	dns, ips, err := splitHosts(hosts)
	if err != nil {
		return nil, fmt.Errorf("issue certificate for node %d: %w", id, err)
	}
	c, err := ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: NodeName(id)},
		DNSNames:    dns,
		IPAddresses: ips,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}, now)
	if err != nil {
		return nil, fmt.Errorf("issue certificate for node %d: %w", id, err)
	}
	return c, nil
}

// IssueClient issues a client certificate with subject CN=name, good only for the
// client end of a connection.
func (ca *CA) IssueClient(name string, now time.Time) (*Cert, error) {
	if !clientNameRE.MatchString(name) {
		return nil, fmt.Errorf("issue client certificate: name %q: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	if nodeNameRE.MatchString(name) {
		return nil, fmt.Errorf("issue client certificate: name %q is a node's name, which would make the client a super user; pick another", name)
	}
	c, err := ca.issue(&x509.Certificate{
		Subject:     pkix.Name{CommonName: name},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, now)
	if err != nil {
		return nil, fmt.Errorf("issue client certificate %q: %w", name, err)
	}
	return c, nil
}

var nodeNameRE = regexp.MustCompile(`^node[0-9]+$`)

// issue fills in what every leaf certificate shares and signs tmpl with a fresh key.
func (ca *CA) issue(tmpl *x509.Certificate, now time.Time) (*Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore = now.Add(-backdate)
	tmpl.NotAfter = now.Add(Validity)
	// A leaf must not outlive its CA: the chain would stop verifying first.
	if tmpl.NotAfter.After(ca.Cert.NotAfter) {
		tmpl.NotAfter = ca.Cert.NotAfter
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, key.Public(), ca.Key)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Cert{Cert: cert, Key: key}, nil
}

// Verify checks that c was issued by this CA, is valid at now, and that its key
// belongs to its certificate, so a certificate from another CA (or a key from
// another certificate) is refused before Kafka would fail the handshake with it.
func (ca *CA) Verify(c *Cert, now time.Time) error {
	roots := x509.NewCertPool()
	roots.AddCert(ca.Cert)
	_, err := c.Cert.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		var unknown x509.UnknownAuthorityError
		if errors.As(err, &unknown) {
			return fmt.Errorf("certificate %q (issuer %q) was not issued by this lab's CA %q: %w",
				c.Cert.Subject.String(), c.Cert.Issuer.String(), ca.Cert.Subject.String(), err)
		}
		return fmt.Errorf("certificate %q: %w", c.Cert.Subject.String(), err)
	}
	if err := keyMatches(c.Cert, c.Key); err != nil {
		return fmt.Errorf("certificate %q: %w", c.Cert.Subject.String(), err)
	}
	return nil
}

// keyMatches reports whether key is the private half of cert's public key.
func keyMatches(cert *x509.Certificate, key crypto.Signer) error {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return errors.New("the private key does not belong to the certificate")
	}
	return nil
}

// splitHosts sorts host names into DNS and IP SANs. An unspecified address
// (0.0.0.0, ::) is refused: it is where a listener binds, never what a client
// connects to, so hostname verification could never match it.
// Every bad host is reported, not only the first.
func splitHosts(hosts []string) ([]string, []net.IP, error) {
	var dns []string
	var ips []net.IP
	var bad []error
	seen := map[string]bool{}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			if ip.IsUnspecified() {
				bad = append(bad, fmt.Errorf("host %q is the any-address a listener binds, not one clients connect to: name the advertised address instead", h))
				continue
			}
			if !seen[ip.String()] {
				seen[ip.String()] = true
				ips = append(ips, ip)
			}
			continue
		}
		if !validDNSName(h) {
			bad = append(bad, fmt.Errorf("host %q is neither an IP address nor a DNS name", h))
			continue
		}
		if !seen[h] {
			seen[h] = true
			dns = append(dns, h)
		}
	}
	if len(bad) > 0 {
		return nil, nil, errors.Join(bad...)
	}
	return dns, ips, nil
}

var dnsLabelRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)

func validDNSName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	start := 0
	for i := 0; i <= len(h); i++ {
		if i == len(h) || h[i] == '.' {
			if !dnsLabelRE.MatchString(h[start:i]) {
				return false
			}
			start = i + 1
		}
	}
	return true
}

// newSerial returns a random positive 128-bit serial number, unique without
// keeping a counter.
func newSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, fmt.Errorf("serial number: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}
