package nft

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/topology"
)

// Table is the name of the table styx owns.
const Table = "inet styx"

type family struct {
	v     string // "4" or "6"
	ip    string // "ip" or "ip6"
	addr  string // set type
	icmp  string
	snatF string // "ip" or "ip6" for snat/dnat "to"
}

var families = []family{
	{v: "4", ip: "ip", addr: "ipv4_addr", icmp: "icmp", snatF: "ip"},
	{v: "6", ip: "ip6", addr: "ipv6_addr", icmp: "icmpv6", snatF: "ip6"},
}

func (f family) is(a netip.Addr) bool { return a.Is4() == (f.v == "4") }

type renderer struct {
	fw   *plan.Firewall
	b    strings.Builder
	sets map[string]bool // non-empty sets by name
	lib  bool
}

func (r *renderer) line(depth int, format string, args ...any) {
	r.b.WriteString(strings.Repeat("\t", depth))
	fmt.Fprintf(&r.b, format, args...)
	r.b.WriteByte('\n')
}

// Render returns the nftables file for gateway gw. A gateway with firewall
// "none" still gets its NAT chains.
func Render(gw *plan.Gateway, source string) []byte {
	fw := gw.Firewall
	r := &renderer{fw: fw, sets: map[string]bool{}, lib: fw.Dataplane == topology.Libipsec}
	r.line(0, "#!/usr/sbin/nft -f")
	r.line(0, "# nftables for gateway %s, rendered by styx from %s -- do not edit, run styx render again.", gw.Name, source)
	if r.lib {
		r.line(0, "# variant: libipsec -- decrypted traffic has no IPsec secpath; tunnel traffic is")
		r.line(0, "# recognised by the TUN device ipsec0 (iifname/oifname \"ipsec0\") plus addresses.")
	} else {
		r.line(0, "# variant: kernel -- tunnel traffic is proven by its IPsec policy")
		r.line(0, "# (meta ipsec exists on the way in, rt ipsec exists on the way out).")
	}
	r.line(0, "# firewall policy: %s. Only table %s is replaced; other tables stay as they are.", fw.Policy, Table)
	r.line(0, "table %s {}", Table)
	r.line(0, "delete table %s", Table)
	r.line(0, "table %s {", Table)
	r.defineSets()
	if fw.Policy != "none" {
		r.guardIn()
		r.guardOut()
		if fw.Policy == "drop" {
			r.input()
			r.output()
		} else if len(r.fw.InputAllows()) > 0 {
			r.input()
		}
		r.forward()
		r.mss()
	}
	r.dnat()
	r.snat()
	r.line(0, "}")
	return []byte(r.b.String())
}

func prefixElems(ps []netip.Prefix) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		if p.IsSingleIP() {
			s[i] = p.Addr().String()
		} else {
			s[i] = p.String()
		}
	}
	return strings.Join(s, ", ")
}

func (r *renderer) set(name, comment string, f family, ps []netip.Prefix) {
	var mine []netip.Prefix
	for _, p := range ps {
		if f.is(p.Addr()) {
			mine = append(mine, p)
		}
	}
	if len(mine) == 0 {
		return
	}
	full := name + f.v
	r.sets[full] = true
	r.line(1, "# %s", comment)
	r.line(1, "set %s {", full)
	r.line(2, "type %s", f.addr)
	interval := false
	for _, p := range mine {
		interval = interval || !p.IsSingleIP()
	}
	if interval {
		r.line(2, "flags interval")
	}
	r.line(2, "elements = { %s }", prefixElems(mine))
	r.line(1, "}")
}

func hosts(as []netip.Addr) []netip.Prefix {
	out := make([]netip.Prefix, len(as))
	for i, a := range as {
		out[i] = netip.PrefixFrom(a, a.BitLen())
	}
	return out
}

func (r *renderer) defineSets() {
	fw := r.fw
	for _, f := range families {
		r.set("peers", "IKE peers: IKE and ESP are accepted only from them", f, hosts(fw.Peers))
		r.set("local", "local traffic selectors (what this gateway protects in its tunnels)", f, fw.LocalProt)
		r.set("remote", "remote traffic selectors (what the peers protect, and road-warrior pools)", f, fw.RemoteProt)
		r.set("lan", "this gateway's lan", f, fw.LAN)
		r.set("masq", "sources masqueraded to the internet", f, fw.Masq)
		for _, d := range fw.DNAT {
			r.set("svc_"+setName(d.Name)+"_src", "who may reach service "+d.Name+" (through IPsec)", f, d.From)
		}
	}
}

func setName(s string) string { return strings.ReplaceAll(s, "-", "_") }

