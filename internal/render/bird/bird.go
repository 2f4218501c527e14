package bird

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/styx-vpn/styx/internal/plan"
)

// KernelMetric is the metric of the routes BIRD installs; the unreachable
// leak guards of routes.sh (RT4) have a worse one.
const KernelMetric = 32

// Table220 is the kernel routing table charon installs its routes in.
const Table220 = 220

// family is IPv4 or IPv6: the suffix of every per-family name.
type family struct {
	v       string // "4" or "6"
	channel string // ipv4, ipv6
}

var families = []family{{v: "4", channel: "ipv4"}, {v: "6", channel: "ipv6"}}

func (f family) is(a netip.Addr) bool { return a.Is4() == (f.v == "4") }

func (f family) prefixes(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if f.is(p.Addr()) {
			out = append(out, p)
		}
	}
	return out
}

func (f family) addrs(as []netip.Addr) []netip.Addr {
	var out []netip.Addr
	for _, a := range as {
		if f.is(a) {
			out = append(out, a)
		}
	}
	return out
}

func (f family) export(b *plan.BGP) []netip.Prefix {
	if f.v == "4" {
		return b.Export4
	}
	return b.Export6
}

func (f family) has(n *plan.Neighbor) bool {
	if f.v == "4" {
		return n.IPv4
	}
	return n.IPv6
}

// Names of the BIRD objects per family.
func (f family) kernel() string                    { return "kernel" + f.v }
func (f family) static() string                    { return "static_export" + f.v }
func (f family) exportF() string                   { return "styx_export" + f.v }
func (f family) never() string                     { return "styx_never" + f.v }
func (f family) own() string                       { return "STYX_OWN" + f.v }
func (f family) transfer() string                  { return "STYX_TRANSFER" + f.v }
func (f family) pools() string                     { return "STYX_POOLS" + f.v }
func (f family) table220() string                  { return fmt.Sprintf("t%d_%s", Table220, f.v) }
func (f family) kernel220() string                 { return fmt.Sprintf("kernel%d_%s", Table220, f.v) }
func (f family) pipe220() string                   { return fmt.Sprintf("pipe%d_%s", Table220, f.v) }
func (f family) master() string                    { return "master" + f.v }
func importName(n *plan.Neighbor, f family) string { return n.Name + "_import" + f.v }

// state is what the renderer decides per family.
type state struct {
	f         family
	export    []netip.Prefix // static routes
	learn     []netip.Prefix // table 220 pools
	neighbors []*plan.Neighbor
}

// active reports whether the family appears in the file at all.
func (s *state) active() bool {
	return len(s.export) > 0 || len(s.learn) > 0 || len(s.neighbors) > 0
}

func states(b *plan.BGP) []*state {
	var out []*state
	for _, f := range families {
		s := &state{f: f, export: f.export(b)}
		if b.RouteTable220 {
			s.learn = f.prefixes(b.LearnPools)
		}
		for i := range b.Neighbors {
			if f.has(&b.Neighbors[i]) {
				s.neighbors = append(s.neighbors, &b.Neighbors[i])
			}
		}
		out = append(out, s)
	}
	return out
}

