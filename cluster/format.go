package cluster

// This file owns formatting a new lab's storage with one StorageTool JVM per kind
// of node instead of one per node. StorageTool writes the same files for every
// node given the same quorum flags (bootstrap.checkpoint with the release's
// feature levels and any SCRAM users; on a dynamic quorum's initial controllers
// also the bootstrap snapshot holding the voter set); only meta.properties names
// the node (node.id) and its log directory (directory.id). So Kafka formats one
// node of each kind, and the others get a copy of its data directory with their
// own meta.properties. Each StorageTool JVM costs about 1.2 s of CPU, which on 2
// cores every starting node waits for.

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
)

// formatByKind formats the first node of each kind (nodes with the same
// StorageTool arguments but their own) concurrently, then copies its data
// directory to the other nodes of that kind.
func (c *op) formatByKind(ctx context.Context, rt *dist.Runtime, argsOf func(node) []string) error {
	var kinds [][]node
	index := map[string]int{}
	for _, n := range c.nodes() {
		key := strings.Join(argsOf(n), "\x00")
		i, ok := index[key]
		if !ok {
			i = len(kinds)
			index[key] = i
			kinds = append(kinds, nil)
		}
		kinds[i] = append(kinds[i], n)
	}
	var firsts, rest []node
	from := map[int]node{}
	for _, k := range kinds {
		firsts = append(firsts, k[0])
		for _, n := range k[1:] {
			rest = append(rest, n)
			from[n.ID] = k[0]
		}
	}
	if err := eachNode(firsts, func(n node) error { return c.format(ctx, rt, n, argsOf(n)) }); err != nil {
		return err
	}
	return eachNode(rest, func(n node) error {
		if err := c.cloneStorage(from[n.ID], n); err != nil {
			return fmt.Errorf("format storage for node %d (a copy of node %d's): %w", n.ID, from[n.ID].ID, err)
		}
		return nil
	})
}

// cloneStorage copies node src's freshly formatted data directory to node n and
// gives n its own meta.properties: its node id, and its directory id (the one the
// initial controllers list names for a dynamic voter, else a new one). Only
// directories and regular files are copied; anything else in a directory
// StorageTool just wrote is refused.
func (l *Lab) cloneStorage(src, n node) error {
	dirID := n.DirectoryID
	if dirID == "" {
		id, err := NewDirectoryID()
		if err != nil {
			return err
		}
		dirID = id
	}
	from, to := l.dir.DataDir(src.ID), l.dir.DataDir(n.ID)
	return filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		switch {
		case d.IsDir():
			return l.dir.MkdirNode(dst)
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file", path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rel == "meta.properties" {
			if b, err = rewriteMetaProperties(b, n.ID, dirID); err != nil {
				return err
			}
		}
		return labdir.WriteFile(dst, b, 0o600)
	})
}

// rewriteMetaProperties replaces node.id and directory.id in a meta.properties
// StorageTool wrote; both must be there, or the format is not what this expects.
func rewriteMetaProperties(b []byte, nodeID int, dirID string) ([]byte, error) {
	lines := strings.Split(string(b), "\n")
	var seen []string
	for i, line := range lines {
		switch key, _, _ := strings.Cut(line, "="); key {
		case "node.id":
			lines[i] = "node.id=" + strconv.Itoa(nodeID)
			seen = append(seen, key)
		case "directory.id":
			lines[i] = "directory.id=" + dirID
			seen = append(seen, key)
		}
	}
	if !slices.Contains(seen, "node.id") || !slices.Contains(seen, "directory.id") {
		return nil, fmt.Errorf("meta.properties has no node.id or directory.id line: %q", bytes.TrimSpace(b))
	}
	return []byte(strings.Join(lines, "\n")), nil
}
