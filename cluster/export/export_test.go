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

// presetSpecs are a small isolated lab (a controller-only node has no client
// listener) under every security preset but the example's sasl-scram, for the
// golden files per preset.
func presetSpecs() map[string]cluster.Spec {
	no := false
	out := map[string]cluster.Spec{}
	for name, sec := range map[string]cluster.SecuritySpec{
		"tls":                  {Preset: cluster.SecurityTLS},
		"mtls":                 {Preset: cluster.SecurityMTLS, Authorization: true, Users: []cluster.UserSpec{{Name: "alice"}}},
		"sasl-plain":           {Preset: cluster.SecurityPlain, Users: []cluster.UserSpec{{Name: "alice"}}},
		"sasl-scram-plaintext": {Preset: cluster.SecuritySCRAM, TLS: &no},
	} {
		out[name] = cluster.Spec{Name: name, Nodes: cluster.NodesSpec{Controllers: 1, Brokers: 2}, Security: &sec}
	}
	return out
}

// Golden files per security preset: what compose, Strimzi (which has no PLAIN
// listener) and properties make of each.
func TestPresetGolden(t *testing.T) {
	for name, spec := range presetSpecs() {
		t.Run(name, func(t *testing.T) {
			lay := specLayout(t, spec)
			res, err := Compose(lay, ComposeOptions{ClusterID: testClusterID})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "compose-preset-"+name+".golden", append(res.Stream, "### report\n"+describe(res)...))
			if spec.Security.SASL() != "PLAIN" {
				res, err := Strimzi(lay, StrimziOptions{KafkaVersion: "4.2.0"})
				if err != nil {
					t.Fatal(err)
				}
				golden(t, "strimzi-preset-"+name+".golden", append(res.Stream, "### report\n"+describe(res)...))
			}
			res, err = Properties(lay, PropertiesOptions{ClusterID: testClusterID, DirectoryIDs: testDirectoryIDs})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, "properties-preset-"+name+".golden", res.Stream)
		})
	}
}
