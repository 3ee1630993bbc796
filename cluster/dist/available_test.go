package dist

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAvailable(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/maven2/org/apache/kafka/kafka_2.13/maven-metadata.xml":
			w.Write([]byte(`<metadata><versioning><versions><version>2.8.0</version><version>3.8.1</version><version>3.9.1</version><version>4.0.0</version><version>4.1.1</version><version>4.2.0-rc1</version><version>4.4.0</version></versions></versioning></metadata>`))
		case "/kafka/":
			w.Write([]byte(`<a href="3.9.1/">3.9.1/</a> <a href="4.1.1/">4.1.1/</a> <a href="KEYS">KEYS</a> <a href="0.8.0/">`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	got, err := Available(t.Context(), Options{Source: SourceMaven, MavenRepo: srv.URL + "/maven2"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, " ") != "4.4.0 4.1.1 4.0.0 3.9.1" {
		t.Errorf("maven: %v, want the KRaft releases newest first", got)
	}
	got, err = Available(t.Context(), Options{Source: SourceApache, ApacheMirrors: []string{srv.URL + "/kafka"}})
	if err != nil || strings.Join(got, " ") != "4.1.1 3.9.1" {
		t.Errorf("apache: %v, %v", got, err)
	}
	if _, err := Available(t.Context(), Options{Source: SourceMaven, MavenRepo: srv.URL + "/nothing"}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a repository without the metadata: %v", err)
	}
}
