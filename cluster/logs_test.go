package cluster

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"
)

// logLab is a lab with nodes 1..n whose server logs hold the given text.
func logLab(t *testing.T, logs ...string) *Lab {
	t.Helper()
	l := plannedLab(t, Spec{Name: "logs", Nodes: NodesSpec{Combined: len(logs)}}, filepath.Join(t.TempDir(), "logs"))
	for i, text := range logs {
		id := i + 1
		if err := os.MkdirAll(l.dir.LogsDir(id), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(l.dir.ServerLog(id), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return l
}

const (
	node1Log = `[2026-11-30 12:00:00,100] INFO starting (kafka.Kafka$)
[2026-11-30 12:00:00,300] ERROR failed (kafka.server.X)
java.lang.IllegalStateException: boom
	at kafka.server.X.run(X.java:1)
[2026-11-30 12:00:00,500] INFO node1 last (kafka.Kafka$)
`
	node2Log = `	at the.tail.of.an.older.Trace(T.java:9)
[2026-11-30 12:00:00,200] INFO node2 first (kafka.Kafka$)
[2026-11-30 12:00:00,300] INFO node2 same millisecond (kafka.Kafka$)
[2026-11-30 12:00:00,400] INFO node2 last (kafka.Kafka$)
`
)

func TestLogs(t *testing.T) {
	tests := []struct {
		name string
		opts LogsOptions
		want string
	}{
		{
			name: "all nodes interleaved by time, stack traces kept with their line",
			opts: LogsOptions{Lines: 50},
			want: `node2 | 	at the.tail.of.an.older.Trace(T.java:9)
node1 | [2026-11-30 12:00:00,100] INFO starting (kafka.Kafka$)
node2 | [2026-11-30 12:00:00,200] INFO node2 first (kafka.Kafka$)
node1 | [2026-11-30 12:00:00,300] ERROR failed (kafka.server.X)
node1 | java.lang.IllegalStateException: boom
node1 | 	at kafka.server.X.run(X.java:1)
node2 | [2026-11-30 12:00:00,300] INFO node2 same millisecond (kafka.Kafka$)
node2 | [2026-11-30 12:00:00,400] INFO node2 last (kafka.Kafka$)
node1 | [2026-11-30 12:00:00,500] INFO node1 last (kafka.Kafka$)
`,
		},
		{
			name: "lines count per node",
			opts: LogsOptions{Lines: 1},
			want: "node2 | [2026-11-30 12:00:00,400] INFO node2 last (kafka.Kafka$)\nnode1 | [2026-11-30 12:00:00,500] INFO node1 last (kafka.Kafka$)\n",
		},
		{name: "one node, no prefix", opts: LogsOptions{Node: 2, Lines: 2}, want: "[2026-11-30 12:00:00,300] INFO node2 same millisecond (kafka.Kafka$)\n[2026-11-30 12:00:00,400] INFO node2 last (kafka.Kafka$)\n"},
		{name: "zero lines", opts: LogsOptions{Lines: 0}, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := logLab(t, node1Log, node2Log)
			var out bytes.Buffer
			if err := l.Logs(context.Background(), &out, tt.opts); err != nil {
				t.Fatal(err)
			}
			if out.String() != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", out.String(), tt.want)
			}
		})
	}
}

func TestLogsErrors(t *testing.T) {
	l := logLab(t, node1Log)
	var ue *usage.Error
	if err := l.Logs(context.Background(), &bytes.Buffer{}, LogsOptions{Lines: -1}); !errors.As(err, &ue) {
		t.Errorf("Lines -1: error %v, want a usage error", err)
	}
	if err := l.Logs(context.Background(), &bytes.Buffer{}, LogsOptions{Node: 7}); err == nil || !strings.Contains(err.Error(), "node 7: no such node") {
		t.Errorf("Node 7: error %v", err)
	}
}

func TestTailLinesNeverPanics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	if err := os.WriteFile(path, []byte("a\nb\nc\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		n    int
		want string
	}{{-1, ""}, {-1 << 62, ""}, {0, ""}, {2, "b,c"}, {1 << 62, "a,b,c"}} {
		if got := strings.Join(tailLines(path, tt.n), ","); got != tt.want {
			t.Errorf("tailLines(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := tailLines(filepath.Join(t.TempDir(), "missing"), 5); got != nil {
		t.Errorf("tailLines of a missing file = %q", got)
	}
}

// With -f, lines of all nodes that arrive in one poll come out in time order, and
// a stack trace written after its line, in the next poll, stays with it.
func TestFollowMergesNewLines(t *testing.T) {
	l := logLab(t, "", "")
	logs := []*followedLog{{path: l.dir.ServerLog(1), prefix: "node1 | "}, {path: l.dir.ServerLog(2), prefix: "node2 | "}}
	appendLog := func(id int, text string) {
		t.Helper()
		f, err := os.OpenFile(l.dir.ServerLog(id), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(text); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	poll := func() string {
		out.Reset()
		for _, fl := range logs {
			fl.poll()
		}
		writeMerged(&out, logs)
		return out.String()
	}
	steps := []struct {
		name   string
		append map[int]string
		want   string
	}{
		{
			name:   "the last line of each node is held for one poll",
			append: map[int]string{2: "[2026-11-30 12:00:02,000] INFO two (x)\n", 1: "[2026-11-30 12:00:01,000] ERROR one (x)\n"},
			want:   "",
		},
		{
			name:   "its stack trace arrives; node 2 is done; node 1's next line waits",
			append: map[int]string{1: "java.lang.Exception: why\n\tat x.y(Z.java:1)\n[2026-11-30 12:00:03,000] INFO three (x)\n"},
			want:   "node1 | [2026-11-30 12:00:01,000] ERROR one (x)\nnode1 | java.lang.Exception: why\nnode1 | \tat x.y(Z.java:1)\nnode2 | [2026-11-30 12:00:02,000] INFO two (x)\n",
		},
		{
			name: "nothing new: the held line comes out",
			want: "node1 | [2026-11-30 12:00:03,000] INFO three (x)\n",
		},
		{
			name:   "a partial line waits for its newline",
			append: map[int]string{2: "[2026-11-30 12:00:04,000] INFO fo"},
			want:   "",
		},
		{
			name:   "an earlier line of another node is not overtaken by a later one",
			append: map[int]string{2: "ur (x)\n", 1: "[2026-11-30 12:00:05,000] INFO five (x)\n[2026-11-30 12:00:06,000] INFO six (x)\n"},
			want:   "",
		},
		{
			name: "nothing new: all come out in order",
			want: "node2 | [2026-11-30 12:00:04,000] INFO four (x)\nnode1 | [2026-11-30 12:00:05,000] INFO five (x)\nnode1 | [2026-11-30 12:00:06,000] INFO six (x)\n",
		},
	}
	for _, st := range steps {
		for id := 1; id <= 2; id++ {
			if text, ok := st.append[id]; ok {
				appendLog(id, text)
			}
		}
		if got := poll(); got != st.want {
			t.Errorf("%s: wrote\n%q\nwant\n%q", st.name, got, st.want)
		}
	}
}

func TestLogsFollowStopsWithContext(t *testing.T) {
	l := logLab(t, node1Log)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	var out bytes.Buffer
	if err := l.Logs(ctx, &out, LogsOptions{Follow: true, Lines: 1}); err != nil {
		t.Fatalf("Logs -f ended by its context: %v", err)
	}
	if out.String() != "node1 | [2026-11-30 12:00:00,500] INFO node1 last (kafka.Kafka$)\n" {
		t.Errorf("Logs -f wrote %q", out.String())
	}
}
