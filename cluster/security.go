package cluster

// This file owns a lab's security in its spec: the presets (TLS, mTLS, SASL/SCRAM
// and SASL/PLAIN), users and ACLs, their defaults and validation.

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Security presets.
const (
	SecurityPlaintext = "plaintext"
	SecurityTLS       = "tls"        // server-side TLS: clients verify the brokers
	SecurityMTLS      = "mtls"       // clients authenticate with certificates
	SecuritySCRAM     = "sasl-scram" // SCRAM-SHA-512 users, over TLS unless TLS is false
	SecurityPlain     = "sasl-plain" // PLAIN users, over TLS unless TLS is false
)

// SecurityPresets lists the presets.
var SecurityPresets = []string{SecurityPlaintext, SecurityTLS, SecurityMTLS, SecuritySCRAM, SecurityPlain}

// SecuritySpec secures a lab. Every listener is secured: clients', between brokers
// (which clients share) and the controllers' (mTLS when TLS is on, SASL/PLAIN
// without: SCRAM cannot work there, KAFKA-15513). The nodes' own principal and the
// admin user are super users.
type SecuritySpec struct {
	Preset string `yaml:"preset" json:"preset" enum:"plaintext,tls,mtls,sasl-scram,sasl-plain" doc:"plaintext, tls (server TLS), mtls (client certificates), sasl-scram or sasl-plain."`
	// TLS is false for SASL without TLS (SASL_PLAINTEXT); SASL runs over TLS
	// (SASL_SSL) by default.
	TLS *bool `yaml:"tls,omitempty" json:"tls,omitempty" doc:"sasl-* presets: false runs SASL without TLS (SASL_PLAINTEXT); default true (SASL_SSL)."`
	// Authorization turns on StandardAuthorizer with allow.everyone.if.no.acl.found
	// false: what no ACL allows is denied (--acls).
	Authorization bool `yaml:"authorization,omitempty" json:"authorization,omitempty" doc:"ACLs: StandardAuthorizer, and what no ACL allows is denied (--acls)."`
	// Users are the lab's users besides admin: SASL users, or mTLS clients with a
	// certificate. Their passwords live in the lab directory, never in the spec.
	Users []UserSpec `yaml:"users,omitempty" json:"users,omitempty" doc:"Users besides admin (SASL users or certificate clients); passwords live in the lab directory."`
	// ACLs are created, if missing, once the lab is ready.
	ACLs []ACLSpec `yaml:"acls,omitempty" json:"acls,omitempty" doc:"ACLs, created once the lab is ready."`
}

// UserSpec is one user of a secured lab.
type UserSpec struct {
	Name string `yaml:"name" json:"name" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" doc:"The user name; the principal is User:NAME."`
}

// ACLSpec is one ACL: a principal allowed (or denied) operations on a resource.
type ACLSpec struct {
	Principal  string   `yaml:"principal" json:"principal" pattern:"^User:.+$" doc:"User:NAME."`
	Permission string   `yaml:"permission,omitempty" json:"permission,omitempty" enum:"allow,deny" doc:"allow (default) or deny."`
	Operations []string `yaml:"operations" json:"operations" doc:"read, write, create, delete, alter, describe, describe-configs, alter-configs, idempotent-write, cluster-action or all."`
	// Resource is topic, group, cluster or transactional-id.
	Resource string `yaml:"resource" json:"resource" enum:"topic,group,cluster,transactional-id" doc:"topic, group, cluster or transactional-id."`
	Name     string `yaml:"name,omitempty" json:"name,omitempty" doc:"The resource's name (not for cluster)."`
	// Pattern is literal (the default) or prefixed.
	Pattern string `yaml:"pattern,omitempty" json:"pattern,omitempty" enum:"literal,prefixed" doc:"literal (default) or prefixed."`
	Host    string `yaml:"host,omitempty" json:"host,omitempty" doc:"The client host the ACL applies to (default * , every host)."`
}

// ACLOperations are the operations an ACL may name.
var ACLOperations = []string{"all", "read", "write", "create", "delete", "alter", "describe", "describe-configs", "alter-configs", "idempotent-write", "cluster-action"}

// ACLResources are the resource types an ACL may name.
var ACLResources = []string{"topic", "group", "cluster", "transactional-id"}

// AdminUser is the user every secured lab has: a super user, whom kraftlab's own
// commands act as by default.
const AdminUser = "admin"

// NodePrincipal is the name every node authenticates as, whatever its id: one
// super user however the lab grows (certificates CN=node<ID> map to it).
const NodePrincipal = "kraftlab-node"

var userNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// preset is the spec's preset, plaintext when there is none.
func (s *SecuritySpec) preset() string {
	if s == nil || s.Preset == "" {
		return SecurityPlaintext
	}
	return s.Preset
}

// Secured reports whether the lab has any security.
func (s *SecuritySpec) Secured() bool { return s.preset() != SecurityPlaintext }

