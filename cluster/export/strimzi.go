package export

// This file owns 'export strimzi': the lab as Strimzi custom resources — a Kafka,
// one KafkaNodePool per role group and a KafkaTopic per spec topic — with the
// broker properties the operator accepts.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kraftlab/kraftlab/cluster"
	"github.com/kraftlab/kraftlab/cluster/internal/render"
	"github.com/kraftlab/kraftlab/cluster/internal/topicadmin"
	"github.com/kraftlab/kraftlab/cluster/usage"
)

// DefaultStorageSize is each node's persistent volume claim unless
// StrimziOptions.StorageSize says otherwise.
const DefaultStorageSize = "10Gi"

// StrimziOptions shape a Strimzi export.
type StrimziOptions struct {
	// KafkaVersion exports for this Kafka version instead of the lab's. Without it
	// a lab whose version the embedded Strimzi release does not support is refused,
	// naming the nearest supported one.
	KafkaVersion string
	// StorageSize is each node's persistent volume claim (default
	// DefaultStorageSize); StorageClass its storage class (default: the cluster's).
	StorageSize  string
	StorageClass string
	// Ephemeral gives every node an emptyDir instead: data lives as long as the pod.
	Ephemeral bool
}

// Strimzi exports a lab as Strimzi resources (kafka.strimzi.io/v1), validated
// against the embedded CRDs.
func Strimzi(lay *cluster.Layout, o StrimziOptions) (*Result, error) {
	storage, err := o.storage()
	if err != nil {
		return nil, err
	}
	name := lay.Spec.Name
	if !dns1123Label.MatchString(name) {
		return nil, usage.Errorf("lab name %q is not a Kubernetes name: it must end with a letter or digit", name)
	}
	version, metadata, notes, err := strimziKafkaVersion(lay.KafkaVersion, o.KafkaVersion)
	if err != nil {
		return nil, err
	}
	res := &Result{Notes: notes}
	config, dropped, err := strimziConfig(lay)
	if err != nil {
		return nil, err
	}
	res.Dropped = dropped
	if lay.Spec.Quorum == cluster.QuorumDynamic {
		// Checked at the embedded commit: KafkaBrokerConfigurationBuilder.withKRaft
		// writes controller.quorum.voters from the controller nodes.
		res.Notes = append(res.Notes, "quorum: dynamic has no Strimzi counterpart: the operator writes a static controller.quorum.voters from the controller nodes itself, so the voter set follows the controller pool, not AddRaftVoter/RemoveRaftVoter")
	}

	listeners, err := strimziListeners(lay.Spec)
	if err != nil {
		return nil, err
	}
	var objects []any
	for _, pool := range nodePools(lay.Render, name, storage) {
		objects = append(objects, pool)
	}
	kafka := strimziKafka{
		APIVersion: strimziAPIVersion, Kind: "Kafka", Metadata: objectMeta{Name: name},
		Spec: strimziKafkaSpec{
			Kafka: strimziKafkaCluster{
				Version: version, MetadataVersion: metadata,
				Listeners:     listeners,
				Authorization: authorizationOf(lay.Spec),
				Config:        config,
			},
			EntityOperator: strimziEntityOperator{TopicOperator: &struct{}{}},
		},
	}
	if lay.Spec.Security.Secured() && (lay.Spec.Security.SASL() != "" || lay.Spec.Security.ClientCertificates()) {
		kafka.Spec.EntityOperator.UserOperator = &struct{}{}
	}
	objects = append(objects, kafka)
	topics, err := kafkaTopics(lay, name)
	if err != nil {
		return nil, err
	}
	for _, t := range topics {
		objects = append(objects, t)
	}
	users, userNotes := kafkaUsers(lay.Spec, name)
	res.Notes = append(res.Notes, userNotes...)
	for _, u := range users {
		objects = append(objects, u)
	}

	for _, obj := range objects {
		f, err := strimziFile(obj, lay.Spec.Name, version)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, f)
	}
	res.Stream = yamlStream(res.Files)
	if err := ValidateStrimzi(res.Stream); err != nil {
		return nil, fmt.Errorf("the exported resources do not pass Strimzi's schemas (a kraftlab bug; please report it):\n%w", err)
	}
	return res, nil
}

