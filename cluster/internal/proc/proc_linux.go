package proc

// Linux: everything comes from /proc.

import (
	"fmt"
	"os"
	"strconv"
)

func read(pid int) (Info, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return Info{}, fmt.Errorf("read process %d: %w", pid, err)
	}
	info, err := parseStat(stat)
	if err != nil {
		return Info{}, fmt.Errorf("read process %d: %w", pid, err)
	}
	cmdline, err := os.ReadFile(dir + "/cmdline")
	if err != nil {
		return Info{}, fmt.Errorf("read process %d: %w", pid, err)
	}
	info.Argv = parseCmdline(cmdline)
	return info, nil
}

func pids() ([]int, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var found []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			found = append(found, pid)
		}
	}
	return found, nil
}

func listeningOn(port int) (listening, known bool) {
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		known = true
		if listensOn(b, port) {
			return true, true
		}
	}
	return false, known
}
