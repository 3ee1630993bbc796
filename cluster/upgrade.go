package cluster

// This file owns 'upgrade': a rolling upgrade of a running lab to another Kafka
// release, node by node (stop, switch runtime, start, wait until it has rejoined and
// every partition is fully in sync), and finalizing metadata.version afterwards.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/step"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// UpgradeOptions is one 'kraftlab upgrade'.
type UpgradeOptions struct {
	Home, Name string
	Runtime    dist.Options // Version is the release to upgrade to; "" = finalize only
	// Finalize raises metadata.version to the highest level every node supports
	// (UpdateFeatures), after which the old release cannot read the metadata.
	Finalize bool
	Wait     time.Duration // per node: rejoin and in-sync deadline; 0 = DefaultWait
	Timeout  time.Duration // per node: SIGTERM grace before SIGKILL; 0 = 30s
	Progress io.Writer
}

// UpgradeResult says what the upgrade did.
type UpgradeResult struct {
	From    string        `json:"from"`
	To      string        `json:"to"`
	Nodes   []step.Timing `json:"nodes"` // per node, in upgrade order
	Seconds float64       `json:"seconds"`
	// MetadataVersion is the finalized metadata.version level after --finalize.
	MetadataVersion int16 `json:"metadata_version,omitempty"`
}