// Render renders the BIRD 2 configuration of a gateway (bird.conf) from
// its BGP plan; source names the topology file in the header. The output
// is deterministic. b must not be nil.
func Render(b *plan.BGP, gateway, source string) []byte {
	var w strings.Builder
	fmt.Fprintf(&w, "# BIRD 2 configuration for gateway %s, rendered by styx from %s -- do not edit.\n", gateway, source)
	w.WriteString("# Install as /etc/bird/bird.conf; check with: bird -p -c /etc/bird/bird.conf\n")
	if len(b.Neighbors) > 0 {
		w.WriteString("# eBGP over the route-based tunnels, on the transfer addresses of the tunnel\n")
		w.WriteString("# devices; the routes learnt go to the kernel's main table (ECMP where several\n")
		w.WriteString("# tunnels lead to a prefix), the gateway's own prefixes go to every neighbor.\n")
	}
	for _, n := range b.Notes {
		fmt.Fprintf(&w, "# NOTE: %s\n", n)
	}
	w.WriteString(logSyslog)
	if b.RouterID.IsValid() {
		fmt.Fprintf(&w, "router id %s;\n", b.RouterID)
	}
	fmt.Fprintf(&w, "# local AS %d\n", b.ASN)

	sts := states(b)
	for _, s := range sts {
		if s.active() {
			defines(&w, b, s)
		}
	}

	w.WriteString("\n# interface state for the kernel and BGP protocols (no routes)\n")
	w.WriteString("protocol device {\n\tscan time 10;\n}\n")
	w.WriteString("# no protocol direct: connected routes are the kernel's, nothing announces them\n")

	for _, s := range sts {
		if s.active() {
			kernel(&w, s)
		}
	}
	for _, s := range sts {
		if len(s.export) > 0 {
			static(&w, s)
		}
	}
	for _, s := range sts {
		if len(s.learn) > 0 {
			table220(&w, s)
		}
	}
	for _, s := range sts {
		if s.active() {
			w.WriteString("\n")
			w.WriteString(exportFilter(s))
		}
	}
	if len(b.Neighbors) == 0 {
		w.WriteString("\n# No BGP sessions: no route-based tunnel of this gateway runs bgp.\n")
		var filters []string
		for _, s := range sts {
			if s.active() {
				filters = append(filters, fmt.Sprintf("`export filter %s;` (%s)", s.f.exportF(), s.f.channel))
			}
		}
		if len(filters) > 0 {
			w.WriteString("# Sessions with routers the topology does not describe (seed 001: the lan's\n")
			fmt.Fprintf(&w, "# routers) announce what the gateway announces with %s.\n", strings.Join(filters, " or "))
		}
	}
	for i := range b.Neighbors {
		neighbor(&w, b, &b.Neighbors[i])
	}
	return []byte(w.String())
}

// set renders a prefix set; plus adds `+` (the prefix and everything
// inside it) to the prefixes for which it returns true.
func set(ps []netip.Prefix, plus func(netip.Prefix) bool) string {
	items := make([]string, len(ps))
	for i, p := range ps {
		items[i] = p.String()
		if plus(p) {
			items[i] += "+"
		}
	}
	if len(items) <= 4 {
		return "[ " + strings.Join(items, ", ") + " ]"
	}
	return "[\n\t" + strings.Join(items, ",\n\t") + "\n]"
}

func all(netip.Prefix) bool { return true }

// own are the prefixes never accepted from a neighbor: the lan and pools
// with everything inside them, and exactly the announced prefixes (an
// announced aggregate may contain a neighbor's prefixes).
func own(b *plan.BGP, f family) (ps []netip.Prefix, plus func(netip.Prefix) bool) {
	local := f.prefixes(b.Local)
	inLocal := func(p netip.Prefix) bool {
		for _, l := range local {
			if l.Bits() <= p.Bits() && l.Contains(p.Addr()) {
				return true
			}
		}
		return false
	}
	ps = append(ps, local...)
	for _, p := range f.export(b) {
		if !inLocal(p) {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b netip.Prefix) int {
		if d := a.Addr().Compare(b.Addr()); d != 0 {
			return d
		}
		return a.Bits() - b.Bits()
	})
	return ps, inLocal
}

func defines(w *strings.Builder, b *plan.BGP, s *state) {
	f := s.f
	fmt.Fprintf(w, "\n# IPv%s\n", f.v)
	if len(s.neighbors) > 0 {
		if ps, plus := own(b, f); len(ps) > 0 {
			w.WriteString("# ours: the lan and pools (and anything inside them), the announced prefixes;\n")
			w.WriteString("# never accepted from a neighbor\n")
			fmt.Fprintf(w, "define %s = %s;\n", f.own(), set(ps, plus))
		}
	}
	if t := f.prefixes(b.Transfer); len(t) > 0 {
		w.WriteString("# tunnel transfer nets: connected on the tunnel devices, never routed by BGP\n")
		fmt.Fprintf(w, "define %s = %s;\n", f.transfer(), set(t, all))
	}
	if len(s.learn) > 0 {
		w.WriteString("# virtual IP pools whose client routes are learnt from table 220\n")
		fmt.Fprintf(w, "define %s = %s;\n", f.pools(), set(s.learn, all))
	}
	w.WriteString("\n# never announced or accepted (BG2): a default route, a tunnel transfer net,\n")
	w.WriteString("# a route covering a gateway's IKE address (it would carry IKE into a tunnel, RT3)\n")
	fmt.Fprintf(w, "function %s()\n{\n", f.never())
	w.WriteString("\tif net.len = 0 then return true;\n")
	if len(f.prefixes(b.Transfer)) > 0 {
		fmt.Fprintf(w, "\tif net ~ %s then return true;\n", f.transfer())
	}
	for _, a := range f.addrs(b.IKEAddrs) {
		fmt.Fprintf(w, "\tif %s ~ net then return true;\n", a)
	}
	w.WriteString("\treturn false;\n}\n")
}

