package cluster

// This file owns a lab's layout: the lab as kraftlab renders it, short of a Kafka
// runtime — its spec, its release, the ids it was formatted with and every node
// with its roles and ports. 'render' and the exporters (cluster/export) both read
// it, so a lab is described once.

import (
	"github.com/kraftlab/kraftlab/cluster/internal/render"
)

// Layout is a lab as kraftlab renders it. For a lab not created yet it is what
// 'up' would make (with auto ports, the window that is free now), and ClusterID
// and the nodes' directory ids are empty: 'up' generates them.
type Layout struct {
	// Spec is the lab's spec with its defaults filled in; a created lab's topology
	// is the one it records (counts, or a list once nodes were added or removed).
	Spec Spec
	// KafkaVersion is the release the lab runs; for a new lab on a Kafka home
	// without kafka.version it is "" until 'up' reads the home's own version.
	KafkaVersion string
	// ClusterID is the id the lab was formatted with; "" before it is created.
	ClusterID string
	// Render is what the renderer needs: every node with its roles, ports and
	// directory id, and the spec's properties.
	Render render.Lab
}

// Layout returns the lab's layout, touching nothing in the lab.
func (l *Lab) Layout() (*Layout, error) {
	view := *l
	view.spec = l.spec.clone()
	if l.st == nil {
		st, err := l.plannedState()
		if err != nil {
			return nil, err
		}
		view.st = st
	} else if err := l.requireExists(); err != nil {
		return nil, err
	}
	rl, err := view.renderLab()
	if err != nil {
		return nil, err
	}
	lay := &Layout{Spec: view.spec.clone(), KafkaVersion: view.spec.Kafka.Version, Render: rl}
	if l.st != nil {
		lay.Spec.Nodes = compactNodes(l.spec, l.st)
		lay.KafkaVersion, lay.ClusterID = l.st.KafkaVersion, l.st.ClusterID
	}
	return lay, nil
}
