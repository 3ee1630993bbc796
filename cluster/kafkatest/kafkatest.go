// Package kafkatest runs real Apache Kafka in Go tests, without Docker: each lab
// is a kraftlab lab (KRaft mode, the broker's own JVMs as plain processes) that a
// test starts in seconds and that never outlives it.
//
//	func TestOrders(t *testing.T) {
//		lab := kafkatest.Start(t, kafkatest.Nodes(3))
//		topic := kafkatest.TopicName(t)
//		lab.CreateTopic(t, topic, 3, 3, nil)
//		cl := lab.Client(t, kgo.DefaultProduceTopic(topic))
//		...
//	}
//
// Start brings a lab up (one combined node unless asked otherwise) and registers
// its removal with t.Cleanup; Main and Shared give every test of a package one lab
// to share. Clients, admin clients and topics come from the lab; the fault helpers
// (Kill, Stop, Start, Restart, Pause, Resume, Leader, QuorumLeader) break and mend
// its nodes.
//
// # Nothing left running
//
// A test lab lives in a per-user directory, $TMPDIR/kraftlab-<uid>/kafkatest, and
// is owned by the test process that started it. When that process ends without
// its cleanup — killed, panicked, stopped by -timeout — a small watchdog process
// it started (the test binary itself, run again as "kafkatest-watchdog") sees it
// go, kills the lab's JVMs and removes the lab within seconds. Only processes
// whose start time and command line are the lab's own are ever signalled. If the
// watchdog was killed too, the next Start of any test on the machine removes the
// labs whose owners are gone, and logs what it removed.
//
// # Ports
//
// Listeners go on the first free window of ports from 21000 (brokers) and 26000
// (controllers) upward, bound to 127.0.0.1. A window is reserved for the user
// across processes while a lab starts, so test binaries that `go test ./...` runs
// side by side never pick the same ports.
//
// # Runtime
//
// Labs need Java 17+ and a Kafka runtime: the release is fetched once into the
// user's runtime cache (shared with the kraftlab command; Maven, or the Apache
// archive) on first use, following the test's context, and concurrent test
// binaries wait for one fetch instead of racing. Without Java or a runtime, Start
// fails the test and says what to install; SkipIfUnavailable skips instead.
//
// The package reads three environment variables, and only to fill in what the
// options leave unset: KRAFTLAB_CACHE (the runtime cache), KRAFTLAB_KAFKA_VERSION
// (the release, e.g. to run a whole suite against 3.9.1) and KAFKA_HOME (an
// unpacked Kafka to run, which works offline). JAVA_HOME picks the java, as for
// the kraftlab command.
//
// # Test defaults
//
// A test lab differs from the kraftlab command's default lab in: one combined
// node, a 256M heap per node, ports picked automatically, one partition for each
// internal topic (offsets.topic.num.partitions,
// transaction.state.log.num.partitions,
// share.coordinator.state.topic.num.partitions) instead of 50 so a first consumer
// group forms quickly, and brokers fenced after 4 s without a heartbeat
// (broker.session.timeout.ms=4000, broker.heartbeat.interval.ms=500) instead of 9 s,
// so partitions of a killed broker get new leaders sooner. Properties sets any of
// them otherwise.
package kafkatest

// This file owns the Lab handle: starting a lab for a test, and removing it.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/flock"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
)

// Lab is a running test lab. Its methods may be called from parallel tests; the
// ones that change the lab run one at a time.
type Lab struct {
	name    string
	home    string
	cfg     cluster.Config
	brokers []string
	wait    time.Duration

	mu    sync.Mutex // held by every operation on lab
	lab   *cluster.Lab
	log   *testLog
	owner *flock.Lock // held while this process owns the lab
	done  bool
}

// Start starts a lab for the test and returns once it is ready: the KRaft quorum
// has a leader, every broker is registered and serving, and the topics asked for
// exist. The lab is stopped and removed when the test and its subtests end,
// whatever way they end.
func Start(t testing.TB, opts ...Option) *Lab {
	t.Helper()
	o := newOptions(opts, environ)
	l, err := start(t.Context(), t, o, t.Name())
	if err != nil {
		fail(t, o, err)
	}
	t.Cleanup(func() {
		if err := l.close(t); err != nil {
			t.Errorf("kafkatest: %v", err)
		}
	})
	return l
}

// fail ends the test for a lab that did not start: skipped when the machine lacks
// what Kafka needs and the test said that may be skipped, failed otherwise.
func fail(t testing.TB, o *options, err error) {
	t.Helper()
	var un *unavailableError
	if o.skip && errors.As(err, &un) {
		t.Skipf("kafkatest: skipped (SkipIfUnavailable): %v", err)
	}
	t.Fatalf("kafkatest: %v", err)
}

// Brokers lists the lab's bootstrap servers, host:port.
func (l *Lab) Brokers() []string { return slices.Clone(l.brokers) }

// Name is the lab's name: its directory under the test lab home.
func (l *Lab) Name() string { return l.name }

// Dir is the lab's directory, with each node's logs in nodeN/logs/server.log.
func (l *Lab) Dir() string { return filepath.Join(l.home, l.name) }

