package cluster

// This file owns a secured lab's users and ACLs at run time: adding and deleting
// users (SCRAM credentials through AlterUserScramCredentials, PLAIN users through
// every broker's JAAS list, mTLS users as client certificates), ACLs through
// CreateAcls, DescribeAcls and DeleteAcls, and the client configuration a user
// connects with. Each change is kept in the lab's spec too, so 'kraftlab spec'
// and the exporters carry it.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kraftlab/kraftlab/cluster/internal/pki"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// UserResult is a user after 'user add'.
type UserResult struct {
	Name string `json:"name"`
	// Password is set when kraftlab generated it: printed once, kept 0600 in the lab.
	Password  string   `json:"password,omitempty"`
	Restarted []int    `json:"restarted,omitempty"` // PLAIN: nodes restarted to take the new user list
	Cert      string   `json:"certificate,omitempty"`
	Timings   []Timing `json:"timings,omitempty"`
}

// requireSecured is nil for a lab with users.
func (l *Lab) requireUsers(what string) error {
	sec := l.spec.Security
	switch {
	case !sec.Secured():
		return usage.Errorf("lab %q is not secured, so it has no %s; create one with 'kraftlab up --security sasl-scram' (or mtls, sasl-plain)", l.Name(), what)
	case sec.SASL() == "" && !sec.ClientCertificates():
		return usage.Errorf("lab %q uses the %s preset, where clients do not authenticate, so it has no %s", l.Name(), sec.preset(), what)
	}
	return nil
}

// AddUser adds a user: with password, or a generated one when password is "".
// SCRAM users are created in the cluster at once; PLAIN users live in every
// broker's JAAS configuration, so the brokers are restarted one by one, each back
// in sync before the next; on an mTLS lab a user is a client certificate (see
// IssueCert).
func (l *Lab) AddUser(ctx context.Context, name, password string) (*UserResult, error) {
	if err := l.requireExists(); err != nil {
		return nil, err
	}
	if err := l.requireUsers("users"); err != nil {
		return nil, err
	}
	if l.spec.Security.ClientCertificates() {
		return nil, usage.Errorf("the users of an mTLS lab are client certificates: 'kraftlab cert issue %s --name %s'", name, l.Name())
	}
	if err := validateNewUser(l.spec.Security, name); err != nil {
		return nil, err
	}
	res := &UserResult{Name: name}
	if password == "" {
		p, err := newPassword()
		if err != nil {
			return nil, err
		}
		password, res.Password = p, p
	} else if err := validPassword(password); err != nil {
		return nil, usage.Errorf("password of %s: %v", name, err)
	}
	op, err := l.beginRunning()
	if err != nil {
		return nil, err
	}
	defer op.end()
	pw, err := op.passwords()
	if err != nil {
		return nil, err
	}
	if op.spec.Security.SASL() == "SCRAM-SHA-512" {
		err = op.steps.Run(fmt.Sprintf("Creating SCRAM user %s (AlterUserScramCredentials)", name), func() error {
			return op.alterSCRAM(ctx, kadm.UpsertSCRAM{User: name, Mechanism: kadm.ScramSha512, Iterations: 4096, Password: password}, nil)
		})
		if err != nil {
			return nil, err
		}
	}
	pw[name] = password
	op.spec.Security.Users = append(op.spec.Security.Users, UserSpec{Name: name})
	if err := errors.Join(op.savePasswords(pw), op.saveSpec()); err != nil {
		return nil, err
	}
	if op.spec.Security.SASL() == "PLAIN" {
		if res.Restarted, err = op.restartBrokersForUsers(ctx); err != nil {
			return nil, err
		}
	}
	res.Timings = op.steps.Timings
	return res, nil
}

func validateNewUser(sec *SecuritySpec, name string) error {
	if sec.HasUser(name) {
		return usage.Errorf("user %q exists already", name)
	}
	probe := *sec
	probe.Users = append(slices.Clone(sec.Users), UserSpec{Name: name})
	for _, e := range probe.validate() {
		if strings.HasPrefix(e.Path, "security.users[") {
			return usage.Errorf("user %q: %s", name, e.Msg)
		}
	}
	return nil
}

