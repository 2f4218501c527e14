package lint

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/topology"
)

// routed is a remote selector a gateway routes into a tunnel.
type routed struct {
	ts     topology.TS
	peer   *topology.Gateway
	tunnel *topology.Tunnel
	child  *topology.Child
	end    int // index of the peer in tunnel.Ends
}

// overlaps reports prefixes that one gateway would send into tunnels to two
// different sites: the kernel picks one policy and the other site is
// unreachable (or worse, gets the traffic).
func (l *linter) overlaps() {
	perGW := map[*topology.Gateway][]routed{}
	for _, t := range l.net.Tunnels {
		if t.Mode == "route" {
			continue // separated by interface ids; routing decides
		}
		for i, e := range t.Ends {
			peer := t.Ends[topology.Other(i)]
			for _, c := range t.Children {
				for _, ts := range c.TS[topology.Other(i)] {
					if ts.Dynamic {
						continue
					}
					perGW[e.Gateway] = append(perGW[e.Gateway], routed{ts: ts, peer: peer.Gateway, tunnel: t, child: c, end: topology.Other(i)})
				}
			}
		}
	}
	for _, g := range l.net.Gateways {
		list := perGW[g]
		if !managed(g) || len(list) < 2 {
			continue
		}
		// sort by start address and sweep: a prefix overlaps a later one
		// only if that one starts inside it.
		slices.SortFunc(list, func(a, b routed) int {
			return cmp.Or(a.ts.Prefix.Addr().Compare(b.ts.Prefix.Addr()), cmp.Compare(a.ts.Prefix.Bits(), b.ts.Prefix.Bits()), strings.Compare(a.tunnel.Name, b.tunnel.Name))
		})
		reported := map[[2]string]bool{}
		for i := range list {
			last := netipx.PrefixLastIP(list[i].ts.Prefix)
			for j := i + 1; j < len(list) && list[j].ts.Prefix.Addr().Compare(last) <= 0; j++ {
				a, b := list[i], list[j]
				if a.peer == b.peer || (a.peer.Site != "" && a.peer.Site == b.peer.Site) || !protoOverlap(a.ts, b.ts) {
					continue
				}
				if a.tunnel.Name > b.tunnel.Name {
					a, b = b, a
				}
				key := [2]string{a.peer.Name + "/" + a.ts.String(), b.peer.Name + "/" + b.ts.String()}
				if reported[key] {
					continue
				}
				reported[key] = true
				l.add(diag.Error, l.tsPos(b), RuleOverlap,
					"give the sites distinct prefixes, NAT one of them (masquerade with traffic: host-to-host, or snat: in a child), or put both gateways in one site: if they are redundant",
					"gateway %s would route %s into tunnel %s (to %s) and %s into tunnel %s (to %s): they overlap", g.Name, a.ts, a.tunnel.Name, a.peer.Name, b.ts, b.tunnel.Name, b.peer.Name)
			}
		}
	}
}

func protoOverlap(a, b topology.TS) bool {
	if a.Proto != "" && b.Proto != "" && a.Proto != b.Proto {
		return false
	}
	if a.PortFrom != 0 && b.PortFrom != 0 && (a.PortTo < b.PortFrom || b.PortTo < a.PortFrom) {
		return false
	}
	return true
}

// tsPos is the position of a selector: where it was written, else the lan
// entry of the gateway it came from, else the tunnel.
func (l *linter) tsPos(r routed) diag.Pos {
	if r.ts.At.IsValid() {
		return r.ts.At
	}
	for i, p := range r.peer.LAN {
		if p == r.ts.Prefix {
			return l.lanPos(r.peer, i)
		}
	}
	return r.tunnel.At
}

// covered reports whether ts (a selector on gateway g, in child c at end i)
// is inside what g protects or owns.
func covered(g *topology.Gateway, c *topology.Child, i int, ts topology.TS) bool {
	if ts.Dynamic {
		return true
	}
	var own []netip.Prefix
	own = append(own, g.LAN...)
	for _, a := range append(append(append([]netip.Addr{}, g.Public...), g.Local...), g.Addresses...) {
		own = append(own, netip.PrefixFrom(a, a.BitLen()))
	}
	for _, p := range own {
		if p.Bits() <= ts.Prefix.Bits() && p.Contains(ts.Prefix.Addr()) {
			return true
		}
	}
	if s := c.SNAT[i]; s.IsValid() && ts.Prefix.Contains(s) {
		return true
	}
	return false
}

