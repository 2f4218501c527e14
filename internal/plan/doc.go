// Package plan computes the desired state of one gateway from a resolved
// topology: its IKE connections and children (both ends of every tunnel
// derived from the same tunnel, so they agree by construction), secrets,
// virtual IP pools, firewall and NAT intent, sysctls, links and routes,
// and the strongswan.conf settings its data plane needs.
//
// The plan is pure data; render turns it into files and apply into
// effects. Everything is sorted so that output derived from a plan is
// deterministic.
package plan
