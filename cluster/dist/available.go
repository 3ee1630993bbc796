package dist

// This file owns what a source offers: the Kafka releases kraftlab can install
// from Maven Central (its maven-metadata.xml) or from an Apache mirror (the
// directory listing), newest first.

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// DefaultMavenRepo is Maven Central, where mvn fetches from unless its settings
// name a mirror.
const DefaultMavenRepo = "https://repo.maven.apache.org/maven2"

// Available lists the Kafka releases (3.9 and later: KRaft with what kraftlab
// uses) that the source offers, newest first. Options.MavenRepo or ApacheMirrors
// say where to look.
func Available(ctx context.Context, o Options) ([]string, error) {
	client := newHTTPClient()
	var versions []string
	var err error
	switch o.Source {
	case SourceApache:
		mirrors := o.ApacheMirrors
		if len(mirrors) == 0 {
			mirrors = DefaultApacheMirrors
		}
		versions, err = apacheListing(ctx, client, mirrors[len(mirrors)-1])
	case "", SourceAuto, SourceMaven:
		repo := o.MavenRepo
		if repo == "" {
			repo = DefaultMavenRepo
		}
		versions, err = mavenVersions(ctx, client, repo)
	default:
		return nil, fmt.Errorf("unknown runtime source %q: want %s or %s", o.Source, SourceMaven, SourceApache)
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, v := range versions {
		if ValidateVersion(v) == nil && CompareVersions(v, "3.9.0") >= 0 && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return CompareVersions(b, a) })
	return out, nil
}

func get(ctx context.Context, client *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &reasonError{msg: "cannot reach " + url, kind: ErrUnreachable, cause: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &reasonError{msg: fmt.Sprintf("%s answered %s", url, resp.Status), kind: ErrUnreachable}
	}
	return io.ReadAll(io.LimitReader(resp.Body, 8<<20))
}

// mavenVersions reads kafka_2.13's versions from the repository's metadata.
func mavenVersions(ctx context.Context, client *http.Client, repo string) ([]string, error) {
	b, err := get(ctx, client, strings.TrimRight(repo, "/")+"/org/apache/kafka/kafka_2.13/maven-metadata.xml")
	if err != nil {
		return nil, err
	}
	var md struct {
		Versions []string `xml:"versioning>versions>version"`
	}
	if err := xml.Unmarshal(b, &md); err != nil {
		return nil, fmt.Errorf("read Maven metadata of kafka_2.13: %w", err)
	}
	return md.Versions, nil
}

var apacheDirRE = regexp.MustCompile(`href="([0-9]+\.[0-9]+\.[0-9]+)/"`)

// apacheListing reads the release directories of an Apache mirror's kafka/ index.
func apacheListing(ctx context.Context, client *http.Client, mirror string) ([]string, error) {
	b, err := get(ctx, client, strings.TrimRight(mirror, "/")+"/")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range apacheDirRE.FindAllSubmatch(b, -1) {
		out = append(out, string(m[1]))
	}
	return out, nil
}
