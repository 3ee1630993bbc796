package proc

// macOS: there is no /proc; the kernel answers through sysctl.

import (
	"fmt"
	"io/fs"

	"golang.org/x/sys/unix"
)

// p_stat values from <sys/proc.h>.
const (
	sstop = 4 // SSTOP: stopped by a signal
	szomb = 5 // SZOMB: exited, awaiting its parent
)

func read(pid int) (Info, error) {
	k, err := kinfo(pid)
	if err != nil {
		return Info{}, err
	}
	info := Info{
		StartTime: startTime(k),
		Stopped:   k.Proc.P_stat == sstop,
		Zombie:    k.Proc.P_stat == szomb,
	}
	if info.Zombie {
		return info, nil // its arguments went with its memory
	}
	raw, err := unix.SysctlRaw("kern.procargs2", pid)
	if err == nil {
		info.Argv, err = parseProcargs2(raw)
	}
	if err != nil {
		// The kernel refuses (EINVAL) for a process that has just exited, for another
		// user's, and for one in the middle of exec, whose arguments may also come
		// back half written. Only the first means "no such process"; the others are
		// live processes whose command line cannot be read, which no caller can take
		// for a node: like Linux's empty cmdline, they get no Argv.
		again, gone := kinfo(pid)
		if gone != nil {
			return Info{}, gone
		}
		if startTime(again) != info.StartTime {
			return Info{}, fmt.Errorf("read process %d: exited, pid reused: %w", pid, fs.ErrNotExist)
		}
		info.Argv = nil
		info.Stopped, info.Zombie = again.Proc.P_stat == sstop, again.Proc.P_stat == szomb
	}
	return info, nil
}

// startTime turns the kernel's start timeval into microseconds since the epoch.
func startTime(k *unix.KinfoProc) uint64 {
	t := k.Proc.P_starttime
	return uint64(t.Sec)*1_000_000 + uint64(t.Usec)
}

// kinfo asks for the kernel's kinfo_proc of pid. The slice form is used because an
// absent pid comes back as zero records, which tells "no such process" apart from
// a failure.
func kinfo(pid int) (*unix.KinfoProc, error) {
	ks, err := unix.SysctlKinfoProcSlice("kern.proc.pid", pid)
	if err != nil {
		return nil, fmt.Errorf("read process %d: %w", pid, err)
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("read process %d: %w", pid, fs.ErrNotExist)
	}
	return &ks[0], nil
}

func pids() ([]int, error) {
	ks, err := unix.SysctlKinfoProcSlice("kern.proc.all")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	found := make([]int, 0, len(ks))
	for _, k := range ks {
		if k.Proc.P_pid > 0 {
			found = append(found, int(k.Proc.P_pid))
		}
	}
	return found, nil
}

// listeningOn cannot tell on macOS (its socket tables are not plain text), so
// callers dial as they would without the check. The check matters most where a
// lab's ports lie in the ephemeral range; macOS's starts at 49152 by default, above
// kraftlab's default ports.
func listeningOn(int) (listening, known bool) { return false, false }
