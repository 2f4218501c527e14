package plan

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/styx-vpn/styx/internal/topology"
)

// LibipsecMTU is the MTU of kernel-libipsec's TUN device ipsec0.
const LibipsecMTU = 1400

// innerMTU is the largest packet tunnel t carries from g.
func innerMTU(t *topology.Tunnel, g, peer *topology.Gateway) (int, topology.Encapsulation) {
	ov := topology.Overhead(t, g, peer)
	inner := g.MTU - ov.Total()
	if g.Dataplane == topology.Libipsec {
		inner = min(inner, LibipsecMTU)
	}
	return inner, ov
}

func (b *builder) links() {
	g := b.g
	for _, t := range b.net.Tunnels {
		i := t.EndOf(g)
		if i < 0 {
			continue
		}
		e, p := t.Ends[i], t.Ends[topology.Other(i)]
		inner, ov := innerMTU(t, g, p.Gateway)
		if t.Mode == "route" {
			mtu := t.IfMTU
			why := fmt.Sprintf("%s; mtu %d = %d - %d (%s)", t.Name, inner, g.MTU, ov.Total(), ov)
			if mtu == 0 {
				mtu = inner
			} else {
				why = fmt.Sprintf("%s; mtu %d as configured", t.Name, mtu)
			}
			l := Link{Kind: t.IfType, IfID: e.IfID, MTU: mtu, Dev: g.PublicIf, Why: why}
			if t.IfType == "vti" {
				l.Name = fmt.Sprintf("styxv%d", e.IfID)
				if la := g.LocalAddrs(); len(la) > 0 {
					l.Local = la[0]
				}
				if len(p.Gateway.Public) > 0 {
					l.Remote = p.Gateway.Public[0]
				}
			} else {
				l.Name = fmt.Sprintf("styx%d", e.IfID)
			}
			b.out.Links = append(b.out.Links, l)
			if e.IfAddr.IsValid() {
				b.out.Addresses = append(b.out.Addresses, Address{Prefix: e.IfAddr, Dev: l.Name, Why: "transfer address of " + t.Name})
			}
			// BGP learns the peer's prefixes; without it, route them statically.
			for _, lan := range p.Gateway.LAN {
				if t.BGP == nil {
					b.out.Routes = append(b.out.Routes, Route{Dst: lan, Dev: l.Name, Metric: 100, Why: "lan of " + p.Gateway.Name + " via " + t.Name})
				}
			}
		}
		for _, ch := range t.Children {
			if ch.GRE == nil || len(ch.TS[i]) == 0 || len(ch.TS[topology.Other(i)]) == 0 {
				continue
			}
			n := 1
			for _, l := range b.out.Links {
				if l.Kind == "gre" {
					n++
				}
			}
			mtu := ch.GRE.MTU
			why := fmt.Sprintf("GRE over %s/%s", t.Name, ch.Name)
			if mtu == 0 {
				mtu = inner - topology.GREOverhead(ch.GRE)
				why += fmt.Sprintf("; mtu %d = %d - %d (%s) - %d (GRE)", mtu, g.MTU, ov.Total(), ov, topology.GREOverhead(ch.GRE))
			}
			l := Link{Name: fmt.Sprintf("styxgre%d", n), Kind: "gre", Local: ch.TS[i][0].Prefix.Addr(), Remote: ch.TS[topology.Other(i)][0].Prefix.Addr(),
				MTU: mtu, Multicast: ch.GRE.Multicast, Key: ch.GRE.Key, Why: why}
			b.out.Links = append(b.out.Links, l)
			if a := ch.GRE.Address[i]; a.IsValid() {
				b.out.Addresses = append(b.out.Addresses, Address{Prefix: a, Peer: ch.GRE.Address[topology.Other(i)].Addr(), Dev: l.Name, Why: "GRE inner address"})
			}
		}
	}
	for _, a := range g.Addresses {
		b.out.Addresses = append(b.out.Addresses, Address{Prefix: netip.PrefixFrom(a, a.BitLen()), Dev: "lo", Why: "own address used in selectors"})
	}
	// an agreed SNAT source must be an address of the gateway: charon routes
	// the remote selector with a source inside the local one, and the
	// gateway's own traffic then leaves with it
	for _, t := range b.net.Tunnels {
		i := t.EndOf(g)
		if i < 0 {
			continue
		}
		for _, ch := range t.Children {
			a := ch.SNAT[i]
			if !a.IsValid() || slices.Contains(g.Addresses, a) || slices.Contains(g.LocalAddrs(), a) {
				continue
			}
			p := netip.PrefixFrom(a, a.BitLen())
			if !slices.ContainsFunc(b.out.Addresses, func(x Address) bool { return x.Prefix == p }) {
				b.out.Addresses = append(b.out.Addresses, Address{Prefix: p, Dev: "lo", Why: fmt.Sprintf("agreed source of %s/%s (SNAT target; charon routes the remote selector from it)", t.Name, ch.Name)})
			}
		}
	}
	// unreachable routes keep remote prefixes from falling back to the
	// default route when a route-based tunnel (or its BGP route) is down
	var guard []netip.Prefix
	for _, t := range b.net.Tunnels {
		if i := t.EndOf(g); i >= 0 && t.Mode == "route" {
			guard = append(guard, t.Ends[topology.Other(i)].Gateway.LAN...)
		}
	}
	for _, p := range merge(guard) {
		b.out.Routes = append(b.out.Routes, Route{Dst: p, Type: "unreachable", Metric: 4000, Why: "no plaintext fallback for a remote lan"})
	}
	slices.SortStableFunc(b.out.Routes, func(a, c Route) int {
		if d := a.Dst.Addr().Compare(c.Dst.Addr()); d != 0 {
			return d
		}
		return a.Metric - c.Metric
	})
}

