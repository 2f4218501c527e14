// Package apply makes a gateway match its plan with the smallest
// disturbance: it compares the desired state with what the gateway has
// (charon over VICI, the styx nftables table, sysctls, links and routes,
// and the state file of the previous apply), computes ordered steps, and
// runs them, undoing every step already taken if one fails. The firewall is
// compared twice: the rendered rules with those of the last apply, and the
// live listing with the one read back after that apply, so that rules
// edited behind styx's back are found and restored.
//
// Only changed connections are reloaded, so unchanged ones keep their SAs.
// Effects live behind small interfaces (Store, Firewall, Sysctls, Runner);
// package applytest provides fakes that record and print what they were
// asked to do.
package apply
