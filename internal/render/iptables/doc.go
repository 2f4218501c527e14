// Package iptables renders a gateway's firewall plan as two
// iptables-restore files, one for iptables-restore (IPv4) and one for
// ip6tables-restore (IPv6). They make the same accept, drop and NAT
// decisions as the nftables file of package nft, rule for rule; the nft
// renderer is the reference. A gateway uses one or the other, never both
// (checklist IP6).
//
// # Loading and ownership
//
// The files are loaded with `iptables-restore --noflush` (and
// `ip6tables-restore --noflush`). styx owns only chains named STYX-*:
//
//	mangle  STYX-GUARD-IN   from PREROUTING   anti-spoofing (nft guard_in)
//	mangle  STYX-GUARD-OUT  from POSTROUTING  leak prevention (nft guard_out)
//	mangle  STYX-MSS        from FORWARD      TCP MSS clamp (nft mss)
//	filter  STYX-IN         from INPUT        nft input
//	filter  STYX-FWD        from FORWARD      nft forward
//	filter  STYX-OUT        from OUTPUT       nft output
//	nat     STYX-DNAT       from PREROUTING   nft dstnat
//	nat     STYX-SNAT       from POSTROUTING  nft srcnat
//
// Every file declares all of them (`:STYX-FWD - [0:0]`), which flushes
// them, so a chain the plan no longer needs is emptied on the next load
// rather than left with stale rules. Helper chains (STYX-FWD-1, ...) are
// declared where used; one that a later plan no longer uses stays behind,
// unreferenced.
//
// The jumps from the built-in chains are not in the files: an `-A FORWARD
// -j STYX-FWD` line would add one more jump on every load. Each file lists
// them as comment lines (`# hook: -t filter -I FORWARD 1 -j STYX-FWD`), and
// Hooks returns them as argument lists for iptables and ip6tables in the
// check form (`-t filter -C FORWARD -j STYX-FWD`). Whoever applies the
// files runs each check after the restore and, only if it fails, the
// insert form (InsertArgs). Both files declare the same chains, so the same
// hooks apply to iptables and ip6tables.
//
// Built-in chain policies are set (`:INPUT DROP [0:0]`) only for firewall
// policy drop. With policy accept or none they are never written: under
// --noflush such a line does not flush the chain but does set its policy.
// Consequently, switching a gateway from drop to accept leaves the
// built-in policies at DROP; the applier must reset them.
//
// # Verdicts
//
// An nft table is independent of other tables: its accept ends only its
// own chain. In iptables the styx chains share the built-in chains with
// other rules, so an nft accept becomes:
//   - ACCEPT in the filter chains under policy drop (styx owns the box,
//     and the built-in policy is DROP);
//   - RETURN otherwise (STYX-GUARD-*, and the filter chains under policy
//     accept): styx has no objection and the rest of the built-in chain
//     decides, as another nft table would.
//
// A drop is DROP everywhere. The nft policy drop of input, forward and
// output becomes a final `-j DROP` rule ("dropped by policy").
//
// # Sets
//
// iptables has no sets (ipset is not used), so every nft set is expanded:
// one rule per prefix. A rule that tests two sets (say `saddr @remote daddr
// @local`) jumps per element of the first into a helper chain that tests
// the second, so the rule count grows linearly with the number of
// prefixes, not with their product; a negated set (`saddr != @lan`) is a
// helper chain that returns for its elements first. Where the verdict is
// RETURN, a RETURN in a helper chain entered with -j would only return to
// the styx chain, so such rules use goto (-g) into the helper and into a
// continuation chain holding the rest of the styx chain: a RETURN there
// leaves the styx chain, as the nft accept leaves the nft chain.
//
// # Data planes
//
// With the kernel data plane tunnel traffic is proven by its IPsec policy:
// `-m policy --dir in|out --pol ipsec`, and `--pol none` for plaintext.
// With kernel-libipsec, decrypted packets carry no secpath and arrive on
// the TUN device ipsec0, so the same decisions are made on `-i/-o ipsec0`
// plus addresses. The header of each file says which variant it is.
//
// # NAT and the leak check
//
// nft checks for leaks at postrouting priority srcnat+10, after source NAT,
// where the route of an SNATed packet has been looked up again
// (nf_xfrm_me_harder). iptables has no filter hook after NAT: the leak
// check runs in mangle POSTROUTING, before nat POSTROUTING. With
// kernel-libipsec that changes nothing (the output device does not depend
// on the source address). With the kernel data plane a packet that only
// matches an IPsec policy after NAT still shows `--pol none` there: flows
// that styx's SNAT rules (and nat: rules with a destination) rewrite into a
// selector, and replies of published services (un-DNATed in nat
// POSTROUTING). The kernel variant therefore returns early for those before
// the leak drop; that they are encrypted then depends on the IPsec policy
// (a trap or drop shunt), not on this chain.
package iptables
