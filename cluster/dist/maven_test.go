package dist

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Outputs captured from Maven 3.8.7 (`mvn -B -q dependency:copy-dependencies`),
// colour codes included, as mvn prints them even in batch mode.
const (
	mvnNotFound       = "\x1b[0m[ERROR] Failed to execute goal on project probe: Could not resolve dependencies for project probe:probe:pom:1: Could not find artifact org.apache.kafka:kafka_2.13:jar:9.9.9 in central (https://repo.maven.apache.org/maven2) -> [Help 1]\n" + mvnBoilerplate
	mvnNotFoundCached = "\x1b[0m[ERROR] Failed to execute goal on project probe: Could not resolve dependencies for project probe:probe:pom:1: org.apache.kafka:kafka_2.13:jar:9.9.9 was not found in https://repo.maven.apache.org/maven2 during a previous attempt. This failure was cached in the local repository and resolution is not reattempted until the update interval of central has elapsed or updates are forced -> [Help 1]\n" + mvnBoilerplate
	mvnRefused        = "\x1b[0m[ERROR] Failed to execute goal on project probe: Could not resolve dependencies for project probe:probe:pom:1: Failed to collect dependencies at org.apache.kafka:kafka_2.13:jar:4.1.1: Failed to read artifact descriptor for org.apache.kafka:kafka_2.13:jar:4.1.1: Could not transfer artifact org.apache.kafka:kafka_2.13:pom:4.1.1 from/to central (http://127.0.0.1:1/maven2): transfer failed for http://127.0.0.1:1/maven2/org/apache/kafka/kafka_2.13/4.1.1/kafka_2.13-4.1.1.pom: Connect to 127.0.0.1:1 [/127.0.0.1] failed: Connection refused -> [Help 1]\n" + mvnBoilerplate
	mvnUnknownHost    = "[ERROR] Failed to execute goal on project probe: Could not resolve dependencies for project probe:probe:pom:1: Failed to collect dependencies at org.apache.kafka:kafka_2.13:jar:4.1.1: Failed to read artifact descriptor for org.apache.kafka:kafka_2.13:jar:4.1.1: Could not transfer artifact org.apache.kafka:kafka_2.13:pom:4.1.1 from/to central (http://nonexistent.invalid/maven2): transfer failed for http://nonexistent.invalid/maven2/org/apache/kafka/kafka_2.13/4.1.1/kafka_2.13-4.1.1.pom: Unknown host nonexistent.invalid: Name or service not known -> [Help 1]\n" + mvnBoilerplate
	mvnOffline        = "[ERROR] Failed to execute goal on project probe: Could not resolve dependencies for project probe:probe:pom:1: Cannot access central (https://repo.maven.apache.org/maven2) in offline mode and the artifact org.apache.kafka:kafka_2.13:jar:4.1.1 has not been downloaded from it before. -> [Help 1]\n" + mvnBoilerplate
	mvnNoPlugin       = "[ERROR] No plugin found for prefix 'dependency' in the current project and in the plugin groups [org.apache.maven.plugins, org.codehaus.mojo] available from the repositories [local (/root/.m2/repository), central (https://repo.maven.apache.org/maven2)] -> [Help 1]\n" + mvnBoilerplate
	mvnBadPOM         = "[ERROR] Some problems were encountered while processing the POMs:\n[FATAL] Non-parseable POM /tmp/x/pom.xml: end tag name </project> must match start tag name <dependencies> (position: END_TAG seen ...) @ line 9, column 11\n" + mvnBoilerplate
	mvnBoilerplate    = "[ERROR] \n[ERROR] To see the full stack trace of the errors, re-run Maven with the -e switch.\n[ERROR] Re-run Maven using the -X switch to enable full debug logging.\n[ERROR] \n[ERROR] For more information about the errors and possible solutions, please read the following articles:\n[ERROR] [Help 1] http://cwiki.apache.org/confluence/display/MAVEN/DependencyResolutionException\n\x1b[0m\x1b[0m"
)

