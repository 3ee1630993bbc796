// Package dist locates, fetches, caches and verifies the Kafka broker runtime: the
// jars a broker needs (a libs/ dir) and the java that runs them.
package dist

// This file owns the public entry point (Ensure), option defaults, and the runtime
// cache: its layout, its marker, and the temp-dir-then-rename install that keeps an
// interrupted or concurrent install from ever exposing a half-filled runtime.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kraftlab/kraftlab/cluster/internal/flock"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// DefaultVersion is the Kafka release used when none is asked for; the one place it
// is pinned.
const DefaultVersion = "4.1.1"

// Origins of a Runtime.
const (
	OriginKafkaHome = "kafka-home"
	OriginCache     = "cache"
	OriginMaven     = "maven"
	OriginApache    = "apache"
)

// Sources accepted in Options.Source.
const (
	SourceAuto   = "auto"
	SourceMaven  = "maven"
	SourceApache = "apache"
)

// Default Apache mirrors, tried in order: the first serves only current releases,
// the archive serves all of them.
var DefaultApacheMirrors = []string{
	"https://downloads.apache.org/kafka",
	"https://archive.apache.org/dist/kafka",
}

// Errors a caller may want to tell apart; the returned errors wrap them alongside a
// message that already says what to do.
var (
	ErrUnknownVersion   = errors.New("unknown Kafka version")
	ErrUnreachable      = errors.New("download source unreachable")
	ErrChecksumMismatch = errors.New("checksum mismatch")
)

// Options says which runtime to use and where to get it. Zero values fall back to
// the environment Env reads (nil: none), then to defaults.
type Options struct {
	Version       string    // "" = $KRAFTLAB_KAFKA_VERSION, else DefaultVersion
	KafkaHome     string    // unpacked official tarball dir (uses its libs/); "" = $KAFKA_HOME. Wins over everything.
	CacheDir      string    // "" = $KRAFTLAB_CACHE, else os.UserCacheDir()/kraftlab
	Source        string    // "auto" (default: maven if mvn is on PATH, else apache), "maven", "apache"
	ApacheMirrors []string  // base URLs; nil = $KRAFTLAB_APACHE_MIRROR (comma-separated) if set, else DefaultApacheMirrors
	MavenRepo     string    // where Available reads Maven metadata; "" = DefaultMavenRepo
	Progress      io.Writer // human progress lines; nil = discard
	// Env looks up the environment variables named above; nil reads none, so a
	// library caller gets exactly what the fields say. The kraftlab command passes
	// os.Getenv.
	Env func(string) string `json:"-"`
}

// Runtime is a verified Kafka runtime and the java that runs it.
type Runtime struct {
	Version   string // as printed by kafka.Kafka --version
	Dir       string // runtime dir (contains libs/)
	LibsDir   string
	Java      string // path of the java binary used
	JavaMajor int
	Origin    string // OriginKafkaHome, OriginCache, OriginMaven or OriginApache
	// InstalledFrom is the source a cache entry came from (OriginMaven or
	// OriginApache); empty for a Kafka home.
	InstalledFrom string
}

// Classpath is the -cp value for the runtime; java expands the trailing "*" itself,
// so no jar list has to be built.
func (r *Runtime) Classpath() string {
	return filepath.Join(r.LibsDir, "*")
}

// Major is the Kafka major version (3 or 4), which decides between log4j 1 and 2
// configuration; 0 if the version does not start with a number.
func (r *Runtime) Major() int {
	return kafkaMajor(r.Version)
}

func kafkaMajor(version string) int {
	head, _, _ := strings.Cut(version, ".")
	n, err := strconv.Atoi(head)
	if err != nil {
		return 0
	}
	return n
}

// Ensure returns a verified runtime: KafkaHome when given, else the cached version,
// else it installs that version into the cache first. Calling it again is cheap.
func Ensure(ctx context.Context, o Options) (*Runtime, error) {
	getenv := o.Env
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	in, err := newInstaller(o, getenv)
	if err != nil {
		return nil, err
	}
	return in.ensure(ctx)
}

