package cluster

import (
	"fmt"
	"strings"
	"testing"
)

func TestSecurityValidate(t *testing.T) {
	no := false
	tests := []struct {
		name string
		sec  *SecuritySpec
		want []string
	}{
		{name: "plaintext"},
		{name: "scram with ACLs", sec: &SecuritySpec{Preset: SecuritySCRAM, Authorization: true, Users: []UserSpec{{Name: "alice"}},
			ACLs: []ACLSpec{{Principal: "User:alice", Operations: []string{"read"}, Resource: "topic", Name: "orders"}}}},
		{name: "mtls with ACLs", sec: &SecuritySpec{Preset: SecurityMTLS, Authorization: true}},
		{name: "scram without TLS", sec: &SecuritySpec{Preset: SecuritySCRAM, TLS: &no}},
		{name: "unknown preset", sec: &SecuritySpec{Preset: "kerberos"}, want: []string{`security.preset "kerberos": want one of plaintext, tls, mtls, sasl-scram, sasl-plain`}},
		{name: "ACLs without authentication", sec: &SecuritySpec{Preset: SecurityTLS, Authorization: true}, want: []string{"security.authorization: ACLs need clients that authenticate"}},
		{name: "ACLs on plaintext", sec: &SecuritySpec{Preset: SecurityPlaintext, Authorization: true}, want: []string{"every client is User:ANONYMOUS"}},
		{name: "TLS choice on mtls", sec: &SecuritySpec{Preset: SecurityMTLS, TLS: &no}, want: []string{"security.tls: only the sasl-* presets"}},
		{name: "users on plaintext", sec: &SecuritySpec{Users: []UserSpec{{Name: "alice"}}}, want: []string{"users and ACLs need a secured lab"}},
		{name: "reserved and duplicate users", sec: &SecuritySpec{Preset: SecuritySCRAM, Users: []UserSpec{{Name: "admin"}, {Name: "node3"}, {Name: "bob"}, {Name: "bob"}, {Name: "a b"}}},
			want: []string{`users[0].name "admin": is kraftlab's own`, `users[1].name "node3"`, `users[3].name "bob": appears twice`, `users[4].name "a b"`}},
		{name: "malformed ACLs", sec: &SecuritySpec{Preset: SecuritySCRAM, Authorization: true, ACLs: []ACLSpec{
			{Principal: "alice", Operations: []string{"read"}, Resource: "topic", Name: "t"},
			{Principal: "User:alice", Operations: []string{"fly"}, Resource: "topic", Name: "t"},
			{Principal: "User:alice", Operations: []string{"read"}, Resource: "table", Name: "t"},
			{Principal: "User:alice", Operations: []string{"read"}, Resource: "topic"},
			{Principal: "User:alice", Operations: []string{"read"}, Resource: "topic", Name: "t", Pattern: "glob", Permission: "maybe"},
		}}, want: []string{`acls[0].principal "alice": want User:NAME`, `acls[1].operations[0] "fly"`, `acls[2].resource "table"`, "acls[3].name: a topic ACL names its topic", `acls[4].pattern "glob"`, `acls[4].permission "maybe"`}},
		{name: "ACLs without authorization", sec: &SecuritySpec{Preset: SecuritySCRAM, ACLs: []ACLSpec{{Principal: "User:a", Operations: []string{"read"}, Resource: "cluster"}}},
			want: []string{"only enforced with authorization on"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fmt.Sprint(tt.sec.validate())
			if len(tt.want) == 0 && got != "[]" {
				t.Fatalf("want valid, got %s", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("%s does not mention %q", got, w)
				}
			}
		})
	}
}

// A secured lab renders every listener secured, and what no preset needs stays out.
func TestRenderSecurity(t *testing.T) {
	no := false
	tests := []struct {
		name       string
		sec        *SecuritySpec
		node       int
		want       map[string]string
		wantAbsent []string
	}{
		{name: "scram over TLS, controllers on mTLS", sec: &SecuritySpec{Preset: SecuritySCRAM, Authorization: true}, node: 2,
			want: map[string]string{
				"listeners":                                    "CLIENT://127.0.0.1:9093,CONTROLLER://127.0.0.1:19093",
				"advertised.listeners":                         "CLIENT://127.0.0.1:9093",
				"inter.broker.listener.name":                   "CLIENT",
				"listener.security.protocol.map":               "CONTROLLER:SSL,CLIENT:SASL_SSL",
				"ssl.keystore.type":                            "PEM",
				"ssl.keystore.location":                        "/l/pki/node2-keystore.pem",
				"ssl.truststore.location":                      "/l/pki/ca.crt",
				"ssl.principal.mapping.rules":                  "RULE:^CN=node[0-9]+$/kraftlab-node/,RULE:^CN=([^,]+)$/$1/,DEFAULT",
				"listener.name.controller.ssl.client.auth":     "required",
				"listener.name.client.ssl.client.auth":         "none",
				"listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512",
				"sasl.mechanism.inter.broker.protocol":         "SCRAM-SHA-512",
				"authorizer.class.name":                        "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
				"allow.everyone.if.no.acl.found":               "false",
				"super.users":                                  "User:kraftlab-node;User:admin",
			},
			wantAbsent: []string{"sasl.mechanism.controller.protocol"}},
		{name: "scram without TLS: controllers on PLAIN", sec: &SecuritySpec{Preset: SecuritySCRAM, TLS: &no}, node: 1,
			want: map[string]string{
				"listener.security.protocol.map":                   "CONTROLLER:SASL_PLAINTEXT,CLIENT:SASL_PLAINTEXT",
				"sasl.mechanism.controller.protocol":               "PLAIN",
				"listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
			},
			wantAbsent: []string{"ssl.keystore.location", "authorizer.class.name", "listener.name.client.ssl.client.auth"}},
		{name: "mtls requires client certificates", sec: &SecuritySpec{Preset: SecurityMTLS}, node: 1,
			want:       map[string]string{"listener.security.protocol.map": "CONTROLLER:SSL,CLIENT:SSL", "listener.name.client.ssl.client.auth": "required"},
			wantAbsent: []string{"sasl.mechanism.inter.broker.protocol"}},
		{name: "an isolated controller has no client listener settings", sec: &SecuritySpec{Preset: SecuritySCRAM}, node: 1,
			want:       map[string]string{"listeners": "CONTROLLER://127.0.0.1:19092", "listener.name.controller.ssl.client.auth": "required"},
			wantAbsent: []string{"listener.name.client.sasl.enabled.mechanisms", "sasl.mechanism.inter.broker.protocol"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := Spec{Security: tt.sec}
			if strings.HasPrefix(tt.name, "an isolated") {
				spec.Nodes = NodesSpec{Controllers: 1, Brokers: 1}
			}
			l := plannedLab(t, spec, "/l")
			rl, err := l.renderLab()
			if err != nil {
				t.Fatal(err)
			}
			b, err := renderNode(rl, tt.node)
			if err != nil {
				t.Fatal(err)
			}
			got := parseProps(t, b)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q", k, got[k], v)
				}
			}
			for _, k := range tt.wantAbsent {
				if _, ok := got[k]; ok {
					t.Errorf("%s is set, want it absent", k)
				}
			}
			for k, v := range got {
				if strings.Contains(k, "jaas") && !strings.Contains(v, `username="kraftlab-node"`) {
					t.Errorf("%s = %q: the node does not authenticate as kraftlab-node", k, v)
				}
			}
		})
	}
}
