package plan

import (
	"net/netip"
	"slices"

	"go4.org/netipx"

	"github.com/styx-vpn/styx/internal/topology"
)

// BGPPeer is a BGP session the firewall lets through.
type BGPPeer struct {
	Dev  string     // tunnel device
	Addr netip.Addr // the peer's transfer address
	Peer string     // the peer gateway
}

// Firewall is the firewall and NAT intent of a gateway. Render turns it
// into an nftables table or iptables-restore rules for the gateway's data
// plane.
type Firewall struct {
	Dataplane topology.Dataplane
	// Policy is "drop" (default-drop input/forward/output), "accept" (only
	// what styx owns is filtered) or "none" (no filter chains, NAT only).
	Policy   string
	PublicIf string
	LANIfs   []string
	// Peers are the IKE peers; IKE and ESP are accepted only from them,
	// unless AnyPeer (a responder for peers whose address is unknown).
	Peers   []netip.Addr
	AnyPeer bool
	// LocalProt and RemoteProt are the merged local and remote selectors
	// of every child on this gateway.
	LocalProt  []netip.Prefix
	RemoteProt []netip.Prefix
	// LAN is what the gateway protects; new connections to it that did not
	// come through IPsec are dropped (LAN shield).
	LAN []netip.Prefix
	// Masq hides these sources behind the public address for traffic to
	// the internet (tunnel traffic exempt).
	Masq []netip.Prefix
	// MasqIf is the interface masquerade applies to ("" = any non-tunnel).
	MasqIf string
	// SNAT rewrites tunnel-bound traffic so that it matches a selector.
	SNAT []SNAT
	// DNAT publishes services to tunnel peers.
	DNAT []DNAT
	// Allow are the allow: flows that concern this gateway.
	Allow []Allow
	// PoolMasq are road-warrior pools masqueraded towards the LAN.
	PoolMasq []netip.Prefix
	// MSS4/MSS6 clamp TCP on tunnel paths (0 = none).
	MSS4, MSS6 int
	MSSWhy     string
	// NAT are explicit nat: rules, rendered literally.
	NAT []topology.NATRule
	// TunnelIfs are styx's tunnel devices (XFRM, VTI, GRE): traffic on them
	// was decapsulated from, or goes into, IPsec (or GRE carried by it).
	TunnelIfs []string
	// BGP are the gateway's BGP sessions over its tunnel devices: TCP port
	// 179 from and to the peer's transfer address on that device is
	// accepted (input and output), whatever the policy.
	BGP []BGPPeer
	// Site names the gateway's site when other gateways share it (seed
	// 002's redundant pairs): with ECMP over the pair a flow may leave
	// through one gateway and come back through the other, so the tunnel
	// accepts come before conntrack's invalid drop, which would take the
	// first packet seen of a flow's other half (a SYN-ACK) for invalid.
	Site string
}

// InputAllows returns the allows whose destination is the gateway itself,
// in declaration order; nil if there are none.
func (fw *Firewall) InputAllows() []Allow {
	return fw.allows(func(a Allow) bool { return a.Input })
}

// OutputAllows returns the allows whose source is the gateway itself, in
// declaration order; nil if there are none.
func (fw *Firewall) OutputAllows() []Allow {
	return fw.allows(func(a Allow) bool { return a.Output })
}

// ForwardAllows returns the allows routed through the gateway (neither
// input nor output), in declaration order; nil if there are none.
func (fw *Firewall) ForwardAllows() []Allow {
	return fw.allows(func(a Allow) bool { return !a.Input && !a.Output })
}

func (fw *Firewall) allows(keep func(Allow) bool) []Allow {
	var out []Allow
	for _, a := range fw.Allow {
		if keep(a) {
			out = append(out, a)
		}
	}
	return out
}

// SNAT rewrites the source of traffic from From to To to Addr.
type SNAT struct {
	From   []netip.Prefix // empty = any
	Except []netip.Prefix // sources already inside the selector stay as they are
	To     []netip.Prefix
	Addr   netip.Addr
	Why    string
}

// DNAT forwards Publish to To for packets from From that came through IPsec.
type DNAT struct {
	Name    string
	Publish topology.Endpoint
	To      topology.Endpoint
	From    []netip.Prefix
	Why     string
}

// Allow accepts traffic from From to To on Ports; Input means the
// destination is the gateway itself, Output that the source is; Tunnel
// means the source arrives through IPsec (a remote selector or pool).
type Allow struct {
	From  []netip.Prefix
	To    []netip.Prefix
	Ports []topology.Port
	Input bool
	// Output means the source is the gateway itself (gw.self -> ...).
	Output bool
	Tunnel bool
	Why    string
}

// merge returns the minimal sorted set of prefixes covering ps.
func merge(ps []netip.Prefix) []netip.Prefix {
	var b netipx.IPSetBuilder
	for _, p := range ps {
		if p.IsValid() {
			b.AddPrefix(p)
		}
	}
	s, err := b.IPSet()
	if err != nil {
		return nil
	}
	return s.Prefixes()
}

// Split returns the IPv4 and IPv6 members of ps.
func Split(ps []netip.Prefix) (v4, v6 []netip.Prefix) {
	for _, p := range ps {
		if p.Addr().Is4() {
			v4 = append(v4, p)
		} else {
			v6 = append(v6, p)
		}
	}
	return v4, v6
}

// SplitAddrs returns the IPv4 and IPv6 members of as.
func SplitAddrs(as []netip.Addr) (v4, v6 []netip.Addr) {
	for _, a := range as {
		if a.Is4() {
			v4 = append(v4, a)
		} else {
			v6 = append(v6, a)
		}
	}
	return v4, v6
}

func sortAddrs(as []netip.Addr) []netip.Addr {
	slices.SortFunc(as, func(a, b netip.Addr) int { return a.Compare(b) })
	return slices.Compact(as)
}

func hostPrefix(a netip.Addr) netip.Prefix { return netip.PrefixFrom(a, a.BitLen()) }
