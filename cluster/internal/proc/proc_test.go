package proc

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os/exec"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster/internal/step"
)

func supported(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		t.Skipf("no process table reader on %s", runtime.GOOS)
	}
}

// waitFor polls Read(pid) until cond holds, for at most five seconds: the kernel
// applies a signal asynchronously.
func waitFor(t *testing.T, pid int, what string, cond func(Info, error) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	err := step.Poll(ctx, what, 10*time.Millisecond, func(context.Context) (bool, string, error) {
		info, err := Read(pid)
		return cond(info, err), fmt.Sprintf("%+v", info), err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The whole life of a real process, as kraftlab sees a node's: running, paused,
// resumed, killed but not yet reaped, gone.
func TestReadRealProcess(t *testing.T) {
	supported(t)
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	reaped := false
	t.Cleanup(func() {
		if !reaped {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})

	// Start returns once exec has begun; the kernel sets up the new command line a
	// moment later, and until then it reads empty.
	waitFor(t, pid, "sleep's command line", func(i Info, err error) bool {
		return err == nil && slices.Equal(i.Argv, []string{"sleep", "30"})
	})
	first, err := Read(pid)
	if err != nil {
		t.Fatal(err)
	}
	if first.StartTime == 0 || first.Stopped || first.Zombie {
		t.Errorf("fresh process: %+v, want a start time, running", first)
	}
	second, err := Read(pid)
	if err != nil {
		t.Fatal(err)
	}
	if second.StartTime != first.StartTime {
		t.Errorf("start time changed between reads: %d then %d", first.StartTime, second.StartTime)
	}
	// Another process reads another start time. Not this test's own: start times
	// count clock ticks (10 ms), and a test binary can start within the tick its
	// sleep does. pid 1 started with the machine.
	initProc, err := Read(1)
	if err != nil {
		t.Fatal(err)
	}
	if initProc.StartTime == first.StartTime {
		t.Errorf("pid 1 and the sleep this test started share start time %d", first.StartTime)
	}

	all, err := Pids()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(all, pid) || !slices.Contains(all, syscall.Getpid()) {
		t.Errorf("Pids (%d of them) lacks the sleep %d or this test %d", len(all), pid, syscall.Getpid())
	}

	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, pid, "sleep to show as stopped", func(i Info, err error) bool { return err == nil && i.Stopped })
	if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, pid, "sleep to run again", func(i Info, err error) bool { return err == nil && !i.Stopped })

	// Until its parent waits, a killed process stays a zombie: not gone to the
	// kernel, gone to kraftlab.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, pid, "killed sleep to become a zombie", func(i Info, err error) bool { return err == nil && i.Zombie })
	zombie, _ := Read(pid)
	if zombie.StartTime != first.StartTime {
		t.Errorf("zombie's start time %d, want %d", zombie.StartTime, first.StartTime)
	}
	_ = cmd.Wait()
	reaped = true
	if _, err := Read(pid); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Read of a reaped process: %v, want fs.ErrNotExist", err)
	}
}

func TestReadNoProcess(t *testing.T) {
	for _, pid := range []int{0, -1} {
		if _, err := Read(pid); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Read(%d): %v, want fs.ErrNotExist", pid, err)
		}
	}
}

func TestListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	listening, known := Listening(port)
	if runtime.GOOS != "linux" {
		if known {
			t.Errorf("Listening claims to know on %s", runtime.GOOS)
		}
		ln.Close()
		return
	}
	if !known || !listening {
		t.Errorf("port %d has a listener: Listening = %v, known %v", port, listening, known)
	}
	ln.Close()
	if listening, known := Listening(port); !known || listening {
		t.Errorf("port %d has no listener any more: Listening = %v, known %v", port, listening, known)
	}
}