// DefaultCacheDir is the runtime cache when Options.CacheDir is empty and no
// KRAFTLAB_CACHE is given: <user cache dir>/kraftlab.
func DefaultCacheDir() (string, error) {
	return defaultCacheDir(func(string) string { return "" })
}

func defaultCacheDir(getenv func(string) string) (string, error) {
	if d := getenv("KRAFTLAB_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no cache dir (set KRAFTLAB_CACHE): %w", err)
	}
	return filepath.Join(d, "kraftlab"), nil
}

var versionPattern = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

// ValidateVersion checks the shape of a Kafka release: three numbers like 3.9.1 or
// 4.1.1, major 3 or later (KRaft). Whether the release exists is for the source to say.
func ValidateVersion(v string) error {
	if v == "" {
		return errors.New("Kafka version is empty: want a release like " + DefaultVersion)
	}
	m := versionPattern.FindStringSubmatch(v)
	if m == nil {
		return fmt.Errorf("invalid Kafka version %q: want MAJOR.MINOR.PATCH like %s or 3.9.1", v, DefaultVersion)
	}
	if major, _ := strconv.Atoi(m[1]); major < 3 {
		return fmt.Errorf("Kafka %s is not supported: kraftlab runs KRaft clusters, which need Kafka 3.x or later", v)
	}
	return nil
}

// Installed lists the runtimes in cacheDir ("" = DefaultCacheDir), oldest version
// first. Entries without a valid marker (say, copied in by hand) are not runtimes
// and are left out. Java fields are empty: no java is consulted.
func Installed(cacheDir string) ([]Runtime, error) {
	if cacheDir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		cacheDir = d
	}
	entries, err := os.ReadDir(cacheDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list runtime cache: %w", err)
	}
	var out []Runtime
	for _, e := range entries {
		v, ok := strings.CutPrefix(e.Name(), runtimeDirPrefix)
		if !ok || !e.IsDir() {
			continue
		}
		rt, err := readCached(filepath.Join(cacheDir, e.Name()), v)
		if err != nil {
			continue
		}
		out = append(out, *rt)
	}
	slices.SortFunc(out, func(a, b Runtime) int { return CompareVersions(a.Version, b.Version) })
	return out, nil
}

// CompareVersions orders dotted numeric versions; non-numeric parts compare as text
// so the order is still total.
func CompareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		an, aerr := strconv.Atoi(as[i])
		bn, berr := strconv.Atoi(bs[i])
		if aerr == nil && berr == nil {
			if an != bn {
				return an - bn
			}
			continue
		}
		if c := strings.Compare(as[i], bs[i]); c != 0 {
			return c
		}
	}
	return len(as) - len(bs)
}

// installer is Ensure with its options resolved and its outside world (java, mvn,
// HTTP, environment) held in fields, so tests can replace the JVM and the network.
type installer struct {
	version         string
	versionExplicit string // how the version was asked for ("version 3.9.1"), "" when defaulted
	kafkaHome       string
	kafkaHomeLabel  string // how the home was given, for messages
	cacheDir        string
	source          string
	mirrors         []string
	progress        io.Writer
	progressEvery   time.Duration // how often a long fetch reports; 0 = the default

	findJava func() (string, int, error)
	verify   func(ctx context.Context, java, libsDir string) (string, error)
	lookPath func(string) (string, error)
	client   *http.Client
}