func (b *builder) sysctls() {
	g := b.g
	v6 := false
	for _, p := range append(append([]netip.Prefix{}, g.LAN...), b.out.Firewall.RemoteProt...) {
		v6 = v6 || p.Addr().Is6()
	}
	for _, a := range g.Public {
		v6 = v6 || a.Is6()
	}
	s := []Sysctl{{Key: "net.ipv4.ip_forward", Value: "1", Why: "forward between the LAN and the tunnels"}}
	if v6 {
		s = append(s, Sysctl{Key: "net.ipv6.conf.all.forwarding", Value: "1", Why: "forward IPv6 between the LAN and the tunnels"})
	}
	s = append(s,
		Sysctl{Key: "net.ipv4.conf.all.send_redirects", Value: "0", Why: "redirects could send LAN hosts around the gateway in plaintext"},
		Sysctl{Key: "net.ipv4.conf.default.send_redirects", Value: "0", Why: ""},
	)
	for _, ifname := range append([]string{g.PublicIf}, g.LANIfs...) {
		if ifname != "" {
			s = append(s, Sysctl{Key: "net.ipv4.conf." + ifname + ".send_redirects", Value: "0", Optional: true})
		}
	}
	s = append(s,
		Sysctl{Key: "net.ipv4.conf.all.rp_filter", Value: "2", Why: "loose: tunnel devices and ECMP paths are asymmetric; spoofing is dropped by the styx firewall"},
		Sysctl{Key: "net.ipv4.conf.default.rp_filter", Value: "2", Why: ""},
	)
	if b.out.BGP != nil && len(b.out.BGP.Neighbors) > 1 {
		s = append(s, Sysctl{Key: "net.ipv4.fib_multipath_hash_policy", Value: "1", Why: "ECMP over the tunnels: hash on ports too, so that the flows between two hosts spread over the paths"})
		if v6 {
			s = append(s, Sysctl{Key: "net.ipv6.fib_multipath_hash_policy", Value: "1", Why: ""})
		}
	}
	for _, l := range b.out.Links {
		switch l.Kind {
		case "vti":
			fam := "ipv4"
			if l.Local.Is6() {
				fam = "ipv6"
			}
			s = append(s, Sysctl{Key: "net." + fam + ".conf." + l.Name + ".disable_policy", Value: "1", Why: "VTI: policies are matched by mark, not per packet", Device: l.Name})
		case "gre":
			for _, t := range b.net.Tunnels {
				for _, ch := range t.Children {
					if ch.GRE != nil && ch.GRE.Keepalive && t.EndOf(g) >= 0 {
						s = append(s, Sysctl{Key: "net.ipv4.conf." + l.Name + ".accept_local", Value: "1", Why: "answer the peer's GRE keepalives (only on this device)", Device: l.Name})
					}
				}
			}
		}
	}
	b.out.Sysctls = slices.CompactFunc(s, func(a, c Sysctl) bool { return a.Key == c.Key })
}

func (b *builder) charon() {
	g := b.g
	c := Charon{Dataplane: g.Dataplane, InstallRoutes: true}
	for _, l := range b.out.Links {
		c.InterfacesIgnore = append(c.InterfacesIgnore, l.Name)
		if l.Kind == "vti" {
			c.InstallRoutes = false
		}
	}
	if g.Dataplane == topology.Libipsec {
		for _, t := range b.net.Tunnels {
			i := t.EndOf(g)
			if i < 0 {
				continue
			}
			peer := t.Ends[topology.Other(i)].Gateway
			for _, ch := range t.Children {
				for _, ts := range ch.TS[topology.Other(i)] {
					for _, a := range peer.Public {
						if !ts.Dynamic && ts.Prefix.Contains(a) {
							c.PeerTSFwmark = true
						}
					}
				}
			}
		}
	}
	b.out.Charon = c
}
