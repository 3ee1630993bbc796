package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{in: "1024", want: 1024},
		{in: "1GB", want: 1_000_000_000},
		{in: "1gib", want: 1 << 30},
		{in: "500MB", want: 500_000_000},
		{in: "1.5 MiB", want: 3 << 19},
		{in: "2k", want: 2000},
		{in: "10B", want: 10},
		{in: "lots", wantErr: true},
		{in: "-1GB", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "1e30GB", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseByteSize(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseByteSize(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// TestBenchCommands runs the bench command on its own (it is registered with the
// root in data.go) against an in-process cluster, a fresh one per case: each case
// stands alone, and one that reads first writes what it reads.
func TestBenchCommands(t *testing.T) {
	produce500 := []string{"produce", "bench", "--records", "500", "--linger", "0"}
	tests := []struct {
		name      string
		before    []string // run first, on the same cluster
		args      []string
		wantOut   []string
		wantErr   string
		wantUsage bool
	}{
		{name: "produce", args: produce500,
			wantOut: []string{"Produced 500 records of 1024 bytes to bench", "stopped by records", "linger 0ms"}},
		{name: "consume", before: produce500, args: []string{"consume", "bench"}, wantOut: []string{"Read 500 records (512000 bytes) of bench (3 partitions)"}},
		{name: "bad size is a usage error", args: []string{"produce", "bench", "--bytes", "lots"}, wantErr: `--bytes "lots"`, wantUsage: true},
		{name: "bad compression is a usage error", args: []string{"produce", "bench", "--compression", "rar"}, wantErr: `compression "rar"`, wantUsage: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, "bench"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			run := func(args []string) (string, error) {
				var out bytes.Buffer
				cmd := newBenchCommand(&globals{output: "text"})
				cmd.SetArgs(append(args, "--brokers", c.ListenAddrs()[0]))
				cmd.SetOut(&out)
				cmd.SetErr(&bytes.Buffer{})
				cmd.SilenceUsage, cmd.SilenceErrors = true, true
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				err := cmd.ExecuteContext(ctx)
				return out.String(), err
			}
			if tt.before != nil {
				if out, err := run(tt.before); err != nil {
					t.Fatalf("bench %s: %v\n%s", strings.Join(tt.before, " "), err, out)
				}
			}
			out, err := run(tt.args)
			if tt.wantErr == "" && err != nil {
				t.Fatalf("bench %s: %v", strings.Join(tt.args, " "), err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("bench %s: error %v, want one containing %q", strings.Join(tt.args, " "), err, tt.wantErr)
			}
			if (err != nil && exitCode(err) == exitUsage) != tt.wantUsage {
				t.Errorf("bench %s: usage error = %v, want %v", strings.Join(tt.args, " "), !tt.wantUsage, tt.wantUsage)
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out, w) {
					t.Errorf("bench %s: stdout %q lacks %q", strings.Join(tt.args, " "), out, w)
				}
			}
		})
	}
}
