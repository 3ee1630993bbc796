package main

// This file owns the lifecycle commands: install, up, render, status, logs, down.
// Each fills an options struct from flags and makes one call into cluster.

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/step"
)

// addRuntimeFlags binds the flags that choose the Kafka runtime.
func addRuntimeFlags(fs *pflag.FlagSet, o *dist.Options) {
	fs.StringVar(&o.Version, "kafka-version", "", fmt.Sprintf("Kafka version (default %s); env KRAFTLAB_KAFKA_VERSION", dist.DefaultVersion))
	fs.StringVar(&o.KafkaHome, "kafka-home", "", "an unpacked official Kafka tarball to use instead of fetching one; env KAFKA_HOME")
	fs.StringVar(&o.Source, "source", "auto", "where to fetch the runtime: auto, maven (Maven Central via mvn) or apache (official tarball)")
}

func newInstallCommand(g *globals) *cobra.Command {
	var o dist.Options
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Fetch and verify the Kafka broker runtime (up does this when needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Progress = cmd.ErrOrStderr()
			rt, err := cluster.Install(cmd.Context(), o)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), rt)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Kafka %s ready in %s (from %s; java %s, version %d)\n", rt.Version, rt.Dir, rt.Origin, rt.Java, rt.JavaMajor)
			return nil
		},
	}
	addRuntimeFlags(cmd.Flags(), &o)
	return cmd
}

// addUpFlags binds the flags shared by up and render.
func addUpFlags(cmd *cobra.Command, o *cluster.UpOptions) {
	fs := cmd.Flags()
	fs.IntVar(&o.Nodes, "nodes", 0, fmt.Sprintf("number of combined broker+controller nodes, 1-%d (default %d)", cluster.MaxNodes, cluster.DefaultNodes))
	fs.IntVar(&o.Controllers, "controllers", 0, "isolated roles: number of controller-only nodes (ids 1..C; with --brokers, instead of --nodes)")
	fs.IntVar(&o.Brokers, "brokers", 0, "isolated roles: number of broker-only nodes (ids C+1..C+B; with --controllers)")
	fs.StringVar(&o.Quorum, "quorum", "", "KRaft quorum: static (controller.quorum.voters; the default) or dynamic (KIP-853, 'kraftlab controller add/remove')")
	fs.IntVar(&o.BrokerPort, "broker-port", cluster.DefaultBrokerPort, "first broker (client) port; the k-th broker listens on this+k-1")
	fs.IntVar(&o.ControllerPort, "controller-port", cluster.DefaultControllerPort, "first controller port; the k-th controller listens on this+k-1")
	fs.StringVar(&o.Ports, "ports", cluster.PortsFixed, "fixed: the port bases as given; auto: the first free window of 10 ports per role from them upward, skipping other labs' ports")
	fs.StringVar(&o.Heap, "heap", cluster.DefaultHeap, "JVM heap per node")
	fs.StringVar(&o.Bind, "bind", cluster.DefaultBind, "address every listener binds (anything but loopback exposes the lab, with a warning)")
	fs.StringArrayVar(&o.Sets, "set", nil, "override a broker property: key=value on every node, or NODE:key=value on one (repeatable)")
	addRuntimeFlags(fs, &o.Runtime)
}

// checkNodesFlag rejects an explicit --nodes, --controllers or --brokers below 1,
// and an explicit port of 0; 0 in UpOptions means "the default, or the existing
// lab's size".
func checkNodesFlag(cmd *cobra.Command, o *cluster.UpOptions) error {
	for _, f := range []struct {
		flag string
		n    int
	}{{"nodes", o.Nodes}, {"controllers", o.Controllers}, {"brokers", o.Brokers}} {
		if cmd.Flags().Changed(f.flag) && f.n < 1 {
			return usagef("--%s %d: want 1 to %d", f.flag, f.n, cluster.MaxNodes)
		}
	}
	for _, f := range []struct {
		flag string
		port int
	}{{"broker-port", o.BrokerPort}, {"controller-port", o.ControllerPort}} {
		if cmd.Flags().Changed(f.flag) && f.port == 0 {
			return usagef("--%s 0: want a port from 1024 to 65535", f.flag)
		}
	}
	return nil
}

