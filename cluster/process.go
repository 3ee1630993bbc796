package cluster

// This file owns node processes: starting a detached JVM, recognising it later by
// pid + start time + command line (never signalling a stranger that reused the pid),
// and stopping it.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kraftlab/kraftlab/cluster/step"
)

// procInfo is what /proc says about a pid.
type procInfo struct {
	StartTime uint64 // clock ticks after boot
	State     byte   // R, S, D, Z, T, ...
	Cmdline   []string
}

// readProc reads /proc/<pid>/stat and cmdline. A missing process is fs.ErrNotExist.
func readProc(pid int) (procInfo, error) {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, err
	}
	info, err := parseStat(stat)
	if err != nil {
		return procInfo{}, err
	}
	cmd, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	if err != nil {
		return procInfo{}, err
	}
	info.Cmdline = strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
	return info, nil
}

// parseStat reads the state (field 3) and start time (field 22) of /proc/<pid>/stat.
// The command name (field 2) may hold spaces and parentheses, so fields are counted
// from the last ')'.
func parseStat(stat []byte) (procInfo, error) {
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return procInfo{}, errors.New("malformed /proc stat")
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 20 {
		return procInfo{}, errors.New("malformed /proc stat")
	}
	start, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return procInfo{}, fmt.Errorf("malformed /proc stat start time: %w", err)
	}
	return procInfo{StartTime: start, State: fields[0][0]}, nil
}

// isOurs reports whether info describes the process recorded for node: the same
// start time and a command line running that node's properties file.
func isOurs(n NodeState, propsFile string, info procInfo) bool {
	if n.PID == 0 || info.StartTime != n.StartTime {
		return false
	}
	for _, a := range info.Cmdline {
		if a == propsFile {
			return true
		}
	}
	return false
}

// nodeProcess is the live process of a node, if the recorded one is still running.
// A zombie counts as gone.
func (p Paths) nodeProcess(n NodeState) (procInfo, bool) {
	if n.PID == 0 {
		return procInfo{}, false
	}
	info, err := readProc(n.PID)
	if err != nil || info.State == 'Z' || !isOurs(n, p.PropertiesFile(n.ID), info) {
		return procInfo{}, false
	}
	return info, true
}

// NodeAlive reports whether node n's recorded process is running (paused counts).
func (p Paths) NodeAlive(n NodeState) bool {
	_, ok := p.nodeProcess(n)
	return ok
}

// NodePaused reports whether node n's process is stopped by SIGSTOP.
func (p Paths) NodePaused(n NodeState) bool {
	info, ok := p.nodeProcess(n)
	return ok && info.State == 'T'
}

// startedNode is a JVM kraftlab launched in this run; exited closes when it ends so
// waits notice a dying node at once instead of at the deadline.
type startedNode struct {
	ID      int
	PID     int
	Start   uint64
	exited  chan struct{}
	exitErr error
}

// startNode launches args as a detached process (own session, so a Ctrl-C in the
// terminal does not reach it) with stdout and stderr appended to consoleLog.
func startNode(id int, args []string, consoleLog string) (*startedNode, error) {
	out, err := os.OpenFile(consoleLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start node %d: %w", id, err)
	}
	defer out.Close()
	fmt.Fprintf(out, "--- kraftlab: starting node %d at %s\n", id, time.Now().Format(time.RFC3339))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start node %d: %w", id, err)
	}
	s := &startedNode{ID: id, PID: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		s.exitErr = cmd.Wait()
		close(s.exited)
	}()
	info, err := readProc(s.PID)
	if err != nil {
		<-s.exited
		return nil, fmt.Errorf("start node %d: process exited at once (%v); see %s", id, s.exitErr, consoleLog)
	}
	s.Start = info.StartTime
	return s, nil
}

// dead reports the exit of a node started in this run, if it has exited.
func (s *startedNode) dead() (bool, error) {
	select {
	case <-s.exited:
		return true, s.exitErr
	default:
		return false, nil
	}
}

// stopNode sends SIGTERM to node n's process (only if it is still the recorded
// one), waits up to timeout, then SIGKILLs it. It returns once the process is gone.
func (p Paths) stopNode(ctx context.Context, n NodeState, timeout time.Duration) error {
	if !p.NodeAlive(n) {
		return nil
	}
	// A paused JVM cannot act on SIGTERM; let it run so it shuts down cleanly.
	_ = syscall.Kill(n.PID, syscall.SIGCONT)
	if err := syscall.Kill(n.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stop node %d (pid %d): %w", n.ID, n.PID, err)
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := step.Poll(tctx, fmt.Sprintf("node %d to exit", n.ID), pollInterval, func(context.Context) (bool, string, error) {
		return !p.NodeAlive(n), "", nil
	})
	if err == nil {
		return nil
	}
	return p.killNode(ctx, n)
}

// killNode SIGKILLs node n's process (only if it is still the recorded one) and
// waits until it is gone.
func (p Paths) killNode(ctx context.Context, n NodeState) error {
	if !p.NodeAlive(n) {
		return nil
	}
	if err := syscall.Kill(n.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill node %d (pid %d): %w", n.ID, n.PID, err)
	}
	kctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return step.Poll(kctx, fmt.Sprintf("node %d to exit after SIGKILL", n.ID), pollInterval, func(context.Context) (bool, string, error) {
		return !p.NodeAlive(n), "", nil
	})
}

// labProcesses finds running node processes of a lab by their command line (java
// running kafka.Kafka on a properties file inside the lab dir). It serves when the
// state file is unreadable and pids are unknown.
func (p Paths) labProcesses() []NodeState {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	prefix := p.Dir + string(os.PathSeparator) + "node"
	var found []NodeState
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		info, err := readProc(pid)
		if err != nil || info.State == 'Z' || len(info.Cmdline) < 2 {
			continue
		}
		last := info.Cmdline[len(info.Cmdline)-1]
		if info.Cmdline[len(info.Cmdline)-2] != "kafka.Kafka" || !strings.HasPrefix(last, prefix) {
			continue
		}
		id, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(last, prefix), string(os.PathSeparator)+"server.properties"))
		if err != nil || p.PropertiesFile(id) != last {
			continue
		}
		found = append(found, NodeState{ID: id, PID: pid, StartTime: info.StartTime})
	}
	return found
}
