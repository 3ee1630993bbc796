package main

// This file owns the bench commands: produce and consume throughput (and produce
// latency) on a topic of the lab or of any cluster.

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster/data"
)

func newBenchCommand(g *globals) *cobra.Command {
	var brokers string
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure produce throughput and latency, and consume throughput, on a topic",
		Args:  cobra.NoArgs,
	}
	addBrokersFlag(cmd.PersistentFlags(), &brokers)
	cmd.AddCommand(
		newBenchProduceCommand(g, &brokers),
		newBenchConsumeCommand(g, &brokers),
	)
	return cmd
}

func newBenchProduceCommand(g *globals, brokers *string) *cobra.Command {
	var o data.BenchProduceOptions
	var size string
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Send fixed-size records as fast as the cluster takes them (acks=all, idempotent)",
		Long: `produce sends records of random letters to an existing topic until --records,
--bytes or --duration is reached (by default 1 GB or 60 s, whichever comes first),
with acks=all and idempotence, and prints records/s, MB/s (10^6 bytes of record
values) and the latency from handing each record to the client until its
acknowledgement, as Kafka's kafka-producer-perf-test measures it.`,
		Example: `  kraftlab topic create bench -p 6 -r 3 -c min.insync.replicas=2
  kraftlab bench produce bench
  kraftlab bench produce bench --bytes 100MB --compression lz4 -o json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Topic = args[0]
			if err := checkCount(cmd, "record-size", o.RecordSize, data.MaxRecordSize); err != nil {
				return err
			}
			if cmd.Flags().Changed("bytes") {
				n, err := parseByteSize(size)
				if err != nil || n < 1 {
					return usagef("--bytes %q: want a size such as 500MB, 1GB or 1073741824", size)
				}
				o.Bytes = n
			}
			t, err := g.resolveTarget(cmd, *brokers)
			if err != nil {
				return err
			}
			if o.Linger == 0 {
				o.Linger = -1 // to the data package 0 means "the default"; here it means none
			}
			o.Progress = cmd.ErrOrStderr()
			o.ClientOpts = t.Opts
			rep, err := data.BenchProduce(cmd.Context(), t.Brokers, o)
			if err != nil {
				return err
			}
			return printBenchProduce(cmd.OutOrStdout(), g, rep)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&o.RecordSize, "record-size", data.DefaultBenchRecordSize, "bytes per record value")
	fs.Int64Var(&o.Records, "records", 0, "stop after this many records (0: no count bound)")
	fs.StringVar(&size, "bytes", "", "stop after this many bytes of record values, e.g. 1GB (10^9) or 1GiB (2^30)")
	fs.DurationVar(&o.Duration, "duration", 0, "stop after this long (0: no time bound; with no bound at all: 1GB or 60s)")
	fs.StringVar(&o.Compression, "compression", data.DefaultBenchCompression, "none, gzip, snappy, lz4 or zstd")
	fs.DurationVar(&o.Linger, "linger", data.DefaultBenchLinger, "how long a partition's batch waits for more records (0: not at all)")
	fs.Int32Var(&o.BatchMaxBytes, "batch-max-bytes", data.DefaultBenchBatchMaxBytes, "largest record batch")
	fs.IntVar(&o.MaxBufferedBytes, "max-buffered-bytes", data.DefaultBenchMaxBufferedBytes, "bytes of records waiting for an acknowledgement before producing blocks")
	fs.IntVar(&o.Rate, "rate", 0, "records a second, paced as kafka-producer-perf-test's --throughput (0: as fast as possible)")
	return cmd
}

func newBenchConsumeCommand(g *globals, brokers *string) *cobra.Command {
	return &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Read a topic from the start to its current end as fast as possible",
		Long: `consume reads every partition of the topic from its earliest record up to the
end it had when the command started, without a consumer group, and prints
records/s and MB/s (10^6 bytes of record values).`,
		Example: `  kraftlab bench consume bench -o json`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := g.resolveTarget(cmd, *brokers)
			if err != nil {
				return err
			}
			rep, err := data.BenchConsume(cmd.Context(), t.Brokers, args[0], t.Opts...)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Read %d records (%d bytes) of %s (%d partitions) in %.2fs: %.0f records/s, %.2f MB/s\n",
				rep.Records, rep.Bytes, rep.Topic, rep.Partitions, rep.Seconds, rep.RecordsPerSec, rep.MBPerSec)
			return nil
		},
	}
}

func printBenchProduce(w io.Writer, g *globals, rep data.BenchProduceReport) error {
	if g.output == "json" {
		return printJSON(w, rep)
	}
	s := rep.Settings
	fmt.Fprintf(w, "Produced %d records of %d bytes to %s in %.2fs (stopped by %s): %.0f records/s, %.2f MB/s\n",
		rep.Records, rep.RecordSize, rep.Topic, rep.Seconds, rep.StoppedBy, rep.RecordsPerSec, rep.MBPerSec)
	fmt.Fprintf(w, "  latency   avg %.1f ms, p50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		rep.LatencyAvgMs, rep.LatencyP50Ms, rep.LatencyP95Ms, rep.LatencyP99Ms, rep.LatencyMaxMs)
	fmt.Fprintf(w, "  producer  acks=%s, idempotent, compression %s, linger %gms, batches up to %d bytes, %d bytes buffered\n",
		s.Acks, s.Compression, s.LingerMs, s.BatchMaxBytes, s.MaxBufferedBytes)
	if s.Rate > 0 {
		fmt.Fprintf(w, "  paced     at %d records/s\n", s.Rate)
	}
	return nil
}

// parseByteSize reads a size: a plain number of bytes, or one with a decimal unit
// (KB, MB, GB: powers of 1000, as disks and Kafka's tools count) or a binary one
// (KiB, MiB, GiB). Units are case-insensitive; a lone K, M or G is decimal.
func parseByteSize(s string) (int64, error) {
	units := []struct {
		suffix string
		mult   int64
	}{
		{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
		{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9},
		{"k", 1e3}, {"m", 1e6}, {"g", 1e9},
		{"b", 1},
	}
	num, mult := strings.ToLower(strings.TrimSpace(s)), int64(1)
	for _, u := range units {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSpace(strings.TrimSuffix(num, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || !(n >= 0) || n*float64(mult) > math.MaxInt64 {
		return 0, fmt.Errorf("size %q: want a number of bytes, optionally with KB, MB, GB, KiB, MiB or GiB", s)
	}
	return int64(n * float64(mult)), nil
}
