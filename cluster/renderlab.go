package cluster

// This file owns 'render': everything 'up' would write for a new lab, shown instead
// of started.

import (
	"context"
	"fmt"

	"github.com/kraftlab/kraftlab/cluster/dist"
)

// RenderedNode is one node's configuration and command lines.
type RenderedNode struct {
	ID             int    `json:"id"`
	PropertiesFile string `json:"properties_file"`
	Properties     string `json:"properties"`
	FormatCommand  string `json:"format_command"`
	StartCommand   string `json:"start_command"`
}

// Render plans a new lab from o and returns each node's properties and the exact
// java command lines, touching nothing on disk (the runtime is installed if needed,
// since the command lines name it).
func Render(ctx context.Context, o UpOptions) ([]RenderedNode, error) {
	o.Normalize()
	paths, err := PathsFor(o.Home, o.Name)
	if err != nil {
		return nil, err
	}
	s, err := o.plan(paths.Home())
	if err != nil {
		return nil, err
	}
	overrides, err := ParseOverrides(o.Sets, len(s.Nodes))
	if err != nil {
		return nil, err
	}
	ro := o.Runtime
	ro.Progress = o.Progress
	rt, err := dist.Ensure(ctx, ro)
	if err != nil {
		return nil, err
	}
	// The ids 'up' would generate are random; placeholders show where they go.
	const placeholderID = "<cluster-id>"
	for i, n := range s.Nodes {
		if s.Dynamic() && n.IsController() {
			s.Nodes[i].DirectoryID = fmt.Sprintf("<directory-id-%d>", n.ID)
		}
	}
	var out []RenderedNode
	for _, n := range s.Nodes {
		props, err := RenderProperties(s, paths, n, overrides)
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		out = append(out, RenderedNode{
			ID:             n.ID,
			PropertiesFile: paths.PropertiesFile(n.ID),
			Properties:     string(props),
			FormatCommand:  dist.QuoteCommand(formatCommand(rt, paths, placeholderID, n.ID, formatQuorumArgs(s, n))),
			StartCommand:   dist.QuoteCommand(serverCommand(rt, paths, o.Heap, n.ID)),
		})
	}
	return out, nil
}
