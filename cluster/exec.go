package cluster

// This file owns running short external commands (Kafka's StorageTool) so that a
// failure carries the command line and its output, like kind's RunError.

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// RunError is a failed external command with what it printed.
type RunError struct {
	Command []string
	Output  []byte
	Err     error
}

func (e *RunError) Error() string {
	lines := strings.Split(strings.TrimSpace(string(e.Output)), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return fmt.Sprintf("command failed (%v): %s\n    %s", e.Err, shellQuote(e.Command), strings.Join(lines, "\n    "))
}

func (e *RunError) Unwrap() error { return e.Err }

func runCommand(ctx context.Context, args []string) error {
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return &RunError{Command: args, Output: out, Err: err}
	}
	return nil
}
