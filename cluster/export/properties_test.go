package export

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
)

// testDirectoryIDs are fixed directory ids for a dynamic quorum's controllers.
var testDirectoryIDs = map[int]string{1: "AAAAAAAAAAAAAAAAAAAAAQ", 2: "AAAAAAAAAAAAAAAAAAAAAg", 3: "AAAAAAAAAAAAAAAAAAAAAw"}

func TestPropertiesGolden(t *testing.T) {
	for _, name := range exampleLabs {
		t.Run(name, func(t *testing.T) {
			res, err := Properties(exampleLayout(t, name), PropertiesOptions{ClusterID: testClusterID, DirectoryIDs: testDirectoryIDs})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "properties-"+name+".golden", res.Stream)
		})
	}
}

// Each node's file is byte for byte what the renderer writes for 'up' and shows
// in 'render' (the command-level test compares with 'kraftlab render' itself).
func TestPropertiesAreRendered(t *testing.T) {
	for _, name := range exampleLabFiles(t) {
		t.Run(name, func(t *testing.T) {
			lay := exampleLayout(t, name)
			res, err := Properties(lay, PropertiesOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Files) != len(lay.Render.Nodes)+1 {
				t.Fatalf("%d files for %d nodes; want one per node and format.sh", len(res.Files), len(lay.Render.Nodes))
			}
			for i, n := range lay.Render.Nodes {
				want, err := render.Properties(lay.Render, n)
				if err != nil {
					t.Fatal(err)
				}
				f := res.Files[i]
				if f.Name != fmt.Sprintf("node%d/server.properties", n.ID) || string(f.Data) != string(want) {
					t.Errorf("file %s differs from node %d's rendered properties:\n%s", f.Name, n.ID, f.Data)
				}
			}
		})
	}
}

// format.sh formats every node with the cluster id, and a dynamic quorum's
// controllers with the same --initial-controllers list (brokers join without).
func TestFormatScript(t *testing.T) {
	tests := []struct {
		name      string
		spec      cluster.Spec
		clusterID string // the lab's, as recorded
		want      []string
		wantNot   []string
	}{
		{
			name: "static", spec: cluster.Spec{Name: "s", Nodes: cluster.NodesSpec{Combined: 3}},
			want: []string{
				`"$KAFKA_HOME/bin/kafka-storage.sh" format --cluster-id ` + testClusterID + ` --config node1/server.properties` + "\n",
				`--config node3/server.properties` + "\n",
				"Kafka 4.1.1",
			},
			wantNot: []string{"initial-controllers"},
		},
		{
			name: "dynamic", spec: cluster.Spec{Name: "d", Nodes: cluster.NodesSpec{Controllers: 2, Brokers: 1}, Quorum: cluster.QuorumDynamic},
			want: []string{
				"--config node1/server.properties --initial-controllers 1@127.0.0.1:19092:AAAAAAAAAAAAAAAAAAAAAQ,2@127.0.0.1:19093:AAAAAAAAAAAAAAAAAAAAAg\n",
				"--config node2/server.properties --initial-controllers 1@127.0.0.1:19092:AAAAAAAAAAAAAAAAAAAAAQ,2@127.0.0.1:19093:AAAAAAAAAAAAAAAAAAAAAg\n",
				"--config node3/server.properties --no-initial-controllers\n",
			},
		},
		{
			name: "a created lab keeps its id", spec: cluster.Spec{Name: "c"}, clusterID: "labsOwnClusterIdAAAAAA",
			want:    []string{"--cluster-id labsOwnClusterIdAAAAAA --config node1/server.properties"},
			wantNot: []string{testClusterID},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lay := specLayout(t, tt.spec)
			lay.ClusterID = tt.clusterID
			res, err := Properties(lay, PropertiesOptions{ClusterID: testClusterID, DirectoryIDs: testDirectoryIDs})
			if err != nil {
				t.Fatal(err)
			}
			script := res.Files[len(res.Files)-1]
			if script.Name != "format.sh" || !script.Executable || !strings.HasPrefix(string(script.Data), "#!/bin/sh\n") {
				t.Fatalf("last file %s (executable %v); want an executable format.sh", script.Name, script.Executable)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(script.Data), w) {
					t.Errorf("format.sh lacks %q:\n%s", w, script.Data)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(string(script.Data), w) {
					t.Errorf("format.sh has %q:\n%s", w, script.Data)
				}
			}
		})
	}
}

// Without ids given, a new lab's export generates them: a fresh cluster id and a
// directory id per controller, each once.
func TestPropertiesGeneratesIDs(t *testing.T) {
	lay := specLayout(t, cluster.Spec{Name: "d", Nodes: cluster.NodesSpec{Controllers: 3, Brokers: 1}, Quorum: cluster.QuorumDynamic})
	res, err := Properties(lay, PropertiesOptions{})
	if err != nil {
		t.Fatal(err)
	}
	script := string(res.Files[len(res.Files)-1].Data)
	lines := strings.Split(strings.TrimSpace(script), "\n")
	var initial []string
	for _, l := range lines {
		if _, list, ok := strings.Cut(l, "--initial-controllers "); ok {
			initial = append(initial, list)
		}
	}
	if len(initial) != 3 || initial[0] != initial[1] || initial[1] != initial[2] {
		t.Fatalf("initial controllers %q; want the same list on the 3 controllers", initial)
	}
	ids := map[string]bool{}
	for _, voter := range strings.Split(initial[0], ",") {
		parts := strings.Split(voter, ":")
		if id := parts[len(parts)-1]; len(id) != 22 || ids[id] {
			t.Errorf("directory id %q: want a new 22-character id per controller", id)
		} else {
			ids[id] = true
		}
	}
	if lay.Render.Nodes[0].DirectoryID != "" {
		t.Error("the export wrote its generated ids into the layout")
	}
}
