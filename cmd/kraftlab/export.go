package main

// This file owns 'export strimzi|compose|properties': the lab (-f lab.yaml, or an
// existing lab by --name) in another engine's form, through one call into
// cluster/export, then written to a directory or stdout with what was left out
// reported on stderr.

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/export"
)

// exportFlags say which lab to export and where the files go. -o here is the
// destination, not the output format: an export's output is files.
type exportFlags struct {
	file string
	out  string
}

func (f *exportFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.file, "file", "f", "", "export this lab spec (YAML) instead of an existing lab; --name overrides its name")
	cmd.Flags().StringVarP(&f.out, "output", "o", "-", "where to write: - for stdout, or a new or empty directory (one file per object)")
}

// layout is the lab to export: the spec file's, or the existing lab named.
func (f *exportFlags) layout(cmd *cobra.Command, g *globals) (*cluster.Layout, error) {
	cfg := g.config(cmd)
	var lab *cluster.Lab
	var err error
	if f.file != "" {
		spec, src, rerr := cluster.ReadSpecFile(f.file)
		if rerr != nil {
			return nil, rerr
		}
		if spec.Name == "" || g.nameGiven(cmd) {
			spec.Name = g.name
			src.SetByFlag("name", "--name")
		}
		lab, err = cluster.NewFromSource(cfg, spec, src)
	} else {
		lab, err = g.open(cmd)
	}
	if err != nil {
		return nil, err
	}
	return lab.Layout()
}

// write writes the export and says on stderr what it left out or changed.
func (f *exportFlags) write(cmd *cobra.Command, res *export.Result) error {
	if err := export.Write(res, f.out, cmd.OutOrStdout()); err != nil {
		return err
	}
	w := cmd.ErrOrStderr()
	printDropped(w, res.Dropped)
	for _, n := range res.Notes {
		fmt.Fprintf(w, "Note: %s\n", n)
	}
	if f.out != "-" && f.out != "" {
		var names []string
		for _, file := range res.Files {
			names = append(names, file.Name)
		}
		files := "files"
		if len(names) == 1 {
			files = "file"
		}
		fmt.Fprintf(w, "Wrote %d %s to %s: %s\n", len(names), files, f.out, strings.Join(names, ", "))
	}
	return nil
}

// printDropped lists the properties left out, grouped by why.
func printDropped(w io.Writer, dropped []export.Dropped) {
	if len(dropped) == 0 {
		return
	}
	fmt.Fprintln(w, "Left out:")
	var reasons []string
	byReason := map[string][]string{}
	for _, d := range dropped {
		item := d.String()
		if _, ok := byReason[d.Reason]; !ok {
			reasons = append(reasons, d.Reason)
		}
		byReason[d.Reason] = append(byReason[d.Reason], item)
	}
	for _, r := range reasons {
		fmt.Fprintf(w, "  %s: %s\n", strings.Join(byReason[r], ", "), r)
	}
}

func newExportCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "export strimzi|compose|properties",
		Short: "Carry the lab to Kubernetes (Strimzi), containers (Compose) or hand-made hosts (server.properties)",
		Long: `Write the lab — from -f lab.yaml, or an existing lab by --name — in the form
another engine takes: Strimzi resources, a compose file for the apache/kafka image,
or each node's server.properties with the format commands. Every export is checked
against the target's own schema before it is written (the Strimzi CRDs and the
Compose Specification, embedded: no Kubernetes or Docker is needed). What the
target does not take is listed on stderr, with why.`,
		// Runnable only to refuse what is not a target, as a usage error.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("export: name a target: strimzi, compose or properties (see 'kraftlab export --help')")
			}
			return usagef("export %s: not a target; want strimzi, compose or properties", args[0])
		},
		RunE: func(cmd *cobra.Command, args []string) error { return nil },
	}
	cmd.AddCommand(newExportStrimziCommand(g), newExportComposeCommand(g), newExportPropertiesCommand(g))
	return cmd
}