// Strimzi's resources, as far as kraftlab writes them; field order is the order
// Strimzi's own examples use.
type (
	objectMeta struct {
		Name        string            `yaml:"name"`
		Labels      map[string]string `yaml:"labels,omitempty"`
		Annotations map[string]string `yaml:"annotations,omitempty"`
	}
	strimziKafka struct {
		APIVersion string           `yaml:"apiVersion"`
		Kind       string           `yaml:"kind"`
		Metadata   objectMeta       `yaml:"metadata"`
		Spec       strimziKafkaSpec `yaml:"spec"`
	}
	strimziKafkaSpec struct {
		Kafka          strimziKafkaCluster   `yaml:"kafka"`
		EntityOperator strimziEntityOperator `yaml:"entityOperator"`
	}
	strimziKafkaCluster struct {
		Version         string                `yaml:"version"`
		MetadataVersion string                `yaml:"metadataVersion,omitempty"`
		Listeners       []strimziListener     `yaml:"listeners"`
		Authorization   *strimziAuthorization `yaml:"authorization,omitempty"`
		Config          map[string]any        `yaml:"config,omitempty"`
	}
	strimziAuthorization struct {
		Type       string   `yaml:"type"`
		SuperUsers []string `yaml:"superUsers,omitempty"`
	}
	strimziUser struct {
		APIVersion string          `yaml:"apiVersion"`
		Kind       string          `yaml:"kind"`
		Metadata   objectMeta      `yaml:"metadata"`
		Spec       strimziUserSpec `yaml:"spec"`
	}
	strimziUserSpec struct {
		Authentication strimziListenerAuth `yaml:"authentication"`
		Authorization  *strimziUserAuthz   `yaml:"authorization,omitempty"`
	}
	strimziUserAuthz struct {
		Type string       `yaml:"type"`
		ACLs []strimziACL `yaml:"acls"`
	}
	strimziACL struct {
		Resource   strimziACLResource `yaml:"resource"`
		Type       string             `yaml:"type,omitempty"`
		Operations []string           `yaml:"operations"`
		Host       string             `yaml:"host,omitempty"`
	}
	strimziACLResource struct {
		Type        string `yaml:"type"`
		Name        string `yaml:"name,omitempty"`
		PatternType string `yaml:"patternType,omitempty"`
	}
	strimziListener struct {
		Name string `yaml:"name"`
		Port int    `yaml:"port"`
		Type string `yaml:"type"`
		TLS  bool   `yaml:"tls"`
		// Authentication is the listener's client authentication (type tls or
		// scram-sha-512), for secured labs.
		Authentication *strimziListenerAuth `yaml:"authentication,omitempty"`
	}
	strimziListenerAuth struct {
		Type string `yaml:"type"`
	}
	strimziEntityOperator struct {
		TopicOperator *struct{} `yaml:"topicOperator,omitempty"`
		UserOperator  *struct{} `yaml:"userOperator,omitempty"`
	}
	strimziNodePool struct {
		APIVersion string              `yaml:"apiVersion"`
		Kind       string              `yaml:"kind"`
		Metadata   objectMeta          `yaml:"metadata"`
		Spec       strimziNodePoolSpec `yaml:"spec"`
	}
	strimziNodePoolSpec struct {
		Replicas int            `yaml:"replicas"`
		Roles    []string       `yaml:"roles"`
		Storage  strimziStorage `yaml:"storage"`
	}
	strimziStorage struct {
		Type    string          `yaml:"type"`
		Volumes []strimziVolume `yaml:"volumes"`
	}
	strimziVolume struct {
		ID            int    `yaml:"id"`
		Type          string `yaml:"type"`
		Size          string `yaml:"size,omitempty"`
		Class         string `yaml:"class,omitempty"`
		KraftMetadata string `yaml:"kraftMetadata"`
	}
	strimziTopic struct {
		APIVersion string           `yaml:"apiVersion"`
		Kind       string           `yaml:"kind"`
		Metadata   objectMeta       `yaml:"metadata"`
		Spec       strimziTopicSpec `yaml:"spec"`
	}
	strimziTopicSpec struct {
		TopicName  string         `yaml:"topicName,omitempty"`
		Partitions int            `yaml:"partitions"`
		Replicas   int            `yaml:"replicas"`
		Config     map[string]any `yaml:"config,omitempty"`
	}
)

