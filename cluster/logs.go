package cluster

// This file owns reading node logs: the tail shown when a node fails, and the
// 'kraftlab logs' view (one node or all interleaved, optionally followed).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// tailLines returns the last n lines of a file ("" if it cannot be read).
func tailLines(path string, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	// Read at most the last 256 KiB: enough for any sensible n, cheap for big logs.
	const window = 256 << 10
	if st, err := f.Stat(); err == nil && st.Size() > window {
		_, _ = f.Seek(st.Size()-window, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// nodeLogExcerpt is what a user needs to see when node id failed: the tail of its
// console output (JVM errors land there) and of its server log.
func (l *Lab) nodeLogExcerpt(id int) string {
	var b strings.Builder
	for _, f := range []string{l.dir.ConsoleLog(id), l.dir.ServerLog(id)} {
		lines := tailLines(f, 15)
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n--- last lines of %s:\n", f)
		for _, l := range lines {
			b.WriteString("    " + l + "\n")
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// LogsOptions selects what 'kraftlab logs' shows.
type LogsOptions struct {
	Node   int  // 0 = every node, each line prefixed with its node
	Lines  int  // how many trailing lines per node to show first
	Follow bool // keep printing new lines until ctx ends
}

// Logs writes the server log of one node, or of all nodes interleaved, to w.
func (l *Lab) Logs(ctx context.Context, w io.Writer, o LogsOptions) error {
	if err := l.requireExists(); err != nil {
		return err
	}
	var ids []int
	for _, n := range l.nodes() {
		if o.Node == 0 || n.ID == o.Node {
			ids = append(ids, n.ID)
		}
	}
	if len(ids) == 0 {
		return fmt.Errorf("node %d: no such node in lab %q (nodes %s)", o.Node, l.Name(), l.nodeIDList())
	}
	prefix := func(id int) string {
		if o.Node != 0 {
			return ""
		}
		return fmt.Sprintf("node%d | ", id)
	}
	offsets := make(map[int]int64)
	for _, id := range ids {
		path := l.dir.ServerLog(id)
		for _, line := range tailLines(path, o.Lines) {
			fmt.Fprintln(w, prefix(id)+line)
		}
		if st, err := os.Stat(path); err == nil {
			offsets[id] = st.Size()
		}
	}
	if !o.Follow {
		return nil
	}
	// Following a file has no event to wait for portably; a short poll is the norm
	// (tail -f does the same).
	t := time.NewTicker(200 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, id := range ids {
			offsets[id] = copyNewLines(w, l.dir.ServerLog(id), offsets[id], prefix(id))
		}
	}
}

// copyNewLines writes the complete lines appended to path since offset and returns
// the new offset. A file that shrank (rolled over) is read from its start.
func copyNewLines(w io.Writer, path string, offset int64, prefix string) int64 {
	f, err := os.Open(path)
	if err != nil {
		return offset
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return offset
	}
	if st.Size() < offset {
		offset = 0
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return offset
	}
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return offset // a partial line waits for its newline
		}
		offset += int64(len(line))
		fmt.Fprintf(w, "%s%s\n", prefix, bytes.TrimRight(line, "\r\n"))
	}
}