func kernel(w *strings.Builder, s *state) {
	f := s.f
	fmt.Fprintf(w, "\n# BGP routes to the kernel's main table, nothing else (the static routes below\n")
	w.WriteString("# only feed the BGP export). Equal paths over several tunnels become one ECMP\n")
	fmt.Fprintf(w, "# route (BG3). Metric %d beats the unreachable guards of routes.sh (RT4): a\n", KernelMetric)
	w.WriteString("# withdrawn route falls back to the guard, never to the default route. persist:\n")
	w.WriteString("# routes stay when BIRD stops (they lead into the tunnels only).\n")
	fmt.Fprintf(w, "protocol kernel %s {\n", f.kernel())
	fmt.Fprintf(w, "\t%s {\n\t\timport none;\n\t\texport where source = RTS_BGP;\n\t};\n", f.channel)
	w.WriteString("\tmerge paths on;\n")
	fmt.Fprintf(w, "\tmetric %d;\n", KernelMetric)
	w.WriteString("\tpersist;\n}\n")
}

func static(w *strings.Builder, s *state) {
	f := s.f
	w.WriteString("\n# The prefixes the gateway announces (bgp export). The blackholes only feed\n")
	w.WriteString("# the BGP export filter: they never reach the kernel, where one for the\n")
	w.WriteString("# gateway's own lan would beat the connected route.\n")
	fmt.Fprintf(w, "protocol static %s {\n\t%s;\n", f.static(), f.channel)
	for _, p := range s.export {
		fmt.Fprintf(w, "\troute %s blackhole;\n", p)
	}
	w.WriteString("}\n")
}

func table220(w *strings.Builder, s *state) {
	f := s.f
	fmt.Fprintf(w, "\n# Routes to connected road warriors (seed 001, BG4): charon installs them in\n")
	fmt.Fprintf(w, "# kernel table %d (proto static). A kernel protocol of their own learns them\n", Table220)
	w.WriteString("# into a table of their own (one kernel protocol per BIRD table) and writes\n")
	w.WriteString("# nothing; the pipe passes those inside the pools on to the main table, for\n")
	w.WriteString("# BGP export only (the main kernel protocol exports BGP routes alone).\n")
	fmt.Fprintf(w, "%s table %s;\n", f.channel, f.table220())
	fmt.Fprintf(w, "protocol kernel %s {\n", f.kernel220())
	fmt.Fprintf(w, "\t%s {\n\t\ttable %s;\n\t\timport all;\n\t\texport none;\n\t};\n", f.channel, f.table220())
	fmt.Fprintf(w, "\tkernel table %d;\n\tlearn;\n\tscan time 10;\n}\n", Table220)
	fmt.Fprintf(w, "protocol pipe %s {\n", f.pipe220())
	fmt.Fprintf(w, "\ttable %s;\n\tpeer table %s;\n\timport none;\n\texport where net ~ %s;\n}\n", f.table220(), f.master(), f.pools())
}

