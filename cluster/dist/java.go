package dist

// This file owns finding java, judging whether it can run a given Kafka, and asking
// a runtime which Kafka version it is.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

const installJavaHint = "install a JDK 17+ (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"

// FindJava returns the java to run Kafka with ($JAVA_HOME/bin/java, else java on
// PATH) and its major version. Whether that version suits a Kafka release is
// CheckJava's call.
func FindJava() (path string, major int, err error) {
	java, err := locateJava(os.Getenv("JAVA_HOME"), exec.LookPath)
	if err != nil {
		return "", 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// java -version prints to stderr; run's output holds both streams.
	_, out, err := run(ctx, "", java, "-version")
	if err != nil {
		return "", 0, fmt.Errorf("check java version: %w", err)
	}
	major, err = parseJavaVersion(out)
	if err != nil {
		return "", 0, fmt.Errorf("check java version of %s: %w", java, err)
	}
	return java, major, nil
}

// locateJava prefers JAVA_HOME and does not fall back to PATH when it is broken: the
// user set it on purpose, so silently running another java would mislead.
func locateJava(javaHome string, lookPath func(string) (string, error)) (string, error) {
	if javaHome != "" {
		java := filepath.Join(javaHome, "bin", "java")
		if _, err := os.Stat(java); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("JAVA_HOME=%s has no bin/java: point JAVA_HOME at a JDK 17+ or unset it", javaHome)
			}
			return "", fmt.Errorf("check JAVA_HOME: %w", err)
		}
		return java, nil
	}
	java, err := lookPath("java")
	if err != nil {
		return "", errors.New("java not found: " + installJavaHint)
	}
	return java, nil
}

var javaVersionPattern = regexp.MustCompile(`version "([^"]+)"`)

// parseJavaVersion reads the major version from `java -version` output:
// `openjdk version "17.0.15"` is 17, `java version "1.8.0_401"` is 8 (the old
// numbering), `openjdk version "21" ...` and "22-ea" are 21 and 22.
func parseJavaVersion(out []byte) (int, error) {
	m := javaVersionPattern.FindSubmatch(out)
	if m == nil {
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		return 0, fmt.Errorf("no version in `java -version` output (first line: %q)", first)
	}
	v := string(m[1])
	if rest, ok := strings.CutPrefix(v, "1."); ok {
		v = rest
	}
	end := strings.IndexFunc(v, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		end = len(v)
	}
	major, err := strconv.Atoi(v[:end])
	if err != nil || major == 0 {
		return 0, fmt.Errorf("unrecognised java version %q", m[1])
	}
	return major, nil
}

// MinJava is the oldest Java a Kafka release runs on: 4.x dropped Java 11 for
// brokers, 3.x still accepts it.
func MinJava(kafkaVersion string) int {
	if kafkaMajor(kafkaVersion) >= 4 {
		return 17
	}
	return 11
}

// CheckJava says whether java (major version javaMajor) can run kafkaVersion, naming
// what was found and what is needed when it cannot.
func CheckJava(java string, javaMajor int, kafkaVersion string) error {
	minimum := MinJava(kafkaVersion)
	if javaMajor >= minimum {
		return nil
	}
	return fmt.Errorf("Kafka %s needs Java %d+, but %s is Java %d: %s", kafkaVersion, minimum, java, javaMajor, installJavaHint)
}

// kafkaVersion runs `java -cp <libs>/* kafka.Kafka --version` and returns what it
// prints, proving the jars form a runnable broker on this java.
func kafkaVersion(ctx context.Context, java, libsDir string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	stdout, _, err := run(ctx, "", java, "-cp", filepath.Join(libsDir, "*"), "kafka.Kafka", "--version")
	if err != nil {
		return "", err
	}
	v := firstWord(stdout)
	if v == "" {
		return "", fmt.Errorf("kafka.Kafka --version printed no version (libs: %s)", libsDir)
	}
	return v, nil
}

// firstWord is the first field of the first non-blank line; the log4j 1 warnings of
// 3.x go to stderr, but be lenient about anything after the version.
func firstWord(out []byte) string {
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			return f[0]
		}
	}
	return ""
}