// strimziListeners are the Kafka resource's listeners: the lab's client listener
// as Strimzi's internal listener, secured as the lab is: tls → TLS on 9093, mtls →
// that with certificate authentication, sasl-scram → SCRAM-SHA-512 (over TLS, or
// plain on 9092). The operator secures the controller and replication listeners
// itself. Strimzi has no SASL/PLAIN listener authentication, so a sasl-plain lab
// is refused rather than silently changed.
func strimziListeners(spec cluster.Spec) ([]strimziListener, error) {
	sec := spec.Security
	if !sec.Secured() {
		return []strimziListener{{Name: "plain", Port: 9092, Type: "internal", TLS: false}}, nil
	}
	if sec.SASL() == "PLAIN" {
		return nil, usage.Errorf("lab %q uses SASL/PLAIN, which Strimzi's listeners do not offer (their authentication types are tls, scram-sha-512, oauth and custom); export a sasl-scram or mtls lab instead", spec.Name)
	}
	l := strimziListener{Name: "tls", Port: 9093, Type: "internal", TLS: true}
	if !sec.UsesTLS() {
		l = strimziListener{Name: "plain", Port: 9092, Type: "internal", TLS: false}
	}
	switch {
	case sec.ClientCertificates():
		l.Authentication = &strimziListenerAuth{Type: "tls"}
	case sec.SASL() != "":
		l.Authentication = &strimziListenerAuth{Type: "scram-sha-512"}
	}
	return []strimziListener{l}, nil
}

// authorizationOf is simple authorization for a lab with ACLs, admin a super
// user (under the name Strimzi authenticates it by).
func authorizationOf(spec cluster.Spec) *strimziAuthorization {
	sec := spec.Security
	if !sec.Secured() || !sec.Authorization {
		return nil
	}
	admin := cluster.AdminUser
	if sec.ClientCertificates() {
		admin = "CN=" + admin // Strimzi maps no rule: a certificate's principal is its DN
	}
	return &strimziAuthorization{Type: "simple", SuperUsers: []string{admin}}
}

// strimziACLOps are Strimzi's names of the ACL operations.
var strimziACLOps = map[string]string{
	"all": "All", "read": "Read", "write": "Write", "create": "Create", "delete": "Delete", "alter": "Alter",
	"describe": "Describe", "describe-configs": "DescribeConfigs", "alter-configs": "AlterConfigs",
	"idempotent-write": "IdempotentWrite", "cluster-action": "ClusterAction",
}