func (r *renderer) has(set string, f family) bool { return r.sets[set+f.v] }

// tunnelIn is the match that proves a packet came out of a tunnel.
func (r *renderer) tunnelIn() string {
	if r.lib {
		return `iifname "ipsec0"`
	}
	return "meta ipsec exists"
}

func (r *renderer) notTunnelIn() string {
	if r.lib {
		return `iifname != "ipsec0"`
	}
	return "meta ipsec missing"
}

// tunnelOut is the match that proves a packet goes into a tunnel.
func (r *renderer) tunnelOut() string {
	if r.lib {
		return `oifname "ipsec0"`
	}
	return "rt ipsec exists"
}

func (r *renderer) notTunnelOut() string {
	if r.lib {
		return `oifname != "ipsec0"`
	}
	return "rt ipsec missing"
}

func (r *renderer) peerSrc(f family) string {
	if r.fw.AnyPeer || !r.has("peers", f) {
		return ""
	}
	return f.ip + " saddr @peers" + f.v + " "
}

func (r *renderer) peerDst(f family) string {
	if r.fw.AnyPeer || !r.has("peers", f) {
		return ""
	}
	return f.ip + " daddr @peers" + f.v + " "
}

func (r *renderer) chain(name, hook, priority, policy, comment string) {
	r.line(0, "")
	r.line(1, "# %s", comment)
	r.line(1, "chain %s {", name)
	r.line(2, "type %s hook %s priority %s; policy %s;", map[bool]string{true: "nat", false: "filter"}[strings.HasSuffix(name, "nat")], hook, priority, policy)
}

func (r *renderer) end() { r.line(1, "}") }

// ikeESP accepts IKE, NAT-T and ESP between this gateway and its peers.
func (r *renderer) ikeESP(dir string, f family, sport bool) {
	peer := r.peerSrc(f)
	if dir == "out" {
		peer = r.peerDst(f)
	}
	if !r.fw.AnyPeer && peer == "" {
		return
	}
	r.line(2, "%sudp dport { 500, 4500 } accept", peer)
	if sport {
		r.line(2, "%sudp sport { 500, 4500 } accept", peer)
	}
	r.line(2, "%smeta l4proto esp accept", peer)
}

// peerIKEESP renders ikeESP for every address family; a responder to
// any peer needs one family-agnostic set of rules, so it stops after one.
func (r *renderer) peerIKEESP(dir string, sport bool) {
	for _, f := range families {
		r.ikeESP(dir, f, sport)
		if r.fw.AnyPeer {
			return
		}
	}
}

func (r *renderer) guardIn() {
	if !r.has("remote", families[0]) && !r.has("remote", families[1]) {
		return
	}
	r.chain("guard_in", "prerouting", "mangle", "accept", "anti-spoofing: a remote protected prefix may only arrive out of a tunnel")
	for _, f := range families {
		if !r.has("remote", f) {
			continue
		}
		r.ikeESP("in", f, false)
		if ifs := r.tunnelIfs(); ifs != "" {
			r.line(2, "iifname %s accept comment \"decapsulated on a styx tunnel device\"", ifs)
		}
		r.line(2, "%s saddr @remote%s %s limit rate 10/minute log prefix \"styx-spoof \"", f.ip, f.v, r.notTunnelIn())
		r.line(2, "%s saddr @remote%s %s counter drop comment \"plaintext from a remote protected prefix\"", f.ip, f.v, r.notTunnelIn())
	}
	r.end()
}

func (r *renderer) guardOut() {
	if !r.has("remote", families[0]) && !r.has("remote", families[1]) {
		return
	}
	r.chain("guard_out", "postrouting", "srcnat + 10", "accept", "leak prevention: traffic for a remote protected prefix leaves only through a tunnel (checked after NAT)")
	for _, f := range families {
		if !r.has("remote", f) {
			continue
		}
		r.ikeESP("out", f, true)
		if ifs := r.tunnelIfs(); ifs != "" {
			r.line(2, "oifname %s accept comment \"into a styx tunnel device\"", ifs)
		}
		r.line(2, "%s daddr @remote%s %s limit rate 10/minute log prefix \"styx-leak \"", f.ip, f.v, r.notTunnelOut())
		r.line(2, "%s daddr @remote%s %s counter drop comment \"leak: no tunnel for a remote protected prefix\"", f.ip, f.v, r.notTunnelOut())
	}
	r.end()
}

