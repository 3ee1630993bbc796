package topicadmin

import (
	"strings"
	"testing"
)

func TestHealthProblems(t *testing.T) {
	healthy := Partition{Partition: 0, Leader: 1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}}
	tests := []struct {
		name   string
		expect int
		parts  []Partition
		want   []string
	}{
		{name: "healthy", expect: 3, parts: []Partition{healthy}},
		{name: "no broker expectation", expect: 0, parts: []Partition{healthy}},
		{name: "missing broker", expect: 4, parts: []Partition{healthy}, want: []string{"cluster metadata lists 3 of 4 brokers"}},
		{
			name:   "each partition problem is named",
			expect: 3,
			parts: []Partition{
				healthy,
				{Partition: 1, Leader: -1, Replicas: []int32{1, 2, 3}, ISR: []int32{1, 2, 3}},
				{Partition: 2, Leader: 2, Replicas: []int32{1, 2, 3}, ISR: []int32{2, 3}},
				{Partition: 3, Leader: -1, Error: "LEADER_NOT_AVAILABLE"},
			},
			want: []string{
				"partition 1 has no leader",
				"partition 2: in-sync replicas [2 3] are fewer than replicas [1 2 3]",
				"partition 3: LEADER_NOT_AVAILABLE",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := HealthProblems(3, tt.expect, Topic{Name: "t", Partitions: tt.parts})
			if strings.Join(got, "|") != strings.Join(tt.want, "|") {
				t.Fatalf("HealthProblems = %q, want %q", got, tt.want)
			}
		})
	}
}
