package data

import (
	"errors"
	"strings"
	"testing"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kfake"
)

func TestValidateTopicName(t *testing.T) {
	tests := []struct {
		name    string
		topic   string
		wantErr string // substring; empty means valid
	}{
		{name: "plain", topic: "kraft-test"},
		{name: "all allowed characters", topic: "Aa0._-"},
		{name: "longest allowed", topic: strings.Repeat("a", 249)},
		{name: "empty", topic: "", wantErr: "empty"},
		{name: "dot", topic: ".", wantErr: "not allowed"},
		{name: "dot dot", topic: "..", wantErr: "not allowed"},
		{name: "too long", topic: strings.Repeat("a", 250), wantErr: "250 characters"},
		{name: "space", topic: "kraft test", wantErr: "' '"},
		{name: "slash", topic: "a/b", wantErr: "'/'"},
		{name: "non-ascii", topic: "café", wantErr: "'é'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateTopicName(tt.topic)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateTopicName(%q) = %v, want nil", tt.topic, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ValidateTopicName(%q) = %v, want an error containing %q", tt.topic, err, tt.wantErr)
			}
		})
	}
}

func TestCreateTopic(t *testing.T) {
	tests := []struct {
		name        string
		brokers     int
		spec        TopicSpec
		want        CreatedTopic
		wantErrIs   error
		wantErr     string // substring
		wantInvalid bool   // a *usage.Error
	}{
		{
			name:    "defaults on three brokers",
			brokers: 3,
			spec:    TopicSpec{Name: "kraft-test"},
			want:    CreatedTopic{Name: "kraft-test", Partitions: 3, ReplicationFactor: 3, Created: true},
		},
		{
			name:    "default replication is capped by a single broker",
			brokers: 1,
			spec:    TopicSpec{Name: "solo"},
			want:    CreatedTopic{Name: "solo", Partitions: 3, ReplicationFactor: 1, Created: true},
		},
		{
			name:    "explicit counts and config",
			brokers: 3,
			spec:    TopicSpec{Name: "orders", Partitions: 6, ReplicationFactor: 2, Configs: map[string]string{"min.insync.replicas": "2"}},
			want:    CreatedTopic{Name: "orders", Partitions: 6, ReplicationFactor: 2, Created: true},
		},
		{
			name:    "replication above the broker count says how many brokers",
			brokers: 3,
			spec:    TopicSpec{Name: "big", ReplicationFactor: 5},
			wantErr: "replication factor 5 is more than the 3 broker(s)",
		},
		{
			name:      "existing topic",
			brokers:   3,
			spec:      TopicSpec{Name: "seeded"},
			wantErrIs: ErrTopicExists,
		},
		{
			name:    "existing topic with if-not-exists reports it as it is",
			brokers: 3,
			spec:    TopicSpec{Name: "seeded", Partitions: 7, IfNotExists: true},
			want:    CreatedTopic{Name: "seeded", Partitions: 2, ReplicationFactor: 3, Created: false},
		},
		{
			name:        "invalid name and negative counts are reported together",
			brokers:     3,
			spec:        TopicSpec{Name: "a b", Partitions: -1, ReplicationFactor: -2},
			wantErr:     "3 problems",
			wantInvalid: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cl := fakeCluster(t, tt.brokers, kfake.SeedTopics(2, "seeded"))
			got, err := CreateTopic(testContext(t), cl, tt.spec)
			switch {
			case tt.wantErrIs != nil || tt.wantErr != "":
				if err == nil {
					t.Fatalf("CreateTopic = %+v, want an error", got)
				}
				if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
					t.Errorf("error %v is not %v", err, tt.wantErrIs)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				var ve *usage.Error
				if errors.As(err, &ve) != tt.wantInvalid {
					t.Errorf("error %v: is a *usage.Error = %v, want %v", err, !tt.wantInvalid, tt.wantInvalid)
				}
				return
			case err != nil:
				t.Fatalf("CreateTopic: %v", err)
			}
			if got != tt.want {
				t.Fatalf("CreateTopic = %+v, want %+v", got, tt.want)
			}
			desc, err := DescribeTopic(testContext(t), cl, tt.spec.Name)
			if err != nil {
				t.Fatalf("DescribeTopic after create: %v", err)
			}
			if len(desc.Partitions) != tt.want.Partitions || desc.ReplicationFactor != tt.want.ReplicationFactor {
				t.Errorf("described %d partitions with replication %d, want %d and %d",
					len(desc.Partitions), desc.ReplicationFactor, tt.want.Partitions, tt.want.ReplicationFactor)
			}
			for k, v := range tt.spec.Configs {
				if desc.Configs[k] != v {
					t.Errorf("config %s = %q, want %q", k, desc.Configs[k], v)
				}
			}
		})
	}
}

