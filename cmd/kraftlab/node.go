package main

// This file owns 'kraftlab node': deliberate faults on one node of a lab.

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster"
)

func newNodeCommand(g *globals) *cobra.Command {
	var o cluster.NodeOptions
	cmd := &cobra.Command{
		Use:   "node ACTION TARGET",
		Short: "Stop, start, restart, kill, pause or resume one node",
		Long: `Apply a fault to one node of the lab.

ACTION: stop (SIGTERM, wait), kill (SIGKILL), pause (SIGSTOP), resume (SIGCONT),
        start, restart (both wait until the node has rejoined the quorum and its
        broker is registered).
TARGET: a node id, 'controller' (the current KRaft quorum leader), or
        'leader:TOPIC/PARTITION' (that partition's leader).`,
		Example: `  kraftlab node kill controller
  kraftlab node restart leader:kraft-test/0
  kraftlab node pause 2 && kraftlab status && kraftlab node resume 2`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("want ACTION TARGET, e.g. 'kraftlab node kill controller' (actions: %s)", strings.Join(cluster.NodeActions, ", "))
			}
			return nil
		},
		ValidArgs: cluster.NodeActions,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Action, o.Target = args[0], args[1]
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			res, err := lab.NodeOp(cmd.Context(), o)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "node %d: %s done\n", res.Node, res.Action)
			if res.Killed {
				fmt.Fprintf(cmd.OutOrStdout(), "node %d did not shut down within --timeout and was killed (SIGKILL)\n", res.Node)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "stop/restart: how long the node gets to shut down before SIGKILL")
	cmd.Flags().DurationVar(&o.Wait, "wait", cluster.DefaultWait, "start/restart: how long to wait for the node to rejoin")
	return cmd
}
