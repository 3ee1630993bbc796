package cluster

// This file owns the Lab handle: a lab's paths and recorded state, opened by name.

import "fmt"

// Lab is an existing lab: where it lives and what was recorded about it.
type Lab struct {
	Paths Paths
	State *State
}

// OpenLab loads the lab name under home ("" = DefaultHome).
func OpenLab(home, name string) (*Lab, error) {
	p, err := PathsFor(home, name)
	if err != nil {
		return nil, err
	}
	s, err := LoadState(p)
	if err != nil {
		return nil, err
	}
	return &Lab{Paths: p, State: s}, nil
}

// RequireRunning is nil when every node of the lab is running.
func (l *Lab) RequireRunning() error {
	var down []int
	for _, n := range l.State.Nodes {
		if !l.Paths.NodeAlive(n) {
			down = append(down, n.ID)
		}
	}
	if len(down) == len(l.State.Nodes) {
		return fmt.Errorf("lab %q is not running; start it with 'kraftlab up --name %s'", l.State.Name, l.State.Name)
	}
	if len(down) > 0 {
		return fmt.Errorf("lab %q: node(s) %v are not running; 'kraftlab up --name %s' starts them", l.State.Name, down, l.State.Name)
	}
	return nil
}
