// Package usage is the error kraftlab returns when what a caller asked for is wrong
// (bad flags, options, names): every problem found, reported together, with nothing
// changed. The command layer maps it to exit code 2.
package usage

import (
	"fmt"
	"strings"
)

// Error is every problem found in a caller's options.
type Error struct {
	Problems []error
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return e.Problems[0].Error()
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d problems:", len(e.Problems))
	for _, p := range e.Problems {
		for _, line := range strings.Split(p.Error(), "\n") {
			b.WriteString("\n  - " + line)
		}
	}
	return b.String()
}

// Errors returns nil for no problems, else an *Error holding them.
func Errors(problems []error) error {
	if len(problems) == 0 {
		return nil
	}
	return &Error{Problems: problems}
}

// Errorf is a single usage problem.
func Errorf(format string, args ...any) error {
	return &Error{Problems: []error{fmt.Errorf(format, args...)}}
}
