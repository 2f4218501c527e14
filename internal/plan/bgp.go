package plan

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/styx-vpn/styx/internal/topology"
)

// BGP is the BIRD configuration of one gateway: what it announces, what it
// accepts and the eBGP sessions over its route-based tunnels (seed 002).
// Prefix and address lists are sorted and free of duplicates.
type BGP struct {
	Gateway string
	// RouterID is bgp router_id, else the gateway's first IPv4 IKE address;
	// invalid when there is neither (BIRD then takes an interface address).
	RouterID netip.Addr
	ASN      uint32
	// Export4 and Export6 are announced to every neighbor: bgp export (the
	// lan, explicit prefixes and, with export: [pools], the remote access
	// pools the topology folded in).
	Export4, Export6 []netip.Prefix
	// Local are the gateway's own prefixes, its lan and its virtual IP pools:
	// a route for them or inside them is never accepted from a neighbor.
	Local []netip.Prefix
	// Pools are the virtual IP pools of the gateway's remote access services.
	Pools []netip.Prefix
	// RouteTable220 is set when a remote access service of the gateway has
	// export_routes: BIRD learns charon's routes to connected clients from
	// kernel table 220 (seed 001) and announces those inside LearnPools.
	RouteTable220 bool
	LearnPools    []netip.Prefix
	// Transfer are the transfer nets (interface prefixes) of every
	// route-based tunnel of the network: never announced or accepted.
	Transfer []netip.Prefix
	// IKEAddrs are the IKE addresses of every gateway of the network: a
	// route covering one would carry IKE into a tunnel (RT3); never
	// announced or accepted.
	IKEAddrs  []netip.Addr
	Neighbors []Neighbor
	// Notes explain what could not be configured (rendered as comments).
	Notes []string
}

// Neighbor is one eBGP (or iBGP) session over a route-based tunnel.
type Neighbor struct {
	// Name is the BIRD protocol name: "tun_" and the tunnel name with every
	// character other than a letter, digit or '_' replaced by '_' (the
	// prefix keeps it clear of BIRD keywords and attribute names).
	Name      string
	Tunnel    string // tunnel name, as written
	Peer      string // peer gateway
	Local     netip.Addr
	Addr      netip.Addr
	ASN       uint32 // the peer's
	Interface string // styx<ifid> (xfrm) or styxv<ifid> (vti), as plan.Links names it
	Hold      time.Duration
	// IPv4 and IPv6 say which channels the session has: the family of the
	// session addresses, and IPv4 over an IPv6 session when either side
	// announces IPv4 prefixes (RFC 5549, extended next hop).
	IPv4, IPv6 bool
	// Accept are the peer's prefixes (its bgp export and learned pools);
	// they and more specific routes are accepted, nothing else.
	Accept []netip.Prefix
}

// ExtendedNextHop reports whether IPv4 routes are carried over an IPv6
// session.
func (n *Neighbor) ExtendedNextHop() bool { return n.IPv4 && n.Local.Is6() }

// HoldSeconds is the BGP hold time in whole seconds (at least 3, RFC 4271).
func (n *Neighbor) HoldSeconds() int {
	s := int((n.Hold + time.Second - 1) / time.Second)
	return max(s, 3)
}

