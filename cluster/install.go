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

// Install finds or installs the runtime (dist.Ensure) and builds its class-data
// archives if it has none yet.
func Install(ctx context.Context, o dist.Options) (*dist.Runtime, error) {
	rt, err := dist.Ensure(ctx, o)
	if err != nil {
		return nil, err
	}
	progress := o.Progress
	if progress == nil {
		progress = io.Discard
	}
	if err := ensureClassArchives(ctx, rt, progress); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// Only start-up speed is at stake: say so and go on without.
		fmt.Fprintf(progress, "note: no class-data archive for Kafka %s (nodes start a little slower): %v\n", rt.Version, err)
	}
	return rt, nil
}

// ensureClassArchives builds storage.jsa and server.jsa in a cached runtime that
// lacks them. A --kafka-home is the user's own directory and is left untouched.
func ensureClassArchives(ctx context.Context, rt *dist.Runtime, progress io.Writer) error {
	if rt.Origin == dist.OriginKafkaHome || rt.JavaMajor < cdsMinJava {
		return nil
	}
	if archivePath(rt, serverArchive) != "" && archivePath(rt, storageArchive) != "" {
		return nil
	}
	dir := filepath.Join(rt.Dir, cdsDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Two commands installing at once: the second waits, then finds the archives.
	lock, err := flock.Wait(ctx, filepath.Join(dir, ".lock"), 200*time.Millisecond)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	if archivePath(rt, serverArchive) != "" && archivePath(rt, storageArchive) != "" {
		return nil
	}
	fmt.Fprintf(progress, "Building class-data archives for Kafka %s (once per runtime)...\n", rt.Version)
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := recordClassArchives(ctx, rt, tmp); err != nil {
		return err
	}
	for _, name := range []string{storageArchive, serverArchive} {
		if err := os.Rename(filepath.Join(tmp, name), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	return nil
}

// recordClassArchives formats and starts a throwaway single-node cluster in tmp,
// with -XX:ArchiveClassesAtExit on both JVMs; the broker is stopped with SIGTERM once
// it serves, and writes its archive as it exits.
func recordClassArchives(ctx context.Context, rt *dist.Runtime, tmp string) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	d := labdir.Dir{Path: tmp}
	n := render.Node{ID: 1, Roles: []string{"broker", "controller"}, Host: DefaultBind, BrokerPort: ports[0], ControllerPort: ports[1]}
	rl := render.Lab{Name: "cds", Dir: d, Nodes: []render.Node{n}}
	_, body, err := render.Log4jConfig(rt.Major())
	if err != nil {
		return err
	}
	if err := os.WriteFile(render.Log4jPath(d, rt.Major()), body, 0o600); err != nil {
		return err
	}
	props, err := render.Properties(rl, n)
	if err != nil {
		return err
	}
	for _, dir := range []string{d.NodeDir(1), d.DataDir(1), d.LogsDir(1)} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(d.PropertiesFile(1), props, 0o600); err != nil {
		return err
	}
	id, err := NewClusterID()
	if err != nil {
		return err
	}
	record := func(args []string, name string) []string {
		return append([]string{args[0], "-XX:ArchiveClassesAtExit=" + filepath.Join(tmp, name)}, args[1:]...)
	}
	if err := dist.Run(ctx, record(render.FormatCommand(rt, d, id, 1, nil, ""), storageArchive)...); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	node, err := startProcess(1, record(render.ServerCommand(rt, d, "256M", 1, ""), serverArchive), d.ConsoleLog(1))
	if err != nil {
		return err
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
		return err
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
		return fmt.Errorf("throwaway broker: %w", err)
	}
	if err := syscall.Kill(node.PID, syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-node.exited:
	case <-wctx.Done():
		return errors.New("throwaway broker did not exit after SIGTERM")
	}
	for _, name := range []string{storageArchive, serverArchive} {
		if _, err := os.Stat(filepath.Join(tmp, name)); err != nil {
			return fmt.Errorf("%s was not written", name)
		}
	}
	return nil
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