// DeleteUser removes a user (not admin): its SCRAM credential, its PLAIN entry
// (brokers restarted) or its certificate files. ACLs naming it stay, and say so.
func (l *Lab) DeleteUser(ctx context.Context, name string) (*UserResult, error) {
	if err := l.requireExists(); err != nil {
		return nil, err
	}
	if err := l.requireUsers("users"); err != nil {
		return nil, err
	}
	switch {
	case name == AdminUser:
		return nil, usage.Errorf("admin is the lab's own super user, whom kraftlab's commands act as; it cannot be deleted")
	case !l.spec.Security.HasUser(name):
		return nil, usage.Errorf("lab %q has no user %q (users: %s)", l.Name(), name, strings.Join(l.userNames(), ", "))
	}
	op, err := l.beginRunning()
	if err != nil {
		return nil, err
	}
	defer op.end()
	res := &UserResult{Name: name}
	switch op.spec.Security.SASL() {
	case "SCRAM-SHA-512":
		err = op.steps.Run(fmt.Sprintf("Deleting SCRAM user %s", name), func() error {
			return op.alterSCRAM(ctx, kadm.UpsertSCRAM{}, &kadm.DeleteSCRAM{User: name, Mechanism: kadm.ScramSha512})
		})
		if err != nil {
			return nil, err
		}
	case "":
		f := pki.FilesOf(op.PKIDir(), name)
		for _, p := range []string{f.Cert, f.Key, f.Keystore} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return nil, err
			}
		}
	}
	pw, err := op.passwords()
	if err != nil {
		return nil, err
	}
	delete(pw, name)
	op.spec.Security.Users = slices.DeleteFunc(op.spec.Security.Users, func(u UserSpec) bool { return u.Name == name })
	if err := errors.Join(op.savePasswords(pw), op.saveSpec()); err != nil {
		return nil, err
	}
	if op.spec.Security.SASL() == "PLAIN" {
		if res.Restarted, err = op.restartBrokersForUsers(ctx); err != nil {
			return nil, err
		}
	}
	res.Timings = op.steps.Timings
	return res, nil
}

// alterSCRAM upserts or deletes one SCRAM credential and checks the result.
func (o *op) alterSCRAM(ctx context.Context, upsert kadm.UpsertSCRAM, del *kadm.DeleteSCRAM) error {
	cl, err := o.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	var ups []kadm.UpsertSCRAM
	var dels []kadm.DeleteSCRAM
	if del != nil {
		dels = append(dels, *del)
	} else {
		ups = append(ups, upsert)
	}
	res, err := kadm.NewClient(cl).AlterUserSCRAMs(ctx, dels, ups)
	if err != nil {
		return err
	}
	for _, r := range res.Sorted() {
		if r.Err != nil {
			return fmt.Errorf("user %s: %w %s", r.User, r.Err, r.ErrMessage)
		}
	}
	return nil
}

// restartBrokersForUsers restarts each broker so that it reads the lab's new
// PLAIN user list, one at a time, each back and every partition in sync before
// the next.
func (o *op) restartBrokersForUsers(ctx context.Context) ([]int, error) {
	if err := o.writeNodeFiles(o.nodes()); err != nil {
		return nil, err
	}
	var restarted []int
	for _, n := range o.nodes() {
		if !n.IsBroker() {
			continue
		}
		err := o.steps.Run(fmt.Sprintf("Restarting node %d for the new PLAIN user list", n.ID), func() error {
			if _, err := o.signal(ctx, n, ActionStop, 30*time.Second); err != nil {
				return err
			}
			if _, err := o.startNodes(ctx, []int{n.ID}, UpOptions{}); err != nil {
				return err
			}
			wctx, cancel := context.WithTimeout(ctx, DefaultWait)
			defer cancel()
			return o.waitInSync(wctx)
		})
		if err != nil {
			return restarted, err
		}
		restarted = append(restarted, n.ID)
	}
	return restarted, nil
}

// UserInfo is one user as 'user list' shows it.
type UserInfo struct {
	Name string `json:"name"`
	// InCluster says whether the cluster holds the user's SCRAM credential (SCRAM
	// labs only; the other kinds live in files kraftlab keeps).
	InCluster *bool `json:"in_cluster,omitempty"`
}

