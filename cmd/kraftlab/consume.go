package main

// This file owns the consume command: records of a topic to stdout, as values or
// as JSON lines.

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

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
		Long: `consume prints a topic's records as they come, values only, or with -o json one
JSON object per record (partition, offset, key, value, headers, timestamp). A key,
value or header value that is not valid UTF-8 is given base64-encoded in
key_base64, value_base64 or value_base64 instead, so nothing is lost.

A consumer without committed offsets starts at the end of every partition and
waits for new records; --from-beginning reads the existing ones. -e stops once it
has read up to where each partition ended when it started.`,
		Example: `  kraftlab consume kraft-test --from-beginning -e
  kraftlab consume kraft-test --from-beginning -n 10
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
			o.OnStart = func(atEnd bool) {
				switch {
				case atEnd && o.ExitAtEnd:
					fmt.Fprintf(cmd.ErrOrStderr(), "Nothing to read: a consumer without committed offsets starts at the end of %s; --from-beginning reads the existing records\n", o.Topic)
				case atEnd:
					fmt.Fprintf(cmd.ErrOrStderr(), "Waiting for new records on %s (a consumer without committed offsets starts at the end; --from-beginning reads the existing ones; Ctrl-C stops)\n", o.Topic)
				}
			}
			emit := printValue(cmd.OutOrStdout())
			if g.output == "json" {
				emit = printRecordJSON(cmd.OutOrStdout())
			}
			o.ClientOpts = t.Opts
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
	fs.BoolVarP(&o.ExitAtEnd, "exit-at-end", "e", false, "stop once every partition's end as of the start is reached (like kcat -e)")
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

// consumedRecord is a record in -o json output. Bytes that are valid UTF-8 go
// in key or value as a string; other bytes, which a JSON string cannot carry,
// go base64-encoded in key_base64 or value_base64 instead, and the plain field is
// left out. A missing key or a tombstone's value is null.
type consumedRecord struct {
	Topic       string          `json:"topic"`
	Partition   int32           `json:"partition"`
	Offset      int64           `json:"offset"`
	Key         json.RawMessage `json:"key,omitempty"`
	KeyBase64   []byte          `json:"key_base64,omitempty"`
	Value       json.RawMessage `json:"value,omitempty"`
	ValueBase64 []byte          `json:"value_base64,omitempty"`
	Headers     []recordHeader  `json:"headers,omitempty"`
	Timestamp   time.Time       `json:"timestamp"`
}

// recordHeader keeps headers a list: Kafka allows a key more than once.
type recordHeader struct {
	Key         string          `json:"key"`
	Value       json.RawMessage `json:"value,omitempty"`
	ValueBase64 []byte          `json:"value_base64,omitempty"`
}

// printRecordJSON writes one compact JSON object per line (JSON Lines), so a
// stream can be piped into jq while it runs.
func printRecordJSON(w io.Writer) func(*kgo.Record) error {
	enc := json.NewEncoder(w)
	return func(r *kgo.Record) error {
		out := consumedRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp}
		out.Key, out.KeyBase64 = jsonBytes(r.Key)
		out.Value, out.ValueBase64 = jsonBytes(r.Value)
		for _, h := range r.Headers {
			rh := recordHeader{Key: h.Key}
			rh.Value, rh.ValueBase64 = jsonBytes(h.Value)
			out.Headers = append(out.Headers, rh)
		}
		return enc.Encode(out)
	}
}

// jsonBytes is b as a JSON string when it is valid UTF-8 (null when b is nil),
// else b itself, which encoding/json writes as base64. An empty byte slice is ""
// so that it is not mistaken for a missing field.
func jsonBytes(b []byte) (json.RawMessage, []byte) {
	switch {
	case b == nil:
		return json.RawMessage("null"), nil
	case utf8.Valid(b):
		s, _ := json.Marshal(string(b)) // a string always marshals
		return s, nil
	}
	return nil, b
}