// BGPPlan computes the BIRD configuration of gateway gwName. It returns
// nil when the gateway does not exist or has no bgp section.
func BGPPlan(net *topology.Network, gwName string) *BGP {
	var g *topology.Gateway
	for _, x := range net.Gateways {
		if x.Name == gwName {
			g = x
		}
	}
	if g == nil || g.BGP == nil {
		return nil
	}
	out := &BGP{Gateway: g.Name, ASN: g.BGP.ASN, RouterID: g.BGP.RouterID}
	if !out.RouterID.IsValid() {
		for _, a := range g.LocalAddrs() {
			if a.Is4() {
				out.RouterID = a
				break
			}
		}
		if !out.RouterID.IsValid() {
			out.Notes = append(out.Notes, "no bgp router_id and no IPv4 IKE address: BIRD takes the lowest IPv4 interface address, or does not start without one (set bgp router_id)")
		}
	}
	out.Export4, out.Export6 = Split(bgpPrefixes(g.BGP.Export))
	pools, learn := bgpPools(net, g)
	out.Pools, out.LearnPools = pools, learn
	out.RouteTable220 = len(learn) > 0
	out.Local = bgpPrefixes(append(slices.Clone(g.LAN), pools...))
	var transfer []netip.Prefix
	var ike []netip.Addr
	for _, t := range net.Tunnels {
		if t.Mode != "route" {
			continue
		}
		for _, e := range t.Ends {
			if e.IfAddr.IsValid() {
				transfer = append(transfer, e.IfAddr.Masked())
			}
		}
	}
	for _, x := range net.Gateways {
		ike = append(ike, x.Public...)
		ike = append(ike, x.Local...)
	}
	out.Transfer = bgpPrefixes(transfer)
	out.IKEAddrs = sortAddrs(slices.Clone(ike))

	names := map[string]bool{}
	for _, t := range net.Tunnels {
		i := t.EndOf(g)
		if i < 0 || t.Mode != "route" || t.BGP == nil {
			continue
		}
		e, p := t.Ends[i], t.Ends[topology.Other(i)]
		if p.Gateway.BGP == nil {
			out.Notes = append(out.Notes, fmt.Sprintf("tunnel %s: gateway %s has no bgp section; no session", t.Name, p.Gateway.Name))
			continue
		}
		if !e.IfAddr.IsValid() || !p.IfAddr.IsValid() {
			out.Notes = append(out.Notes, fmt.Sprintf("tunnel %s has no interface addresses (give it transfer: or interface addresses); no session", t.Name))
			continue
		}
		if e.IfAddr.Addr().Is4() != p.IfAddr.Addr().Is4() {
			out.Notes = append(out.Notes, fmt.Sprintf("tunnel %s: interface addresses %s and %s are of different families; no session", t.Name, e.IfAddr, p.IfAddr))
			continue
		}
		n := Neighbor{
			Name:      bgpProtoName(t.Name, names),
			Tunnel:    t.Name,
			Peer:      p.Gateway.Name,
			Local:     e.IfAddr.Addr(),
			Addr:      p.IfAddr.Addr(),
			ASN:       p.Gateway.BGP.ASN,
			Interface: bgpLinkName(t, e),
			Hold:      t.BGP.Hold,
		}
		_, peerLearn := bgpPools(net, p.Gateway)
		n.Accept = bgpPrefixes(append(slices.Clone(p.Gateway.BGP.Export), peerLearn...))
		var has4, has6 bool
		for _, q := range slices.Concat(out.Export4, out.Export6, out.LearnPools, n.Accept) {
			has4 = has4 || q.Addr().Is4()
			has6 = has6 || q.Addr().Is6()
		}
		if n.Local.Is4() {
			n.IPv4 = true
			if has6 {
				out.Notes = append(out.Notes, fmt.Sprintf("tunnel %s: IPv6 prefixes are not exchanged over its IPv4 session (give the tunnel IPv6 interface addresses)", t.Name))
			}
		} else {
			n.IPv6, n.IPv4 = true, has4
		}
		out.Neighbors = append(out.Neighbors, n)
	}
	slices.SortFunc(out.Neighbors, func(a, b Neighbor) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// bgpLinkName is the device name of gateway end e of route-based tunnel t,
// as links() names it.
func bgpLinkName(t *topology.Tunnel, e topology.End) string {
	if t.IfType == "vti" {
		return fmt.Sprintf("styxv%d", e.IfID)
	}
	return fmt.Sprintf("styx%d", e.IfID)
}

// bgpProtoName makes a BIRD symbol of a tunnel name, unique among names.
func bgpProtoName(tunnel string, names map[string]bool) string {
	var b strings.Builder
	b.WriteString("tun_")
	for _, r := range tunnel {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	for n := 2; names[name]; n++ {
		name = fmt.Sprintf("%s_%d", b.String(), n)
	}
	names[name] = true
	return name
}

// bgpPools returns the virtual IP pools of g's remote access services, and
// those of services with export_routes (client routes learnt from table 220).
func bgpPools(net *topology.Network, g *topology.Gateway) (pools, learn []netip.Prefix) {
	for _, ra := range net.RemoteAccess {
		if ra.Gateway != g {
			continue
		}
		pools = append(pools, ra.Pools...)
		if ra.Export {
			learn = append(learn, ra.Pools...)
		}
	}
	return bgpPrefixes(pools), bgpPrefixes(learn)
}

// bgpPrefixes returns the valid prefixes of ps, masked and sorted (IPv4 first, then by
// address and length) without duplicates, in a new slice.
func bgpPrefixes(ps []netip.Prefix) []netip.Prefix {
	var out []netip.Prefix
	for _, p := range ps {
		if p.IsValid() {
			out = append(out, p.Masked())
		}
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int {
		if d := a.Addr().Compare(b.Addr()); d != 0 {
			return d
		}
		return a.Bits() - b.Bits()
	})
	return slices.Compact(out)
}
