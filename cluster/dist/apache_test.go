package dist

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// gpgSHA512 renders sum the way `gpg --print-md sha512 name` does for Apache
// releases: upper-case hex in groups of 8, wrapped and indented under the name.
func gpgSHA512(name string, sum []byte) []byte {
	h := strings.ToUpper(hex.EncodeToString(sum))
	var groups []string
	for i := 0; i < len(h); i += 8 {
		groups = append(groups, h[i:i+8])
	}
	indent := strings.Repeat(" ", len(name)+2)
	return []byte(name + ": " + strings.Join(groups[:6], " ") + "\n" +
		indent + strings.Join(groups[6:12], " ") + "\n" +
		indent + strings.Join(groups[12:], " ") + "\n")
}

func TestParseSHA512(t *testing.T) {
	sum := sha512.Sum512([]byte("kafka"))
	want := hex.EncodeToString(sum[:])
	tests := []struct {
		name    string
		data    []byte
		want    string
		wantErr bool
	}{
		{name: "apache gpg print-md", data: gpgSHA512("kafka_2.13-4.1.1.tgz", sum[:]), want: want},
		{name: "gpg with CRLF line ends", data: bytes.ReplaceAll(gpgSHA512("kafka_2.13-4.1.1.tgz", sum[:]), []byte("\n"), []byte("\r\n")), want: want},
		{name: "sha512sum text mode", data: []byte(want + "  kafka_2.13-4.1.1.tgz\n"), want: want},
		{name: "sha512sum binary mode upper case", data: []byte(strings.ToUpper(want) + " *kafka_2.13-4.1.1.tgz\n"), want: want},
		{name: "bare digest", data: []byte(want), want: want},
		{name: "empty", data: nil, wantErr: true},
		{name: "html error page", data: []byte("<html><body>Not Found</body></html>"), wantErr: true},
		{name: "truncated digest", data: []byte("kafka.tgz: " + strings.ToUpper(want[:100])), wantErr: true},
		{name: "sha256 digest", data: []byte(strings.Repeat("ab", 32) + "  kafka.tgz"), wantErr: true},
		{name: "non-hex", data: []byte("kafka.tgz: " + strings.Repeat("ZZ", 64)), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSHA512(tt.data)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseSHA512() = %q, want error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseSHA512() error: %v", err)
			}
			if got != tt.want {
				t.Errorf("ParseSHA512() = %q, want %q", got, tt.want)
			}
		})
	}
}

type tarEntry struct {
	name string
	body string
	typ  byte   // tar.TypeReg when 0
	link string // for links
	mode int64
}

func buildTarball(t *testing.T, entries []tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.link, Mode: e.mode}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// kafkaEntries is the shape of an official release tarball, shrunk: one top dir,
// a libs/ with the kafka jar, a script.
func kafkaEntries(version string) []tarEntry {
	top := "kafka_2.13-" + version + "/"
	return []tarEntry{
		{name: top, typ: tar.TypeDir, mode: 0o755},
		{name: top + "LICENSE", body: "Apache License"},
		{name: top + "bin/", typ: tar.TypeDir, mode: 0o755},
		{name: top + "bin/kafka-server-start.sh", body: "#!/bin/sh\n", mode: 0o755},
		{name: top + "libs/", typ: tar.TypeDir, mode: 0o755},
		{name: top + "libs/kafka_2.13-" + version + ".jar", body: "not really a jar"},
		{name: top + "libs/kafka-clients-" + version + ".jar", body: "not really a jar either"},
	}
}

// fakeMirror serves files by URL path and counts every request.
type fakeMirror struct {
	files    map[string][]byte
	requests atomic.Int32
	srv      *httptest.Server
}

func newFakeMirror(t *testing.T, files map[string][]byte) *fakeMirror {
	m := &fakeMirror{files: files}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.requests.Add(1)
		b, ok := m.files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(m.srv.Close)
	return m
}

func (m *fakeMirror) base() string { return m.srv.URL + "/kafka" }

// releaseFiles publishes tarball as release version, with a .sha512 over sumOf.
func releaseFiles(version string, tarball, sumOf []byte) map[string][]byte {
	name := "kafka_2.13-" + version + ".tgz"
	sum := sha512.Sum512(sumOf)
	return map[string][]byte{
		"/kafka/" + version + "/" + name:             tarball,
		"/kafka/" + version + "/" + name + ".sha512": gpgSHA512(name, sum[:]),
	}
}

