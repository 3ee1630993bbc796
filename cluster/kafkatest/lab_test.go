package kafkatest

// Tests on real labs (not in -short mode): test binaries side by side, test
// processes that are killed or fail, and faults under an acks=all producer. Without
// Java or a Kafka runtime they fail: nothing here passes without real brokers.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/internal/proc"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
)

func requireKafka(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real Kafka brokers: run without -short")
	}
}

// Four test binaries, each with a lab of its own, started side by side by one go
// test: each lab gets ports of its own and every test passes.
func TestPackagesSideBySide(t *testing.T) {
	requireKafka(t)
	out, err := goCommand(t, "test", "-p", "4", "-count=1", "-v", "./testdata/parallel/...")
	if err != nil {
		t.Fatalf("go test -p 4 of four packages: %v\n%s", err, out)
	}
	labs := map[string][]string{}
	for _, m := range regexp.MustCompile(`(?m)^BROKERS (\S+) (\S+)$`).FindAllStringSubmatch(out, -1) {
		labs[m[1]] = strings.Split(m[2], ",")
	}
	if len(labs) != 4 || strings.Count(out, "\nok  \t") != 4 {
		t.Fatalf("want four labs and four packages passed:\n%s", out)
	}
	owner := map[string]string{}
	for name, brokers := range labs {
		for _, b := range brokers {
			if other, taken := owner[b]; taken {
				t.Errorf("labs %s and %s both listen on %s", other, name, b)
			}
			owner[b] = name
		}
	}
	t.Logf("four labs side by side: %v", labs)
}

// A test process killed mid-test leaves no JVM behind; when its watchdog was killed
// too, the next run reaps the lab and says so; a test that fails with t.Fatal has
// its lab removed by its cleanup.
func TestNothingOutlivesTheTestProcess(t *testing.T) {
	requireKafka(t)
	if runtime.GOOS != "linux" {
		t.Skip("finds the watchdog through /proc")
	}
	bin := filepath.Join(t.TempDir(), "victim.test")
	if out, err := goCommand(t, "test", "-c", "-o", bin, "./testdata/victim"); err != nil {
		t.Fatalf("build the victim test binary: %v\n%s", err, out)
	}

	// Whatever fails below, no lab of this test stays behind.
	t.Cleanup(func() {
		if home, err := labdir.UserTemp("kafkatest"); err == nil {
			reapLeftovers(context.Background(), cluster.Config{Home: home})
		}
	})

	var left victimLab
	t.Run("SIGKILL mid-test: the watchdog removes the lab", func(t *testing.T) {
		v := startVictim(t, bin, "TestHang")
		if v.watchdog() == 0 {
			t.Fatalf("the test process %d has no watchdog", v.pid)
		}
		killed := time.Now()
		v.kill(t)
		v.waitGone(t, 10*time.Second)
		t.Logf("lab %s gone %.1fs after SIGKILL", v.lab.name, time.Since(killed).Seconds())
		v.wait()
		want := fmt.Sprintf("kafkatest-watchdog: test process %d ended without removing lab %s: killed nodes [1] and removed %s", v.pid, v.lab.name, v.lab.dir)
		if !strings.Contains(v.output(), want) {
			t.Errorf("the watchdog did not report %q; output:\n%s", want, v.output())
		}
	})

	t.Run("watchdog killed too: the lab is left", func(t *testing.T) {
		v := startVictim(t, bin, "TestHang")
		wd := v.watchdog()
		if err := syscall.Kill(wd, syscall.SIGKILL); err != nil {
			t.Fatalf("kill the watchdog %d: %v", wd, err)
		}
		if err := step.Poll(t.Context(), "the watchdog to exit", 10*time.Millisecond, func(context.Context) (bool, string, error) {
			return v.watchdog() == 0, "", nil
		}); err != nil {
			t.Fatal(err)
		}
		v.kill(t)
		v.wait()
		if len(labJVMs(v.lab.dir)) == 0 {
			t.Fatalf("lab %s has no JVM left to reap", v.lab.name)
		}
		left = v.lab
	})
	if left.name == "" {
		t.FailNow()
	}

	t.Run("the next run reaps it; t.Fatal still removes its own lab", func(t *testing.T) {
		v := startVictim(t, bin, "TestFatal")
		err := v.wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(v.output(), "deliberate failure with the lab running") {
			t.Errorf("want the test to fail (exit 1) after its lab started; got %v:\n%s", err, v.output())
		}
		want := fmt.Sprintf("kafkatest: lab %s was left behind by a test process that ended: killed nodes [1] and removed %s", left.name, left.dir)
		if !strings.Contains(v.output(), want) {
			t.Errorf("the next run did not report %q; output:\n%s", want, v.output())
		}
		for _, l := range []victimLab{left, v.lab} {
			if pids := labJVMs(l.dir); len(pids) > 0 {
				t.Errorf("lab %s: JVMs %v still run", l.name, pids)
			}
			if _, err := os.Stat(l.dir); !os.IsNotExist(err) {
				t.Errorf("lab %s: %s is still there (%v)", l.name, l.dir, err)
			}
		}
	})
}

