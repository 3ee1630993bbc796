package export

// This file owns offline validation: the Strimzi CRDs' OpenAPI schemas turned into
// JSON Schemas that check what the API server and 'kubectl apply' would check, the
// Compose Specification's schema, and checking YAML documents against them.

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

//go:embed schemas/strimzi/*.yaml schemas/compose/compose-spec.json
var schemaFS embed.FS

// printer words validation messages.
var printer = message.NewPrinter(language.English)

// strimziAPIVersion is the only API version Strimzi 1.x serves.
const strimziAPIVersion = "kafka.strimzi.io/v1"

// strimziSchemas holds one compiled schema per Strimzi kind, built on first use.
var strimziSchemas = sync.OnceValues(loadStrimziSchemas)

var composeSchema = sync.OnceValues(loadComposeSchema)

// crd is the part of a CustomResourceDefinition that validation needs.
type crd struct {
	Spec struct {
		Group string `yaml:"group"`
		Names struct {
			Kind string `yaml:"kind"`
		} `yaml:"names"`
		Versions []crdVersion `yaml:"versions"`
	} `yaml:"spec"`
}

type crdVersion struct {
	Name   string `yaml:"name"`
	Schema struct {
		OpenAPIV3Schema map[string]any `yaml:"openAPIV3Schema"`
	} `yaml:"schema"`
}

func loadStrimziSchemas() (map[string]*jsonschema.Schema, error) {
	files, err := schemaFS.ReadDir("schemas/strimzi")
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	// OpenAPI 3.0 schemas are a dialect of JSON Schema draft 4/5; Kubernetes checks
	// patterns with Go's regexp, which is also this library's default engine.
	c.DefaultDraft(jsonschema.Draft4)
	kinds := map[string]string{}
	for _, f := range files {
		if !strings.HasPrefix(f.Name(), "04") {
			continue
		}
		data, err := schemaFS.ReadFile("schemas/strimzi/" + f.Name())
		if err != nil {
			return nil, err
		}
		var d crd
		if err := yaml.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("CRD %s: %w", f.Name(), err)
		}
		i := slices.IndexFunc(d.Spec.Versions, func(v crdVersion) bool { return v.Name == "v1" })
		if i < 0 || d.Spec.Versions[i].Schema.OpenAPIV3Schema == nil {
			return nil, fmt.Errorf("CRD %s has no v1 openAPIV3Schema", f.Name())
		}
		kind := d.Spec.Names.Kind
		root := structural(d.Spec.Versions[i].Schema.OpenAPIV3Schema, true).(map[string]any)
		topLevel(root, d.Spec.Group+"/v1", kind)
		doc, err := jsonDoc(root)
		if err != nil {
			return nil, fmt.Errorf("CRD %s: %w", f.Name(), err)
		}
		url := "strimzi/" + kind + ".json"
		if err := c.AddResource(url, doc); err != nil {
			return nil, fmt.Errorf("CRD %s: %w", f.Name(), err)
		}
		kinds[kind] = url
	}
	out := map[string]*jsonschema.Schema{}
	for kind, url := range kinds {
		sch, err := c.Compile(url)
		if err != nil {
			return nil, fmt.Errorf("schema of %s: %w", kind, err)
		}
		out[kind] = sch
	}
	return out, nil
}

// structural turns a Kubernetes structural schema (OpenAPI v3 with x-kubernetes
// extensions) into a JSON Schema that checks what the API server checks:
//
//   - Unknown fields: the API server drops fields a schema does not declare, and
//     'kubectl apply' (strict field validation, its default) refuses them. So an
//     object node that declares properties, or neither properties nor
//     additionalProperties, gets additionalProperties: false — unless it has
//     x-kubernetes-preserve-unknown-fields (as spec.kafka.config and topic configs
//     do). Only nodes that give the shape (properties, items, additionalProperties)
//     are closed: the branches of oneOf/anyOf/allOf/not are value checks on the
//     same object (Strimzi's "exactly one of secret, configMap ..."), which
//     Kubernetes forbids from declaring shape, so they stay open.
//   - x-kubernetes-int-or-string: an integer or a string (the CRDs spell it out
//     with anyOf as well; a node without anyOf gets one).
//   - nullable: true adds null to the type. Kubernetes drops a null in a
//     non-nullable field before validating; here it is an error, which is stricter
//     and harmless for an exporter that never writes null.
//   - x-kubernetes-validations (CEL rules, four in these CRDs: rack topologyKey,
//     metricsConfig valueFrom, KafkaUser certificate days) cannot be evaluated
//     here and are ignored; the exports use none of those fields.
func structural(node any, shape bool) any {
	switch n := node.(type) {
	case map[string]any:
		out := make(map[string]any, len(n))
		for k, v := range n {
			switch {
			case strings.HasPrefix(k, "x-kubernetes-"), k == "nullable", k == "description":
			case k == "properties" || k == "patternProperties":
				props := map[string]any{}
				if m, ok := v.(map[string]any); ok {
					for name, p := range m {
						props[name] = structural(p, shape)
					}
				}
				out[k] = props
			case k == "items", k == "additionalProperties":
				out[k] = structural(v, shape)
			case k == "oneOf" || k == "anyOf" || k == "allOf" || k == "not":
				out[k] = structural(v, false)
			default:
				out[k] = v
			}
		}
		if n["nullable"] == true {
			if t, ok := out["type"].(string); ok {
				out["type"] = []any{t, "null"}
			}
		}
		if n["x-kubernetes-int-or-string"] == true && out["anyOf"] == nil && out["type"] == nil {
			out["anyOf"] = []any{map[string]any{"type": "integer"}, map[string]any{"type": "string"}}
		}
		_, hasAdditional := n["additionalProperties"]
		if shape && n["type"] == "object" && !hasAdditional && n["x-kubernetes-preserve-unknown-fields"] != true {
			out["additionalProperties"] = false
		}
		return out
	case []any:
		out := make([]any, len(n))
		for i, v := range n {
			out[i] = structural(v, shape)
		}
		return out
	}
	return node
}

