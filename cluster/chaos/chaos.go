// Package chaos breaks a running lab on purpose while a producer and a consumer
// work on it: nodes are killed, paused and restarted, or every node is killed at
// once, one fault at a time, for as many faults or as long as asked. At the end,
// with every node back, two checkers that share no code read the topic back:
// kraftlab's own verifier, and ackcheck, which compares it with the log of every
// acknowledged record written during the run.
package chaos

// This file owns a chaos run from start to end: options, the topic, the workload
// and its acknowledgement log, the campaign, bringing every node back, and both
// checks.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/chaos/ackcheck"
	"github.com/kraftlab/kraftlab/cluster/data"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// Chaos fault kinds, targets and nemeses.
var (
	Faults  = []string{"kill", "pause", "restart"}
	Targets = []string{"controller", "leader", "random"}
)

// NemesisAllKill SIGKILLs every node at once and brings the lab back: the power cut.
const NemesisAllKill = "all-kill"

// DefaultRecoverWithin is how long the lab may take to be healthy again after one
// fault before a campaign gives up on it. Faults heal in seconds; this is for a
// lab that is truly stuck, not a slow one.
const DefaultRecoverWithin = 3 * time.Minute

// Options is what 'kraftlab chaos' takes.
type Options struct {
	Topic    string        // default "chaos"
	Faults   []string      // subset of Faults; default all
	Targets  []string      // subset of Targets; default controller, leader
	Interval time.Duration // quiet time between one fault's recovery and the next fault; 0 = 5s
	Duration time.Duration // stop injecting after this long (0 = only Count bounds it)
	Count    int           // stop after this many faults (0 = only Duration bounds it)
	Seed     uint64        // 0 = pick one (reported, so a run can be repeated)
	// Nemesis NemesisAllKill makes every fault a power cut; it takes no Faults or
	// Targets. Without Count or Duration it cuts once.
	Nemesis    string
	Rate       int // records per second; 0 = 500
	RecordSize int
	// RecoverWithin is how long the lab may take, from a fault, to be healthy again:
	// every broker back and every replica of the topic in sync. Failed node starts
	// are retried until then; past it the campaign aborts. 0 = DefaultRecoverWithin.
	RecoverWithin time.Duration
	// Progress gets one line per fault. The lab's own step progress is not wanted
	// here: open it with a Config whose Progress is nil.
	Progress io.Writer
}

func (o *Options) normalize() error {
	var errs []error
	if o.Nemesis != "" && (len(o.Faults) > 0 || len(o.Targets) > 0) {
		errs = append(errs, fmt.Errorf("--nemesis %s kills every node at once; --faults and --target choose single-node faults: give one or the other", o.Nemesis))
	}
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
		if o.Nemesis != "" {
			o.Count = 1
		} else {
			o.Duration = 60 * time.Second
		}
	}
	if o.Seed == 0 {
		o.Seed = uint64(time.Now().UnixNano())
	}
	if o.Rate == 0 {
		o.Rate = 500
	}
	if o.RecoverWithin == 0 {
		o.RecoverWithin = DefaultRecoverWithin
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
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
	if o.Interval < 0 || o.Duration < 0 || o.Count < 0 || o.Rate < 0 || o.RecoverWithin < 0 {
		errs = append(errs, errors.New("--interval, --duration, --count, --rate and --recover-within must not be negative"))
	}
	return usage.Errors(errs)
}

// chaosRun carries one chaos run.
type chaosRun struct {
	o     Options
	lab   *cluster.Lab
	rng   *rand.Rand
	start time.Time // the workload's start: every time in the report counts from it
	// healthyAt is when the lab was last seen healthy: the start, then the end of
	// each fault's recovery.
	healthyAt time.Time
	w         *data.Workload
	rep       *Report
	// nodes are the lab's node ids; partitions the topic's partition count.
	nodes      []int
	partitions int
	// clientOpts connect as the lab's admin, on a secured lab.
	clientOpts []kgo.Opt
}

