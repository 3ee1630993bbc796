package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/export"
)

// runKraftlab runs kraftlab with args in a lab home of its own and returns
// stdout, stderr, the error main would print and the exit code it would use.
func runKraftlab(t *testing.T, home string, args ...string) (string, string, error, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCommand(&globals{})
	root.SetArgs(append(args, "--home", home))
	root.SetOut(&out)
	root.SetErr(&errOut)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	code := 0
	if err != nil {
		code = exitCode(err)
	}
	return out.String(), errOut.String(), err, code
}

func exampleLabFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../examples/labs/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example labs: %v", err)
	}
	return files
}

// Every example lab exports to every target, and what is printed passes the
// target's schema.
func TestExportEveryExample(t *testing.T) {
	for _, file := range exampleLabFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			home := t.TempDir()
			out, stderr, err, _ := runKraftlab(t, home, "export", "strimzi", "-f", file, "--kafka-version", "4.2.0")
			if err != nil {
				t.Fatalf("export strimzi: %v", err)
			}
			if err := export.ValidateStrimzi([]byte(out)); err != nil {
				t.Errorf("export strimzi printed what Strimzi's schemas refuse: %v", err)
			}
			if !strings.Contains(stderr, "Left out:") || !strings.Contains(stderr, "listeners") {
				t.Errorf("export strimzi reported on stderr:\n%s\nwant what it left out, listeners among them", stderr)
			}

			out, _, err, _ = runKraftlab(t, home, "export", "compose", "-f", file)
			if strings.Contains(file, "secured") {
				if err == nil || exitCode(err) != exitUsage {
					t.Errorf("export compose of a secured lab: %v, want a usage error", err)
				}
			} else if err != nil {
				t.Fatalf("export compose: %v", err)
			} else if err := export.ValidateCompose([]byte(out)); err != nil {
				t.Errorf("export compose printed what the Compose schema refuses: %v", err)
			}

			out, _, err, _ = runKraftlab(t, home, "export", "properties", "-f", file)
			if err != nil {
				t.Fatalf("export properties: %v", err)
			}
			if !strings.Contains(out, "### node1/server.properties\n") || !strings.Contains(out, "### format.sh\n#!/bin/sh\n") {
				t.Errorf("export properties printed:\n%s\nwant each node's file and format.sh", out)
			}
			if entries, _ := os.ReadDir(home); len(entries) != 0 {
				t.Errorf("export created %d entries in the lab home; want it untouched", len(entries))
			}
		})
	}
}

func TestExportErrors(t *testing.T) {
	combined := "../../examples/labs/combined-3.yaml"
	tests := []struct {
		name     string
		args     []string
		wantErr  []string
		wantCode int
	}{
		{name: "unsupported Kafka version", args: []string{"export", "strimzi", "-f", combined},
			wantErr: []string{"Kafka 4.1.1", "--kafka-version 4.2.0"}, wantCode: exitUsage},
		{name: "malformed version", args: []string{"export", "strimzi", "-f", combined, "--kafka-version", "four"},
			wantErr: []string{"--kafka-version"}, wantCode: exitUsage},
		{name: "bad storage size", args: []string{"export", "strimzi", "-f", combined, "--kafka-version", "4.2.0", "--storage", "10 GB"},
			wantErr: []string{"--storage"}, wantCode: exitUsage},
		{name: "no such lab", args: []string{"export", "compose", "--name", "nope"},
			wantErr: []string{`"nope"`}, wantCode: exitError},
		{name: "no such file", args: []string{"export", "compose", "-f", "missing.yaml"},
			wantErr: []string{"missing.yaml"}, wantCode: exitUsage},
		{name: "unknown target", args: []string{"export", "helm"},
			wantErr: []string{"helm"}, wantCode: exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err, code := runKraftlab(t, t.TempDir(), tt.args...)
			if err == nil {
				t.Fatalf("no error; printed:\n%s", out)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q: %v", w, err)
				}
			}
			if code != tt.wantCode {
				t.Errorf("exit code %d; want %d (%v)", code, tt.wantCode, err)
			}
			if out != "" {
				t.Errorf("printed on stdout:\n%s\nwant nothing", out)
			}
		})
	}
}

// -o DIR writes one file per object; a directory that is not empty is refused.
func TestExportToDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "k8s")
	_, stderr, err, _ := runKraftlab(t, t.TempDir(), "export", "strimzi", "-f", "../../examples/labs/isolated-3c-2b.yaml", "--kafka-version", "4.3.1", "-o", dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	want := []string{"kafka-isolated.yaml", "kafkanodepool-broker.yaml", "kafkanodepool-controller.yaml", "kafkatopic-orders.yaml"}
	if !slices.Equal(names, want) {
		t.Errorf("wrote %v; want %v", names, want)
	}
	if !strings.Contains(stderr, "Wrote 4 files to "+dir) || !strings.Contains(stderr, "num.io.threads=4 (node 5)") {
		t.Errorf("stderr:\n%s\nwant the files written and the per-node property left out", stderr)
	}
	_, _, err, code := runKraftlab(t, t.TempDir(), "export", "compose", "-f", "../../examples/labs/isolated-3c-2b.yaml", "-o", dir)
	if err == nil || code != exitUsage || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("export into a used directory: %v (exit %d); want a usage error saying it is not empty", err, code)
	}
}

// 'export properties' writes, for each node, what 'render' shows. Render names
// the runtime in its command lines, so this needs the lab's Kafka runtime in the
// cache.
func TestExportPropertiesEqualsRender(t *testing.T) {
	installed, _ := dist.Installed(cacheDir())
	for _, file := range exampleLabFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			spec, _, err := cluster.ReadSpecFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if spec.Ports.Auto {
				t.Skip("auto ports: render and export each pick the window free at that moment")
			}
			version := spec.Default().Kafka.Version
			if !slices.ContainsFunc(installed, func(rt dist.Runtime) bool { return rt.Version == version }) {
				t.Skipf("Kafka %s is not in the runtime cache (kraftlab install --kafka-version %s)", version, version)
			}
			home := t.TempDir()
			out, _, err, _ := runKraftlab(t, home, "render", "-f", file, "-o", "json")
			if err != nil {
				t.Fatal(err)
			}
			var rendered cluster.Rendered
			if err := json.Unmarshal([]byte(out), &rendered); err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "out")
			if _, _, err, _ := runKraftlab(t, home, "export", "properties", "-f", file, "-o", dir); err != nil {
				t.Fatal(err)
			}
			for _, n := range rendered.Nodes {
				got, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("node%d", n.ID), "server.properties"))
				if err != nil {
					t.Fatal(err)
				}
				if string(got) != n.Properties {
					t.Errorf("node %d: export properties wrote\n%s\nrender shows\n%s", n.ID, got, n.Properties)
				}
			}
		})
	}
}
