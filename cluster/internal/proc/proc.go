// Package proc owns what kraftlab asks the operating system about processes and
// ports: a pid's start time, run state and command line (so a node's JVM is
// recognised, and a stranger that reused its pid is never signalled), every pid (to
// find a lab's JVMs when the state file is lost), and whether a TCP port has a
// listener. Linux answers from /proc, macOS from sysctl; other systems get an
// error that says they are not supported.
package proc

import (
	"fmt"
	"io/fs"
)

// Info is what the system says about one process.
type Info struct {
	// StartTime identifies the process together with its pid: a later process that
	// reuses the pid has another value. It is only compared for equality (Linux:
	// clock ticks after boot; macOS: microseconds since the epoch).
	StartTime uint64
	Stopped   bool // stopped by a signal such as SIGSTOP
	Zombie    bool // exited and not yet reaped: as good as gone
	// Argv is the command line. It is empty when the system does not show it: for
	// a zombie, a process in the middle of exec, or (macOS) another user's.
	Argv []string
}

// Read reports on process pid. When there is no such process, the error wraps
// fs.ErrNotExist.
func Read(pid int) (Info, error) {
	// Pid 0 and below name no single process (macOS even answers for 0, the kernel).
	if pid <= 0 {
		return Info{}, fmt.Errorf("read process %d: %w", pid, fs.ErrNotExist)
	}
	return read(pid)
}

// Pids lists every process of the machine.
func Pids() ([]int, error) { return pids() }

// Listening reports whether any socket of this machine listens on TCP port. known
// is false when this system cannot tell; callers then assume it listens.
func Listening(port int) (listening, known bool) { return listeningOn(port) }
