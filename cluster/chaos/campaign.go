package chaos

// This file owns the campaign: which fault comes next, applying it, undoing it with
// retries, waiting until the lab is healthy again within the recovery deadline,
// and bringing every node back at the end.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/data"
	"github.com/kraftlab/kraftlab/cluster/internal/step"
)

// Retries of a failed node start (or resume, or power-cut restart) wait this long
// at first, doubling up to maxBackoff.
const (
	firstBackoff = time.Second
	maxBackoff   = 15 * time.Second
)

// deck deals (fault, target) pairs: every pair once per round, in an order the
// seed shuffles, so that even a short campaign hits every kind and every target.
type deck struct {
	rng   *rand.Rand
	pairs [][2]string
	next  int
}

func newDeck(rng *rand.Rand, faults, targets []string) *deck {
	d := &deck{rng: rng}
	for _, f := range faults {
		for _, t := range targets {
			d.pairs = append(d.pairs, [2]string{f, t})
		}
	}
	d.next = len(d.pairs)
	return d
}

func (d *deck) deal() (fault, target string) {
	if d.next == len(d.pairs) {
		d.rng.Shuffle(len(d.pairs), func(i, j int) { d.pairs[i], d.pairs[j] = d.pairs[j], d.pairs[i] })
		d.next = 0
	}
	p := d.pairs[d.next]
	d.next++
	return p[0], p[1]
}

// campaign injects faults one at a time until the count or the duration is
// reached, then lets the workload run for one more interval.
func (r *chaosRun) campaign(ctx context.Context) error {
	d := newDeck(r.rng, r.o.Faults, r.o.Targets)
	for n := 1; r.more(n); n++ {
		if err := r.quiet(ctx); err != nil {
			return err
		}
		var err error
		if r.o.Nemesis == NemesisAllKill {
			err = r.powerCut(ctx, n)
		} else {
			fault, target := d.deal()
			err = r.inject(ctx, n, fault, target)
		}
		if err != nil {
			return err
		}
	}
	return r.quiet(ctx)
}

// more reports whether fault n is still to come.
func (r *chaosRun) more(n int) bool {
	if r.o.Count > 0 && n > r.o.Count {
		return false
	}
	return r.o.Duration == 0 || time.Since(r.start) < r.o.Duration
}

// quiet lets the workload run undisturbed for one interval, and then until the
// producer has had a record acknowledged since the lab was last healthy again:
// every fault must hit a lab that takes writes, and the last one must be seen to
// end for the application too. A producer that gets nothing acknowledged within
// the recovery deadline aborts the campaign.
func (r *chaosRun) quiet(ctx context.Context) error {
	if err := sleep(ctx, r.o.Interval, "Waiting between faults"); err != nil {
		return err
	}
	wctx, cancel := context.WithDeadline(ctx, r.healthyAt.Add(r.o.RecoverWithin))
	defer cancel()
	err := step.Poll(wctx, "a record acknowledged", 20*time.Millisecond, func(context.Context) (bool, string, error) {
		return r.w.LastAck().After(r.healthyAt), "", nil
	})
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return &cluster.InterruptedError{Step: "Waiting for the producer"}
	}
	what := "the start"
	if n := len(r.rep.Faults); n > 0 {
		what = fmt.Sprintf("the lab was healthy again after fault %d", n)
	}
	msg := fmt.Sprintf("no record acknowledged since %s", what)
	if first := r.w.Stats().FirstError; first != "" {
		msg += " (first produce error: " + first + ")"
	}
	return &NotRecoveredError{What: "the producer", Deadline: r.o.RecoverWithin, Err: errors.New(msg)}
}

// sleep waits for d, or returns an interrupt naming step when ctx ends first.
func sleep(ctx context.Context, d time.Duration, step string) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return &cluster.InterruptedError{Step: step}
	case <-t.C:
		return nil
	}
}

// fault is one fault being applied: its record, and the deadline by which the lab
// must be healthy again.
type fault struct {
	rec      FaultRecord
	began    time.Time
	deadline time.Time
}

func (r *chaosRun) newFault(n int, kind, target string) *fault {
	now := time.Now()
	return &fault{
		rec:   FaultRecord{N: n, Fault: kind, Target: target, AtS: now.Sub(r.start).Seconds(), Problems: []string{}},
		began: now, deadline: now.Add(r.o.RecoverWithin),
	}
}

