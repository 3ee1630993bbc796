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
	"maps"
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
// directory to the other nodes of that kind. A kind with no arguments at all (a
// static quorum's nodes, no SCRAM users) is formatted from template instead, when
// it is not "": what StorageTool wrote for the runtime's throwaway broker.
func (c *op) formatByKind(ctx context.Context, rt *dist.Runtime, argsOf func(node) []string, template string) error {
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
	if err := eachNode(firsts, func(n node) error {
		args := argsOf(n)
		if template == "" || len(args) > 0 {
			return c.format(ctx, rt, n, args)
		}
		if err := c.fromTemplate(template, n); err != nil {
			return fmt.Errorf("format storage for node %d (a copy of %s): %w", n.ID, template, err)
		}
		return nil
	}); err != nil {
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
// gives n its own meta.properties (see nodeMeta).
func (l *Lab) cloneStorage(src, n node) error {
	meta, err := nodeMeta(n, "")
	if err != nil {
		return err
	}
	return copyTree(l.dir.DataDir(src.ID), l.dir.DataDir(n.ID), meta)
}

// fromTemplate formats node n by copying the runtime's formatted-storage template
// (recorded by the throwaway broker of 'install') and giving it this lab's cluster
// id and n's own meta.properties.
func (l *Lab) fromTemplate(template string, n node) error {
	meta, err := nodeMeta(n, l.st.ClusterID)
	if err != nil {
		return err
	}
	return copyTree(template, l.dir.DataDir(n.ID), meta)
}

// nodeMeta is the edit that makes a copied meta.properties node n's: its node id,
// its directory id (the one the initial controllers list names for a dynamic
// voter, else a new one) and, unless clusterID is "", the cluster id.
func nodeMeta(n node, clusterID string) (func(rel string, b []byte) ([]byte, error), error) {
	dirID := n.DirectoryID
	if dirID == "" {
		id, err := NewDirectoryID()
		if err != nil {
			return nil, err
		}
		dirID = id
	}
	return func(rel string, b []byte) ([]byte, error) {
		if rel != "meta.properties" {
			return b, nil
		}
		return rewriteMetaProperties(b, n.ID, dirID, clusterID)
	}, nil
}

// copyTree copies the directory from to to, passing each file through edit (its
// path relative to from, and its bytes). Only directories and regular files are
// copied; a symbolic link, in the source or where a directory goes, is refused.
func copyTree(from, to string, edit func(rel string, b []byte) ([]byte, error)) error {
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
			return labdir.Mkdir(dst)
		case !d.Type().IsRegular():
			return fmt.Errorf("%s is not a regular file", path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if b, err = edit(rel, b); err != nil {
			return err
		}
		return labdir.WriteFile(dst, b, 0o600)
	})
}

// rewriteMetaProperties replaces node.id and directory.id, and unless clusterID
// is "" cluster.id, in a meta.properties StorageTool wrote; each must be there, or
// the format is not what this expects.
func rewriteMetaProperties(b []byte, nodeID int, dirID, clusterID string) ([]byte, error) {
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
		case "cluster.id":
			if clusterID != "" {
				lines[i] = "cluster.id=" + clusterID
			}
			seen = append(seen, key)
		}
	}
	if !slices.Contains(seen, "node.id") || !slices.Contains(seen, "directory.id") || !slices.Contains(seen, "cluster.id") {
		return nil, fmt.Errorf("meta.properties lacks node.id, directory.id or cluster.id: %q", bytes.TrimSpace(b))
	}
	return []byte(strings.Join(lines, "\n")), nil
}

// storageTemplate is the runtime's formatted-storage template for this lab, or ""
// when there is none or the lab sets a property that changes what StorageTool
// writes (unstable.*: the release's latest metadata version instead of its latest
// production one).
func (l *Lab) storageTemplate(rt *dist.Runtime) string {
	for _, props := range append([]map[string]string{l.spec.Properties}, slices.Collect(maps.Values(l.spec.NodeProperties))...) {
		for k := range props {
			if strings.HasPrefix(k, "unstable.") {
				return ""
			}
		}
	}
	dir := storageTemplateDir(l.cfg.Runtime, rt.Version)
	if _, err := os.Stat(filepath.Join(dir, "meta.properties")); err != nil {
		return ""
	}
	return dir
}
