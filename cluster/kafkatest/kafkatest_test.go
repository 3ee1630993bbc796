package kafkatest

// Tests of the package's own logic, without a JVM: options and the environment,
// names, progress lines, and the watchdog and reaper on labs that are not there.

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/internal/flock"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
)

func TestNewOptions(t *testing.T) {
	defaults := cluster.Spec{
		Nodes:      cluster.NodesSpec{Combined: 1},
		Heap:       DefaultHeap,
		Ports:      cluster.PortsSpec{Broker: defaultBrokerBase, Controller: defaultControllerBase, Auto: true},
		Properties: maps.Clone(testProperties),
	}
	with := func(f func(*cluster.Spec)) cluster.Spec {
		s := defaults
		s.Properties = maps.Clone(defaults.Properties)
		f(&s)
		return s
	}
	tests := []struct {
		name      string
		opts      []Option
		env       map[string]string
		want      cluster.Spec
		wantCache string
	}{
		{name: "defaults", want: defaults},
		{
			name: "environment fills the release and cache",
			env:  map[string]string{EnvVersion: "3.9.1", EnvCache: "/c"},
			want: with(func(s *cluster.Spec) { s.Kafka.Version = "3.9.1" }), wantCache: "/c",
		},
		{
			name: "KAFKA_HOME runs a local Kafka",
			env:  map[string]string{EnvKafkaHome: "/opt/kafka"},
			want: with(func(s *cluster.Spec) { s.Kafka.Home = "/opt/kafka" }),
		},
		{
			name: "options win over the environment",
			opts: []Option{Version("4.1.1"), CacheDir("/mine")},
			env:  map[string]string{EnvVersion: "3.9.1", EnvKafkaHome: "/opt/kafka", EnvCache: "/c"},
			want: with(func(s *cluster.Spec) { s.Kafka.Version = "4.1.1" }), wantCache: "/mine",
		},
		{
			name: "a Kafka home option wins over a version from the environment",
			opts: []Option{KafkaHome("/k")},
			env:  map[string]string{EnvVersion: "3.9.1"},
			want: with(func(s *cluster.Spec) { s.Kafka.Home = "/k" }),
		},
		{
			name: "isolated roles",
			opts: []Option{Controllers(1), Brokers(2)},
			want: with(func(s *cluster.Spec) { s.Nodes = cluster.NodesSpec{Controllers: 1, Brokers: 2} }),
		},
		{
			name: "properties over the test defaults",
			opts: []Option{Nodes(3), Heap("512M"), Properties(map[string]string{"offsets.topic.num.partitions": "5", "log.retention.ms": "1000"})},
			want: with(func(s *cluster.Spec) {
				s.Nodes.Combined, s.Heap = 3, "512M"
				s.Properties["offsets.topic.num.partitions"], s.Properties["log.retention.ms"] = "5", "1000"
			}),
		},
		{
			name: "fixed ports are kept",
			opts: []Option{Spec(cluster.Spec{Ports: cluster.PortsSpec{Broker: 25000, Controller: 25100}})},
			want: with(func(s *cluster.Spec) { s.Ports = cluster.PortsSpec{Broker: 25000, Controller: 25100} }),
		},
		{
			name: "auto ports without bases start from the test bases",
			opts: []Option{Spec(cluster.Spec{Ports: cluster.PortsSpec{Auto: true}})},
			want: defaults,
		},
		{
			name: "topics add up",
			opts: []Option{Topics(cluster.TopicSpec{Name: "a"}), Topics(cluster.TopicSpec{Name: "b", Partitions: 2})},
			want: with(func(s *cluster.Spec) {
				s.Topics = []cluster.TopicSpec{{Name: "a"}, {Name: "b", Partitions: 2}}
			}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newOptions(tt.opts, func(k string) string { return tt.env[k] })
			if got, want := fmt.Sprintf("%+v", o.spec), fmt.Sprintf("%+v", tt.want); got != want {
				t.Errorf("spec:\n got %s\nwant %s", got, want)
			}
			if o.cache != tt.wantCache {
				t.Errorf("cache %q, want %q", o.cache, tt.wantCache)
			}
			if o.wait != DefaultWait || o.skip {
				t.Errorf("wait %v skip %v, want %v false", o.wait, o.skip, DefaultWait)
			}
		})
	}
}

func TestOptionsLeaveTheCallersSpecAlone(t *testing.T) {
	mine := cluster.Spec{Properties: map[string]string{"a": "1"}, Topics: []cluster.TopicSpec{{Name: "t"}}}
	newOptions([]Option{Spec(mine), Properties(map[string]string{"b": "2"}), Topics(cluster.TopicSpec{Name: "u"})}, func(string) string { return "" })
	if len(mine.Properties) != 1 || len(mine.Topics) != 1 {
		t.Errorf("the caller's spec was changed: %+v", mine)
	}
}

