package cluster

// This file owns putting partition leadership back where Kafka would have it: on
// each partition's preferred replica (the first of its replicas). After a restart
// every partition's leader sits on whichever node came back first; Kafka's own
// rebalance waits five minutes (leader.imbalance.check.interval.seconds), which a
// lab should not.

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/kraftlab/kraftlab/cluster/internal/step"
)

// leaderBalanceWait bounds how long a restarted node's replicas may take to rejoin
// the ISR, which preferred leadership needs; past it the lab is ready anyway.
const leaderBalanceWait = 30 * time.Second

// balanceLeaders elects the preferred replica of every partition led elsewhere,
// once that replica is in sync. It is best effort: the lab is ready either way, so
// what stays unbalanced is said, not failed on.
func (o *op) balanceLeaders(ctx context.Context) {
	var left []string
	_ = o.steps.Run("Moving partition leaders back to their preferred replicas", func() error {
		cl, err := o.client()
		if err != nil {
			return nil
		}
		defer cl.Close()
		adm := kadm.NewClient(cl)
		wctx, cancel := context.WithTimeout(ctx, leaderBalanceWait)
		defer cancel()
		err = step.Poll(wctx, "preferred leaders", pollInterval*5, func(ctx context.Context) (bool, string, error) {
			md, err := adm.Metadata(ctx)
			if err != nil {
				return false, "metadata request failed", err
			}
			elect := kadm.TopicsSet{}
			left = nil
			for _, t := range md.Topics.Sorted() {
				for _, p := range t.Partitions.Sorted() {
					if len(p.Replicas) == 0 || p.Leader == p.Replicas[0] {
						continue
					}
					left = append(left, fmt.Sprintf("%s/%d", t.Topic, p.Partition))
					for _, isr := range p.ISR {
						if isr == p.Replicas[0] {
							elect.Add(t.Topic, p.Partition)
						}
					}
				}
			}
			if len(left) == 0 {
				return true, "", nil
			}
			if len(elect) > 0 {
				res, err := adm.ElectLeaders(ctx, kadm.ElectPreferredReplica, elect)
				if err != nil {
					return false, "", err
				}
				for _, ps := range res {
					for _, r := range ps {
						if r.Err != nil && r.Err != kerr.ElectionNotNeeded {
							return false, fmt.Sprintf("%s/%d: %v", r.Topic, r.Partition, r.Err), nil
						}
					}
				}
			}
			return false, fmt.Sprintf("%d partitions led by another than their preferred replica", len(left)), nil
		})
		return nil
	})
	if len(left) > 0 {
		fmt.Fprintf(o.cfg.progress(), "note: %d partitions are still led by another than their preferred replica (e.g. %s); Kafka moves them back within 5 minutes\n", len(left), left[0])
	}
}
