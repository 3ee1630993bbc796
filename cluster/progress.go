package cluster

// This file owns the helper that runs per-node work concurrently.

import (
	"errors"
	"sync"
)

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
