package cluster

// This file owns installing a runtime for labs: the Kafka runtime itself (dist) and
// its class-data-sharing archives, built once (as the official Kafka container
// image does) by recording which classes a StorageTool format and a broker start
// load, then mapped by every later JVM of that runtime, so each node spends less
// CPU starting.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/flock"
	"github.com/kraftlab/kraftlab/cluster/internal/kraft"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
)

const (
	cdsDir         = "cds"
	serverArchive  = "server.jsa"
	storageArchive = "storage.jsa"
	// Dynamic archives (-XX:ArchiveClassesAtExit) exist from JDK 13 on.
	cdsMinJava = 13
)

// archivePath is the runtime's archive file, or "" when it has none.
func archivePath(rt *dist.Runtime, name string) string {
	if rt == nil || rt.Dir == "" {
		return ""
	}
	f := filepath.Join(rt.Dir, cdsDir, name)
	if _, err := os.Stat(f); err != nil {
		return ""
	}
	return f
}

// Install finds or installs the runtime (dist.Ensure) and learns what only running
// it tells: its class-data archives and the names of the broker properties it knows,
// each once per runtime.
func Install(ctx context.Context, o dist.Options) (*dist.Runtime, error) {
	rt, err := dist.Ensure(ctx, o)
	if err != nil {
		return nil, err
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	if err := ensureRuntimeFacts(ctx, rt, namesFile(o, rt.Version), storageTemplateDir(o, rt.Version), progress); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Only start-up speed and the property-name check are at stake: say so and go on.
		fmt.Fprintf(progress, "note: could not learn from a throwaway Kafka %s broker (nodes start a little slower, property names go unchecked): %v\n", rt.Version, err)
	}
	return rt, nil
}

// namesFile is where the property names a release knows are kept: in the runtime
// cache, whatever the runtime came from (a Kafka home is the user's and is never
// written to).
func namesFile(o dist.Options, version string) string {
	return filepath.Join(runtimeCache(o), "config-names", "kafka-"+version+".txt")
}

// runtimeCache is the runtime cache directory: the options' own, or the default.
func runtimeCache(o dist.Options) string {
	if o.CacheDir != "" {
		return o.CacheDir
	}
	cache, _ := dist.DefaultCacheDir()
	return cache
}

// storageTemplateDir is where the storage StorageTool formatted for a release's
// throwaway broker is kept (meta.properties and bootstrap.checkpoint): a static
// lab's nodes are formatted by copying it (format.go), without a JVM.
func storageTemplateDir(o dist.Options, version string) string {
	return filepath.Join(runtimeCache(o), "formatted", "kafka-"+version)
}

// wantArchives reports whether rt should get class-data archives it lacks: a cached
// runtime on a JDK that can record them.
func wantArchives(rt *dist.Runtime) bool {
	return rt.Origin != dist.OriginKafkaHome && rt.JavaMajor >= cdsMinJava &&
		(archivePath(rt, serverArchive) == "" || archivePath(rt, storageArchive) == "")
}