// kafkaUsers are a KafkaUser for admin and each user of a secured lab, carrying the
// ACLs of its principal; ACLs of a principal that is no user of the lab are left
// out, with a note.
func kafkaUsers(spec cluster.Spec, clusterName string) ([]strimziUser, []string) {
	sec := spec.Security
	if !sec.Secured() || (sec.SASL() == "" && !sec.ClientCertificates()) {
		return nil, nil
	}
	auth := strimziListenerAuth{Type: "scram-sha-512"}
	if sec.ClientCertificates() {
		auth.Type = "tls"
	}
	var out []strimziUser
	var notes []string
	names := []string{cluster.AdminUser}
	for _, u := range sec.Users {
		names = append(names, u.Name)
	}
	for _, name := range names {
		u := strimziUser{
			APIVersion: strimziAPIVersion, Kind: "KafkaUser",
			Metadata: objectMeta{Name: name, Labels: map[string]string{"strimzi.io/cluster": clusterName}},
			Spec:     strimziUserSpec{Authentication: auth},
		}
		if sec.Authorization {
			authz := &strimziUserAuthz{Type: "simple", ACLs: []strimziACL{}}
			for _, a := range sec.ACLs {
				if a.Principal == "User:"+name {
					authz.ACLs = append(authz.ACLs, strimziACLOf(a))
				}
			}
			if len(authz.ACLs) > 0 {
				u.Spec.Authorization = authz
			}
		}
		out = append(out, u)
	}
	for _, a := range sec.ACLs {
		if name, _ := strings.CutPrefix(a.Principal, "User:"); !sec.HasUser(name) {
			notes = append(notes, fmt.Sprintf("ACL for %s left out: %s is no user of the lab, and Strimzi keeps ACLs in KafkaUsers", a.Principal, name))
		}
	}
	return out, notes
}

func strimziACLOf(a cluster.ACLSpec) strimziACL {
	r := strimziACLResource{Type: a.Resource, Name: a.Name, PatternType: "literal"}
	switch a.Resource {
	case "transactional-id":
		r.Type = "transactionalId"
	case "cluster":
		r.Name, r.PatternType = "", ""
	}
	if a.Pattern == "prefixed" {
		r.PatternType = "prefix"
	}
	acl := strimziACL{Resource: r, Type: a.Permission, Host: a.Host}
	if acl.Type == "" {
		acl.Type = "allow"
	}
	if acl.Host == "" {
		acl.Host = "*"
	}
	for _, op := range a.Operations {
		acl.Operations = append(acl.Operations, strimziACLOps[op])
	}
	return acl
}

var (
	// dns1123Label is a Kubernetes name that may prefix a pod name.
	dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)
	// quantityRE is a positive Kubernetes storage quantity such as 10Gi or 500M.
	quantityRE = regexp.MustCompile(`^[1-9][0-9]*(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$`)
	// dns1123SubdomainRE is a storage class name.
	dns1123SubdomainRE = regexp.MustCompile(dns1123Subdomain)
)

// storage is every node's storage: one JBOD volume that also holds the KRaft
// metadata log, as Strimzi's examples have it.
func (o StrimziOptions) storage() (strimziStorage, error) {
	var problems []error
	if o.Ephemeral && (o.StorageSize != "" || o.StorageClass != "") {
		problems = append(problems, fmt.Errorf("--ephemeral: an emptyDir has no size or storage class; leave out --storage/--storage-class, or --ephemeral"))
	}
	size := o.StorageSize
	if size == "" {
		size = DefaultStorageSize
	}
	if !quantityRE.MatchString(size) {
		problems = append(problems, fmt.Errorf("--storage %q: want a size like 10Gi, 500Mi or 1Ti", o.StorageSize))
	}
	if o.StorageClass != "" && (len(o.StorageClass) > 253 || !dns1123SubdomainRE.MatchString(o.StorageClass)) {
		problems = append(problems, fmt.Errorf("--storage-class %q: want a Kubernetes storage class name (lower-case letters, digits, '-' and '.')", o.StorageClass))
	}
	if err := usage.Errors(problems); err != nil {
		return strimziStorage{}, err
	}
	v := strimziVolume{ID: 0, Type: "persistent-claim", Size: size, Class: o.StorageClass, KraftMetadata: "shared"}
	if o.Ephemeral {
		v = strimziVolume{ID: 0, Type: "ephemeral", KraftMetadata: "shared"}
	}
	return strimziStorage{Type: "jbod", Volumes: []strimziVolume{v}}, nil
}

