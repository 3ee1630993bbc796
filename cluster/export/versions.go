package export

// This file owns the Kafka versions the embedded Strimzi release supports, read
// from its kafka-versions.yaml, and the check of an exported version against them.

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/kraftlab/kraftlab/cluster/dist"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// StrimziRelease names the Strimzi release whose CRDs and Kafka versions kraftlab
// embeds.
const StrimziRelease = "1.3.0-SNAPSHOT (commit 8541da1)"

// strimziVersion is one entry of Strimzi's kafka-versions.yaml.
type strimziVersion struct {
	Version   string `yaml:"version"`
	Metadata  string `yaml:"metadata"`
	Supported bool   `yaml:"supported"`
	Default   bool   `yaml:"default"`
}

var strimziVersions = sync.OnceValues(func() ([]strimziVersion, error) {
	data, err := schemaFS.ReadFile("schemas/strimzi/kafka-versions.yaml")
	if err != nil {
		return nil, err
	}
	var all []strimziVersion
	if err := yaml.Unmarshal(data, &all); err != nil {
		return nil, fmt.Errorf("Strimzi kafka-versions.yaml: %w", err)
	}
	return all, nil
})

// SupportedKafkaVersions lists the Kafka versions the embedded Strimzi release
// supports, oldest first.
func SupportedKafkaVersions() ([]string, error) {
	all, err := strimziVersions()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range all {
		if v.Supported {
			out = append(out, v.Version)
		}
	}
	slices.SortFunc(out, dist.CompareVersions)
	return out, nil
}

// strimziKafkaVersion decides the Kafka version of a Strimzi export: the lab's,
// which must be one Strimzi supports, or the one asked for explicitly, which is
// used as asked (a newer operator may support a version this one does not; the
// note says so). It returns the metadata version that goes with it, if known.
func strimziKafkaVersion(labVersion, asked string) (version, metadata string, notes []string, err error) {
	all, err := strimziVersions()
	if err != nil {
		return "", "", nil, err
	}
	supported, err := SupportedKafkaVersions()
	if err != nil {
		return "", "", nil, err
	}
	find := func(v string) (strimziVersion, bool) {
		i := slices.IndexFunc(all, func(e strimziVersion) bool { return e.Version == v })
		if i < 0 {
			return strimziVersion{}, false
		}
		return all[i], true
	}
	if asked != "" {
		if err := dist.ValidateVersion(asked); err != nil {
			return "", "", nil, usage.Errorf("--kafka-version: %v", err)
		}
		e, ok := find(asked)
		if !ok || !e.Supported {
			notes = append(notes, fmt.Sprintf("Kafka %s is not one Strimzi %s supports (%s): the manifest names it as asked, and an operator that does not support it will refuse the Kafka resource", asked, StrimziRelease, strings.Join(supported, ", ")))
		}
		if asked != labVersion && labVersion != "" {
			notes = append(notes, fmt.Sprintf("the lab runs Kafka %s; the manifest asks for %s (--kafka-version)", labVersion, asked))
		}
		return asked, e.Metadata, notes, nil
	}
	if labVersion == "" {
		return "", "", nil, usage.Errorf("the lab's Kafka version is not known (a new lab on a Kafka home): set kafka.version in the spec, or choose the version with --kafka-version (Strimzi %s supports %s)", StrimziRelease, strings.Join(supported, ", "))
	}
	if e, ok := find(labVersion); ok && e.Supported {
		return labVersion, e.Metadata, nil, nil
	}
	near := nearestVersion(labVersion, supported)
	return "", "", nil, usage.Errorf("Kafka %s (the lab's version) is not one Strimzi %s supports (%s); the nearest is %s: export for it with --kafka-version %s", labVersion, StrimziRelease, strings.Join(supported, ", "), near, near)
}

// nearestVersion is the supported version closest to v: the latest patch of v's
// major.minor line if Strimzi supports that line, else the oldest supported
// version above v (upgrading is the way Kafka moves), else the newest.
func nearestVersion(v string, supported []string) string {
	if len(supported) == 0 {
		return ""
	}
	line := func(s string) string { return s[:strings.LastIndex(s, ".")] }
	var sameLine []string
	for _, s := range supported {
		if line(s) == line(v) {
			sameLine = append(sameLine, s)
		}
	}
	if len(sameLine) > 0 {
		return sameLine[len(sameLine)-1]
	}
	for _, s := range supported {
		if dist.CompareVersions(s, v) > 0 {
			return s
		}
	}
	return supported[len(supported)-1]
}