// fakeVerify stands in for `java kafka.Kafka --version`: it reports the version of
// the kafka_2.13 jar in libsDir, so a runtime missing it fails as it would on a JVM.
func fakeVerify(_ context.Context, _, libsDir string) (string, error) {
	jars, _ := filepath.Glob(filepath.Join(libsDir, "kafka_2.13-*.jar"))
	if len(jars) != 1 {
		return "", errors.New("Error: Could not find or load main class kafka.Kafka")
	}
	return versionFromJar(jars[0]), nil
}

// testInstaller is Ensure's installer with a fake JVM, no mvn and an empty
// environment, so tests depend on nothing outside the process.
func testInstaller(t *testing.T, o Options, env map[string]string) *installer {
	t.Helper()
	in, err := newInstaller(o, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("newInstaller: %v", err)
	}
	in.findJava = func() (string, int, error) { return "/fake/jdk/bin/java", 17, nil }
	in.verify = fakeVerify
	in.lookPath = func(string) (string, error) { return "", exec.ErrNotFound }
	return in
}

// listDir lists dir, leaving out the per-version install locks, which stay in
// the cache by design (removing a lock file others may wait on would let two
// installs hold "the" lock at once).
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".lock") {
			continue
		}
		names = append(names, e.Name())
	}
	return names
}

