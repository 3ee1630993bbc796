package dist

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseJavaVersion(t *testing.T) {
	tests := []struct {
		name    string
		out     string
		want    int
		wantErr bool
	}{
		{name: "debian 17", out: "openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime Environment (build 17.0.15+6-Debian-1deb12u1)\nOpenJDK 64-Bit Server VM (build 17.0.15+6-Debian-1deb12u1, mixed mode, sharing)\n", want: 17},
		{name: "oracle 8 old numbering", out: "java version \"1.8.0_401\"\nJava(TM) SE Runtime Environment (build 1.8.0_401-b10)\n", want: 8},
		{name: "21 without minor", out: "openjdk version \"21\" 2023-09-19\nOpenJDK Runtime Environment (build 21+35-2513)\n", want: 21},
		{name: "early access", out: "openjdk version \"22-ea\" 2024-03-19\n", want: 22},
		{name: "11 LTS", out: "openjdk version \"11.0.22\" 2024-01-16 LTS\n", want: 11},
		{name: "tool options line first", out: "Picked up JAVA_TOOL_OPTIONS: -Dfile.encoding=UTF-8\nopenjdk version \"17.0.9\" 2023-10-17\n", want: 17},
		{name: "no version", out: "Error: could not open `/usr/lib/jvm/jvm.cfg'\n", wantErr: true},
		{name: "empty", out: "", wantErr: true},
		{name: "non-numeric", out: "openjdk version \"abc\"\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseJavaVersion([]byte(tt.out))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("parseJavaVersion() = %d, want error", got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseJavaVersion() = %d, %v; want %d", got, err, tt.want)
			}
		})
	}
}

func TestCheckJava(t *testing.T) {
	tests := []struct {
		name      string
		javaMajor int
		kafka     string
		wantErr   []string
	}{
		{name: "17 runs 4.x", javaMajor: 17, kafka: "4.1.1"},
		{name: "21 runs 4.x", javaMajor: 21, kafka: "4.0.0"},
		{name: "11 runs 3.9", javaMajor: 11, kafka: "3.9.1"},
		{name: "11 is too old for 4.x", javaMajor: 11, kafka: "4.1.1", wantErr: []string{"Kafka 4.1.1 needs Java 17+", "/jdk/bin/java is Java 11", "openjdk-17-jdk-headless"}},
		{name: "8 is too old for 3.9", javaMajor: 8, kafka: "3.9.1", wantErr: []string{"Kafka 3.9.1 needs Java 11+", "is Java 8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckJava("/jdk/bin/java", tt.javaMajor, tt.kafka)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("CheckJava() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatal("CheckJava() = nil, want error")
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q lacks %q", err, s)
				}
			}
		})
	}
}

func TestLocateJava(t *testing.T) {
	jdk := t.TempDir()
	if err := os.MkdirAll(filepath.Join(jdk, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(jdk, "bin", "java"), nil, 0o755); err != nil {
		t.Fatal(err)
	}
	onPath := func(string) (string, error) { return "/usr/bin/java", nil }
	notOnPath := func(string) (string, error) { return "", exec.ErrNotFound }
	tests := []struct {
		name     string
		javaHome string
		lookPath func(string) (string, error)
		want     string
		wantErr  string
	}{
		{name: "JAVA_HOME wins over PATH", javaHome: jdk, lookPath: onPath, want: filepath.Join(jdk, "bin", "java")},
		{name: "PATH", lookPath: onPath, want: "/usr/bin/java"},
		{name: "nowhere", lookPath: notOnPath, wantErr: "java not found: install a JDK 17+ (e.g. apt-get install openjdk-17-jdk-headless) or set JAVA_HOME"},
		{name: "broken JAVA_HOME is not silently skipped", javaHome: filepath.Join(jdk, "missing"), lookPath: onPath, wantErr: "has no bin/java"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := locateJava(tt.javaHome, tt.lookPath)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("locateJava() = %q, %v; want error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("locateJava() = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestFirstWord(t *testing.T) {
	tests := []struct {
		name string
		out  string
		want string
	}{
		{name: "plain", out: "4.1.1\n", want: "4.1.1"},
		{name: "leading blank line", out: "\n  3.9.1 (Commit:abc)\n", want: "3.9.1"},
		{name: "nothing", out: "\n\n", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := firstWord([]byte(tt.out)); got != tt.want {
				t.Errorf("firstWord(%q) = %q, want %q", tt.out, got, tt.want)
			}
		})
	}
}
