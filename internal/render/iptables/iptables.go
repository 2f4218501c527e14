package iptables

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/topology"
)

// Names of the chains styx owns.
const (
	GuardIn  = "STYX-GUARD-IN"
	GuardOut = "STYX-GUARD-OUT"
	MSS      = "STYX-MSS"
	Input    = "STYX-IN"
	Forward  = "STYX-FWD"
	Output   = "STYX-OUT"
	DNAT     = "STYX-DNAT"
	SNAT     = "STYX-SNAT"
)

// hook is a jump from a built-in chain into a styx chain.
type hook struct {
	table, builtin, chain, why string
}

// hooks lists every styx chain in file order.
var hooks = []hook{
	{"mangle", "PREROUTING", GuardIn, "anti-spoofing: a remote protected prefix may only arrive out of a tunnel"},
	{"mangle", "POSTROUTING", GuardOut, "leak prevention: traffic for a remote protected prefix leaves only through a tunnel"},
	{"mangle", "FORWARD", MSS, "clamp TCP MSS on tunnel paths, both directions"},
	{"filter", "INPUT", Input, "traffic to the gateway itself"},
	{"filter", "FORWARD", Forward, "forwarded traffic"},
	{"filter", "OUTPUT", Output, "traffic from the gateway itself"},
	{"nat", "PREROUTING", DNAT, "published services: DNAT only for packets that came through IPsec"},
	{"nat", "POSTROUTING", SNAT, "source NAT: tunnel SNAT first, then masquerade with tunnel traffic exempt"},
}

var tables = []string{"mangle", "filter", "nat"}

type family struct {
	v    int    // 4 or 6
	name string // IPv4, IPv6
	cmd  string // iptables, ip6tables
}

var (
	fam4 = family{v: 4, name: "IPv4", cmd: "iptables"}
	fam6 = family{v: 6, name: "IPv6", cmd: "ip6tables"}
)

func (f family) is(a netip.Addr) bool { return a.IsValid() && a.Is4() == (f.v == 4) }

// Render returns the iptables-restore file (v4) and the ip6tables-restore
// file (v6) for gateway gw. A gateway with firewall "none" still gets its
// NAT chains.
func Render(gw *plan.Gateway, source string) (v4, v6 []byte) {
	r4, r6 := newRenderer(gw, fam4), newRenderer(gw, fam6)
	r4.render()
	r6.render()
	used := usedHooks(r4, r6)
	return r4.file(source, used), r6.file(source, used)
}

// Hooks returns the jumps from the built-in chains into the styx chains the
// plan uses, as iptables (and, unchanged, ip6tables) arguments in check
// form: ["-t", "filter", "-C", "FORWARD", "-j", "STYX-FWD"]. Whoever applies
// the rules runs each check after loading the files and, if the rule is
// missing, InsertArgs of it. The order is fixed: mangle, filter, nat.
func Hooks(gw *plan.Gateway) [][]string {
	r4, r6 := newRenderer(gw, fam4), newRenderer(gw, fam6)
	r4.render()
	r6.render()
	var out [][]string
	for _, h := range usedHooks(r4, r6) {
		out = append(out, []string{"-t", h.table, "-C", h.builtin, "-j", h.chain})
	}
	return out
}

// InsertArgs turns a check from Hooks into the insert that puts the jump
// first in its built-in chain: "-C FORWARD" becomes "-I FORWARD 1".
func InsertArgs(check []string) []string {
	out := make([]string, 0, len(check)+1)
	for i := 0; i < len(check); i++ {
		if check[i] == "-C" && i+1 < len(check) {
			out = append(out, "-I", check[i+1], "1")
			i++
			continue
		}
		out = append(out, check[i])
	}
	return out
}

func usedHooks(rs ...*renderer) []hook {
	var out []hook
	for _, h := range hooks {
		for _, r := range rs {
			if len(r.top[h.chain].lines) > 0 {
				out = append(out, h)
				break
			}
		}
	}
	return out
}

// chainBuf is one chain and its rules (without "-A NAME").
type chainBuf struct {
	name    string
	lines   []string
	helpers []*chainBuf // helper chains of a styx chain, in creation order
}

