package data

import (
	"strings"
	"testing"
)

func TestPayloadRoundTrip(t *testing.T) {
	v := encodePayload("abcd1234", 42, 100)
	if len(v) != 100 {
		t.Fatalf("payload is %d bytes, want 100", len(v))
	}
	p, ok := parsePayload(v)
	if !ok || !p.intact || p.run != "abcd1234" || p.seq != 42 {
		t.Fatalf("parsePayload(%q) = %+v, %v; want run abcd1234 seq 42 intact", v, p, ok)
	}
	// Any single changed byte, header or body, must show as damage.
	for i := range v {
		bad := append([]byte(nil), v...)
		bad[i] ^= 0x01
		if p, ok := parsePayload(bad); ok && p.intact && p.run == "abcd1234" {
			t.Errorf("flipping byte %d went unnoticed: %+v", i, p)
		}
	}
	if _, ok := parsePayload([]byte(`{"id":1}`)); ok {
		t.Error("another producer's record parsed as a smoke record")
	}
}

func TestVerifier(t *testing.T) {
	const run = "run00001"
	type read struct {
		partition int32
		value     []byte
	}
	rec := func(seq int64) []byte { return encodePayload(run, seq, 64) }
	corrupt := func(seq int64) []byte {
		v := rec(seq)
		v[len(v)-1] ^= 0xff
		return v
	}
	// Records 0-3 were acknowledged: 0 and 2 in partition 0, 1 and 3 in partition 1.
	acked := map[int64]int32{0: 0, 1: 1, 2: 0, 3: 1}
	inOrder := []read{{0, rec(0)}, {1, rec(1)}, {0, rec(2)}, {1, rec(3)}}
	tests := []struct {
		name  string
		reads []read
		want  Verification // Problems is checked by count only
		// wantProblem is a substring of the problem list.
		wantProblem string
	}{
		{
			name:  "everything back once, in order",
			reads: inOrder,
			want:  Verification{Acked: 4, Read: 4},
		},
		{
			name:        "lost record",
			reads:       []read{{0, rec(0)}, {1, rec(1)}, {0, rec(2)}},
			want:        Verification{Acked: 4, Read: 3, Lost: 1},
			wantProblem: "seq 3 (acknowledged in partition 1) never read back intact",
		},
		{
			name:        "duplicated record",
			reads:       append(append([]read(nil), inOrder...), read{1, rec(3)}),
			want:        Verification{Acked: 4, Read: 5, Duplicated: 1},
			wantProblem: "seq 3 read again",
		},
		{
			name:        "reordered within a partition",
			reads:       []read{{0, rec(2)}, {0, rec(0)}, {1, rec(1)}, {1, rec(3)}},
			want:        Verification{Acked: 4, Read: 4, Reordered: 1},
			wantProblem: "seq 0 read after seq 2",
		},
		{
			name:        "read from another partition than acknowledged",
			reads:       []read{{0, rec(0)}, {0, rec(1)}, {0, rec(2)}, {1, rec(3)}},
			want:        Verification{Acked: 4, Read: 4, Reordered: 1},
			wantProblem: "seq 1 was acknowledged in partition 1",
		},
		{
			name:        "corrupted record is also lost without an intact copy",
			reads:       []read{{0, rec(0)}, {1, corrupt(1)}, {0, rec(2)}, {1, rec(3)}},
			want:        Verification{Acked: 4, Read: 3, Corrupted: 1, Lost: 1},
			wantProblem: "corrupted",
		},
		{
			name:  "other runs and other producers are skipped",
			reads: append([]read{{0, encodePayload("run00000", 0, 64)}, {1, []byte(`{"id":1}`)}}, inOrder...),
			want:  Verification{Acked: 4, Read: 4, Skipped: 2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewVerifier(run)
			for seq, p := range acked {
				v.Acked(seq, p)
			}
			for i, r := range tt.reads {
				v.Read(r.partition, int64(i), r.value)
			}
			got := v.Result()
			problems := got.Problems
			got.Problems = nil
			if got.Acked != tt.want.Acked || got.Read != tt.want.Read || got.Lost != tt.want.Lost || got.Duplicated != tt.want.Duplicated ||
				got.Reordered != tt.want.Reordered || got.Corrupted != tt.want.Corrupted || got.Skipped != tt.want.Skipped {
				t.Fatalf("Result = %+v, want %+v", got, tt.want)
			}
			failing := tt.want.Lost+tt.want.Duplicated+tt.want.Reordered+tt.want.Corrupted > 0
			err := v.Result().Err()
			if (err != nil) != failing {
				t.Fatalf("Err() = %v, want an error: %v", err, failing)
			}
			if tt.wantProblem != "" && !strings.Contains(err.Error(), tt.wantProblem) {
				t.Errorf("Err() = %q, want it to mention %q", err, tt.wantProblem)
			}
			if !failing && len(problems) != 0 {
				t.Errorf("problems %v listed for a clean run", problems)
			}
		})
	}
}

func TestVerifierCapsProblemList(t *testing.T) {
	v := NewVerifier("run00001")
	for seq := range int64(20) {
		v.Acked(seq, 0)
	}
	got := v.Result()
	if got.Lost != 20 || len(got.Problems) != maxProblems+1 || got.Problems[maxProblems] != "and 15 more" {
		t.Fatalf("Result = lost %d, problems %q; want 20 lost, %d listed and \"and 15 more\"", got.Lost, got.Problems, maxProblems)
	}
}
