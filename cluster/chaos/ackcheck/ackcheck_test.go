package ackcheck

import (
	"bytes"
	"context"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	testRun   = "run12345"
	testTopic = "acks"
)

// stored is one record put into the fake cluster.
type stored struct {
	partition int32
	key       string
	run       string // "" = no run header
	value     string
}

// ofRun is record seq of the test run in partition p, with its own value.
func ofRun(p int32, seq int64) stored {
	return stored{partition: p, key: strconv.FormatInt(seq, 10), run: testRun, value: "value of " + strconv.FormatInt(seq, 10)}
}

// seedTopic writes records, in order, to a fresh 3-partition topic on an
// in-process cluster, and returns its addresses and where each record landed.
func seedTopic(t *testing.T, records []stored) ([]string, []Ack) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, testTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.DefaultProduceTopic(testTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var acks []Ack
	for _, s := range records {
		r := &kgo.Record{Partition: s.partition, Key: []byte(s.key), Value: []byte(s.value)}
		if s.run != "" {
			r.Headers = []kgo.RecordHeader{{Key: RunHeader, Value: []byte(s.run)}}
		}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		seq, _ := strconv.ParseInt(s.key, 10, 64)
		acks = append(acks, Ack{Partition: r.Partition, Offset: r.Offset, Seq: seq, CRC: Checksum(r.Value)})
	}
	return c.ListenAddrs(), acks
}

// clean is a run of 9 records over 3 partitions, each partition in order.
func clean() []stored {
	var out []stored
	for seq := int64(0); seq < 9; seq++ {
		out = append(out, ofRun(int32(seq%3), seq))
	}
	return out
}

