package main

// This file owns the consume command: records of a topic to stdout, as values or
// as JSON lines.

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kraftlab/kraftlab/cluster/data"
)

func newConsumeCommand(g *globals) *cobra.Command {
	var o data.ConsumeOptions
	var offset int64
	var brokers string
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print a topic's records: new ones by default, --from-beginning for all; Ctrl-C stops",
		Example: `  kraftlab consume kraft-test --from-beginning -n 10
  kraftlab consume kraft-test --group readers --timeout 5s -o json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Topic = args[0]
			if cmd.Flags().Changed("offset") {
				o.Offset = &offset
			}
			t, err := g.resolveTarget(cmd, brokers)
			if err != nil {
				return err
			}
			emit := printValue(cmd.OutOrStdout())
			if g.output == "json" {
				emit = printRecordJSON(cmd.OutOrStdout())
			}
			n, err := data.Consume(cmd.Context(), t.Brokers, o, emit)
			if err == nil || n > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "Consumed %d records\n", n)
			}
			return err
		},
	}
	fs := cmd.Flags()
	fs.BoolVar(&o.FromBeginning, "from-beginning", false, "start at the earliest record of every partition")
	fs.Int64Var(&offset, "offset", 0, "start every partition at this offset")
	fs.IntVarP(&o.Max, "max-records", "n", 0, "stop after this many records (0: no limit)")
	fs.StringVarP(&o.Group, "group", "g", "", "consume as this consumer group, committing what was printed")
	fs.DurationVar(&o.IdleTimeout, "timeout", 0, "stop after this long without a record (0: wait for Ctrl-C)")
	addBrokersFlag(fs, &brokers)
	return cmd
}

// printValue writes each record's value on its own line, like
// kafka-console-consumer.
func printValue(w io.Writer) func(*kgo.Record) error {
	return func(r *kgo.Record) error {
		_, err := fmt.Fprintf(w, "%s\n", r.Value)
		return err
	}
}

// consumedRecord is a record in -o json output.
type consumedRecord struct {
	Topic     string         `json:"topic"`
	Partition int32          `json:"partition"`
	Offset    int64          `json:"offset"`
	Key       *string        `json:"key"`   // null when the record has none
	Value     *string        `json:"value"` // null for a tombstone
	Headers   []recordHeader `json:"headers,omitempty"`
	Timestamp time.Time      `json:"timestamp"`
}

// recordHeader keeps headers a list: Kafka allows a key more than once.
type recordHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// printRecordJSON writes one compact JSON object per line (JSON Lines), so a
// stream can be piped into jq while it runs.
func printRecordJSON(w io.Writer) func(*kgo.Record) error {
	enc := json.NewEncoder(w)
	return func(r *kgo.Record) error {
		out := consumedRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: optString(r.Key), Value: optString(r.Value), Timestamp: r.Timestamp}
		for _, h := range r.Headers {
			out.Headers = append(out.Headers, recordHeader{Key: h.Key, Value: string(h.Value)})
		}
		return enc.Encode(out)
	}
}

func optString(b []byte) *string {
	if b == nil {
		return nil
	}
	s := string(b)
	return &s
}
