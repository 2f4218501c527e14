// Package lab builds a topology's whole network on one Linux host and
// proves it with traffic: one network namespace per gateway, per lab host
// and one "internet" router, veths with the addresses from the file, one
// real charon per gateway (configured with the same apply code as a
// production gateway), small built-in services on the lab hosts, and
// expectation tests (reachability, encryption on the wire, spoofing).
//
// Everything the lab creates is labelled: namespaces are named
// styx-<lab>-<node>, processes are recorded in the lab directory and found
// again through `ip netns pids`, so Down removes a lab even after a crash.
//
// The data plane is chosen automatically: the kernel's ESP where the
// kernel has it, otherwise strongSwan's kernel-libipsec (user-space ESP on
// a TUN device), with the matching firewall variant.
package lab