func (f *fault) what() string {
	switch {
	case f.rec.N == 0:
		return "bringing every node back"
	case f.rec.Target == "all":
		return "power cut"
	case f.rec.Node > 0:
		return fmt.Sprintf("%s node %d (%s)", f.rec.Fault, f.rec.Node, f.rec.Target)
	}
	return fmt.Sprintf("%s %s", f.rec.Fault, f.rec.Target)
}

// interrupted is the error for a fault cut short by ctx.
func (f *fault) interrupted() error {
	return &cluster.InterruptedError{Step: fmt.Sprintf("Applying fault %d, %s", f.rec.N, f.what())}
}

// problem notes a fault-handling problem: something kraftlab did to apply or undo
// the fault failed and was retried. It says nothing about the cluster's health.
func (r *chaosRun) problem(f *fault, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	f.rec.Problems = append(f.rec.Problems, msg)
	label := fmt.Sprintf("fault %d (%s)", f.rec.N, f.what())
	if f.rec.N == 0 {
		label = "after the campaign"
	}
	r.rep.HandlingProblems = append(r.rep.HandlingProblems, label+": "+msg)
	first, _, _ := strings.Cut(msg, "\n")
	fmt.Fprintf(r.o.Progress, "   ! %s: %s\n", label, first)
}

// inject applies one single-node fault, undoes it, and waits until the lab is
// healthy again.
func (r *chaosRun) inject(ctx context.Context, n int, kind, target string) error {
	f := r.newFault(n, kind, target)
	id, err := r.pickNode(ctx, f)
	if err != nil {
		return err
	}
	f.rec.Node = id
	f.began = time.Now()
	f.rec.AtS = f.began.Sub(r.start).Seconds()
	node := strconv.Itoa(id)
	op := func(action string) error {
		_, err := r.lab.NodeOp(ctx, cluster.NodeOptions{Action: action, Target: node, Wait: max(time.Until(f.deadline), time.Second)})
		return err
	}
	// back is what undoes the fault: start a killed node, resume a paused one.
	back := cluster.ActionStart
	switch kind {
	case "kill":
		err = op(cluster.ActionKill)
	case "restart":
		// A restart that fails part-way leaves the node stopped, or still running;
		// bringBack finds out which.
		if err = op(cluster.ActionRestart); err == nil {
			back = ""
		}
	case "pause":
		if err = op(cluster.ActionPause); err == nil {
			// The pause is the fault: the node stays frozen while the rest carry on,
			// long enough to be noticed (fetch and request timeouts).
			if serr := sleep(ctx, pauseHold(r.o.Interval), ""); serr != nil {
				return r.stopped(f, f.interrupted())
			}
			back = cluster.ActionResume
		}
	}
	if ctx.Err() != nil {
		return r.stopped(f, f.interrupted())
	}
	if err != nil {
		r.problem(f, "%s node %d: %v", kind, id, err)
		back = "?"
	}
	if back != "" {
		if err := r.bringBack(ctx, f, id, back); err != nil {
			return r.stopped(f, err)
		}
	}
	f.rec.HealS = time.Since(f.began).Seconds()
	if err := r.waitHealthy(ctx, f); err != nil {
		return r.stopped(f, err)
	}
	r.done(f)
	return nil
}

// pauseHold is how long a paused node stays frozen: the interval, within 2-10 s.
func pauseHold(interval time.Duration) time.Duration {
	return min(max(interval, 2*time.Second), 10*time.Second)
}

