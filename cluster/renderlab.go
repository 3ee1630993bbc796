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
	nodes := o.Nodes
	if nodes == 0 {
		nodes = DefaultNodes
	}
	if err := o.Validate(nodes); err != nil {
		return nil, err
	}
	paths, err := PathsFor(o.Home, o.Name)
	if err != nil {
		return nil, err
	}
	overrides, err := ParseOverrides(o.Sets, nodes)
	if err != nil {
		return nil, err
	}
	ro := o.Runtime
	ro.Progress = o.Progress
	rt, err := dist.Ensure(ctx, ro)
	if err != nil {
		return nil, err
	}
	const placeholderID = "<cluster-id>"
	plan := planNodes(nodes, o.Bind, o.BrokerPort, o.ControllerPort)
	var out []RenderedNode
	for _, n := range plan {
		props, err := RenderProperties(o.Name, paths, plan, n, overrides)
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		out = append(out, RenderedNode{
			ID:             n.ID,
			PropertiesFile: paths.PropertiesFile(n.ID),
			Properties:     string(props),
			FormatCommand:  dist.QuoteCommand(formatCommand(rt, paths, placeholderID, n.ID)),
			StartCommand:   dist.QuoteCommand(serverCommand(rt, paths, o.Heap, n.ID)),
		})
	}
	return out, nil
}
