package cluster

import (
	"testing"
)

// A lab's layout carries what it was created with; a new lab's carries none of
// the ids 'up' generates.
func TestLayout(t *testing.T) {
	spec := Spec{Name: "dyn", Nodes: NodesSpec{Controllers: 2, Brokers: 1}, Quorum: QuorumDynamic}
	created := plannedLab(t, spec, t.TempDir()+"/dyn")
	created.st.ClusterID = "MkU3OEVBNTcwNTJENDM2Qk"
	created.st.KafkaVersion = "3.9.1"

	newLab, err := New(Config{Home: t.TempDir()}, spec)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		lab         *Lab
		wantCluster string
		wantVersion string
		wantDirIDs  bool
	}{
		{name: "created lab", lab: created, wantCluster: "MkU3OEVBNTcwNTJENDM2Qk", wantVersion: "3.9.1", wantDirIDs: true},
		{name: "new lab", lab: newLab, wantCluster: "", wantVersion: "4.1.1", wantDirIDs: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lay, err := tt.lab.Layout()
			if err != nil {
				t.Fatal(err)
			}
			if lay.ClusterID != tt.wantCluster || lay.KafkaVersion != tt.wantVersion {
				t.Errorf("cluster id %q, version %q; want %q, %q", lay.ClusterID, lay.KafkaVersion, tt.wantCluster, tt.wantVersion)
			}
			if !lay.Render.Dynamic || len(lay.Render.Nodes) != 3 {
				t.Fatalf("render input: dynamic %v, %d nodes; want a dynamic quorum of 3 nodes", lay.Render.Dynamic, len(lay.Render.Nodes))
			}
			for _, n := range lay.Render.Nodes {
				if hasID := n.DirectoryID != ""; n.IsController() && hasID != tt.wantDirIDs {
					t.Errorf("node %d directory id %q; want one: %v", n.ID, n.DirectoryID, tt.wantDirIDs)
				}
				if n.BrokerPort == 0 && n.IsBroker() || n.ControllerPort == 0 && n.IsController() {
					t.Errorf("node %d has no port placed: %+v", n.ID, n)
				}
			}
			if lay.Spec.Nodes.Controllers != 2 || lay.Spec.Nodes.Brokers != 1 {
				t.Errorf("spec nodes %+v; want the counts", lay.Spec.Nodes)
			}
			// The layout is a copy: changing it leaves the lab alone.
			lay.Render.Nodes[0].ID = 99
			lay.Spec.Name = "changed"
			if again, _ := tt.lab.Layout(); again.Render.Nodes[0].ID != 1 || again.Spec.Name != "dyn" {
				t.Error("changing a layout changed the lab")
			}
		})
	}
}