// nodePools groups the lab's nodes by role: a dual-role pool for combined nodes,
// a controller pool and a broker pool for isolated roles. Each pool asks Strimzi
// for the lab's node ids (strimzi.io/next-node-ids), so that node 4 is node 4 in
// both places.
func nodePools(rl render.Lab, clusterName string, storage strimziStorage) []strimziNodePool {
	groups := []struct {
		name  string
		role  string
		roles []string
	}{
		{"dual-role", cluster.RoleCombined, []string{"controller", "broker"}},
		{"controller", cluster.RoleController, []string{"controller"}},
		{"broker", cluster.RoleBroker, []string{"broker"}},
	}
	var pools []strimziNodePool
	for _, g := range groups {
		var ids []int
		for _, n := range rl.Nodes {
			if role(n) == g.role {
				ids = append(ids, n.ID)
			}
		}
		if len(ids) == 0 {
			continue
		}
		pools = append(pools, strimziNodePool{
			APIVersion: strimziAPIVersion, Kind: "KafkaNodePool",
			Metadata: objectMeta{
				Name:        g.name,
				Labels:      map[string]string{"strimzi.io/cluster": clusterName},
				Annotations: map[string]string{"strimzi.io/next-node-ids": idRanges(ids)},
			},
			Spec: strimziNodePoolSpec{Replicas: len(ids), Roles: g.roles, Storage: storage},
		})
	}
	return pools
}

