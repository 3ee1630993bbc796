package ports

import (
	"errors"
	"net"
	"strconv"
	"strings"
	"testing"
)

// freeBase finds a base with two windows of free loopback ports.
func freeBase(t *testing.T, from int) int {
	t.Helper()
	for base := from; base < from+5000; base += 100 {
		ok := true
		for p := base; p < base+3*Window && ok; p++ {
			ok = Free("127.0.0.1", p) && Free("127.0.0.1", p+1000)
		}
		if ok {
			return base
		}
	}
	t.Skip("no free port range found")
	return 0
}

func TestPickBases(t *testing.T) {
	base := freeBase(t, 45000)
	tests := []struct {
		name     string
		recorded []int
		listen   []int
		reserve  []int
		want     int
	}{
		{name: "the given bases when free", want: base},
		{name: "a port another lab recorded moves both blocks", recorded: []int{base + 1000 + 3}, want: base + Window},
		{name: "a listener anywhere in the window counts", listen: []int{base + 9}, want: base + Window},
		{name: "a port another kraftlab process reserved is skipped", reserve: []int{base + 2}, want: base + Window},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := map[int]bool{}
			for _, p := range tt.recorded {
				rec[p] = true
			}
			for _, p := range tt.listen {
				ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(p)))
				if err != nil {
					t.Fatal(err)
				}
				defer ln.Close()
			}
			if len(tt.reserve) > 0 {
				r, err := Reserve(tt.reserve)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Release()
			}
			b, c, res, err := PickBases("127.0.0.1", base, base+1000, rec)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Release()
			if b != tt.want || c != tt.want+1000 {
				t.Errorf("got %d/%d, want %d/%d", b, c, tt.want, tt.want+1000)
			}
			// What was picked is held: a second pick moves on.
			b2, _, res2, err := PickBases("127.0.0.1", base, base+1000, rec)
			if err != nil {
				t.Fatal(err)
			}
			defer res2.Release()
			if b2 == b {
				t.Errorf("a second pick got the reserved window %d again", b)
			}
		})
	}
	if _, _, _, err := PickBases("127.0.0.1", 65530, 65520, nil); err == nil || !strings.Contains(err.Error(), "no free window") {
		t.Errorf("err = %v, want no free window", err)
	}
}

func TestReserveIsAllOrNothing(t *testing.T) {
	base := freeBase(t, 47000)
	held, err := Reserve([]int{base + 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Reserve([]int{base, base + 1, base + 2})
	var re *ReservedError
	if !errors.As(err, &re) || re.Port != base+1 || !strings.Contains(err.Error(), "reserved by another kraftlab process") {
		t.Fatalf("err = %v, want port %d reserved", err, base+1)
	}
	// base was released again when base+1 failed.
	r, err := Reserve([]int{base})
	if err != nil {
		t.Fatalf("the partial reservation was kept: %v", err)
	}
	r.Release()
	held.Release()
	if r, err := Reserve([]int{base + 1}); err != nil {
		t.Errorf("released port still reserved: %v", err)
	} else {
		r.Release()
	}
}

func TestCheck(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	taken := ln.Addr().(*net.TCPAddr).Port
	free, _ := net.Listen("tcp", "127.0.0.1:0")
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()

	tests := []struct {
		name  string
		uses  []Use
		owner func(int) string
		want  []string
	}{
		{name: "free port", uses: []Use{{"127.0.0.1", freePort, 1, "broker"}}},
		{name: "taken broker port", uses: []Use{{"127.0.0.1", freePort, 1, "controller"}, {"127.0.0.1", taken, 2, "broker"}},
			want: []string{"already in use", "node 2 broker listener", "--broker-port"}},
		{name: "taken controller port", uses: []Use{{"127.0.0.1", taken, 3, "controller"}},
			want: []string{"node 3 controller listener", "--controller-port"}},
		{name: "held by the lab's own node", uses: []Use{{"127.0.0.1", taken, 2, "broker"}}, owner: func(int) string { return "this lab's own node 2" },
			want: []string{"is held by this lab's own node 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.uses, tt.owner)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
