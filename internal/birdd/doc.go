// Package birdd runs a BIRD 2 daemon for a gateway (in the lab, in its
// network namespace, with its own configuration file and control socket)
// and reads its BGP sessions with birdc.
//
// The configuration BIRD runs with is owned by styx apply (apply.Bird
// loads it with birdc configure); this package only starts the daemon
// with a configuration that has no sessions yet, and reports on it.
package birdd