func (l *linter) selectors() {
	for _, t := range l.net.Tunnels {
		if t.Mode == "route" {
			continue
		}
		for _, c := range t.Children {
			for _, lts := range c.TS[0] {
				for _, rts := range c.TS[1] {
					if lts.Dynamic || rts.Dynamic || !lts.Prefix.Overlaps(rts.Prefix) || !protoOverlap(lts, rts) {
						continue
					}
					pos := at(c.At, rts.At, lts.At)
					l.add(diag.Error, pos, RuleSelfOverlap, "make the two sides' selectors disjoint (list the remote prefixes without the local ones)",
						"tunnel %s, child %s: selector %s on %s overlaps %s on %s: each gateway would send traffic for its own hosts into the tunnel", t.Name, c.Name, lts, t.Ends[0].Gateway.Name, rts, t.Ends[1].Gateway.Name)
				}
			}
		}
		for i, e := range t.Ends {
			g := e.Gateway
			for _, c := range t.Children {
				for _, ts := range c.TS[i] {
					if covered(g, c, i, ts) {
						continue
					}
					sev := diag.Error
					if !managed(g) {
						sev = diag.Warning
					}
					pos := ts.At
					if !pos.IsValid() {
						pos = c.At
					}
					l.add(sev, pos, RuleTSOutside,
						fmt.Sprintf("add %s to gateway %s's lan: (or addresses:), or SNAT the traffic into it with snat: in the child", ts.Prefix, g.Name),
						"tunnel %s, child %s: selector %s on gateway %s is not inside its lan, addresses or SNAT address", t.Name, c.Name, ts, g.Name)
				}
			}
		}
	}
}

// nat reports explicit SNAT rules that rewrite traffic a child carries to
// an address outside that child's local selector.
func (l *linter) nat() {
	for _, g := range l.net.Gateways {
		if len(g.NAT) == 0 {
			continue
		}
		for _, t := range l.net.Tunnels {
			i := t.EndOf(g)
			if i < 0 {
				continue
			}
			for _, c := range t.Children {
				for _, n := range g.NAT {
					for _, lts := range c.TS[i] {
						if lts.Dynamic || !anyOverlap(n.From, lts.Prefix) || lts.Prefix.Contains(n.SNAT) {
							continue
						}
						for _, rts := range c.TS[topology.Other(i)] {
							if rts.Dynamic || !anyOverlap(n.To, rts.Prefix) {
								continue
							}
							l.add(diag.Error, n.At, RuleNATCapture,
								fmt.Sprintf("restrict the rule with to: so it excludes %s, or use masquerade: true, which exempts tunnel traffic", rts.Prefix),
								"nat rule rewrites traffic from %s to %s (tunnel %s) to source %s, which is outside the selector %s: it would leave unencrypted or be dropped", lts, rts, t.Name, n.SNAT, lts)
						}
					}
				}
			}
		}
	}
}

// anyOverlap reports whether p overlaps any prefix in list; an empty list
// matches everything.
func anyOverlap(list []netip.Prefix, p netip.Prefix) bool {
	if len(list) == 0 {
		return true
	}
	for _, q := range list {
		if q.Overlaps(p) {
			return true
		}
	}
	return false
}

func tsCarries(ts topology.TS, a netip.Addr, proto string, port uint16) bool {
	if ts.Dynamic || !ts.Prefix.Contains(a) {
		return false
	}
	if ts.Proto != "" && ts.Proto != proto {
		return false
	}
	if ts.PortFrom != 0 && (port < ts.PortFrom || port > ts.PortTo) {
		return false
	}
	return true
}

