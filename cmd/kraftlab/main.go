// Command kraftlab runs a real multi-node Apache Kafka cluster in KRaft mode on one
// machine and lets you use it as a lab. This file owns the root command, the global
// flags, output selection and exit codes; every subcommand is a thin layer over the
// cluster package.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// Exit codes: 1 for an error, 2 for a usage mistake (bad flag or argument), 130
// for an interrupt (Ctrl-C), as shells report one.
const (
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// usageError marks an error as the user's invocation being wrong.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// globals are the flags every command shares.
type globals struct {
	name   string // lab name
	home   string // KRAFTLAB_HOME
	output string // text or json
	source string // where runtimes are fetched from (install, up, render, upgrade)
	user   string // whom data commands act as on a secured lab
}

// config is how the cluster package finds labs and runtimes: the flags, then the
// documented environment variables (KRAFTLAB_HOME, KRAFTLAB_CACHE,
// KRAFTLAB_APACHE_MIRROR). The library itself reads no environment.
func (g *globals) config(cmd *cobra.Command) cluster.Config {
	return cluster.Config{
		Home: g.home,
		Runtime: dist.Options{
			CacheDir:      cacheDir(),
			Source:        g.source,
			ApacheMirrors: splitList(os.Getenv("KRAFTLAB_APACHE_MIRROR")),
		},
		Progress: cmd.ErrOrStderr(),
	}
}

// cacheDir is the runtime cache: KRAFTLAB_CACHE, else the default.
func cacheDir() string {
	if d := os.Getenv("KRAFTLAB_CACHE"); d != "" {
		return d
	}
	d, _ := dist.DefaultCacheDir()
	return d
}

// nameGiven reports whether the lab was named by --name or KRAFTLAB_LAB.
func (g *globals) nameGiven(cmd *cobra.Command) bool {
	return cmd.Flags().Changed("name") || os.Getenv("KRAFTLAB_LAB") != ""
}

// open opens the lab named by --name.
func (g *globals) open(cmd *cobra.Command) (*cluster.Lab, error) {
	return cluster.Open(g.config(cmd), g.name)
}

func main() {
	g := &globals{}
	root := newRootCommand(g)
	// Ctrl-C cancels the command's context: up stops what it started, consume and
	// logs -f end cleanly.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := root.ExecuteContext(ctx)
	stop()
	if err == nil {
		return
	}
	fmt.Fprintf(os.Stderr, "ERROR: %v\n", err)
	os.Exit(exitCode(err))
}

// exitCode is 2 when the invocation was wrong (a bad flag, argument or option;
// nothing was changed), else 1.
func exitCode(err error) int {
	var ue usageError
	var ce *usage.Error
	switch {
	case errors.As(err, &ue) || errors.As(err, &ce):
		return exitUsage
	case errors.Is(err, cluster.ErrInterrupted):
		return exitInterrupted
	}
	return exitError
}

func newRootCommand(g *globals) *cobra.Command {
	root := &cobra.Command{
		Use:   "kraftlab",
		Short: "A real multi-node Kafka cluster in KRaft mode on one machine, as a lab",
		Long: `kraftlab runs the real Apache Kafka broker as plain processes: a multi-node
KRaft cluster (no ZooKeeper, no Docker) with one command, ready when it says so.

  kraftlab up --nodes 3
  kraftlab topic create kraft-test
  kraftlab smoke
  kraftlab down`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			switch g.output {
			case "text", "json":
			default:
				return usagef("--output %q: want text or json", g.output)
			}
			return nil
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
	})
	pf := root.PersistentFlags()
	pf.StringVar(&g.name, "name", envOr("KRAFTLAB_LAB", "default"), "lab name ([a-z0-9-]); env KRAFTLAB_LAB")
	pf.StringVar(&g.home, "home", os.Getenv("KRAFTLAB_HOME"), "directory holding the labs (default ~/.kraftlab); env KRAFTLAB_HOME")
	pf.StringVarP(&g.output, "output", "o", "text", "output format: text or json")
	pf.StringVar(&g.user, "user", cluster.AdminUser, "on a secured lab, act as this user (its password or certificate is the lab's)")

	root.AddCommand(
		newInstallCommand(g),
		newUpCommand(g),
		newRenderCommand(g),
		newSpecCommand(g),
		newStatusCommand(g),
		newLogsCommand(g),
		newDownCommand(g),
		newLsCommand(g),
		newVersionsCommand(g),
		newNodeCommand(g),
		newControllerCommand(g),
		newBrokerCommand(g),
		newUpgradeCommand(g),
		newExportCommand(g),
		newChaosCommand(g),
		newUserCommand(g),
		newACLCommand(g),
		newCertCommand(g),
		newClientConfigCommand(g),
	)
	addDataCommands(root, g)
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
		usageArgs(cmd)
	}
	walk(root)
	return root
}

// usageArgs makes every command's argument check, and an unknown command, a
// usage error (exit 2), as a bad flag already is.
func usageArgs(cmd *cobra.Command) {
	if !cmd.Runnable() && cmd.HasSubCommands() {
		// A command group: alone it shows its help; anything after it that is no
		// subcommand is a mistake (cobra would show the help and exit 0).
		cmd.Args = cobra.ArbitraryArgs
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return c.Help()
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
			if s := c.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %s?", strings.Join(s, " or "))
			}
			return usagef("%s (see '%s --help')", msg, c.CommandPath())
		}
		return
	}
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				var ue usageError
				if errors.As(err, &ue) {
					return err
				}
				return usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
			}
			return nil
		}
	}
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
