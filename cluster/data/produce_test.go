package data

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/kraftlab/kraftlab/cluster/usage"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// readAll consumes n records of topic from the beginning.
func readAll(t *testing.T, brokers []string, topic string, n int) []*kgo.Record {
	t.Helper()
	var got []*kgo.Record
	_, err := Consume(testContext(t), brokers, ConsumeOptions{Topic: topic, FromBeginning: true, Max: n, IdleTimeout: 2e9},
		func(r *kgo.Record) error { got = append(got, r); return nil })
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	return got
}

func TestProduce(t *testing.T) {
	type rec struct{ key, value string }
	hdrs := []kgo.RecordHeader{{Key: "source", Value: []byte("test")}, {Key: "v", Value: []byte("1")}}
	tests := []struct {
		name     string
		opts     ProduceOptions
		input    string
		want     []rec // in input order, for a single-partition topic
		wantHdrs []kgo.RecordHeader
		noOffset bool // acks=0: Kafka does not say where records landed
	}{
		{
			name:  "one record per line, blank lines and CRLF dropped",
			input: "first\r\n\nsecond\n   \nthird",
			want:  []rec{{"", "first"}, {"", "second"}, {"", "third"}},
		},
		{
			name:  "JSON array, one compact record per element, key from a string field",
			opts:  ProduceOptions{KeyField: "id"},
			input: " [\n {\"id\": \"a1\", \"n\": 1},\n {\"id\": \"b2\", \"tags\": [1, 2]}\n]\n",
			want:  []rec{{"a1", `{"id":"a1","n":1}`}, {"b2", `{"id":"b2","tags":[1,2]}`}},
		},
		{
			name:  "key from a number field keeps its JSON text",
			opts:  ProduceOptions{KeyField: "id"},
			input: `[{"id": 42}, {"id": 7.5}]`,
			want:  []rec{{"42", `{"id":42}`}, {"7.5", `{"id":7.5}`}},
		},
		{
			name:  "key field on JSON lines",
			opts:  ProduceOptions{KeyField: "user"},
			input: "{\"user\":\"ann\"}\n{\"user\":\"bob\"}\n",
			want:  []rec{{"ann", `{"user":"ann"}`}, {"bob", `{"user":"bob"}`}},
		},
		{
			name:     "fixed key and headers",
			opts:     ProduceOptions{Key: "k", Headers: hdrs},
			input:    "x\ny\n",
			want:     []rec{{"k", "x"}, {"k", "y"}},
			wantHdrs: hdrs,
		},
		{
			name:  "acks=1 without idempotence",
			opts:  ProduceOptions{Acks: "1"},
			input: "a\nb\n",
			want:  []rec{{"", "a"}, {"", "b"}},
		},
		{
			name:     "acks=0 reports no offsets",
			opts:     ProduceOptions{Acks: "0"},
			input:    "a\nb\n",
			want:     []rec{{"", "a"}, {"", "b"}},
			noOffset: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers, _ := fakeCluster(t, 3, kfake.SeedTopics(1, "one"))
			o := tt.opts
			o.Topic, o.Input = "one", strings.NewReader(tt.input)
			res, err := Produce(testContext(t), brokers, o)
			if err != nil {
				t.Fatalf("Produce: %v", err)
			}
			wantParts := []PartitionOffsets{{Partition: 0, Records: len(tt.want), FirstOffset: 0, LastOffset: int64(len(tt.want) - 1)}}
			if tt.noOffset {
				wantParts[0].FirstOffset, wantParts[0].LastOffset = -1, -1
			}
			if res.Records != len(tt.want) || len(res.Partitions) != 1 || res.Partitions[0] != wantParts[0] {
				t.Fatalf("result = %+v, want %d records in %+v", res, len(tt.want), wantParts)
			}
			got := readAll(t, brokers, "one", len(tt.want))
			if len(got) != len(tt.want) {
				t.Fatalf("read %d records, want %d", len(got), len(tt.want))
			}
			for i, r := range got {
				if string(r.Key) != tt.want[i].key || string(r.Value) != tt.want[i].value {
					t.Errorf("record %d = key %q value %q, want key %q value %q", i, r.Key, r.Value, tt.want[i].key, tt.want[i].value)
				}
				if len(r.Headers) != len(tt.wantHdrs) {
					t.Errorf("record %d headers = %v, want %v", i, r.Headers, tt.wantHdrs)
					continue
				}
				for j, h := range r.Headers {
					if h.Key != tt.wantHdrs[j].Key || string(h.Value) != string(tt.wantHdrs[j].Value) {
						t.Errorf("record %d header %d = %s=%s, want %s=%s", i, j, h.Key, h.Value, tt.wantHdrs[j].Key, tt.wantHdrs[j].Value)
					}
				}
			}
		})
	}
}

