package step

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestPoll(t *testing.T) {
	died := errors.New("node 2 exited")
	tests := []struct {
		name    string
		try     func(n int, ctx context.Context) (bool, string, error)
		want    []string // substrings of the error; nil = success
		wantErr error
	}{
		{name: "done on the third try", try: func(n int, _ context.Context) (bool, string, error) { return n == 3, "", nil }},
		{name: "stop ends at once", try: func(int, context.Context) (bool, string, error) { return false, "", Stop(died) }, wantErr: died},
		{
			name: "timeout names what was last seen",
			try: func(n int, _ context.Context) (bool, string, error) {
				return false, "2 of 3 voters", errors.New("connection refused")
			},
			want: []string{"quorum: gave up after", "last seen: 2 of 3 voters", "connection refused", "deadline exceeded"},
		},
		{
			name: "an attempt cut by the deadline does not hide the previous observation",
			try: func(n int, ctx context.Context) (bool, string, error) {
				if n == 1 {
					return false, "leader 1, voters not caught up", nil
				}
				<-ctx.Done()
				return false, "", ctx.Err()
			},
			want: []string{"last seen: leader 1, voters not caught up"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			n := 0
			err := Poll(ctx, "quorum", 10*time.Millisecond, func(ctx context.Context) (bool, string, error) {
				n++
				return tt.try(n, ctx)
			})
			switch {
			case tt.wantErr != nil:
				if err != tt.wantErr {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
			case tt.want == nil:
				if err != nil {
					t.Fatal(err)
				}
			default:
				if err == nil || !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("err = %v, want a deadline error", err)
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
			}
		})
	}
}
