package main

// This file owns the commands that look across labs and runtimes: ls and versions.

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/dist"
)

func newLsCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "ls",
		Short: "List the labs under KRAFTLAB_HOME: state, Kafka version, nodes, size, bootstrap servers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			labs, err := cluster.ListLabs(g.config(cmd))
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				return printJSON(w, labs)
			}
			printLabs(w, labs)
			return nil
		},
	}
}

func printLabs(w io.Writer, labs []cluster.LabSummary) {
	if len(labs) == 0 {
		fmt.Fprintln(w, "No labs; 'kraftlab up' creates one")
		return
	}
	tw := newTable(w)
	defer tw.Flush()
	fmt.Fprintln(tw, "NAME\tSTATE\tKAFKA\tNODES\tQUORUM\tSIZE\tBOOTSTRAP")
	for _, l := range labs {
		if l.Error != "" {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", l.Name, l.State, l.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.Name, l.State, l.KafkaVersion, l.Layout, l.Quorum, humanBytes(l.SizeBytes), strings.Join(l.Bootstrap, ","))
	}
}

// humanBytes prints a size the way du -h does, in powers of 1024.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%c", float64(n)/float64(div), "KMGTPE"[exp])
}

// runtimeJSON is one installed runtime as 'versions -o json' prints it.
type runtimeJSON struct {
	Version string   `json:"version"`
	Default bool     `json:"default"`
	From    string   `json:"installed_from"`
	Dir     string   `json:"dir"`
	Labs    []string `json:"labs"` // labs under KRAFTLAB_HOME created with it
}

func newVersionsCommand(g *globals) *cobra.Command {
	var available bool
	cmd := &cobra.Command{
		Use:   "versions",
		Short: "List the Kafka runtimes installed in the cache (kraftlab install --kafka-version V adds one); --available what the source offers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if available {
				return printAvailable(cmd, g)
			}
			rts, err := dist.Installed(cacheDir())
			if err != nil {
				return err
			}
			labs, err := cluster.ListLabs(g.config(cmd))
			if err != nil {
				return err
			}
			out := []runtimeJSON{}
			for _, rt := range rts {
				r := runtimeJSON{Version: rt.Version, Default: rt.Version == dist.DefaultVersion, From: rt.InstalledFrom, Dir: rt.Dir, Labs: []string{}}
				for _, l := range labs {
					if l.KafkaVersion == rt.Version {
						r.Labs = append(r.Labs, l.Name)
					}
				}
				out = append(out, r)
			}
			w := cmd.OutOrStdout()
			if g.output == "json" {
				return printJSON(w, out)
			}
			if len(out) == 0 {
				fmt.Fprintf(w, "No Kafka runtime installed; 'kraftlab install' fetches %s\n", dist.DefaultVersion)
				return nil
			}
			tw := newTable(w)
			defer tw.Flush()
			fmt.Fprintln(tw, "VERSION\tDEFAULT\tFROM\tLABS\tDIR")
			for _, r := range out {
				def := ""
				if r.Default {
					def = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Version, dash(def), dash(r.From), dash(strings.Join(r.Labs, ",")), r.Dir)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&available, "available", false, "list the Kafka releases the source offers (Maven Central, or the Apache archive with --source apache) instead")
	addSourceFlag(cmd, g)
	return cmd
}

// availableJSON is one release as 'versions --available -o json' prints it.
type availableJSON struct {
	Version   string `json:"version"`
	Default   bool   `json:"default"`
	Installed bool   `json:"installed"`
}

// printAvailable lists what the source offers, marking the default and what is
// installed already.
func printAvailable(cmd *cobra.Command, g *globals) error {
	o := g.config(cmd).Runtime
	o.MavenRepo = os.Getenv("KRAFTLAB_MAVEN_REPO")
	if o.Source == dist.SourceApache && len(o.ApacheMirrors) == 0 {
		o.ApacheMirrors = dist.DefaultApacheMirrors
	}
	versions, err := dist.Available(cmd.Context(), o)
	if err != nil {
		return err
	}
	rts, _ := dist.Installed(cacheDir())
	out := []availableJSON{}
	for _, v := range versions {
		a := availableJSON{Version: v, Default: v == dist.DefaultVersion}
		for _, rt := range rts {
			a.Installed = a.Installed || rt.Version == v
		}
		out = append(out, a)
	}
	w := cmd.OutOrStdout()
	if g.output == "json" {
		return printJSON(w, out)
	}
	tw := newTable(w)
	defer tw.Flush()
	fmt.Fprintln(tw, "VERSION\tDEFAULT\tINSTALLED")
	for _, a := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", a.Version, dash(map[bool]string{true: "yes"}[a.Default]), dash(map[bool]string{true: "yes"}[a.Installed]))
	}
	return nil
}