func newExportStrimziCommand(g *globals) *cobra.Command {
	var f exportFlags
	var o export.StrimziOptions
	supported, _ := export.SupportedKafkaVersions()
	cmd := &cobra.Command{
		Use:   "strimzi",
		Short: "The lab as Strimzi resources: a Kafka, a KafkaNodePool per role group, a KafkaTopic per spec topic",
		Long: fmt.Sprintf(`The lab as Strimzi resources (kafka.strimzi.io/v1, checked against the CRDs of
Strimzi %s): a Kafka with a plain internal listener on 9092 and the lab's broker
properties in spec.kafka.config, less what the operator forbids there; a
KafkaNodePool per role group (dual-role for combined nodes, controller and broker
for isolated roles) keeping the lab's node ids; a KafkaTopic per spec topic.

Strimzi supports Kafka %s. A lab on another version is refused, naming the
nearest; --kafka-version V exports for V instead (even one this Strimzi does not
list, with a note, for a newer operator).`, export.StrimziRelease, strings.Join(supported, ", ")),
		Example: `  kraftlab export strimzi -f examples/labs/combined-3.yaml --kafka-version 4.2.0 | kubectl apply -f -
  kraftlab export strimzi --name iso --kafka-version 4.3.1 --storage 100Gi --storage-class fast -o k8s/
  kraftlab export strimzi --kafka-version 4.2.0 --ephemeral`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lay, err := f.layout(cmd, g)
			if err != nil {
				return err
			}
			res, err := export.Strimzi(lay, o)
			if err != nil {
				return err
			}
			return f.write(cmd, res)
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&o.KafkaVersion, "kafka-version", "", "the Kafka version of the Kafka resource (default: the lab's, if Strimzi supports it)")
	cmd.Flags().StringVar(&o.StorageSize, "storage", "", "each node's persistent volume claim (default "+export.DefaultStorageSize+")")
	cmd.Flags().StringVar(&o.StorageClass, "storage-class", "", "the claims' storage class (default: the Kubernetes cluster's)")
	cmd.Flags().BoolVar(&o.Ephemeral, "ephemeral", false, "emptyDir storage instead of claims: data lives as long as the pod")
	return cmd
}

func newExportComposeCommand(g *globals) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "compose",
		Short: "The lab as a compose file for the apache/kafka image, one service per node",
		Long: `The lab as a compose file (compose.yaml) for the apache/kafka image of the lab's
Kafka version, one service per node (controller-ID, kafka-ID), laid out like
apache/kafka's own cluster examples: brokers talk on PLAINTEXT (port 19092) by
host name, controllers on CONTROLLER (9093), and each broker's PLAINTEXT_HOST
(9092 in the container) is published on the lab's own bind address and broker
port, so clients on this host use the lab's bootstrap servers. Every other
property is the lab's rendered one, as the image's KAFKA_ variables; CLUSTER_ID
is the lab's (a new one for a spec file). A dynamic quorum runs as a static one:
the image formats storage without --initial-controllers.`,
		Example: `  kraftlab export compose -f examples/labs/isolated-3c-2b.yaml -o iso/ && docker compose -f iso/compose.yaml up -d`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lay, err := f.layout(cmd, g)
			if err != nil {
				return err
			}
			res, err := export.Compose(lay, export.ComposeOptions{})
			if err != nil {
				return err
			}
			return f.write(cmd, res)
		},
	}
	f.register(cmd)
	return cmd
}

func newExportPropertiesCommand(g *globals) *cobra.Command {
	var f exportFlags
	cmd := &cobra.Command{
		Use:   "properties",
		Short: "Each node's server.properties, as 'render' shows it, and format.sh with the storage format commands",
		Long: `Each node's server.properties (node<ID>/server.properties), byte for byte what
'kraftlab render' shows for the lab, and format.sh: the kafka-storage.sh format
command of every node with the lab's cluster id (a new one for a spec file) and,
for a dynamic quorum, its --initial-controllers. The manual flow of the KRaft
quick start, generated, for hosts set up by hand or by Ansible.`,
		Example: `  kraftlab export properties --name iso -o hosts/`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lay, err := f.layout(cmd, g)
			if err != nil {
				return err
			}
			res, err := export.Properties(lay, export.PropertiesOptions{})
			if err != nil {
				return err
			}
			return f.write(cmd, res)
		},
	}
	f.register(cmd)
	return cmd
}
