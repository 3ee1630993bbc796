// Package e2e drives the built kraftlab binary against real Kafka brokers and checks
// the results with its own franz-go client. Every lab gets a temp KRAFTLAB_HOME and
// its own port block, and is torn down even when a test fails.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var (
	binary string // the kraftlab binary under test
	// cacheDir is the runtime cache shared by every test lab, so the runtime is
	// fetched once per run.
	cacheDir string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		fmt.Println("e2e: not run in -short mode (needs Java and real brokers)")
		return 0
	}
	dir, err := os.MkdirTemp("", "kraftlab-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "kraftlab")
	build := exec.Command("go", "build", "-o", binary, "../cmd/kraftlab")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: build kraftlab: %v\n%s", err, out)
		return 1
	}
	cacheDir = os.Getenv("KRAFTLAB_CACHE")
	if cacheDir == "" {
		c, err := os.UserCacheDir()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		cacheDir = filepath.Join(c, "kraftlab")
	}
	// The runtime is a precondition, not a test: without it every e2e test would fail
	// for the same reason. Under CI that is a failure, never a skip.
	cmd := exec.Command(binary, "install")
	cmd.Env = append(os.Environ(), "KRAFTLAB_CACHE="+cacheDir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		// Never a silent pass: without a runtime nothing here can be checked.
		fmt.Fprintf(os.Stderr, "e2e: FAIL: the Kafka runtime is unavailable, so no end-to-end test can run (install Java 17+ and Maven: make deps; or run the unit tests alone with go test -short ./...): %v\n%s", err, out)
		return 1
	}
	fmt.Printf("e2e: %s", out)
	return m.Run()
}

// lab is one kraftlab lab under test: its own home, name and port block.
type lab struct {
	t              *testing.T
	home           string
	name           string
	brokerBase     int
	controllerBase int
}

// newLab reserves a home and a free port block for n nodes and registers a cleanup
// that takes the lab down and makes sure none of its processes survive.
func newLab(t *testing.T, n int) *lab {
	t.Helper()
	b, c := freePortBlocks(t, n)
	return newLabOn(t, t.TempDir(), "e2e", b, c)
}

// newLabOn is newLab with a given home, name and port bases, so tests can place
// several labs in one home.
func newLabOn(t *testing.T, home, name string, brokerBase, controllerBase int) *lab {
	t.Helper()
	l := &lab{t: t, home: home, name: name, brokerBase: brokerBase, controllerBase: controllerBase}
	t.Cleanup(func() {
		l.kraftlab("down", "--purge", "--timeout", "20s")
		for _, pid := range l.javaPIDs() {
			t.Errorf("node process %d survived the test; killing it", pid)
			_ = killPID(pid)
		}
	})
	return l
}

// result is one kraftlab invocation.
type result struct {
	stdout, stderr string
	code           int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// kraftlab runs the binary against this lab's home and name.
func (l *lab) kraftlab(args ...string) result {
	l.t.Helper()
	return kraftlabIn(l.t, l.home, append(args, "--name", l.name)...)
}

// kraftlabIn runs the binary with KRAFTLAB_HOME=home and the shared runtime cache.
func kraftlabIn(t *testing.T, home string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), "KRAFTLAB_HOME="+home, "KRAFTLAB_CACHE="+cacheDir)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run kraftlab %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

// must runs kraftlab and fails the test unless it exits 0.
func (l *lab) must(args ...string) result {
	l.t.Helper()
	r := l.kraftlab(args...)
	if r.code != 0 {
		l.t.Fatalf("kraftlab %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// up starts the lab with n nodes on its port block.
func (l *lab) up(n int, extra ...string) result {
	l.t.Helper()
	args := append([]string{"up", "--nodes", strconv.Itoa(n), "--heap", "384M",
		"--broker-port", strconv.Itoa(l.brokerBase), "--controller-port", strconv.Itoa(l.controllerBase)}, extra...)
	return l.must(args...)
}

func (l *lab) bootstrap(n int) []string {
	var addrs []string
	for i := 0; i < n; i++ {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", l.brokerBase+i))
	}
	return addrs
}

func (l *lab) dir() string { return filepath.Join(l.home, l.name) }

// javaPIDs lists live processes whose command line runs a node of this lab.
func (l *lab) javaPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte(l.dir()+"/node")) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && bytes.HasPrefix(bytes.TrimSpace(stat[i+1:]), []byte("Z")) {
			continue // a zombie is gone, merely not yet reaped
		}
		pids = append(pids, pid)
	}
	return pids
}

func killPID(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}

// freePortBlocks finds two blocks of n consecutive free loopback ports, away from
// the defaults (9092.., 19092..), so tests never collide with a user's lab.
func freePortBlocks(t *testing.T, n int) (broker, controller int) {
	t.Helper()
	for attempt := 0; attempt < 200; attempt++ {
		// Below the ephemeral range (32768-60999 on Linux): a client reconnecting to
		// a port there that nothing listens on can be handed that very port as its
		// source and connect to itself, holding it when the node restarts.
		base := 20000 + rand.IntN(11000)
		if blockFree(base, n) && blockFree(base+1000, n) {
			return base, base + 1000
		}
	}
	t.Fatal("no free port block found")
	return 0, 0
}

func blockFree(base, n int) bool {
	for p := base; p < base+n; p++ {
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			return false
		}
		ln.Close()
	}
	return true
}

func decodeJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("output is not the expected JSON: %v\n%s", err, s)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func listenOn(t *testing.T, port int) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:"+itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	return ln
}
