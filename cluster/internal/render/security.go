package render

// This file owns the properties that secure a lab's listeners: the PEM stores,
// client authentication, SASL and its JAAS configuration, and the authorizer.
// Every listener is secured: clients' (which brokers share), and the controllers'
// with mTLS, or with SASL/PLAIN when there is no TLS (SCRAM cannot authenticate
// controllers to each other: its credentials live in the metadata log they keep,
// KAFKA-15513).

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// NodeMappingRules map every node certificate (CN=node<ID>) to one principal, so
// super.users does not change as nodes come and go, and any other certificate's
// CN=NAME to User:NAME, the principal a SASL user of that name has.
func NodeMappingRules(nodePrincipal string) string {
	return "RULE:^CN=node[0-9]+$/" + nodePrincipal + "/,RULE:^CN=([^,]+)$/$1/,DEFAULT"
}

// NodeKeystore is node id's PEM keystore in a lab's certificate directory.
func NodeKeystore(pkiDir string, id int) string {
	return filepath.Join(pkiDir, "node"+strconv.Itoa(id)+"-keystore.pem")
}

// securityProperties are node n's security settings, in the order they are written.
func (l Lab) securityProperties(n Node) [][2]string {
	s := l.Security
	if s == nil {
		return nil
	}
	var out [][2]string
	set := func(k, v string) { out = append(out, [2]string{k, v}) }
	tls := s.ClientProtocol != "SASL_PLAINTEXT" || s.ControllerProtocol == "SSL"
	if tls {
		set("ssl.keystore.type", "PEM")
		set("ssl.keystore.location", NodeKeystore(s.PKIDir, n.ID))
		set("ssl.truststore.type", "PEM")
		set("ssl.truststore.location", filepath.Join(s.PKIDir, "ca.crt"))
		set("ssl.principal.mapping.rules", NodeMappingRules(s.NodePrincipal))
	}
	if s.ControllerProtocol == "SSL" {
		set("listener.name.controller.ssl.client.auth", "required")
	} else {
		set("sasl.mechanism.controller.protocol", "PLAIN")
		set("listener.name.controller.sasl.enabled.mechanisms", "PLAIN")
		set("listener.name.controller.plain.sasl.jaas.config", jaas("plain", s.NodePrincipal, s.NodePassword, s.ControllerUsers))
	}
	if n.IsBroker() {
		if s.ClientProtocol != "SASL_PLAINTEXT" {
			set("listener.name.client.ssl.client.auth", s.ClientAuth)
		}
		if s.Mechanism != "" {
			mech := strings.ToLower(s.Mechanism)
			set("listener.name.client.sasl.enabled.mechanisms", s.Mechanism)
			set("sasl.mechanism.inter.broker.protocol", s.Mechanism)
			var users map[string]string
			if s.Mechanism == "PLAIN" {
				users = s.PlainUsers
			}
			set("listener.name.client."+mech+".sasl.jaas.config", jaas(mech, s.NodePrincipal, s.NodePassword, users))
		}
	}
	if s.Authorization {
		set("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
		set("allow.everyone.if.no.acl.found", "false")
		var supers []string
		for _, u := range s.SuperUsers {
			supers = append(supers, "User:"+u)
		}
		set("super.users", strings.Join(supers, ";"))
	}
	return out
}

// jaas is a listener's JAAS configuration: the node's own identity as a client of
// the other nodes and, for PLAIN, every user the listener accepts.
func jaas(mechanism, user, password string, accepted map[string]string) string {
	module := "org.apache.kafka.common.security.scram.ScramLoginModule"
	if mechanism == "plain" {
		module = "org.apache.kafka.common.security.plain.PlainLoginModule"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s required username=%q password=%q", module, user, password)
	for _, name := range slices.Sorted(maps.Keys(accepted)) {
		fmt.Fprintf(&b, " user_%s=%q", name, accepted[name])
	}
	b.WriteString(";")
	return b.String()
}
