package dist

// This file owns the apache source: downloading the official release tarball from
// a list of mirrors, checking it against its published SHA-512, and unpacking it
// without letting any entry land outside the runtime dir.

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// No overall timeout: the tarball is over 100 MB and the caller's context
	// bounds the whole install. A mirror that never answers should still fail.
	t.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: t}
}

// fetchApache unpacks the release tarball into tmp, so that tmp/libs holds the jars.
func (in *installer) fetchApache(ctx context.Context, tmp string) error {
	name := "kafka_2.13-" + in.version + ".tgz"
	archive := filepath.Join(tmp, ".download-"+name)
	var notFound []string
	var failures []error
	downloaded := false
	for _, mirror := range in.mirrors {
		url := strings.TrimRight(mirror, "/") + "/" + in.version + "/" + name
		in.logf("Fetching Kafka %s from %s...", in.version, url)
		err := in.download(ctx, url, archive)
		if err == nil {
			downloaded = true
			break
		}
		if ctx.Err() != nil {
			return fmt.Errorf("download %s: %w", url, ctx.Err())
		}
		var status *statusError
		var transfer *transferError
		switch {
		case errors.As(err, &status) && status.code == http.StatusNotFound:
			notFound = append(notFound, url)
		case errors.As(err, &status), errors.As(err, &transfer):
			failures = append(failures, err)
		default:
			// A bad checksum or a local problem: another mirror would not fix it.
			return err
		}
	}
	if !downloaded {
		if len(failures) == 0 {
			return &reasonError{
				msg:  fmt.Sprintf("Kafka %s is not on the Apache mirrors (check the version; tried %s)", in.version, strings.Join(notFound, ", ")),
				kind: ErrUnknownVersion,
			}
		}
		return &reasonError{
			msg:   fmt.Sprintf("cannot download Kafka %s from the Apache mirrors (check the network, set KRAFTLAB_APACHE_MIRROR, or use --source maven / --kafka-home DIR)", in.version),
			kind:  ErrUnreachable,
			cause: errors.Join(failures...),
		}
	}
	in.logf("Unpacking %s...", name)
	if err := unpack(archive, tmp, "kafka_2.13-"+in.version+"/"); err != nil {
		return fmt.Errorf("unpack %s: %w", name, err)
	}
	if err := os.Remove(archive); err != nil {
		return fmt.Errorf("remove %s: %w", name, err)
	}
	return nil
}

// statusError is a mirror answering something other than 200 OK.
type statusError struct {
	url    string
	code   int
	status string
}

func (e *statusError) Error() string { return "GET " + e.url + ": " + e.status }

// transferError is a mirror failing to deliver (no connection, reset mid-body); the
// next mirror may do better, unlike with local errors.
type transferError struct{ err error }

func (e *transferError) Error() string { return e.err.Error() }
func (e *transferError) Unwrap() error { return e.err }

func (in *installer) get(ctx context.Context, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("bad mirror URL: %w", err)
	}
	resp, err := in.client.Do(req)
	if err != nil {
		return nil, &transferError{err}
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, &statusError{url: url, code: resp.StatusCode, status: resp.Status}
	}
	return resp, nil
}

