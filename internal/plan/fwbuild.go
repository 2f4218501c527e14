package plan

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/styx-vpn/styx/internal/topology"
)

func (b *builder) firewall() {
	g := b.g
	fw := &Firewall{Dataplane: g.Dataplane, Policy: g.Firewall, PublicIf: g.PublicIf, LANIfs: g.LANIfs, LAN: merge(g.LAN), NAT: g.NAT}
	b.out.Firewall = fw
	if g.Site != "" && slices.ContainsFunc(b.net.Gateways, func(x *topology.Gateway) bool { return x != g && x.Site == g.Site }) {
		fw.Site = g.Site
	}
	var peers []netip.Addr
	var lprot, rprot []netip.Prefix
	minInner := 0
	var minWhy string
	hostSNAT := map[netip.Addr][]netip.Prefix{}
	for _, t := range b.net.Tunnels {
		i := t.EndOf(g)
		if i < 0 {
			continue
		}
		p := t.Ends[topology.Other(i)].Gateway
		if p.Dynamic || len(p.Hosts) > 0 {
			fw.AnyPeer = true
		}
		peers = append(peers, p.Public...)
		inner, ov := innerMTU(t, g, p)
		if minInner == 0 || inner < minInner {
			minInner, minWhy = inner, fmt.Sprintf("%s: %d - %s", t.Name, g.MTU, ov)
			if g.Dataplane == topology.Libipsec && inner == LibipsecMTU {
				minWhy = fmt.Sprintf("%s: ipsec0 mtu %d", t.Name, LibipsecMTU)
			}
		}
		if t.Mode == "route" {
			continue // route-based: the tunnel interfaces carry the traffic
		}
		for _, ch := range t.Children {
			var lts, rts []netip.Prefix
			for _, ts := range ch.TS[i] {
				if !ts.Dynamic {
					lts = append(lts, ts.Prefix)
				}
			}
			for _, ts := range ch.TS[topology.Other(i)] {
				if !ts.Dynamic {
					rts = append(rts, ts.Prefix)
				}
			}
			lprot, rprot = append(lprot, lts...), append(rprot, rts...)
			if s := ch.SNAT[i]; s.IsValid() {
				fw.SNAT = append(fw.SNAT, SNAT{Except: lts, To: merge(rts), Addr: s,
					Why: fmt.Sprintf("%s/%s: traffic to %s leaves with the agreed source %s", t.Name, ch.Name, prefixList(rts), s)})
			}
			// host-to-host selectors on a masquerading gateway: the LAN
			// reaches the peer only after SNAT to the selector address
			if g.Masq != nil && len(lts) == 1 && lts[0].IsSingleIP() && slices.Contains(g.LocalAddrs(), lts[0].Addr()) && !ch.SNAT[i].IsValid() {
				hostSNAT[lts[0].Addr()] = append(hostSNAT[lts[0].Addr()], rts...)
			}
		}
	}
	for _, a := range sortAddrs(mapKeys(hostSNAT)) {
		fw.SNAT = append(fw.SNAT, SNAT{From: merge(g.Masq.From), To: merge(hostSNAT[a]), Addr: a,
			Why: fmt.Sprintf("host-to-host tunnels: the lan reaches their peers as %s", a)})
	}
	for _, ra := range b.net.RemoteAccess {
		if ra.Gateway != g {
			continue
		}
		fw.AnyPeer = true
		lprot, rprot = append(lprot, ra.Split...), append(rprot, ra.Pools...)
		// road warriors come through any path, often NAT: assume UDP encapsulation
		raT := &topology.Tunnel{Crypto: ra.Crypto, Encap: true}
		ov := topology.Overhead(raT, g, &topology.Gateway{})
		inner := g.MTU - ov.Total()
		if g.Dataplane == topology.Libipsec {
			inner = min(inner, LibipsecMTU)
		}
		if minInner == 0 || inner < minInner {
			minInner, minWhy = inner, fmt.Sprintf("remote access %s: %d - %s", ra.Name, g.MTU, ov)
		}
		if ra.Masquerade {
			fw.PoolMasq = append(fw.PoolMasq, ra.Pools...)
		}
	}
	fw.Peers = sortAddrs(peers)
	fw.LocalProt, fw.RemoteProt = merge(lprot), merge(rprot)
	if g.Masq != nil {
		fw.Masq = merge(g.Masq.From)
		fw.MasqIf = g.Masq.Iface
		if fw.MasqIf == "" {
			fw.MasqIf = g.PublicIf
		}
	}
	fw.PoolMasq = merge(fw.PoolMasq)
	if minInner > 0 {
		fw.MSS4, fw.MSS6 = minInner-40, minInner-60
		fw.MSSWhy = "inner mtu " + fmt.Sprint(minInner) + " of " + minWhy
	}
	b.services(fw)
	b.allows(fw)
}

