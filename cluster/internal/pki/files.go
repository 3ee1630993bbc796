// PEM encoding and the files of a lab's certificate directory.
package pki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// Files of the CA in a certificate directory. CACertFile is the truststore every
// node and client uses (ssl.truststore.type=PEM, ssl.truststore.location).
const (
	CACertFile = "ca.crt"
	CAKeyFile  = "ca.key"
)

// Files are where one issued certificate lives in a certificate directory.
type Files struct {
	Cert     string // NAME.crt: the certificate alone (librdkafka ssl.certificate.location)
	Key      string // NAME.key: its key, unencrypted PKCS#8 (librdkafka ssl.key.location)
	Keystore string // NAME-keystore.pem: key, certificate, CA (Kafka ssl.keystore.type=PEM)
}

// FilesOf names the files of certificate name in dir.
func FilesOf(dir, name string) Files {
	return Files{
		Cert:     filepath.Join(dir, name+".crt"),
		Key:      filepath.Join(dir, name+".key"),
		Keystore: filepath.Join(dir, name+"-keystore.pem"),
	}
}

// File modes: certificates are public, keys and keystores readable by the owner only.
const (
	certMode = 0o644
	keyMode  = 0o600
)

// EncodeCert returns cert as a PEM "CERTIFICATE" block.
func EncodeCert(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// EncodeKey returns key as an unencrypted PKCS#8 "PRIVATE KEY" block, the only
// unencrypted form Kafka's PEM keystore reads.
func EncodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// Keystore returns what ssl.keystore.location of type PEM expects: the private key,
// then the certificate chain from c up to the CA.
func (ca *CA) Keystore(c *Cert) ([]byte, error) {
	key, err := EncodeKey(c.Key)
	if err != nil {
		return nil, err
	}
	out := append(key, EncodeCert(c.Cert)...)
	return append(out, EncodeCert(ca.Cert)...), nil
}

// Save writes the CA to dir (created 0700 if missing) as CACertFile and CAKeyFile.
// It refuses to replace an existing CA: every certificate of the lab hangs on it.
func (ca *CA) Save(dir string) error {
	key, err := EncodeKey(ca.Key)
	if err != nil {
		return fmt.Errorf("save lab CA: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save lab CA: %w", err)
	}
	// The key first, and taken back if the certificate cannot follow: a directory
	// with a CA certificate but no key is a CA that can never issue again.
	if err := writeFile(dir, CAKeyFile, key, keyMode, false); err != nil {
		return fmt.Errorf("save lab CA: %w", err)
	}
	if err := writeFile(dir, CACertFile, EncodeCert(ca.Cert), certMode, false); err != nil {
		os.Remove(filepath.Join(dir, CAKeyFile))
		return fmt.Errorf("save lab CA: %w", err)
	}
	return nil
}

// LoadCA reads the CA that Save wrote to dir, and checks that it is a CA and that
// its key belongs to its certificate.
func LoadCA(dir string) (*CA, error) {
	c, err := ReadCert(filepath.Join(dir, CACertFile), filepath.Join(dir, CAKeyFile))
	if err != nil {
		return nil, fmt.Errorf("load lab CA: %w", err)
	}
	if !c.Cert.IsCA || c.Cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("load lab CA: %s in %s is not a CA certificate", CACertFile, dir)
	}
	return &CA{Cert: c.Cert, Key: c.Key}, nil
}

// SaveCert writes c, issued by ca, to dir as the files FilesOf(dir, name), replacing
// older ones. A certificate from another CA is refused.
func (ca *CA) SaveCert(dir, name string, c *Cert, now time.Time) (Files, error) {
	f := FilesOf(dir, name)
	if err := ca.Verify(c, now); err != nil {
		return f, fmt.Errorf("save certificate %s: %w", name, err)
	}
	key, err := EncodeKey(c.Key)
	if err != nil {
		return f, fmt.Errorf("save certificate %s: %w", name, err)
	}
	keystore, err := ca.Keystore(c)
	if err != nil {
		return f, fmt.Errorf("save certificate %s: %w", name, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return f, fmt.Errorf("save certificate %s: %w", name, err)
	}
	for _, w := range []struct {
		path string
		data []byte
		mode fs.FileMode
	}{
		{f.Key, key, keyMode},
		{f.Cert, EncodeCert(c.Cert), certMode},
		{f.Keystore, keystore, keyMode},
	} {
		if err := writeFile(dir, filepath.Base(w.path), w.data, w.mode, true); err != nil {
			return f, fmt.Errorf("save certificate %s: %w", name, err)
		}
	}
	return f, nil
}

// LoadCert reads the certificate that SaveCert wrote to dir as name.
func LoadCert(dir, name string) (*Cert, error) {
	f := FilesOf(dir, name)
	return ReadCert(f.Cert, f.Key)
}

// ReadCert reads a certificate (the first CERTIFICATE block of certFile) and its
// private key (PKCS#8, or the older EC and PKCS#1 RSA forms) and checks that they
// belong together. Whether the certificate is the lab's is CA.Verify's question.
func ReadCert(certFile, keyFile string) (*Cert, error) {
	certPEM, err := readFile(certFile)
	if err != nil {
		return nil, err
	}
	cert, err := parseCert(certPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", certFile, err)
	}
	keyPEM, err := readFile(keyFile)
	if err != nil {
		return nil, err
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	if err := keyMatches(cert, key); err != nil {
		return nil, fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	return &Cert{Cert: cert, Key: key}, nil
}

func parseCert(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM CERTIFICATE block")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

func parseKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM PRIVATE KEY block")
		}
		var key any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the private key is encrypted: give an unencrypted key (openssl pkcs8 -topk8 -nocrypt)")
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", b.Type, err)
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported %s type %T", b.Type, key)
		}
		return signer, nil
	}
}

// readFile reads a file without following a symlink at its last element, so a
// link planted in a lab directory cannot make kraftlab read (and later rewrite)
// a key from elsewhere.
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("read %s: is a symbolic link; certificates and keys are read only from regular files", path)
		}
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", path)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// writeFile writes data to dir/name with mode. The data goes to a new temporary file
// in dir (created exclusively, mode 0600 from the start, so a key is never readable
// by others even for a moment), then takes the final name: by rename when replace
// is set, by link otherwise, which fails if the name exists. Neither rename nor link
// follows a symlink at the final name: a planted link is replaced, not written through.
func writeFile(dir, name string, data []byte, mode fs.FileMode, replace bool) error {
	final := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", final, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", final, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", final, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", final, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", final, err)
	}
	if replace {
		err = os.Rename(tmp.Name(), final)
	} else {
		err = os.Link(tmp.Name(), final)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("write %s: already exists; remove it first to replace it", final)
		}
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", final, err)
	}
	return nil
}
