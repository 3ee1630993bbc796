package cluster

// This file owns step progress on stderr (kind's " ✓ step" lines) and the helper
// that runs per-node work concurrently.

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"
)

// StepTiming records how long one named step of a command took.
type StepTiming struct {
	Step    string  `json:"step"`
	Seconds float64 `json:"seconds"`
}

// steps prints each step as it starts and ends and keeps the timings.
type steps struct {
	w       io.Writer
	Timings []StepTiming
}

// run executes one named step, printing " • name" before and " ✓ name (1.2s)" or
// " ✗ name" after.
func (s *steps) run(name string, fn func() error) error {
	fmt.Fprintf(s.w, " • %s ...\n", name)
	start := time.Now()
	err := fn()
	d := time.Since(start)
	s.Timings = append(s.Timings, StepTiming{Step: name, Seconds: d.Seconds()})
	mark := "✓"
	if err != nil {
		mark = "✗"
	}
	fmt.Fprintf(s.w, " %s %s (%.1fs)\n", mark, name, d.Seconds())
	return err
}

// eachNode runs fn for every node concurrently and joins the errors.
func eachNode(nodes []NodeState, fn func(NodeState) error) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(n)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