func TestEnsureApacheInstallsThenHitsCache(t *testing.T) {
	const v = "4.1.1"
	tarball := buildTarball(t, kafkaEntries(v))
	m := newFakeMirror(t, releaseFiles(v, tarball, tarball))
	cache := t.TempDir()
	var progress bytes.Buffer
	o := Options{Version: v, CacheDir: cache, Source: SourceAuto, ApacheMirrors: []string{m.base()}, Progress: &progress}

	rt, err := testInstaller(t, o, nil).ensure(context.Background())
	if err != nil {
		t.Fatalf("first ensure: %v", err)
	}
	wantDir := filepath.Join(cache, "kafka-"+v)
	if rt.Origin != OriginApache || rt.Version != v || rt.Dir != wantDir || rt.Java != "/fake/jdk/bin/java" || rt.JavaMajor != 17 {
		t.Errorf("first ensure = %+v, want apache install of %s in %s", rt, v, wantDir)
	}
	if got, want := rt.Classpath(), filepath.Join(wantDir, "libs", "*"); got != want {
		t.Errorf("Classpath() = %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(rt.LibsDir, "kafka_2.13-"+v+".jar")); err != nil {
		t.Errorf("jar not installed: %v", err)
	}
	if info, err := os.Stat(filepath.Join(wantDir, "bin", "kafka-server-start.sh")); err != nil || info.Mode().Perm()&0o100 == 0 {
		t.Errorf("script not installed executable: %v %v", info, err)
	}
	if got := listDir(t, cache); len(got) != 1 || got[0] != "kafka-"+v {
		t.Errorf("cache holds %v, want only kafka-%s", got, v)
	}
	for _, leftover := range []string{installLockName, ".download-kafka_2.13-" + v + ".tgz"} {
		if _, err := os.Stat(filepath.Join(wantDir, leftover)); err == nil {
			t.Errorf("%s left in the runtime dir", leftover)
		}
	}
	for _, line := range []string{"Fetching Kafka 4.1.1 from " + m.base(), "100% of", "Verified SHA-512", "Installed Kafka 4.1.1"} {
		if !strings.Contains(progress.String(), line) {
			t.Errorf("progress lacks %q:\n%s", line, progress.String())
		}
	}

	before := m.requests.Load()
	again, err := testInstaller(t, o, nil).ensure(context.Background())
	if err != nil {
		t.Fatalf("second ensure: %v", err)
	}
	if again.Origin != OriginCache || again.InstalledFrom != OriginApache || again.Dir != wantDir || again.Java == "" {
		t.Errorf("second ensure = %+v, want cache hit", again)
	}
	if n := m.requests.Load() - before; n != 0 {
		t.Errorf("cache hit made %d HTTP requests", n)
	}
}

func TestEnsureApacheFailuresLeaveCacheEmpty(t *testing.T) {
	const v = "4.1.1"
	top := "kafka_2.13-" + v + "/"
	good := buildTarball(t, kafkaEntries(v))
	withEntry := func(e tarEntry) []byte { return buildTarball(t, append(kafkaEntries(v), e)) }
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name     string
		files    map[string][]byte
		mirrors  func(m *fakeMirror) []string
		wantKind error
		wantMsg  []string
	}{
		{
			name:     "checksum mismatch",
			files:    releaseFiles(v, good, []byte("something else")),
			wantKind: ErrChecksumMismatch,
			wantMsg:  []string{"does not match", "expected " + sha512Hex([]byte("something else")), "got " + sha512Hex(good)},
		},
		{
			name:     "unknown version",
			files:    map[string][]byte{},
			wantKind: ErrUnknownVersion,
			wantMsg:  []string{"Kafka 4.1.1 is not on the Apache mirrors", "/kafka/4.1.1/kafka_2.13-4.1.1.tgz"},
		},
		{
			name:     "unreachable mirror",
			files:    map[string][]byte{},
			mirrors:  func(*fakeMirror) []string { return []string{closed.URL} },
			wantKind: ErrUnreachable,
			wantMsg:  []string{"cannot download Kafka 4.1.1", "connection refused"},
		},
		{
			name:    "dot-dot entry",
			files:   releaseFiles(v, withEntry(tarEntry{name: top + "../../evil.txt", body: "x"}), withEntry(tarEntry{name: top + "../../evil.txt", body: "x"})),
			wantMsg: []string{"refusing tar entry", "escapes"},
		},
		{
			name:    "dot-dot inside libs",
			files:   releaseFiles(v, withEntry(tarEntry{name: top + "libs/../../../evil.txt", body: "x"}), withEntry(tarEntry{name: top + "libs/../../../evil.txt", body: "x"})),
			wantMsg: []string{"refusing tar entry", "escapes"},
		},
		{
			name:    "absolute entry",
			files:   releaseFiles(v, withEntry(tarEntry{name: "/tmp/evil.txt", body: "x"}), withEntry(tarEntry{name: "/tmp/evil.txt", body: "x"})),
			wantMsg: []string{"refusing tar entry", "not under"},
		},
		{
			name:    "symlink out of the runtime",
			files:   releaseFiles(v, withEntry(tarEntry{name: top + "libs/escape", typ: tar.TypeSymlink, link: "../../.."}), withEntry(tarEntry{name: top + "libs/escape", typ: tar.TypeSymlink, link: "../../.."})),
			wantMsg: []string{"refusing tar entry", "outside the runtime dir"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newFakeMirror(t, tt.files)
			mirrors := []string{m.base()}
			if tt.mirrors != nil {
				mirrors = tt.mirrors(m)
			}
			parent := t.TempDir()
			cache := filepath.Join(parent, "cache")
			o := Options{Version: v, CacheDir: cache, Source: SourceApache, ApacheMirrors: mirrors}

			rt, err := testInstaller(t, o, nil).ensure(context.Background())
			if err == nil {
				t.Fatalf("ensure = %+v, want error", rt)
			}
			if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
				t.Errorf("error %q is not %v", err, tt.wantKind)
			}
			for _, s := range tt.wantMsg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
			if got := listDir(t, cache); len(got) != 0 {
				t.Errorf("cache holds %v after a failed install, want nothing", got)
			}
			if got := listDir(t, parent); len(got) != 1 {
				t.Errorf("%s holds %v, want only the cache dir", parent, got)
			}
		})
	}
}

func sha512Hex(b []byte) string {
	sum := sha512.Sum512(b)
	return hex.EncodeToString(sum[:])
}

func TestEnsureApacheTriesMirrorsInOrder(t *testing.T) {
	const v = "3.9.1"
	tarball := buildTarball(t, kafkaEntries(v))
	empty := newFakeMirror(t, map[string][]byte{})
	good := newFakeMirror(t, releaseFiles(v, tarball, tarball))
	o := Options{Version: v, CacheDir: t.TempDir(), Source: SourceApache, ApacheMirrors: []string{empty.base(), good.base()}}

	rt, err := testInstaller(t, o, nil).ensure(context.Background())
	if err != nil {
		t.Fatalf("ensure: %v", err)
	}
	if rt.Version != v || rt.Major() != 3 {
		t.Errorf("ensure = %+v, want Kafka %s", rt, v)
	}
	if empty.requests.Load() == 0 {
		t.Error("first mirror was never asked")
	}
}