func TestLabName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	for _, tt := range []struct{ spec, test, prefix string }{
		{"", "TestOrders", "testorders-"},
		{"", "TestOrders/sub case #2", "testorders-sub-case-2-"},
		{"", "TestAVeryLongNameThatGoesOnAndOnAndOnAndOn/and/on", "testaverylongnamethatgoesonand-"},
		{"", "///", "lab-"},
		{"orders", "TestOrders", "orders-"},
	} {
		got := labName(tt.spec, tt.test)
		if !valid.MatchString(got) || !strings.HasPrefix(got, tt.prefix+fmt.Sprint(os.Getpid())+"-") {
			t.Errorf("labName(%q, %q) = %q: want a lab name starting %q and the pid", tt.spec, tt.test, got, tt.prefix)
		}
	}
	if a, b := labName("", "T"), labName("", "T"); a == b {
		t.Errorf("two names for one test are both %q", a)
	}
}

func TestUniqueNames(t *testing.T) {
	valid := regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)
	seen := map[string]bool{}
	for _, sub := range []string{"plain", "with space", "ünïcode/and/slash"} {
		t.Run(sub, func(t *testing.T) {
			for _, name := range []string{TopicName(t), TopicName(t), GroupName(t)} {
				if !valid.MatchString(name) || !strings.HasPrefix(strings.TrimPrefix(name, "group-"), "TestUniqueNames.") {
					t.Errorf("%q: not a topic name made from the test's", name)
				}
				if seen[name] {
					t.Errorf("%q handed out twice", name)
				}
				seen[name] = true
			}
		})
	}
}

func TestTestLog(t *testing.T) {
	var lines []string
	w := &testLog{logf: func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }}
	fmt.Fprint(w, " • Starting node 1 ...\n ✓ Start")
	fmt.Fprint(w, "ing node 1 (0.1s)\n\nlast, unterminated")
	w.detach()
	fmt.Fprint(w, "after detach\n")
	want := []string{"kafkatest:  • Starting node 1 ...", "kafkatest:  ✓ Starting node 1 (0.1s)", "kafkatest: last, unterminated"}
	if strings.Join(lines, "|") != strings.Join(want, "|") {
		t.Errorf("logged %q, want %q", lines, want)
	}
}

func TestWatchdogWithNothingLeft(t *testing.T) {
	home := t.TempDir()
	// Announced and removed, announced and never there: neither is reported.
	for _, name := range []string{"gone", "never"} {
		if err := os.WriteFile(ownerFile(home, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var out strings.Builder
	code := runWatchdog(home, strings.NewReader("+gone\n+never\n-gone\n"), &out)
	if code != 0 || out.Len() != 0 {
		t.Errorf("exit %d, printed %q: want 0 and nothing", code, out.String())
	}
	if _, err := os.Stat(ownerFile(home, "never")); !os.IsNotExist(err) {
		t.Errorf("owner file of a lab the watchdog cleared is still there (%v)", err)
	}
}

func TestWatchdogReportsWhatItCannotRemove(t *testing.T) {
	home := t.TempDir()
	// Not a lab kraftlab made: refused, and said so.
	if err := os.Mkdir(filepath.Join(home, "strange"), 0o700); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	code := runWatchdog(home, strings.NewReader("+strange\n"), &out)
	if code != 1 || !strings.Contains(out.String(), "lab strange, and removing it failed") {
		t.Errorf("exit %d, printed %q: want 1 and the failure", code, out.String())
	}
	if _, err := os.Stat(filepath.Join(home, "strange")); err != nil {
		t.Errorf("a directory kraftlab did not make was touched: %v", err)
	}
}

func TestReapLeftoversSparesLabsWithALiveOwner(t *testing.T) {
	home := t.TempDir()
	for _, name := range []string{"dead-1", "alive-1"} {
		if err := os.WriteFile(ownerFile(home, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	lock, err := flock.TryLock(ownerFile(home, "alive-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	if reports := reapLeftovers(t.Context(), cluster.Config{Home: home}); len(reports) != 0 {
		t.Errorf("reports %q for labs that do not exist", reports)
	}
	if _, err := os.Stat(ownerFile(home, "dead-1")); !os.IsNotExist(err) {
		t.Errorf("owner file of a dead owner is still there (%v)", err)
	}
	if _, err := os.Stat(ownerFile(home, "alive-1")); err != nil {
		t.Errorf("owner file of a live owner was removed: %v", err)
	}
}

// A machine without Java: Start says what to install, and SkipIfUnavailable turns
// that into a skip. No JVM runs: the runtime step fails first.
func TestWithoutJava(t *testing.T) {
	t.Setenv("JAVA_HOME", filepath.Join(t.TempDir(), "no-jdk"))
	o := newOptions([]Option{CacheDir(t.TempDir())}, func(string) string { return "" })
	_, err := start(t.Context(), t, o, t.Name())
	var un *unavailableError
	if !errors.As(err, &un) {
		t.Fatalf("want the machine found unable to run Kafka, got %v", err)
	}
	for _, want := range []string{"JAVA_HOME=", "has no bin/java", "install a JDK", "KAFKA_HOME", "kafkatest.SkipIfUnavailable()"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	home, _ := labdir.UserTemp("kafkatest")
	if left, _ := filepath.Glob(filepath.Join(home, "testwithoutjava-"+strconv.Itoa(os.Getpid())+"-*")); len(left) > 0 {
		t.Errorf("a lab that never started left %v", left)
	}
	reached := false
	t.Run("SkipIfUnavailable", func(t *testing.T) {
		fail(t, &options{skip: true}, err)
		reached = true
	})
	if reached {
		t.Errorf("with SkipIfUnavailable, the test went on after a machine without Java")
	}
}
