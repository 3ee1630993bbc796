package dist

// This file owns running external commands (java, mvn) so that a failure carries the
// command line and the end of what it printed, like kind's RunError.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"time"
)

// RunError is a failed external command with what it printed.
type RunError struct {
	Command []string
	Output  []byte // stdout and stderr, interleaved as written
	Err     error  // the exit error, or the context's error when it was cancelled
}

// runErrorTailLines is how much output an error message quotes: enough for a Maven
// resolution failure or a Java stack trace head, short enough to read.
const runErrorTailLines = 15

func (e *RunError) Error() string {
	msg := fmt.Sprintf("command failed (%v): %s", e.Err, QuoteCommand(e.Command))
	if tail := outputTail(e.Output, runErrorTailLines); len(tail) > 0 {
		msg += "\n    " + strings.Join(tail, "\n    ")
	}
	return msg
}

func (e *RunError) Unwrap() error { return e.Err }

// run executes args in dir ("" = current). It returns stdout alone (for commands
// whose answer is printed there) and everything printed (for error messages).
func run(ctx context.Context, dir string, args ...string) (stdout, output []byte, err error) {
	return runWatched(ctx, dir, nil, args...)
}

// runWatched is run that also hands each line printed to onLine (if not nil) as
// it comes, to follow a long command.
func runWatched(ctx context.Context, dir string, onLine func(string), args ...string) (stdout, output []byte, err error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	// A JVM's children could keep our pipes open after it is killed on cancel; do
	// not wait for them forever.
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	all := &lockedBuffer{onLine: onLine}
	cmd.Stdout = io.MultiWriter(&out, all)
	cmd.Stderr = all
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return out.Bytes(), all.bytes(), &RunError{Command: args, Output: all.bytes(), Err: err}
	}
	return out.Bytes(), all.bytes(), nil
}

// lockedBuffer lets stdout and stderr, copied by separate goroutines, share one
// buffer and keep their interleaving; onLine, if set, sees each complete line.
type lockedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	onLine  func(string)
	partial []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.onLine != nil {
		b.partial = append(b.partial, p...)
		for {
			i := bytes.IndexByte(b.partial, '\n')
			if i < 0 {
				break
			}
			b.onLine(string(bytes.TrimRight(b.partial[:i], "\r")))
			b.partial = b.partial[i+1:]
		}
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)

// outputNoise are lines Maven appends to every failure; they push the one line
// that says what went wrong out of the quoted tail.
var outputNoise = []string{
	"To see the full stack trace of the errors",
	"Re-run Maven using the -X switch",
	"For more information about the errors and possible solutions",
	"[Help 1] http",
}

// outputTail is the last n meaningful lines of output: colour codes stripped (Maven
// colours even in batch mode), blank and boilerplate lines dropped.
func outputTail(output []byte, n int) []string {
	var lines []string
	for _, line := range strings.Split(ansiEscape.ReplaceAllString(string(output), ""), "\n") {
		line = strings.TrimRight(line, " \t\r")
		if t := strings.TrimSpace(line); t == "" || t == "[ERROR]" {
			continue
		}
		if isNoise(line) {
			continue
		}
		lines = append(lines, line)
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return lines
}

func isNoise(line string) bool {
	for _, n := range outputNoise {
		if strings.Contains(line, n) {
			return true
		}
	}
	return false
}

// QuoteCommand renders a command line the user can paste into a shell.
func QuoteCommand(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:+@,%", r))
		}) < 0 {
			q[i] = a
			continue
		}
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// Run executes a short command (e.g. Kafka's StorageTool); a failure is a *RunError
// carrying the command line and what it printed.
func Run(ctx context.Context, args ...string) error {
	_, _, err := run(ctx, "", args...)
	return err
}
