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

// Sizes of the excerpt shown when a node fails.
const (
	excerptScanLines  = 5000 // how far back the exceptions of the latest start are looked for
	excerptCauseLines = 40   // at most this many lines of exceptions
	excerptTailLines  = 15   // and then this many last lines of each file
)

// nodeLogExcerpt is what a user needs to see when node id failed: the exceptions
// of its latest start, each message with its whole "Caused by:" chain (the reason,
// say "Address already in use", is in a message, not in the last lines), then the
// last lines of its console output (JVM errors land there) and of its server log.
func (l *Lab) nodeLogExcerpt(id int) string {
	var causes strings.Builder
	var tails strings.Builder
	seen := make(map[string]bool)
	shown := 0
	for _, f := range []string{l.dir.ConsoleLog(id), l.dir.ServerLog(id)} {
		lines := sinceLastStart(tailLines(f, excerptScanLines))
		var fresh []string
		for _, l := range exceptionLines(lines) {
			if !seen[l] && shown < excerptCauseLines {
				seen[l] = true
				fresh = append(fresh, l)
				shown++
			}
		}
		if len(fresh) > 0 {
			fmt.Fprintf(&causes, "\n--- errors in %s:\n", f)
			for _, l := range fresh {
				causes.WriteString("    " + l + "\n")
			}
		}
		if len(lines) > excerptTailLines {
			lines = lines[len(lines)-excerptTailLines:]
		}
		if len(lines) > 0 {
			fmt.Fprintf(&tails, "\n--- last lines of %s:\n", f)
			for _, l := range lines {
				tails.WriteString("    " + l + "\n")
			}
		}
	}
	return strings.TrimRight(causes.String()+tails.String(), "\n")
}

// startMarkers open the output of one start of a node: kraftlab's line in
// console.log, and the first line Kafka logs in server.log, which is appended to
// across restarts.
var startMarkers = []string{"--- kraftlab: starting node ", "kafka.Log4jController"}

// sinceLastStart drops the lines before the latest start marker, if there is one:
// an exception of an earlier run is not why this one failed.
func sinceLastStart(lines []string) []string {
	for i := len(lines) - 1; i >= 0; i-- {
		for _, m := range startMarkers {
			if strings.Contains(lines[i], m) {
				return lines[i:]
			}
		}
	}
	return lines
}

// isStackFrame reports whether line is a frame of a Java stack trace ("\tat ...",
// "\t... 12 more").
func isStackFrame(line string) bool {
	t := strings.TrimLeft(line, " \t")
	if len(t) == len(line) {
		return false // frames are indented
	}
	return strings.HasPrefix(t, "at ") || strings.HasPrefix(t, "... ") && strings.HasSuffix(t, " more")
}

// exceptionLines returns the lines that say what went wrong in a log: for each
// stack trace, its message (from the log line that reported it, if that is the
// line right before) and the message of every "Caused by:" and "Suppressed:" in
// it, without the frames.
func exceptionLines(lines []string) []string {
	var out []string
	for i := 0; i < len(lines); i++ {
		if isStackFrame(lines[i]) || i+1 >= len(lines) || !isStackFrame(lines[i+1]) {
			continue
		}
		// lines[i] ends a message right before its frames; the message may span
		// lines, back to the log line that reported it or to the previous frame.
		from := i
		for from > 0 && i-from < 4 && !isStackFrame(lines[from-1]) {
			if _, ok := logLineTime(lines[from]); ok {
				break
			}
			from--
		}
		out = append(out, lines[from:i+1]...)
	}
	return out
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
	if err := l.requireExists(); err != nil {
		return err
	}
	for _, n := range l.nodes() {
		if o.Node == 0 || n.ID == o.Node {
			fl := &followedLog{path: l.dir.ServerLog(n.ID)}
			if o.Node == 0 {
				fl.prefix = fmt.Sprintf("node%d | ", n.ID)
			}
			logs = append(logs, fl)
		}
	}
	if len(logs) == 0 {
		return fmt.Errorf("node %d: no such node in lab %q (nodes %s)", o.Node, l.Name(), l.nodeIDList())
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
