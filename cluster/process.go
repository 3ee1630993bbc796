package cluster

// This file owns node processes: starting a detached JVM, recognising it later by
// pid + start time + command line (never signalling a stranger that reused the pid),
// finding the lab's JVMs by their command line when the state lost track of them,
// and stopping them.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kraftlab/kraftlab/cluster/internal/proc"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
)

// isOurs reports whether info describes the process recorded for node n: the same
// start time and a command line running that node's properties file.
func (l *Lab) isOurs(n node, info proc.Info) bool {
	return n.rec.PID > 0 && info.StartTime == n.rec.StartTime && !info.Zombie &&
		slices.Contains(info.Argv, l.dir.PropertiesFile(n.ID))
}

// process is node n's live process, if the recorded one still runs.
func (l *Lab) process(n node) (proc.Info, bool) {
	if n.rec.PID <= 0 {
		return proc.Info{}, false
	}
	info, err := proc.Read(n.rec.PID)
	if err != nil || !l.isOurs(n, info) {
		return proc.Info{}, false
	}
	return info, true
}

// alive reports whether node n's recorded process runs (paused counts).
func (l *Lab) alive(n node) bool {
	_, ok := l.process(n)
	return ok
}

// paused reports whether node n's process is stopped by SIGSTOP.
func (l *Lab) paused(n node) bool {
	info, ok := l.process(n)
	return ok && info.Stopped
}

// startedNode is a JVM launched in this run; exited closes when it ends, so waits
// notice a dying node at once instead of at the deadline.
type startedNode struct {
	ID      int
	PID     int
	Start   uint64
	exited  chan struct{}
	exitErr error
}

// closeInheritedOnExec marks every descriptor this process inherited (beyond
// stdin, stdout and stderr) close-on-exec, once. A node JVM outlives kraftlab by
// design; without this it would keep whatever its starter held open — a lock file
// a script took with flock(1), say — for as long as the lab runs.
var closeInheritedOnExec = sync.OnceFunc(func() {
	for fd := 3; fd < 1024; fd++ {
		syscall.CloseOnExec(fd)
	}
})

// startProcess launches args as a detached process (its own session, so a Ctrl-C
// in the terminal does not reach it) with env added to kraftlab's environment and
// stdout and stderr appended to consoleLog.
func startProcess(id int, env, args []string, consoleLog string) (*startedNode, error) {
	closeInheritedOnExec()
	out, err := os.OpenFile(consoleLog, os.O_CREATE|os.O_WRONLY|os.O_APPEND|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return nil, fmt.Errorf("start node %d: %w", id, err)
	}
	defer out.Close()
	fmt.Fprintf(out, "--- kraftlab: starting node %d at %s\n", id, time.Now().Format(time.RFC3339))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start node %d: %w", id, err)
	}
	s := &startedNode{ID: id, PID: cmd.Process.Pid, exited: make(chan struct{})}
	go func() {
		s.exitErr = cmd.Wait()
		close(s.exited)
	}()
	info, err := proc.Read(s.PID)
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
// one), waits up to timeout, then SIGKILLs it. It returns once the process is gone;
// killed says whether SIGKILL was needed.
func (l *Lab) stopNode(ctx context.Context, n node, timeout time.Duration) (killed bool, err error) {
	if !l.alive(n) {
		return false, nil
	}
	// A paused JVM cannot act on SIGTERM; let it run so it shuts down cleanly.
	_ = syscall.Kill(n.rec.PID, syscall.SIGCONT)
	if err := syscall.Kill(n.rec.PID, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return false, fmt.Errorf("stop node %d (pid %d): %w", n.ID, n.rec.PID, err)
	}
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var lost time.Time // when the quorum was first seen without a majority
	done, stuck := false, false
	err = step.Poll(tctx, fmt.Sprintf("node %d to exit", n.ID), pollInterval, func(context.Context) (bool, string, error) {
		if !l.quorumLost(n) {
			return !l.alive(n), "", nil
		}
		if lost.IsZero() {
			lost = time.Now()
		}
		done = l.logsClosed(n)
		stuck = !done && time.Since(lost) >= stuckGrace
		return done || stuck || !l.alive(n), "", nil
	})
	switch {
	case err != nil || stuck:
		return true, l.killNode(ctx, n)
	case done:
		return false, l.killNode(ctx, n)
	}
	return false, nil
}

