// Package chaos breaks a running lab on purpose while a producer and a consumer
// work on it: nodes are killed, paused and restarted; at the end, with every node
// back, every acknowledged record must be readable exactly once, in order per
// partition.
package chaos

// This file owns 'chaos': a producer and a consumer run on a replicated topic while
// nodes are killed, paused and restarted; at the end, with every node back, every
// acknowledged record must be readable exactly once, in order per partition.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/data"
	"github.com/kraftlab/kraftlab/cluster/usage"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Chaos fault kinds, targets and nemeses.
var (
	Faults  = []string{"kill", "pause", "restart"}
	Targets = []string{"controller", "leader", "random"}
)

// NemesisAllKill SIGKILLs every node at once and brings the lab back: the power cut.
const NemesisAllKill = "all-kill"

// Options is what 'kraftlab chaos' takes.
type Options struct {
	Topic      string        // default "chaos"
	Faults     []string      // subset of Faults
	Targets    []string      // subset of Targets
	Interval   time.Duration // quiet time between one fault's recovery and the next fault
	Duration   time.Duration // stop injecting after this long (0 = only Count bounds it)
	Count      int           // stop after this many faults (0 = only Duration bounds it)
	Seed       uint64        // 0 = pick one (reported, so a run can be repeated)
	Nemesis    string        // "" or NemesisAllKill
	Rate       int           // records per second
	RecordSize int
	Wait       time.Duration // per recovery
	Progress   io.Writer
}

// FaultRecord is one injected fault and how long the lab took to be healthy again.
type FaultRecord struct {
	N         int     `json:"n"`
	Fault     string  `json:"fault"`
	Target    string  `json:"target"`
	Node      int     `json:"node"` // 0 = every node
	AtS       float64 `json:"at_s"` // since the workload started
	RecoveryS float64 `json:"recovery_s"`
}

// Report is the outcome of a chaos run.
type Report struct {
	Lab          string             `json:"lab"`
	Topic        string             `json:"topic"`
	Seed         uint64             `json:"seed"`
	Nemesis      string             `json:"nemesis,omitempty"`
	DurationS    float64            `json:"duration_s"`
	Faults       []FaultRecord      `json:"faults"`
	Workload     data.WorkloadStats `json:"workload"`
	Verification data.Verification  `json:"verification"`
	Passed       bool               `json:"passed"`
}

