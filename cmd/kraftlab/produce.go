package main

// This file owns the produce command: records from a file or stdin to a topic.

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kraftlab/kraftlab/cluster/data"
)

func newProduceCommand(g *globals) *cobra.Command {
	var o data.ProduceOptions
	var file, brokers string
	var headers []string
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Send records from a file or stdin: one per JSON value or array element, else one per line",
		Long: `produce reads every record first, then sends them (acks=all with idempotence by
default). What a record is depends on the input's first non-space character:

  [     a JSON array: one record per element (one array only; several arrays in a
        row are one record each)
  {     JSON: one record per top-level value, so one object is one record even
        when pretty-printed over many lines, and JSON lines are one record per line
  else  text: one record per non-blank line, sent as it is

JSON records are sent as compact JSON. Malformed JSON sends nothing and the error
names the file, line and column of the problem.`,
		Example: `  kraftlab produce kraft-test --file examples/app.json --key-field id
  echo hello | kraftlab produce kraft-test --key greeting --header source=shell`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Topic = args[0]
			for _, h := range headers {
				k, v, err := splitKeyValue("header", h)
				if err != nil {
					return err
				}
				o.Headers = append(o.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
			}
			o.Input, o.InputName = cmd.InOrStdin(), "stdin"
			if file != "" && file != "-" {
				f, err := os.Open(file)
				if err != nil {
					return err
				}
				defer f.Close()
				o.Input, o.InputName = f, file
			} else if isTerminal(o.Input) {
				fmt.Fprintln(cmd.ErrOrStderr(), "Reading records from the terminal, one per line; end with Ctrl-D")
			}
			t, err := g.resolveTarget(cmd, brokers)
			if err != nil {
				return err
			}
			o.ClientOpts = t.Opts
			res, err := data.Produce(cmd.Context(), t.Brokers, o)
			if err != nil {
				return err
			}
			return printProduced(cmd.OutOrStdout(), g, res)
		},
	}
	fs := cmd.Flags()
	fs.StringVarP(&file, "file", "f", "", "read records from this file instead of stdin")
	fs.StringVarP(&o.Key, "key", "k", "", "key of every record")
	fs.StringVar(&o.KeyField, "key-field", "", "take each record's key from this field of its JSON object")
	fs.StringArrayVarP(&headers, "header", "H", nil, "record header key=value (repeatable)")
	fs.StringVar(&o.Acks, "acks", "all", "acknowledgement: all (with idempotence), 1 or 0")
	addBrokersFlag(fs, &brokers)
	return cmd
}

// isTerminal reports whether r is an interactive terminal, where a user would
// otherwise wait on a silent command.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func printProduced(w io.Writer, g *globals, res data.ProduceResult) error {
	if g.output == "json" {
		return printJSON(w, res)
	}
	fmt.Fprintf(w, "Produced %d records to %s\n", res.Records, res.Topic)
	for _, p := range res.Partitions {
		offsets := fmt.Sprintf("offsets %d-%d", p.FirstOffset, p.LastOffset)
		if p.FirstOffset < 0 {
			offsets = "offsets unknown with acks=0"
		}
		fmt.Fprintf(w, "  partition %d: %d records, %s\n", p.Partition, p.Records, offsets)
	}
	return nil
}
