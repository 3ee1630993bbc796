package main

// This file owns the lifecycle commands: install, up, render, spec, status, logs,
// down. Each fills an options struct or a spec from flags and makes one call on a
// cluster.Lab.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/dist"
)

// addSourceFlag binds --source, where a runtime is fetched from.
func addSourceFlag(cmd *cobra.Command, g *globals) {
	cmd.Flags().StringVar(&g.source, "source", "auto", "where to fetch the runtime: auto, maven (Maven Central via mvn) or apache (official tarball)")
}

func newInstallCommand(g *globals) *cobra.Command {
	var version, home string
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Fetch and verify the Kafka broker runtime (up does this when needed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o := g.config(cmd).Runtime
			o.Version, o.KafkaHome, o.Progress, o.Env = version, home, cmd.ErrOrStderr(), os.Getenv
			if version != "" {
				if err := dist.ValidateVersion(version); err != nil {
					return usagef("--kafka-version: %v", err)
				}
			}
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
	cmd.Flags().StringVar(&version, "kafka-version", "", fmt.Sprintf("Kafka version (default %s); env KRAFTLAB_KAFKA_VERSION", dist.DefaultVersion))
	cmd.Flags().StringVar(&home, "kafka-home", "", "an unpacked official Kafka tarball to use instead of fetching one; env KAFKA_HOME")
	addSourceFlag(cmd, g)
	return cmd
}

func newUpCommand(g *globals) *cobra.Command {
	var f specFlags
	var o cluster.UpOptions
	var noHints bool
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Create and start a lab, or start a stopped one, and wait until it is ready",
		Long: `Create a lab from flags or a spec file (-f lab.yaml; flags given too override its
fields), or start the stopped nodes of an existing lab, and wait until it is ready:
the KRaft quorum has a leader with every voter caught up, every broker is
registered and serving, and the spec's topics exist.

An existing lab keeps the layout, ports and properties it was created with: flags
or a file that ask for something else are refused, naming what differs.`,
		Example: `  kraftlab up --nodes 3
  kraftlab up -f examples/labs/isolated-3c-2b.yaml
  kraftlab up --name big --nodes 5 --broker-port 29092 --controller-port 39092
  kraftlab up --name iso --controllers 3 --brokers 2 --ports auto
  kraftlab up --name dyn --controllers 1 --brokers 1 --quorum dynamic --ports auto
  kraftlab up --name old --kafka-version 3.9.1 --ports auto
  kraftlab up --set log.retention.ms=60000 --set 2:num.io.threads=4`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := f.lab(cmd, g)
			if err != nil {
				return err
			}
			res, err := lab.Up(cmd.Context(), o)
			if err != nil {
				return err
			}
			return printUp(cmd, g, lab, res, !noHints)
		},
	}
	f.register(cmd)
	addSourceFlag(cmd, g)
	cmd.Flags().DurationVar(&o.Wait, "wait", cluster.DefaultWait, "how long to wait for the lab to be ready")
	cmd.Flags().BoolVar(&o.Retain, "retain", false, "keep started nodes (and a new lab's files) when up fails, for inspection")
	cmd.Flags().BoolVar(&noHints, "no-hints", false, "leave out the suggested next commands (for scripts that run them)")
	return cmd
}

// upJSON is what 'up -o json' prints: the lab as 'status' describes it, and what up did.
type upJSON struct {
	Name         string               `json:"name"`
	ClusterID    string               `json:"cluster_id"`
	KafkaVersion string               `json:"kafka_version"`
	Layout       string               `json:"layout"`
	Quorum       string               `json:"quorum"`
	Bootstrap    []string             `json:"bootstrap_servers"`
	Nodes        []cluster.NodeStatus `json:"nodes"`
	*cluster.UpResult
}

func printUp(cmd *cobra.Command, g *globals, lab *cluster.Lab, res *cluster.UpResult, hints bool) error {
	w := cmd.OutOrStdout()
	st, err := lab.Status(cmd.Context())
	if err != nil {
		return err
	}
	if g.output == "json" {
		return printJSON(w, upJSON{st.Name, st.ClusterID, st.KafkaVersion, st.Layout, st.QuorumMode, st.Bootstrap, st.Nodes, res})
	}
	verb := "is ready"
	if res.AlreadyRunning {
		verb = "is already running (and ready)"
	}
	fmt.Fprintf(w, "Lab %q %s: %s, %s quorum, Kafka %s, cluster id %s\n", st.Name, verb, st.Layout, st.QuorumMode, st.KafkaVersion, st.ClusterID)
	fmt.Fprintf(w, "Bootstrap servers: %s\n", strings.Join(st.Bootstrap, ","))
	for _, t := range res.Topics {
		fmt.Fprintf(w, "Created topic %s (from the spec)\n", t)
	}
	for _, warning := range st.Warnings {
		fmt.Fprintf(w, "Note: %s\n", warning)
	}
	if !hints {
		return nil
	}
	next := []string{"status"}
	if res.Created {
		if len(lab.Spec().Topics) == 0 {
			next = append(next, "topic create kraft-test")
		}
		next = append(next, "smoke")
	}
	if lab.Spec().Security.Secured() {
		next = append(next, "client-config")
	}
	next = append(next, "logs 1 -f", "down")
	printHints(w, g, next)
	return nil
}