func (o *Options) normalize() error {
	if o.Topic == "" {
		o.Topic = "chaos"
	}
	if len(o.Faults) == 0 {
		o.Faults = Faults
	}
	if len(o.Targets) == 0 {
		o.Targets = []string{"controller", "leader"}
	}
	if o.Interval == 0 {
		o.Interval = 5 * time.Second
	}
	if o.Duration == 0 && o.Count == 0 {
		o.Duration = 60 * time.Second
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.Rate == 0 {
		o.Rate = 500
	}
	if o.Wait == 0 {
		o.Wait = cluster.DefaultWait
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	var errs []error
	for _, f := range o.Faults {
		if !slices.Contains(Faults, f) {
			errs = append(errs, fmt.Errorf("--faults %q: want some of %s", f, strings.Join(Faults, ",")))
		}
	}
	for _, t := range o.Targets {
		if !slices.Contains(Targets, t) {
			errs = append(errs, fmt.Errorf("--target %q: want some of %s", t, strings.Join(Targets, ",")))
		}
	}
	if o.Nemesis != "" && o.Nemesis != NemesisAllKill {
		errs = append(errs, fmt.Errorf("--nemesis %q: want %s", o.Nemesis, NemesisAllKill))
	}
	if o.Interval < 0 || o.Duration < 0 || o.Count < 0 || o.Rate < 0 {
		errs = append(errs, errors.New("--interval, --duration, --count and --rate must not be negative"))
	}
	return usage.Errors(errs)
}

// chaosRun carries one chaos run.
type chaosRun struct {
	o     Options
	lab   *cluster.Lab
	rng   *rand.Rand
	start time.Time
	rep   *Report
	// clientOpts connect as the lab's admin, on a secured lab.
	clientOpts []kgo.Opt
}

// Chaos runs the workload against a running lab while injecting faults, then
// verifies it. It returns an error on any lost, duplicated, reordered or corrupted
// acknowledged record; the report holds what was measured either way.
func Run(ctx context.Context, lab *cluster.Lab, o Options) (*Report, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	if err := lab.RequireRunning(); err != nil {
		return nil, err
	}
	r := &chaosRun{
		o: o, lab: lab, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x6b72616674)),
		rep: &Report{Lab: lab.Name(), Topic: o.Topic, Seed: o.Seed, Nemesis: o.Nemesis, Faults: []FaultRecord{}},
	}
	var err error
	if r.clientOpts, err = lab.ClientOpts(""); err != nil {
		return nil, err
	}
	if err := r.prepareTopic(ctx); err != nil {
		return nil, err
	}
	w, err := data.StartWorkload(ctx, lab.BootstrapServers(), data.WorkloadOptions{Topic: o.Topic, Rate: o.Rate, RecordSize: o.RecordSize, ClientOpts: r.clientOpts})
	if err != nil {
		return nil, err
	}
	r.start = time.Now()
	fmt.Fprintf(o.Progress, "Producing %d records/s to %s (acks=all, idempotent), seed %d\n", o.Rate, o.Topic, o.Seed)

	var faultErr error
	if o.Nemesis == NemesisAllKill {
		faultErr = r.allKill(ctx)
	} else {
		faultErr = r.injectFaults(ctx)
	}
	// Whatever happened, bring every node back before judging: a fault left in place
	// (a paused node after Ctrl-C) must not outlive the run.
	restoreCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.Wait+time.Minute)
	defer cancel()
	restoreErr := r.restore(restoreCtx)
	r.rep.Workload = w.Stop(restoreCtx)
	r.rep.DurationS = time.Since(r.start).Seconds()
	if err := errors.Join(faultErr, restoreErr); err != nil {
		return r.rep, err
	}
	fmt.Fprintf(o.Progress, "Verifying %d acknowledged records\n", r.rep.Workload.Acked)
	v, err := w.Verify(restoreCtx)
	r.rep.Verification = v
	if err != nil {
		return r.rep, fmt.Errorf("verify: %w", err)
	}
	if err := v.Err(); err != nil {
		return r.rep, fmt.Errorf("chaos on topic %q: %w", o.Topic, err)
	}
	if v.Acked == 0 {
		return r.rep, errors.New("chaos: no record was acknowledged; the lab never took writes")
	}
	r.rep.Passed = true
	return r.rep, nil
}