// Users lists the lab's users, admin first.
func (l *Lab) Users(ctx context.Context) ([]UserInfo, error) {
	if err := l.requireExists(); err != nil {
		return nil, err
	}
	if err := l.requireUsers("users"); err != nil {
		return nil, err
	}
	var out []UserInfo
	var described kadm.DescribedUserSCRAMs
	if l.spec.Security.SASL() == "SCRAM-SHA-512" {
		cl, err := l.client()
		if err != nil {
			return nil, err
		}
		defer cl.Close()
		if described, err = kadm.NewClient(cl).DescribeUserSCRAMs(ctx); err != nil {
			return nil, fmt.Errorf("describe SCRAM users: %w", err)
		}
	}
	for _, name := range l.userNames() {
		u := UserInfo{Name: name}
		if described != nil {
			_, ok := described[name]
			u.InCluster = &ok
		}
		out = append(out, u)
	}
	return out, nil
}

// IssueCert makes a client certificate for name, signed by the lab's CA, and
// returns its files. On an mTLS lab the name becomes a user of the lab.
func (l *Lab) IssueCert(name string) (*pki.Files, error) {
	if err := l.requireExists(); err != nil {
		return nil, err
	}
	if !l.spec.Security.UsesTLS() {
		return nil, usage.Errorf("lab %q does not use TLS, so it has no CA to sign client certificates; create one with 'kraftlab up --security mtls'", l.Name())
	}
	if name != AdminUser && l.spec.Security.ClientCertificates() {
		if err := validateNewUser(l.spec.Security, name); err != nil && !l.spec.Security.HasUser(name) {
			return nil, err
		}
	}
	op, err := l.begin()
	if err != nil {
		return nil, err
	}
	defer op.end()
	ca, err := pki.LoadCA(op.PKIDir())
	if err != nil {
		return nil, err
	}
	if err := issueClientCert(ca, op.PKIDir(), name); err != nil {
		return nil, usage.Errorf("certificate for %q: %v", name, err)
	}
	if op.spec.Security.ClientCertificates() && !op.spec.Security.HasUser(name) {
		op.spec.Security.Users = append(op.spec.Security.Users, UserSpec{Name: name})
		if err := op.saveSpec(); err != nil {
			return nil, err
		}
	}
	f := pki.FilesOf(op.PKIDir(), name)
	return &f, nil
}

// ensureACLs creates the spec's ACLs (creating an existing ACL changes nothing).
func (o *op) ensureACLs(ctx context.Context, uo UpOptions) error {
	sec := o.spec.Security
	if sec == nil || len(sec.ACLs) == 0 {
		return nil
	}
	return o.steps.Run(fmt.Sprintf("Creating ACLs (%d in the spec)", len(sec.ACLs)), func() error {
		wctx, cancel := context.WithTimeout(ctx, uo.wait())
		defer cancel()
		for _, a := range sec.ACLs {
			if err := o.createACL(wctx, a); err != nil {
				return err
			}
		}
		return nil
	})
}

// ACLs lists the ACLs the cluster holds, in the spec's form.
func (l *Lab) ACLs(ctx context.Context) ([]ACLSpec, error) {
	if err := l.requireACLs(); err != nil {
		return nil, err
	}
	cl, err := l.client()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	b := kadm.NewACLs().AnyResource().ResourcePatternType(kadm.ACLPatternAny).Operations(kadm.OpAny).Allow().Deny().AllowHosts().DenyHosts()
	res, err := kadm.NewClient(cl).DescribeACLs(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("describe ACLs: %w", err)
	}
	var out []ACLSpec
	for _, r := range res {
		if r.Err != nil {
			return nil, fmt.Errorf("describe ACLs: %w", r.Err)
		}
		for _, d := range r.Described {
			out = append(out, aclFromDescribed(d))
		}
	}
	slices.SortFunc(out, func(a, b ACLSpec) int { return strings.Compare(aclKey(a), aclKey(b)) })
	return out, nil
}

func (l *Lab) requireACLs() error {
	if err := l.requireExists(); err != nil {
		return err
	}
	if !l.spec.Security.Secured() || !l.spec.Security.Authorization {
		return usage.Errorf("lab %q has no ACLs: create one with 'kraftlab up --security sasl-scram --acls' (or mtls, sasl-plain)", l.Name())
	}
	return nil
}