// Run runs the workload against a running lab while injecting faults, then brings
// every node back and checks every acknowledged record twice. A fault the lab does
// not recover from within o.RecoverWithin aborts the campaign; a fault that merely
// took handling (a node start retried) does not. Ctrl-C (ctx ending) stops the
// campaign at once: every node is brought back, resumed if paused, and the report
// covers what was acknowledged until then; the error then matches
// cluster.ErrInterrupted. The report, with the acknowledgement log beside it, is
// also saved under the lab directory in chaos/RUN.
func Run(ctx context.Context, lab *cluster.Lab, o Options) (*Report, error) {
	if err := o.normalize(); err != nil {
		return nil, err
	}
	if err := lab.RequireRunning(); err != nil {
		return nil, err
	}
	r := &chaosRun{
		o: o, lab: lab, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x6b72616674)),
		rep: &Report{
			Lab: lab.Name(), Topic: o.Topic, Seed: o.Seed, Nemesis: o.Nemesis, Count: o.Count,
			DurationAskedS: o.Duration.Seconds(), RecoverWithinS: o.RecoverWithin.Seconds(),
			Faults: []FaultRecord{}, HandlingProblems: []string{}, ProduceGaps: []data.Gap{},
		},
	}
	var err error
	if r.clientOpts, err = lab.ClientOpts(""); err != nil {
		return nil, err
	}
	if err := r.prepare(ctx); err != nil {
		if ctx.Err() != nil {
			return nil, &cluster.InterruptedError{Step: "Preparing topic " + o.Topic}
		}
		return nil, err
	}
	run := data.NewRunID()
	dir, err := makeRunDir(lab.Dir(), run)
	if err != nil {
		return nil, err
	}
	acks, err := ackcheck.Create(filepath.Join(dir, "acks.log"), run, o.Topic)
	if err != nil {
		return nil, err
	}
	r.rep.Run, r.rep.AckLog, r.rep.ReportFile = run, acks.Path(), filepath.Join(dir, "report.json")
	r.w, err = data.StartWorkload(ctx, lab.BootstrapServers(), data.WorkloadOptions{
		Topic: o.Topic, Rate: o.Rate, RecordSize: o.RecordSize, Run: run, ClientOpts: r.clientOpts,
		OnAck: func(seq int64, rec *kgo.Record) { acks.Append(rec.Partition, rec.Offset, seq, rec.Value) },
	})
	if err != nil {
		return nil, errors.Join(err, acks.Close())
	}
	r.start = r.w.Started()
	r.healthyAt = r.start
	fmt.Fprintf(o.Progress, "Chaos run %s on %s: producing %d records/s (acks=all, idempotent), %s, seed %d; recovery deadline %s per fault\n",
		run, o.Topic, o.Rate, r.plan(), o.Seed, o.RecoverWithin)

	campaignErr := r.campaign(ctx)
	interrupted := ctx.Err() != nil
	if interrupted {
		fmt.Fprintf(o.Progress, "Interrupted: bringing every node back, then checking the records acknowledged so far\n")
	}
	// Whatever happened, bring every node back before judging: a fault left in
	// place (a paused node after Ctrl-C) must not outlive the run.
	bg := context.WithoutCancel(ctx)
	restoreErr := r.restore(bg)
	stopCtx, cancel := context.WithTimeout(bg, 2*time.Minute)
	if restoreErr != nil {
		stopCtx, cancel = context.WithTimeout(bg, 10*time.Second)
	}
	r.rep.Workload = r.w.Stop(stopCtx)
	cancel()
	logErr := acks.Close()
	r.rep.AckLogRecords = acks.Records()
	r.rep.DurationS = time.Since(r.start).Seconds()
	r.rep.ProduceGaps = r.w.Gaps(reportedGap)
	r.attributeGaps(r.w.Gaps(0))
	r.rep.Summary = summarize(r.rep.Faults)

	var checkErr error
	if restoreErr == nil && logErr == nil {
		checkErr = r.check(bg)
	}
	err = r.verdict(campaignErr, interrupted, restoreErr, logErr, checkErr)
	if serr := r.save(); serr != nil {
		err = errors.Join(err, serr)
	}
	return r.rep, err
}

// reportedGap is the shortest produce gap the report lists one by one.
const reportedGap = time.Second

// plan says what the campaign will do, for the first progress line.
func (r *chaosRun) plan() string {
	what := "faults " + strings.Join(r.o.Faults, ",") + " on " + strings.Join(r.o.Targets, ",")
	if r.o.Nemesis != "" {
		what = "power cuts (every node SIGKILLed at once)"
	}
	switch {
	case r.o.Count > 0 && r.o.Duration > 0:
		return fmt.Sprintf("%d %s within %s", r.o.Count, what, r.o.Duration)
	case r.o.Count > 0:
		return fmt.Sprintf("%d %s", r.o.Count, what)
	}
	return fmt.Sprintf("%s for %s", what, r.o.Duration)
}

// prepare creates the topic (replication 3, min ISR 2 on 3+ brokers), waits until
// every replica is in sync, and notes the lab's nodes.
func (r *chaosRun) prepare(ctx context.Context) error {
	st, err := r.lab.Status(ctx)
	if err != nil {
		return err
	}
	for _, n := range st.Nodes {
		r.nodes = append(r.nodes, n.ID)
	}
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
	_, t, err := data.WaitHealthy(ctx, cl, r.o.Topic, r.lab.Brokers())
	r.partitions = len(t.Partitions)
	return err
}

