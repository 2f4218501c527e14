// Package charon runs strongSwan's IKE daemon, one instance per gateway,
// each in its own network namespace with a private /run, its own
// strongswan.conf (via STRONGSWAN_CONF), VICI socket and log file. It is
// what the lab and the integration tests use to start real charons.
//
// /usr/lib/ipsec/charon hard-codes its pid file under /run; `ip netns exec`
// gives the child a private mount namespace, in which a per-instance
// directory is bind-mounted over /run before charon starts.
package charon