// pickNode turns the fault's target into a node id, trying again until the
// deadline when the lab cannot say (no quorum leader for a moment, say).
func (r *chaosRun) pickNode(ctx context.Context, f *fault) (int, error) {
	backoff := firstBackoff
	for {
		var id int
		var err error
		switch f.rec.Target {
		case "controller":
			id, err = r.lab.ResolveTarget(ctx, "controller")
		case "leader":
			id, err = r.lab.ResolveTarget(ctx, fmt.Sprintf("leader:%s/%d", r.o.Topic, r.rng.IntN(max(r.partitions, 1))))
		default:
			id = r.nodes[r.rng.IntN(len(r.nodes))]
		}
		if err == nil {
			return id, nil
		}
		if ctx.Err() != nil {
			return 0, r.stopped(f, f.interrupted())
		}
		if time.Now().Add(backoff).After(f.deadline) {
			return 0, r.stopped(f, r.notRecovered(f, fmt.Errorf("find the %s to hit: %w", f.rec.Target, err)))
		}
		r.problem(f, "find the %s to hit: %v; trying again in %s", f.rec.Target, err, backoff)
		if err := sleep(ctx, backoff, ""); err != nil {
			return 0, r.stopped(f, f.interrupted())
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// bringBack starts (or resumes) node id until it runs and has rejoined. A failed
// attempt is a fault-handling problem: it is retried with a growing pause until
// the fault's deadline, after finding out where the attempt left the node. With
// action "?" it finds that out first.
func (r *chaosRun) bringBack(ctx context.Context, f *fault, id int, action string) error {
	backoff := firstBackoff
	node := strconv.Itoa(id)
	for attempt := 1; ; attempt++ {
		if action == "?" {
			state, err := r.nodeState(ctx, id)
			switch {
			case ctx.Err() != nil:
				return f.interrupted()
			case err != nil:
				r.problem(f, "find out the state of node %d: %v", id, err)
				action = cluster.ActionStart
			case state == "running":
				return nil
			case state == "paused":
				action = cluster.ActionResume
			default:
				action = cluster.ActionStart
			}
		}
		wait := time.Until(f.deadline)
		if wait <= 0 {
			return r.notRecovered(f, fmt.Errorf("node %d could not be brought back (%d attempts)", id, attempt-1))
		}
		_, err := r.lab.NodeOp(ctx, cluster.NodeOptions{Action: action, Target: node, Wait: wait})
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return f.interrupted()
		}
		if time.Now().Add(backoff).After(f.deadline) {
			return r.notRecovered(f, fmt.Errorf("%s node %d failed %d times, last: %w", action, id, attempt, err))
		}
		r.problem(f, "%s node %d (attempt %d) failed, trying again in %s: %v", action, id, attempt, backoff, err)
		if err := sleep(ctx, backoff, ""); err != nil {
			return f.interrupted()
		}
		backoff = min(2*backoff, maxBackoff)
		action = "?"
	}
}

// nodeState is "running", "paused" or "stopped".
func (r *chaosRun) nodeState(ctx context.Context, id int) (string, error) {
	// The process states are read first; the quorum part of the status may time
	// out on a lab in trouble without losing them.
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := r.lab.Status(sctx)
	if err != nil {
		return "", err
	}
	for _, n := range st.Nodes {
		if n.ID == id {
			return n.State, nil
		}
	}
	return "", fmt.Errorf("node %d is not in the lab", id)
}

// powerCut SIGKILLs every node at once, brings the lab back with 'up', and waits
// until it is healthy.
func (r *chaosRun) powerCut(ctx context.Context, n int) error {
	f := r.newFault(n, NemesisAllKill, "all")
	if err := r.retry(ctx, f, "kill every node", func(time.Duration) error {
		_, err := r.lab.KillAll(ctx)
		return err
	}); err != nil {
		return r.stopped(f, err)
	}
	if err := r.retry(ctx, f, "bring every node back up", func(wait time.Duration) error {
		_, err := r.lab.Up(ctx, cluster.UpOptions{Wait: wait})
		return err
	}); err != nil {
		return r.stopped(f, err)
	}
	f.rec.HealS = time.Since(f.began).Seconds()
	if err := r.waitHealthy(ctx, f); err != nil {
		return r.stopped(f, err)
	}
	r.done(f)
	return nil
}

// retry calls fn, given the time left, until it succeeds; a failure is a
// fault-handling problem, tried again with a growing pause until the deadline.
func (r *chaosRun) retry(ctx context.Context, f *fault, what string, fn func(wait time.Duration) error) error {
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		err := fn(max(time.Until(f.deadline), time.Second))
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return f.interrupted()
		}
		if time.Now().Add(backoff).After(f.deadline) {
			return r.notRecovered(f, fmt.Errorf("%s failed %d times, last: %w", what, attempt, err))
		}
		r.problem(f, "%s (attempt %d) failed, trying again in %s: %v", what, attempt, backoff, err)
		if err := sleep(ctx, backoff, ""); err != nil {
			return f.interrupted()
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// waitHealthy waits until every broker is back and every partition of the topic
// has its full ISR, until the fault's deadline.
func (r *chaosRun) waitHealthy(ctx context.Context, f *fault) error {
	err := r.healthyBy(ctx, f.deadline)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return f.interrupted()
	}
	if rerr := r.lab.RequireRunning(); rerr != nil {
		err = fmt.Errorf("%w; %w", err, rerr)
	}
	return r.notRecovered(f, err)
}

// healthyBy waits until the lab is healthy or the deadline passes.
func (r *chaosRun) healthyBy(ctx context.Context, deadline time.Time) error {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	cl, err := data.NewClient(r.lab.BootstrapServers(), r.clientOpts...)
	if err != nil {
		return err
	}
	defer cl.Close()
	// One WaitHealthy gives up after its own bound; keep asking until ours.
	for {
		_, _, err = data.WaitHealthy(dctx, cl, r.o.Topic, r.lab.Brokers())
		if err == nil || dctx.Err() != nil {
			return err
		}
	}
}

// notRecovered is the campaign's abort: the lab was not healthy again in time.
func (r *chaosRun) notRecovered(f *fault, err error) error {
	return &NotRecoveredError{Fault: f.rec.N, What: f.what(), Deadline: r.o.RecoverWithin, Err: err}
}

// done records a fault the lab recovered from and prints its line.
func (r *chaosRun) done(f *fault) {
	r.healthyAt = time.Now()
	f.rec.Recovered = true
	f.rec.RecoveryS = r.healthyAt.Sub(f.began).Seconds()
	f.rec.GapS = longestGap(r.w.Gaps(0), f.rec.AtS, f.rec.AtS+f.rec.RecoveryS)
	r.rep.Faults = append(r.rep.Faults, f.rec)
	of := ""
	if r.o.Count > 0 {
		of = "/" + strconv.Itoa(r.o.Count)
	}
	mark, extra := "✓", ""
	if len(f.rec.Problems) > 0 {
		mark, extra = "!", fmt.Sprintf("; %d fault-handling problem(s), retried", len(f.rec.Problems))
	}
	fmt.Fprintf(r.o.Progress, " %s fault %d%s at %s: %s, healthy after %.1fs, longest produce gap %.1fs, %d acknowledged%s\n",
		mark, f.rec.N, of, clock(f.rec.AtS), f.what(), f.rec.RecoveryS, f.rec.GapS, r.w.Stats().Acked, extra)
}

// stopped records a fault the campaign stopped in (interrupted, or not recovered
// from) and passes its error on.
func (r *chaosRun) stopped(f *fault, err error) error {
	var nr *NotRecoveredError
	if errors.As(err, &nr) {
		f.rec.Abort = nr.Error()
	} else {
		f.rec.Abort = err.Error()
	}
	f.rec.RecoveryS = time.Since(f.began).Seconds()
	r.rep.Faults = append(r.rep.Faults, f.rec)
	fmt.Fprintf(r.o.Progress, " ✗ fault %d at %s: %s: %s\n", f.rec.N, clock(f.rec.AtS), f.what(), f.rec.Abort)
	return err
}

// clock shows seconds since the start as 1h02m03s, 2m03s or 3s.
func clock(s float64) string {
	return time.Duration(s * float64(time.Second)).Round(time.Second).String()
}

// restore resumes paused nodes and starts stopped ones, then waits for health,
// retrying for up to one recovery deadline.
func (r *chaosRun) restore(ctx context.Context) error {
	f := r.newFault(0, "restore", "all")
	err := r.retry(ctx, f, "bring every node back", func(wait time.Duration) error {
		st, err := r.lab.Status(ctx)
		if err != nil {
			return err
		}
		for _, n := range st.Nodes {
			if n.State == "paused" {
				if _, err := r.lab.NodeOp(ctx, cluster.NodeOptions{Action: cluster.ActionResume, Target: strconv.Itoa(n.ID)}); err != nil {
					return err
				}
			}
		}
		_, err = r.lab.Up(ctx, cluster.UpOptions{Wait: wait})
		return err
	})
	if err == nil {
		err = r.healthyBy(ctx, f.deadline)
	}
	if err != nil {
		return fmt.Errorf("after the campaign, the lab was not healthy again within --recover-within %s: %w; 'kraftlab up --name %s' starts stopped nodes and 'kraftlab node resume ID' resumes paused ones",
			r.o.RecoverWithin, err, r.lab.Name())
	}
	return nil
}