// dns1123Subdomain is what Kubernetes requires of an object's name.
const dns1123Subdomain = `^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`

// topLevel pins apiVersion and kind, which a CRD's schema leaves as any string,
// and checks the object metadata the API server checks before any CRD schema: a
// name (a DNS-1123 subdomain), string labels and annotations.
func topLevel(root map[string]any, apiVersion, kind string) {
	props, _ := root["properties"].(map[string]any)
	if props == nil {
		props = map[string]any{}
		root["properties"] = props
	}
	// enum of one rather than const: const is not in draft 4.
	props["apiVersion"] = map[string]any{"enum": []any{apiVersion}}
	props["kind"] = map[string]any{"enum": []any{kind}}
	stringMap := map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
	props["metadata"] = map[string]any{
		"type":     "object",
		"required": []any{"name"},
		"properties": map[string]any{
			"name":        map[string]any{"type": "string", "maxLength": 253, "pattern": dns1123Subdomain},
			"namespace":   map[string]any{"type": "string"},
			"labels":      stringMap,
			"annotations": stringMap,
		},
	}
	required, _ := root["required"].([]any)
	for _, r := range []any{"apiVersion", "kind", "metadata"} {
		if !slices.Contains(required, r) {
			required = append(required, r)
		}
	}
	root["required"] = required
}

func loadComposeSchema() (*jsonschema.Schema, error) {
	data, err := schemaFS.ReadFile("schemas/compose/compose-spec.json")
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("compose schema: %w", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("compose-spec.json", doc); err != nil {
		return nil, fmt.Errorf("compose schema: %w", err)
	}
	sch, err := c.Compile("compose-spec.json")
	if err != nil {
		return nil, fmt.Errorf("compose schema: %w", err)
	}
	return sch, nil
}

// jsonDoc turns a decoded YAML value into the JSON data model the validator works
// on (numbers as json.Number), through a JSON round trip.
func jsonDoc(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return jsonschema.UnmarshalJSON(bytes.NewReader(b))
}

// yamlDocs decodes every document of a YAML stream, skipping empty ones.
func yamlDocs(data []byte) ([]any, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var docs []any
	for i := 1; ; i++ {
		var v any
		err := dec.Decode(&v)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		if v == nil {
			continue
		}
		d, err := jsonDoc(v)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
		docs = append(docs, d)
	}
}

// ValidateStrimzi checks every document of a YAML stream against the Strimzi CRD
// of its kind (Kafka, KafkaNodePool, KafkaTopic or KafkaUser, version v1), and
// returns every problem found, each naming the object and the field.
func ValidateStrimzi(data []byte) error {
	schemas, err := strimziSchemas()
	if err != nil {
		return fmt.Errorf("load Strimzi schemas: %w", err)
	}
	docs, err := yamlDocs(data)
	if err != nil {
		return err
	}
	if len(docs) == 0 {
		return errors.New("no Kubernetes object in the input")
	}
	var problems []error
	for i, d := range docs {
		obj, _ := d.(map[string]any)
		kind, _ := obj["kind"].(string)
		name := "document " + strconv.Itoa(i+1)
		if md, ok := obj["metadata"].(map[string]any); ok {
			if n, ok := md["name"].(string); ok {
				name = n
			}
		}
		sch, ok := schemas[kind]
		if !ok {
			problems = append(problems, fmt.Errorf("%s: kind %q: want one of %s (apiVersion %s)", name, kind, strings.Join(slices.Sorted(maps.Keys(schemas)), ", "), strimziAPIVersion))
			continue
		}
		if err := sch.Validate(d); err != nil {
			problems = append(problems, schemaProblems(kind+" "+name, err)...)
		}
	}
	return errors.Join(problems...)
}

// ValidateCompose checks a compose file against the Compose Specification's
// schema.
func ValidateCompose(data []byte) error {
	sch, err := composeSchema()
	if err != nil {
		return fmt.Errorf("load compose schema: %w", err)
	}
	docs, err := yamlDocs(data)
	if err != nil {
		return err
	}
	if len(docs) != 1 {
		return fmt.Errorf("a compose file is one YAML document, not %d", len(docs))
	}
	if err := sch.Validate(docs[0]); err != nil {
		return errors.Join(schemaProblems("compose file", err)...)
	}
	return nil
}

// schemaProblems flattens a validation error into one error per failed check,
// each as "what: field.path: message".
func schemaProblems(what string, err error) []error {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []error{fmt.Errorf("%s: %w", what, err)}
	}
	var out []error
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			out = append(out, fmt.Errorf("%s: %s: %s", what, fieldPath(e.InstanceLocation), e.ErrorKind.LocalizedString(printer)))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return out
}

// fieldPath writes a JSON pointer's tokens the way the lab spec names fields:
// spec.roles[0]; the root is "(top level)".
func fieldPath(tokens []string) string {
	if len(tokens) == 0 {
		return "(top level)"
	}
	var b strings.Builder
	for i, t := range tokens {
		if _, err := strconv.Atoi(t); err == nil {
			fmt.Fprintf(&b, "[%s]", t)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}