type renderer struct {
	gw  *plan.Gateway
	fw  *plan.Firewall
	f   family
	lib bool
	top map[string]*chainBuf
}

func newRenderer(gw *plan.Gateway, f family) *renderer {
	r := &renderer{gw: gw, fw: gw.Firewall, f: f, lib: gw.Firewall.Dataplane == topology.Libipsec, top: map[string]*chainBuf{}}
	for _, h := range hooks {
		r.top[h.chain] = &chainBuf{name: h.chain}
	}
	return r
}

// writer appends rules to a styx chain. cur is where rules go: the styx
// chain itself, or after a RETURN rule that needed goto, its continuation.
type writer struct {
	top    *chainBuf
	cur    *chainBuf
	accept string // the nft accept: ACCEPT or RETURN
}

func (r *renderer) chain(name, accept string) *writer {
	c := r.top[name]
	return &writer{top: c, cur: c, accept: accept}
}

func (w *writer) helper() *chainBuf {
	h := &chainBuf{name: fmt.Sprintf("%s-%d", w.top.name, len(w.top.helpers)+1)}
	w.top.helpers = append(w.top.helpers, h)
	return h
}

func (c *chainBuf) rule(parts ...string) {
	var s []string
	for _, p := range parts {
		if p != "" {
			s = append(s, p)
		}
	}
	c.lines = append(c.lines, strings.Join(s, " "))
}

// term is one condition of a rule: one of alts must match (or, with neg,
// none of them). A term with one alternative is a plain match.
type term struct {
	alts []string
	neg  bool
}

func m(s string) term           { return term{alts: []string{s}} }
func anyOf(alts []string) term  { return term{alts: alts} }
func noneOf(alts []string) term { return term{alts: alts, neg: true} }