func TestClassifyMavenFailure(t *testing.T) {
	tests := []struct {
		name     string
		version  string
		output   string
		wantKind error
		wantMsg  string
	}{
		{name: "not on central", version: "9.9.9", output: mvnNotFound, wantKind: ErrUnknownVersion, wantMsg: "Kafka 9.9.9 is not on Maven Central (check the version; known: 3.9.x, 4.0.x-4.x)"},
		{name: "not on central, cached miss", version: "9.9.9", output: mvnNotFoundCached, wantKind: ErrUnknownVersion, wantMsg: "Kafka 9.9.9 is not on Maven Central"},
		{name: "connection refused", version: "4.1.1", output: mvnRefused, wantKind: ErrUnreachable, wantMsg: "cannot reach Maven Central"},
		{name: "unknown host", version: "4.1.1", output: mvnUnknownHost, wantKind: ErrUnreachable, wantMsg: "cannot reach Maven Central"},
		{name: "offline", version: "4.1.1", output: mvnOffline, wantKind: ErrUnreachable, wantMsg: "cannot reach Maven Central"},
		{name: "plugin not resolvable", version: "4.1.1", output: mvnNoPlugin, wantKind: ErrUnreachable, wantMsg: "cannot reach Maven Central"},
		{name: "anything else", version: "4.1.1", output: mvnBadPOM, wantMsg: "fetch Kafka 4.1.1 with mvn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runErr := &RunError{
				Command: []string{"/usr/bin/mvn", "-B", "-q", "-f", "/c/.tmp/pom.xml", "dependency:copy-dependencies"},
				Output:  []byte(tt.output),
				Err:     errors.New("exit status 1"),
			}
			err := classifyMavenFailure(tt.version, []byte(tt.output), runErr)
			if tt.wantKind != nil && !errors.Is(err, tt.wantKind) {
				t.Errorf("error is not %v: %v", tt.wantKind, err)
			}
			var re *RunError
			if !errors.As(err, &re) {
				t.Errorf("error does not carry the RunError: %v", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.wantMsg) {
				t.Errorf("error %q does not start with %q", msg, tt.wantMsg)
			}
			// The command and Maven's own reason are shown; its boilerplate and
			// colour codes are not.
			reason := strings.TrimPrefix(strings.SplitN(tt.output, "\n", 2)[0], "\x1b[0m")
			for _, s := range []string{"/usr/bin/mvn -B -q", reason} {
				if !strings.Contains(msg, s) {
					t.Errorf("error lacks %q:\n%s", s, msg)
				}
			}
			for _, s := range []string{"\x1b[", "Re-run Maven", "[Help 1] http"} {
				if strings.Contains(msg, s) {
					t.Errorf("error contains noise %q:\n%s", s, msg)
				}
			}
		})
	}
}

func TestPomXML(t *testing.T) {
	tests := []struct {
		name    string
		version string
		want    []string
		notWant []string
	}{
		{
			name:    "4.x gets log4j2",
			version: "4.1.1",
			want:    []string{"<artifactId>kafka_2.13</artifactId><version>4.1.1</version>", "<artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version>"},
			notWant: []string{"reload4j"},
		},
		{
			name:    "3.x gets reload4j",
			version: "3.9.1",
			want:    []string{"<artifactId>kafka_2.13</artifactId><version>3.9.1</version>", "<artifactId>slf4j-reload4j</artifactId><version>1.7.36</version>", "<artifactId>reload4j</artifactId><version>1.2.25</version>"},
			notWant: []string{"log4j-slf4j-impl"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pom := string(pomXML(tt.version))
			for _, s := range tt.want {
				if !strings.Contains(pom, s) {
					t.Errorf("pom lacks %q:\n%s", s, pom)
				}
			}
			for _, s := range tt.notWant {
				if strings.Contains(pom, s) {
					t.Errorf("pom has %q:\n%s", s, pom)
				}
			}
		})
	}
}

func TestEnsureMavenWithoutMvn(t *testing.T) {
	o := Options{Version: "4.1.1", CacheDir: t.TempDir(), Source: SourceMaven}
	_, err := testInstaller(t, o, nil).ensure(context.Background())
	want := "mvn not found: install Maven (apt-get install maven) or use --source apache / --kafka-home"
	if err == nil || err.Error() != want {
		t.Fatalf("ensure = %v, want %q", err, want)
	}
}

