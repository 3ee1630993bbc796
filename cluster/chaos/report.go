package chaos

// This file owns what a chaos run reports: each fault with its timings, the
// produce gaps, the summary per fault kind and per target, and why a campaign
// stopped early.

import (
	"fmt"
	"slices"
	"time"

	"github.com/kraftlab/kraftlab/cluster/chaos/ackcheck"
	"github.com/kraftlab/kraftlab/cluster/data"
)

// Outcomes of a campaign.
const (
	OutcomeCompleted   = "completed"   // every fault asked for was applied and recovered from
	OutcomeInterrupted = "interrupted" // Ctrl-C: stopped early, nodes brought back
	OutcomeAborted     = "aborted"     // the lab did not recover from a fault in time
)

// FaultRecord is one fault and how the lab came through it. Times are seconds;
// AtS counts from the start of the workload.
type FaultRecord struct {
	N      int     `json:"n"`
	Fault  string  `json:"fault"`  // kill, pause, restart, all-kill
	Target string  `json:"target"` // controller, leader, random; all for a power cut
	Node   int     `json:"node"`   // 0 = every node
	AtS    float64 `json:"at_s"`
	// HealS is how long after the fault the node was back (started and rejoined,
	// or resumed; for a power cut, every node up and the lab ready).
	HealS float64 `json:"heal_s"`
	// RecoveryS is how long after the fault the lab was healthy again: every broker
	// back, every replica of the topic in sync.
	RecoveryS float64 `json:"recovery_s"`
	// GapS is the longest time with no successful produce that overlaps the fault,
	// from the fault to recovery.
	GapS      float64 `json:"produce_gap_s"`
	Recovered bool    `json:"recovered"`
	// Problems are fault-handling problems: a node start (or kill, or resume) that
	// failed and was retried. They are kraftlab's trouble, not the cluster's.
	Problems []string `json:"fault_handling_problems"`
	// Abort says why the campaign stopped in this fault, if it did.
	Abort string `json:"abort,omitempty"`
}

// SummaryRow is the faults of one kind, or at one target, taken together.
type SummaryRow struct {
	By        string  `json:"by"`   // "fault" or "target"
	Name      string  `json:"name"` // the kind or the target
	Count     int     `json:"count"`
	Recovered int     `json:"recovered"`
	P50S      float64 `json:"recovery_p50_s"`
	P95S      float64 `json:"recovery_p95_s"`
	MaxS      float64 `json:"recovery_max_s"`
	MaxGapS   float64 `json:"longest_produce_gap_s"`
}

// Report is the outcome of a chaos run.
type Report struct {
	Lab            string        `json:"lab"`
	Topic          string        `json:"topic"`
	Run            string        `json:"run"`
	Seed           uint64        `json:"seed"`
	Nemesis        string        `json:"nemesis,omitempty"`
	Count          int           `json:"count_asked,omitempty"`
	DurationAskedS float64       `json:"duration_asked_s,omitempty"`
	RecoverWithinS float64       `json:"recover_within_s"`
	Outcome        string        `json:"outcome"`         // completed, interrupted or aborted
	Abort          string        `json:"abort,omitempty"` // why an aborted campaign stopped
	DurationS      float64       `json:"duration_s"`
	Faults         []FaultRecord `json:"faults"`
	Summary        []SummaryRow  `json:"summary"`
	// ProduceGaps lists every time of a second or more with no successful produce.
	ProduceGaps      []data.Gap         `json:"produce_gaps"`
	HandlingProblems []string           `json:"fault_handling_problems"`
	Workload         data.WorkloadStats `json:"workload"`
	// Verification is kraftlab's own check, Independent the ack log's.
	Verification  data.Verification `json:"verification"`
	Independent   *ackcheck.Result  `json:"independent_check,omitempty"`
	AckLog        string            `json:"ack_log"`
	AckLogRecords int               `json:"ack_log_records"`
	ReportFile    string            `json:"report_file"`
	Passed        bool              `json:"passed"`
}

// NotRecoveredError aborts a campaign: the lab was not healthy again within the
// recovery deadline after a fault.
type NotRecoveredError struct {
	Fault    int
	What     string
	Deadline time.Duration
	Err      error
}

func (e *NotRecoveredError) Error() string {
	if e.Fault == 0 {
		return fmt.Sprintf("%s: %v, within the recovery deadline (--recover-within %s)", e.What, e.Err, e.Deadline)
	}
	return fmt.Sprintf("fault %d (%s): the lab was not healthy again within the recovery deadline (--recover-within %s): %v", e.Fault, e.What, e.Deadline, e.Err)
}

func (e *NotRecoveredError) Unwrap() error { return e.Err }

// longestGap is the longest of gaps that overlaps the window from from to to.
func longestGap(gaps []data.Gap, from, to float64) float64 {
	longest := 0.0
	for _, g := range gaps {
		if g.StartS < to && g.StartS+g.S > from {
			longest = max(longest, g.S)
		}
	}
	return longest
}

// attributeGaps gives each fault the longest produce gap overlapping it, now
// that every gap has ended.
func (r *chaosRun) attributeGaps(gaps []data.Gap) {
	for i := range r.rep.Faults {
		f := &r.rep.Faults[i]
		f.GapS = longestGap(gaps, f.AtS, f.AtS+f.RecoveryS)
	}
}

// summarize groups faults per kind and per target, in the order each first
// appears; recovery figures cover the faults recovered from.
func summarize(faults []FaultRecord) []SummaryRow {
	rows := []SummaryRow{}
	for _, by := range []string{"fault", "target"} {
		var names []string
		groups := map[string][]FaultRecord{}
		for _, f := range faults {
			name := f.Fault
			if by == "target" {
				name = f.Target
			}
			if _, ok := groups[name]; !ok {
				names = append(names, name)
			}
			groups[name] = append(groups[name], f)
		}
		for _, name := range names {
			rows = append(rows, summaryRow(by, name, groups[name]))
		}
	}
	return rows
}

func summaryRow(by, name string, faults []FaultRecord) SummaryRow {
	row := SummaryRow{By: by, Name: name, Count: len(faults)}
	var recoveries []time.Duration
	for _, f := range faults {
		row.MaxGapS = max(row.MaxGapS, f.GapS)
		if f.Recovered {
			recoveries = append(recoveries, time.Duration(f.RecoveryS*float64(time.Second)))
		}
	}
	row.Recovered = len(recoveries)
	if len(recoveries) > 0 {
		slices.Sort(recoveries)
		row.P50S = data.Percentile(recoveries, 50).Seconds()
		row.P95S = data.Percentile(recoveries, 95).Seconds()
		row.MaxS = recoveries[len(recoveries)-1].Seconds()
	}
	return row
}