func icmpEssentials(r *renderer) {
	r.line(2, "meta l4proto icmp icmp type { destination-unreachable, time-exceeded, parameter-problem, echo-request } accept")
	r.line(2, "meta l4proto ipv6-icmp icmpv6 type { destination-unreachable, packet-too-big, time-exceeded, parameter-problem, echo-request } accept")
	r.line(2, "meta l4proto ipv6-icmp icmpv6 type { nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert } ip6 hoplimit 255 accept")
}

func (r *renderer) input() {
	fw := r.fw
	r.chain("input", "input", "filter", fw.Policy, "traffic to the gateway itself")
	r.line(2, "ct state established,related accept")
	r.line(2, "ct state invalid counter drop")
	r.line(2, `iif "lo" accept`)
	if fw.Policy == "drop" {
		r.peerIKEESP("in", false)
		icmpEssentials(r)
		r.bgp("in")
	}
	for _, a := range fw.InputAllows() {
		r.allow(a)
	}
	if fw.Policy == "drop" {
		r.line(2, "counter comment \"dropped by policy\"")
	}
	r.end()
}

func (r *renderer) output() {
	r.chain("output", "output", "filter", "drop", "traffic from the gateway itself (default drop)")
	r.line(2, "ct state established,related accept")
	r.line(2, "ct state invalid counter drop")
	r.line(2, `oif "lo" accept`)
	r.peerIKEESP("out", true)
	icmpEssentials(r)
	r.bgp("out")
	for _, f := range families {
		if r.has("remote", f) {
			r.line(2, "%s daddr @remote%s %s accept comment \"the gateway's own traffic into its tunnels\"", f.ip, f.v, r.tunnelOut())
		}
		if r.has("lan", f) {
			r.line(2, "%s daddr @lan%s accept comment \"the gateway's own traffic into its lan\"", f.ip, f.v)
		}
	}
	for _, a := range r.fw.OutputAllows() {
		r.allow(a)
	}
	r.line(2, "counter comment \"dropped by policy\"")
	r.end()
}

// bgp accepts the BGP sessions over the tunnel devices, in or out.
func (r *renderer) bgp(dir string) {
	for _, p := range r.fw.BGP {
		f := famOf(p.Addr)
		if dir == "in" {
			r.line(2, "iifname %q %s saddr %s tcp dport 179 accept comment \"BGP from %s\"", p.Dev, f.ip, p.Addr, p.Peer)
		} else {
			r.line(2, "oifname %q %s daddr %s tcp dport 179 accept comment \"BGP to %s\"", p.Dev, f.ip, p.Addr, p.Peer)
		}
	}
}

// tunnelForward accepts forwarded traffic out of and into the tunnels.
func (r *renderer) tunnelForward() {
	for _, f := range families {
		if r.has("remote", f) && r.has("local", f) {
			r.line(2, "%s saddr @remote%s %s daddr @local%s %s counter accept comment \"out of a tunnel\"", f.ip, f.v, f.ip, f.v, r.tunnelIn())
			r.line(2, "%s saddr @local%s %s daddr @remote%s %s counter accept comment \"into a tunnel\"", f.ip, f.v, f.ip, f.v, r.tunnelOut())
		}
	}
	if ifs := r.tunnelIfs(); ifs != "" {
		r.line(2, "iifname %s counter accept comment \"out of a styx tunnel device\"", ifs)
		r.line(2, "oifname %s counter accept comment \"into a styx tunnel device\"", ifs)
	}
}

func (r *renderer) forward() {
	fw := r.fw
	r.chain("forward", "forward", "filter", fw.Policy, "forwarded traffic")
	r.line(2, "ct state established,related accept")
	if fw.Site != "" {
		r.line(2, "# site %s has several gateways: a flow may return through another one,", fw.Site)
		r.line(2, "# so tunnel traffic is accepted before conntrack's invalid drop")
		r.tunnelForward()
		r.line(2, "ct state invalid counter drop")
	} else {
		r.line(2, "ct state invalid counter drop")
		r.tunnelForward()
	}
	for _, s := range fw.SNAT {
		for _, f := range families {
			from, to := famPrefixes(s.From, f), famPrefixes(s.To, f)
			if len(to) == 0 || !f.is(s.Addr) || (len(s.From) > 0 && len(from) == 0) {
				continue
			}
			m := ""
			if len(from) > 0 {
				m = f.ip + " saddr { " + prefixElems(from) + " } "
			}
			r.line(2, "%s%s daddr { %s } counter accept comment \"into a tunnel after SNAT to %s\"", m, f.ip, prefixElems(to), s.Addr)
		}
	}
	for _, d := range fw.DNAT {
		f := famOf(d.To.Addr)
		r.line(2, "ct status dnat %s %s daddr %s %s dport %d counter accept comment \"service %s\"", r.tunnelIn(), f.ip, d.To.Addr, d.To.Proto, d.To.Port, d.Name)
	}
	for _, a := range fw.ForwardAllows() {
		r.allow(a)
	}
	for _, f := range families {
		if r.has("lan", f) {
			r.line(2, "ct state new %s daddr @lan%s %s saddr != @lan%s %s counter drop comment \"lan shield: no plaintext connections into the lan\"", f.ip, f.v, f.ip, f.v, r.notTunnelIn())
		}
	}
	if fw.Policy == "drop" {
		for _, f := range families {
			if r.has("masq", f) {
				out := ""
				if fw.MasqIf != "" {
					out = fmt.Sprintf("oifname %q ", fw.MasqIf)
				}
				r.line(2, "%s saddr @masq%s %s%s counter accept comment \"lan to the internet\"", f.ip, f.v, out, r.notTunnelOut())
			}
		}
		r.line(2, "counter comment \"dropped by policy\"")
	}
	r.end()
}

