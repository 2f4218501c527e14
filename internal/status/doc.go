// Package status turns what charon reports (IKE and CHILD SAs with their
// counters) into the gateway status styx shows: a table for people and a
// stable JSON document for machines, with a one-line health summary.
// Configured connections without an SA are shown as down.
package status
