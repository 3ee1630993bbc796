package cluster

// This file owns 'upgrade': a rolling upgrade of a running lab to another Kafka
// release, node by node (stop, switch runtime, start, wait until it has rejoined and
// every partition is fully in sync), and finalizing metadata.version afterwards. The
// whole upgrade is one operation: no other command acts on the lab in between.

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/internal/kraft"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// UpgradeOptions is one 'kraftlab upgrade'.
type UpgradeOptions struct {
	// To is the release to upgrade to; "" = finalize only.
	To string
	// KafkaHome is an unpacked official tarball of that release, used instead of
	// fetching it.
	KafkaHome string
	// Finalize raises metadata.version to the highest level every node supports
	// (UpdateFeatures), after which the old release cannot read the metadata.
	Finalize bool
	Wait     time.Duration // per node: rejoin and in-sync deadline; 0 = DefaultWait
	Timeout  time.Duration // per node: SIGTERM grace before SIGKILL; 0 = 30s
}

// Validate is nil when the options ask for something an upgrade can do.
func (o UpgradeOptions) Validate() error {
	if o.To == "" && !o.Finalize {
		return usage.Errorf("want --to VERSION, --finalize, or both")
	}
	if o.To != "" {
		if err := dist.ValidateVersion(o.To); err != nil {
			return usage.Errorf("--to: %v", err)
		}
	}
	return nil
}

// UpgradeResult says what the upgrade did.
type UpgradeResult struct {
	From    string   `json:"from"`
	To      string   `json:"to"`
	Nodes   []Timing `json:"nodes"` // per node, in upgrade order
	Seconds float64  `json:"seconds"`
	// MetadataVersion is the finalized metadata.version level after Finalize.
	MetadataVersion int16 `json:"metadata_version,omitempty"`
}