// Kill and Restart on a three-node lab while an acks=all producer writes: it goes on
// writing, and every record it was told was written can be read back.
func TestFaultsLoseNothingAcknowledged(t *testing.T) {
	requireKafka(t)
	lab := Start(t, Nodes(3))
	topic := TopicName(t)
	lab.CreateTopic(t, topic, 3, 3, map[string]string{"min.insync.replicas": "2"})

	p := startProducer(t, lab, topic)
	p.waitFor(t, 200)
	leader := lab.Leader(t, topic, 0)
	lab.Kill(t, leader)
	p.waitFor(t, 200)
	// The dead node's partitions move once the controller fences its broker
	// (broker.session.timeout.ms); writes to the others go on sooner, as soon as
	// their leaders drop it from the ISR (replica.lag.time.max.ms).
	for deadline := time.Now().Add(30 * time.Second); lab.Leader(t, topic, 0) == leader; {
		if time.Now().After(deadline) {
			t.Fatalf("node %d was killed and still leads %s/0 after 30 s", leader, topic)
		}
		time.Sleep(100 * time.Millisecond) // polling the leader, not waiting it out
	}
	lab.Start(t, leader)
	other := leader%3 + 1
	lab.Restart(t, other)
	p.waitFor(t, 200)
	acked := p.stop(t)

	got := map[string]bool{}
	cl := lab.Client(t, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for missing := len(acked); missing > 0; {
		fetches := cl.PollFetches(ctx)
		if err := fetches.Err0(); err != nil {
			t.Fatalf("read back with %d acknowledged records still missing: %v", missing, err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if acked[string(r.Value)] && !got[string(r.Value)] {
				missing--
			}
			got[string(r.Value)] = true
		})
	}
	t.Logf("%d records acknowledged through a kill of node %d and a restart of node %d, all read back", len(acked), leader, other)
}

// producer writes numbered records with acks=all until stopped, keeping those
// acknowledged.
type producer struct {
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu    sync.Mutex
	acked map[string]bool
	err   error // the last produce error, for the report
}

func startProducer(t *testing.T, lab *Lab, topic string) *producer {
	ctx, cancel := context.WithCancel(t.Context())
	p := &producer{
		// acks=all and idempotence are franz-go's defaults; said here for the reader.
		cl:     lab.Client(t, kgo.DefaultProduceTopic(topic), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.RecordDeliveryTimeout(time.Minute)),
		cancel: cancel, done: make(chan struct{}), acked: map[string]bool{},
	}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ctx.Err() == nil; i++ {
			v := strconv.Itoa(i)
			p.cl.Produce(ctx, &kgo.Record{Key: []byte(v), Value: []byte(v)}, func(_ *kgo.Record, err error) {
				p.mu.Lock()
				defer p.mu.Unlock()
				if err == nil {
					p.acked[v] = true
				} else if ctx.Err() == nil {
					p.err = err
				}
			})
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
	}()
	return p
}

// waitFor returns once n more records have been acknowledged.
func (p *producer) waitFor(t *testing.T, n int) {
	t.Helper()
	p.mu.Lock()
	want := len(p.acked) + n
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	err := step.Poll(ctx, fmt.Sprintf("%d more acknowledged records", n), 20*time.Millisecond, func(context.Context) (bool, string, error) {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.acked) >= want, fmt.Sprintf("%d of %d acknowledged", len(p.acked), want), p.err
	})
	if err != nil {
		t.Fatalf("the producer did not go on: %v", err)
	}
}

// stop ends the producer once what it sent is settled, and returns the
// acknowledged records.
func (p *producer) stop(t *testing.T) map[string]bool {
	t.Helper()
	p.cancel()
	<-p.done
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_ = p.cl.Flush(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.acked)
}