// start brings up a new lab named after prefix.
func start(ctx context.Context, t testing.TB, o *options, prefix string) (*Lab, error) {
	home, err := labdir.UserTemp("kafkatest")
	if err != nil {
		return nil, fmt.Errorf("test lab home: %w", err)
	}
	log := &testLog{}
	log.attach(t)
	defer log.detach()
	cfg := cluster.Config{Home: home, Runtime: dist.Options{CacheDir: o.cache}, Progress: log}
	reapOnce.Do(func() {
		for _, r := range reapLeftovers(ctx, cfg) {
			t.Logf("kafkatest: %s", r)
		}
	})
	wd, err := startWatchdog(home)
	if err != nil {
		return nil, err
	}
	name, owner, err := claimName(home, o.spec.Name, prefix)
	if err != nil {
		return nil, err
	}
	l := &Lab{name: name, home: home, cfg: cfg, wait: o.wait, log: log, owner: owner}
	if err := wd.watch(name); err != nil {
		l.release(nil)
		return nil, err
	}
	spec := o.spec
	spec.Name = name
	lab, err := cluster.New(cfg, spec)
	if err == nil {
		_, err = lab.Up(ctx, cluster.UpOptions{Wait: o.wait})
	}
	if err != nil {
		// Up removes a lab it could not finish; teardown makes sure of it.
		if _, terr := teardown(context.Background(), cfg, name); terr != nil {
			err = fmt.Errorf("%w\n(and removing it: %v)", err, terr)
		}
		l.release(wd)
		// Only now, so a lab that starts pays nothing for it: was it the machine?
		// (Not after an interruption, which says nothing about the machine.)
		if ctx.Err() == nil {
			if rerr := checkRuntime(ctx, cfg.Runtime, o.spec.Kafka); rerr != nil {
				return nil, rerr
			}
		}
		return nil, fmt.Errorf("start lab %s: %w", name, err)
	}
	l.lab, l.brokers = lab, lab.BootstrapServers()
	t.Logf("kafkatest: lab %s is ready, brokers %s (%s)", name, strings.Join(l.brokers, ","), l.Dir())
	return l, nil
}

// close stops and removes the lab. It is idempotent.
func (l *Lab) close(t testing.TB) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return nil
	}
	l.done = true
	l.log.attach(t)
	defer l.log.detach()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := teardown(ctx, l.cfg, l.name)
	if err != nil {
		// The watchdog (or a later Start) tries again once this process is gone.
		return fmt.Errorf("remove lab %s: %w", l.name, err)
	}
	l.release(theWatchdog())
	return nil
}

// release gives up ownership of a lab that is gone: the watchdog forgets it and
// the owner file goes.
func (l *Lab) release(wd *watchdog) {
	if wd != nil {
		wd.forget(l.name)
	}
	_ = os.Remove(ownerFile(l.home, l.name))
	l.owner.Unlock()
}

// teardown kills every JVM of lab name at once and removes the lab: its data is
// the test's, so no broker needs a clean shutdown. It says what it found.
func teardown(ctx context.Context, cfg cluster.Config, name string) (*cluster.DownResult, error) {
	var killed []int
	if lab, err := cluster.Open(cfg, name); err == nil {
		// A lab whose state cannot be read or that was never formatted has no
		// recorded nodes to kill: Down finds its JVMs by their command lines.
		killed, _ = lab.KillAll(ctx)
	}
	res, err := cluster.Down(ctx, cfg, name, cluster.DownOptions{Purge: true, Timeout: 5 * time.Second})
	if err != nil {
		return nil, err
	}
	res.Stopped = append(killed, res.Stopped...)
	slices.Sort(res.Stopped)
	res.Stopped = slices.Compact(res.Stopped)
	return res, nil
}

// Lab names: a prefix from the test's name, the owner's pid and a random suffix,
// so no two processes (nor a process reusing a dead one's pid) pick the same.
var nameChars = regexp.MustCompile(`[^a-z0-9]+`)

func labName(specName, testName string) string {
	prefix := specName
	if prefix == "" {
		prefix = testName
	}
	prefix = strings.Trim(nameChars.ReplaceAllString(strings.ToLower(prefix), "-"), "-")
	if len(prefix) > 30 {
		prefix = strings.TrimRight(prefix[:30], "-")
	}
	if prefix == "" {
		prefix = "lab"
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return prefix + "-" + strconv.Itoa(os.Getpid()) + "-" + hex.EncodeToString(b)
}

// claimName picks a new lab name and takes its owner lock, held for as long as
// this process owns the lab: the kernel drops it when the process ends, however
// it ends, which is how the watchdog and later runs tell a lab left behind.
func claimName(home, specName, testName string) (string, *flock.Lock, error) {
	for range 10 {
		name := labName(specName, testName)
		if _, err := os.Lstat(filepath.Join(home, name)); err == nil {
			continue
		}
		lock, err := flock.TryLock(ownerFile(home, name))
		if errors.Is(err, flock.ErrBusy) {
			continue
		}
		if err != nil {
			return "", nil, fmt.Errorf("claim a lab name: %w", err)
		}
		return name, lock, nil
	}
	return "", nil, errors.New("claim a lab name: every name tried was taken")
}

func ownerFile(home, name string) string { return filepath.Join(home, name+".owner") }

// testLog passes the lab's progress lines to the test using the lab at the
// moment, so a shared lab never logs to a test that has ended.
type testLog struct {
	mu   sync.Mutex
	logf func(format string, args ...any) // nil: lines are dropped
	buf  bytes.Buffer
}

// attach sends the lines to t (nil: nowhere) until detach.
func (w *testLog) attach(t testing.TB) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.logf = nil
	if t != nil {
		w.logf = t.Logf
	}
}

func (w *testLog) detach() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flush(true)
	w.logf = nil
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	w.flush(false)
	return len(p), nil
}

// flush logs each whole line (and with all, what is left), then forgets it.
func (w *testLog) flush(all bool) {
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			break
		}
		w.logLine(string(w.buf.Next(i + 1)))
	}
	if all {
		w.logLine(w.buf.String())
		w.buf.Reset()
	}
}

func (w *testLog) logLine(line string) {
	line = strings.TrimRight(line, "\n")
	if line != "" && w.logf != nil {
		w.logf("kafkatest: %s", line)
	}
}
