package main

// This file owns 'kraftlab controller' (changing the voters of a dynamic quorum)
// and 'kraftlab broker' (adding and removing brokers of a running lab).

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster"
)

func newControllerCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "controller",
		Short: "Add or remove a KRaft controller of a lab with a dynamic quorum (KIP-853)",
		Long: `Change the voter set of a running lab created with --quorum dynamic.

  add         start one more controller-only node and make it a voter (AddRaftVoter)
  remove ID   take controller ID out of the voters (RemoveRaftVoter) and stop it

A lab with a static quorum (controller.quorum.voters) cannot change its voters.`,
		Example: `  kraftlab up --controllers 1 --brokers 1 --quorum dynamic
  kraftlab controller add && kraftlab controller add
  kraftlab controller remove 1`,
		Args: cobra.NoArgs,
	}
	var o cluster.ScaleOptions
	var id int
	add := &cobra.Command{
		Use:   "add",
		Short: "Start a new controller-only node and make it a voter",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			res, err := lab.AddController(cmd.Context(), o)
			if err != nil {
				return err
			}
			return printController(cmd.OutOrStdout(), g, res)
		},
	}
	add.Flags().DurationVar(&o.Wait, "wait", cluster.DefaultWait, "how long the node may take to start and become a voter")
	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove controller ID from the voters and stop it",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want the id of the controller to remove, e.g. 'kraftlab controller remove 2'")
			}
			var err error
			id, err = strconv.Atoi(args[0])
			if err != nil || id < 1 {
				return usagef("ID %q: want a node id such as 2", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			res, err := lab.RemoveController(cmd.Context(), id, o)
			if err != nil {
				return err
			}
			return printController(cmd.OutOrStdout(), g, res)
		},
	}
	remove.Flags().DurationVar(&o.Wait, "wait", cluster.DefaultWait, "how long the quorum may take to drop the voter")
	remove.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long the node gets to shut down cleanly before SIGKILL")
	cmd.AddCommand(add, remove)
	return cmd
}

func printController(w io.Writer, g *globals, res *cluster.ControllerResult) error {
	if g.output == "json" {
		return printJSON(w, res)
	}
	verb := "added to"
	if res.Action == "remove" {
		verb = "removed from"
	}
	fmt.Fprintf(w, "Node %d %s the voters; voters now %v, leader %d; the quorum survives %d voter failure(s)\n", res.Node, verb, res.Voters, res.Leader, res.Tolerates)
	if res.Warning != "" {
		fmt.Fprintf(w, "Note: %s\n", res.Warning)
	}
	return nil
}

func newBrokerCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "broker",
		Short: "Add a broker to a running lab, or remove one",
		Example: `  kraftlab broker add
  kraftlab broker remove 4           # refused while it hosts partition replicas
  kraftlab broker remove 4 --force`,
		Args: cobra.NoArgs,
	}
	var o cluster.ScaleOptions
	var id int
	add := &cobra.Command{
		Use:   "add",
		Short: "Start one more broker-only node and wait until it is registered",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			res, err := lab.AddBroker(cmd.Context(), o)
			if err != nil {
				return err
			}
			return printBroker(cmd.OutOrStdout(), g, res)
		},
	}
	add.Flags().DurationVar(&o.Wait, "wait", cluster.DefaultWait, "how long the broker may take to register")
	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Stop broker ID, unregister it and drop it from the lab",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usagef("want the id of the broker to remove, e.g. 'kraftlab broker remove 4'")
			}
			var err error
			id, err = strconv.Atoi(args[0])
			if err != nil || id < 1 {
				return usagef("ID %q: want a node id such as 4", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			res, err := lab.RemoveBroker(cmd.Context(), id, o)
			if err != nil {
				return err
			}
			return printBroker(cmd.OutOrStdout(), g, res)
		},
	}
	remove.Flags().BoolVar(&o.Force, "force", false, "remove it even while it hosts partition replicas (they stay a replica short)")
	remove.Flags().DurationVar(&o.Wait, "wait", cluster.DefaultWait, "how long the check and unregistration may take")
	remove.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long the node gets to shut down cleanly before SIGKILL")
	cmd.AddCommand(add, remove)
	return cmd
}

func printBroker(w io.Writer, g *globals, res *cluster.BrokerResult) error {
	if g.output == "json" {
		return printJSON(w, res)
	}
	verb := "added to"
	if res.Action == "remove" {
		verb = "removed from"
	}
	fmt.Fprintf(w, "Broker %d %s the lab; bootstrap servers now %s\n", res.Node, verb, strings.Join(res.Bootstrap, ","))
	return nil
}
