package cluster

// This file owns the class-data-sharing archives of a cached runtime: built once
// (as the official Kafka container image does) by recording which classes a
// StorageTool format and a broker start load, then mapped by every later JVM of that
// runtime, so each node spends less CPU starting.

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
	"github.com/kraftlab/kraftlab/cluster/step"
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

// sharedArchiveFlags maps the archive when the runtime has one; a JVM that finds
// it does not match (another JDK) ignores it and starts as usual.
func sharedArchiveFlags(rt *dist.Runtime, name string) []string {
	if f := archivePath(rt, name); f != "" {
		return []string{"-XX:SharedArchiveFile=" + f}
	}
	return nil
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
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
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
	p := Paths{Dir: tmp}
	nodes := []NodeState{{ID: 1, Roles: []string{"broker", "controller"}, BrokerPort: ports[0], ControllerPort: ports[1]}}
	s := &State{Name: "cds", Nodes: nodes}
	if err := writeLog4jConfig(p, rt); err != nil {
		return err
	}
	if err := writeNodeFiles(p, s, nodes); err != nil {
		return err
	}
	id, err := NewClusterID()
	if err != nil {
		return err
	}
	record := func(args []string, name string) []string {
		return append([]string{args[0], "-XX:ArchiveClassesAtExit=" + filepath.Join(tmp, name)}, args[1:]...)
	}
	format := record(formatCommand(rt, p, id, 1, nil), storageArchive)
	if err := dist.Run(ctx, format...); err != nil {
		return fmt.Errorf("format: %w", err)
	}
	node, err := startNode(1, record(serverCommand(rt, p, "256M", 1), serverArchive), p.ConsoleLog(1))
	if err != nil {
		return err
	}
	defer syscall.Kill(node.PID, syscall.SIGKILL) // only if it is still there
	ac, err := newAddrClients([]string{nodes[0].BrokerAddr()})
	if err != nil {
		return err
	}
	defer ac.Close()
	wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := waitServing(wctx, ac, node); err != nil {
		return fmt.Errorf("throwaway broker: %w%s", err, p.nodeLogExcerpt(1))
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
			return fmt.Errorf("%s was not written%s", name, p.nodeLogExcerpt(1))
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

// waitServing waits until the throwaway broker answers on its port, or exits.
func waitServing(ctx context.Context, ac *addrClients, node *startedNode) error {
	return step.Poll(ctx, "broker to serve", pollInterval, func(ctx context.Context) (bool, string, error) {
		if dead, err := node.dead(); dead {
			return false, "", step.Stop(fmt.Errorf("exited during start-up (%v)", err))
		}
		err := ac.brokerServing(ctx, 0)
		return err == nil, "", err
	})
}