// allow renders one allow: flow (both families as needed).
func (r *renderer) allow(a plan.Allow) {
	for _, f := range families {
		from, to := famPrefixes(a.From, f), famPrefixes(a.To, f)
		if len(to) == 0 || (len(a.From) > 0 && len(from) == 0) {
			continue
		}
		var m []string
		if len(from) > 0 && !isAll(from) {
			m = append(m, f.ip+" saddr { "+prefixElems(from)+" }")
		}
		if !a.Input && !isAll(to) {
			// input: addressed to the gateway itself, whichever of its addresses
			m = append(m, f.ip+" daddr { "+prefixElems(to)+" }")
		} else if isAll(to) {
			m = append(m, "meta nfproto ipv"+f.v)
		}
		if a.Tunnel {
			m = append(m, r.tunnelIn())
		}
		for _, p := range portMatches(a.Ports, f) {
			r.line(2, "%s %scounter accept comment %s", strings.Join(m, " "), p, comment(a.Why))
		}
	}
}

func isAll(ps []netip.Prefix) bool { return len(ps) == 1 && ps[0].Bits() == 0 }

// portMatches returns the protocol/port matches for ports (with a
// trailing space), one per rule.
func portMatches(ports []topology.Port, f family) []string {
	byProto := map[string][]string{}
	var order []string
	for _, p := range ports {
		switch p.Proto {
		case "any":
			return []string{""}
		case "icmp", "ipv6-icmp", "gre", "esp":
			if (p.Proto == "icmp" && f.v != "4") || (p.Proto == "ipv6-icmp" && f.v != "6") {
				continue
			}
			if _, ok := byProto[p.Proto]; !ok {
				order = append(order, p.Proto)
			}
			byProto[p.Proto] = nil
			continue
		}
		if _, ok := byProto[p.Proto]; !ok {
			order = append(order, p.Proto)
		}
		v := strconv.Itoa(int(p.From))
		if p.To != p.From {
			v += "-" + strconv.Itoa(int(p.To))
		}
		byProto[p.Proto] = append(byProto[p.Proto], v)
	}
	var out []string
	for _, proto := range order {
		ports := byProto[proto]
		if len(ports) == 0 {
			out = append(out, "meta l4proto "+proto+" ")
			continue
		}
		out = append(out, proto+" dport { "+strings.Join(ports, ", ")+" } ")
	}
	return out
}

func famPrefixes(ps []netip.Prefix, f family) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if f.is(p.Addr()) {
			out = append(out, p)
		}
	}
	return out
}

func famOf(a netip.Addr) family {
	if a.Is4() {
		return families[0]
	}
	return families[1]
}

func (r *renderer) mss() {
	fw := r.fw
	if fw.MSS4 == 0 || (!r.has("remote", families[0]) && !r.has("remote", families[1])) {
		return
	}
	r.chain("mss", "forward", "mangle", "accept", "clamp TCP MSS on tunnel paths, both directions ("+fw.MSSWhy+")")
	for _, f := range families {
		if !r.has("remote", f) {
			continue
		}
		mss := fw.MSS4
		if f.v == "6" {
			mss = fw.MSS6
		}
		for _, dir := range []string{"daddr", "saddr"} {
			r.line(2, "%s %s @remote%s tcp flags & (syn | rst) == syn tcp option maxseg size > %d tcp option maxseg size set %d", f.ip, dir, f.v, mss, mss)
		}
	}
	if ifs := r.tunnelIfs(); ifs != "" {
		// tunnel devices have their own mtu: clamp to the route's
		r.line(2, "oifname %s tcp flags & (syn | rst) == syn tcp option maxseg size set rt mtu", ifs)
		r.line(2, "iifname %s tcp flags & (syn | rst) == syn tcp option maxseg size set rt mtu", ifs)
	}
	r.end()
}