// ensureRuntimeFacts runs one throwaway broker if the runtime lacks its archives,
// its list of property names or its formatted-storage template, and keeps what it
// learned.
func ensureRuntimeFacts(ctx context.Context, rt *dist.Runtime, names, template string, progress io.Writer) error {
	if !wantArchives(rt) && fileExists(names) && fileExists(template) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(names), 0o755); err != nil {
		return err
	}
	// Two commands installing at once: the second waits, then finds what the first
	// learned.
	lock, err := flock.Wait(ctx, names+".lock", 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	archives := wantArchives(rt)
	if !archives && fileExists(names) && fileExists(template) {
		return nil
	}
	what := "the broker property names"
	if archives {
		what = "class-data archives and " + what
	}
	fmt.Fprintf(progress, "Learning %s of Kafka %s from a throwaway broker (once per runtime)...\n", what, rt.Version)
	tmp, err := os.MkdirTemp(filepath.Dir(names), "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	known, err := runThrowaway(ctx, rt, tmp, archives)
	if err != nil {
		return err
	}
	if archives {
		dir := filepath.Join(rt.Dir, cdsDir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		for _, name := range []string{storageArchive, serverArchive} {
			if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
				return err
			}
		}
	}
	if !fileExists(template) {
		if err := os.MkdirAll(filepath.Dir(template), 0o755); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(tmp, "formatted"), template); err != nil {
			return err
		}
	}
	return labdir.WriteFile(names, []byte(strings.Join(known, "\n")+"\n"), 0o644)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// runThrowaway formats and starts a single-node cluster in tmp, asks it for every
// broker property it knows (DescribeConfigs), and stops it with SIGTERM. With
// record, both JVMs run under -XX:ArchiveClassesAtExit and leave their class-data
// archives in tmp as they exit.
func runThrowaway(ctx context.Context, rt *dist.Runtime, tmp string, record bool) ([]string, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	d := labdir.Dir{Path: tmp}
	n := render.Node{ID: 1, Roles: []string{"broker", "controller"}, Host: DefaultBind, BrokerPort: ports[0], ControllerPort: ports[1]}
	rl := render.Lab{Name: "throwaway", Dir: d, Nodes: []render.Node{n}}
	_, body, err := render.Log4jConfig(rt.Major())
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(render.Log4jPath(d, rt.Major()), body, 0o600); err != nil {
		return nil, err
	}
	props, err := render.Properties(rl, n)
	if err != nil {
		return nil, err
	}
	for _, dir := range []string{d.NodeDir(1), d.DataDir(1), d.LogsDir(1)} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(d.PropertiesFile(1), props, 0o600); err != nil {
		return nil, err
	}
	id, err := NewClusterID()
	if err != nil {
		return nil, err
	}
	recording := func(args []string, name string) []string {
		if !record {
			return args
		}
		return append([]string{args[0], "-XX:ArchiveClassesAtExit=" + filepath.Join(tmp, name)}, args[1:]...)
	}
	if err := dist.Run(ctx, recording(render.FormatCommand(rt, d, id, 1, nil, ""), storageArchive)...); err != nil {
		return nil, fmt.Errorf("format: %w", err)
	}
	// What StorageTool wrote, before the broker adds to it: the storage template.
	keep := func(_ string, b []byte) ([]byte, error) { return b, nil }
	if err := copyTree(d.DataDir(1), filepath.Join(tmp, "formatted"), keep); err != nil {
		return nil, err
	}
	node, err := startProcess(1, nil, recording(render.ServerCommand(rt, d, render.Profile{}, "256M", 1, archivePath(rt, serverArchive)), serverArchive), d.ConsoleLog(1))
	if err != nil {
		return nil, err
	}
	// Whatever happens below, the throwaway broker does not outlive this function;
	// it is signalled only while this process has not reaped it, so its pid cannot
	// belong to anyone else yet.
	defer func() {
		if dead, _ := node.dead(); !dead {
			_ = syscall.Kill(node.PID, syscall.SIGKILL)
			<-node.exited
		}
	}()
	ac, err := kraft.Dial([]string{n.BrokerAddr()})
	if err != nil {
		return nil, err
	}
	defer ac.Close()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	err = step.Poll(wctx, "broker to serve", pollInterval, func(ctx context.Context) (bool, string, error) {
		if dead, err := node.dead(); dead {
			return false, "", stopPoll(fmt.Errorf("exited during start-up (%v)", err))
		}
		err := ac.BrokerServing(ctx, 0)
		return err == nil, "", err
	})
	if err != nil {
		return nil, fmt.Errorf("throwaway broker: %w", err)
	}
	known, err := ac.BrokerConfigNames(wctx, 0, n.ID)
	if err != nil {
		return nil, fmt.Errorf("throwaway broker's property names: %w", err)
	}
	if err := syscall.Kill(node.PID, syscall.SIGTERM); err != nil {
		return nil, err
	}
	select {
	case <-node.exited:
	case <-wctx.Done():
		return nil, errors.New("throwaway broker did not exit after SIGTERM")
	}
	if record {
		for _, name := range []string{storageArchive, serverArchive} {
			if _, err := os.Stat(filepath.Join(tmp, name)); err != nil {
				return nil, fmt.Errorf("%s was not written", name)
			}
		}
	}
	return known, nil
}

// knownPropertyNames reads the property names the throwaway broker of a release
// reported; nil when they are not known (the release was never run to learn them).
func knownPropertyNames(o dist.Options, version string) map[string]bool {
	b, err := os.ReadFile(namesFile(o, version))
	if err != nil {
		return nil
	}
	names := map[string]bool{}
	for _, n := range strings.Fields(string(b)) {
		names[n] = true
	}
	return names
}

// freePorts reserves n loopback ports just long enough to learn their numbers.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}
