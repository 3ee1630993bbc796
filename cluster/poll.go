package cluster

// This file owns the one polling helper every wait uses: a deadline from the
// context, a fixed interval, and a final error that says what was last seen.

import (
	"context"
	"fmt"
	"time"
)

// pollInterval is short because readiness should be noticed within ~100ms; each try
// is a cheap request on loopback.
const pollInterval = 100 * time.Millisecond

// errStop ends a poll at once with the wrapped error (e.g. a node process died).
type errStop struct{ err error }

func (e errStop) Error() string { return e.err.Error() }
func (e errStop) Unwrap() error { return e.err }

// poll calls try every interval until it reports done, returns a stop error, or ctx
// ends. try returns a short description of what it saw; on timeout the error names
// what was awaited, the number of attempts and that last observation.
func poll(ctx context.Context, what string, interval time.Duration, try func(context.Context) (done bool, seen string, err error)) error {
	attempts := 0
	var lastSeen string
	var lastErr error
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		attempts++
		done, seen, err := try(ctx)
		if stop, ok := err.(errStop); ok {
			return stop.err
		}
		if done {
			return nil
		}
		lastSeen, lastErr = seen, err
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