func newInstaller(o Options, getenv func(string) string) (*installer, error) {
	in := &installer{
		version:  o.Version,
		progress: o.Progress,
		findJava: FindJava,
		verify:   kafkaVersion,
		lookPath: exec.LookPath,
		client:   newHTTPClient(),
	}
	if in.progress == nil {
		in.progress = io.Discard
	}
	switch {
	case o.Version != "":
		in.versionExplicit = "version " + o.Version
	case getenv("KRAFTLAB_KAFKA_VERSION") != "":
		in.version = getenv("KRAFTLAB_KAFKA_VERSION")
		in.versionExplicit = "KRAFTLAB_KAFKA_VERSION=" + in.version
	default:
		in.version = DefaultVersion
	}
	switch {
	case o.KafkaHome != "":
		in.kafkaHome, in.kafkaHomeLabel = o.KafkaHome, "--kafka-home "+o.KafkaHome
	case getenv("KAFKA_HOME") != "":
		in.kafkaHome = getenv("KAFKA_HOME")
		in.kafkaHomeLabel = "KAFKA_HOME=" + in.kafkaHome
	}
	in.cacheDir = o.CacheDir
	if in.cacheDir == "" {
		d, err := defaultCacheDir(getenv)
		if err != nil {
			return nil, err
		}
		in.cacheDir = d
	}
	// java -cp splits at the path list separator: a runtime under such a path
	// would put other directories on the classpath.
	for _, d := range []struct{ label, path string }{{"runtime cache " + in.cacheDir, in.cacheDir}, {in.kafkaHomeLabel, in.kafkaHome}} {
		if strings.ContainsRune(d.path, os.PathListSeparator) {
			return nil, usage.Errorf("%s: the path contains %q, which java reads as a classpath separator; use a path without it", d.label, os.PathListSeparator)
		}
	}
	in.source = o.Source
	switch in.source {
	case "":
		in.source = SourceAuto
	case SourceAuto, SourceMaven, SourceApache:
	default:
		return nil, fmt.Errorf("unknown runtime source %q: want %s, %s or %s", o.Source, SourceAuto, SourceMaven, SourceApache)
	}
	in.mirrors = o.ApacheMirrors
	if len(in.mirrors) == 0 {
		if env := getenv("KRAFTLAB_APACHE_MIRROR"); env != "" {
			in.mirrors = strings.FieldsFunc(env, func(r rune) bool { return r == ',' || r == ' ' })
		} else {
			in.mirrors = DefaultApacheMirrors
		}
	}
	return in, nil
}

func (in *installer) logf(format string, args ...any) {
	fmt.Fprintf(in.progress, format+"\n", args...)
}

func (in *installer) ensure(ctx context.Context) (*Runtime, error) {
	if in.kafkaHome != "" {
		return in.useKafkaHome(ctx)
	}
	if err := ValidateVersion(in.version); err != nil {
		// What was asked for is wrong, not the machine: a usage error.
		return nil, &usage.Error{Problems: []error{err}}
	}
	// Java first: without a usable one nothing can be verified, and finding out
	// after a 120 MB download would waste the user's time.
	java, javaMajor, err := in.findJava()
	if err != nil {
		return nil, err
	}
	if err := CheckJava(java, javaMajor, in.version); err != nil {
		return nil, err
	}
	rt, err := readCached(in.runtimeDir(), in.version)
	if err == nil {
		rt.Java, rt.JavaMajor = java, javaMajor
		return rt, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	source, err := in.pickSource()
	if err != nil {
		return nil, err
	}
	// One install per version at a time: a second command (or test binary) waits
	// for the first, following its own context, then finds the runtime cached.
	if err := os.MkdirAll(in.cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("create cache dir: %w", err)
	}
	lock, err := flock.Wait(ctx, filepath.Join(in.cacheDir, tempDirPrefix+in.version+".lock"), 200*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("wait for another install of Kafka %s: %w", in.version, err)
	}
	defer lock.Unlock()
	if rt, err := readCached(in.runtimeDir(), in.version); err == nil {
		rt.Java, rt.JavaMajor = java, javaMajor
		return rt, nil
	}
	// Not wrapped again: install's errors lead with what went wrong for which version.
	rt, err = in.install(ctx, source, java)
	if err != nil {
		return nil, err
	}
	rt.Java, rt.JavaMajor = java, javaMajor
	return rt, nil
}

// useKafkaHome takes the user's unpacked Kafka as is: it is never copied into the
// cache, and its own version wins over the default one.
func (in *installer) useKafkaHome(ctx context.Context) (*Runtime, error) {
	home, err := filepath.Abs(in.kafkaHome)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.kafkaHomeLabel, err)
	}
	libs := filepath.Join(home, "libs")
	jars, _ := filepath.Glob(filepath.Join(libs, "kafka_2.*.jar"))
	if len(jars) == 0 {
		return nil, fmt.Errorf("%s: not a Kafka installation (no libs/kafka_2.*.jar)", in.kafkaHomeLabel)
	}
	java, javaMajor, err := in.findJava()
	if err != nil {
		return nil, err
	}
	// The jar name tells the version before any JVM runs, so a too-old java gets the
	// clear message instead of an UnsupportedClassVersionError from the check below.
	if v := versionFromJar(jars[0]); v != "" {
		if err := CheckJava(java, javaMajor, v); err != nil {
			return nil, err
		}
	}
	got, err := in.verify(ctx, java, libs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", in.kafkaHomeLabel, err)
	}
	if in.versionExplicit != "" && got != in.version {
		return nil, fmt.Errorf("%s is Kafka %s, but %s was asked for: drop one of the two", in.kafkaHomeLabel, got, in.versionExplicit)
	}
	if err := CheckJava(java, javaMajor, got); err != nil {
		return nil, err
	}
	return &Runtime{Version: got, Dir: home, LibsDir: libs, Java: java, JavaMajor: javaMajor, Origin: OriginKafkaHome}, nil
}