func (l *linter) services() {
	for _, s := range l.net.Services {
		g := s.On
		if g == nil {
			continue
		}
		owned := false
		for _, a := range append(append(append([]netip.Addr{}, g.Public...), g.Local...), g.Addresses...) {
			if a == s.Publish.Addr {
				owned = true
			}
		}
		if !owned {
			l.add(diag.Error, l.servicePos(s, "publish"), RuleServiceAddr,
				fmt.Sprintf("publish on one of %s's addresses (public:, local: or addresses:)", g.Name),
				"service %s is published on %s, which gateway %s does not own", s.Name, s.Publish.Addr, g.Name)
		}
		inLAN := false
		for _, p := range g.LAN {
			if p.Contains(s.To.Addr) {
				inLAN = true
			}
		}
		if !inLAN {
			l.add(diag.Warning, l.servicePos(s, "to"), RuleServiceAddr,
				fmt.Sprintf("add the server's prefix to %s's lan:", g.Name),
				"service %s forwards to %s, which is outside gateway %s's lan", s.Name, s.To.Addr, g.Name)
		}
		for _, peer := range s.From {
			if !l.carried(g, peer, s.Publish) {
				l.add(diag.Error, l.servicePos(s, "from"), RuleServiceNoTunnel,
					fmt.Sprintf("add a tunnel between %s and %s whose selector on %s covers %s (traffic: host-to-host, or a child with ts: %s/%d[%s/%d])", g.Name, peer.Name, g.Name, s.Publish, s.Publish.Addr, s.Publish.Addr.BitLen(), s.Publish.Proto, s.Publish.Port),
					"service %s: no tunnel carries %s from %s to %s", s.Name, s.Publish, peer.Name, g.Name)
			}
		}
		for _, ra := range s.FromRA {
			ok := false
			for _, p := range ra.Split {
				ok = ok || p.Contains(s.Publish.Addr)
			}
			if !ok {
				l.add(diag.Error, l.servicePos(s, "from"), RuleServiceNoTunnel,
					fmt.Sprintf("add %s to split: of remote access %s", s.Publish.Addr, ra.Name),
					"service %s: road warriors of %s do not send %s through the tunnel", s.Name, ra.Name, s.Publish.Addr)
			}
		}
	}
}

// carried reports whether a tunnel between g and peer has a child whose
// selector on g carries ep.
func (l *linter) carried(g, peer *topology.Gateway, ep topology.Endpoint) bool {
	for _, t := range l.net.Tunnels {
		i, j := t.EndOf(g), t.EndOf(peer)
		if i < 0 || j < 0 {
			continue
		}
		for _, c := range t.Children {
			for _, ts := range c.TS[i] {
				if tsCarries(ts, ep.Addr, ep.Proto, ep.Port) {
					return true
				}
			}
		}
	}
	return false
}

func (l *linter) servicePos(s *topology.Service, field string) diag.Pos {
	if l.file != nil {
		for _, d := range l.file.Services {
			if d.Name.V != s.Name {
				continue
			}
			switch field {
			case "publish":
				return d.Publish.At
			case "to":
				return d.To.At
			case "from":
				if len(d.From) > 0 {
					return d.From[0].At
				}
			}
		}
	}
	return s.At
}

// allows reports flows between two gateways' lans that no tunnel carries.
func (l *linter) allows() {
	for _, f := range l.net.Flows {
		for _, from := range f.From {
			for _, to := range f.To {
				if from.Kind != "gateway-lan" || to.Kind != "gateway-lan" || from.Gateway == to.Gateway {
					continue
				}
				if !l.lanPathExists(from.Gateway, to.Gateway) {
					l.add(diag.Warning, f.At, RuleAllowNoPath,
						fmt.Sprintf("add a tunnel between %s and %s carrying their lans, or remove the rule", from.Gateway.Name, to.Gateway.Name),
						"allow from %s to %s has no effect: no tunnel carries traffic between their lans", from.Name, to.Name)
				}
			}
		}
	}
}