func TestDescribeTopic(t *testing.T) {
	_, cl := fakeCluster(t, 3, kfake.SeedTopics(1, "other"))
	ctx := testContext(t)
	if _, err := CreateTopic(ctx, cl, TopicSpec{Name: "kraft-test", Configs: map[string]string{"retention.ms": "60000"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		topic       string
		wantErrIs   error
		wantInvalid bool
	}{
		{name: "existing topic", topic: "kraft-test"},
		{name: "missing topic", topic: "nope", wantErrIs: ErrTopicNotFound},
		{name: "invalid name", topic: "..", wantInvalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DescribeTopic(ctx, cl, tt.topic)
			if tt.wantErrIs != nil || tt.wantInvalid {
				var ve *usage.Error
				if err == nil || (tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs)) || errors.As(err, &ve) != tt.wantInvalid {
					t.Fatalf("DescribeTopic(%q) error = %v, want %v (validation error: %v)", tt.topic, err, tt.wantErrIs, tt.wantInvalid)
				}
				return
			}
			if err != nil {
				t.Fatalf("DescribeTopic: %v", err)
			}
			if got.Name != tt.topic || got.ID == "" || len(got.Partitions) != 3 || got.ReplicationFactor != 3 {
				t.Fatalf("DescribeTopic = %+v, want %s with an id, 3 partitions, replication 3", got, tt.topic)
			}
			for i, p := range got.Partitions {
				if p.Partition != int32(i) {
					t.Errorf("partition %d listed at position %d; want them sorted", p.Partition, i)
				}
				if p.Leader < 0 || len(p.Replicas) != 3 || len(p.ISR) != 3 || p.Error != "" {
					t.Errorf("partition %+v: want a leader, 3 replicas, 3 in sync, no error", p)
				}
			}
			// Only what was set shows, not the long list of defaults.
			if want := map[string]string{"retention.ms": "60000"}; len(got.Configs) != 1 || got.Configs["retention.ms"] != "60000" {
				t.Errorf("configs = %v, want %v", got.Configs, want)
			}
		})
	}
}

func TestListTopics(t *testing.T) {
	_, cl := fakeCluster(t, 3, kfake.SeedTopics(2, "zeta", "alpha"))
	ctx := testContext(t)
	if _, err := CreateTopic(ctx, cl, TopicSpec{Name: "mid", Partitions: 1, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	topics, err := ListTopics(ctx, cl)
	if err != nil {
		t.Fatalf("ListTopics: %v", err)
	}
	want := []struct {
		name       string
		partitions int
		rf         int
	}{{"alpha", 2, 3}, {"mid", 1, 1}, {"zeta", 2, 3}}
	if len(topics) != len(want) {
		t.Fatalf("ListTopics = %+v, want %d topics", topics, len(want))
	}
	for i, w := range want {
		if got := topics[i]; got.Name != w.name || len(got.Partitions) != w.partitions || got.ReplicationFactor != w.rf {
			t.Errorf("topic %d = %s (%d partitions, replication %d), want %s (%d, %d)",
				i, got.Name, len(got.Partitions), got.ReplicationFactor, w.name, w.partitions, w.rf)
		}
	}
}

func TestDeleteTopic(t *testing.T) {
	tests := []struct {
		name        string
		topic       string
		wantErrIs   error
		wantInvalid bool
	}{
		{name: "existing topic", topic: "doomed"},
		{name: "missing topic", topic: "nope", wantErrIs: ErrTopicNotFound},
		{name: "invalid name", topic: "", wantInvalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, cl := fakeCluster(t, 3, kfake.SeedTopics(1, "doomed"))
			ctx := testContext(t)
			err := DeleteTopic(ctx, cl, tt.topic)
			if tt.wantErrIs != nil || tt.wantInvalid {
				var ve *usage.Error
				if err == nil || (tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs)) || errors.As(err, &ve) != tt.wantInvalid {
					t.Fatalf("DeleteTopic(%q) error = %v, want %v (validation error: %v)", tt.topic, err, tt.wantErrIs, tt.wantInvalid)
				}
				return
			}
			if err != nil {
				t.Fatalf("DeleteTopic: %v", err)
			}
			if _, err := DescribeTopic(ctx, cl, tt.topic); !errors.Is(err, ErrTopicNotFound) {
				t.Fatalf("DescribeTopic after delete = %v, want ErrTopicNotFound", err)
			}
		})
	}
}
