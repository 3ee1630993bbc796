package main

// This file owns 'kraftlab upgrade': a rolling upgrade of a running lab.

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster"
)

func newUpgradeCommand(g *globals) *cobra.Command {
	var o cluster.UpgradeOptions
	cmd := &cobra.Command{
		Use:   "upgrade --to VERSION [--finalize]",
		Short: "Roll a running lab to another Kafka release node by node; --finalize raises metadata.version",
		Long: `Upgrade a running lab one node at a time, controllers first: stop the node,
switch it to the new runtime, start it, and wait until it has rejoined and every
partition has all its replicas in sync before the next. Clients keep working.

--finalize then raises metadata.version to the highest level every node supports
(UpdateFeatures); until then the lab can still go back to the old release.`,
		Example: `  kraftlab up --kafka-version 3.9.1
  kraftlab upgrade --to 4.1.1
  kraftlab upgrade --finalize`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			res, err := lab.Upgrade(cmd.Context(), o)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				return printJSON(w, res)
			}
			if res.From != res.To {
				fmt.Fprintf(w, "Lab %q upgraded from Kafka %s to %s in %.1fs (%d nodes restarted)\n", g.name, res.From, res.To, res.Seconds, len(res.Nodes))
			}
			if res.MetadataVersion > 0 {
				fmt.Fprintf(w, "metadata.version finalized at level %d\n", res.MetadataVersion)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.To, "to", "", "the Kafka release to upgrade to")
	cmd.Flags().StringVar(&o.KafkaHome, "kafka-home", "", "an unpacked official Kafka tarball of that release, instead of fetching it")
	addSourceFlag(cmd, g)
	cmd.Flags().BoolVar(&o.Finalize, "finalize", false, "raise metadata.version to the new release's once every node runs it")
	cmd.Flags().DurationVar(&o.Wait, "wait", cluster.DefaultWait, "per node: how long it may take to rejoin and get every partition in sync")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "per node: how long it gets to shut down cleanly before SIGKILL")
	return cmd
}