// AddACL creates an ACL and keeps it in the lab's spec.
func (l *Lab) AddACL(ctx context.Context, a ACLSpec) error {
	if err := l.requireACLs(); err != nil {
		return err
	}
	a = a.normalized()
	if errs := a.validate("acl", true); len(errs) > 0 {
		return (&SpecSource{}).explain(errs)
	}
	op, err := l.beginRunning()
	if err != nil {
		return err
	}
	defer op.end()
	if err := op.createACL(ctx, a); err != nil {
		return err
	}
	if !slices.ContainsFunc(op.spec.Security.ACLs, func(x ACLSpec) bool { return aclKey(x) == aclKey(a) }) {
		op.spec.Security.ACLs = append(op.spec.Security.ACLs, a)
	}
	return op.saveSpec()
}

// DeleteACL deletes the ACLs matching a (a filter: each field given must match)
// and drops them from the spec; it returns what it deleted.
func (l *Lab) DeleteACL(ctx context.Context, a ACLSpec) ([]ACLSpec, error) {
	if err := l.requireACLs(); err != nil {
		return nil, err
	}
	a = a.normalized()
	if errs := a.validate("acl", true); len(errs) > 0 {
		return nil, (&SpecSource{}).explain(errs)
	}
	op, err := l.beginRunning()
	if err != nil {
		return nil, err
	}
	defer op.end()
	cl, err := op.client()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	b, err := aclBuilder(a)
	if err != nil {
		return nil, err
	}
	res, err := kadm.NewClient(cl).DeleteACLs(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("delete ACLs: %w", err)
	}
	var deleted []ACLSpec
	for _, r := range res {
		if r.Err != nil {
			return nil, fmt.Errorf("delete ACLs: %w", r.Err)
		}
		for _, d := range r.Deleted {
			deleted = append(deleted, aclFromDeleted(d))
		}
	}
	// Kafka keeps one ACL per operation; the spec keeps them as asked, several
	// operations to an entry: the entry asked for goes, as do single ones deleted.
	gone := map[string]bool{}
	if len(deleted) > 0 {
		gone[aclKey(a)] = true
	}
	for _, d := range deleted {
		gone[aclKey(d)] = true
	}
	op.spec.Security.ACLs = slices.DeleteFunc(op.spec.Security.ACLs, func(x ACLSpec) bool { return gone[aclKey(x)] })
	return deleted, op.saveSpec()
}

func (o *op) createACL(ctx context.Context, a ACLSpec) error {
	b, err := aclBuilder(a.normalized())
	if err != nil {
		return err
	}
	cl, err := o.client()
	if err != nil {
		return err
	}
	defer cl.Close()
	res, err := kadm.NewClient(cl).CreateACLs(ctx, b)
	if err != nil {
		return fmt.Errorf("create ACL: %w", err)
	}
	for _, r := range res {
		if r.Err != nil {
			return fmt.Errorf("create ACL for %s: %w", a.Principal, r.Err)
		}
	}
	return nil
}

// normalized fills an ACL's defaults: allow, literal, every host.
func (a ACLSpec) normalized() ACLSpec {
	if a.Permission == "" {
		a.Permission = "allow"
	}
	if a.Pattern == "" {
		a.Pattern = "literal"
	}
	if a.Host == "" {
		a.Host = "*"
	}
	if a.Resource == "cluster" {
		a.Name = "kafka-cluster"
	}
	return a
}

// aclKey identifies an ACL (one per operation in Kafka; kraftlab groups them).
func aclKey(a ACLSpec) string {
	a = a.normalized()
	ops := slices.Clone(a.Operations)
	slices.Sort(ops)
	return strings.Join([]string{a.Principal, a.Permission, a.Resource, a.Pattern, a.Name, a.Host, strings.Join(ops, ",")}, "|")
}

var aclOps = map[string]kadm.ACLOperation{
	"all": kadm.OpAll, "read": kadm.OpRead, "write": kadm.OpWrite, "create": kadm.OpCreate, "delete": kadm.OpDelete,
	"alter": kadm.OpAlter, "describe": kadm.OpDescribe, "describe-configs": kadm.OpDescribeConfigs,
	"alter-configs": kadm.OpAlterConfigs, "idempotent-write": kadm.OpIdempotentWrite, "cluster-action": kadm.OpClusterAction,
}

