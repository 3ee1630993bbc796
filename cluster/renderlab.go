package cluster

// This file owns 'render': everything 'up' would write, shown instead of started —
// the spec that results from the file and flags, each node's properties and the
// exact java command lines.

import (
	"context"
	"fmt"
	"slices"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/labdir"
	"github.com/kraftlab/kraftlab/cluster/internal/ports"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
)

// Rendered is a lab's spec and what it renders to.
type Rendered struct {
	Spec  Spec           `json:"spec"`
	Nodes []RenderedNode `json:"nodes"`
}

// RenderedNode is one node's configuration and command lines.
type RenderedNode struct {
	ID             int    `json:"id"`
	PropertiesFile string `json:"properties_file"`
	Properties     string `json:"properties"`
	FormatCommand  string `json:"format_command"`
	StartCommand   string `json:"start_command"`
}

// Render returns the lab's spec, each node's properties and the exact java
// command lines, touching nothing in the lab (the runtime is installed if needed,
// since the command lines name it). The ids 'up' generates are random, so
// placeholders show where they go.
func (l *Lab) Render(ctx context.Context) (*Rendered, error) {
	lay, err := l.Layout()
	if err != nil {
		return nil, err
	}
	var rt *dist.Runtime
	if l.st == nil {
		rt, err = l.installRuntime(ctx, l.spec.Kafka.Version, l.spec.Kafka.Home)
		if err == nil {
			view := *l
			view.spec.Kafka.Version = rt.Version
			err = view.checkPropertyNames()
		}
	} else {
		rt, err = l.installRuntime(ctx, l.st.KafkaVersion, l.kafkaHomeOf(l.st.RuntimeDir))
	}
	if err != nil {
		return nil, err
	}
	const clusterID = "<cluster-id>"
	rl := lay.Render
	rl.Nodes = slices.Clone(rl.Nodes)
	for i := range rl.Nodes {
		if rl.Nodes[i].IsController() && rl.Dynamic {
			rl.Nodes[i].DirectoryID = fmt.Sprintf("<directory-id-%d>", rl.Nodes[i].ID)
		}
	}
	out := &Rendered{Spec: lay.Spec}
	for _, n := range rl.Nodes {
		props, err := render.Properties(rl, n)
		if err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
		out.Nodes = append(out.Nodes, RenderedNode{
			ID:             n.ID,
			PropertiesFile: l.dir.PropertiesFile(n.ID),
			Properties:     string(props),
			FormatCommand:  dist.QuoteCommand(render.FormatCommand(rt, l.dir, clusterID, n.ID, render.FormatQuorumArgs(rl, n), archivePath(rt, storageArchive))),
			StartCommand:   dist.QuoteCommand(append(envPrefix(rl.Profile.Env), render.ServerCommand(rt, l.dir, rl.Profile, l.spec.Heap, n.ID, archivePath(rt, serverArchive))...)),
		})
	}
	return out, nil
}

// plannedState is the state 'up' would record for this new lab: its nodes with
// their ports (with auto ports, the window that is free now).
func (l *Lab) plannedState() (*labdir.State, error) {
	spec := l.spec
	if spec.Ports.Auto {
		b, c, res, err := ports.PickBases(spec.Bind, spec.Ports.Broker, spec.Ports.Controller, recordedPorts(l.dir.Home(), l.dir.Name()))
		if err != nil {
			return nil, err
		}
		res.Release()
		spec.Ports.Broker, spec.Ports.Controller = b, c
	}
	plan, errs := spec.nodeList()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	st := &labdir.State{}
	for _, p := range plan {
		st.Nodes = append(st.Nodes, labdir.Node{ID: p.ID, BrokerPort: p.BrokerPort, ControllerPort: p.ControllerPort})
	}
	return st, nil
}

// envPrefix runs a command with env added, as a shell line does: env K=V ... command.
func envPrefix(env []string) []string {
	if len(env) == 0 {
		return nil
	}
	return append([]string{"env"}, env...)
}
