package dist

// This file owns the maven source: resolving a broker's runtime classpath from Maven
// Central with the user's mvn (and its warm ~/.m2), showing how far it has got, and
// turning mvn's failures into messages that say what to do.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

var errMvnNotFound = errors.New("mvn not found: install Maven (apt-get install maven) or use --source apache / --kafka-home")

// coordinate is a Maven artifact groupId:artifactId:version.
type coordinate struct{ group, artifact, version string }

// mavenDeps is a broker's runtime: kafka_2.13 plus the logging binding the release
// tarball adds. The published POM has no binding, and without one SLF4J silently
// logs nothing at all.
func mavenDeps(version string) []coordinate {
	deps := []coordinate{{"org.apache.kafka", "kafka_2.13", version}}
	if kafkaMajor(version) >= 4 {
		return append(deps, coordinate{"org.apache.logging.log4j", "log4j-slf4j-impl", "2.24.3"})
	}
	return append(deps,
		coordinate{"org.slf4j", "slf4j-reload4j", "1.7.36"},
		coordinate{"ch.qos.reload4j", "reload4j", "1.2.25"},
	)
}

// pomXML is a throwaway project whose only purpose is its dependency list.
func pomXML(version string) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.kraftlab</groupId>
  <artifactId>kafka-runtime</artifactId>
