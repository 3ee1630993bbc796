package export

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Strimzi's own examples are the validator's first test cases: each must pass.
func TestStrimziExamplesPass(t *testing.T) {
	var files []string
	err := filepath.WalkDir("testdata/strimzi-examples", func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 10 {
		t.Fatalf("found %d examples, want the 14 copied from Strimzi", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimPrefix(f, "testdata/strimzi-examples/"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := ValidateStrimzi(data); err != nil {
				t.Errorf("%s fails validation:\n%v", f, err)
			}
		})
	}
}

// mutate decodes the first document of a YAML file, changes it and encodes it
// again.
func mutate(t *testing.T, file string, change func(doc map[string]any)) []byte {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	change(doc)
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func at(doc map[string]any, path ...string) map[string]any {
	for _, p := range path {
		doc = doc[p].(map[string]any)
	}
	return doc
}

// Broken copies of Strimzi's examples fail, each naming the object and field.
func TestStrimziValidatorRejects(t *testing.T) {
	const (
		pool  = "testdata/strimzi-examples/kafka/kafka-single-node.yaml" // its first document is the pool
		topic = "testdata/strimzi-examples/topic/kafka-topic.yaml"
		user  = "testdata/strimzi-examples/user/kafka-user.yaml"
	)
	kafka := func(t *testing.T, change func(doc map[string]any)) []byte {
		// The Kafka of kafka-persistent.yaml is its third document.
		data, err := os.ReadFile("testdata/strimzi-examples/kafka/kafka-persistent.yaml")
		if err != nil {
			t.Fatal(err)
		}
		docs := strings.Split(string(data), "\n---\n")
		var doc map[string]any
		if err := yaml.Unmarshal([]byte(docs[2]), &doc); err != nil {
			t.Fatal(err)
		}
		change(doc)
		out, _ := yaml.Marshal(doc)
		return out
	}
	tests := []struct {
		name string
		data func(t *testing.T) []byte
		want []string // substrings of the error
	}{
		{name: "wrong role", want: []string{"KafkaNodePool dual-role", "spec.roles[1]", "broker"},
			data: func(t *testing.T) []byte {
				return mutate(t, pool, func(d map[string]any) { at(d, "spec")["roles"] = []any{"controller", "borker"} })
			}},
		{name: "unknown field", want: []string{"KafkaNodePool dual-role", "spec", "replica"},
			data: func(t *testing.T) []byte {
				return mutate(t, pool, func(d map[string]any) { at(d, "spec")["replica"] = 3 })
			}},
		{name: "unknown field in a listener", want: []string{"Kafka my-cluster", "spec.kafka.listeners[0]", "tsl"},
			data: func(t *testing.T) []byte {
				return kafka(t, func(d map[string]any) {
					at(d, "spec", "kafka")["listeners"].([]any)[0].(map[string]any)["tsl"] = true
				})
			}},
		{name: "wrong type", want: []string{"KafkaTopic my-topic", "spec.partitions", "string"},
			data: func(t *testing.T) []byte {
				return mutate(t, topic, func(d map[string]any) { at(d, "spec")["partitions"] = "three" })
			}},
		{name: "replicas out of range", want: []string{"KafkaNodePool dual-role", "spec.replicas"},
			data: func(t *testing.T) []byte {
				return mutate(t, pool, func(d map[string]any) { at(d, "spec")["replicas"] = -1 })
			}},
		{name: "missing required field", want: []string{"KafkaNodePool dual-role", "spec", "roles"},
			data: func(t *testing.T) []byte {
				return mutate(t, pool, func(d map[string]any) { delete(at(d, "spec"), "roles") })
			}},
		{name: "missing listeners", want: []string{"Kafka my-cluster", "spec.kafka", "listeners"},
			data: func(t *testing.T) []byte {
				return kafka(t, func(d map[string]any) { delete(at(d, "spec", "kafka"), "listeners") })
			}},
		{name: "wrong listener type", want: []string{"Kafka my-cluster", "spec.kafka.listeners[0].type"},
			data: func(t *testing.T) []byte {
				return kafka(t, func(d map[string]any) {
					at(d, "spec", "kafka")["listeners"].([]any)[0].(map[string]any)["type"] = "external"
				})
			}},
		{name: "wrong ACL operation", want: []string{"KafkaUser my-user", "spec.authorization.acls[0].operations[0]"},
			data: func(t *testing.T) []byte {
				return mutate(t, user, func(d map[string]any) {
					at(d, "spec", "authorization")["acls"].([]any)[0].(map[string]any)["operations"] = []any{"Eat"}
				})
			}},
		{name: "old apiVersion", want: []string{"KafkaTopic my-topic", "apiVersion", "kafka.strimzi.io/v1"},
			data: func(t *testing.T) []byte {
				return mutate(t, topic, func(d map[string]any) { d["apiVersion"] = "kafka.strimzi.io/v1beta2" })
			}},
		{name: "unknown kind", want: []string{"my-topic", `kind "KafkaTopik"`},
			data: func(t *testing.T) []byte {
				return mutate(t, topic, func(d map[string]any) { d["kind"] = "KafkaTopik" })
			}},
		{name: "name Kubernetes refuses", want: []string{"KafkaTopic My_Topic", "metadata.name"},
			data: func(t *testing.T) []byte {
				return mutate(t, topic, func(d map[string]any) { at(d, "metadata")["name"] = "My_Topic" })
			}},
		{name: "label that is not a string", want: []string{"KafkaTopic my-topic", "metadata.labels.tier"},
			data: func(t *testing.T) []byte {
				return mutate(t, topic, func(d map[string]any) { at(d, "metadata", "labels")["tier"] = 1 })
			}},
		{name: "no name", want: []string{"metadata", "name"},
			data: func(t *testing.T) []byte {
				return mutate(t, topic, func(d map[string]any) { delete(at(d, "metadata"), "name") })
			}},
		{name: "not YAML", want: []string{"document 1"},
			data: func(t *testing.T) []byte { return []byte("kind: [Kafka\n") }},
		{name: "empty", want: []string{"no Kubernetes object"},
			data: func(t *testing.T) []byte { return []byte("# nothing\n") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateStrimzi(tt.data(t))
			if err == nil {
				t.Fatal("validation passed; want it to fail")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not mention %q:\n%v", w, err)
				}
			}
		})
	}
}

// The open parts of the schemas stay open: spec.kafka.config and topic configs
// take any key (x-kubernetes-preserve-unknown-fields), and int-or-string fields
// take both.
func TestStrimziValidatorKeepsOpenFieldsOpen(t *testing.T) {
	data := []byte(`apiVersion: kafka.strimzi.io/v1
kind: KafkaTopic
metadata:
  name: t
  labels:
    strimzi.io/cluster: c
spec:
  partitions: 1
  config:
    any.key.at.all: 1
    another: "x"
---
apiVersion: kafka.strimzi.io/v1
kind: KafkaNodePool
metadata:
  name: p
spec:
  replicas: 1
  roles: [broker]
  storage:
    type: ephemeral
  resources:
    requests:
      memory: 2Gi
      cpu: 1
`)
	if err := ValidateStrimzi(data); err != nil {
		t.Fatal(err)
	}
}

func TestComposeValidator(t *testing.T) {
	tests := []struct {
		name    string
		data    string
		wantErr string
	}{
		{name: "minimal", data: "services:\n  a:\n    image: apache/kafka:4.1.1\n"},
		{name: "unknown service key", data: "services:\n  a:\n    image: x\n    imagee: y\n", wantErr: "services.a"},
		{name: "ports of the wrong type", data: "services:\n  a:\n    image: x\n    ports: 9092\n", wantErr: "services.a.ports"},
		{name: "environment of the wrong type", data: "services:\n  a:\n    image: x\n    environment: {A: [1]}\n", wantErr: "services.a.environment"},
		{name: "two documents", data: "services: {}\n---\nservices: {}\n", wantErr: "one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateCompose([]byte(tt.data))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("want valid: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v; want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}