func mapKeys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func prefixList(ps []netip.Prefix) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ", "
		}
		s += p.String()
	}
	return s
}

func (b *builder) services(fw *Firewall) {
	g := b.g
	for _, s := range b.net.Services {
		if s.On != g {
			continue
		}
		var from []netip.Prefix
		for _, t := range b.net.Tunnels {
			i := t.EndOf(g)
			if i < 0 || !slices.Contains(s.From, t.Ends[topology.Other(i)].Gateway) {
				continue
			}
			for _, ch := range t.Children {
				for _, ts := range ch.TS[topology.Other(i)] {
					if !ts.Dynamic {
						from = append(from, ts.Prefix)
					}
				}
			}
		}
		for _, ra := range s.FromRA {
			from = append(from, ra.Pools...)
		}
		fw.DNAT = append(fw.DNAT, DNAT{Name: s.Name, Publish: s.Publish, To: s.To, From: merge(from),
			Why: fmt.Sprintf("service %s: %s -> %s, only through IPsec", s.Name, s.Publish, s.To)})
	}
}

func (b *builder) allows(fw *Firewall) {
	g := b.g
	for _, f := range b.net.Flows {
		// the gateway's own traffic (gw.self -> anything): output chain
		if slices.ContainsFunc(f.From, func(p topology.FlowPeer) bool { return p.Kind == "gateway-self" && p.Gateway == g }) {
			var to []netip.Prefix
			for _, p := range f.To {
				to = append(to, p.Prefixes...)
			}
			fw.Allow = append(fw.Allow, Allow{To: merge(to), Ports: f.Ports, Output: true, Why: "allow " + flowDesc(f)})
			continue
		}
		var from, to []netip.Prefix
		input := false
		for _, p := range f.From {
			from = append(from, p.Prefixes...)
		}
		for _, p := range f.To {
			switch {
			case p.Kind == "gateway-self" && p.Gateway == g:
				input = true
				to = append(to, p.Prefixes...)
			case p.Kind == "gateway-self":
			case p.Kind == "gateway-lan" && p.Gateway == g, p.Kind == "service" && p.Gateway == g:
				to = append(to, p.Prefixes...)
			case p.Kind == "prefix" || p.Kind == "host":
				for _, q := range p.Prefixes {
					if covers(g.LAN, q) {
						to = append(to, q)
					}
				}
			}
		}
		if len(to) == 0 {
			continue
		}
		tunnel := len(from) > 0
		for _, p := range from {
			tunnel = tunnel && covers(fw.RemoteProt, p)
		}
		fw.Allow = append(fw.Allow, Allow{From: merge(from), To: merge(to), Ports: f.Ports, Input: input, Tunnel: tunnel, Why: "allow " + flowDesc(f)})
	}
}

// covers reports whether q lies inside one of ps.
func covers(ps []netip.Prefix, q netip.Prefix) bool {
	for _, p := range ps {
		if p.Bits() <= q.Bits() && p.Contains(q.Addr()) {
			return true
		}
	}
	return false
}

// flowDesc describes a flow as written: "rw -> gw.self".
func flowDesc(f *topology.Flow) string {
	names := func(ps []topology.FlowPeer) string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Name)
		}
		return strings.Join(out, ", ")
	}
	return names(f.From) + " -> " + names(f.To)
}
