package data

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// produceLines writes records "0".."n-1" to topic.
func produceLines(t *testing.T, brokers []string, topic string, n int) {
	t.Helper()
	var in strings.Builder
	for i := range n {
		fmt.Fprintf(&in, "%d\n", i)
	}
	if _, err := Produce(testContext(t), brokers, ProduceOptions{Topic: topic, Input: strings.NewReader(in.String())}); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

func offsetPtr(n int64) *int64 { return &n }

func TestConsume(t *testing.T) {
	const idle = 300 * time.Millisecond
	tests := []struct {
		name    string
		opts    ConsumeOptions
		produce int
		want    []string // values in order (single partition)
	}{
		{name: "max stops after n records", opts: ConsumeOptions{FromBeginning: true, Max: 3, IdleTimeout: 5 * time.Second}, produce: 10, want: []string{"0", "1", "2"}},
		{name: "idle timeout ends a consume with fewer records than max", opts: ConsumeOptions{FromBeginning: true, Max: 100, IdleTimeout: idle}, produce: 4, want: []string{"0", "1", "2", "3"}},
		{name: "offset starts there", opts: ConsumeOptions{Offset: offsetPtr(7), IdleTimeout: idle}, produce: 10, want: []string{"7", "8", "9"}},
		{name: "default starts at the end", opts: ConsumeOptions{IdleTimeout: idle}, produce: 5, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(1, "one"))
			produceLines(t, brokers, "one", tt.produce)
			o := tt.opts
			o.Topic = "one"
			var got []string
			start := time.Now()
			n, err := Consume(testContext(t), brokers, o, func(r *kgo.Record) error {
				got = append(got, string(r.Value))
				return nil
			})
			if err != nil {
				t.Fatalf("Consume: %v", err)
			}
			if n != len(got) || strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("Consume = %d records %v, want %v", n, got, tt.want)
			}
			if took := time.Since(start); took > 4*time.Second {
				t.Errorf("Consume took %s; idle timeout or max did not stop it", took)
			}
		})
	}
}

func TestConsumeGroupResumes(t *testing.T) {
	brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(1, "one"))
	produceLines(t, brokers, "one", 5)
	consume := func() []string {
		var got []string
		_, err := Consume(testContext(t), brokers,
			ConsumeOptions{Topic: "one", FromBeginning: true, Max: 2, Group: "g1", IdleTimeout: 2 * time.Second},
			func(r *kgo.Record) error { got = append(got, string(r.Value)); return nil })
		if err != nil {
			t.Fatalf("Consume: %v", err)
		}
		return got
	}
	first, second := consume(), consume()
	// Only delivered records are committed, so the second consume goes on from
	// where the first stopped, not from where its fetches got to.
	if strings.Join(first, ",") != "0,1" || strings.Join(second, ",") != "2,3" {
		t.Fatalf("two consumes of 2 in group g1 = %v then %v, want [0 1] then [2 3]", first, second)
	}
}

func TestConsumeStopsCleanlyOnCancel(t *testing.T) {
	brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(1, "one"))
	ctx, cancel := context.WithCancel(testContext(t))
	time.AfterFunc(200*time.Millisecond, cancel)
	n, err := Consume(ctx, brokers, ConsumeOptions{Topic: "one"}, func(*kgo.Record) error { return nil })
	if err != nil || n != 0 {
		t.Fatalf("Consume cancelled = %d, %v; want 0, nil", n, err)
	}
}

func TestConsumeErrors(t *testing.T) {
	errStop := errors.New("stop here")
	tests := []struct {
		name        string
		opts        ConsumeOptions
		fn          func(*kgo.Record) error
		wantErrIs   error
		wantInvalid bool
	}{
		{name: "missing topic", opts: ConsumeOptions{Topic: "nope"}, wantErrIs: ErrTopicNotFound},
		{name: "beginning and offset", opts: ConsumeOptions{Topic: "one", FromBeginning: true, Offset: offsetPtr(1)}, wantInvalid: true},
		{name: "negative offset and max", opts: ConsumeOptions{Topic: "one", Offset: offsetPtr(-1), Max: -1}, wantInvalid: true},
		{name: "callback error stops", opts: ConsumeOptions{Topic: "one", FromBeginning: true}, fn: func(*kgo.Record) error { return errStop }, wantErrIs: errStop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(1, "one"))
			produceLines(t, brokers, "one", 3)
			fn := tt.fn
			if fn == nil {
				fn = func(*kgo.Record) error { return nil }
			}
			_, err := Consume(testContext(t), brokers, tt.opts, fn)
			var ve *usage.Error
			if err == nil || (tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs)) || errors.As(err, &ve) != tt.wantInvalid {
				t.Fatalf("Consume error = %v, want %v (validation error: %v)", err, tt.wantErrIs, tt.wantInvalid)
			}
		})
	}
}

