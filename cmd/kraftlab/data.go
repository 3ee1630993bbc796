package main

// This file owns what the data commands (topic, produce, consume, smoke) share:
// registering them, --brokers, key=value flags, and their usage errors. Each
// command fills a cluster/data options struct and makes one call into it.

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kraftlab/kraftlab/cluster/data"
)

func addDataCommands(root *cobra.Command, g *globals) {
	root.AddCommand(
		newTopicCommand(g),
		newProduceCommand(g),
		newConsumeCommand(g),
		newSmokeCommand(g),
		newBenchCommand(g),
	)
}

// addBrokersFlag binds --brokers, which points a data command at any Kafka cluster
// instead of the lab.
func addBrokersFlag(fs *pflag.FlagSet, brokers *string) {
	fs.StringVar(brokers, "brokers", "", "bootstrap servers host:port,... of any Kafka cluster (default: the lab's)")
}

// adminClient connects to the cluster --brokers names, else to the lab.
func (g *globals) adminClient(cmd *cobra.Command, brokers string) (*kgo.Client, error) {
	t, err := g.resolveTarget(cmd, brokers)
	if err != nil {
		return nil, err
	}
	return data.NewClient(t.Brokers, t.Opts...)
}

// exactArgs is cobra.ExactArgs reporting a usage error (exit 2).
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
		}
		return nil
	}
}

// checkCount rejects an explicit flag value outside 1..most. Below 1 the data
// package would read it as "use the default"; above most it would not fit.
func checkCount(cmd *cobra.Command, flag string, v, most int) error {
	return checkRange(cmd, flag, v, 1, most)
}

// checkRange rejects an explicit flag value outside least..most.
func checkRange(cmd *cobra.Command, flag string, v, least, most int) error {
	if cmd.Flags().Changed(flag) && (v < least || v > most) {
		return usagef("--%s %d: want %d to %d", flag, v, least, most)
	}
	return nil
}

// splitKeyValue parses the key=value form of --config and --header.
func splitKeyValue(flag, s string) (string, string, error) {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return "", "", usagef("--%s %q: want key=value", flag, s)
	}
	return k, v, nil
}
