package main

// This file owns how data commands find the cluster they talk to: --brokers, else
// the lab named by --name.

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// target is the cluster a data command talks to.
type target struct {
	Brokers []string // bootstrap servers
	// ExpectBrokers is how many brokers the lab should have; 0 when --brokers points
	// at a cluster kraftlab does not manage.
	ExpectBrokers int
	// Opts connect to a secured lab as --user: TLS, a certificate, SASL.
	Opts []kgo.Opt
}

// resolveTarget returns --brokers when given, else the bootstrap servers of the lab.
// A lab whose nodes are not running is an error saying so.
func (g *globals) resolveTarget(cmd *cobra.Command, brokers string) (target, error) {
	if list := splitList(brokers); len(list) > 0 {
		return target{Brokers: list}, nil
	}
	lab, err := g.open(cmd)
	if err != nil {
		return target{}, err
	}
	if err := lab.RequireRunning(); err != nil {
		return target{}, err
	}
	opts, err := lab.ClientOpts(g.user)
	if err != nil {
		return target{}, err
	}
	return target{Brokers: lab.BootstrapServers(), ExpectBrokers: lab.Brokers(), Opts: opts}, nil
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
