package main

// This file owns 'kraftlab chaos': faults injected under a running workload, then a
// check that every acknowledged record survived.

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster/chaos"
	"github.com/kraftlab/kraftlab/cluster/data"
)

func newChaosCommand(g *globals) *cobra.Command {
	var o chaos.Options
	var faults, targets string
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Kill, pause and restart nodes under a producer and consumer; verify nothing acknowledged is lost",
		Long: `Runs an acks=all idempotent producer and a consumer on a topic with replication 3 and
min.insync.replicas 2 while injecting faults one at a time. After each fault it waits
until the lab is healthy again (every broker back, every replica in sync) and records
how long that took. At the end, with every node back up, it reads the topic from the
start and checks that every acknowledged record is there exactly once, intact and in
order per partition. Exits non-zero on any loss.

--nemesis all-kill instead SIGKILLs every node at once, brings the lab back with 'up',
and checks the same (the power-cut case).`,
		Example: `  kraftlab chaos --duration 60s --interval 5s --target controller,leader
  kraftlab chaos --faults kill --target random --count 3 --seed 42
  kraftlab chaos --nemesis all-kill`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRange(cmd, "record-size", o.RecordSize, data.MinRecordSize, data.MaxRecordSize); err != nil {
				return err
			}
			o.Progress = cmd.ErrOrStderr()
			o.Faults, o.Targets = splitList(faults), splitList(targets)
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			rep, err := chaos.Run(cmd.Context(), lab, o)
			if rep != nil {
				if g.output == "json" {
					if perr := printJSON(cmd.OutOrStdout(), rep); perr != nil {
						return perr
					}
				} else {
					printChaos(cmd.OutOrStdout(), rep)
				}
			}
			return err
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&faults, "faults", strings.Join(chaos.Faults, ","), "faults to inject: kill, pause, restart")
	fs.StringVar(&targets, "target", "controller,leader", "whom to hit: controller (quorum leader), leader (a partition leader), random")
	fs.DurationVar(&o.Interval, "interval", 5*time.Second, "quiet time between one fault's recovery and the next fault")
	fs.DurationVar(&o.Duration, "duration", 0, "stop injecting faults after this long (default 60s unless --count)")
	fs.IntVar(&o.Count, "count", 0, "stop after this many faults")
	fs.Uint64Var(&o.Seed, "seed", 0, "random seed, to repeat a run (default: picked and printed)")
	fs.StringVar(&o.Nemesis, "nemesis", "", "all-kill: SIGKILL every node at once, then up again")
	fs.StringVar(&o.Topic, "topic", "chaos", "topic to write; created if missing (replication 3, min ISR 2)")
	fs.IntVar(&o.Rate, "rate", 500, "records per second")
	fs.IntVar(&o.RecordSize, "record-size", 256, fmt.Sprintf("bytes per record, %d to %d", data.MinRecordSize, data.MaxRecordSize))
	return cmd
}

func printChaos(w io.Writer, r *chaos.Report) {
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
	}
	fmt.Fprintf(w, "Chaos on %s (lab %s, seed %d) %s after %.0fs\n", r.Topic, r.Lab, r.Seed, verdict, r.DurationS)
	wl, v := r.Workload, r.Verification
	fmt.Fprintf(w, "  records: %d sent, %d acknowledged, %d failed, %d read along\n", wl.Sent, wl.Acked, wl.Failed, wl.LiveRead)
	fmt.Fprintf(w, "  verified: %d lost, %d duplicated, %d reordered, %d corrupted\n", v.Lost, v.Duplicated, v.Reordered, v.Corrupted)
	fmt.Fprintf(w, "  longest time with no successful produce: %.1fs\n", wl.MaxGapS)
	for _, f := range r.Faults {
		node := fmt.Sprintf("node %d", f.Node)
		if f.Node == 0 {
			node = "every node"
		}
		fmt.Fprintf(w, "  fault %d at %5.1fs: %-7s %s (%s) -> healthy after %.1fs\n", f.N, f.AtS, f.Fault, node, f.Target, f.RecoveryS)
	}
	for _, p := range v.Problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	if wl.FirstError != "" {
		fmt.Fprintf(w, "  first produce error: %s\n", wl.FirstError)
	}
}
