package cluster_test

import (
	"context"
	"fmt"
	"log"

	"github.com/kraftlab/kraftlab/cluster"
)

// A three-node lab from a spec: brought up, used through its bootstrap servers,
// and removed again. Up fetches the Kafka runtime on first use.
func Example() {
	ctx := context.Background()
	lab, err := cluster.New(cluster.Config{Home: "/tmp/kraftlab-example"}, cluster.Spec{
		Name:   "example",
		Nodes:  cluster.NodesSpec{Combined: 3},
		Ports:  cluster.PortsSpec{Auto: true},
		Topics: []cluster.TopicSpec{{Name: "orders", Partitions: 6}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := lab.Up(ctx, cluster.UpOptions{}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("bootstrap servers:", lab.BootstrapServers())
	if _, err := lab.Down(ctx, cluster.DownOptions{Purge: true}); err != nil {
		log.Fatal(err)
	}
}