// UsesTLS reports whether the lab's listeners speak TLS.
func (s *SecuritySpec) UsesTLS() bool {
	switch s.preset() {
	case SecurityTLS, SecurityMTLS:
		return true
	case SecuritySCRAM, SecurityPlain:
		return s.TLS == nil || *s.TLS
	}
	return false
}

// SASL is the SASL mechanism clients use, or "" for none.
func (s *SecuritySpec) SASL() string {
	switch s.preset() {
	case SecuritySCRAM:
		return "SCRAM-SHA-512"
	case SecurityPlain:
		return "PLAIN"
	}
	return ""
}

// ClientCertificates reports whether clients authenticate with certificates.
func (s *SecuritySpec) ClientCertificates() bool { return s.preset() == SecurityMTLS }

// HasUser reports whether name is a user of the lab (admin always is).
func (s *SecuritySpec) HasUser(name string) bool {
	if name == AdminUser {
		return true
	}
	return s != nil && slices.ContainsFunc(s.Users, func(u UserSpec) bool { return u.Name == name })
}

func (s *SecuritySpec) validate() []*FieldError {
	if s == nil {
		return nil
	}
	var errs []*FieldError
	add := func(path, value, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path, Value: value, Msg: fmt.Sprintf(format, args...)})
	}
	if !slices.Contains(SecurityPresets, s.preset()) {
		add("security.preset", strconv.Quote(s.Preset), "want one of %s", strings.Join(SecurityPresets, ", "))
		return errs
	}
	if s.TLS != nil && s.SASL() == "" {
		add("security.tls", "", "only the sasl-* presets run with or without TLS; %s decides it itself", s.preset())
	}
	if s.Authorization && s.SASL() == "" && !s.ClientCertificates() {
		add("security.authorization", "", "ACLs need clients that authenticate, but with the %s preset every client is User:ANONYMOUS; choose mtls, sasl-scram or sasl-plain", s.preset())
	}
	if !s.Secured() && (len(s.Users) > 0 || len(s.ACLs) > 0) {
		add("security", "", "users and ACLs need a secured lab (a preset other than plaintext)")
	}
	seen := map[string]bool{}
	for i, u := range s.Users {
		path := fmt.Sprintf("security.users[%d].name", i)
		switch {
		case !userNameRE.MatchString(u.Name):
			add(path, strconv.Quote(u.Name), "want 1-64 characters of letters, digits, '.', '_' and '-'")
		case u.Name == AdminUser || u.Name == NodePrincipal || strings.HasPrefix(u.Name, "node") && isDigits(u.Name[4:]):
			add(path, strconv.Quote(u.Name), "is kraftlab's own (admin and the nodes); choose another name")
		case seen[u.Name]:
			add(path, strconv.Quote(u.Name), "appears twice")
		}
		seen[u.Name] = true
	}
	for i, a := range s.ACLs {
		errs = append(errs, a.validate(fmt.Sprintf("security.acls[%d]", i), s.Authorization)...)
	}
	return errs
}

func isDigits(s string) bool {
	_, err := strconv.Atoi(s)
	return s != "" && err == nil
}

func (a ACLSpec) validate(path string, authorization bool) []*FieldError {
	var errs []*FieldError
	add := func(field, value, format string, args ...any) {
		errs = append(errs, &FieldError{Path: path + field, Value: value, Msg: fmt.Sprintf(format, args...)})
	}
	if !authorization {
		add("", "", "ACLs are only enforced with authorization on (--acls, spec: security.authorization)")
	}
	name, ok := strings.CutPrefix(a.Principal, "User:")
	if !ok || !userNameRE.MatchString(name) {
		add(".principal", strconv.Quote(a.Principal), "want User:NAME, e.g. User:alice")
	}
	if a.Permission != "" && a.Permission != "allow" && a.Permission != "deny" {
		add(".permission", strconv.Quote(a.Permission), "want allow or deny")
	}
	if len(a.Operations) == 0 {
		add(".operations", "", "name at least one of %s", strings.Join(ACLOperations, ", "))
	}
	for j, op := range a.Operations {
		if !slices.Contains(ACLOperations, op) {
			add(fmt.Sprintf(".operations[%d]", j), strconv.Quote(op), "want one of %s", strings.Join(ACLOperations, ", "))
		}
	}
	switch {
	case !slices.Contains(ACLResources, a.Resource):
		add(".resource", strconv.Quote(a.Resource), "want one of %s", strings.Join(ACLResources, ", "))
	case a.Resource == "cluster" && a.Name != "" && a.Name != "kafka-cluster":
		add(".name", strconv.Quote(a.Name), "the cluster resource has no name")
	case a.Resource != "cluster" && a.Name == "":
		add(".name", "", "a %s ACL names its %s", a.Resource, a.Resource)
	}
	if a.Pattern != "" && a.Pattern != "literal" && a.Pattern != "prefixed" {
		add(".pattern", strconv.Quote(a.Pattern), "want literal or prefixed")
	}
	return errs
}
