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
			name:  "one pretty-printed object is one compact record",
			input: "\n  {\n    \"id\": \"a1\",\n    \"tags\": [\n      1,\n      2\n    ]\n  }\n",
			want:  []rec{{"", `{"id":"a1","tags":[1,2]}`}},
		},
		{
			name:  "values one after another, on a line or spread over several",
			input: "{\"a\": 1}{\"b\": 2} {\n \"c\": 3\n}\n",
			want:  []rec{{"", `{"a":1}`}, {"", `{"b":2}`}, {"", `{"c":3}`}},
		},
		{
			name:  "several arrays are one record each",
			input: "[1, 2]\n[3]\n",
			want:  []rec{{"", "[1,2]"}, {"", "[3]"}},
		},
		{
			name:  "an array of scalars",
			input: `[1, "x", null, true]`,
			want:  []rec{{"", "1"}, {"", `"x"`}, {"", "null"}, {"", "true"}},
		},
		{
			name:  "text whose first line is not JSON stays lines, even with braces later",
			input: "hello\n{\"a\": 1}\n[x\n",
			want:  []rec{{"", "hello"}, {"", `{"a": 1}`}, {"", "[x"}},
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
		{name: "empty JSON array", input: " [ ]\n", wantErr: "input has no records"},
		{name: "unfinished JSON array names where it starts", input: "\n  [{\"id\": 1},", wantErr: "read input: line 2, column 3: JSON value not complete at the end of the input"},
		{name: "bad JSON names the file, line and column", opts: ProduceOptions{InputName: "app.json"}, input: "{\n  \"id\": 1,\n  \"n\": }\n", wantErr: "read app.json: line 3, column 8: invalid character '}' looking for beginning of value"},
		{name: "columns count characters, not bytes", input: "{\"é\": x}", wantErr: "line 1, column 7: invalid character 'x'"},
		{name: "text among JSON lines names its line", input: "{\"id\":1}\nplain text\n", wantErr: "line 2, column 1: invalid character 'p'"},
		{name: "key field missing names the element and its line", opts: ProduceOptions{KeyField: "id"}, input: "[{\"id\": 1},\n {\"name\": \"x\"}]", wantErr: `array element 2 (line 2): key field "id": record has no such field`},
		{name: "key field on a scalar names the value", opts: ProduceOptions{KeyField: "id"}, input: "{\"id\":1}\n42\n", wantErr: `JSON value 2 (line 2): key field "id": record is not a JSON object`},
		{name: "key field on a text line names the line", opts: ProduceOptions{KeyField: "id"}, input: "plain text\n", wantErr: `line 1: key field "id": record is not a JSON object`},
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