`)
	fmt.Fprintf(&b, "  <version>%s</version>\n", version)
	b.WriteString("  <packaging>pom</packaging>\n  <dependencies>\n")
	for _, d := range mavenDeps(version) {
		fmt.Fprintf(&b, "    <dependency><groupId>%s</groupId><artifactId>%s</artifactId><version>%s</version></dependency>\n",
			d.group, d.artifact, d.version)
	}
	b.WriteString("  </dependencies>\n</project>\n")
	return []byte(b.String())
}

// fetchMaven fills <tmp>/libs with the runtime's jars.
func (in *installer) fetchMaven(ctx context.Context, tmp string) error {
	in.logf("Fetching Kafka %s from Maven Central (mvn)...", in.version)
	mvn, err := in.lookPath("mvn")
	if err != nil {
		return errMvnNotFound
	}
	// The project lives beside libs/, not in it, and goes before the rename.
	project := filepath.Join(tmp, ".maven")
	if err := os.Mkdir(project, 0o755); err != nil {
		return fmt.Errorf("write pom: %w", err)
	}
	defer os.RemoveAll(project)
	pom := filepath.Join(project, "pom.xml")
	if err := os.WriteFile(pom, pomXML(in.version), 0o644); err != nil {
		return fmt.Errorf("write pom: %w", err)
	}
	libs := filepath.Join(tmp, "libs")
	// Not -q: the "Downloaded from" lines are how the progress is known.
	prog := newMavenProgress(in.progress, in.progressEvery, fmt.Sprintf("kafka_2.13 %s and its dependencies", in.version), libs)
	_, output, err := runWatched(ctx, project, prog.observe, mvn, "-B", "-f", pom,
		"dependency:copy-dependencies", "-DincludeScope=runtime",
		"-DoutputDirectory="+libs)
	prog.stop(err == nil)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("fetch Kafka %s with mvn: %w", in.version, err)
		}
		return classifyMavenFailure(in.version, output, err)
	}
	return nil
}

// mavenUnreachableSigns are phrases of Maven failures where the repository never
// answered, as opposed to answering "no such artifact".
var mavenUnreachableSigns = []string{
	"Could not transfer artifact",
	"transfer failed for",
	"Unknown host",
	"UnknownHostException",
	"Connection refused",
	"Connect to ",
	"timed out",
	"Network is unreachable",
	"No route to host",
	"in offline mode",
	"PKIX path building failed",
	// Without network and without the plugin in ~/.m2 Maven cannot even resolve
	// "dependency:" to a plugin.
	"No plugin found for prefix",
}

// classifyMavenFailure maps a failed mvn run to the reason a user can act on; the
// RunError stays attached so the command and its output are still shown.
func classifyMavenFailure(version string, output []byte, runErr error) error {
	text := ansiEscape.ReplaceAllString(string(output), "")
	if kafkaArtifactMissing(text, version) {
		return &reasonError{
			msg:   fmt.Sprintf("Kafka %s is not on Maven Central (check the version; known: 3.9.x, 4.0.x-4.x)", version),
			kind:  ErrUnknownVersion,
			cause: runErr,
		}
	}
	for _, sign := range mavenUnreachableSigns {
		if strings.Contains(text, sign) {
			return &reasonError{
				msg:   fmt.Sprintf("cannot reach Maven Central to fetch Kafka %s (check the network, or the proxy/mirror in ~/.m2/settings.xml; or use --source apache / --kafka-home DIR)", version),
				kind:  ErrUnreachable,
				cause: runErr,
			}
		}
	}
	return fmt.Errorf("fetch Kafka %s with mvn: %w", version, runErr)
}

// kafkaArtifactMissing recognises Maven's "not found" for kafka_2.13 itself, both
// first time ("Could not find artifact ...") and when the miss was cached in ~/.m2
// ("... was not found in ... during a previous attempt").
func kafkaArtifactMissing(text, version string) bool {
	if !strings.Contains(text, "org.apache.kafka:kafka_2.13:jar:"+version) &&
		!strings.Contains(text, "org.apache.kafka:kafka_2.13:pom:"+version) {
		return false
	}
	for _, phrase := range []string{"Could not find artifact", "was not found in", "Failure to find"} {
		if strings.Contains(text, phrase) {
			return true
		}
	}
	return false
}

// mavenProgress follows a running mvn for the user: the files it has downloaded
// (from its "Downloaded from" lines), the jars copied into libs/ so far, and the
// time taken. On a terminal one line is rewritten in place every second; anywhere
// else a line is printed every ten seconds, so logs stay short.
type mavenProgress struct {
	w     io.Writer
	what  string // what is fetched, for the user
	libs  string
	tty   bool
	start time.Time
	done  chan struct{}
	wg    sync.WaitGroup

	mu    sync.Mutex
	files int
	bytes int64
}

// progressEvery is how often progress is printed when the installer sets no
// interval of its own.
func progressEvery(tty bool) time.Duration {
	if tty {
		return time.Second
	}
	return 10 * time.Second
}

func newMavenProgress(w io.Writer, every time.Duration, what, libs string) *mavenProgress {
	p := &mavenProgress{w: w, what: what, libs: libs, tty: isTerminal(w), start: time.Now(), done: make(chan struct{})}
	if every <= 0 {
		every = progressEvery(p.tty)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.print(false)
			}
		}
	}()
	return p
}

// downloadedLine is Maven's transfer log line, e.g.
// "Downloaded from central: https://repo.maven.apache.org/.../x-1.0.jar (1.2 MB at 3.4 MB/s)".
var downloadedLine = regexp.MustCompile(`Downloaded from [^:]+: \S+ \(([0-9.,]+) (B|kB|KB|MB|GB) at `)

// observe takes one line mvn printed.
func (p *mavenProgress) observe(line string) {
	m := downloadedLine.FindStringSubmatch(ansiEscape.ReplaceAllString(line, ""))
	if m == nil {
		return
	}
	n, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
	if err != nil {
		return
	}
	// Maven counts in thousands.
	scale := map[string]float64{"B": 1, "kB": 1e3, "KB": 1e3, "MB": 1e6, "GB": 1e9}[m[2]]
	p.mu.Lock()
	defer p.mu.Unlock()
	p.files++
	p.bytes += int64(n * scale)
}

// stop ends the reports with a last one, which on a terminal ends its line.
func (p *mavenProgress) stop(ok bool) {
	close(p.done)
	p.wg.Wait()
	if ok || p.tty {
		p.print(true)
	}
}

func (p *mavenProgress) print(final bool) {
	p.mu.Lock()
	files, bytes := p.files, p.bytes
	p.mu.Unlock()
	jars, _ := filepath.Glob(filepath.Join(p.libs, "*.jar"))
	line := fmt.Sprintf("  fetching %s: %d files downloaded (%.1f MB), %d jars in place, %s",
		p.what, files, float64(bytes)/1e6, len(jars), time.Since(p.start).Round(time.Second))
	if final {
		line = fmt.Sprintf("  fetched %s: %d files downloaded (%.1f MB), %d jars, in %s",
			p.what, files, float64(bytes)/1e6, len(jars), time.Since(p.start).Round(100*time.Millisecond))
	}
	switch {
	case p.tty && final:
		fmt.Fprintf(p.w, "\r\x1b[K%s\n", line)
	case p.tty:
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
	default:
		fmt.Fprintln(p.w, line)
	}
}

// isTerminal reports whether w is an interactive terminal, where a line can be
// rewritten in place.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
