package export

// This file owns 'export properties': each node's server.properties exactly as
// 'render' shows it, and a format.sh with the kafka-storage.sh format command of
// every node — the tutorial's manual flow, generated, for hosts set up by hand or
// by Ansible.

import (
	"fmt"
	"strings"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
)

// PropertiesOptions shape a properties export.
type PropertiesOptions struct {
	// ClusterID and DirectoryIDs (by node id, a dynamic quorum's controllers) are
	// used when the lab has none yet; missing ones are generated. A lab that
	// exists keeps its own.
	ClusterID    string
	DirectoryIDs map[int]string
}

// Properties exports each node's server.properties (node<ID>/server.properties)
// and format.sh.
func Properties(lay *cluster.Layout, o PropertiesOptions) (*Result, error) {
	rl := lay.Render
	rl.Nodes = append([]render.Node(nil), rl.Nodes...)
	clusterID := lay.ClusterID
	if clusterID == "" {
		clusterID = o.ClusterID
	}
	if clusterID == "" {
		id, err := cluster.NewClusterID()
		if err != nil {
			return nil, err
		}
		clusterID = id
	}
	for i, n := range rl.Nodes {
		if !rl.Dynamic || !n.IsController() || n.DirectoryID != "" {
			continue
		}
		id := o.DirectoryIDs[n.ID]
		if id == "" {
			var err error
			if id, err = cluster.NewDirectoryID(); err != nil {
				return nil, err
			}
		}
		rl.Nodes[i].DirectoryID = id
	}
	nodes, err := renderNodes(rl)
	if err != nil {
		return nil, err
	}
	version := lay.KafkaVersion
	if version == "" {
		version = "(the release in kafka.home)"
	}
	var script strings.Builder
	script.WriteString("#!/bin/sh\n")
	script.WriteString(header(
		fmt.Sprintf("kraftlab export properties: lab %q, Kafka %s, cluster id %s.", lay.Spec.Name, version, clusterID),
		"Formats each node's storage once (a second run refuses a formatted directory),",
		"with Kafka unpacked in $KAFKA_HOME. On one machine run it as is, from this",
		"directory; across hosts, run each node's line on that node's host. Then start",
		"each node:",
		`  "$KAFKA_HOME/bin/kafka-server-start.sh" node<ID>/server.properties`,
		"The files keep the lab's addresses and data directories: edit listeners,",
		"advertised.listeners, the controller list and log.dirs for other hosts.",
	))
	script.WriteString("set -e\n: \"${KAFKA_HOME:?set KAFKA_HOME to an unpacked Kafka " + lay.KafkaVersion + "}\"\n")
	res := &Result{}
	for _, rn := range nodes {
		file := fmt.Sprintf("node%d/server.properties", rn.node.ID)
		res.Files = append(res.Files, File{Name: file, Data: rn.text})
		args := append([]string{"format", "--cluster-id", clusterID, "--config", file}, render.FormatQuorumArgs(rl, rn.node)...)
		fmt.Fprintf(&script, "\"$KAFKA_HOME/bin/kafka-storage.sh\" %s\n", dist.QuoteCommand(args))
	}
	res.Files = append(res.Files, File{Name: "format.sh", Data: []byte(script.String()), Executable: true})
	res.Stream = textStream(res.Files)
	return res, nil
}