// goCommand runs the go command in this package's directory.
func goCommand(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "go", args...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// victimLab is the lab a victim test process announced.
type victimLab struct{ name, dir string }

// victim is one run of the victim test binary.
type victim struct {
	cmd    *exec.Cmd
	pid    int
	lab    victimLab
	out    *syncBuffer // stdout and stderr, the watchdog's included
	exited chan struct{}
	err    error
}

var labLine = regexp.MustCompile(`(?m)^LAB (\S+) (\S+) \d+$`)

// startVictim runs one test of the victim binary and returns once it has
// announced its lab.
func startVictim(t *testing.T, bin, test string) *victim {
	t.Helper()
	out := &syncBuffer{}
	cmd := exec.Command(bin, "-test.run=^"+test+"$", "-test.v", "-test.count=1")
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	v := &victim{cmd: cmd, pid: cmd.Process.Pid, out: out, exited: make(chan struct{})}
	go func() {
		v.err = cmd.Wait()
		close(v.exited)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	err := step.Poll(ctx, test+" to announce its lab", 20*time.Millisecond, func(context.Context) (bool, string, error) {
		if m := labLine.FindStringSubmatch(out.String()); m != nil {
			v.lab = victimLab{name: m[1], dir: m[2]}
			return true, "", nil
		}
		select {
		case <-v.exited:
			return false, "", step.Stop(fmt.Errorf("it ended: %v", v.err))
		default:
			return false, "", nil
		}
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return v
}

func (v *victim) kill(t *testing.T) {
	t.Helper()
	if err := v.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL the test process %d: %v", v.pid, err)
	}
}

// wait waits for the process, and for everyone holding its output (the watchdog).
func (v *victim) wait() error {
	<-v.exited
	return v.err
}

func (v *victim) output() string { return v.out.String() }

// watchdog is the pid of the victim's watchdog, or 0.
func (v *victim) watchdog() int {
	pids, _ := proc.Pids()
	for _, pid := range pids {
		info, err := proc.Read(pid)
		if err != nil || info.Zombie || len(info.Argv) == 0 || info.Argv[0] != watchdogArg0 {
			continue
		}
		if parentOf(pid) == v.pid {
			return pid
		}
	}
	return 0
}

// waitGone waits until the lab has no JVM and no directory left.
func (v *victim) waitGone(t *testing.T, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), within)
	defer cancel()
	err := step.Poll(ctx, "lab "+v.lab.name+" to be gone", 50*time.Millisecond, func(context.Context) (bool, string, error) {
		if pids := labJVMs(v.lab.dir); len(pids) > 0 {
			return false, fmt.Sprintf("JVMs %v run", pids), nil
		}
		if _, err := os.Stat(v.lab.dir); err == nil {
			return false, v.lab.dir + " is still there", nil
		}
		return true, "", nil
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, v.output())
	}
}

// parentOf reads a process's parent pid from /proc/PID/stat (after the command
// name, which may hold spaces and parentheses: state, then ppid).
func parentOf(pid int) int {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return ppid
}

// labJVMs lists the live node JVMs of the lab in dir, found by command line.
func labJVMs(dir string) []int {
	pids, _ := proc.Pids()
	var found []int
	for _, pid := range pids {
		info, err := proc.Read(pid)
		if err == nil && !info.Zombie && slices.ContainsFunc(info.Argv, func(a string) bool { return strings.HasPrefix(a, dir+"/node") }) {
			found = append(found, pid)
		}
	}
	return found
}

// syncBuffer is a bytes.Buffer that two goroutines may write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A secured lab: the admin client creates topics and ACLs, a user's client is
// denied until an ACL allows it.
func TestClientAs(t *testing.T) {
	requireKafka(t)
	lab := Start(t, Security(cluster.SecuritySCRAM, true, "alice"))
	topic := TopicName(t)
	lab.CreateTopic(t, topic, 1, 1, nil)
	alice := lab.ClientAs(t, "alice", kgo.DefaultProduceTopic(topic), kgo.RecordRetries(2))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := alice.ProduceSync(ctx, kgo.StringRecord("denied")).FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("alice without ACLs: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	acl := kadm.NewACLs().Allow("User:alice").AllowHosts().Topics(topic).Operations(kadm.OpWrite, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral)
	if _, err := lab.Admin(t).CreateACLs(ctx, acl); err != nil {
		t.Fatal(err)
	}
	if err := alice.ProduceSync(ctx, kgo.StringRecord("allowed")).FirstErr(); err != nil {
		t.Errorf("alice with an ACL: %v", err)
	}
}
