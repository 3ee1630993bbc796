package export

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kraftlab/kraftlab/cluster"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// exampleLabs are the example lab files the golden files cover.
var exampleLabs = []string{"combined-3", "isolated-3c-2b", "dynamic", "secured"}

// exampleLayout is the layout of an example lab file, planned in a fresh lab home
// (the lab paths in properties are under /labs). Auto ports are turned off: the
// free window would depend on this machine, and the files must not.
func exampleLayout(t testing.TB, name string) *cluster.Layout {
	t.Helper()
	spec, _, err := cluster.ReadSpecFile(filepath.Join("..", "..", "examples", "labs", name+".yaml"))
	if err != nil {
		t.Fatal(err)
	}
	spec.Ports.Auto = false
	return specLayout(t, spec)
}

// specLayout is the layout of a new lab made from spec under /labs.
func specLayout(t testing.TB, spec cluster.Spec) *cluster.Layout {
	t.Helper()
	lab, err := cluster.New(cluster.Config{Home: "/labs"}, spec)
	if err != nil {
		t.Fatal(err)
	}
	lay, err := lab.Layout()
	if err != nil {
		t.Fatal(err)
	}
	return lay
}

// golden compares got with testdata/NAME, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update to accept):\n%s", path, got)
	}
}

// exampleLabFiles names every lab file in examples/labs.
func exampleLabFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "labs", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example labs found: %v", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	return names
}
