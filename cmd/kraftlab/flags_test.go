package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// placeholderArgs are sample values for the positional arguments a command's Use
// line names, so that a run gets as far as its flags allow.
var placeholderArgs = map[string]string{"TOPIC": "t", "NAME": "t", "ID": "1", "NODE": "1", "ACTION": "kill", "TARGET": "1"}

// numericFlagValues are the values every int, uint and duration flag is tried
// with: zero, minus one, the largest the type holds, past that, and garbage.
func numericFlagValues(typ string) []string {
	switch {
	case typ == "duration":
		return []string{"0", "-1", "-1s", "2562047h", "9999999999h", "soon"}
	case strings.HasPrefix(typ, "uint"):
		return []string{"0", "-1", "18446744073709551615", "99999999999999999999999", "x1"}
	}
	return []string{"0", "-1", "9223372036854775807", "99999999999999999999999", "x1"}
}

// Every command with every numeric flag set to an edge value exits 0, 1 or 2 and
// never panics: no lab in a temp home, no java, brokers at a closed port.
func TestEveryNumericFlagEdge(t *testing.T) {
	home, empty := t.TempDir(), t.TempDir()
	t.Setenv("KRAFTLAB_HOME", home)
	t.Setenv("KRAFTLAB_CACHE", t.TempDir())
	t.Setenv("KRAFTLAB_LAB", "")
	t.Setenv("KRAFTLAB_KAFKA_VERSION", "")
	t.Setenv("KAFKA_HOME", "")
	// No java and no mvn: up and install fail at the runtime step, never start a JVM.
	t.Setenv("JAVA_HOME", empty)
	t.Setenv("PATH", empty)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
		if !cmd.Runnable() || cmd.Name() == "help" || cmd.Name() == "completion" {
			return
		}
		path := strings.Fields(cmd.CommandPath())[1:]
		args := append([]string{}, path...)
		for _, word := range strings.Fields(cmd.Use)[1:] {
			if v, ok := placeholderArgs[strings.Trim(word, "[]")]; ok {
				args = append(args, v)
			}
		}
		fs := pflag.NewFlagSet("all", pflag.ContinueOnError)
		fs.AddFlagSet(cmd.LocalFlags())
		fs.AddFlagSet(cmd.InheritedFlags())
		if f := fs.Lookup("brokers"); f != nil && f.Value.Type() == "string" {
			args = append(args, "--brokers", closed)
		}
		fs.VisitAll(func(f *pflag.Flag) {
			typ := f.Value.Type()
			if !strings.HasPrefix(typ, "int") && !strings.HasPrefix(typ, "uint") && typ != "duration" && typ != "count" {
				return
			}
			for _, v := range numericFlagValues(typ) {
				run := append(append([]string{}, args...), "--"+f.Name+"="+v)
				t.Run(strings.Join(run, " "), func(t *testing.T) {
					t.Parallel()
					checkRun(t, run, v)
				})
			}
		})
	}
	walk(newRootCommand(&globals{}))
}

// checkRun runs kraftlab with args in process, bounded in time.
func checkRun(t *testing.T, args []string, value string) {
	var out bytes.Buffer
	root := newRootCommand(&globals{})
	root.SetArgs(args)
	root.SetIn(strings.NewReader("x\n"))
	root.SetOut(&out)
	root.SetErr(&out)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		err = root.ExecuteContext(ctx)
	}()
	code := 0
	if err != nil {
		code = exitCode(err)
		fmt.Fprintf(&out, "ERROR: %v\n", err)
	}
	text := out.String()
	if code != 0 && code != exitError && code != exitUsage {
		t.Errorf("exit %d\n%s", code, text)
	}
	if strings.Contains(text, "panic:") || strings.Contains(text, "goroutine ") {
		t.Errorf("output shows a panic:\n%s", text)
	}
	if (strings.HasPrefix(value, "x") || value == "soon" || strings.HasPrefix(value, "9999999999")) && code != exitUsage {
		t.Errorf("a value that does not parse exits %d, want %d (usage)\n%s", code, exitUsage, text)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("took %s: ignored its context", took)
	}
	t.Logf("RESULT %s => exit %d: %s", strings.Join(args, " "), code, strings.ReplaceAll(strings.TrimSpace(text), "\n", " / "))
}

// A wrong argument or an unknown command exits 2, like a wrong flag.
func TestArgumentMistakesAreUsageErrors(t *testing.T) {
	t.Setenv("KRAFTLAB_HOME", t.TempDir())
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"nope"}, `unknown command "nope" for "kraftlab"`},
		{[]string{"topic", "nope"}, `unknown command "nope" for "kraftlab topic"`},
		{[]string{"up", "extra"}, `unknown command "extra" for "kraftlab up"`},
		{[]string{"logs", "1", "2"}, "accepts at most 1 arg(s), received 2"},
		{[]string{"topic", "list", "x"}, "accepts 0 arg(s), received 1"},
		{[]string{"logs", "-n", "-1"}, "--lines -1: want 0 or more"},
		{[]string{"down", "--timeout", "-1s"}, "--timeout -1s"},
		{[]string{"up", "--broker-port", "0"}, "--broker-port 0"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			root := newRootCommand(&globals{})
			root.SetArgs(tt.args)
			root.SetOut(&bytes.Buffer{})
			root.SetErr(&bytes.Buffer{})
			err := root.Execute()
			if err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v (exit %d), want a usage error mentioning %q", err, exitCode(err), tt.want)
			}
		})
	}
}