func (l *linter) lanPathExists(a, b *topology.Gateway) bool {
	for _, t := range l.net.Tunnels {
		i, j := t.EndOf(a), t.EndOf(b)
		if i < 0 || j < 0 {
			continue
		}
		for _, c := range t.Children {
			for _, ts := range c.TS[j] {
				for _, p := range b.LAN {
					if !ts.Dynamic && ts.Prefix.Overlaps(p) {
						return true
					}
				}
			}
		}
	}
	return false
}

// poolPos finds the position of a pool prefix of a remote access entry.
func (l *linter) poolPos(ra *topology.RemoteAccess, p netip.Prefix) diag.Pos {
	if l.file != nil {
		for _, d := range l.file.RemoteAccess {
			if d.Name.V != ra.Name {
				continue
			}
			for _, s := range d.Pool {
				if q, err := topology.ParsePrefix(s.V); err == nil && q == p {
					return s.At
				}
			}
		}
	}
	return ra.At
}

// remoteAccessCerts checks that remote access gateways can authenticate
// themselves (certificate and key; EAP clients verify the server by it).
func (l *linter) remoteAccessCerts() {
	for _, ra := range l.net.RemoteAccess {
		g := ra.Gateway
		if g == nil || (g.Cert != "" && g.Key != "") {
			continue
		}
		pos := g.At
		if l.file != nil {
			if def, ok := l.file.Gateways.Get(g.Name); ok {
				pos = at(g.At, def.Cert.At, def.Key.At)
			}
		}
		l.add(diag.Error, pos, RuleRACert, fmt.Sprintf("give gateway %s cert: and key: (a server certificate whose subjectAltName is its id %s)", g.Name, g.ID),
			"remote access %s: gateway %s has no certificate and key; road warriors authenticate the gateway by its certificate", ra.Name, g.Name)
	}
}

func (l *linter) pools() {
	var seen []struct {
		p    netip.Prefix
		name string
	}
	for _, ra := range l.net.RemoteAccess {
		for _, p := range ra.Pools {
			for _, g := range l.net.Gateways {
				for _, lan := range g.LAN {
					if lan.Overlaps(p) {
						l.add(diag.Error, l.poolPos(ra, p), RulePoolOverlap, "pick a pool outside every lan, e.g. from 100.64.0.0/10 or another private range",
							"remote access %s: pool %s overlaps lan %s of gateway %s", ra.Name, p, lan, g.Name)
					}
				}
			}
			for _, s := range seen {
				if s.p.Overlaps(p) {
					l.add(diag.Error, l.poolPos(ra, p), RulePoolOverlap, "give each remote access service its own pool",
						"remote access %s: pool %s overlaps pool %s of %s", ra.Name, p, s.p, s.name)
				}
			}
			seen = append(seen, struct {
				p    netip.Prefix
				name string
			}{p, ra.Name})
		}
	}
}

func (l *linter) labHosts() {
	for _, h := range l.net.Lab.Hosts {
		if h.Behind == nil || !h.Address.IsValid() {
			continue
		}
		in := false
		for _, p := range h.Behind.LAN {
			in = in || p.Contains(h.Address)
		}
		if !in {
			l.add(diag.Error, h.At, RuleLabHost, fmt.Sprintf("give the host an address in %s", strings.Join(prefixStrings(h.Behind.LAN), ", ")),
				"lab host %s: address %s is outside gateway %s's lan", h.Name, h.Address, h.Behind.Name)
		}
	}
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// exportRoutes reports export_routes on gateways without BGP.
func (l *linter) exportRoutes() {
	for _, ra := range l.net.RemoteAccess {
		if !ra.Export || ra.Gateway == nil || ra.Gateway.BGP != nil {
			continue
		}
		pos := ra.At
		if l.file != nil {
			for _, d := range l.file.RemoteAccess {
				if d.Name.V == ra.Name {
					pos = at(ra.At, d.Export.At)
				}
			}
		}
		l.add(diag.Warning, pos, RuleExportNoBGP, fmt.Sprintf("give gateway %s bgp: {asn: ..., export: [lan, pools]}, or remove export_routes", ra.Gateway.Name),
			"remote access %s: export_routes has no effect, gateway %s has no bgp:", ra.Name, ra.Gateway.Name)
	}
}