// printHints suggests commands, written so that they work as printed: through the
// binary as it was run when 'kraftlab' on PATH is not this binary, with the lab's
// name and home when they are not the defaults.
func printHints(w io.Writer, g *globals, next []string) {
	bin, onPath := selfCommand()
	suffix := ""
	if g.name != "default" {
		suffix += " --name " + g.name
	}
	if g.home != "" && os.Getenv("KRAFTLAB_HOME") != g.home {
		suffix += " --home " + g.home
	}
	fmt.Fprintf(w, "\nNext:\n")
	for _, c := range next {
		fmt.Fprintf(w, "  %s %s%s\n", bin, c, suffix)
	}
	if !onPath {
		fmt.Fprintf(w, "(to type just 'kraftlab': go install ./cmd/kraftlab, with $(go env GOPATH)/bin on your PATH)\n")
	}
}

// selfCommand is how to run this binary again: "kraftlab" when that is what PATH
// finds, else the path it was run as.
func selfCommand() (string, bool) {
	self, err := os.Executable()
	if err != nil {
		return "kraftlab", true
	}
	if found, err := exec.LookPath("kraftlab"); err == nil {
		a, _ := filepath.EvalSymlinks(found)
		b, _ := filepath.EvalSymlinks(self)
		if a == b {
			return "kraftlab", true
		}
	}
	if strings.Contains(os.Args[0], string(os.PathSeparator)) {
		return os.Args[0], false
	}
	return self, false
}

func newRenderCommand(g *globals) *cobra.Command {
	var f specFlags
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Show the lab's spec, each node's server.properties and the java command lines up would use, starting nothing",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := f.lab(cmd, g)
			if err != nil {
				return err
			}
			r, err := lab.Render(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				return printJSON(w, r)
			}
			spec, err := r.Spec.YAML()
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "### spec\n%s\n", spec)
			for _, n := range r.Nodes {
				fmt.Fprintf(w, "### node %d: %s\n%s\n# format:\n%s\n# start:\n%s\n\n", n.ID, n.PropertiesFile, n.Properties, n.FormatCommand, n.StartCommand)
			}
			return nil
		},
	}
	f.register(cmd)
	addSourceFlag(cmd, g)
	return cmd
}

func newSpecCommand(g *globals) *cobra.Command {
	var schema bool
	cmd := &cobra.Command{
		Use:   "spec",
		Short: "Print a lab's spec (YAML; 'up -f' of it makes the same lab), or with --schema the spec's JSON Schema",
		Example: `  kraftlab spec > lab.yaml && kraftlab down --purge && kraftlab up -f lab.yaml
  kraftlab spec --schema > lab.schema.json   # for yaml-language-server`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if schema {
				b, err := cluster.SpecSchema()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(w, "%s\n", b)
				return err
			}
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(w, lab.Spec())
			}
			b, err := lab.Spec().YAML()
			if err != nil {
				return err
			}
			_, err = w.Write(b)
			return err
		},
	}
	cmd.Flags().BoolVar(&schema, "schema", false, "print the JSON Schema of lab spec files instead")
	return cmd
}

func newStatusCommand(g *globals) *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the lab's nodes, processes and KRaft quorum",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := g.open(cmd)
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
	fmt.Fprintf(w, "Lab %q (%s)\nCluster id: %s   Kafka %s   %s, %s quorum, %s profile\nBootstrap servers: %s\n", st.Name, st.Dir, st.ClusterID, st.KafkaVersion, st.Layout, st.QuorumMode, st.Profile, strings.Join(st.Bootstrap, ","))
	switch {
	case st.Quorum != nil:
		fmt.Fprintf(w, "Quorum: leader %d, epoch %d, high watermark %d; survives %d voter failure(s)\n", st.Quorum.LeaderID, st.Quorum.LeaderEpoch, st.Quorum.HighWatermark, st.Tolerates)
	case st.QuorumError != "":
		fmt.Fprintf(w, "Quorum: %s\n", st.QuorumError)
	default:
		fmt.Fprintf(w, "Quorum: lab is stopped\n")
	}
	for _, warning := range st.Warnings {
		fmt.Fprintf(w, "Note: %s\n", warning)
	}
	fmt.Fprintln(w)
	tw := newTable(w)
	fmt.Fprintln(tw, "NODE\tROLES\tSTATE\tPID\tBROKER\tCONTROLLER\tQUORUM\tLAG")
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
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", n.ID, strings.Join(n.Roles, ","), n.State, pid, dash(n.BrokerAddr), dash(n.ControllerAddr), role, lag)
	}
	tw.Flush()
	if len(st.OldClients) > 0 {
		fmt.Fprintf(w, "\nRequests refused for their version (clients too old for Kafka %s?):\n", st.KafkaVersion)
		for _, r := range st.OldClients {
			fmt.Fprintf(w, "  %s\n", r)
		}
	}
}

// newTable is the one table writer: columns sized to their widest cell.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
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
			lab, err := g.open(cmd)
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
			res, err := cluster.Down(cmd.Context(), g.config(cmd), g.name, o)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				return printJSON(w, res)
			}
			switch {
			case !res.Existed:
				fmt.Fprintf(w, "No lab %q in %s; nothing to do\n", res.Name, filepath.Dir(res.Dir))
				return nil
			case len(res.Stopped) == 0:
				fmt.Fprintf(w, "Lab %q is not running\n", res.Name)
			default:
				fmt.Fprintf(w, "Stopped lab %q (nodes %v)\n", res.Name, res.Stopped)
			}
			if len(res.Killed) > 0 {
				fmt.Fprintf(w, "Nodes %v were killed (SIGKILL): not shut down within --timeout %s, or waiting for a quorum that had lost its majority; their next start recovers their logs\n", res.Killed, o.Timeout)
			}
			if res.Warning != "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "WARNING: %s\n", res.Warning)
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

var _ = errors.New
