package topology

import (
	"cmp"
	"github.com/styx-vpn/styx/internal/diag"
	"slices"
	"strings"
)

func (r *resolver) gateways(m Map[GatewayDef]) {
	if len(m) == 0 {
		r.errorf(diag.Pos{}, RuleRequired, "add a gateways: section; see examples/", "no gateways defined")
	}
	for _, e := range m {
		if !r.checkName(e.Key, "gateway") {
			continue
		}
		def := &e.Value
		g := &Gateway{Name: e.Key.V, At: e.Key.At, Site: def.Site.V, External: def.External.V, Dynamic: def.Dynamic.V}
		r.gws[g.Name] = g
		r.net.Gateways = append(r.net.Gateways, g)

		g.ID = "@" + g.Name
		if def.ID.Set {
			if strings.TrimSpace(def.ID.V) == "" || strings.ContainsAny(def.ID.V, "\n\"") {
				r.errorf(def.ID.At, RuleValue, "write @fqdn, an IP address, user@domain or a DN such as \"C=CH, O=example, CN=gw\"", "invalid IKE identity %q", def.ID.V)
			}
			if def.ID.V == "%any" {
				r.errorf(def.ID.At, RuleValue, "a gateway needs a real identity; %any is only for road warriors", "gateway identity cannot be %%any")
			}
			g.ID = def.ID.V
		}
		for _, s := range def.Public {
			a, err := ParseAddr(s.V)
			if err == nil {
				g.Public = append(g.Public, a)
				continue
			}
			if g.External && hostnameRE.MatchString(s.V) {
				g.Hosts = append(g.Hosts, s.V)
				continue
			}
			r.errorf(s.At, RuleAddress, "write an IP address (a DNS name is accepted only for external gateways)", "public: %q is not an IP address", s.V)
		}
		g.Local = r.addrs(def.Local, "local")
		if len(g.Local) > 0 && len(def.Public) == 0 {
			r.errorf(def.Local[0].At, RuleValue, "local: is the private address behind a 1:1 NAT; also give the public address peers use", "local address without public address")
		}
		if len(def.Public) == 0 && !g.Dynamic {
			r.errorf(g.At, RuleRequired, "add public: <address>, or dynamic: true for a gateway whose address is unknown (behind NAT)", "gateway %q has no public address", g.Name)
		}
		g.LAN = r.prefixes(def.LAN, "lan")
		g.lanBroken = len(g.LAN) != len(def.LAN)
		g.Addresses = r.addrs(def.Addresses, "addresses")
		g.PublicIf = def.Interfaces.Public.V
		g.LANIfs = def.Interfaces.LAN.Values()
		for _, s := range append(Strs{def.Interfaces.Public}, def.Interfaces.LAN...) {
			if s.Set && !ifnameRE.MatchString(s.V) {
				r.errorf(s.At, RuleValue, "interface names are 1-15 characters without '/' or spaces", "invalid interface name %q", s.V)
			}
		}
		g.Dataplane = Kernel
		switch {
		case def.Dataplane.Set:
			if v, ok := r.oneOf(def.Dataplane, "data plane", string(Kernel), string(Libipsec)); ok {
				g.Dataplane = Dataplane(v)
			}
		case r.defs.Dataplane.Set && slices.Contains([]string{"kernel", "libipsec"}, r.defs.Dataplane.V):
			g.Dataplane = Dataplane(r.defs.Dataplane.V)
		}
		g.Firewall = "accept"
		switch {
		case def.Firewall.Set:
			g.Firewall, _ = r.oneOf(def.Firewall, "firewall policy", firewallPolicies...)
		case r.defs.Firewall.Set && slices.Contains(firewallPolicies, r.defs.Firewall.V):
			g.Firewall = r.defs.Firewall.V
		}
		g.MTU = DefaultMTU
		if r.defs.MTU.Set {
			g.MTU = r.defs.MTU.V
		}
		if def.MTU.Set {
			if def.MTU.V < 576 || def.MTU.V > 65535 {
				r.errorf(def.MTU.At, RuleValue, "typical values are 1500, or 9001 in some clouds", "mtu %d out of range 576-65535", def.MTU.V)
			} else {
				g.MTU = def.MTU.V
			}
		}
		if def.Masquerade.Set && def.Masquerade.On {
			g.Masq = &Masquerade{At: def.Masquerade.At, From: r.prefixes(def.Masquerade.From, "masquerade from"), Iface: def.Masquerade.Iface.V}
			if len(def.Masquerade.From) == 0 {
				g.Masq.From = g.LAN
			}
		}
		for _, n := range def.NAT {
			rule := NATRule{At: n.At, From: r.prefixes(n.From, "nat from"), To: r.prefixes(n.To, "nat to"), SNAT: r.addr(n.Snat, "nat snat"), Iface: n.Interface.V}
			g.NAT = append(g.NAT, rule)
		}
		g.Cert, g.Key, g.CA = def.Cert.V, def.Key.V, def.CA.Values()
		if def.BGP != nil {
			b := &BGP{At: def.BGP.At}
			if def.BGP.ASN.Set {
				if def.BGP.ASN.V < 1 || def.BGP.ASN.V > 4294967294 {
					r.errorf(def.BGP.ASN.At, RuleValue, "private ASNs are 64512-65534 or 4200000000-4294967294", "invalid ASN %d", def.BGP.ASN.V)
				}
				b.ASN = uint32(def.BGP.ASN.V)
			}
			b.RouterID = r.addr(def.BGP.RouterID, "bgp router_id")
			if b.RouterID.IsValid() && !b.RouterID.Is4() {
				r.errorf(def.BGP.RouterID.At, RuleValue, "BGP router ids are written as IPv4 addresses (e.g. 1.0.1.1), even on IPv6-only routers", "router_id must be an IPv4 address")
			}
			for _, s := range def.BGP.Export {
				switch s.V {
				case "lan":
					b.Export = append(b.Export, g.LAN...)
				case "pools":
					b.ExportPools = true
				default:
					if p, ok := r.prefix(s, "bgp export"); ok {
						b.Export = append(b.Export, p)
					}
				}
			}
			if len(def.BGP.Export) == 0 {
				b.Export = g.LAN
			}
			g.BGP = b
		}
		g.Router = r.addr(def.Router, "router")
	}
	slices.SortFunc(r.net.Gateways, func(a, b *Gateway) int { return cmp.Compare(a.Name, b.Name) })
}
