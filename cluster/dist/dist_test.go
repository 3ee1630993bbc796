package dist

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"
)

func TestValidateVersion(t *testing.T) {
	tests := []struct {
		name    string
		version string
		wantErr string
	}{
		{name: "4.1.1", version: "4.1.1"},
		{name: "3.9.1", version: "3.9.1"},
		{name: "two-digit patch", version: "4.0.10"},
		{name: "empty", version: "", wantErr: "Kafka version is empty"},
		{name: "two parts", version: "4.1", wantErr: `invalid Kafka version "4.1": want MAJOR.MINOR.PATCH`},
		{name: "v prefix", version: "v4.1.1", wantErr: "invalid Kafka version"},
		{name: "scala prefix", version: "2.13-4.1.1", wantErr: "invalid Kafka version"},
		{name: "release candidate", version: "4.1.1-rc2", wantErr: "invalid Kafka version"},
		{name: "leading zero", version: "04.1.1", wantErr: "invalid Kafka version"},
		{name: "path-like", version: "../4.1.1", wantErr: "invalid Kafka version"},
		{name: "zookeeper era", version: "2.8.2", wantErr: "Kafka 2.8.2 is not supported"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateVersion(tt.version)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateVersion(%q) = %v", tt.version, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateVersion(%q) = %v, want error with %q", tt.version, err, tt.wantErr)
			}
		})
	}
}