// versionFromJar reads "4.1.1" out of ".../kafka_2.13-4.1.1.jar"; "" if the name has
// another shape.
func versionFromJar(path string) string {
	name := strings.TrimSuffix(filepath.Base(path), ".jar")
	_, v, ok := strings.Cut(name, "-")
	if !ok || ValidateVersion(v) != nil {
		return ""
	}
	return v
}

func (in *installer) pickSource() (string, error) {
	_, err := in.lookPath("mvn")
	switch in.source {
	case SourceMaven:
		if err != nil {
			return "", errMvnNotFound
		}
		return SourceMaven, nil
	case SourceApache:
		return SourceApache, nil
	}
	if err == nil {
		return SourceMaven, nil
	}
	return SourceApache, nil
}

// Cache layout: <CacheDir>/kafka-<V>/{libs/,kraftlab-runtime.json}, built in
// <CacheDir>/.tmp-kafka-<V>-* and renamed into place once verified.
const (
	runtimeDirPrefix = "kafka-"
	tempDirPrefix    = ".tmp-kafka-"
	markerName       = "kraftlab-runtime.json"
	// installLockName is flock'ed by a live install for its whole life, which is how
	// another process tells a working temp dir from one left by a killed install.
	installLockName = ".install.lock"
	// staleAfter is how old an unlocked temp dir must be before it is removed; it
	// covers the instant between a temp dir's creation and its lock.
	staleAfter = time.Minute
)

func (in *installer) runtimeDir() string {
	return filepath.Join(in.cacheDir, runtimeDirPrefix+in.version)
}

// marker is written last into a finished install; a cache dir without one is not a
// runtime.
type marker struct {
	Version       string    `json:"version"`
	InstalledFrom string    `json:"installedFrom"`
	InstalledAt   time.Time `json:"installedAt"`
}

// readCached loads the runtime cached in dir; an error wrapping fs.ErrNotExist means
// there is none.
func readCached(dir, version string) (*Runtime, error) {
	data, err := os.ReadFile(filepath.Join(dir, markerName))
	if errors.Is(err, fs.ErrNotExist) {
		if _, statErr := os.Stat(dir); statErr != nil {
			return nil, fmt.Errorf("no cached Kafka %s: %w", version, statErr)
		}
		return nil, fmt.Errorf("cached runtime %s is incomplete (no %s): remove it and run again", dir, markerName)
	}
	if err != nil {
		return nil, fmt.Errorf("read cached runtime: %w", err)
	}
	var m marker
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("cached runtime %s: bad %s (remove the dir and run again): %w", dir, markerName, err)
	}
	if m.Version != version {
		return nil, fmt.Errorf("cached runtime %s holds Kafka %s, not %s: remove it and run again", dir, m.Version, version)
	}
	libs := filepath.Join(dir, "libs")
	if _, err := os.Stat(libs); err != nil {
		return nil, fmt.Errorf("cached runtime %s has no libs/ (remove it and run again): %w", dir, err)
	}
	return &Runtime{Version: m.Version, Dir: dir, LibsDir: libs, Origin: OriginCache, InstalledFrom: m.InstalledFrom}, nil
}

