package main

// This file owns the commands of a secured lab: user, acl, cert and
// client-config. Each makes one call on the lab.

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster"
)

func newUserCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Add, list or delete the users of a secured lab (SCRAM or PLAIN)",
		Long: `Users of a lab made with --security sasl-scram or sasl-plain.

SCRAM users are created in the running cluster (AlterUserScramCredentials). PLAIN
users live in every broker's JAAS configuration, so adding or deleting one restarts
the brokers one by one, each back and in sync before the next. On an mTLS lab a user
is a client certificate: 'kraftlab cert issue NAME'.

A generated password is printed once and kept, readable by you only, in the lab
directory; client-config prints a configuration with it. A password of your own is
read from standard input (--password-stdin), never from the command line.`,
		Example: `  kraftlab user add alice
  printf '%s' "$PW" | kraftlab user add bob --password-stdin
  kraftlab user list
  kraftlab user delete bob`,
		Args: cobra.NoArgs,
	}
	var stdin bool
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Add a user, with a generated password (or --password-stdin)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			password := ""
			if stdin {
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && err != io.EOF {
					return err
				}
				if password = strings.TrimRight(line, "\r\n"); password == "" {
					return usagef("--password-stdin: no password on standard input")
				}
			}
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			res, err := lab.AddUser(cmd.Context(), args[0], password)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), res)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Added user %s to lab %q\n", res.Name, lab.Name())
			if res.Password != "" {
				fmt.Fprintf(w, "Password (shown once; kept 0600 in the lab, 'kraftlab client-config --user %s' uses it): %s\n", res.Name, res.Password)
			}
			if len(res.Restarted) > 0 {
				fmt.Fprintf(w, "Restarted nodes %v to take the new PLAIN user list\n", res.Restarted)
			}
			return nil
		},
	}
	add.Flags().BoolVar(&stdin, "password-stdin", false, "read the password from standard input instead of generating one")
	list := &cobra.Command{
		Use:   "list",
		Short: "List the lab's users",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			users, err := lab.Users(cmd.Context())
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), users)
			}
			tw := newTable(cmd.OutOrStdout())
			defer tw.Flush()
			fmt.Fprintln(tw, "USER\tIN CLUSTER")
			for _, u := range users {
				in := "-"
				if u.InCluster != nil {
					in = map[bool]string{true: "yes", false: "no"}[*u.InCluster]
				}
				fmt.Fprintf(tw, "%s\t%s\n", u.Name, in)
			}
			return nil
		},
	}
	del := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a user (ACLs naming it stay until 'acl delete')",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			res, err := lab.DeleteUser(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), res)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted user %s from lab %q\n", res.Name, lab.Name())
			return nil
		},
	}
	cmd.AddCommand(add, list, del)
	return cmd
}

// aclFlags are the kafka-acls-like flags of 'acl add' and 'acl delete'.
type aclFlags struct {
	allow, deny                   bool
	principal, host               string
	operations                    []string
	topic, group, transactionalID string
	cluster, prefixed             bool
}

func (f *aclFlags) bind(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.BoolVar(&f.allow, "allow", false, "allow the operations (the default)")
	fs.BoolVar(&f.deny, "deny", false, "deny the operations")
	fs.StringVar(&f.principal, "principal", "", "whom: User:NAME")
	fs.StringSliceVar(&f.operations, "operation", nil, "what: "+strings.Join(cluster.ACLOperations, ", ")+" (comma-separated or repeated)")
	fs.StringVar(&f.topic, "topic", "", "on this topic")
	fs.StringVar(&f.group, "group", "", "on this consumer group")
	fs.StringVar(&f.transactionalID, "transactional-id", "", "on this transactional id")
	fs.BoolVar(&f.cluster, "cluster", false, "on the cluster")
	fs.BoolVar(&f.prefixed, "prefixed", false, "the name is a prefix (default: the literal name)")
	fs.StringVar(&f.host, "host", "*", "from this client host")
}

// acl turns the flags into one ACL, refusing what does not fit together.
func (f *aclFlags) acl() (cluster.ACLSpec, error) {
	a := cluster.ACLSpec{Principal: f.principal, Operations: f.operations, Host: f.host, Permission: "allow", Pattern: "literal"}
	if f.allow && f.deny {
		return a, usagef("--allow and --deny: choose one")
	}
	if f.deny {
		a.Permission = "deny"
	}
	if f.prefixed {
		a.Pattern = "prefixed"
	}
	var resources []string
	for _, r := range []struct {
		on       bool
		resource string
		name     string
	}{{f.topic != "", "topic", f.topic}, {f.group != "", "group", f.group}, {f.transactionalID != "", "transactional-id", f.transactionalID}, {f.cluster, "cluster", ""}} {
		if r.on {
			resources = append(resources, "--"+r.resource)
			a.Resource, a.Name = r.resource, r.name
		}
	}
	if len(resources) != 1 {
		return a, usagef("want exactly one of --topic, --group, --transactional-id or --cluster (got %d)", len(resources))
	}
	return a, nil
}

func newACLCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "acl",
		Short: "Add, list or delete the ACLs of a lab made with --acls",
		Example: `  kraftlab acl add --principal User:alice --operation read,write,describe --topic orders
  kraftlab acl add --principal User:alice --operation read --group alice- --prefixed
  kraftlab acl list
  kraftlab acl delete --principal User:alice --operation read,write,describe --topic orders`,
		Args: cobra.NoArgs,
	}
	var add, del aclFlags
	addCmd := &cobra.Command{
		Use:   "add",
		Short: "Allow (or --deny) a principal operations on a resource",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := add.acl()
			if err != nil {
				return err
			}
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			if err := lab.AddACL(cmd.Context(), a); err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), a)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Added: %s\n", describeACL(a))
			return nil
		},
	}
	add.bind(addCmd)
	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List every ACL the cluster holds",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			acls, err := lab.ACLs(cmd.Context())
			if err != nil {
				return err
			}
			if g.output == "json" {
				if acls == nil {
					acls = []cluster.ACLSpec{}
				}
				return printJSON(cmd.OutOrStdout(), acls)
			}
			tw := newTable(cmd.OutOrStdout())
			defer tw.Flush()
			fmt.Fprintln(tw, "PRINCIPAL\tPERMISSION\tOPERATION\tRESOURCE\tNAME\tPATTERN\tHOST")
			for _, a := range acls {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.Principal, a.Permission, strings.Join(a.Operations, ","), a.Resource, a.Name, a.Pattern, a.Host)
			}
			return nil
		},
	}
	delCmd := &cobra.Command{
		Use:   "delete",
		Short: "Delete the ACLs that match the flags",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := del.acl()
			if err != nil {
				return err
			}
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			deleted, err := lab.DeleteACL(cmd.Context(), a)
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), deleted)
			}
			if len(deleted) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "No ACL matched: %s\n", describeACL(a))
			}
			for _, d := range deleted {
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted: %s\n", describeACL(d))
			}
			return nil
		},
	}
	del.bind(delCmd)
	cmd.AddCommand(addCmd, listCmd, delCmd)
	return cmd
}

func describeACL(a cluster.ACLSpec) string {
	on := a.Resource
	if a.Name != "" && a.Resource != "cluster" {
		on += " " + a.Name
		if a.Pattern == "prefixed" {
			on += "*"
		}
	}
	return fmt.Sprintf("%s %s %s on %s (host %s)", a.Principal, a.Permission, strings.Join(a.Operations, ","), on, a.Host)
}

func newCertCommand(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Issue client certificates signed by the lab's CA",
		Args:  cobra.NoArgs,
	}
	issue := &cobra.Command{
		Use:   "issue NAME",
		Short: "Make a client certificate for NAME (principal User:NAME); on an mTLS lab, NAME becomes a user",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			f, err := lab.IssueCert(args[0])
			if err != nil {
				return err
			}
			if g.output == "json" {
				return printJSON(cmd.OutOrStdout(), f)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Certificate for %s (principal User:%s):\n  certificate %s\n  key         %s (0600)\n  keystore    %s (0600; key, certificate and CA, for ssl.keystore.type=PEM)\n", args[0], args[0], f.Cert, f.Key, f.Keystore)
			return nil
		},
	}
	cmd.AddCommand(issue)
	return cmd
}

func newClientConfigCommand(g *globals) *cobra.Command {
	var format, file string
	cmd := &cobra.Command{
		Use:   "client-config",
		Short: "Print a working client configuration for the lab (as --user): Java properties, librdkafka or environment variables",
		Example: `  kraftlab client-config > admin.properties
  kafka-console-producer.sh --bootstrap-server 127.0.0.1:9092 --topic orders --producer.config admin.properties
  kraftlab client-config --user alice --format librdkafka --file alice.conf && kcat -F alice.conf -L`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lab, err := g.open(cmd)
			if err != nil {
				return err
			}
			cfg, err := lab.ClientConfig(g.user, format)
			if err != nil {
				return err
			}
			if file == "" {
				_, err = io.WriteString(cmd.OutOrStdout(), cfg)
				return err
			}
			// It may hold a password: readable by its owner only.
			f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return err
			}
			if _, err := io.WriteString(f, cfg); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "Wrote %s (0600)\n", file)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", cluster.ConfigProperties, "properties (Java clients, Kafka's tools), librdkafka (kcat -F) or env")
	cmd.Flags().StringVar(&file, "file", "", "write it to this new file (0600) instead of standard output")
	return cmd
}