func TestRuntimeMajor(t *testing.T) {
	tests := []struct {
		name    string
		version string
		want    int
	}{
		{name: "4.x", version: "4.1.1", want: 4},
		{name: "3.x", version: "3.9.1", want: 3},
		{name: "snapshot", version: "4.2.0-SNAPSHOT", want: 4},
		{name: "garbage", version: "unknown", want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&Runtime{Version: tt.version}).Major(); got != tt.want {
				t.Errorf("Major() = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestNewInstallerDefaults(t *testing.T) {
	tests := []struct {
		name         string
		opts         Options
		env          map[string]string
		wantVersion  string
		wantExplicit bool
		wantHome     string
		wantCache    string
		wantSource   string
		wantMirrors  []string
		wantErr      string
	}{
		{
			name:        "all defaults",
			env:         map[string]string{"KRAFTLAB_CACHE": "/c"},
			wantVersion: DefaultVersion, wantCache: "/c", wantSource: SourceAuto, wantMirrors: DefaultApacheMirrors,
		},
		{
			name: "environment",
			env: map[string]string{
				"KRAFTLAB_KAFKA_VERSION": "3.9.1", "KAFKA_HOME": "/opt/kafka", "KRAFTLAB_CACHE": "/c",
				"KRAFTLAB_APACHE_MIRROR": "http://m1/kafka,http://m2/kafka",
			},
			wantVersion: "3.9.1", wantExplicit: true, wantHome: "/opt/kafka", wantCache: "/c", wantSource: SourceAuto,
			wantMirrors: []string{"http://m1/kafka", "http://m2/kafka"},
		},
		{
			name: "options win over environment",
			opts: Options{Version: "4.0.0", KafkaHome: "/k", CacheDir: "/o", Source: SourceApache, ApacheMirrors: []string{"http://o/kafka"}},
			env: map[string]string{
				"KRAFTLAB_KAFKA_VERSION": "3.9.1", "KAFKA_HOME": "/opt/kafka", "KRAFTLAB_CACHE": "/c",
				"KRAFTLAB_APACHE_MIRROR": "http://m1/kafka",
			},
			wantVersion: "4.0.0", wantExplicit: true, wantHome: "/k", wantCache: "/o", wantSource: SourceApache,
			wantMirrors: []string{"http://o/kafka"},
		},
		{name: "unknown source", opts: Options{Source: "docker"}, env: map[string]string{"KRAFTLAB_CACHE": "/c"}, wantErr: `unknown runtime source "docker"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := newInstaller(tt.opts, func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("newInstaller() error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if in.version != tt.wantVersion || (in.versionExplicit != "") != tt.wantExplicit || in.kafkaHome != tt.wantHome ||
				in.cacheDir != tt.wantCache || in.source != tt.wantSource || !slices.Equal(in.mirrors, tt.wantMirrors) {
				t.Errorf("newInstaller() = version %q (explicit %q) home %q cache %q source %q mirrors %v",
					in.version, in.versionExplicit, in.kafkaHome, in.cacheDir, in.source, in.mirrors)
			}
		})
	}
}

// fakeKafkaHome is an unpacked release as far as Ensure looks: libs/ with the jar.
func fakeKafkaHome(t *testing.T, version string) string {
	t.Helper()
	home := t.TempDir()
	if err := os.MkdirAll(filepath.Join(home, "libs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "libs", "kafka_2.13-"+version+".jar"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return home
}

func TestEnsureKafkaHome(t *testing.T) {
	home41 := fakeKafkaHome(t, "4.1.1")
	home39 := fakeKafkaHome(t, "3.9.1")
	notKafka := t.TempDir()
	tests := []struct {
		name        string
		opts        Options
		env         map[string]string
		javaMajor   int
		wantVersion string
		wantErr     string
	}{
		{name: "option", opts: Options{KafkaHome: home41}, javaMajor: 17, wantVersion: "4.1.1"},
		{name: "KAFKA_HOME", env: map[string]string{"KAFKA_HOME": home39}, javaMajor: 17, wantVersion: "3.9.1"},
		{name: "its version wins over the default", opts: Options{KafkaHome: home39}, javaMajor: 11, wantVersion: "3.9.1"},
		{name: "same version asked for", opts: Options{KafkaHome: home41, Version: "4.1.1"}, javaMajor: 17, wantVersion: "4.1.1"},
		{name: "other version asked for", opts: Options{KafkaHome: home41, Version: "3.9.1"}, javaMajor: 17, wantErr: "--kafka-home " + home41 + " is Kafka 4.1.1, but version 3.9.1 was asked for"},
		{name: "other version in environment", opts: Options{KafkaHome: home41}, env: map[string]string{"KRAFTLAB_KAFKA_VERSION": "3.9.1"}, javaMajor: 17, wantErr: "but KRAFTLAB_KAFKA_VERSION=3.9.1 was asked for"},
		{name: "not a kafka installation", opts: Options{KafkaHome: notKafka}, javaMajor: 17, wantErr: "--kafka-home " + notKafka + ": not a Kafka installation (no libs/kafka_2.*.jar)"},
		{name: "missing dir from environment", env: map[string]string{"KAFKA_HOME": "/nonexistent"}, javaMajor: 17, wantErr: "KAFKA_HOME=/nonexistent: not a Kafka installation"},
		{name: "java too old", opts: Options{KafkaHome: home41}, javaMajor: 11, wantErr: "Kafka 4.1.1 needs Java 17+"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := t.TempDir()
			tt.opts.CacheDir = cache
			in := testInstaller(t, tt.opts, tt.env)
			in.findJava = func() (string, int, error) { return "/jdk/bin/java", tt.javaMajor, nil }
			rt, err := in.ensure(context.Background())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ensure() = %+v, %v; want error with %q", rt, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ensure(): %v", err)
			}
			if rt.Origin != OriginKafkaHome || rt.Version != tt.wantVersion || rt.LibsDir != filepath.Join(rt.Dir, "libs") || rt.Java != "/jdk/bin/java" {
				t.Errorf("ensure() = %+v, want Kafka %s from the home", rt, tt.wantVersion)
			}
			if got := listDir(t, cache); len(got) != 0 {
				t.Errorf("a Kafka home was copied into the cache: %v", got)
			}
		})
	}
}

func writeCached(t *testing.T, cache, version, from string) {
	t.Helper()
	dir := filepath.Join(cache, "kafka-"+version)
	if err := os.MkdirAll(filepath.Join(dir, "libs"), 0o755); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(marker{Version: version, InstalledFrom: from, InstalledAt: time.Now()})
	if err := os.WriteFile(filepath.Join(dir, markerName), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestInstalled(t *testing.T) {
	cache := t.TempDir()
	writeCached(t, cache, "4.1.1", OriginMaven)
	writeCached(t, cache, "4.0.10", OriginApache)
	writeCached(t, cache, "4.0.9", OriginApache)
	writeCached(t, cache, "3.9.1", OriginMaven)
	// Not runtimes: a dir without marker, an install in progress, a stray file.
	for _, dir := range []string{"kafka-4.2.0/libs", ".tmp-kafka-4.1.1-123/libs"} {
		if err := os.MkdirAll(filepath.Join(cache, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(cache, "kafka-notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		cache string
		want  []string
	}{
		{name: "sorted by version", cache: cache, want: []string{"3.9.1 maven", "4.0.9 apache", "4.0.10 apache", "4.1.1 maven"}},
		{name: "no cache yet", cache: filepath.Join(cache, "missing"), want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rts, err := Installed(tt.cache)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, rt := range rts {
				if rt.Origin != OriginCache || rt.LibsDir != filepath.Join(tt.cache, "kafka-"+rt.Version, "libs") {
					t.Errorf("Installed() entry %+v", rt)
				}
				got = append(got, rt.Version+" "+rt.InstalledFrom)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Installed() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEnsureIncompleteCacheEntry(t *testing.T) {
	cache := t.TempDir()
	if err := os.MkdirAll(filepath.Join(cache, "kafka-4.1.1", "libs"), 0o755); err != nil {
		t.Fatal(err)
	}
	o := Options{Version: "4.1.1", CacheDir: cache, Source: SourceApache, ApacheMirrors: []string{"http://127.0.0.1:1/kafka"}}
	_, err := testInstaller(t, o, nil).ensure(context.Background())
	if err == nil || !strings.Contains(err.Error(), "is incomplete") {
		t.Fatalf("ensure() = %v, want an incomplete-cache error", err)
	}
}

func TestRemoveAbandonedTemps(t *testing.T) {
	cache := t.TempDir()
	old := time.Now().Add(-2 * staleAfter)
	mk := func(name string, lock, held bool, mtime time.Time) {
		dir := filepath.Join(cache, name)
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if lock {
			f, err := lockInstall(dir)
			if err != nil {
				t.Fatal(err)
			}
			if held {
				t.Cleanup(func() { f.Unlock() })
			} else {
				f.Unlock()
			}
		}
		if err := os.Chtimes(dir, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	mk(".tmp-kafka-4.1.1-killed", true, false, old)
	mk(".tmp-kafka-4.1.1-nolock", false, false, old)
	mk(".tmp-kafka-4.1.1-live", true, true, old)
	mk(".tmp-kafka-4.1.1-justcreated", false, false, time.Now())
	mk("kafka-4.1.1", false, false, old)

	removeAbandonedTemps(cache)

	tests := []struct {
		name string
		want bool
	}{
		{name: ".tmp-kafka-4.1.1-killed", want: false},
		{name: ".tmp-kafka-4.1.1-nolock", want: false},
		{name: ".tmp-kafka-4.1.1-live", want: true},
		{name: ".tmp-kafka-4.1.1-justcreated", want: true},
		{name: "kafka-4.1.1", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := os.Stat(filepath.Join(cache, tt.name))
			if got := err == nil; got != tt.want {
				t.Errorf("%s kept = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestRunErrorMessage(t *testing.T) {
	long := strings.Repeat("line\n", 40) + "the reason\n"
	tests := []struct {
		name string
		err  *RunError
		want []string
	}{
		{
			name: "quotes command and tail",
			err:  &RunError{Command: []string{"java", "-cp", "/c/libs/*", "kafka.Kafka"}, Output: []byte(long), Err: context.DeadlineExceeded},
			want: []string{"command failed (context deadline exceeded): java -cp '/c/libs/*' kafka.Kafka", "the reason"},
		},
		{
			name: "no output",
			err:  &RunError{Command: []string{"mvn"}, Err: context.Canceled},
			want: []string{"command failed (context canceled): mvn"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := tt.err.Error()
			for _, s := range tt.want {
				if !strings.Contains(msg, s) {
					t.Errorf("message lacks %q:\n%s", s, msg)
				}
			}
			if n := strings.Count(msg, "\n"); n > runErrorTailLines {
				t.Errorf("message has %d output lines, want at most %d", n, runErrorTailLines)
			}
		})
	}
}

// A malformed version, from a flag or the environment, is the caller's mistake:
// a usage error, and nothing is fetched.
func TestEnsureBadVersionIsUsageError(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		env  map[string]string
	}{
		{name: "flag", o: Options{Version: "4.x"}},
		{name: "environment", env: map[string]string{"KRAFTLAB_KAFKA_VERSION": "latest"}},
		{name: "before KRaft", o: Options{Version: "2.8.0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.CacheDir = t.TempDir()
			_, err := testInstaller(t, tt.o, tt.env).ensure(context.Background())
			var ue *usage.Error
			if !errors.As(err, &ue) {
				t.Fatalf("ensure: %v, want a usage error", err)
			}
			if got := listDir(t, tt.o.CacheDir); len(got) != 0 {
				t.Errorf("a bad version left %v in the cache", got)
			}
		})
	}
}