// TestEnsureMavenReal resolves real runtimes with mvn and checks them with a real
// JVM; it needs Maven Central or a warm ~/.m2.
func TestEnsureMavenReal(t *testing.T) {
	if testing.Short() {
		t.Skip("runs mvn and java")
	}
	for _, tool := range []string{"mvn", "java"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not on PATH", tool)
		}
	}
	t.Setenv("KAFKA_HOME", "")
	cache := t.TempDir()
	tests := []struct {
		name     string
		version  string
		wantJars []string
		wantKind error
	}{
		{name: "4.1.1", version: "4.1.1", wantJars: []string{"kafka_2.13-4.1.1.jar", "log4j-slf4j-impl-2.24.3.jar", "log4j-core-2.24.3.jar"}},
		{name: "3.9.1", version: "3.9.1", wantJars: []string{"kafka_2.13-3.9.1.jar", "slf4j-reload4j-1.7.36.jar", "reload4j-1.2.25.jar"}},
		{name: "unknown version", version: "9.9.9", wantKind: ErrUnknownVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			var progress bytes.Buffer
			o := Options{Version: tt.version, CacheDir: cache, Source: SourceMaven, Progress: &progress}
			rt, err := Ensure(ctx, o)
			if tt.wantKind != nil {
				if !errors.Is(err, tt.wantKind) {
					t.Fatalf("Ensure() = %v, want %v", err, tt.wantKind)
				}
				if _, statErr := os.Stat(filepath.Join(cache, "kafka-"+tt.version)); statErr == nil {
					t.Error("failed install left a runtime dir")
				}
				return
			}
			if err != nil {
				t.Fatalf("Ensure(): %v\nprogress:\n%s", err, progress.String())
			}
			if rt.Version != tt.version || rt.Origin != OriginMaven || rt.JavaMajor < MinJava(tt.version) {
				t.Errorf("Ensure() = %+v", rt)
			}
			if !strings.Contains(progress.String(), "Fetching Kafka "+tt.version+" from Maven Central (mvn)...") {
				t.Errorf("progress:\n%s", progress.String())
			}
			for _, jar := range tt.wantJars {
				if _, err := os.Stat(filepath.Join(rt.LibsDir, jar)); err != nil {
					t.Errorf("runtime lacks %s: %v", jar, err)
				}
			}
			if _, err := os.Stat(filepath.Join(rt.Dir, ".maven")); err == nil {
				t.Error("throwaway maven project left in the runtime dir")
			}
			again, err := Ensure(ctx, o)
			if err != nil || again.Origin != OriginCache || again.Version != tt.version {
				t.Errorf("second Ensure() = %+v, %v; want a cache hit", again, err)
			}
		})
	}
	t.Run("kafka home", func(t *testing.T) {
		home := filepath.Join(cache, "kafka-4.1.1")
		rt, err := Ensure(context.Background(), Options{KafkaHome: home, CacheDir: t.TempDir()})
		if err != nil || rt.Origin != OriginKafkaHome || rt.Version != "4.1.1" {
			t.Errorf("Ensure(kafka home) = %+v, %v", rt, err)
		}
	})
	t.Run("verify rejects libs without kafka", func(t *testing.T) {
		java, _, err := FindJava()
		if err != nil {
			t.Fatal(err)
		}
		_, err = kafkaVersion(context.Background(), java, t.TempDir())
		var re *RunError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), "kafka.Kafka") {
			t.Errorf("kafkaVersion(empty libs) = %v, want a RunError naming kafka.Kafka", err)
		}
	})
}

// fakeMvn writes a stand-in for mvn that prints Maven's transfer lines, with
// pauses, and copies the "jars" into -DoutputDirectory.
func fakeMvn(t *testing.T, version string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mvn")
	script := `#!/bin/sh
for a in "$@"; do case "$a" in -DoutputDirectory=*) out="${a#-DoutputDirectory=}";; esac; done
echo "[INFO] Scanning for projects..."
echo "Downloading from central: https://repo.maven.apache.org/maven2/org/apache/kafka/kafka_2.13/V/kafka_2.13-V.pom"
echo "Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/kafka/kafka_2.13/V/kafka_2.13-V.pom (6.6 kB at 30 kB/s)"
sleep 0.3
echo "Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/kafka/kafka_2.13/V/kafka_2.13-V.jar (6.9 MB at 9.1 MB/s)"
printf 'Downloaded from central: https://repo.maven.apache.org/maven2/org/scala-lang/scala-library/2.13.16/scala-library-2.13.16.jar (5,919 kB at 9 MB/s)\n'
sleep 0.3
mkdir -p "$out" && touch "$out/kafka_2.13-V.jar" "$out/scala-library-2.13.16.jar"
echo "[INFO] BUILD SUCCESS"
`
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(script, "V", version)), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// A fetch with mvn reports what it fetches, files and bytes downloaded, jars in
// place and the time, while it runs and once at the end.
func TestEnsureMavenShowsProgress(t *testing.T) {
	mvn := fakeMvn(t, "4.1.1")
	var progress bytes.Buffer
	in := testInstaller(t, Options{Version: "4.1.1", CacheDir: t.TempDir(), Source: SourceMaven, Progress: &progress}, nil)
	in.lookPath = func(string) (string, error) { return mvn, nil }
	in.progressEvery = 100 * time.Millisecond
	rt, err := in.ensure(context.Background())
	if err != nil {
		t.Fatalf("ensure: %v\n%s", err, progress.String())
	}
	if rt.Origin != OriginMaven {
		t.Errorf("origin %q", rt.Origin)
	}
	out := progress.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var during []string
	for _, l := range lines {
		if strings.HasPrefix(l, "  fetching kafka_2.13 4.1.1 and its dependencies: ") {
			during = append(during, l)
		}
	}
	if len(during) < 2 {
		t.Errorf("want progress lines while mvn runs, got:\n%s", out)
	}
	if !strings.Contains(out, "  fetching kafka_2.13 4.1.1 and its dependencies: 1 files downloaded (0.0 MB), 0 jars in place, 0s") {
		t.Errorf("no early progress line with the pom downloaded:\n%s", out)
	}
	if !strings.Contains(out, "  fetched kafka_2.13 4.1.1 and its dependencies: 3 files downloaded (12.8 MB), 2 jars, in ") {
		t.Errorf("no final line with 3 files, 12.8 MB and 2 jars:\n%s", out)
	}
	if strings.Contains(out, "\r") || strings.Contains(out, "\x1b") {
		t.Errorf("progress rewrites lines although the output is no terminal:\n%q", out)
	}
}
