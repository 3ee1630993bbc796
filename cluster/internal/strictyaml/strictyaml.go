// Package strictyaml decodes YAML into Go structs strictly — an unknown field, a
// wrong type or a malformed document is an error naming file:line:column and the
// field's path — and remembers where each field was written, so that later
// validation errors can point at the same place. It also derives a JSON Schema
// from the same struct tags, so the file format and its schema never drift apart.
//
// Struct tags read: yaml:"name,omitempty" for the field name, doc:"..." for its
// description, enum:"a,b", min:"N", max:"N" and pattern:"re" for its constraints.
package strictyaml

import (
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Pos is a place in a file.
type Pos struct{ Line, Column int }

// Error is one problem at one place.
type Error struct {
	File string
	Pos  Pos
	Path string // the field's path, e.g. nodes.combined or topics[0].name; "" for the document
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Pos.Line, e.Pos.Column)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// maxNodes bounds the YAML nodes one document may expand to, aliases included, so
// a small file of nested aliases cannot make the decoder run out of memory.
const maxNodes = 100000

// Decode fills out (a pointer to a struct) from data and returns where each field
// path was written. All problems found are returned, joined.
func Decode(file string, data []byte, out any) (map[string]Pos, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "the file is empty"}
		}
		return nil, &Error{File: file, Pos: posOf(err), Msg: cleanYAMLError(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{File: file, Pos: Pos{extra.Line, extra.Column}, Msg: "more than one YAML document; a lab file holds one"}
	}
	d := &decoder{file: file, pos: map[string]Pos{}}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	d.value(root, reflect.ValueOf(out).Elem(), "")
	if len(d.errs) > 0 {
		return d.pos, errors.Join(d.errs...)
	}
	return d.pos, nil
}

// posOf digs "line N" out of a yaml.v3 syntax error.
func posOf(err error) Pos {
	msg := err.Error()
	if i := strings.Index(msg, "line "); i >= 0 {
		rest := msg[i+5:]
		end := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' })
		if end < 0 {
			end = len(rest)
		}
		if n, err := strconv.Atoi(rest[:end]); err == nil {
			return Pos{Line: n, Column: 1}
		}
	}
	return Pos{}
}

func cleanYAMLError(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if i := strings.Index(msg, "line "); i >= 0 {
		if j := strings.Index(msg[i:], ": "); j >= 0 {
			msg = msg[:i] + msg[i+j+2:]
		}
	}
	return "not valid YAML: " + strings.TrimSpace(msg)
}

type decoder struct {
	file  string
	pos   map[string]Pos
	errs  []error
	nodes int
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Pos: Pos{n.Line, n.Column}, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// kindName says what a node is, for "want X, got Y" messages.
func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "something else"
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	d.nodes++
	if d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.fail(n, path, "the document expands to more than %d values (aliases?); write it out plainly", maxNodes)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		d.value(n.Alias, v, path)
		return
	}
	if path != "" {
		if _, seen := d.pos[path]; !seen {
			d.pos[path] = Pos{n.Line, n.Column}
		}
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		elem := reflect.New(v.Type().Elem())
		d.value(n, elem.Elem(), path)
		v.Set(elem)
	case reflect.Struct:
		d.structValue(n, v, path)
	case reflect.Map:
		d.mapValue(n, v, path)
	case reflect.Slice:
		d.sliceValue(n, v, path)
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.fail(n, path, "want a single value, got %s", kindName(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			d.fail(n, path, "want a whole number, got %s", kindName(n))
			return
		}
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil || i > math.MaxInt32 || i < math.MinInt32 {
			d.fail(n, path, "%s is out of range", n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.fail(n, path, "want true or false, got %s", kindName(n))
			return
		}
		v.SetBool(n.Value == "true" || n.Value == "True" || n.Value == "TRUE")
	default:
		d.fail(n, path, "cannot hold a value here")
	}
}

// fieldName is a struct field's YAML name, or "" when it has none.
func fieldName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (d *decoder) structValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping of fields, got %s", kindName(n))
		return
	}
	t := v.Type()
	fields := map[string]int{}
	var names []string
	for i := range t.NumField() {
		if name := fieldName(t.Field(i)); name != "" {
			fields[name] = i
			names = append(names, name)
		}
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		name := k.Value
		fp := join(path, name)
		idx, ok := fields[name]
		switch {
		case !ok:
			d.errs = append(d.errs, &Error{File: d.file, Pos: Pos{k.Line, k.Column}, Path: fp, Msg: unknownField(name, names)})
			continue
		case seen[name]:
			d.errs = append(d.errs, &Error{File: d.file, Pos: Pos{k.Line, k.Column}, Path: fp, Msg: "given twice"})
			continue
		}
		seen[name] = true
		d.pos[fp] = Pos{k.Line, k.Column}
		d.value(val, v.Field(idx), fp)
	}
}

// unknownField says a field is unknown, suggesting the closest known names.
func unknownField(name string, known []string) string {
	msg := fmt.Sprintf("unknown field %q", name)
	if close := Closest(name, known, 2); len(close) > 0 {
		return msg + fmt.Sprintf(" (did you mean %s?)", strings.Join(close, " or "))
	}
	sorted := slices.Clone(known)
	sort.Strings(sorted)
	return msg + " (known: " + strings.Join(sorted, ", ") + ")"
}

func (d *decoder) mapValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", kindName(n))
		return
	}
	t := v.Type()
	m := reflect.MakeMap(t)
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.fail(k, path, "want a plain key, got %s", kindName(k))
			continue
		}
		key := reflect.New(t.Key()).Elem()
		var kp string
		switch t.Key().Kind() {
		case reflect.String:
			key.SetString(k.Value)
			kp = fmt.Sprintf("%s[%q]", path, k.Value)
		case reflect.Int:
			id, err := strconv.Atoi(k.Value)
			if err != nil {
				d.fail(k, path, "key %q: want a whole number", k.Value)
				continue
			}
			key.SetInt(int64(id))
			kp = fmt.Sprintf("%s[%d]", path, id)
		default:
			d.fail(k, path, "cannot hold this map")
			continue
		}
		if seen[kp] {
			d.errs = append(d.errs, &Error{File: d.file, Pos: Pos{k.Line, k.Column}, Path: kp, Msg: "given twice"})
			continue
		}
		seen[kp] = true
		d.pos[kp] = Pos{k.Line, k.Column}
		elem := reflect.New(t.Elem()).Elem()
		d.value(val, elem, kp)
		m.SetMapIndex(key, elem)
	}
	v.Set(m)
}

func (d *decoder) sliceValue(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got %s", kindName(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		d.value(e, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

// Closest returns the known names within maxDist edits of name, nearest first.
func Closest(name string, known []string, maxDist int) []string {
	type cand struct {
		s string
		d int
	}
	var cs []cand
	for _, k := range known {
		if d := distance(name, k); d <= maxDist {
			cs = append(cs, cand{k, d})
		}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].d < cs[b].d })
	var out []string
	for _, c := range cs {
		out = append(out, c.s)
	}
	return out
}

// distance is the Damerau-Levenshtein distance (with adjacent transpositions), so
// a swapped pair of letters counts as one typo.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