// aclBuilder turns an ACL into kadm's builder.
func aclBuilder(a ACLSpec) (*kadm.ACLBuilder, error) {
	b := kadm.NewACLs()
	hosts := []string{a.Host}
	if a.Permission == "deny" {
		b = b.Deny(a.Principal).DenyHosts(hosts...)
	} else {
		b = b.Allow(a.Principal).AllowHosts(hosts...)
	}
	var ops []kadm.ACLOperation
	for _, o := range a.Operations {
		ops = append(ops, aclOps[o])
	}
	b = b.Operations(ops...)
	switch a.Resource {
	case "topic":
		b = b.Topics(a.Name)
	case "group":
		b = b.Groups(a.Name)
	case "transactional-id":
		b = b.TransactionalIDs(a.Name)
	case "cluster":
		b = b.Clusters()
	}
	if a.Pattern == "prefixed" {
		b = b.ResourcePatternType(kadm.ACLPatternPrefixed)
	} else {
		b = b.ResourcePatternType(kadm.ACLPatternLiteral)
	}
	return b, nil
}

func aclFromDescribed(d kadm.DescribedACL) ACLSpec {
	return aclFrom(d.Principal, d.Host, d.Type, d.Name, d.Pattern, d.Operation, d.Permission)
}

func aclFromDeleted(d kadm.DeletedACL) ACLSpec {
	return aclFrom(d.Principal, d.Host, d.Type, d.Name, d.Pattern, d.Operation, d.Permission)
}

func aclFrom(principal, host string, typ kmsg.ACLResourceType, name string, pattern kadm.ACLPattern, op kadm.ACLOperation, perm kmsg.ACLPermissionType) ACLSpec {
	a := ACLSpec{Principal: principal, Host: host, Name: name, Permission: "allow", Pattern: "literal"}
	if perm == kmsg.ACLPermissionTypeDeny {
		a.Permission = "deny"
	}
	if pattern == kadm.ACLPatternPrefixed {
		a.Pattern = "prefixed"
	}
	switch typ {
	case kmsg.ACLResourceTypeTopic:
		a.Resource = "topic"
	case kmsg.ACLResourceTypeGroup:
		a.Resource = "group"
	case kmsg.ACLResourceTypeCluster:
		a.Resource = "cluster"
	case kmsg.ACLResourceTypeTransactionalId:
		a.Resource = "transactional-id"
	}
	for k, v := range aclOps {
		if v == op {
			a.Operations = []string{k}
		}
	}
	return a
}

// Client configuration formats.
const (
	ConfigProperties = "properties" // Java clients and Kafka's console tools
	ConfigLibrdkafka = "librdkafka" // kcat -F, confluent-kafka-* clients
	ConfigEnv        = "env"        // environment variables, e.g. for a franz-go program
)

// ClientConfig is a working client configuration for user (admin when "") in
// format. It names the lab's CA (and, on an mTLS lab, the user's certificate)
// where they are; SASL passwords are in it, so keep it private.
func (l *Lab) ClientConfig(user, format string) (string, error) {
	if err := l.requireExists(); err != nil {
		return "", err
	}
	if user == "" {
		user = AdminUser
	}
	if !slices.Contains([]string{ConfigProperties, ConfigLibrdkafka, ConfigEnv}, format) {
		return "", usage.Errorf("--format %q: want %s, %s or %s", format, ConfigProperties, ConfigLibrdkafka, ConfigEnv)
	}
	sec := l.spec.Security
	if sec.Secured() && !sec.HasUser(user) {
		return "", usage.Errorf("lab %q has no user %q (users: %s)", l.Name(), user, strings.Join(l.userNames(), ", "))
	}
	var password string
	if sec.SASL() != "" {
		pw, err := l.passwords()
		if err != nil {
			return "", err
		}
		password = pw[user]
	}
	ca := filepath.Join(l.PKIDir(), pki.CACertFile)
	cert := pki.FilesOf(l.PKIDir(), user)
	if sec.ClientCertificates() {
		if _, err := os.Stat(cert.Keystore); err != nil {
			return "", fmt.Errorf("user %q has no certificate: 'kraftlab cert issue %s --name %s' makes one", user, user, l.Name())
		}
	}
	return FormatClientConfig(*sec, format, ClientSettings{
		Lab: l.Name(), User: user, Password: password, Bootstrap: l.BootstrapServers(),
		CAFile: ca, CertFile: cert.Cert, KeyFile: cert.Key, KeystoreFile: cert.Keystore,
	}), nil
}