// stuckGrace is how long a node may go on closing its logs once the quorum has
// lost its majority. A broker whose controlled shutdown was not approved before
// then waits 5 minutes (hard-coded in Kafka's BrokerServer) for a controller that
// cannot come back; SIGKILL then costs what the timeout would, sooner.
const stuckGrace = 5 * time.Second

// cleanShutdownFile is what a broker's log manager writes into each log directory
// as the last step of closing its logs; the next start finds it and skips log
// recovery.
const cleanShutdownFile = ".kafka_cleanshutdown"

// quorumLost reports whether node n, asked to stop, is a controller of a quorum
// of several that has lost its majority: fewer than half the voters run. Nothing
// it does then needs the quorum but its broker's controlled shutdown, which was
// either approved already or never will be.
func (l *Lab) quorumLost(n node) bool {
	voters := l.voters()
	if !n.IsController() || voters < 2 || !l.alive(n) {
		return false
	}
	live := 0
	for _, o := range l.nodes() {
		if o.IsController() && l.alive(o) {
			live++
		}
	}
	return live < voters/2+1
}

// logsClosed reports whether node n has nothing left to do but wait: a voter
// that shuts down as quorum leader waits up to 5 s (hard-coded in Kafka's
// KafkaRaftClientDriver) for another voter to take over, which a quorum without
// a majority cannot; the last voter of a lab going down always waits it out.
// Once its broker, if it has one, has closed its logs (the clean-shutdown marker
// is written), SIGKILL loses nothing: the data logs are closed, and the metadata
// log is recovered from its start on every start, clean or not.
func (l *Lab) logsClosed(n node) bool {
	if !n.IsBroker() {
		return true
	}
	_, err := os.Lstat(filepath.Join(l.dir.DataDir(n.ID), cleanShutdownFile))
	return err == nil
}

// killNode SIGKILLs node n's process (only if it is still the recorded one) and
// waits until it is gone.
func (l *Lab) killNode(ctx context.Context, n node) error {
	if !l.alive(n) {
		return nil
	}
	if err := syscall.Kill(n.rec.PID, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill node %d (pid %d): %w", n.ID, n.rec.PID, err)
	}
	kctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return step.Poll(kctx, fmt.Sprintf("node %d to exit after SIGKILL", n.ID), pollInterval, func(context.Context) (bool, string, error) {
		return !l.alive(n), "", nil
	})
}

// labProcess is a running JVM serving one of this lab's nodes, found by its
// command line: java running kafka.Kafka on a properties file inside the lab.
type labProcess struct {
	ID    int
	PID   int
	Start uint64
}

// labProcesses finds every running JVM of this lab by its command line, whatever
// the state file says. It serves when the state is unreadable, and to catch nodes
// the state lost track of.
func (l *Lab) labProcesses() []labProcess {
	pids, err := proc.Pids()
	if err != nil {
		return nil
	}
	prefix := l.dir.Path + string(os.PathSeparator) + "node"
	var found []labProcess
	for _, pid := range pids {
		info, err := proc.Read(pid)
		if err != nil || info.Zombie || len(info.Argv) < 2 {
			continue
		}
		last := info.Argv[len(info.Argv)-1]
		if info.Argv[len(info.Argv)-2] != "kafka.Kafka" || !strings.HasPrefix(last, prefix) {
			continue
		}
		id, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(last, prefix), string(os.PathSeparator)+"server.properties"))
		if err != nil || l.dir.PropertiesFile(id) != last || filepath.Clean(last) != last {
			continue
		}
		found = append(found, labProcess{ID: id, PID: pid, Start: info.StartTime})
	}
	slices.SortFunc(found, func(a, b labProcess) int { return a.ID - b.ID })
	return found
}

// adoptStrays records, for every node whose recorded process is not running, a
// JVM of this lab that serves it anyway (the state lost track of it: edited, or
// written by a command that was killed). It reports the nodes adopted.
func (l *Lab) adoptStrays() []int {
	var adopted []int
	for _, p := range l.labProcesses() {
		n, ok := l.node(p.ID)
		if !ok || l.alive(n) {
			continue
		}
		n.rec.PID, n.rec.StartTime = p.PID, p.Start
		adopted = append(adopted, p.ID)
	}
	return adopted
}