func (r *renderer) dnat() {
	fw := r.fw
	if len(fw.DNAT) == 0 {
		return
	}
	r.chain("dstnat", "prerouting", "dstnat", "accept", "published services: DNAT only for packets that came through IPsec")
	for _, d := range fw.DNAT {
		f := famOf(d.Publish.Addr)
		src := ""
		if r.has("svc_"+setName(d.Name)+"_src", f) {
			src = fmt.Sprintf("%s saddr @svc_%s_src%s ", f.ip, setName(d.Name), f.v)
		}
		to := netip.AddrPortFrom(d.To.Addr, d.To.Port).String()
		r.line(2, "%s %s%s daddr %s %s dport %d dnat %s to %s comment %s", r.tunnelIn(), src, f.ip, d.Publish.Addr, d.Publish.Proto, d.Publish.Port, f.snatF, to, comment(d.Why))
	}
	r.end()
}

func (r *renderer) snat() {
	fw := r.fw
	if len(fw.SNAT) == 0 && len(fw.Masq) == 0 && len(fw.PoolMasq) == 0 && len(fw.NAT) == 0 {
		return
	}
	r.chain("srcnat", "postrouting", "srcnat", "accept", "source NAT: tunnel SNAT first, then masquerade with tunnel traffic exempt")
	for _, s := range fw.SNAT {
		f := famOf(s.Addr)
		from, to, except := famPrefixes(s.From, f), famPrefixes(s.To, f), famPrefixes(s.Except, f)
		if len(to) == 0 || (len(s.From) > 0 && len(from) == 0) {
			continue // nothing of this family: never widen to "any source"
		}
		m := ""
		if len(from) > 0 {
			m += f.ip + " saddr { " + prefixElems(from) + " } "
		}
		if len(except) > 0 {
			m += f.ip + " saddr != { " + prefixElems(except) + " } "
		}
		r.line(2, "%s%s daddr { %s } snat %s to %s comment %s", m, f.ip, prefixElems(to), f.snatF, s.Addr, comment(s.Why))
	}
	for _, p := range fw.PoolMasq {
		f := famOf(p.Addr())
		if r.has("lan", f) {
			r.line(2, "%s saddr %s %s daddr @lan%s masquerade comment \"road warriors reach the lan as the gateway\"", f.ip, p, f.ip, f.v)
		}
	}
	for _, n := range fw.NAT {
		f := famOf(n.SNAT)
		m := ""
		if n.Iface != "" {
			m += fmt.Sprintf("oifname %q ", n.Iface)
		}
		if from := famPrefixes(n.From, f); len(from) > 0 {
			m += f.ip + " saddr { " + prefixElems(from) + " } "
		}
		if to := famPrefixes(n.To, f); len(to) > 0 {
			m += f.ip + " daddr { " + prefixElems(to) + " } "
		}
		r.line(2, "%s%s snat %s to %s comment \"nat rule from the topology\"", m, r.fam(f), f.snatF, n.SNAT)
	}
	for _, f := range families {
		if !r.has("masq", f) {
			continue
		}
		m := ""
		if fw.MasqIf != "" {
			m = fmt.Sprintf("oifname %q ", fw.MasqIf)
		}
		exempt := r.notTunnelOut()
		if r.lib && r.has("remote", f) {
			exempt += fmt.Sprintf(" %s daddr != @remote%s", f.ip, f.v)
		}
		if r.has("lan", f) {
			exempt += fmt.Sprintf(" %s daddr != @lan%s", f.ip, f.v)
		}
		r.line(2, "%s%s saddr @masq%s %s masquerade comment \"lan to the internet; tunnel traffic exempt\"", m, f.ip, f.v, exempt)
	}
	r.end()
}

// tunnelIfs is an anonymous set of styx's tunnel device names, or "".
func (r *renderer) tunnelIfs() string {
	if len(r.fw.TunnelIfs) == 0 {
		return ""
	}
	q := make([]string, len(r.fw.TunnelIfs))
	for i, n := range r.fw.TunnelIfs {
		q[i] = `"` + n + `"`
	}
	return "{ " + strings.Join(q, ", ") + " }"
}

// comment quotes a rule comment for nft, which does not accept escaped
// double quotes inside one.
func comment(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, "'") + `"`
}

// fam returns a family match for rules that would otherwise match both.
func (r *renderer) fam(f family) string { return "meta nfproto ipv" + f.v }