// ClientSettings are what a client configuration names: the lab and user, the
// brokers, and where the CA and the user's certificate are.
type ClientSettings struct {
	Lab, User, Password string
	Bootstrap           []string
	// CAFile is the CA's PEM certificate; CertFile and KeyFile the user's PEM
	// certificate and key, KeystoreFile both in one (what Java's PEM store reads).
	CAFile, CertFile, KeyFile, KeystoreFile string
}

// FormatClientConfig is a client configuration in format (ConfigProperties,
// ConfigLibrdkafka or ConfigEnv) for a lab secured by sec.
func FormatClientConfig(sec SecuritySpec, format string, c ClientSettings) string {
	protocol := "PLAINTEXT"
	switch {
	case sec.SASL() != "" && sec.UsesTLS():
		protocol = "SASL_SSL"
	case sec.SASL() != "":
		protocol = "SASL_PLAINTEXT"
	case sec.UsesTLS():
		protocol = "SSL"
	}
	user, password, ca := c.User, c.Password, c.CAFile
	cert := pki.Files{Cert: c.CertFile, Key: c.KeyFile, Keystore: c.KeystoreFile}
	var b strings.Builder
	line := func(k, v string) { fmt.Fprintf(&b, "%s=%s\n", k, v) }
	bootstrap := strings.Join(c.Bootstrap, ",")
	switch format {
	case ConfigProperties:
		fmt.Fprintf(&b, "# Lab %q as %s: a Java client or Kafka's console tools (--producer.config / --consumer.config / --command-config).\n", c.Lab, user)
		line("bootstrap.servers", bootstrap)
		line("security.protocol", protocol)
		if sec.UsesTLS() {
			line("ssl.truststore.type", "PEM")
			line("ssl.truststore.location", ca)
		}
		if sec.ClientCertificates() {
			line("ssl.keystore.type", "PEM")
			line("ssl.keystore.location", cert.Keystore)
		}
		if m := sec.SASL(); m != "" {
			line("sasl.mechanism", m)
			module := "org.apache.kafka.common.security.scram.ScramLoginModule"
			if m == "PLAIN" {
				module = "org.apache.kafka.common.security.plain.PlainLoginModule"
			}
			line("sasl.jaas.config", fmt.Sprintf("%s required username=%q password=%q;", module, user, password))
		}
	case ConfigLibrdkafka:
		fmt.Fprintf(&b, "# Lab %q as %s: librdkafka (kcat -F FILE, confluent-kafka clients).\n", c.Lab, user)
		line("bootstrap.servers", bootstrap)
		line("security.protocol", strings.ToLower(protocol))
		if sec.UsesTLS() {
			line("ssl.ca.location", ca)
		}
		if sec.ClientCertificates() {
			line("ssl.certificate.location", cert.Cert)
			line("ssl.key.location", cert.Key)
		}
		if m := sec.SASL(); m != "" {
			line("sasl.mechanisms", m)
			line("sasl.username", user)
			line("sasl.password", password)
		}
	case ConfigEnv:
		fmt.Fprintf(&b, "# Lab %q as %s: environment variables for a program of your own (see the README's franz-go snippet).\n", c.Lab, user)
		line("KAFKA_BOOTSTRAP_SERVERS", bootstrap)
		line("KAFKA_SECURITY_PROTOCOL", protocol)
		if sec.UsesTLS() {
			line("KAFKA_TLS_CA_FILE", ca)
		}
		if sec.ClientCertificates() {
			line("KAFKA_TLS_CERT_FILE", cert.Cert)
			line("KAFKA_TLS_KEY_FILE", cert.Key)
		}
		if m := sec.SASL(); m != "" {
			line("KAFKA_SASL_MECHANISM", m)
			line("KAFKA_SASL_USERNAME", user)
			line("KAFKA_SASL_PASSWORD", password)
		}
	}
	return b.String()
}
