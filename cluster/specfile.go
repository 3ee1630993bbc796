package cluster

// This file owns the lab spec's YAML form: strict parsing that names
// file:line:column and the field of every problem, writing a spec back out, its
// JSON Schema, and turning validation problems into messages that point at where
// the value came from — a line of the file, or the flag that set it.

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kraftlab/kraftlab/cluster/internal/strictyaml"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// SpecSource remembers where the fields of a spec came from — the lines of a file,
// the flags that overrode them — so that a problem found later is reported where
// the user can fix it. The zero value knows nothing and reports field paths.
type SpecSource struct {
	File  string
	pos   map[string]strictyaml.Pos
	flags map[string]string // field path prefix -> the flag that set it
	// problems are ones found while filling the spec (a malformed --set), reported
	// with the spec's own.
	problems []error
}

// AddProblem records a problem found while filling the spec in, to be reported
// together with whatever validation finds.
func (src *SpecSource) AddProblem(err error) { src.problems = append(src.problems, err) }

// SetByFlag records that flag set the field at path (and everything under it).
func (src *SpecSource) SetByFlag(path, flag string) {
	if src.flags == nil {
		src.flags = map[string]string{}
	}
	src.flags[path] = flag
}

// ReadSpecFile reads and strictly parses a lab spec file.
func ReadSpecFile(file string) (Spec, *SpecSource, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return Spec{}, nil, usage.Errorf("-f %s: %v", file, err)
	}
	return ParseSpec(file, data)
}

// ParseSpec strictly parses a lab spec: an unknown field, a wrong type or a
// malformed document is a usage error naming file:line:column and the field.
func ParseSpec(file string, data []byte) (Spec, *SpecSource, error) {
	var s Spec
	pos, err := strictyaml.Decode(file, data, &s)
	if err != nil {
		return Spec{}, nil, usage.Errors(splitJoined(err))
	}
	return s, &SpecSource{File: file, pos: pos}, nil
}

func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// explain turns validation problems into one usage error, each problem located.
func (src *SpecSource) explain(errs []*FieldError) error {
	var out []error
	if src != nil {
		for _, p := range src.problems {
			var ue *usage.Error
			if errors.As(p, &ue) {
				out = append(out, ue.Problems...)
			} else {
				out = append(out, p)
			}
		}
	}
	if len(errs) == 0 && len(out) == 0 {
		return nil
	}
	for _, e := range errs {
		out = append(out, src.locate(e))
	}
	return usage.Errors(out)
}

func (src *SpecSource) locate(e *FieldError) error {
	if src == nil {
		return e
	}
	if flag := src.flagFor(e.Path); flag != "" {
		if e.Value == "" {
			return fmt.Errorf("%s: %s", flag, e.Msg)
		}
		return fmt.Errorf("%s %s: %s", flag, e.Value, e.Msg)
	}
	if src.File == "" {
		return e
	}
	// The field itself, else the nearest enclosing field that was written.
	for path := e.Path; path != ""; path = parentPath(path) {
		if p, ok := src.pos[path]; ok {
			return &strictyaml.Error{File: src.File, Pos: p, Path: e.Path, Msg: valueMsg(e)}
		}
	}
	return &strictyaml.Error{File: src.File, Path: e.Path, Msg: valueMsg(e) + " (the default; set it in the file)"}
}

func valueMsg(e *FieldError) string {
	if e.Value == "" {
		return e.Msg
	}
	return e.Value + ": " + e.Msg
}

func (src *SpecSource) flagFor(path string) string {
	for p := path; p != ""; p = parentPath(p) {
		if f, ok := src.flags[p]; ok {
			return f
		}
	}
	return ""
}

// parentPath strips the last element of a field path: a.b[3] -> a.b -> a -> "".
func parentPath(path string) string {
	if i := strings.LastIndexAny(path, ".["); i > 0 {
		return path[:i]
	}
	return ""
}

// YAML is the spec in its file form, as 'kraftlab spec' prints it and the lab
// directory keeps it.
func (s Spec) YAML() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString("# A kraftlab lab: 'kraftlab up -f FILE' makes it. Its schema: 'kraftlab spec --schema'.\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode spec: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode spec: %w", err)
	}
	return buf.Bytes(), nil
}

// SpecSchema is the JSON Schema of the lab spec file, for editor completion.
func SpecSchema() ([]byte, error) {
	return strictyaml.Schema(reflect.TypeOf(Spec{}), "kraftlab lab spec")
}

// differences lists the fields the request sets (non-zero) whose values differ
// from the lab's, as "field: the lab has X, asked Y".
func (s Spec) differences(lab Spec) []string {
	var out []string
	diff := func(field string, asked, have any) {
		if !reflect.ValueOf(asked).IsZero() && !reflect.DeepEqual(asked, have) {
			out = append(out, fmt.Sprintf("%s: the lab has %v, asked %v", field, show(have), show(asked)))
		}
	}
	diff("kafka.version", s.Kafka.Version, lab.Kafka.Version)
	diff("kafka.home", s.Kafka.Home, lab.Kafka.Home)
	diff("quorum", s.Quorum, lab.Quorum)
	diff("nodes.combined", s.Nodes.Combined, lab.Nodes.Combined)
	diff("nodes.controllers", s.Nodes.Controllers, lab.Nodes.Controllers)
	diff("nodes.brokers", s.Nodes.Brokers, lab.Nodes.Brokers)
	diff("nodes.list", s.Nodes.List, lab.Nodes.List)
	diff("ports.broker", s.Ports.Broker, lab.Ports.Broker)
	diff("ports.controller", s.Ports.Controller, lab.Ports.Controller)
	diff("ports.auto", s.Ports.Auto, lab.Ports.Auto)
	diff("bind", s.Bind, lab.Bind)
	diff("profile", s.Profile, lab.Profile)
	diff("heap", s.Heap, lab.Heap)
	diff("pluginProperties", s.PluginProperties, lab.PluginProperties)
	if s.Security != nil {
		have := lab.Security
		if have == nil {
			have = &SecuritySpec{}
		}
		diff("security.preset", s.Security.Preset, have.Preset)
		diff("security.tls", s.Security.TLS, have.TLS)
		diff("security.authorization", s.Security.Authorization, have.Authorization)
	}
	for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
		if have, ok := lab.Properties[k]; !ok || have != s.Properties[k] {
			out = append(out, fmt.Sprintf("properties[%q]: the lab has %s, asked %q", k, showProp(have, ok), s.Properties[k]))
		}
	}
	for _, id := range sortedKeys(s.NodeProperties) {
		for _, k := range slices.Sorted(maps.Keys(s.NodeProperties[id])) {
			have, ok := lab.NodeProperties[id][k]
			if !ok || have != s.NodeProperties[id][k] {
				out = append(out, fmt.Sprintf("nodeProperties[%d][%q]: the lab has %s, asked %q", id, k, showProp(have, ok), s.NodeProperties[id][k]))
			}
		}
	}
	return out
}

func show(v any) string {
	if reflect.ValueOf(v).IsZero() {
		return "none"
	}
	return fmt.Sprint(v)
}

func showProp(v string, ok bool) string {
	if !ok {
		return "it unset"
	}
	return fmt.Sprintf("%q", v)
}

// errSpecDiffers is the error of a request that does not match the lab it names.
var errSpecDiffers = errors.New("the lab already exists with other settings")