func newUpCommand(g *globals) *cobra.Command {
	var o cluster.UpOptions
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create and start a lab, or start a stopped one, and wait until it is ready",
		Example: `  kraftlab up --nodes 3
  kraftlab up --name big --nodes 5 --broker-port 29092 --controller-port 39092
  kraftlab up --name iso --controllers 3 --brokers 2 --ports auto
  kraftlab up --name dyn --controllers 1 --brokers 1 --quorum dynamic --ports auto
  kraftlab up --name old --kafka-version 3.9.1 --ports auto
  kraftlab up --set log.retention.ms=60000 --set 2:num.io.threads=4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkNodesFlag(cmd, &o); err != nil {
				return err
			}
			o.Home, o.Name, o.Progress = g.home, g.name, cmd.ErrOrStderr()
			res, err := cluster.Up(cmd.Context(), o)
			if err != nil {
				return err
			}
			return printUp(cmd.OutOrStdout(), g, res)
		},
	}
	addUpFlags(cmd, &o)
	cmd.Flags().DurationVar(&o.Wait, "wait", cluster.DefaultWait, "how long to wait for the lab to be ready")
	cmd.Flags().BoolVar(&o.Retain, "retain", false, "keep started nodes (and a new lab's files) when up fails, for inspection")
	return cmd
}

func printUp(w io.Writer, g *globals, res *cluster.UpResult) error {
	s := res.State
	if g.output == "json" {
		return printJSON(w, struct {
			Name           string              `json:"name"`
			ClusterID      string              `json:"cluster_id"`
			KafkaVersion   string              `json:"kafka_version"`
			Layout         string              `json:"layout"`
			Quorum         string              `json:"quorum"`
			Bootstrap      string              `json:"bootstrap_servers"`
			Nodes          []cluster.NodeState `json:"nodes"`
			Created        bool                `json:"created"`
			AlreadyRunning bool                `json:"already_running"`
			Timings        []step.Timing       `json:"timings,omitempty"`
		}{s.Name, s.ClusterID, s.KafkaVersion, s.Layout(), s.QuorumMode(), strings.Join(s.BootstrapServers(), ","), s.Nodes, res.Created, res.AlreadyRunning, res.Timings})
	}
	verb := "is ready"
	if res.AlreadyRunning {
		verb = "is already running"
	}
	fmt.Fprintf(w, "Lab %q %s: %s, %s quorum, Kafka %s, cluster id %s\n", s.Name, verb, s.Layout(), s.QuorumMode(), s.KafkaVersion, s.ClusterID)
	fmt.Fprintf(w, "Bootstrap servers: %s\n\n", strings.Join(s.BootstrapServers(), ","))
	name := ""
	if s.Name != "default" {
		name = " --name " + s.Name
	}
	fmt.Fprintf(w, "Next:\n")
	for _, c := range []string{"status", "topic create kraft-test", "smoke", "logs 1 -f", "down"} {
		fmt.Fprintf(w, "  kraftlab %s%s\n", c, name)
	}
	return nil
}

func newRenderCommand(g *globals) *cobra.Command {
	var o cluster.UpOptions
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Show each node's server.properties and java command lines that up would use, starting nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkNodesFlag(cmd, &o); err != nil {
				return err
			}
			o.Home, o.Name, o.Progress = g.home, g.name, cmd.ErrOrStderr()
			nodes, err := cluster.Render(cmd.Context(), o)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				return printJSON(w, nodes)
			}
			for _, n := range nodes {
				fmt.Fprintf(w, "### node %d: %s\n%s\n# format:\n%s\n# start:\n%s\n\n", n.ID, n.PropertiesFile, n.Properties, n.FormatCommand, n.StartCommand)
			}
			return nil
		},
	}
	addUpFlags(cmd, &o)
	return cmd
}

func newStatusCommand(g *globals) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the lab's nodes, processes and KRaft quorum",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := cluster.OpenLab(g.home, g.name)
			if err != nil {
				return err
			}
			st, err := lab.Status(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				if err := printJSON(w, st); err != nil {
					return err
				}
			} else {
				printStatus(w, st)
			}
			if check {
				return st.Check()
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "exit non-zero unless every node runs and the quorum has a leader")
	return cmd
}

func printStatus(w io.Writer, st *cluster.Status) {
	fmt.Fprintf(w, "Lab %q (%s)\nCluster id: %s   Kafka %s   %s, %s quorum\nBootstrap servers: %s\n", st.Name, st.Dir, st.ClusterID, st.KafkaVersion, st.Layout, st.QuorumMode, strings.Join(st.Bootstrap, ","))
	switch {
	case st.Quorum != nil:
		fmt.Fprintf(w, "Quorum: leader %d, epoch %d, high watermark %d\n", st.Quorum.LeaderID, st.Quorum.LeaderEpoch, st.Quorum.HighWatermark)
	case st.QuorumError != "":
		fmt.Fprintf(w, "Quorum: unavailable (%s)\n", st.QuorumError)
	default:
		fmt.Fprintf(w, "Quorum: lab is stopped\n")
	}
	fmt.Fprintf(w, "\n%-5s %-18s %-8s %-8s %-16s %-16s %-9s %s\n", "NODE", "ROLES", "STATE", "PID", "BROKER", "CONTROLLER", "QUORUM", "LAG")
	for _, n := range st.Nodes {
		pid, role, lag := "-", "-", "-"
		if n.PID != 0 {
			pid = fmt.Sprint(n.PID)
		}
		if n.QuorumRole != "" {
			role = n.QuorumRole
		}
		if n.Lag != nil {
			lag = fmt.Sprint(*n.Lag)
		}
		fmt.Fprintf(w, "%-5d %-18s %-8s %-8s %-16s %-16s %-9s %s\n", n.ID, strings.Join(n.Roles, ","), n.State, pid, dash(n.BrokerAddr), dash(n.ControllerAddr), role, lag)
	}
	if len(st.OldClients) > 0 {
		fmt.Fprintf(w, "\nRequests refused for their version (clients too old for Kafka %s?):\n", st.KafkaVersion)
		for _, r := range st.OldClients {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newLogsCommand(g *globals) *cobra.Command {
	var o cluster.LogsOptions
	cmd := &cobra.Command{
		Use:   "logs [NODE]",
		Short: "Show a node's server log, or all nodes' interleaved by time",
		Long: `logs prints the last lines of a node's server log, or with no NODE those of every
node, interleaved by each line's timestamp and prefixed with the node; lines without
one (a stack trace) stay with the line before them. -f keeps following, merging new
lines of all nodes in time order as they arrive.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Lines < 0 {
				return usagef("--lines %d: want 0 or more", o.Lines)
			}
			if len(args) == 1 {
				if _, err := fmt.Sscanf(args[0], "%d", &o.Node); err != nil || o.Node < 1 || fmt.Sprint(o.Node) != args[0] {
					return usagef("NODE %q: want a node id such as 1", args[0])
				}
			}
			lab, err := cluster.OpenLab(g.home, g.name)
			if err != nil {
				return err
			}
			return lab.Logs(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines (Ctrl-C stops)")
	cmd.Flags().IntVarP(&o.Lines, "lines", "n", 50, "lines to show from the end of each log (0: none, with -f only new ones)")
	return cmd
}

func newDownCommand(g *globals) *cobra.Command {
	var o cluster.DownOptions
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop the lab's nodes (data is kept; --purge removes the lab)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Timeout < 0 {
				return usagef("--timeout %s: want more than 0 (0 means the default, 30s)", o.Timeout)
			}
			o.Home, o.Name = g.home, g.name
			res, err := cluster.Down(cmd.Context(), o)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				return printJSON(w, res)
			}
			switch {
			case !res.Existed:
				fmt.Fprintf(w, "No lab %q in %s; nothing to do\n", res.Name, res.Dir)
				return nil
			case len(res.Stopped) == 0:
				fmt.Fprintf(w, "Lab %q is not running\n", res.Name)
			default:
				fmt.Fprintf(w, "Stopped lab %q (nodes %v)\n", res.Name, res.Stopped)
			}
			if res.Purged {
				fmt.Fprintf(w, "Removed %s\n", res.Dir)
			} else {
				fmt.Fprintf(w, "Data kept in %s; 'kraftlab up' starts it again, 'kraftlab down --purge' removes it\n", res.Dir)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&o.Purge, "purge", false, "also delete the lab directory (data, logs, configuration)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "how long each node gets to shut down cleanly before SIGKILL")
	return cmd
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