// prepareTopic creates the topic (replication 3, min ISR 2 on 3+ brokers) and waits
// until every replica is in sync.
func (r *chaosRun) prepareTopic(ctx context.Context) error {
	cl, err := data.NewClient(r.lab.BootstrapServers(), r.clientOpts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	rf := data.DefaultReplication(r.lab.Brokers())
	_, err = data.CreateTopic(ctx, cl, data.TopicSpec{
		Name: r.o.Topic, Partitions: 3, ReplicationFactor: rf, IfNotExists: true,
		Configs: map[string]string{"min.insync.replicas": strconv.Itoa(int(min(2, rf)))},
	})
	if err != nil {
		return err
	}
	_, _, err = data.WaitHealthy(ctx, cl, r.o.Topic, r.lab.Brokers())
	return err
}

// injectFaults applies one fault at a time until the duration or count is reached.
func (r *chaosRun) injectFaults(ctx context.Context) error {
	for n := 1; ; n++ {
		if r.o.Count > 0 && n > r.o.Count {
			return nil
		}
		if r.o.Duration > 0 && time.Since(r.start) >= r.o.Duration {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(r.o.Interval):
		}
		fault := r.o.Faults[r.rng.IntN(len(r.o.Faults))]
		target := r.o.Targets[r.rng.IntN(len(r.o.Targets))]
		if err := r.inject(ctx, n, fault, target); err != nil {
			return fmt.Errorf("fault %d (%s %s): %w", n, fault, target, err)
		}
	}
}

// inject applies one fault to one node and waits until the lab is healthy again.
func (r *chaosRun) inject(ctx context.Context, n int, fault, target string) error {
	id, err := r.pickNode(ctx, target)
	if err != nil {
		return err
	}
	rec := FaultRecord{N: n, Fault: fault, Target: target, Node: id, AtS: time.Since(r.start).Seconds()}
	began := time.Now()
	node := func(action string) error {
		_, err := r.lab.NodeOp(ctx, cluster.NodeOptions{Action: action, Target: strconv.Itoa(id), Wait: r.o.Wait})
		return err
	}
	switch fault {
	case "kill":
		err = errors.Join(node("kill"), node("start"))
	case "restart":
		err = node("restart")
	case "pause":
		if err = node("pause"); err == nil {
			// The pause is the fault: the node stays frozen while the rest carry on,
			// long enough to be noticed (session and fetch timeouts).
			hold := min(max(r.o.Interval, 2*time.Second), 10*time.Second)
			select {
			case <-ctx.Done():
			case <-time.After(hold):
			}
			err = node("resume")
		}
	}
	if err != nil {
		return err
	}
	if err := r.waitHealthy(ctx); err != nil {
		return err
	}
	rec.RecoveryS = time.Since(began).Seconds()
	r.rep.Faults = append(r.rep.Faults, rec)
	fmt.Fprintf(r.o.Progress, " ✓ fault %d: %s node %d (%s), healthy again after %.1fs\n", n, fault, id, target, rec.RecoveryS)
	return nil
}

// pickNode turns a chaos target into a node id.
func (r *chaosRun) pickNode(ctx context.Context, target string) (int, error) {
	switch target {
	case "controller":
		return r.lab.ResolveTarget(ctx, "controller")
	case "leader":
		return r.lab.ResolveTarget(ctx, fmt.Sprintf("leader:%s/%d", r.o.Topic, r.rng.IntN(3)))
	}
	st, err := r.lab.Status(ctx)
	if err != nil {
		return 0, err
	}
	return st.Nodes[r.rng.IntN(len(st.Nodes))].ID, nil
}

// allKill lets the workload run, SIGKILLs every node at once, brings the lab back
// with 'up', and lets the workload run again.
func (r *chaosRun) allKill(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(r.o.Interval):
	}
	rec := FaultRecord{N: 1, Fault: "kill", Target: "all", AtS: time.Since(r.start).Seconds()}
	began := time.Now()
	if _, err := r.lab.KillAll(ctx); err != nil {
		return err
	}
	if _, err := r.lab.Up(ctx, cluster.UpOptions{Wait: r.o.Wait}); err != nil {
		return fmt.Errorf("up after killing every node: %w", err)
	}
	if err := r.waitHealthy(ctx); err != nil {
		return err
	}
	rec.RecoveryS = time.Since(began).Seconds()
	r.rep.Faults = append(r.rep.Faults, rec)
	fmt.Fprintf(r.o.Progress, " ✓ killed every node at once; healthy again after %.1fs\n", rec.RecoveryS)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(r.o.Interval):
	}
	return nil
}

// restore resumes paused nodes and starts stopped ones, then waits for health.
func (r *chaosRun) restore(ctx context.Context) error {
	st, err := r.lab.Status(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range st.Nodes {
		if n.State == "paused" {
			_, err := r.lab.NodeOp(ctx, cluster.NodeOptions{Action: cluster.ActionResume, Target: strconv.Itoa(n.ID)})
			errs = append(errs, err)
		}
	}
	if _, err := r.lab.Up(ctx, cluster.UpOptions{Wait: r.o.Wait}); err != nil {
		errs = append(errs, fmt.Errorf("bring every node back: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return r.waitHealthy(ctx)
}

// waitHealthy waits until every broker is back and every partition of the topic
// has its full ISR.
func (r *chaosRun) waitHealthy(ctx context.Context) error {
	cl, err := data.NewClient(r.lab.BootstrapServers(), r.clientOpts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	_, _, err = data.WaitHealthy(ctx, cl, r.o.Topic, r.lab.Brokers())
	return err
}