// download writes url to dst and checks it against url+".sha512". The checksum is
// fetched first: a mirror without one is no use, and nothing big is read in vain.
func (in *installer) download(ctx context.Context, url, dst string) error {
	want, err := in.publishedSHA512(ctx, url+".sha512")
	if err != nil {
		return err
	}
	resp, err := in.get(ctx, url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer f.Close()
	file := &recordingWriter{w: f}
	hash := sha512.New()
	progress := &progressWriter{out: in.progress, total: resp.ContentLength}
	if _, err := io.Copy(io.MultiWriter(file, hash, progress), resp.Body); err != nil {
		if file.err != nil {
			return fmt.Errorf("download %s: %w", url, file.err)
		}
		return &transferError{fmt.Errorf("download %s: %w", url, err)}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("download %s: %w", url, err)
	}
	got := hex.EncodeToString(hash.Sum(nil))
	if got != want {
		return &reasonError{
			msg:  fmt.Sprintf("%s does not match its published SHA-512, refusing to install it (expected %s, got %s)", url, want, got),
			kind: ErrChecksumMismatch,
		}
	}
	in.logf("Verified SHA-512 of %s", filepath.Base(url))
	return nil
}

func (in *installer) publishedSHA512(ctx context.Context, url string) (string, error) {
	resp, err := in.get(ctx, url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	// A checksum file is a few hundred bytes; anything near the limit is not one.
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", &transferError{fmt.Errorf("download %s: %w", url, err)}
	}
	sum, err := ParseSHA512(data)
	if err != nil {
		return "", fmt.Errorf("%s: %w", url, err)
	}
	return sum, nil
}

// ParseSHA512 extracts the lower-case hex digest from a checksum file: Apache's
// `gpg --print-md sha512` format ("file: 1A2B3C4D 5E6F...", upper case, grouped,
// wrapped over lines) or the `sha512sum` format ("<hex>  file").
func ParseSHA512(data []byte) (string, error) {
	text := strings.TrimSpace(string(data))
	fields := strings.Fields(text)
	if len(fields) == 0 {
		return "", errors.New("empty SHA-512 checksum file")
	}
	if isSHA512Hex(fields[0]) {
		return strings.ToLower(fields[0]), nil
	}
	if _, digest, ok := strings.Cut(text, ":"); ok {
		digest = strings.Join(strings.Fields(digest), "")
		if isSHA512Hex(digest) {
			return strings.ToLower(digest), nil
		}
	}
	return "", errors.New("not a SHA-512 checksum file: want 128 hex digits as written by sha512sum or gpg --print-md")
}

func isSHA512Hex(s string) bool {
	if len(s) != 2*sha512.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// recordingWriter remembers a write error, so a failed copy can be blamed on the
// local disk rather than on the mirror.
type recordingWriter struct {
	w   io.Writer
	err error
}

func (r *recordingWriter) Write(p []byte) (int, error) {
	n, err := r.w.Write(p)
	if err != nil {
		r.err = err
	}
	return n, err
}

// progressWriter prints a line per 10% downloaded, or per 16 MB when the size is
// unknown; lines rather than a redrawn bar because progress may go to a log.
type progressWriter struct {
	out      io.Writer
	total    int64 // <= 0 when the server sent no Content-Length
	done     int64
	reported int64 // percent, or bytes when total is unknown
}

const progressUnknownStep = 16 << 20

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.total > 0 {
		for pct := p.done * 100 / p.total; p.reported+10 <= pct; {
			p.reported += 10
			fmt.Fprintf(p.out, "  %3d%% of %.1f MB\n", p.reported, float64(p.total)/1e6)
		}
		return len(b), nil
	}
	for p.reported+progressUnknownStep <= p.done {
		p.reported += progressUnknownStep
		fmt.Fprintf(p.out, "  %.1f MB\n", float64(p.reported)/1e6)
	}
	return len(b), nil
}

// unpack extracts a gzipped tar into dest, keeping only what is under prefix (the
// tarball's top-level dir) and stripping it. Every path is checked to stay local,
// and writes go through an os.Root, so neither "../" nor a symlink planted by an
// earlier entry can reach outside dest.
func unpack(archive, dest, prefix string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	defer gz.Close()
	root, err := os.OpenRoot(dest)
	if err != nil {
		return err
	}
	defer root.Close()

	tr := tar.NewReader(gz)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		rel, err := entryPath(hdr.Name, prefix)
		if err != nil {
			return err
		}
		if rel == "" {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeDir:
			// Fixed mode: a read-only dir from the archive would make the cache entry
			// impossible to remove without chmod.
			err = root.MkdirAll(rel, 0o755)
		case tar.TypeReg:
			err = writeEntry(root, rel, hdr, tr)
		case tar.TypeSymlink:
			if filepath.IsAbs(hdr.Linkname) || !filepath.IsLocal(filepath.Join(filepath.Dir(rel), hdr.Linkname)) {
				return fmt.Errorf("refusing tar entry %q: link target %q is outside the runtime dir", hdr.Name, hdr.Linkname)
			}
			if err = root.MkdirAll(filepath.Dir(rel), 0o755); err == nil {
				err = root.Symlink(hdr.Linkname, rel)
			}
		case tar.TypeLink:
			var target string
			if target, err = entryPath(hdr.Linkname, prefix); err == nil {
				if err = root.MkdirAll(filepath.Dir(rel), 0o755); err == nil {
					err = root.Link(target, rel)
				}
			}
		default:
			// Devices and fifos have no place in a Java runtime; skipping them is safer
			// than failing on an archive that is otherwise fine.
			continue
		}
		if err != nil {
			return fmt.Errorf("extract %q: %w", hdr.Name, err)
		}
	}
}

// entryPath turns an archive name into a path relative to the runtime dir: "" for
// the top-level dir itself, an error for anything outside prefix or escaping it.
func entryPath(name, prefix string) (string, error) {
	name = strings.TrimPrefix(name, "./")
	if name == strings.TrimSuffix(prefix, "/") {
		return "", nil
	}
	rel, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return "", fmt.Errorf("refusing tar entry %q: not under %s", name, prefix)
	}
	rel = strings.TrimSuffix(rel, "/")
	if rel == "" {
		return "", nil
	}
	if !filepath.IsLocal(rel) {
		return "", fmt.Errorf("refusing tar entry %q: path escapes the runtime dir", name)
	}
	return filepath.Clean(rel), nil
}

func writeEntry(root *os.Root, rel string, hdr *tar.Header, r io.Reader) error {
	if err := root.MkdirAll(filepath.Dir(rel), 0o755); err != nil {
		return err
	}
	// O_EXCL: an entry never overwrites an earlier one, nor the download itself.
	f, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, hdr.FileInfo().Mode().Perm()|0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