// makeRunDir makes LAB/chaos/RUN for the run's acknowledgement log and report.
// Nothing is followed through a symbolic link: what is there must be a directory.
func makeRunDir(labDir, run string) (string, error) {
	parent := filepath.Join(labDir, "chaos")
	if err := os.Mkdir(parent, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("make the chaos run directory: %w", err)
	}
	if fi, err := os.Lstat(parent); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory kraftlab made for chaos runs; move it away", parent)
	}
	dir := filepath.Join(parent, run)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("make the chaos run directory: %w", err)
	}
	return dir, nil
}

// check runs both checkers at once: each reads the whole topic with its own client.
func (r *chaosRun) check(ctx context.Context) error {
	fmt.Fprintf(r.o.Progress, "Checking %d acknowledged records twice: kraftlab's verifier, and the ack log against the topic\n", r.rep.Workload.Acked)
	var wg sync.WaitGroup
	var verr, ierr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		r.rep.Verification, verr = r.w.Verify(ctx)
		if verr != nil {
			verr = fmt.Errorf("kraftlab's check: %w", verr)
		}
	}()
	go func() {
		defer wg.Done()
		log, err := ackcheck.ReadLogFile(r.rep.AckLog)
		if err != nil {
			ierr = fmt.Errorf("independent check: %w", err)
			return
		}
		res, err := ackcheck.Check(ctx, r.lab.BootstrapServers(), log, r.clientOpts...)
		r.rep.Independent = &res
		ierr = err
	}()
	wg.Wait()
	return errors.Join(verr, ierr)
}

// verdict sets the outcome and Passed, and returns the run's error: a loss first
// (exit 1), then an abort, then an interrupt (which exits 130).
func (r *chaosRun) verdict(campaignErr error, interrupted bool, restoreErr, logErr, checkErr error) error {
	rep := r.rep
	var nr *NotRecoveredError
	switch {
	case interrupted:
		rep.Outcome = OutcomeInterrupted
	case campaignErr != nil:
		rep.Outcome = OutcomeAborted
		rep.Abort = campaignErr.Error()
		if errors.As(campaignErr, &nr) {
			rep.Abort = nr.Error()
		}
	default:
		rep.Outcome = OutcomeCompleted
	}
	var problems []error
	if restoreErr != nil {
		problems = append(problems, fmt.Errorf("%w; the records were not checked, the ack log %s holds them", restoreErr, rep.AckLog))
	}
	problems = append(problems, logErr, checkErr)
	if restoreErr == nil && logErr == nil {
		if err := rep.Verification.Err(); err != nil {
			problems = append(problems, fmt.Errorf("kraftlab's check: %w", err))
		}
	}
	if rep.Independent != nil {
		problems = append(problems, rep.Independent.Err())
	}
	if rep.Workload.Acked == 0 && !interrupted {
		problems = append(problems, errors.New("no record was acknowledged; the lab never took writes"))
	}
	failed := errors.Join(problems...)
	rep.Passed = failed == nil && rep.Outcome == OutcomeCompleted
	prefix := fmt.Sprintf("chaos run %s on topic %q", rep.Run, rep.Topic)
	switch {
	case failed != nil && interrupted:
		return fmt.Errorf("%s (interrupted after %d faults): %w", prefix, len(rep.Faults), failed)
	case failed != nil && campaignErr != nil:
		return fmt.Errorf("%s: %w\n%w", prefix, campaignErr, failed)
	case failed != nil:
		return fmt.Errorf("%s: %w", prefix, failed)
	case interrupted:
		return fmt.Errorf("%s: %w; every node is running again, and the %d records acknowledged until then passed both checks", prefix, r.interruptedError(campaignErr), rep.Workload.Acked)
	case campaignErr != nil:
		return fmt.Errorf("%s: %w", prefix, campaignErr)
	}
	return nil
}

// interruptedError says what the campaign was doing when it was interrupted.
func (r *chaosRun) interruptedError(err error) error {
	var ie *cluster.InterruptedError
	if errors.As(err, &ie) {
		return ie
	}
	return &cluster.InterruptedError{Step: "Running the campaign"}
}

// save writes the report beside the acknowledgement log.
func (r *chaosRun) save() error {
	b, err := json.MarshalIndent(r.rep, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(r.rep.ReportFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("save the chaos report: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("save the chaos report: %w", err)
	}
	return nil
}