// The checker catches each kind of defect it exists for, in topic contents and
// acknowledgement logs crafted to hold exactly that defect, and passes a clean run.
func TestCheck(t *testing.T) {
	tests := []struct {
		name    string
		records []stored
		// log turns the acknowledgements of records into the log to check.
		log  func(acks []Ack) []Ack
		want Result // counts only
		// problems are substrings the problem list must hold.
		problems []string
	}{
		{
			name:    "clean run",
			records: clean(),
			want:    Result{Acked: 9, Read: 9},
		},
		{
			name:    "a record missing",
			records: clean(),
			log: func(acks []Ack) []Ack {
				return append(acks, Ack{Partition: 1, Offset: 3, Seq: 10, CRC: Checksum([]byte("value of 10"))})
			},
			want:     Result{Acked: 10, Read: 9, Lost: 1},
			problems: []string{"sequence 10, acknowledged at partition 1 offset 3, never read back"},
		},
		{
			name:     "a record duplicated",
			records:  slices.Insert(clean(), 4, ofRun(1, 1)), // seq 1 again, right after itself in partition 1
			log:      func(acks []Ack) []Ack { return slices.Delete(acks, 4, 5) },
			want:     Result{Acked: 9, Read: 10, Duplicated: 1},
			problems: []string{"sequence 1 read again at partition 1 offset 1"},
		},
		{
			name: "a record out of order",
			// Partition 2 holds 2, 8, 5: sequence 5 after 8.
			records:  []stored{ofRun(0, 0), ofRun(1, 1), ofRun(2, 2), ofRun(0, 3), ofRun(1, 4), ofRun(2, 8), ofRun(0, 6), ofRun(1, 7), ofRun(2, 5)},
			want:     Result{Acked: 9, Read: 9, OutOfOrder: 1},
			problems: []string{"sequence 5 read at partition 2 offset 2, after sequence 8"},
		},
		{
			name: "missing, duplicated and out of order at once, each reported",
			records: []stored{ofRun(0, 0), ofRun(1, 1), ofRun(2, 2), ofRun(0, 3), ofRun(1, 4), ofRun(2, 8),
				ofRun(0, 6), ofRun(1, 7), ofRun(2, 5), ofRun(0, 6)},
			log: func(acks []Ack) []Ack {
				acks = acks[:len(acks)-1] // the second copy of 6 was never acknowledged
				return append(acks, Ack{Partition: 1, Offset: 3, Seq: 9, CRC: 1})
			},
			want:     Result{Acked: 10, Read: 10, Lost: 1, Duplicated: 1, OutOfOrder: 1},
			problems: []string{"sequence 9, acknowledged at partition 1 offset 3, never read back", "sequence 6 read again at partition 0 offset 3", "sequence 5 read at partition 2 offset 2, after sequence 8"},
		},
		{
			name:    "a value that changed",
			records: clean(),
			log: func(acks []Ack) []Ack {
				acks[4].CRC ^= 1
				return acks
			},
			want:     Result{Acked: 9, Read: 9, Corrupted: 1},
			problems: []string{"sequence 4 at partition 1 offset 1: value checksum"},
		},
		{
			name:    "a record acknowledged at another offset",
			records: clean(),
			log: func(acks []Ack) []Ack {
				acks[7].Offset = 9
				return acks
			},
			want:     Result{Acked: 9, Read: 9, Misplaced: 1},
			problems: []string{"sequence 7, acknowledged at partition 1 offset 9, read back only elsewhere"},
		},
		{
			name:    "a key that is not a sequence number",
			records: append(clean(), stored{partition: 0, key: "007", run: testRun, value: "x"}),
			log:     func(acks []Ack) []Ack { return acks[:9] },
			want:    Result{Acked: 9, Read: 10, Corrupted: 1},
		},
		{
			name: "records of other runs and producers, and unacknowledged ones, are allowed",
			records: append(clean(),
				stored{partition: 0, key: "3", run: "another1", value: "v"},
				stored{partition: 1, key: "hello", value: "not kraftlab's"},
				ofRun(2, 9)),
			log:  func(acks []Ack) []Ack { return acks[:9] },
			want: Result{Acked: 9, Read: 10, Unacked: 1, Other: 2},
		},
		{
			name:    "the log lists a record twice",
			records: clean(),
			log:     func(acks []Ack) []Ack { return append(acks, acks[2]) },
			want:    Result{Acked: 10, Read: 9, Duplicated: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers, acks := seedTopic(t, tt.records)
			if tt.log != nil {
				acks = tt.log(acks)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			got, err := Check(ctx, brokers, &Log{Run: testRun, Topic: testTopic, Acks: acks})
			if err != nil {
				t.Fatal(err)
			}
			counts := got
			counts.Run, counts.Topic, counts.Partitions, counts.Problems = "", "", nil, nil
			if !reflect.DeepEqual(counts, tt.want) {
				t.Errorf("counts:\n got %+v\nwant %+v\nproblems: %q", counts, tt.want, got.Problems)
			}
			for _, p := range tt.problems {
				if !slices.ContainsFunc(got.Problems, func(s string) bool { return strings.Contains(s, p) }) {
					t.Errorf("no problem says %q: %q", p, got.Problems)
				}
			}
			if (got.Err() == nil) != (tt.want.Lost+tt.want.Duplicated+tt.want.OutOfOrder+tt.want.Misplaced+tt.want.Corrupted == 0) {
				t.Errorf("Err() = %v for %+v", got.Err(), counts)
			}
			var acked, read int
			for _, p := range got.Partitions {
				acked += p.Acked
				read += p.Read
			}
			if read != got.Read || acked+logDuplicates(acks) != got.Acked || len(got.Partitions) != 3 {
				t.Errorf("partitions %+v do not add up to %d acknowledged, %d read", got.Partitions, got.Acked, got.Read)
			}
		})
	}
}

func logDuplicates(acks []Ack) int {
	seen := map[int64]bool{}
	n := 0
	for _, a := range acks {
		if seen[a.Seq] {
			n++
		}
		seen[a.Seq] = true
	}
	return n
}

// A log written by Writer reads back as written; the file is plain text in the
// documented format.
func TestLogRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acks.log")
	w, err := Create(path, testRun, testTopic)
	if err != nil {
		t.Fatal(err)
	}
	w.Append(2, 17, 40, []byte("hello"))
	w.Append(0, 0, 41, nil)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w.Append(1, 1, 42, nil) // after Close: ignored
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Magic + "\n# run run12345\n# topic acks\n# partition offset sequence crc32c\n2 17 40 9a71bb4c\n0 0 41 00000000\n"
	if string(data) != want {
		t.Errorf("log file:\n%s\nwant:\n%s", data, want)
	}
	l, err := ReadLogFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wantAcks := []Ack{{2, 17, 40, 0x9a71bb4c}, {0, 0, 41, 0}}
	if l.Run != testRun || l.Topic != testTopic || !slices.Equal(l.Acks, wantAcks) || w.Records() != 2 {
		t.Errorf("read back %+v (%d records written)", l, w.Records())
	}
	if _, err := Create(path, testRun, testTopic); err == nil {
		t.Error("Create over an existing log succeeded")
	}
}

// A log the checker cannot read exactly is refused with its line, never checked
// half-understood.
func TestReadLogRefuses(t *testing.T) {
	head := Magic + "\n# run r\n# topic t\n"
	tests := []struct {
		name, log, want string
	}{
		{"empty", "", "empty"},
		{"not a log", "partition offset\n", "line 1"},
		{"no run", Magic + "\n# topic t\n0 0 0 00000000\n", `no "# run"`},
		{"three fields", head + "0 0 00000000\n", "line 4"},
		{"negative offset", head + "0 -1 0 00000000\n", `offset "-1"`},
		{"short checksum", head + "0 1 0 abc\n", "8 hex digits"},
		{"torn last line", head + "0 1 0 0000\n", "line 4"},
		{"two spaces", head + "0  1 0 00000000\n", "line 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadLog(bytes.NewBufferString(tt.log))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// The checker is independent of what it checks: it imports nothing of kraftlab.
func TestSharesNoCodeWithKraftlab(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			if strings.Contains(imp.Path.Value, "kraftlab") {
				t.Errorf("%s imports %s", f, imp.Path.Value)
			}
		}
	}
}