func TestProduceCountsEachPartition(t *testing.T) {
	brokers, _ := fakeCluster(t, 3, kfake.SeedTopics(3, "three"))
	var in strings.Builder
	for i := range 60 {
		fmt.Fprintf(&in, "{\"id\": %d}\n", i)
	}
	// Distinct keys spread the records over the partitions.
	res, err := Produce(testContext(t), brokers, ProduceOptions{Topic: "three", Input: strings.NewReader(in.String()), KeyField: "id"})
	if err != nil {
		t.Fatalf("Produce: %v", err)
	}
	if len(res.Partitions) != 3 {
		t.Errorf("records went to %d partitions, want all 3: %+v", len(res.Partitions), res.Partitions)
	}
	total := 0
	for _, p := range res.Partitions {
		total += p.Records
		if p.LastOffset-p.FirstOffset+1 != int64(p.Records) {
			t.Errorf("partition %d: offsets %d-%d for %d records", p.Partition, p.FirstOffset, p.LastOffset, p.Records)
		}
	}
	if total != 60 || res.Records != 60 {
		t.Fatalf("partitions count %d records, result %d; want 60", total, res.Records)
	}
}

func TestProduceErrors(t *testing.T) {
	tests := []struct {
		name        string
		opts        ProduceOptions
		input       string
		wantErr     string
		wantErrIs   error
		wantInvalid bool
	}{
		{name: "missing topic", opts: ProduceOptions{Topic: "nope"}, input: "a\n", wantErrIs: ErrTopicNotFound},
		{name: "empty input", input: "\n \n", wantErr: "input has no records"},
		{name: "broken JSON array", input: `[{"id": 1},`, wantErr: "not one JSON array"},
		{name: "key field missing names the element", opts: ProduceOptions{KeyField: "id"}, input: `[{"id": 1}, {"name": "x"}]`, wantErr: `array element 2: key field "id": record has no such field`},
		{name: "key field on a non-object line names the line", opts: ProduceOptions{KeyField: "id"}, input: "{\"id\":1}\nplain text\n", wantErr: "line 2: key field \"id\": record is not a JSON object"},
		{name: "null key field", opts: ProduceOptions{KeyField: "id"}, input: `[{"id": null}]`, wantErr: "is null"},
		{name: "key and key field", opts: ProduceOptions{Key: "k", KeyField: "id"}, input: "a\n", wantInvalid: true, wantErr: "exclusive"},
		{name: "bad acks", opts: ProduceOptions{Acks: "2"}, input: "a\n", wantInvalid: true, wantErr: `acks "2"`},
		{name: "bad topic name", opts: ProduceOptions{Topic: "a b"}, input: "a\n", wantInvalid: true, wantErr: "topic name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(1, "one"))
			o := tt.opts
			if o.Topic == "" {
				o.Topic = "one"
			}
			o.Input = strings.NewReader(tt.input)
			res, err := Produce(testContext(t), brokers, o)
			if err == nil {
				t.Fatalf("Produce = %+v, want an error", res)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if tt.wantErrIs != nil && !errors.Is(err, tt.wantErrIs) {
				t.Errorf("error %v is not %v", err, tt.wantErrIs)
			}
			var ve *usage.Error
			if errors.As(err, &ve) != tt.wantInvalid {
				t.Errorf("error %v: validation error = %v, want %v", err, !tt.wantInvalid, tt.wantInvalid)
			}
			if res.Records != 0 {
				t.Errorf("%d records were acknowledged; input errors must send nothing", res.Records)
			}
		})
	}
}

func TestProduceNamesFirstFailedRecord(t *testing.T) {
	brokers, _ := fakeCluster(t, 1, kfake.SeedTopics(1, "one"))
	// The broker accepts records up to its message size limit; the third is larger.
	input := "small\nsmall\n" + strings.Repeat("x", 2<<20) + "\nsmall\n"
	res, err := Produce(testContext(t), brokers, ProduceOptions{Topic: "one", Input: strings.NewReader(input)})
	if err == nil {
		t.Fatalf("Produce = %+v, want an error for the oversized record", res)
	}
	if !strings.Contains(err.Error(), "record 3 (line 3) failed") {
		t.Errorf("error %q does not name record 3 (line 3)", err)
	}
}