// idRanges writes node ids as Strimzi's next-node-ids annotation takes them:
// "[1-3]", "[4, 6-7]".
func idRanges(ids []int) string {
	var parts []string
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		if j == i {
			parts = append(parts, strconv.Itoa(ids[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ids[i], ids[j]))
		}
		i = j + 1
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// reasonForbidden is why a key the operator forbids is left out.
const reasonForbidden = "the Strimzi operator forbids these in spec.kafka.config: it sets listeners, node ids, roles, storage and security itself, from the resources' own fields"

// strimziConfig is spec.kafka.config: the broker properties kraftlab renders for
// every node (its sized defaults and the spec's properties), less what the
// operator forbids or kraftlab derives from its one-machine layout. Per-node
// properties have no place in it: Strimzi applies it to every node alike.
func strimziConfig(lay *cluster.Layout) (map[string]any, []Dropped, error) {
	shared := lay.Render
	shared.NodeProperties = nil
	// A profile's settings fit one machine (KRaft timers of a loopback network,
	// fewer threads); a Kubernetes cluster keeps Kafka's own unless the spec sets
	// them itself.
	shared.Profile = render.Profile{}
	var dropped []Dropped
	for _, p := range lay.Render.Profile.Properties {
		if _, set := lay.Spec.Properties[p.Key]; !set {
			dropped = append(dropped, Dropped{Key: p.Key, Value: p.Value, Reason: "the " + lay.Render.Profile.Name + " profile sets it for one machine; Kubernetes keeps Kafka's default"})
		}
	}
	nodes, err := renderNodes(shared)
	if err != nil {
		return nil, nil, err
	}
	values := map[string]map[string][]int{} // key -> value -> nodes
	var order []string
	for _, n := range nodes {
		for _, k := range n.props.Keys() {
			v, _ := n.props.Get(k)
			if values[k] == nil {
				values[k] = map[string][]int{}
				order = append(order, k)
			}
			values[k][v] = append(values[k][v], n.node.ID)
		}
	}
	config := map[string]any{}
	for _, k := range order {
		vs := slices.Sorted(maps.Keys(values[k]))
		uniform := len(vs) == 1 && len(values[k][vs[0]]) == len(nodes)
		value := ""
		if uniform {
			value = vs[0]
		}
		switch {
		case strimziForbids(k) != "":
			dropped = append(dropped, Dropped{Key: k, Value: value, Reason: reasonForbidden})
		case render.ManagedBy(k) != "":
			dropped = append(dropped, Dropped{Key: k, Value: value, Reason: "kraftlab derives it from the one-machine layout (" + render.ManagedBy(k) + ")"})
		case !uniform:
			for _, v := range vs {
				dropped = append(dropped, Dropped{Key: k, Value: v, Nodes: values[k][v], Reason: "it differs between nodes, and spec.kafka.config applies to every node alike"})
			}
		default:
			config[k] = typedValue(value)
		}
	}
	dropped = append(dropped, nodeOverrides(lay.Spec, "a per-node property (nodeProperties): spec.kafka.config applies to every node alike")...)
	return config, dropped, nil
}

// typedValue writes a property value the way Strimzi's own examples do: integers
// and booleans as such (when that prints back to the same text), anything else as
// a string. The operator reads all three.
func typedValue(v string) any {
	if i, err := strconv.ParseInt(v, 10, 64); err == nil && strconv.FormatInt(i, 10) == v {
		return i
	}
	if v == "true" || v == "false" {
		return v == "true"
	}
	return v
}

// kafkaTopics are the spec's topics as KafkaTopic resources, with the lab's
// defaults for partitions and replicas filled in.
func kafkaTopics(lay *cluster.Layout, clusterName string) ([]strimziTopic, error) {
	brokers := brokerCount(lay.Render)
	var out []strimziTopic
	seen := map[string]string{}
	for _, t := range lay.Spec.Topics {
		spec := strimziTopicSpec{Partitions: t.Partitions, Replicas: t.ReplicationFactor}
		if spec.Partitions == 0 {
			spec.Partitions = topicadmin.DefaultPartitions
		}
		if spec.Replicas == 0 {
			spec.Replicas = int(topicadmin.DefaultReplication(brokers))
		}
		if len(t.Configs) > 0 {
			spec.Config = map[string]any{}
			for k, v := range t.Configs {
				spec.Config[k] = typedValue(v)
			}
		}
		name := topicResourceName(t.Name)
		if name != t.Name {
			spec.TopicName = t.Name
		}
		if other, ok := seen[name]; ok {
			return nil, fmt.Errorf("topics %q and %q would both be the KafkaTopic %q", other, t.Name, name)
		}
		seen[name] = t.Name
		out = append(out, strimziTopic{
			APIVersion: strimziAPIVersion, Kind: "KafkaTopic",
			Metadata: objectMeta{Name: name, Labels: map[string]string{"strimzi.io/cluster": clusterName}},
			Spec:     spec,
		})
	}
	return out, nil
}

var notResourceNameRE = regexp.MustCompile(`[^a-z0-9.-]+`)

// topicResourceName is the KafkaTopic name for a topic: the topic's own name when
// Kubernetes takes it, else a lower-case form with a hash of the real name (which
// then goes in spec.topicName), so that "Orders_v1" and "orders-v1" stay apart.
func topicResourceName(topic string) string {
	if len(topic) <= 253 && dns1123SubdomainRE.MatchString(topic) {
		return topic
	}
	base := notResourceNameRE.ReplaceAllString(strings.ToLower(topic), "-")
	base = strings.Trim(base, "-.")
	sum := sha256.Sum256([]byte(topic))
	suffix := hex.EncodeToString(sum[:4])
	if len(base) > 200 {
		base = strings.TrimRight(base[:200], "-.")
	}
	if base == "" {
		return "topic-" + suffix
	}
	return base + "-" + suffix
}

// strimziFile writes one resource as a YAML file named after its kind and name.
func strimziFile(obj any, lab, version string) (File, error) {
	var b bytes.Buffer
	var kind, name string
	switch o := obj.(type) {
	case strimziKafka:
		kind, name = o.Kind, o.Metadata.Name
	case strimziNodePool:
		kind, name = o.Kind, o.Metadata.Name
	case strimziTopic:
		kind, name = o.Kind, o.Metadata.Name
	}
	b.WriteString(header(fmt.Sprintf("kraftlab export strimzi: lab %q, Kafka %s, %s %s", lab, version, kind, name)))
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(obj); err != nil {
		return File{}, fmt.Errorf("encode %s %s: %w", kind, name, err)
	}
	if err := enc.Close(); err != nil {
		return File{}, fmt.Errorf("encode %s %s: %w", kind, name, err)
	}
	return File{Name: strings.ToLower(kind) + "-" + name + ".yaml", Data: b.Bytes()}, nil
}