func TestEnsureConcurrentInstallsFetchOnce(t *testing.T) {
	const v = "4.1.1"
	tarball := buildTarball(t, kafkaEntries(v))
	m := newFakeMirror(t, releaseFiles(v, tarball, tarball))
	cache := t.TempDir()
	o := Options{Version: v, CacheDir: cache, Source: SourceApache, ApacheMirrors: []string{m.base()}}

	// The second install starts while the first is verifying; it must wait for the
	// first instead of fetching the release again, then use what the first cached.
	verifying := make(chan struct{})
	release := make(chan struct{})
	results := make([]*Runtime, 2)
	errs := make([]error, 2)
	var done sync.WaitGroup
	for i := range 2 {
		in := testInstaller(t, o, nil)
		if i == 0 {
			in.verify = func(ctx context.Context, java, libs string) (string, error) {
				close(verifying)
				<-release
				return fakeVerify(ctx, java, libs)
			}
		}
		done.Add(1)
		go func() {
			defer done.Done()
			if i == 1 {
				<-verifying
				time.AfterFunc(300*time.Millisecond, func() { close(release) })
			}
			results[i], errs[i] = in.ensure(context.Background())
		}()
	}
	done.Wait()
	origins := map[string]int{}
	for i := range 2 {
		if errs[i] != nil {
			t.Fatalf("install %d: %v", i, errs[i])
		}
		origins[results[i].Origin]++
		if _, err := os.Stat(filepath.Join(results[i].LibsDir, "kafka_2.13-"+v+".jar")); err != nil {
			t.Errorf("install %d: runtime not usable: %v", i, err)
		}
	}
	if origins[OriginApache] != 1 || origins[OriginCache] != 1 {
		t.Errorf("origins = %v, want one apache install and one reuse", origins)
	}
	for _, name := range listDir(t, cache) {
		if strings.HasPrefix(name, tempDirPrefix) && !strings.HasSuffix(name, ".lock") {
			t.Errorf("cache holds a leftover temp dir %s", name)
		}
	}
}

func TestEntryPath(t *testing.T) {
	const prefix = "kafka_2.13-4.1.1/"
	tests := []struct {
		name    string
		entry   string
		want    string
		wantErr string
	}{
		{name: "top dir", entry: "kafka_2.13-4.1.1/", want: ""},
		{name: "top dir without slash", entry: "kafka_2.13-4.1.1", want: ""},
		{name: "jar", entry: "kafka_2.13-4.1.1/libs/kafka_2.13-4.1.1.jar", want: "libs/kafka_2.13-4.1.1.jar"},
		{name: "dot slash", entry: "./kafka_2.13-4.1.1/config/server.properties", want: "config/server.properties"},
		{name: "harmless dot-dot", entry: "kafka_2.13-4.1.1/libs/../config/x", want: "config/x"},
		{name: "escaping dot-dot", entry: "kafka_2.13-4.1.1/../x", wantErr: "escapes"},
		{name: "other top dir", entry: "kafka_2.13-4.1.0/libs/x.jar", wantErr: "not under"},
		{name: "absolute", entry: "/etc/passwd", wantErr: "not under"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := entryPath(tt.entry, prefix)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("entryPath(%q) = %q, %v; want error with %q", tt.entry, got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("entryPath(%q) = %q, %v; want %q", tt.entry, got, err, tt.want)
			}
		})
	}
}

func TestProgressWriter(t *testing.T) {
	tests := []struct {
		name   string
		total  int64
		writes []int
		want   []string
	}{
		{name: "known size", total: 1000, writes: []int{50, 100, 850}, want: []string{"10%", "20%", "100%"}},
		{name: "unknown size", total: -1, writes: []int{progressUnknownStep, progressUnknownStep / 2, progressUnknownStep}, want: []string{"16.8 MB", "33.6 MB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			p := &progressWriter{out: &out, total: tt.total}
			for _, n := range tt.writes {
				p.Write(make([]byte, n))
			}
			for _, s := range tt.want {
				if !strings.Contains(out.String(), s) {
					t.Errorf("progress lacks %q:\n%s", s, out.String())
				}
			}
			if tt.total > 0 && strings.Count(out.String(), "\n") != 10 {
				t.Errorf("want 10 lines for a full download, got:\n%s", out.String())
			}
		})
	}
}
