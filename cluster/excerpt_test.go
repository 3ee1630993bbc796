package cluster

import (
	"os"

	"github.com/kraftlab/kraftlab/cluster/internal/labdir"

	"path/filepath"
	"strings"
	"testing"
)

// A real start failure: a Kafka 4.1.1 node started by hand (the java command kraftlab
// runs) while another program held its broker port 127.0.0.1:24092. The reason is in
// an exception message and its "Caused by:" lines, far from the log's last lines.
func TestNodeLogExcerptShowsTheCause(t *testing.T) {
	l := &Lab{dir: labdir.Dir{Path: t.TempDir()}}
	p := l.dir
	for src, dst := range map[string]string{"testdata/bind-failure-server.log": p.ServerLog(1), "testdata/bind-failure-console.log": p.ConsoleLog(1)} {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := l.nodeLogExcerpt(1)
	errorsAt := strings.Index(got, "\n--- errors in "+p.ServerLog(1)+":\n")
	tailAt := strings.Index(got, "\n--- last lines of "+p.ConsoleLog(1)+":\n")
	serverTailAt := strings.Index(got, "\n--- last lines of "+p.ServerLog(1)+":\n")
	if errorsAt < 0 || tailAt < errorsAt || serverTailAt < tailAt {
		t.Fatalf("want the errors of server.log, then the last lines of console.log and server.log:\n%s", got)
	}
	causes := got[errorsAt:tailAt]
	for _, want := range []string{
		"    [2026-11-30 12:47:00,093] ERROR Unable to start acceptor for PLAINTEXT (kafka.network.DataPlaneAcceptor)\n" +
			"    org.apache.kafka.common.KafkaException: Socket server failed to bind to 127.0.0.1:24092: Address already in use.\n" +
			"    Caused by: java.net.BindException: Address already in use\n",
		"    [2026-11-30 12:47:00,123] ERROR [BrokerServer id=1] Fatal error during broker startup. Prepare to shutdown (kafka.server.BrokerServer)\n" +
			"    java.lang.RuntimeException: Received a fatal error while waiting for all of the SocketServer Acceptors to be started\n" +
			"    Caused by: java.lang.RuntimeException: Unable to start acceptor for PLAINTEXT\n",
	} {
		if !strings.Contains(causes, want) {
			t.Errorf("errors lack\n%s\ngot:\n%s", want, causes)
		}
	}
	// The same message is not repeated, and no stack frame is shown.
	if n := strings.Count(causes, "Caused by: java.net.BindException: Address already in use"); n != 1 {
		t.Errorf("the BindException shows %d times, want once:\n%s", n, causes)
	}
	if strings.Contains(causes, "\tat ") || strings.Contains(causes, "... 16 more") {
		t.Errorf("errors show stack frames:\n%s", causes)
	}
	if !strings.Contains(got[serverTailAt:], "shut down completely (kafka.server.KafkaRequestHandlerPool)") {
		t.Errorf("the last lines of server.log are missing:\n%s", got[serverTailAt:])
	}
	t.Logf("excerpt:\n%s", got)
}

func TestExceptionLines(t *testing.T) {
	tests := []struct {
		name  string
		lines string
		want  string
	}{
		{name: "no exception", lines: "[2026-11-30 12:00:00,000] INFO a (x)\n\tkey = value\n", want: ""},
		{
			name:  "message on the log line itself",
			lines: "[2026-11-30 12:00:00,000] INFO x (y)\njava.io.IOException: disk full\n\tat a.b(C.java:1)\n\t... 3 more\n",
			want:  "[2026-11-30 12:00:00,000] INFO x (y)\njava.io.IOException: disk full",
		},
		{
			name:  "a message over two lines and a suppressed one",
			lines: "Exception in thread \"main\" java.lang.IllegalArgumentException: bad\nsecond line\n\tat a.b(C.java:1)\n\tSuppressed: java.lang.Exception: also\n\t\tat d.e(F.java:2)\n",
			want:  "Exception in thread \"main\" java.lang.IllegalArgumentException: bad\nsecond line\n\tSuppressed: java.lang.Exception: also",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(exceptionLines(strings.Split(strings.TrimSuffix(tt.lines, "\n"), "\n")), "\n")
			if got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}