// install fetches the runtime into a fresh temp dir, verifies it with java, and only
// then renames it into the cache. Whatever fails, the temp dir goes away.
func (in *installer) install(ctx context.Context, source, java string) (*Runtime, error) {
	if err := os.MkdirAll(in.cacheDir, 0o755); err != nil {
		return nil, fmt.Errorf("create cache dir: %w", err)
	}
	removeAbandonedTemps(in.cacheDir)
	tmp, err := os.MkdirTemp(in.cacheDir, tempDirPrefix+in.version+"-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	// After a successful rename tmp no longer exists and this does nothing.
	defer os.RemoveAll(tmp)
	lock, err := lockInstall(tmp)
	if err != nil {
		return nil, err
	}
	// Held through the rename: the lock file travels with the dir and is removed
	// from the final dir afterwards.
	defer lock.Unlock()

	switch source {
	case SourceMaven:
		err = in.fetchMaven(ctx, tmp)
	default:
		err = in.fetchApache(ctx, tmp)
	}
	if err != nil {
		return nil, err
	}

	in.logf("Checking the Kafka %s runtime (kafka.Kafka --version)...", in.version)
	got, err := in.verify(ctx, java, filepath.Join(tmp, "libs"))
	if err != nil {
		return nil, fmt.Errorf("verify Kafka %s runtime: %w", in.version, err)
	}
	if got != in.version {
		return nil, fmt.Errorf("verify Kafka %s runtime: it reports version %s", in.version, got)
	}
	data, err := json.MarshalIndent(marker{Version: in.version, InstalledFrom: source, InstalledAt: time.Now().UTC()}, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("write marker: %w", err)
	}
	if err := os.WriteFile(filepath.Join(tmp, markerName), append(data, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("write marker: %w", err)
	}
	// MkdirTemp made it owner-only; a cache entry is as readable as any install.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("publish runtime: %w", err)
	}

	final := in.runtimeDir()
	if err := os.Rename(tmp, final); err != nil {
		// A concurrent install may have finished first; its runtime is as good as ours.
		if rt, cacheErr := readCached(final, in.version); cacheErr == nil {
			in.logf("Kafka %s was installed concurrently; using %s", in.version, final)
			return rt, nil
		}
		return nil, fmt.Errorf("publish runtime: %w", err)
	}
	_ = os.Remove(filepath.Join(final, installLockName))
	in.logf("Installed Kafka %s in %s", in.version, final)
	return &Runtime{Version: in.version, Dir: final, LibsDir: filepath.Join(final, "libs"), Origin: source, InstalledFrom: source}, nil
}

// lockInstall creates and flocks the temp dir's lock file; the kernel drops the lock
// when the process dies, however it dies.
func lockInstall(tmp string) (*flock.Lock, error) {
	l, err := flock.TryLock(filepath.Join(tmp, installLockName))
	if err != nil {
		return nil, fmt.Errorf("lock install: %w", err)
	}
	return l, nil
}

// removeAbandonedTemps deletes temp dirs of installs that died without cleaning up.
// Failures are ignored: a leftover only costs disk, it is never used as a runtime.
func removeAbandonedTemps(cacheDir string) {
	entries, err := os.ReadDir(cacheDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), tempDirPrefix) {
			continue
		}
		dir := filepath.Join(cacheDir, e.Name())
		if abandoned(dir, time.Now()) {
			_ = os.RemoveAll(dir)
		}
	}
}

// abandoned reports whether temp dir belongs to no live install: old enough, and its
// lock file missing or not held.
func abandoned(dir string, now time.Time) bool {
	info, err := os.Stat(dir)
	if err != nil || now.Sub(info.ModTime()) < staleAfter {
		return false
	}
	return !flock.Held(filepath.Join(dir, installLockName))
}

// reasonError is an error whose message already tells the user what happened and
// what to do; it matches both its kind (a sentinel above) and its cause.
type reasonError struct {
	msg   string
	kind  error
	cause error
}

func (e *reasonError) Error() string {
	if e.cause == nil {
		return e.msg
	}
	return e.msg + ": " + e.cause.Error()
}

func (e *reasonError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}