// comment returns the comment match for an nft rule comment: no double
// quotes or backslashes (iptables-restore would read them as quoting) and
// at most the 255 bytes xt_comment holds.
func comment(s string) string {
	if s == "" {
		return ""
	}
	s = strings.NewReplacer(`"`, "'", `\`, "/", "\n", " ", "\r", " ").Replace(s)
	for len(s) > 255 {
		_, n := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-n]
	}
	return `-m comment --comment "` + s + `"`
}

// add renders one nft rule: the conjunction of terms, then target (a -j
// argument such as "DROP" or "DNAT --to-destination 10.0.0.2:80"). A term
// with several alternatives is a set: the first is expanded in this
// chain, further ones and negated ones are tested in helper chains.
func (w *writer) add(why, target string, terms ...term) {
	var ts []term
	for _, t := range terms {
		switch {
		case t.neg && slices.Contains(t.alts, ""):
			return // "not anything": the rule never matches
		case t.neg && len(t.alts) == 0:
		case t.neg && len(t.alts) == 1:
			ts = append(ts, m("! "+t.alts[0]))
		case len(t.alts) == 0:
			return // empty set: the rule never matches
		default:
			ts = append(ts, t)
		}
	}
	first := -1
	var rest []term
	var negs []string
	for i, t := range ts {
		switch {
		case t.neg:
			negs = append(negs, t.alts...)
		case len(t.alts) > 1 && first < 0:
			first = i
		case len(t.alts) > 1:
			rest = append(rest, t)
		}
	}
	alts := []string{""}
	if first >= 0 {
		alts = ts[first].alts
	}
	// parts returns the rule in this chain for one alternative of the
	// first set: plain terms in their order, the alternative in its place.
	parts := func(alt string) []string {
		var p []string
		for i, t := range ts {
			switch {
			case i == first:
				p = append(p, alt)
			case !t.neg && len(t.alts) == 1:
				p = append(p, t.alts[0])
			}
		}
		return p
	}
	c := comment(why)
	if len(rest) == 0 && len(negs) == 0 {
		for _, a := range alts {
			w.cur.rule(append(parts(a), c, "-j "+target)...)
		}
		return
	}
	if target != "RETURN" {
		// a final verdict (or TCPMSS): nested helper chains entered with -j;
		// falling off a helper means "no match", back to the caller.
		h := w.helper()
		for _, a := range alts {
			w.cur.rule(append(parts(a), c, "-j "+h.name)...)
		}
		w.nested(h, rest, negs, c, target)
		return
	}
	// RETURN must leave the styx chain: goto into the helper and, for
	// "no match", goto a continuation that holds the rest of the chain.
	h, cont := w.helper(), w.helper()
	for _, a := range alts {
		w.cur.rule(append(parts(a), c, "-g "+h.name)...)
	}
	w.cur.rule("-g " + cont.name)
	w.gotos(h, rest, negs, c, cont)
	w.cur = cont
}

func (w *writer) nested(h *chainBuf, rest []term, negs []string, c, target string) {
	for _, n := range negs {
		h.rule(n, "-j RETURN")
	}
	switch len(rest) {
	case 0:
		h.rule(c, "-j "+target)
	case 1:
		for _, a := range rest[0].alts {
			h.rule(a, c, "-j "+target)
		}
	default:
		next := w.helper()
		for _, a := range rest[0].alts {
			h.rule(a, c, "-j "+next.name)
		}
		w.nested(next, rest[1:], nil, c, target)
	}
}

func (w *writer) gotos(h *chainBuf, rest []term, negs []string, c string, cont *chainBuf) {
	for _, n := range negs {
		h.rule(n, "-g "+cont.name)
	}
	switch len(rest) {
	case 0:
		h.rule(c, "-j RETURN")
	case 1:
		for _, a := range rest[0].alts {
			h.rule(a, c, "-j RETURN")
		}
		h.rule("-g " + cont.name)
	default:
		next := w.helper()
		for _, a := range rest[0].alts {
			h.rule(a, c, "-g "+next.name)
		}
		h.rule("-g " + cont.name)
		w.gotos(next, rest[1:], nil, c, cont)
	}
}

// ---- addresses and matches

func (r *renderer) mine(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if r.f.is(p.Addr()) {
			out = append(out, p)
		}
	}
	return out
}

func pfx(p netip.Prefix) string {
	p = p.Masked()
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// addrs returns one match per prefix; a /0 matches everything ("").
func addrs(flag string, ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		if p.Bits() != 0 {
			out[i] = flag + " " + pfx(p)
		}
	}
	return out
}

func (r *renderer) src(ps []netip.Prefix) term { return anyOf(addrs("-s", r.mine(ps))) }
func (r *renderer) dst(ps []netip.Prefix) term { return anyOf(addrs("-d", r.mine(ps))) }

func (r *renderer) has(ps []netip.Prefix) bool { return len(r.mine(ps)) > 0 }

func (r *renderer) peers() []netip.Prefix {
	out := make([]netip.Prefix, len(r.fw.Peers))
	for i, a := range r.fw.Peers {
		out[i] = netip.PrefixFrom(a, a.BitLen())
	}
	return out
}

// tunnelIn is the match that proves a packet came out of a tunnel.
func (r *renderer) tunnelIn() string {
	if r.lib {
		return "-i ipsec0"
	}
	return "-m policy --dir in --pol ipsec"
}

func (r *renderer) notTunnelIn() string {
	if r.lib {
		return "! -i ipsec0"
	}
	return "-m policy --dir in --pol none"
}

// tunnelOut is the match that proves a packet goes into a tunnel.
func (r *renderer) tunnelOut() string {
	if r.lib {
		return "-o ipsec0"
	}
	return "-m policy --dir out --pol ipsec"
}

func (r *renderer) notTunnelOut() string {
	if r.lib {
		return "! -o ipsec0"
	}
	return "-m policy --dir out --pol none"
}

const (
	established = "-m conntrack --ctstate RELATED,ESTABLISHED"
	invalid     = "-m conntrack --ctstate INVALID"
	ctNew       = "-m conntrack --ctstate NEW"
	ctDNAT      = "-m conntrack --ctstate DNAT"
	ikePorts    = "500,4500"
)

// ---- chains

func (r *renderer) render() {
	fw := r.fw
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
}

func (r *renderer) filterAccept() string {
	if r.fw.Policy == "drop" {
		return "ACCEPT"
	}
	return "RETURN"
}

// ikeESP accepts IKE, NAT-T and ESP between this gateway and its peers
// (from any address for AnyPeer; not at all without peers in this family).
func (r *renderer) ikeESP(w *writer, out, sport bool) {
	var peer term
	switch {
	case r.fw.AnyPeer:
		peer = m("")
	case !r.has(r.peers()):
		return
	case out:
		peer = r.dst(r.peers())
	default:
		peer = r.src(r.peers())
	}
	w.add("", w.accept, peer, m("-p udp -m multiport --dports "+ikePorts))
	if sport {
		w.add("", w.accept, peer, m("-p udp -m multiport --sports "+ikePorts))
	}
	w.add("", w.accept, peer, m("-p esp"))
}

func (r *renderer) guardIn() {
	if !r.has(r.fw.RemoteProt) {
		return
	}
	w := r.chain(GuardIn, "RETURN")
	r.ikeESP(w, false, false)
	w.add("plaintext from a remote protected prefix", "DROP", r.src(r.fw.RemoteProt), m(r.notTunnelIn()))
}

func (r *renderer) guardOut() {
	fw := r.fw
	if !r.has(fw.RemoteProt) {
		return
	}
	w := r.chain(GuardOut, "RETURN")
	r.ikeESP(w, true, true)
	if !r.lib {
		// checked before nat POSTROUTING: packets that match their IPsec
		// policy only after NAT would show --pol none here
		for _, s := range fw.SNAT {
			to := r.mine(s.To)
			if len(to) == 0 || !r.f.is(s.Addr) {
				continue
			}
			var ts []term
			if from := r.mine(s.From); len(from) > 0 {
				ts = append(ts, r.src(from))
			}
			ts = append(ts, noneOf(addrs("-s", r.mine(s.Except))), r.dst(to))
			w.add("SNAT to "+s.Addr.String()+" follows in nat POSTROUTING; its IPsec policy matches only after it", "RETURN", ts...)
		}
		for _, n := range fw.NAT {
			to := r.mine(n.To)
			if len(to) == 0 || !r.f.is(n.SNAT) {
				continue
			}
			var ts []term
			if n.Iface != "" {
				ts = append(ts, m("-o "+n.Iface))
			}
			if from := r.mine(n.From); len(from) > 0 {
				ts = append(ts, r.src(from))
			}
			ts = append(ts, r.dst(to))
			w.add("nat rule: SNAT to "+n.SNAT.String()+" follows in nat POSTROUTING; its IPsec policy matches only after it", "RETURN", ts...)
		}
		for _, d := range fw.DNAT {
			if !r.f.is(d.To.Addr) {
				continue
			}
			w.add("service "+d.Name+": the reply is un-DNATed in nat POSTROUTING; its IPsec policy matches only after it", "RETURN",
				m("-s "+d.To.Addr.String()), m(fmt.Sprintf("-p %s --sport %d", d.To.Proto, d.To.Port)), m(ctDNAT+" --ctdir REPLY"))
		}
	}
	w.add("leak: no tunnel for a remote protected prefix", "DROP", r.dst(fw.RemoteProt), m(r.notTunnelOut()))
}

// bgp accepts the BGP sessions of this family over the tunnel devices,
// in or out.
func (r *renderer) bgp(w *writer, dir string) {
	for _, p := range r.fw.BGP {
		if !r.f.is(p.Addr) {
			continue
		}
		if dir == "in" {
			w.add("BGP from "+p.Peer, w.accept, m("-i "+p.Dev), m("-s "+p.Addr.String()), m("-p tcp --dport 179"))
		} else {
			w.add("BGP to "+p.Peer, w.accept, m("-o "+p.Dev), m("-d "+p.Addr.String()), m("-p tcp --dport 179"))
		}
	}
}

// icmpEssentials accepts the ICMP of this family that must pass (RFC 4890
// for ICMPv6; neighbour discovery only from on-link senders).
func (r *renderer) icmpEssentials(w *writer) {
	if r.f.v == 4 {
		for _, t := range []string{"destination-unreachable", "time-exceeded", "parameter-problem", "echo-request"} {
			w.add("", w.accept, m("-p icmp --icmp-type "+t))
		}
		return
	}
	for _, t := range []string{"destination-unreachable", "packet-too-big", "time-exceeded", "parameter-problem", "echo-request"} {
		w.add("", w.accept, m("-p ipv6-icmp --icmpv6-type "+t))
	}
	// neighbour discovery, types 133-136
	for _, t := range []string{"router-solicitation", "router-advertisement", "neighbour-solicitation", "neighbour-advertisement"} {
		w.add("", w.accept, m("-p ipv6-icmp --icmpv6-type "+t+" -m hl --hl-eq 255"))
	}
}

func (r *renderer) input() {
	fw := r.fw
	w := r.chain(Input, r.filterAccept())
	w.add("", w.accept, m(established))
	w.add("", "DROP", m(invalid))
	w.add("", w.accept, m("-i lo"))
	if fw.Policy == "drop" {
		r.ikeESP(w, false, false)
		r.icmpEssentials(w)
		r.bgp(w, "in")
	}
	for _, a := range r.fw.InputAllows() {
		r.allow(w, a)
	}
	if fw.Policy == "drop" {
		w.add("dropped by policy", "DROP")
	}
}

func (r *renderer) output() {
	fw := r.fw
	w := r.chain(Output, r.filterAccept())
	w.add("", w.accept, m(established))
	w.add("", "DROP", m(invalid))
	w.add("", w.accept, m("-o lo"))
	r.ikeESP(w, true, true)
	r.icmpEssentials(w)
	r.bgp(w, "out")
	if r.has(fw.RemoteProt) {
		w.add("the gateway's own traffic into its tunnels", w.accept, r.dst(fw.RemoteProt), m(r.tunnelOut()))
	}
	if r.has(fw.LAN) {
		w.add("the gateway's own traffic into its lan", w.accept, r.dst(fw.LAN))
	}
	for _, a := range fw.OutputAllows() {
		r.allow(w, a)
	}
	w.add("dropped by policy", "DROP")
}

func (r *renderer) forward() {
	fw := r.fw
	w := r.chain(Forward, r.filterAccept())
	w.add("", w.accept, m(established))
	tunnels := func() {
		if r.has(fw.RemoteProt) && r.has(fw.LocalProt) {
			w.add("out of a tunnel", w.accept, r.src(fw.RemoteProt), r.dst(fw.LocalProt), m(r.tunnelIn()))
			w.add("into a tunnel", w.accept, r.src(fw.LocalProt), r.dst(fw.RemoteProt), m(r.tunnelOut()))
		}
		for _, dev := range fw.TunnelIfs {
			w.add("out of a styx tunnel device", w.accept, m("-i "+dev))
			w.add("into a styx tunnel device", w.accept, m("-o "+dev))
		}
	}
	if fw.Site != "" {
		// several gateways in the site: a flow may return through another
		// one, so tunnel traffic is accepted before the invalid drop
		tunnels()
		w.add("", "DROP", m(invalid))
	} else {
		w.add("", "DROP", m(invalid))
		tunnels()
	}
	for _, s := range fw.SNAT {
		from, to := r.mine(s.From), r.mine(s.To)
		if len(to) == 0 || !r.f.is(s.Addr) {
			continue
		}
		var ts []term
		if len(from) > 0 {
			ts = append(ts, r.src(from))
		}
		w.add("into a tunnel after SNAT to "+s.Addr.String(), w.accept, append(ts, r.dst(to))...)
	}
	for _, d := range fw.DNAT {
		if !r.f.is(d.To.Addr) {
			continue
		}
		w.add("service "+d.Name, w.accept, m(ctDNAT), m(r.tunnelIn()), m("-d "+d.To.Addr.String()),
			m(fmt.Sprintf("-p %s --dport %d", d.To.Proto, d.To.Port)))
	}
	for _, a := range fw.ForwardAllows() {
		r.allow(w, a)
	}
	if r.has(fw.LAN) {
		w.add("lan shield: no plaintext connections into the lan", "DROP",
			m(ctNew), r.dst(fw.LAN), noneOf(addrs("-s", r.mine(fw.LAN))), m(r.notTunnelIn()))
	}
	if fw.Policy == "drop" {
		if out, ok := r.masqOut(); ok && r.has(fw.Masq) {
			w.add("lan to the internet", w.accept, append([]term{r.src(fw.Masq)}, out...)...)
		}
		w.add("dropped by policy", "DROP")
	}
}

// allow renders one allow: flow for this family, one rule per protocol.
func (r *renderer) allow(w *writer, a plan.Allow) {
	from, to := r.mine(a.From), r.mine(a.To)
	if len(to) == 0 || (len(a.From) > 0 && len(from) == 0) {
		return
	}
	var ts []term
	if len(from) > 0 && !isAll(from) {
		ts = append(ts, r.src(from))
	}
	ts = append(ts, r.dst(to))
	if a.Tunnel {
		ts = append(ts, m(r.tunnelIn()))
	}
	for _, p := range r.portTerms(a.Ports) {
		w.add(a.Why, w.accept, append(slices.Clip(ts), p)...)
	}
}

func isAll(ps []netip.Prefix) bool { return len(ps) == 1 && ps[0].Bits() == 0 }

// portTerms returns the protocol/port condition of each rule an allow
// needs in this family: one per protocol, in order of appearance, as nft
// renders them. Port lists become multiport matches of at most 15 ports
// (a range counts twice).
func (r *renderer) portTerms(ports []topology.Port) []term {
	byProto := map[string][]string{}
	var order []string
	for _, p := range ports {
		switch p.Proto {
		case "any":
			return []term{m("")}
		case "icmp", "ipv6-icmp":
			if (p.Proto == "icmp") != (r.f.v == 4) {
				continue
			}
		}
		if _, ok := byProto[p.Proto]; !ok {
			order = append(order, p.Proto)
			byProto[p.Proto] = nil
		}
		switch p.Proto {
		case "tcp", "udp", "sctp":
			v := strconv.Itoa(int(p.From))
			if p.To != p.From {
				v += ":" + strconv.Itoa(int(p.To))
			}
			byProto[p.Proto] = append(byProto[p.Proto], v)
		}
	}
	var out []term
	for _, proto := range order {
		ps := byProto[proto]
		switch {
		case len(ps) == 0: // icmp, gre, esp: the protocol alone
			out = append(out, m("-p "+proto))
		case len(ps) == 1:
			out = append(out, m("-p "+proto+" --dport "+ps[0]))
		default:
			var alts []string
			var chunk []string
			n := 0
			for _, p := range ps {
				w := 1 + strings.Count(p, ":")
				if n+w > 15 {
					alts = append(alts, "-p "+proto+" -m multiport --dports "+strings.Join(chunk, ","))
					chunk, n = nil, 0
				}
				chunk, n = append(chunk, p), n+w
			}
			alts = append(alts, "-p "+proto+" -m multiport --dports "+strings.Join(chunk, ","))
			out = append(out, anyOf(alts))
		}
	}
	return out
}

func (r *renderer) mss() {
	fw := r.fw
	if fw.MSS4 == 0 || !r.has(fw.RemoteProt) {
		return
	}
	mss := fw.MSS4
	if r.f.v == 6 {
		mss = fw.MSS6
	}
	w := r.chain(MSS, "RETURN")
	syn := fmt.Sprintf("-p tcp --tcp-flags SYN,RST SYN -m tcpmss --mss %d:65535", mss+1)
	w.add("", fmt.Sprintf("TCPMSS --set-mss %d", mss), r.dst(fw.RemoteProt), m(syn))
	w.add("", fmt.Sprintf("TCPMSS --set-mss %d", mss), r.src(fw.RemoteProt), m(syn))
}

func (r *renderer) dnat() {
	w := r.chain(DNAT, "RETURN")
	for _, d := range r.fw.DNAT {
		if !r.f.is(d.Publish.Addr) {
			continue
		}
		ts := []term{m(r.tunnelIn())}
		if r.has(d.From) {
			ts = append(ts, r.src(d.From))
		}
		ts = append(ts, m("-d "+d.Publish.Addr.String()), m(fmt.Sprintf("-p %s --dport %d", d.Publish.Proto, d.Publish.Port)))
		to := netip.AddrPortFrom(d.To.Addr, d.To.Port).String()
		w.add(d.Why, "DNAT --to-destination "+to, ts...)
	}
}

func (r *renderer) snat() {
	fw := r.fw
	w := r.chain(SNAT, "RETURN")
	for _, s := range fw.SNAT {
		if !r.f.is(s.Addr) {
			continue
		}
		from, to, except := r.mine(s.From), r.mine(s.To), r.mine(s.Except)
		if len(to) == 0 {
			continue
		}
		var ts []term
		if len(from) > 0 {
			ts = append(ts, r.src(from))
		}
		ts = append(ts, noneOf(addrs("-s", except)), r.dst(to))
		w.add(s.Why, "SNAT --to-source "+s.Addr.String(), ts...)
	}
	for _, p := range fw.PoolMasq {
		if r.f.is(p.Addr()) && r.has(fw.LAN) {
			w.add("road warriors reach the lan as the gateway", "MASQUERADE", m("-s "+pfx(p)), r.dst(fw.LAN))
		}
	}
	for _, n := range fw.NAT {
		if !r.f.is(n.SNAT) {
			continue
		}
		var ts []term
		if n.Iface != "" {
			ts = append(ts, m("-o "+n.Iface))
		}
		if from := r.mine(n.From); len(from) > 0 {
			ts = append(ts, r.src(from))
		}
		if to := r.mine(n.To); len(to) > 0 {
			ts = append(ts, r.dst(to))
		}
		w.add("nat rule from the topology", "SNAT --to-source "+n.SNAT.String(), ts...)
	}
	if r.has(fw.Masq) {
		out, ok := r.masqOut()
		if !ok {
			return
		}
		var ts []term
		if fw.MasqIf != "" {
			ts = append(ts, out[0])
			out = out[1:]
		}
		ts = append(ts, r.src(fw.Masq))
		ts = append(ts, out...)
		if r.lib {
			ts = append(ts, noneOf(addrs("-d", r.mine(fw.RemoteProt))))
		}
		ts = append(ts, noneOf(addrs("-d", r.mine(fw.LAN))))
		w.add("lan to the internet; tunnel traffic exempt", "MASQUERADE", ts...)
	}
}

// masqOut returns the output conditions of masqueraded traffic: the
// masquerade interface, if any, and not into a tunnel. With libipsec
// "-o eth0" already implies "! -o ipsec0" (and iptables allows one -o),
// and masquerading "into" ipsec0 never matches.
func (r *renderer) masqOut() ([]term, bool) {
	var ts []term
	if r.fw.MasqIf != "" {
		ts = append(ts, m("-o "+r.fw.MasqIf))
	}
	switch {
	case !r.lib || r.fw.MasqIf == "":
		ts = append(ts, m(r.notTunnelOut()))
	case r.fw.MasqIf == "ipsec0":
		return nil, false
	}
	return ts, true
}

// ---- output

// hasFamily reports whether the firewall names any address of this family.
func (r *renderer) hasFamily() bool {
	fw := r.fw
	for _, ps := range [][]netip.Prefix{r.peers(), fw.LocalProt, fw.RemoteProt, fw.LAN, fw.Masq, fw.PoolMasq} {
		if r.has(ps) {
			return true
		}
	}
	for _, s := range fw.SNAT {
		if r.f.is(s.Addr) || r.has(s.From) || r.has(s.To) {
			return true
		}
	}
	for _, d := range fw.DNAT {
		if r.f.is(d.Publish.Addr) || r.f.is(d.To.Addr) || r.has(d.From) {
			return true
		}
	}
	for _, a := range fw.Allow {
		if r.has(a.From) || r.has(a.To) {
			return true
		}
	}
	for _, n := range fw.NAT {
		if r.f.is(n.SNAT) || r.has(n.From) || r.has(n.To) {
			return true
		}
	}
	return false
}

func (r *renderer) file(source string, used []hook) []byte {
	var b strings.Builder
	line := func(format string, args ...any) {
		fmt.Fprintf(&b, format, args...)
		b.WriteByte('\n')
	}
	fw, f := r.fw, r.f
	line("# %s-restore rules (%s) for gateway %s, rendered by styx from %s -- do not edit, run styx render again.", f.cmd, f.name, r.gw.Name, source)
	if r.lib {
		line("# variant: libipsec -- decrypted traffic has no IPsec secpath; tunnel traffic is")
		line("# recognised by the TUN device ipsec0 (-i ipsec0 / -o ipsec0) plus addresses.")
	} else {
		line("# variant: kernel -- tunnel traffic is proven by its IPsec policy")
		line("# (-m policy --dir in|out --pol ipsec; --pol none for plaintext).")
	}
	switch fw.Policy {
	case "drop":
		line("# firewall policy: drop -- INPUT, FORWARD and OUTPUT default to DROP.")
	case "none":
		line("# firewall policy: none -- no filter chains, NAT only.")
	default:
		line("# firewall policy: %s -- built-in chain policies are left as they are.", fw.Policy)
	}
	if !r.hasFamily() {
		line("# no %s in this topology: only rules that name no address apply to %s", f.name, f.name)
		line("# (connection state, loopback, ICMP, IKE/ESP from any peer, the default policy).")
	}
	line("# Same decisions as the nftables file (table inet styx). Load with:")
	line("#   %s-restore --noflush FILE", f.cmd)
	line("# Only the STYX-* chains are replaced: each is declared here, which flushes it.")
	line("# Jumps from the built-in chains are not in this file (a -A line would add one per")
	line("# load); insert each once, if missing (%s -C ... || %s -I ... 1 ...):", f.cmd, f.cmd)
	if len(used) == 0 {
		line("# (no hooks: no styx chain has rules)")
	}
	for _, h := range used {
		line("# hook: -t %s -I %s 1 -j %s", h.table, h.builtin, h.chain)
	}
	line("# iptables has no sets: each set is expanded to one rule per prefix, and a rule")
	line("# testing a second set jumps into a helper chain (STYX-*-N), so the number of rules")
	line("# grows linearly with the number of prefixes. An nft accept is RETURN (the rest of")
	line("# the built-in chain decides) except in the filter chains of policy drop (ACCEPT).")
	line("# The leak check (STYX-GUARD-OUT) runs in mangle POSTROUTING, before source NAT;")
	line("# nft checks after it (postrouting priority srcnat + 10).")
	if !r.lib {
		line("# Packets whose IPsec policy matches only after NAT (styx SNAT, nat: rules with a")
		line("# destination, replies of published services) are returned before the leak drop.")
	} else {
		line("# With libipsec that changes nothing: the output device does not depend on NAT.")
	}
	for _, t := range tables {
		line("*%s", t)
		if t == "filter" && fw.Policy == "drop" {
			for _, c := range []string{"INPUT", "FORWARD", "OUTPUT"} {
				line(":%s DROP [0:0]", c)
			}
		}
		var chains []*chainBuf
		for _, h := range hooks {
			if h.table == t {
				c := r.top[h.chain]
				chains = append(chains, c)
				chains = append(chains, c.helpers...)
			}
		}
		for _, c := range chains {
			line(":%s - [0:0]", c.name)
		}
		for _, h := range hooks {
			if h.table != t {
				continue
			}
			c := r.top[h.chain]
			if len(c.lines) == 0 {
				continue
			}
			line("# %s (from %s): %s", h.chain, h.builtin, h.why)
			if h.chain == MSS {
				line("# (%s)", fw.MSSWhy)
			}
			for _, c := range append([]*chainBuf{c}, c.helpers...) {
				for _, l := range c.lines {
					line("-A %s %s", c.name, l)
				}
			}
		}
		line("COMMIT")
	}
	return []byte(b.String())
}
