package main

// This file owns the topic commands: create, list, describe and delete.

import (
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster/data"
)

func newTopicCommand(g *globals) *cobra.Command {
	var brokers string
	cmd := &cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe and delete topics",
		Args:  cobra.NoArgs,
	}
	addBrokersFlag(cmd.PersistentFlags(), &brokers)
	cmd.AddCommand(
		newTopicCreateCommand(g, &brokers),
		newTopicListCommand(g, &brokers),
		newTopicDescribeCommand(g, &brokers),
		newTopicDeleteCommand(g, &brokers),
	)
	return cmd
}

func newTopicCreateCommand(g *globals, brokers *string) *cobra.Command {
	spec := data.TopicSpec{Configs: map[string]string{}}
	var partitions, replication int
	var configs []string
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a topic (3 partitions, replication min(3, brokers) by default)",
		Example: `  kraftlab topic create kraft-test
  kraftlab topic create orders -p 6 -r 2 -c retention.ms=3600000 -c min.insync.replicas=2`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkCount(cmd, "partitions", partitions, math.MaxInt32); err != nil {
				return err
			}
			if err := checkCount(cmd, "replication-factor", replication, math.MaxInt16); err != nil {
				return err
			}
			for _, c := range configs {
				k, v, err := splitKeyValue("config", c)
				if err != nil {
					return err
				}
				spec.Configs[k] = v
			}
			spec.Name, spec.Partitions, spec.ReplicationFactor = args[0], int32(partitions), int16(replication)
			cl, err := g.adminClient(cmd, *brokers)
			if err != nil {
				return err
			}
			defer cl.Close()
			res, err := data.CreateTopic(cmd.Context(), cl, spec)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				return printJSON(w, res)
			}
			verb := "Created topic"
			if !res.Created {
				verb = "Topic already exists:"
			}
			fmt.Fprintf(w, "%s %s: %d partitions, replication factor %d\n", verb, res.Name, res.Partitions, res.ReplicationFactor)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.IntVarP(&partitions, "partitions", "p", data.DefaultPartitions, "number of partitions")
	fs.IntVarP(&replication, "replication-factor", "r", 0, "copies of each partition (default min(3, brokers))")
	fs.StringArrayVarP(&configs, "config", "c", nil, "topic config key=value (repeatable)")
	fs.BoolVar(&spec.IfNotExists, "if-not-exists", false, "succeed, changing nothing, if the topic exists")
	return cmd
}

func newTopicListCommand(g *globals, brokers *string) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List topics, internal ones included",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := g.adminClient(cmd, *brokers)
			if err != nil {
				return err
			}
			defer cl.Close()
			topics, err := data.ListTopics(cmd.Context(), cl)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				if topics == nil {
					topics = []data.Topic{} // [] rather than null for scripts
				}
				return printJSON(w, topics)
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tREPLICATION")
			for _, t := range topics {
				fmt.Fprintf(tw, "%s\t%d\t%d", t.Name, len(t.Partitions), t.ReplicationFactor)
				if t.Internal {
					fmt.Fprint(tw, "\tinternal")
				}
				fmt.Fprintln(tw)
			}
			return tw.Flush()
		},
	}
}

func newTopicDescribeCommand(g *globals, brokers *string) *cobra.Command {
	return &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a topic's partitions (leader, replicas, in-sync replicas) and its non-default configs",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := g.adminClient(cmd, *brokers)
			if err != nil {
				return err
			}
			defer cl.Close()
			t, err := data.DescribeTopic(cmd.Context(), cl, args[0])
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), t)
			}
			return printTopic(cmd.OutOrStdout(), t)
		},
	}
}

func printTopic(w io.Writer, t data.Topic) error {
	fmt.Fprintf(w, "Topic %s (id %s): %d partitions, replication factor %d\n", t.Name, t.ID, len(t.Partitions), t.ReplicationFactor)
	if len(t.Configs) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(t.Configs)) {
			kv = append(kv, k+"="+t.Configs[k])
		}
		fmt.Fprintf(w, "Configs: %s\n", strings.Join(kv, " "))
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nPARTITION\tLEADER\tREPLICAS\tISR")
	for _, p := range t.Partitions {
		leader := fmt.Sprint(p.Leader)
		if p.Leader < 0 {
			leader = "none"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s", p.Partition, leader, brokerIDs(p.Replicas), brokerIDs(p.ISR))
		if p.Error != "" {
			fmt.Fprint(tw, "\t"+p.Error)
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// brokerIDs renders ids as Kafka's tools do: 1,2,3.
func brokerIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, ",")
}

func newTopicDeleteCommand(g *globals, brokers *string) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a topic and its records",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := g.adminClient(cmd, *brokers)
			if err != nil {
				return err
			}
			defer cl.Close()
			if err := data.DeleteTopic(cmd.Context(), cl, args[0]); err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				return printJSON(w, struct {
					Deleted string `json:"deleted"`
				}{args[0]})
			}
			fmt.Fprintf(w, "Deleted topic %s\n", args[0])
			return nil
		},
	}
}
