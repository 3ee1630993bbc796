package kafkatest

// This file owns the watchdog: a second process that removes a test process's labs
// when it ends without doing so itself (SIGKILL, a panic, -timeout, Ctrl-C).
//
// Node JVMs run in sessions of their own, so nothing the kernel does when the test
// process dies reaches them. The watchdog is the test binary itself, run again
// with a marker this package's init recognises, in a session of its own too. It
// holds the read end of a pipe whose write end only the test process has: the
// test process writes "+NAME" when it starts a lab and "-NAME" once it has removed
// it, and when it ends, however it ends, the kernel closes the write end and the
// watchdog reads EOF. It then waits for each remaining lab's owner lock (released
// by the same exit), kills the lab's JVMs and removes the lab, and exits.
//
// A parent-death signal (Linux's PR_SET_PDEATHSIG, Go's SysProcAttr.Pdeathsig on
// each JVM) would be lighter, but Linux only, tied to the OS thread that forked the
// JVM rather than to the process (golang/go#27505), and it removes no lab
// directory; a watchdog does all three on Linux and macOS alike.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kraftlab/kraftlab/cluster"
)

const (
	// watchdogArg0 is the watchdog's argv[0], so ps shows what it is.
	watchdogArg0 = "kafkatest-watchdog"
	// watchdogEnv marks the watchdog process and holds the lab home; set only in
	// its own environment.
	watchdogEnv = "KAFKATEST_WATCHDOG_HOME"
	// watchdogGrace bounds the watchdog's work once its test process is gone.
	watchdogGrace = 2 * time.Minute
)

func init() {
	if home := os.Getenv(watchdogEnv); home != "" && filepath.Base(os.Args[0]) == watchdogArg0 {
		// The test's terminal and output pipes may go with it: neither a hangup, a
		// Ctrl-C nor a closed stderr may stop the cleanup half way.
		signal.Ignore(syscall.SIGHUP, syscall.SIGINT, syscall.SIGPIPE)
		os.Exit(runWatchdog(home, os.Stdin, os.Stderr))
	}
}

// watchdog is this process's watchdog, as the test process sees it.
type watchdog struct {
	mu     sync.Mutex
	home   string
	pipe   *os.File // the write end; never closed while the process lives
	pid    int
	exited chan struct{}   // closed when the watchdog process ends
	labs   map[string]bool // labs it watches, to tell a new watchdog
}

var current struct {
	sync.Mutex
	wd *watchdog
}

// theWatchdog is this process's watchdog, or nil if none was started.
func theWatchdog() *watchdog {
	current.Lock()
	defer current.Unlock()
	return current.wd
}

// startWatchdog returns this process's watchdog, starting it on first use, or
// again if it has died.
func startWatchdog(home string) (*watchdog, error) {
	current.Lock()
	defer current.Unlock()
	wd := current.wd
	if wd != nil && wd.home != home {
		return nil, fmt.Errorf("watchdog: labs in %s and %s from one process", wd.home, home)
	}
	if wd != nil && !wd.dead() {
		return wd, nil
	}
	labs := map[string]bool{}
	if wd != nil {
		labs = wd.labs
	}
	wd, err := spawnWatchdog(home)
	if err != nil {
		return nil, err
	}
	for name := range labs {
		if err := wd.watch(name); err != nil {
			return nil, err
		}
	}
	current.wd = wd
	return wd, nil
}

func spawnWatchdog(home string) (*watchdog, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("start the watchdog: find this test binary: %w", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("start the watchdog: %w", err)
	}
	defer r.Close()
	var env []string
	for _, kv := range os.Environ() {
		// Coverage counters of the watchdog are not the tests'.
		if !strings.HasPrefix(kv, "GOCOVERDIR=") && !strings.HasPrefix(kv, watchdogEnv+"=") {
			env = append(env, kv)
		}
	}
	cmd := &exec.Cmd{
		Path: exe,
		// -test.run=^$: should the marker ever be missed, the binary runs no test.
		Args:   []string{watchdogArg0, "-test.run=^$"},
		Env:    append(env, watchdogEnv+"="+home),
		Stdin:  r,
		Stderr: os.Stderr,
		// Its own session: a Ctrl-C or a signal to the test's process group must
		// not end the watchdog along with the test.
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start the watchdog (%s): %w", exe, err)
	}
	wd := &watchdog{home: home, pipe: w, pid: cmd.Process.Pid, exited: make(chan struct{}), labs: map[string]bool{}}
	go func() {
		_ = cmd.Wait()
		close(wd.exited)
	}()
	return wd, nil
}

func (wd *watchdog) dead() bool {
	select {
	case <-wd.exited:
		return true
	default:
		return false
	}
}

// watch tells the watchdog about a lab this process owns.
func (wd *watchdog) watch(name string) error {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	if _, err := fmt.Fprintf(wd.pipe, "+%s\n", name); err != nil {
		return fmt.Errorf("watchdog (pid %d): %w", wd.pid, err)
	}
	wd.labs[name] = true
	return nil
}

// forget tells the watchdog a lab is gone.
func (wd *watchdog) forget(name string) {
	wd.mu.Lock()
	defer wd.mu.Unlock()
	delete(wd.labs, name)
	_, _ = fmt.Fprintf(wd.pipe, "-%s\n", name)
}

// runWatchdog is the watchdog process: it follows the labs its test process
// announces on in until EOF, then removes those still there, reporting on out.
func runWatchdog(home string, in io.Reader, out io.Writer) int {
	parent := os.Getppid()
	labs := map[string]bool{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "+"):
			labs[line[1:]] = true
		case strings.HasPrefix(line, "-"):
			delete(labs, line[1:])
		}
	}
	if len(labs) == 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), watchdogGrace)
	defer cancel()
	cfg := cluster.Config{Home: home}
	code := 0
	for _, name := range slices.Sorted(maps.Keys(labs)) {
		what, err := reap(ctx, cfg, name, true)
		switch {
		case err != nil:
			fmt.Fprintf(out, "%s: test process %d ended without removing lab %s, and removing it failed: %v\n", watchdogArg0, parent, name, err)
			code = 1
		case what != "":
			fmt.Fprintf(out, "%s: test process %d ended without removing lab %s: %s\n", watchdogArg0, parent, name, what)
		}
	}
	return code
}