// exportFilter is what every neighbor is sent: the static prefixes and the
// learnt client routes, nothing learnt from another neighbor.
func exportFilter(s *state) string {
	f := s.f
	var w strings.Builder
	w.WriteString("# announced to every neighbor: our prefixes")
	if len(s.learn) > 0 {
		w.WriteString(" and the routes to connected clients")
	}
	w.WriteString(";\n# nothing learnt from another neighbor (no transit)\n")
	fmt.Fprintf(&w, "filter %s\n{\n", f.exportF())
	fmt.Fprintf(&w, "\tif %s() then reject;\n", f.never())
	if len(s.export) > 0 {
		fmt.Fprintf(&w, "\tif proto = \"%s\" then accept;\n", f.static())
	}
	if len(s.learn) > 0 {
		fmt.Fprintf(&w, "\tif proto = \"%s\" && net ~ %s then accept;\n", f.kernel220(), f.pools())
	}
	w.WriteString("\treject;\n}\n")
	return w.String()
}

// importFilter accepts the peer's prefixes (and more specific routes) from
// neighbor n, nothing of ours and nothing never() refuses.
func importFilter(b *plan.BGP, n *plan.Neighbor, f family) string {
	var w strings.Builder
	acc := f.prefixes(n.Accept)
	if len(acc) > 0 {
		fmt.Fprintf(&w, "# from %s: its prefixes (and routes inside them), none of ours\n", n.Peer)
	} else {
		fmt.Fprintf(&w, "# from %s: nothing (it announces no IPv%s prefixes)\n", n.Peer, f.v)
	}
	fmt.Fprintf(&w, "filter %s\n{\n", importName(n, f))
	fmt.Fprintf(&w, "\tif %s() then reject;\n", f.never())
	if ps, _ := own(b, f); len(ps) > 0 {
		fmt.Fprintf(&w, "\tif net ~ %s then reject;\n", f.own())
	}
	if len(acc) > 0 {
		fmt.Fprintf(&w, "\tif net ~ %s then accept;\n", set(acc, all))
	}
	w.WriteString("\treject;\n}\n")
	return w.String()
}

func neighbor(w *strings.Builder, b *plan.BGP, n *plan.Neighbor) {
	fmt.Fprintf(w, "\n# tunnel %s to %s (AS %d) over %s\n", n.Tunnel, n.Peer, n.ASN, n.Interface)
	for _, f := range families {
		if f.has(n) {
			w.WriteString(importFilter(b, n, f))
		}
	}
	fmt.Fprintf(w, "protocol bgp %s {\n", n.Name)
	fmt.Fprintf(w, "\tdescription \"tunnel %s to %s\";\n", n.Tunnel, n.Peer)
	fmt.Fprintf(w, "\tlocal %s as %d;\n", n.Local, b.ASN)
	fmt.Fprintf(w, "\tneighbor %s as %d;\n", n.Addr, n.ASN)
	fmt.Fprintf(w, "\tinterface \"%s\";\n", n.Interface)
	w.WriteString("\tdirect;\n")
	fmt.Fprintf(w, "\thold time %d;\n", n.HoldSeconds())
	w.WriteString("\t# a tunnel back up carries BGP again within seconds (defaults: 120 s, 60-300 s)\n")
	w.WriteString("\tconnect retry time 10;\n")
	w.WriteString("\terror wait time 5, 60;\n")
	for _, f := range families {
		if !f.has(n) {
			continue
		}
		fmt.Fprintf(w, "\t%s {\n", f.channel)
		if f.v == "4" && n.ExtendedNextHop() {
			w.WriteString("\t\t# IPv4 routes with the IPv6 next hop of the session (RFC 5549)\n")
			w.WriteString("\t\textended next hop on;\n")
		}
		fmt.Fprintf(w, "\t\timport filter %s;\n", importName(n, f))
		fmt.Fprintf(w, "\t\texport filter %s;\n", f.exportF())
		w.WriteString("\t\tnext hop self;\n")
		w.WriteString("\t};\n")
	}
	w.WriteString("}\n")
}

// logSyslog is the log statement Render writes.
const logSyslog = "\nlog syslog all;\n"

// LogTo returns conf, a configuration Render wrote, logging to file
// instead of syslog (the lab has no syslog daemon: BIRD would write to the
// console).
func LogTo(conf []byte, file string) []byte {
	return []byte(strings.Replace(string(conf), logSyslog, fmt.Sprintf("\nlog %q all;\n", file), 1))
}
