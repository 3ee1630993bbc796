//go:build !linux && !darwin

package proc

// Systems other than Linux and macOS: kraftlab cannot tell its node processes
// apart from strangers there, so it says so instead of guessing.

import (
	"errors"
	"fmt"
	"runtime"
)

var errUnsupported = fmt.Errorf("reading processes is not supported on %s (kraftlab runs on Linux and macOS): %w", runtime.GOOS, errors.ErrUnsupported)

func read(pid int) (Info, error) {
	return Info{}, fmt.Errorf("read process %d: %w", pid, errUnsupported)
}

func pids() ([]int, error) { return nil, fmt.Errorf("list processes: %w", errUnsupported) }

func listeningOn(int) (listening, known bool) { return false, false }
