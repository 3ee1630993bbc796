package cluster

import (
	"slices"
	"strings"
	"testing"
)

func TestRewriteMetaProperties(t *testing.T) {
	// What StorageTool 4.1 writes (java.util.Properties.store: a date comment).
	const written = "#\n#Sun Nov 30 12:22:30 UTC 2026\nnode.id=1\ndirectory.id=c0_1Uo9ut2984vGC0ujmPg\nversion=1\ncluster.id=llKZQGpnR_WdRFaQLB3oww\n"
	tests := []struct {
		name      string
		in        string
		clusterID string
		want      []string // lines that must be there
		wantErr   string
	}{
		{
			name: "node id and directory id replaced, the rest kept",
			in:   written,
			want: []string{"node.id=7", "directory.id=Kjggbo1dQ6aBs-E8H2o1vw", "version=1", "cluster.id=llKZQGpnR_WdRFaQLB3oww"},
		},
		{
			name:      "from a template: the cluster id replaced too",
			in:        written,
			clusterID: "4fC6VTEORh66smMkxWgkOg",
			want:      []string{"node.id=7", "directory.id=Kjggbo1dQ6aBs-E8H2o1vw", "version=1", "cluster.id=4fC6VTEORh66smMkxWgkOg"},
		},
		{name: "no directory id", in: "node.id=1\nversion=1\ncluster.id=x\n", wantErr: "lacks node.id, directory.id or cluster.id"},
		{name: "no node id", in: "directory.id=a\nversion=1\ncluster.id=x\n", wantErr: "lacks node.id, directory.id or cluster.id"},
		{name: "no cluster id", in: "node.id=1\ndirectory.id=a\nversion=1\n", wantErr: "lacks node.id, directory.id or cluster.id"},
		{name: "empty", in: "", wantErr: "lacks node.id, directory.id or cluster.id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := rewriteMetaProperties([]byte(tt.in), 7, "Kjggbo1dQ6aBs-E8H2o1vw", tt.clusterID)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(string(got), "\n")
			for _, w := range tt.want {
				if !slices.Contains(lines, w) {
					t.Errorf("missing line %q in:\n%s", w, got)
				}
			}
			if strings.Contains(string(got), "node.id=1\n") || strings.Contains(string(got), "c0_1Uo9ut2984vGC0ujmPg") {
				t.Errorf("old node.id or directory.id kept:\n%s", got)
			}
		})
	}
}
