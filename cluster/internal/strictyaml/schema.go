package strictyaml

// This file derives a JSON Schema (draft 2020-12) from the struct a file decodes
// into, for editors (yaml-language-server) to complete and check lab files.

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
)

// Schema returns the JSON Schema of the YAML form of t (a struct type).
func Schema(t reflect.Type, title string) ([]byte, error) {
	s := schemaOf(t, reflect.StructField{})
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["title"] = title
	return json.MarshalIndent(s, "", "  ")
}

func schemaOf(t reflect.Type, f reflect.StructField) map[string]any {
	s := map[string]any{}
	if doc := f.Tag.Get("doc"); doc != "" {
		s["description"] = doc
	}
	switch t.Kind() {
	case reflect.Pointer:
		return schemaOf(t.Elem(), f)
	case reflect.Struct:
		s["type"] = "object"
		s["additionalProperties"] = false
		props := map[string]any{}
		var required []string
		for i := range t.NumField() {
			sf := t.Field(i)
			name := fieldName(sf)
			if name == "" {
				continue
			}
			props[name] = schemaOf(sf.Type, sf)
			if !strings.Contains(sf.Tag.Get("yaml"), "omitempty") {
				required = append(required, name)
			}
		}
		s["properties"] = props
		if len(required) > 0 {
			s["required"] = required
		}
	case reflect.Map:
		s["type"] = "object"
		elem := schemaOf(t.Elem(), reflect.StructField{})
		if t.Elem().Kind() == reflect.String {
			// Values are written as they would be in server.properties; YAML's own
			// numbers and booleans are taken as their text.
			elem = map[string]any{"type": []string{"string", "number", "boolean"}}
		}
		if t.Key().Kind() == reflect.Int {
			s["patternProperties"] = map[string]any{"^[0-9]+$": elem}
			s["additionalProperties"] = false
		} else {
			s["additionalProperties"] = elem
		}
	case reflect.Slice:
		s["type"] = "array"
		s["items"] = schemaOf(t.Elem(), reflect.StructField{})
	case reflect.String:
		s["type"] = "string"
		if enum := f.Tag.Get("enum"); enum != "" {
			s["enum"] = strings.Split(enum, ",")
		}
		if p := f.Tag.Get("pattern"); p != "" {
			s["pattern"] = p
		}
	case reflect.Int:
		s["type"] = "integer"
		for _, k := range []string{"min", "max"} {
			if v, err := strconv.Atoi(f.Tag.Get(k)); err == nil {
				s[map[string]string{"min": "minimum", "max": "maximum"}[k]] = v
			}
		}
	case reflect.Bool:
		s["type"] = "boolean"
	}
	return s
}