// Upgrade rolls the running lab to o.To one node at a time, controllers first, so
// that clients keep working throughout, then (with o.Finalize) raises
// metadata.version. An interrupted upgrade can be run again: nodes already on the
// new release are skipped.
func (l *Lab) Upgrade(ctx context.Context, o UpgradeOptions) (*UpgradeResult, error) {
	if o.Wait <= 0 {
		o.Wait = DefaultWait
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if err := o.Validate(); err != nil {
		return nil, err
	}
	op, err := l.beginRunning()
	if err != nil {
		return nil, err
	}
	defer op.end()
	start := time.Now()
	res := &UpgradeResult{From: op.st.KafkaVersion, To: op.st.KafkaVersion}
	if o.To != "" {
		if err := op.rollTo(ctx, o, res); err != nil {
			return nil, err
		}
	}
	if o.Finalize {
		level, err := op.finalizeMetadataVersion(ctx, o)
		if err != nil {
			return nil, err
		}
		res.MetadataVersion = level
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// rollTo restarts every node not yet on the target runtime with it.
func (o *op) rollTo(ctx context.Context, uo UpgradeOptions, res *UpgradeResult) error {
	rt, err := o.installRuntime(ctx, uo.To, uo.KafkaHome)
	if err != nil {
		return err
	}
	if dist.CompareVersions(rt.Version, o.st.KafkaVersion) < 0 {
		return fmt.Errorf("lab %q runs Kafka %s; %s is older, and kraftlab only upgrades", o.Name(), o.st.KafkaVersion, rt.Version)
	}
	res.To = rt.Version
	// The new release may log through another log4j: its config sits beside the old.
	if err := o.writeLog4j(rt); err != nil {
		return err
	}
	order := o.nodes()
	// Controllers first: a newer broker may ask a controller for what an older one
	// does not know yet, never the other way round.
	slices.SortStableFunc(order, func(a, b node) int {
		return boolRank(b.IsController()) - boolRank(a.IsController())
	})
	for _, n := range order {
		if n.rec.RuntimeDir == rt.Dir || (n.rec.RuntimeDir == "" && o.st.RuntimeDir == rt.Dir) {
			continue
		}
		steps := step.Steps{W: o.cfg.progress()}
		err := steps.Run(fmt.Sprintf("Upgrading node %d to Kafka %s", n.ID, rt.Version), func() error {
			return o.upgradeNode(ctx, uo, n, rt.Version, rt.Dir)
		})
		res.Nodes = append(res.Nodes, steps.Timings...)
		if err != nil {
			return err
		}
	}
	o.st.KafkaVersion, o.st.RuntimeDir, o.st.Java = rt.Version, rt.Dir, rt.Java
	for i := range o.st.Nodes {
		o.st.Nodes[i].KafkaVersion, o.st.Nodes[i].RuntimeDir = "", ""
	}
	o.spec.Kafka = KafkaSpec{Version: rt.Version}
	if err := o.save(); err != nil {
		return err
	}
	return o.saveSpec()
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// upgradeNode stops node n, switches it to the new runtime, starts it (waiting
// until it has rejoined the quorum and, as a broker, registered), and waits until
// every partition has all its replicas in sync again.
func (o *op) upgradeNode(ctx context.Context, uo UpgradeOptions, n node, version, dir string) error {
	if _, err := o.signal(ctx, n, ActionStop, uo.Timeout); err != nil {
		return err
	}
	n.rec.KafkaVersion, n.rec.RuntimeDir = version, dir
	if err := o.save(); err != nil {
		return err
	}
	if _, err := o.startNodes(ctx, []int{n.ID}, UpOptions{Wait: uo.Wait}); err != nil {
		return fmt.Errorf("start node %d on Kafka %s: %w", n.ID, version, err)
	}
	wctx, cancel := context.WithTimeout(ctx, uo.Wait)
	defer cancel()
	return o.waitInSync(wctx)
}

// waitInSync waits until every partition has a leader and all its replicas in the
// ISR, so the next node may go down without any partition losing its quorum.
func (l *Lab) waitInSync(ctx context.Context) error {
	cl, err := l.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	return step.Poll(ctx, "every partition in sync", pollInterval*5, func(ctx context.Context) (bool, string, error) {
		md, err := adm.Metadata(ctx)
		if err != nil {
			return false, "metadata request failed", err
		}
		var behind []string
		for _, t := range md.Topics.Sorted() {
			for _, p := range t.Partitions.Sorted() {
				if p.Leader < 0 || len(p.ISR) < len(p.Replicas) {
					behind = append(behind, fmt.Sprintf("%s/%d (isr %v of %v)", t.Topic, p.Partition, p.ISR, p.Replicas))
				}
			}
		}
		if len(behind) > 0 {
			return false, fmt.Sprintf("%d partitions not in sync, e.g. %s", len(behind), behind[0]), nil
		}
		return true, "", nil
	})
}

// finalizeMetadataVersion raises metadata.version to the highest level every node
// supports; a no-op when it is there already.
func (o *op) finalizeMetadataVersion(ctx context.Context, uo UpgradeOptions) (int16, error) {
	// Every node says which levels it supports: brokers on their client listener,
	// controller-only nodes on theirs.
	var brokerAddrs, controllerAddrs []string
	for _, n := range o.nodes() {
		if n.IsBroker() {
			brokerAddrs = append(brokerAddrs, n.BrokerAddr())
		} else {
			controllerAddrs = append(controllerAddrs, n.ControllerAddr())
		}
	}
	brokers, err := o.dialBrokers(brokerAddrs)
	if err != nil {
		return 0, err
	}
	defer brokers.Close()
	controllers, err := o.dialControllers(controllerAddrs)
	if err != nil {
		return 0, err
	}
	defer controllers.Close()
	wctx, cancel := context.WithTimeout(ctx, uo.Wait)
	defer cancel()
	target, finalized := int16(-1), int16(-1)
	for _, ac := range []*kraft.Clients{brokers, controllers} {
		for i, addr := range ac.Addrs {
			sup, fin, err := ac.MetadataVersionLevels(wctx, i)
			if err != nil {
				return 0, fmt.Errorf("metadata.version supported by %s: %w", addr, err)
			}
			if target < 0 || sup < target {
				target = sup
			}
			finalized = max(finalized, fin)
		}
	}
	err = o.steps.Run(fmt.Sprintf("Finalizing metadata.version at level %d (was %d)", target, finalized), func() error {
		if finalized >= target {
			return nil
		}
		cl, err := o.client()
		if err != nil {
			return err
		}
		defer cl.Close()
		up, err := kadm.NewClient(cl).UpdateFeatures(wctx, false, kadm.FeatureUpdate{Feature: "metadata.version", MaxVersionLevel: target, UpgradeType: 1})
		if err == nil {
			err = up.Error()
		}
		return err
	})
	return target, err
}
