// Package victim holds tests that kafkatest's own tests run as a separate process
// and then kill, or watch fail, to check that no lab outlives its test process.
package victim

import (
	"fmt"
	"os"
	"testing"

	"github.com/kraftlab/kraftlab/cluster/kafkatest"
)

// announce tells the process watching this one which lab to look for.
func announce(lab *kafkatest.Lab) {
	fmt.Printf("LAB %s %s %d\n", lab.Name(), lab.Dir(), os.Getpid())
	os.Stdout.Sync()
}

// TestHang starts a lab and waits to be killed.
func TestHang(t *testing.T) {
	lab := kafkatest.Start(t)
	announce(lab)
	<-t.Context().Done()
}

// TestFatal starts a lab and fails at once: its cleanup must still remove the lab.
func TestFatal(t *testing.T) {
	lab := kafkatest.Start(t)
	announce(lab)
	t.Fatal("deliberate failure with the lab running")
}
