// Package templates holds the files kraftlab renders into a lab: each node's
// server.properties and the broker logging configuration. They are embedded so the
// binary is self-contained.
package templates

import "embed"

// FS holds every template, read by name (e.g. "server.properties.tmpl").
//
//go:embed *.tmpl
var FS embed.FS
