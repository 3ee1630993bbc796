package cluster

// This file owns reading node logs: the excerpt shown when a node fails, and the
// 'kraftlab logs' view (one node, or all interleaved by time, optionally followed).

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"
)

// tailLines returns the last n lines of a file; none if n < 1 or it cannot be read.
func tailLines(path string, n int) []string {
	if n < 1 {
		return nil
	}
	// Read at most the last 256 KiB: enough for any sensible n, cheap for big logs.
	b := readTail(path, 256<<10)
	lines := strings.Split(strings.TrimRight(b, "\n"), "\n")
	if len(lines) == 1 && lines[0] == "" {
		return nil
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

// readTail returns the last n bytes of a file, from the first whole line on; ""
// if it cannot be read.
func readTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(st.Size()-n, 0)
	b := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(b, off); err != nil {
		return ""
	}
	s := string(b)
	if off > 0 {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	return s
}

// nodeLogExcerpt is what a user needs to see when node id failed: the tail of its
// console output (JVM errors land there) and of its server log.
func (p Paths) nodeLogExcerpt(id int) string {
	var b strings.Builder
	for _, f := range []string{p.ConsoleLog(id), p.ServerLog(id)} {
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
	Node   int  // 0 = every node, interleaved by time, each line prefixed with its node
	Lines  int  // how many trailing lines per node to show first; 0 none
	Follow bool // keep printing new lines until ctx ends
}

// followInterval is how often -f looks for new lines. Following a file has no
// event to wait for portably; a short poll is the norm (tail -f does the same).
const followInterval = 200 * time.Millisecond

// Logs writes the server log of one node, or of all nodes interleaved by the
// time of each line, to w.
func (l *Lab) Logs(ctx context.Context, w io.Writer, o LogsOptions) error {
	if o.Lines < 0 {
		return usage.Errorf("lines %d: want 0 or more", o.Lines)
	}
	var logs []*followedLog
	for _, n := range l.State.Nodes {
		if o.Node == 0 || n.ID == o.Node {
			fl := &followedLog{path: l.Paths.ServerLog(n.ID)}
			if o.Node == 0 {
				fl.prefix = fmt.Sprintf("node%d | ", n.ID)
			}
			logs = append(logs, fl)
		}
	}
	if len(logs) == 0 {
		return fmt.Errorf("node %d: no such node in lab %q (nodes %s)", o.Node, l.State.Name, l.nodeIDList())
	}
	for _, fl := range logs {
		fl.queue = groupLogEntries(tailLines(fl.path, o.Lines))
		if st, err := os.Stat(fl.path); err == nil {
			fl.offset = st.Size()
		}
	}
	writeMerged(w, logs)
	if !o.Follow {
		return nil
	}
	t := time.NewTicker(followInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		for _, fl := range logs {
			fl.poll()
		}
		writeMerged(w, logs)
	}
}

// followedLog is one node's log: how far it has been read, the entries read but
// not yet written, and under -f the entry read last, held back one poll in case
// more of its stack trace follows.
type followedLog struct {
	path    string
	prefix  string
	offset  int64
	queue   []logEntry
	pending *logEntry
}

// poll reads the lines appended since the last poll. Every entry but the last is
// complete and joins the queue; the last waits for the next poll, unless nothing
// new came in this one.
func (fl *followedLog) poll() {
	var lines []string
	lines, fl.offset = newLines(fl.path, fl.offset)
	if fl.pending != nil {
		lines = append(fl.pending.lines, lines...)
		if len(lines) == len(fl.pending.lines) {
			fl.queue, fl.pending = append(fl.queue, *fl.pending), nil
			return
		}
	}
	entries := groupLogEntries(lines)
	if len(entries) == 0 {
		return
	}
	fl.queue = append(fl.queue, entries[:len(entries)-1]...)
	fl.pending = &entries[len(entries)-1]
}

// newLines returns the complete lines appended to path since offset and the new
// offset. A file that shrank (rolled over) is read from its start.
func newLines(path string, offset int64) ([]string, int64) {
	f, err := os.Open(path)
	if err != nil {
		return nil, offset
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, offset
	}
	if st.Size() < offset {
		offset = 0
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return nil, offset
	}
	var lines []string
	r := bufio.NewReader(f)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return lines, offset // a partial line waits for its newline
		}
		offset += int64(len(line))
		lines = append(lines, string(bytes.TrimRight(line, "\r\n")))
	}
}

// logEntry is one logged event: a line that starts with a timestamp and the lines
// after it that do not (a stack trace, a multi-line message).
type logEntry struct {
	at    time.Time // zero when the first line has no timestamp: its head was cut off
	lines []string
}

// logTimeLayout is log4j's %d as Kafka's logging configuration writes it at the
// start of each line: "[2026-11-30 12:00:00,123] INFO ...".
const logTimeLayout = "2006-01-02 15:04:05,000"

// logLineTime is the timestamp a log line starts with, if it has one.
func logLineTime(line string) (time.Time, bool) {
	if len(line) < len(logTimeLayout)+2 || line[0] != '[' || line[len(logTimeLayout)+1] != ']' {
		return time.Time{}, false
	}
	t, err := time.Parse(logTimeLayout, line[1:len(logTimeLayout)+1])
	return t, err == nil
}

// groupLogEntries cuts lines into entries; lines before the first timestamp form
// an entry of their own.
func groupLogEntries(lines []string) []logEntry {
	var entries []logEntry
	for _, line := range lines {
		at, ok := logLineTime(line)
		if ok || len(entries) == 0 {
			entries = append(entries, logEntry{at: at})
		}
		e := &entries[len(entries)-1]
		e.lines = append(e.lines, line)
	}
	return entries
}

// writeMerged writes the queued entries of every log in time order, each log's
// own order kept: a k-way merge, earliest head first, the lower index on a tie.
// An entry without a time goes first, since it continues what came before it.
// Entries later than an entry still pending in some log wait for it, so that one
// poll's lines of all nodes come out in order.
func writeMerged(w io.Writer, logs []*followedLog) {
	var bound *time.Time
	for _, fl := range logs {
		if fl.pending != nil && (bound == nil || fl.pending.at.Before(*bound)) {
			bound = &fl.pending.at
		}
	}
	for {
		var pick *followedLog
		for _, fl := range logs {
			if len(fl.queue) > 0 && (pick == nil || fl.queue[0].at.Before(pick.queue[0].at)) {
				pick = fl
			}
		}
		if pick == nil || bound != nil && pick.queue[0].at.After(*bound) {
			return
		}
		for _, line := range pick.queue[0].lines {
			fmt.Fprintln(w, pick.prefix+line)
		}
		pick.queue = pick.queue[1:]
	}
}

func (l *Lab) nodeIDList() string {
	var ids []string
	for _, n := range l.State.Nodes {
		ids = append(ids, fmt.Sprint(n.ID))
	}
	return strings.Join(ids, ", ")
}
