package main

// This file owns 'kraftlab chaos': faults injected under a running workload, then
// every acknowledged record checked twice.

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/chaos"
	"github.com/kraftlab/kraftlab/cluster/data"
)

func newChaosCommand(g *globals) *cobra.Command {
	var o chaos.Options
	var faults, targets string
	cmd := &cobra.Command{
		Use:   "chaos",
		Short: "Kill, pause and restart nodes under a producer and consumer; check every acknowledged record twice",
		Long: `Runs an acks=all idempotent producer and a consumer on a topic with replication 3 and
min.insync.replicas 2 while injecting faults one at a time, for --count faults or
--duration (whichever comes first). After each fault it undoes it (a node start that
fails is retried) and waits until the lab is healthy again: every broker back, every
replica in sync. Only a lab that is not healthy again within --recover-within of a
fault aborts the campaign. One line per fault shows its recovery time and longest
produce gap.

At the end, with every node back up, two checkers that share no code read the topic
from the start: kraftlab's own verifier, and an independent one that compares it with
the acknowledgement log written during the run (LAB/chaos/RUN/acks.log, beside the
report.json; the format is in RELIABILITY.md). Every acknowledged record must be there
exactly once, intact and in order per partition. Exits non-zero on any loss.

--nemesis all-kill instead SIGKILLs every node at once and brings the lab back with
'up' (the power cut), --count times.

Ctrl-C stops the campaign at any point: every node is brought back (resumed if
paused), the records acknowledged so far are checked, and the report is printed.`,
		Example: `  kraftlab chaos --duration 60s --interval 5s --target controller,leader
  kraftlab chaos --count 100 --interval 2s --target controller,leader,random
  kraftlab chaos --faults kill --target random --count 3 --seed 42
  kraftlab chaos --nemesis all-kill --count 10`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkRange(cmd, "record-size", o.RecordSize, data.MinRecordSize, data.MaxRecordSize); err != nil {
				return err
			}
			o.Progress = cmd.ErrOrStderr()
			// Only what was asked for: --nemesis takes no --faults or --target.
			if cmd.Flags().Changed("faults") {
				o.Faults = splitList(faults)
			}
			if cmd.Flags().Changed("target") {
				o.Targets = splitList(targets)
			}
			// One line per fault: the lab's own steps (starting a node, waiting for
			// the quorum) would bury them.
			cfg := g.config(cmd)
			cfg.Progress = nil
			lab, err := cluster.Open(cfg, g.name)
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
	fs.IntVar(&o.Count, "count", 0, "stop after this many faults (all-kill: default 1)")
	fs.Uint64Var(&o.Seed, "seed", 0, "random seed, to repeat a run (default: picked and printed)")
	fs.StringVar(&o.Nemesis, "nemesis", "", "all-kill: SIGKILL every node at once, then up again")
	fs.StringVar(&o.Topic, "topic", "chaos", "topic to write; created if missing (replication 3, min ISR 2)")
	fs.IntVar(&o.Rate, "rate", 500, "records per second")
	fs.IntVar(&o.RecordSize, "record-size", 256, fmt.Sprintf("bytes per record, %d to %d", data.MinRecordSize, data.MaxRecordSize))
	fs.DurationVar(&o.RecoverWithin, "recover-within", chaos.DefaultRecoverWithin, "abort when the lab is not healthy again this long after a fault")
	return cmd
}

func printChaos(w io.Writer, r *chaos.Report) {
	verdict := "PASSED"
	if !r.Passed {
		verdict = "FAILED"
	}
	switch r.Outcome {
	case chaos.OutcomeInterrupted:
		verdict = "INTERRUPTED"
	case chaos.OutcomeAborted:
		verdict = "ABORTED"
	}
	fmt.Fprintf(w, "Chaos run %s on %s (lab %s, seed %d) %s: %d faults in %s\n", r.Run, r.Topic, r.Lab, r.Seed, verdict, len(r.Faults), clockOf(r.DurationS))
	if r.Abort != "" {
		fmt.Fprintf(w, "  aborted: %s\n", r.Abort)
	}
	wl, v := r.Workload, r.Verification
	fmt.Fprintf(w, "  records            %d sent, %d acknowledged, %d failed, %d read along\n", wl.Sent, wl.Acked, wl.Failed, wl.LiveRead)
	fmt.Fprintf(w, "  kraftlab's check   %d of %d acknowledged read back: %d lost, %d duplicated, %d reordered, %d corrupted\n",
		v.Acked-v.Lost, v.Acked, v.Lost, v.Duplicated, v.Reordered, v.Corrupted)
	if c := r.Independent; c != nil {
		fmt.Fprintf(w, "  independent check  %d in the ack log, %d read back (%d unacknowledged): %d lost, %d duplicated, %d out of order, %d misplaced, %d corrupted\n",
			c.Acked, c.Read, c.Unacked, c.Lost, c.Duplicated, c.OutOfOrder, c.Misplaced, c.Corrupted)
	} else {
		fmt.Fprintf(w, "  independent check  not run\n")
	}
	fmt.Fprintf(w, "  produce gaps       longest %.1fs; %d of 1s or more\n", wl.MaxGapS, len(r.ProduceGaps))
	fmt.Fprintf(w, "  fault handling     %d problem(s), each retried\n", len(r.HandlingProblems))
	fmt.Fprintf(w, "  ack log            %s (%d records)\n", r.AckLog, r.AckLogRecords)
	fmt.Fprintf(w, "  report             %s\n", r.ReportFile)
	if len(r.Summary) > 0 {
		fmt.Fprintf(w, "\n  %-12s %5s  %-30s  %s\n", "", "count", "recovery p50 / p95 / max", "longest produce gap")
		by := ""
		for _, row := range r.Summary {
			if row.By != by {
				by = row.By
				fmt.Fprintf(w, "  by %s\n", by)
			}
			rec := fmt.Sprintf("%5.1fs / %5.1fs / %5.1fs", row.P50S, row.P95S, row.MaxS)
			if row.Recovered < row.Count {
				rec += fmt.Sprintf(" (%d recovered)", row.Recovered)
			}
			fmt.Fprintf(w, "    %-10s %5d  %-30s  %5.1fs\n", row.Name, row.Count, rec, row.MaxGapS)
		}
	}
	problems := v.Problems
	if r.Independent != nil {
		problems = append(problems, r.Independent.Problems...)
	}
	for _, p := range problems {
		fmt.Fprintf(w, "  problem: %s\n", p)
	}
	if wl.FirstError != "" {
		fmt.Fprintf(w, "  first produce error: %s\n", wl.FirstError)
	}
}

// clockOf shows seconds as 1h2m3s.
func clockOf(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}
