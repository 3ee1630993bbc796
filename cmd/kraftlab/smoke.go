package main

// This file owns the smoke command: produce numbered records, read them back,
// verify every one, and report throughput and latency.

import (
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster/data"
)

func newSmokeCommand(g *globals) *cobra.Command {
	var o data.SmokeOptions
	var partitions, replication int
	var brokers string
	cmd := &cobra.Command{
		Use:   "smoke",
		Short: "Produce and read back records, verifying each; exit 0 only if every record came back",
		Long: `smoke creates the topic if it is missing (min.insync.replicas = min(2, replication)),
waits until every partition has a leader and all replicas in sync, produces numbered
records with acks=all and idempotence, reads the topic back with a fresh consumer
group and checks that every acknowledged record arrived once, intact and in order.
It prints records/s, MB/s and produce latency; any discrepancy exits non-zero.`,
		Example: `  kraftlab smoke
  kraftlab smoke --records 20000 --record-size 1024 -o json`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, c := range []struct {
				flag           string
				v, least, most int
			}{
				{"records", o.Records, 1, math.MaxInt32},
				{"record-size", o.RecordSize, data.MinRecordSize, data.MaxRecordSize},
				{"partitions", partitions, 1, math.MaxInt32},
				{"replication-factor", replication, 1, math.MaxInt16},
			} {
				if err := checkRange(cmd, c.flag, c.v, c.least, c.most); err != nil {
					return err
				}
			}
			t, err := g.resolveTarget(cmd, brokers)
			if err != nil {
				return err
			}
			o.Partitions, o.ReplicationFactor = int32(partitions), int16(replication)
			o.ExpectBrokers, o.Progress = t.ExpectBrokers, cmd.ErrOrStderr()
			o.ClientOpts = t.Opts
			rep, err := data.Smoke(cmd.Context(), t.Brokers, o)
			printErr := printSmoke(cmd.OutOrStdout(), g, rep)
			if err == nil && printErr == nil && rep.Passed && t.ExpectBrokers > 0 && g.output == "text" {
				// What a user who just saw the lab work may want next.
				printHints(cmd.OutOrStdout(), g, []string{"status", "logs -f", "chaos --duration 30s", "down"})
			}
			return errors.Join(err, printErr)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.Topic, "topic", data.DefaultSmokeTopic, "topic to use; created if missing")
	fs.IntVar(&o.Records, "records", data.DefaultSmokeRecords, "records to produce")
	fs.IntVar(&o.RecordSize, "record-size", data.DefaultSmokeRecordSize, fmt.Sprintf("bytes per record, %d (the check header alone) to %d", data.MinRecordSize, data.MaxRecordSize))
	fs.IntVarP(&partitions, "partitions", "p", data.DefaultPartitions, "partitions of a topic smoke creates")
	fs.IntVarP(&replication, "replication-factor", "r", 0, "replication of a topic smoke creates (default min(3, brokers))")
	addBrokersFlag(fs, &brokers)
	return cmd
}

// printSmoke prints what the run got to; a run stopped by bad options has nothing.
func printSmoke(w io.Writer, g *globals, rep data.SmokeReport) error {
	if rep.Run == "" {
		return nil
	}
	if g.output == "json" {
		return printJSON(w, rep)
	}
	v := rep.Verification
	if v.Acked == 0 {
		return nil // nothing was produced; the error says why
	}
	verdict := "PASSED"
	if !rep.Passed {
		verdict = "FAILED"
	}
	created := ""
	if rep.TopicCreated {
		created = " (created)"
	}
	fmt.Fprintf(w, "Smoke test on %s %s (run %s)\n", rep.Topic, verdict, rep.Run)
	fmt.Fprintf(w, "  cluster   %d brokers; topic partitions %d, replication factor %d%s\n", rep.Brokers, rep.Partitions, rep.ReplicationFactor, created)
	fmt.Fprintf(w, "  produce   %d of %d records of %d bytes in %.2fs: %.0f records/s, %.2f MB/s\n",
		v.Acked, rep.Records, rep.RecordSize, rep.ProduceSeconds, rep.RecordsPerSec, rep.MBPerSec)
	fmt.Fprintf(w, "  latency   p50 %.1f ms, p99 %.1f ms, max %.1f ms (first record, sent alone: %.0f ms)\n", rep.LatencyP50Ms, rep.LatencyP99Ms, rep.LatencyMaxMs, rep.FirstAckMs)
	fmt.Fprintf(w, "  consume   %d records read back in %.2fs (%d of other runs or producers skipped)\n", v.Read, rep.ConsumeSeconds, v.Skipped)
	fmt.Fprintf(w, "  verify    %d lost, %d duplicated, %d reordered, %d corrupted\n", v.Lost, v.Duplicated, v.Reordered, v.Corrupted)
	return nil
}