// Upgrade rolls a running lab to o.Runtime.Version one node at a time, controllers
// first, so that clients keep working throughout, then (with o.Finalize) raises
// metadata.version. An interrupted upgrade can be run again: nodes already on the
// new release are skipped.
func Upgrade(ctx context.Context, o UpgradeOptions) (*UpgradeResult, error) {
	if o.Wait == 0 {
		o.Wait = DefaultWait
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Runtime.Version == "" && !o.Finalize {
		return nil, usage.Errorf("want --to VERSION, --finalize, or both")
	}
	lab, err := OpenLab(o.Home, o.Name)
	if err != nil {
		return nil, err
	}
	if err := lab.RequireRunning(); err != nil {
		return nil, err
	}
	start := time.Now()
	res := &UpgradeResult{From: lab.State.KafkaVersion, To: lab.State.KafkaVersion}
	if o.Runtime.Version != "" {
		if err := rollTo(ctx, lab, o, res); err != nil {
			return nil, err
		}
	}
	if o.Finalize {
		level, err := finalizeMetadataVersion(ctx, lab.Paths, o)
		if err != nil {
			return nil, err
		}
		res.MetadataVersion = level
	}
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// rollTo restarts every node not yet on the target runtime with it.
func rollTo(ctx context.Context, lab *Lab, o UpgradeOptions, res *UpgradeResult) error {
	ro := o.Runtime
	ro.Progress = o.Progress
	rt, err := Install(ctx, ro)
	if err != nil {
		return err
	}
	if dist.CompareVersions(rt.Version, lab.State.KafkaVersion) < 0 {
		return fmt.Errorf("lab %q runs Kafka %s; %s is older, and kraftlab only upgrades", lab.State.Name, lab.State.KafkaVersion, rt.Version)
	}
	res.To = rt.Version
	// The new release may log through another log4j: its config sits beside the old.
	if err := writeLog4jConfig(lab.Paths, rt); err != nil {
		return err
	}
	order := slices.Clone(lab.State.Nodes)
	// Controllers first: a newer broker may ask a controller for what an older one
	// does not know yet, never the other way round.
	slices.SortStableFunc(order, func(a, b NodeState) int {
		return boolRank(b.IsController()) - boolRank(a.IsController())
	})
	for _, n := range order {
		if n.RuntimeDir == rt.Dir || (n.RuntimeDir == "" && lab.State.RuntimeDir == rt.Dir) {
			continue
		}
		steps := step.Steps{W: o.Progress}
		err := steps.Run(fmt.Sprintf("Upgrading node %d to Kafka %s", n.ID, rt.Version), func() error {
			return upgradeNode(ctx, lab.Paths, o, n.ID, rt)
		})
		res.Nodes = append(res.Nodes, steps.Timings...)
		if err != nil {
			return err
		}
	}
	return updateState(lab.Paths, func(s *State) {
		s.KafkaVersion, s.RuntimeDir, s.Java = rt.Version, rt.Dir, rt.Java
		for i := range s.Nodes {
			s.Nodes[i].KafkaVersion, s.Nodes[i].RuntimeDir = "", ""
		}
	})
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// upgradeNode stops node id, switches it to rt, starts it through 'up' (which waits
// until it has rejoined the quorum and, as a broker, registered), and waits until
// every partition has all its replicas in sync again.
func upgradeNode(ctx context.Context, p Paths, o UpgradeOptions, id int, rt *dist.Runtime) error {
	lock, err := lockLab(p)
	if err != nil {
		return err
	}
	s, err := LoadState(p)
	if err == nil {
		n, _ := s.Node(id)
		err = p.stopNode(ctx, *n, o.Timeout)
		n.PID, n.StartTime = 0, 0
		n.KafkaVersion, n.RuntimeDir = rt.Version, rt.Dir
		err = errors.Join(err, SaveState(p, s))
	}
	lock.Unlock()
	if err != nil {
		return fmt.Errorf("stop node %d: %w", id, err)
	}
	if _, err := Up(ctx, UpOptions{Home: p.Home(), Name: s.Name, Only: []int{id}, Wait: o.Wait, Runtime: dist.Options{Source: o.Runtime.Source, CacheDir: o.Runtime.CacheDir}}); err != nil {
		return fmt.Errorf("start node %d on Kafka %s: %w", id, rt.Version, err)
	}
	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	return waitInSync(wctx, s.BootstrapServers())
}

// updateState applies change to the lab's state under its lock.
func updateState(p Paths, change func(*State)) error {
	lock, s, err := lockState(p)
	if err != nil {
		return err
	}
	defer lock.Unlock()
	change(s)
	return SaveState(p, s)
}

// waitInSync waits until every partition has a leader and all its replicas in the
// ISR, so the next node may go down without any partition losing its quorum.
func waitInSync(ctx context.Context, bootstrap []string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap...), kgo.Dialer(dialListening))
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
func finalizeMetadataVersion(ctx context.Context, p Paths, o UpgradeOptions) (int16, error) {
	s, err := LoadState(p)
	if err != nil {
		return 0, err
	}
	var addrs []string
	for _, n := range s.Nodes {
		if n.IsBroker() {
			addrs = append(addrs, n.BrokerAddr())
		} else {
			addrs = append(addrs, n.ControllerAddr())
		}
	}
	ac, err := newAddrClients(addrs)
	if err != nil {
		return 0, err
	}
	defer ac.Close()
	wctx, cancel := context.WithTimeout(ctx, o.Wait)
	defer cancel()
	target, finalized := int16(-1), int16(-1)
	for i := range addrs {
		sup, fin, err := metadataVersionLevels(wctx, ac, i)
		if err != nil {
			return 0, fmt.Errorf("metadata.version supported by %s: %w", addrs[i], err)
		}
		if target < 0 || sup < target {
			target = sup
		}
		finalized = max(finalized, fin)
	}
	steps := step.Steps{W: o.Progress}
	err = steps.Run(fmt.Sprintf("Finalizing metadata.version at level %d (was %d)", target, finalized), func() error {
		if finalized >= target {
			return nil
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(s.BootstrapServers()...), kgo.Dialer(dialListening))
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

// metadataVersionLevels reads, from the ApiVersions answer of the i-th address,
// the highest metadata.version level it supports and the finalized one.
func metadataVersionLevels(ctx context.Context, ac *addrClients, i int) (supported, finalized int16, err error) {
	req := kmsg.NewPtrApiVersionsRequest()
	req.ClientSoftwareName, req.ClientSoftwareVersion = "kraftlab", "1"
	kresp, err := ac.request(ctx, i, req)
	if err != nil {
		return 0, 0, err
	}
	resp := kresp.(*kmsg.ApiVersionsResponse)
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		return 0, 0, err
	}
	supported, finalized = -1, -1
	for _, f := range resp.SupportedFeatures {
		if f.Name == "metadata.version" {
			supported = f.MaxVersion
		}
	}
	for _, f := range resp.FinalizedFeatures {
		if f.Name == "metadata.version" {
			finalized = f.MaxVersionLevel
		}
	}
	if supported < 0 {
		return 0, 0, errors.New("no metadata.version among its supported features")
	}
	return supported, finalized, nil
}
