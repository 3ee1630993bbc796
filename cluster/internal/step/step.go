// Package step runs the named steps of a kraftlab command — kind's " ✓ step" lines
// on stderr with timings — and holds the one polling helper every wait uses.
package step

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Timing records how long one named step took.
type Timing struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

// Steps prints each step as it starts and ends and keeps the timings.
type Steps struct {
	W       io.Writer // nil = discard
	Timings []Timing
	// Failed is the name of the last step that failed, for saying what an
	// interrupted command was doing.
	Failed string
}

// Run executes one named step, printing " • name ..." before and
// " ✓ name (1.2s)" or " ✗ name (1.2s)" after.
func (s *Steps) Run(name string, fn func() error) error {
	w := s.W
	if w == nil {
		w = io.Discard
	}
	fmt.Fprintf(w, " • %s ...\n", name)
	start := time.Now()
	err := fn()
	d := time.Since(start)
	s.Timings = append(s.Timings, Timing{Step: name, Seconds: d.Seconds()})
	mark := "✓"
	if err != nil {
		mark = "✗"
		s.Failed = name
	}
	fmt.Fprintf(w, " %s %s (%.1fs)\n", mark, name, d.Seconds())
	return err
}

// stopError ends a poll at once with the wrapped error.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }
func (e stopError) Unwrap() error { return e.err }

// Stop wraps err so that Poll returns it at once instead of trying again (e.g. a
// node process died: waiting longer cannot help).
func Stop(err error) error { return stopError{err} }

// Poll calls try every interval until it reports done, returns a Stop error, or ctx
// ends. try describes what it saw; on timeout the error names what was awaited, the
// number of attempts, that last observation and the last error, wrapping ctx.Err().
func Poll(ctx context.Context, what string, interval time.Duration, try func(context.Context) (done bool, seen string, err error)) error {
	attempts := 0
	var lastSeen string
	var lastErr error
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		attempts++
		done, seen, err := try(ctx)
		if stop, ok := err.(stopError); ok {
			return stop.err
		}
		if done {
			return nil
		}
		// An attempt cut short by the deadline says nothing new about the thing
		// awaited; keep what the previous attempt saw.
		if ctx.Err() == nil || (lastSeen == "" && lastErr == nil) {
			lastSeen, lastErr = seen, err
		}
		select {
		case <-ctx.Done():
			msg := fmt.Sprintf("%s: gave up after %d attempts", what, attempts)
			if lastSeen != "" {
				msg += "; last seen: " + lastSeen
			}
			if lastErr != nil {
				return fmt.Errorf("%s; last error: %w (%w)", msg, lastErr, ctx.Err())
			}
			return fmt.Errorf("%s (%w)", msg, ctx.Err())
		case <-t.C:
		}
	}
}
