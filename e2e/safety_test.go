package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// listeningAddrs reads the kernel's table of listening TCP sockets (IPv4 and IPv6)
// and returns the local address of each one listening on a port in ports.
func listeningAddrs(t *testing.T, ports map[int]bool) map[int]string {
	t.Helper()
	found := make(map[int]string)
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Scan() // header
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) < 4 || f[3] != "0A" { // 0A = LISTEN
				continue
			}
			hostHex, portHex, _ := strings.Cut(f[1], ":")
			port, _ := strconv.ParseInt(portHex, 16, 32)
			if ports[int(port)] {
				found[int(port)] = hostHex
			}
		}
	}
	return found
}

// checkLoopbackOnly asserts, from the OS side, that every lab port listens on
// 127.0.0.1 only.
func checkLoopbackOnly(t *testing.T, l *lab, n int) {
	t.Helper()
	ports := make(map[int]bool)
	for i := 0; i < n; i++ {
		ports[l.brokerBase+i], ports[l.controllerBase+i] = true, true
	}
	got := listeningAddrs(t, ports)
	for p := range ports {
		switch host, ok := got[p]; {
		case !ok:
			t.Errorf("port %d: nothing listening", p)
		case host != "0100007F" && host != "0000000000000000FFFF00000100007F":
			// 127.0.0.1 in /proc/net/tcp's hex, or as the IPv4-mapped IPv6 address a
			// JVM's dual-stack socket shows in /proc/net/tcp6.
			t.Errorf("port %d listens on %s, want 127.0.0.1 only", p, host)
		}
	}
	if st, err := os.Stat(l.dir()); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("lab dir mode: %v %v, want 0700", st.Mode().Perm(), err)
	}
}

// Ctrl-C during up stops the nodes it started, removes the new lab, says what
// was interrupted and exits 130; a following up works. If up happens to finish
// before the signal lands, the lab is purged and the interrupt tried again: the
// test never passes without having interrupted an up.
func TestInterruptDuringUp(t *testing.T) {
	l := newLab(t, 3)
	for attempt := 1; ; attempt++ {
		cmd := exec.Command(binary, "up", "--nodes", "3", "--heap", "384M", "--name", l.name,
			"--broker-port", itoa(l.brokerBase), "--controller-port", itoa(l.controllerBase))
		cmd.Env = append(os.Environ(), "KRAFTLAB_HOME="+l.home, "KRAFTLAB_CACHE="+cacheDir)
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Interrupt once the JVMs have been launched: the moment a user's Ctrl-C hurts.
		deadline := time.Now().Add(2 * time.Minute)
		for !strings.Contains(stderr.String(), "Waiting for the KRaft quorum") {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("up never reached the wait: %s", stderr.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if err == nil {
			if attempt == 3 {
				t.Fatalf("up finished before the interrupt three times: %s", stderr.String())
			}
			t.Logf("attempt %d: up finished before the interrupt landed; again", attempt)
			l.must("down", "--purge")
			continue
		}
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("interrupted up: %v, want exit code 130", err)
		}
		for _, w := range []string{"interrupted while waiting for the kraft quorum", "the new lab was removed"} {
			if !strings.Contains(strings.ToLower(stderr.String()), strings.ToLower(w)) {
				t.Errorf("interrupted up does not say %q:\n%s", w, stderr.String())
			}
		}
		if strings.Contains(stderr.String(), "StorageTool") || strings.Contains(stderr.String(), "context canceled") {
			t.Errorf("interrupted up prints internals instead of what happened:\n%s", stderr.String())
		}
		break
	}
	if pids := l.javaPIDs(); len(pids) != 0 {
		t.Fatalf("interrupted up left node processes: %v", pids)
	}
	if _, err := os.Stat(l.dir()); !os.IsNotExist(err) {
		t.Errorf("interrupted first up left a lab behind (%v)", err)
	}
	l.up(3)
	l.must("down", "--purge")
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
