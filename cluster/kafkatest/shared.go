package kafkatest

// This file owns the lab a package's tests share: declared in TestMain, started by
// the first test that asks for it, removed when the test binary is done.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var shared struct {
	sync.Mutex
	declared bool
	opts     []Option
	started  bool
	o        *options
	lab      *Lab
	err      error
}

// Main runs the package's tests with one lab that they share through Shared, and
// exits with their result. Call it from TestMain:
//
//	func TestMain(m *testing.M) { kafkatest.Main(m, kafkatest.Nodes(3)) }
//
// The lab starts when the first test calls Shared — a run whose tests all skip or
// do not match -run starts none — and is removed when the tests are done. Main
// never returns.
func Main(m *testing.M, opts ...Option) {
	shared.Lock()
	shared.declared, shared.opts = true, opts
	shared.Unlock()
	code := m.Run()
	shared.Lock()
	lab := shared.lab
	shared.Unlock()
	if lab != nil {
		if err := lab.close(nil); err != nil {
			fmt.Fprintf(os.Stderr, "kafkatest: %v\n", err)
			code = max(code, 1)
		}
	}
	os.Exit(code)
}

// Shared returns the package's shared lab, starting it on first use. The lab
// outlives the test: topics and groups a test makes stay, so give each test its
// own (TopicName, GroupName), and a test that breaks a node mends it before it
// ends (Start after Kill, Resume after Pause). Tests that must not share a lab
// call Start instead.
func Shared(t testing.TB) *Lab {
	t.Helper()
	shared.Lock()
	defer shared.Unlock()
	if !shared.declared {
		t.Fatal("kafkatest.Shared: no shared lab is declared: call kafkatest.Main(m, options...) from the package's TestMain")
	}
	if !shared.started {
		shared.started = true
		shared.o = newOptions(shared.opts, environ)
		// Named after the test binary: pkg.test's lab is pkg-<pid>-<random>.
		shared.lab, shared.err = start(t.Context(), t, shared.o, strings.TrimSuffix(filepath.Base(os.Args[0]), ".test"))
	}
	if shared.err != nil {
		fail(t, shared.o, shared.err)
	}
	return shared.lab
}
