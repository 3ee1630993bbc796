package kafkatest

// This file owns telling a machine that cannot run Kafka (no Java, no runtime and
// no way to fetch one) apart from a lab that fails to start, after the fact, so
// SkipIfUnavailable skips only the former and a lab that starts pays nothing.

import (
	"context"
	"errors"
	"sync"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// unavailableError is a machine that cannot run Kafka as asked: no usable Java,
// or no runtime and no way to fetch it.
type unavailableError struct{ err error }

func (e *unavailableError) Error() string {
	return "this machine cannot run Kafka: " + e.err.Error() + "\n" + installHint
}

func (e *unavailableError) Unwrap() error { return e.err }

const installHint = `kafkatest runs real Kafka brokers, which need Java 17+ and a Kafka runtime:
  - install a JDK (e.g. apt-get install openjdk-17-jdk-headless; JAVA_HOME picks another java);
  - the runtime is fetched once into the user's cache with Maven (apt-get install maven),
    else from archive.apache.org; 'go run github.com/kraftlab/kraftlab/cmd/kraftlab install'
    fetches it ahead of time;
  - offline, set KAFKA_HOME to an unpacked Kafka tarball.
To skip such tests instead of failing them, pass kafkatest.SkipIfUnavailable().`

// checked remembers, per cache and release, what the runtime check found: the
// tests of a package on a machine without Java check once, not once per test.
var checked = struct {
	sync.Mutex
	m map[string]error
}{m: map[string]error{}}

// checkRuntime says whether Java and the runtime the spec asks for are there, as
// the lab's start found them (an *unavailableError when not), fetching the runtime
// into the cache if that is what failed before.
func checkRuntime(ctx context.Context, ro dist.Options, k cluster.KafkaSpec) error {
	key := ro.CacheDir + "\x00" + k.Version + "\x00" + k.Home
	checked.Lock()
	defer checked.Unlock()
	if err, ok := checked.m[key]; ok {
		return err
	}
	ro.Version, ro.KafkaHome = k.Version, k.Home
	_, err := cluster.Install(ctx, ro)
	var bad *usage.Error
	switch {
	case err == nil:
	case ctx.Err() != nil:
		// Interrupted: the next test may well get further.
		return err
	case errors.As(err, &bad):
		// What was asked for is wrong (a malformed version), not the machine.
	default:
		err = &unavailableError{err: err}
	}
	checked.m[key] = err
	return err
}
