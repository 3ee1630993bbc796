package chaos

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/data"
)

// Every round of the deck deals each (fault, target) pair once, so a campaign of
// N faults over K pairs hits each pair N/K times, rounded either way; the same
// seed deals the same campaign.
func TestDeckCoversEveryPair(t *testing.T) {
	deal := func(seed uint64, n int) []string {
		d := newDeck(rand.New(rand.NewPCG(seed, seed)), Faults, Targets)
		var out []string
		for range n {
			f, tg := d.deal()
			out = append(out, f+" "+tg)
		}
		return out
	}
	got := deal(7, 25)
	counts := map[string]int{}
	for _, p := range got {
		counts[p]++
	}
	if len(counts) != 9 {
		t.Fatalf("25 faults over 9 pairs hit %d pairs: %v", len(counts), counts)
	}
	for p, n := range counts {
		if n < 2 || n > 3 {
			t.Errorf("pair %q dealt %d times in 25, want 2 or 3", p, n)
		}
	}
	if again := deal(7, 25); !reflect.DeepEqual(again, got) {
		t.Errorf("same seed, other deal:\n%v\n%v", got, again)
	}
	if other := deal(8, 25); reflect.DeepEqual(other, got) {
		t.Errorf("seeds 7 and 8 dealt the same campaign")
	}
}

func TestSummarize(t *testing.T) {
	faults := []FaultRecord{
		{Fault: "kill", Target: "leader", RecoveryS: 9, GapS: 6, Recovered: true},
		{Fault: "pause", Target: "controller", RecoveryS: 2, GapS: 2.5, Recovered: true},
		{Fault: "kill", Target: "controller", RecoveryS: 11, GapS: 7, Recovered: true},
		{Fault: "kill", Target: "leader", RecoveryS: 200, GapS: 0, Recovered: false},
	}
	want := []SummaryRow{
		{By: "fault", Name: "kill", Count: 3, Recovered: 2, P50S: 9, P95S: 11, MaxS: 11, MaxGapS: 7},
		{By: "fault", Name: "pause", Count: 1, Recovered: 1, P50S: 2, P95S: 2, MaxS: 2, MaxGapS: 2.5},
		{By: "target", Name: "leader", Count: 2, Recovered: 1, P50S: 9, P95S: 9, MaxS: 9, MaxGapS: 6},
		{By: "target", Name: "controller", Count: 2, Recovered: 2, P50S: 2, P95S: 11, MaxS: 11, MaxGapS: 7},
	}
	if got := summarize(faults); !reflect.DeepEqual(got, want) {
		t.Errorf("summarize:\n got %+v\nwant %+v", got, want)
	}
	if got := summarize(nil); got == nil || len(got) != 0 {
		t.Errorf("summarize(nil) = %#v, want an empty list (JSON [])", got)
	}
}

func TestLongestGap(t *testing.T) {
	gaps := []data.Gap{{StartS: 1, S: 0.2}, {StartS: 9, S: 3}, {StartS: 20, S: 8}, {StartS: 40, S: 1}}
	tests := []struct {
		name     string
		from, to float64
		want     float64
	}{
		{"a gap that began before the fault counts", 10, 15, 3},
		{"the longest of two inside", 8, 30, 8},
		{"none", 30, 39, 0},
		{"a gap that ends as the window starts does not count", 12, 19, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := longestGap(gaps, tt.from, tt.to); got != tt.want {
				t.Errorf("longestGap(%v, %v) = %v, want %v", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name  string
		in    Options
		check func(Options) bool
		want  string // substring of the error; "" = valid
	}{
		{name: "defaults: 60s of faults", check: func(o Options) bool {
			return o.Duration == time.Minute && o.Count == 0 && o.RecoverWithin == DefaultRecoverWithin && len(o.Faults) == 3
		}},
		{name: "a power cut once by default", in: Options{Nemesis: NemesisAllKill}, check: func(o Options) bool { return o.Count == 1 && o.Duration == 0 }},
		{name: "power cuts for an hour", in: Options{Nemesis: NemesisAllKill, Duration: time.Hour}, check: func(o Options) bool { return o.Count == 0 }},
		{name: "nemesis with faults", in: Options{Nemesis: NemesisAllKill, Faults: []string{"kill"}}, want: "give one or the other"},
		{name: "unknown fault", in: Options{Faults: []string{"melt"}}, want: `--faults "melt"`},
		{name: "unknown target", in: Options{Targets: []string{"everyone"}}, want: `--target "everyone"`},
		{name: "unknown nemesis", in: Options{Nemesis: "flood"}, want: `--nemesis "flood"`},
		{name: "negative deadline", in: Options{RecoverWithin: -time.Second}, want: "--recover-within"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.in
			err := o.normalize()
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			case tt.check != nil && !tt.check(o):
				t.Errorf("normalized to %+v", o)
			}
		})
	}
}

// An abort names the fault and the deadline it missed; an interrupt is
// cluster.ErrInterrupted, so the command exits 130.
func TestErrors(t *testing.T) {
	nr := &NotRecoveredError{Fault: 16, What: "kill node 2 (leader)", Deadline: 3 * time.Minute, Err: errors.New("partition 1 has no leader")}
	if got := nr.Error(); !strings.Contains(got, "fault 16 (kill node 2 (leader))") || !strings.Contains(got, "--recover-within 3m0s") || !strings.Contains(got, "no leader") {
		t.Errorf("NotRecoveredError says %q", got)
	}
	f := &fault{rec: FaultRecord{N: 3, Fault: "pause", Target: "controller", Node: 1}}
	if err := f.interrupted(); !errors.Is(err, cluster.ErrInterrupted) || !strings.Contains(err.Error(), "fault 3, pause node 1 (controller)") {
		t.Errorf("interrupted = %v", err)
	}
}
