// Package export carries a lab's design to the engines that run Kafka beyond one
// machine: Strimzi on Kubernetes, containers of the apache/kafka image under
// Compose, and plain server.properties files for hosts set up by hand or by
// Ansible. Every exporter reads the lab's layout (cluster.Layout) — the one model
// behind 'up' and 'render' — renders the nodes' properties with the same
// renderer, and validates what it produces against the target's own schema before
// returning it.
package export

// This file owns what every exporter returns and how it is written out.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/magiconair/properties"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// Result is what an export produced: its files, and what of the lab's design the
// target does not take, each with why.
type Result struct {
	// Files in the order they are printed; names are relative paths.
	Files []File `json:"files"`
	// Stream is every file as one text, as '-o -' prints it: YAML documents joined
	// with ---, or each file under a "### name" line.
	Stream []byte `json:"-"`
	// Dropped are properties of the lab the export leaves out.
	Dropped []Dropped `json:"dropped,omitempty"`
	// Notes are other ways the export differs from the lab.
	Notes []string `json:"notes,omitempty"`
}

// File is one exported file.
type File struct {
	Name string `json:"name"`
	Data []byte `json:"-"`
	// Executable files (format.sh) are written with mode 0755.
	Executable bool `json:"-"`
	// Secret files (keys, passwords) are written with mode 0600, and never to
	// stdout.
	Secret bool `json:"secret,omitempty"`
}

// Dropped is one property the export leaves out.
type Dropped struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Nodes it was set on, when not on every node.
	Nodes  []int  `json:"nodes,omitempty"`
	Reason string `json:"reason"`
}

// String is the property as a report lists it: its key, with its value and nodes
// when it was set on some nodes only.
func (d Dropped) String() string {
	if len(d.Nodes) == 0 {
		return d.Key
	}
	return fmt.Sprintf("%s=%s (%s)", d.Key, d.Value, nodesText(d.Nodes))
}

// Write writes the result to dest: "" or "-" prints Stream to stdout; anything
// else is a directory, created if missing, which gets one file per entry of Files.
// An existing directory must be empty, so that no file of an earlier export is
// left beside the new ones (and applied with them).
func Write(res *Result, dest string, stdout io.Writer) error {
	if dest == "" || dest == "-" {
		var secrets []string
		for _, f := range res.Files {
			if f.Secret {
				secrets = append(secrets, f.Name)
			}
		}
		if len(secrets) > 0 {
			return usage.Errorf("this export has %d files of keys and passwords besides %s, which are never printed: write it to a new or empty directory with -o DIR", len(secrets), res.Files[0].Name)
		}
		_, err := stdout.Write(res.Stream)
		return err
	}
	entries, err := os.ReadDir(dest)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return usage.Errorf("-o %s: %v", dest, err)
	case len(entries) > 0:
		return usage.Errorf("-o %s: the directory is not empty; name a new or empty directory (files of an earlier export would be applied with the new ones)", dest)
	}
	for _, f := range res.Files {
		path := filepath.Join(dest, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("write export: %w", err)
		}
		mode := os.FileMode(0o644)
		switch {
		case f.Secret:
			mode = 0o600
		case f.Executable:
			mode = 0o755
		}
		if err := os.WriteFile(path, f.Data, mode); err != nil {
			return fmt.Errorf("write export: %w", err)
		}
	}
	return nil
}

// yamlStream joins YAML files into one stream of documents.
func yamlStream(files []File) []byte {
	var b bytes.Buffer
	for i, f := range files {
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(f.Data)
	}
	return b.Bytes()
}

// textStream prints each file under a "### name" line, as 'render' does.
func textStream(files []File) []byte {
	var b bytes.Buffer
	for i, f := range files {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "### %s\n", f.Name)
		b.Write(f.Data)
	}
	return b.Bytes()
}

// renderedNode is one node's properties as the renderer writes them.
type renderedNode struct {
	node  render.Node
	text  []byte
	props *properties.Properties
}

// renderNodes renders every node of a layout with kraftlab's renderer.
func renderNodes(rl render.Lab) ([]renderedNode, error) {
	var out []renderedNode
	for _, n := range rl.Nodes {
		text, err := render.Properties(rl, n)
		if err != nil {
			return nil, fmt.Errorf("render node %d: %w", n.ID, err)
		}
		p := properties.NewProperties()
		p.DisableExpansion = true
		if err := p.Load(text, render.Encoding); err != nil {
			return nil, fmt.Errorf("render node %d: %w", n.ID, err)
		}
		out = append(out, renderedNode{node: n, text: text, props: p})
	}
	return out, nil
}

// role is a node's role in the spec's terms.
func role(n render.Node) string {
	switch {
	case n.IsBroker() && n.IsController():
		return cluster.RoleCombined
	case n.IsController():
		return cluster.RoleController
	}
	return cluster.RoleBroker
}

// nodeOverrides lists the spec's per-node properties as Dropped entries (the
// reason filled in by the caller), in node and key order.
func nodeOverrides(spec cluster.Spec, reason string) []Dropped {
	var out []Dropped
	for _, id := range slices.Sorted(maps.Keys(spec.NodeProperties)) {
		for _, k := range slices.Sorted(maps.Keys(spec.NodeProperties[id])) {
			out = append(out, Dropped{Key: k, Value: spec.NodeProperties[id][k], Nodes: []int{id}, Reason: reason})
		}
	}
	return out
}

// brokerCount counts the layout's broker nodes.
func brokerCount(rl render.Lab) int {
	n := 0
	for _, node := range rl.Nodes {
		if node.IsBroker() {
			n++
		}
	}
	return n
}

// header is the comment every exported file starts with.
func header(lines ...string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("# " + l + "\n")
	}
	return b.String()
}

// nodesText names nodes: "node 2", "nodes 1, 2, 3".
func nodesText(ids []int) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(id)
	}
	if len(ids) == 1 {
		return "node " + s[0]
	}
	return "nodes " + strings.Join(s, ", ")
}