func TestConsumeExitAtEnd(t *testing.T) {
	tests := []struct {
		name      string
		opts      ConsumeOptions
		produce   int
		preGroup  int // records a first consume in group g commits
		want      []string
		wantAtEnd bool
	}{
		{name: "from the beginning reads what is there, then stops", opts: ConsumeOptions{FromBeginning: true}, produce: 5, want: []string{"0", "1", "2", "3", "4"}},
		{name: "an empty topic ends at once", opts: ConsumeOptions{FromBeginning: true}, produce: 0},
		{name: "the default start is the end: nothing to read", opts: ConsumeOptions{}, produce: 5, wantAtEnd: true},
		{name: "from an offset", opts: ConsumeOptions{Offset: offsetPtr(3)}, produce: 5, want: []string{"3", "4"}},
		{name: "from an offset past the end", opts: ConsumeOptions{Offset: offsetPtr(9)}, produce: 5},
		{name: "a group resumes from its commits", opts: ConsumeOptions{Group: "g"}, produce: 5, preGroup: 2, want: []string{"2", "3", "4"}},
		{name: "a group that has read everything", opts: ConsumeOptions{Group: "g"}, produce: 3, preGroup: 3},
		{name: "a new group starts at the end", opts: ConsumeOptions{Group: "g"}, produce: 3, wantAtEnd: true},
		{name: "max still stops first", opts: ConsumeOptions{FromBeginning: true, Max: 2}, produce: 5, want: []string{"0", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(1, "one"))
			if tt.produce > 0 {
				produceLines(t, brokers, "one", tt.produce)
			}
			if tt.preGroup > 0 {
				if _, err := Consume(testContext(t), brokers, ConsumeOptions{Topic: "one", Group: "g", FromBeginning: true, Max: tt.preGroup, IdleTimeout: 2 * time.Second},
					func(*kgo.Record) error { return nil }); err != nil {
					t.Fatalf("first consume in group g: %v", err)
				}
			}
			o := tt.opts
			o.Topic, o.ExitAtEnd = "one", true
			calls, atEnd := 0, false
			o.OnStart = func(b bool) { calls++; atEnd = b }
			var got []string
			start := time.Now()
			n, err := Consume(testContext(t), brokers, o, func(r *kgo.Record) error {
				got = append(got, string(r.Value))
				return nil
			})
			if err != nil {
				t.Fatalf("Consume: %v", err)
			}
			if n != len(got) || strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("Consume = %d records %v, want %v", n, got, tt.want)
			}
			if calls != 1 || atEnd != tt.wantAtEnd {
				t.Errorf("OnStart called %d times with atEnd %v, want once with %v", calls, atEnd, tt.wantAtEnd)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("Consume took %s; it should stop at the end by itself", took)
			}
		})
	}
}

// Records written after the start are not read: the end is the one seen at the
// start, on every partition.
func TestConsumeExitAtEndIgnoresNewRecords(t *testing.T) {
	brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(3, "three"))
	var in strings.Builder
	for i := range 30 {
		fmt.Fprintf(&in, "{\"id\": %d}\n", i)
	}
	if _, err := Produce(testContext(t), brokers, ProduceOptions{Topic: "three", Input: strings.NewReader(in.String()), KeyField: "id"}); err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]bool)
	n, err := Consume(testContext(t), brokers, ConsumeOptions{Topic: "three", FromBeginning: true, ExitAtEnd: true}, func(r *kgo.Record) error {
		if len(seen) == 0 {
			produceLines(t, brokers, "three", 20) // values "0".."19": not JSON objects
		}
		seen[string(r.Value)] = true
		return nil
	})
	if err != nil {
		t.Fatalf("Consume: %v", err)
	}
	if n != 30 || len(seen) != 30 {
		t.Fatalf("Consume = %d records (%d distinct), want the 30 there at the start", n, len(seen))
	}
	for v := range seen {
		if !strings.HasPrefix(v, "{") {
			t.Errorf("read %q, written after the start", v)
		}
	}
}

func TestConsumeOnStart(t *testing.T) {
	brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(1, "one"))
	produceLines(t, brokers, "one", 2)
	tests := []struct {
		name      string
		opts      ConsumeOptions
		wantAtEnd bool
	}{
		{name: "no group, no start", opts: ConsumeOptions{}, wantAtEnd: true},
		{name: "from the beginning", opts: ConsumeOptions{FromBeginning: true}},
		{name: "from an offset", opts: ConsumeOptions{Offset: offsetPtr(0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.opts
			o.Topic, o.IdleTimeout = "one", 200*time.Millisecond
			var got []bool
			o.OnStart = func(atEnd bool) { got = append(got, atEnd) }
			if _, err := Consume(testContext(t), brokers, o, func(*kgo.Record) error { return nil }); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tt.wantAtEnd {
				t.Errorf("OnStart calls = %v, want one with atEnd %v", got, tt.wantAtEnd)
			}
		})
	}
}
