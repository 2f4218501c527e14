package topology

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/styx-vpn/styx/internal/diag"
)

// RuleDupTunnel is reported when two tunnels connect the same two gateways.
const RuleDupTunnel = "duplicate-tunnel"

// pairing is one gateway pair produced by a tunnel block.
type pairing struct {
	a, b   *Gateway
	ra, rb Role
	name   string
}

// blockCommon holds what all tunnels of one block share.
type blockCommon struct {
	crypto *Crypto
	method AuthMethod
	mode   string
	ifType string
	ifMTU  int
}

func (r *resolver) tunnels(defs []TunnelDef) {
	names := map[string]diag.Pos{}
	pairs := map[[2]string]string{}
	for i := range defs {
		def := &defs[i]
		family, ps := r.pairings(def)
		if ps == nil {
			continue
		}
		common := r.blockCommon(def)
		initiator := r.initiatorRef(def, family, ps)
		for _, p := range ps {
			if first, dup := names[p.name]; dup {
				r.errorf(def.At, RuleDupName, fmt.Sprintf("tunnel names must be unique; the other %q comes from line %d; give this block a name:", p.name, first.Line), "duplicate tunnel name %q", p.name)
				continue
			}
			names[p.name] = def.At
			key := [2]string{min(p.a.Name, p.b.Name), max(p.a.Name, p.b.Name)}
			if other, dup := pairs[key]; dup {
				r.errorf(def.At, RuleDupTunnel, "put all selectors between two gateways into one tunnel, as children", "tunnels %q and %q both connect %s and %s", other, p.name, key[0], key[1])
				continue
			}
			pairs[key] = p.name
			t := r.tunnel(def, family, p, common, initiator)
			if t != nil {
				r.net.Tunnels = append(r.net.Tunnels, t)
			}
		}
	}
	r.allocateInterfaces()
}

// pairings expands a tunnel block into gateway pairs.
func (r *resolver) pairings(def *TunnelDef) (string, []pairing) {
	forms := 0
	for _, set := range []bool{len(def.Between) > 0, def.Hub.Set || len(def.Spokes) > 0, len(def.Mesh) > 0} {
		if set {
			forms++
		}
	}
	if forms != 1 {
		r.errorf(def.At, RuleShape, "write between: [a, b], or hub: h with spokes: [...], or mesh: [a, b, c]", "a tunnel needs exactly one of between, hub/spokes or mesh")
		return "", nil
	}
	if def.Name.Set && !r.checkName(def.Name, "tunnel") {
		return "", nil
	}
	join := func(parts ...string) string { return strings.Join(parts, "-") }
	switch {
	case len(def.Between) > 0:
		if len(def.Between) != 2 {
			r.errorf(def.Between[0].At, RuleShape, "for more than two gateways use hub/spokes or mesh", "between needs exactly two gateways, found %d", len(def.Between))
			return "", nil
		}
		a, b := r.gateway(def.Between[0], "between"), r.gateway(def.Between[1], "between")
		if a == nil || b == nil {
			return "", nil
		}
		if a == b {
			r.errorf(def.Between[1].At, RuleShape, "", "a tunnel needs two different gateways")
			return "", nil
		}
		name := join(a.Name, b.Name)
		if def.Name.Set {
			name = def.Name.V
		}
		return "between", []pairing{{a: a, b: b, ra: RolePeer, rb: RolePeer, name: name}}
	case def.Hub.Set || len(def.Spokes) > 0:
		if !def.Hub.Set || len(def.Spokes) == 0 {
			r.errorf(def.At, RuleShape, "", "hub and spokes go together")
			return "", nil
		}
		hub := r.gateway(def.Hub, "hub")
		if hub == nil {
			return "", nil
		}
		prefix := hub.Name
		if def.Name.Set {
			prefix = def.Name.V
		}
		var out []pairing
		seen := map[string]bool{}
		for _, s := range def.Spokes {
			sp := r.gateway(s, "spokes")
			if sp == nil {
				continue
			}
			if sp == hub || seen[sp.Name] {
				r.errorf(s.At, RuleShape, "", "spoke %q is listed twice or is the hub", sp.Name)
				continue
			}
			seen[sp.Name] = true
			out = append(out, pairing{a: hub, b: sp, ra: RoleHub, rb: RoleSpoke, name: join(prefix, sp.Name)})
		}
		return "hub", out
	default:
		var gws []*Gateway
		for _, s := range def.Mesh {
			g := r.gateway(s, "mesh")
			if g == nil {
				continue
			}
			if slices.Contains(gws, g) {
				r.errorf(s.At, RuleShape, "", "gateway %q is listed twice", g.Name)
				continue
			}
			gws = append(gws, g)
		}
		if len(def.Mesh) < 2 {
			r.errorf(def.Mesh[0].At, RuleShape, "", "a mesh needs at least two gateways")
			return "", nil
		}
		slices.SortFunc(gws, func(a, b *Gateway) int { return strings.Compare(a.Name, b.Name) })
		out := make([]pairing, 0, len(gws)*(len(gws)-1)/2)
		for i := range gws {
			for j := i + 1; j < len(gws); j++ {
				if gws[i].Site != "" && gws[i].Site == gws[j].Site {
					continue // redundant gateways of one site do not tunnel to each other
				}
				name := join(gws[i].Name, gws[j].Name)
				if def.Name.Set {
					name = join(def.Name.V, name)
				}
				out = append(out, pairing{a: gws[i], b: gws[j], ra: RolePeer, rb: RolePeer, name: name})
			}
		}
		return "mesh", out
	}
}

func (r *resolver) blockCommon(def *TunnelDef) blockCommon {
	c := blockCommon{crypto: r.cryptoRef(def.Crypto), mode: "policy", ifType: "xfrm"}
	switch {
	case def.Mode.Set:
		c.mode, _ = r.oneOf(def.Mode, "tunnel mode", "policy", "route")
	case r.defs.Mode.V == "route":
		c.mode = "route"
	}
	ifType := def.Interface.Type
	if !ifType.Set {
		ifType = r.defs.Interface.Type
	}
	if ifType.Set {
		c.ifType, _ = r.oneOf(ifType, "interface type", "xfrm", "vti")
	}
	mtu := def.Interface.MTU
	if !mtu.Set {
		mtu = r.defs.Interface.MTU
	}
	c.ifMTU = r.mtuValue(mtu)
	switch {
	case def.PSK != nil && (def.Auth.PSK != nil || def.Auth.Method.Set && def.Auth.Method.V != "psk"):
		r.errorf(def.PSK.At, RuleValue, "use either psk: or auth:", "psk given twice")
	case def.PSK != nil || def.Auth.PSK != nil:
		c.method = AuthPSK
	case def.Auth.Method.Set:
		if v, ok := r.oneOf(def.Auth.Method, "authentication method", "psk", "cert", "pubkey"); ok {
			c.method = AuthMethod(v)
			if c.method == AuthPSK {
				r.errorf(def.Auth.Method.At, RuleRequired, "add psk: {file: ...} or {env: ...}", "psk authentication without a psk")
			}
		}
	default:
		r.errorf(def.At, RuleRequired, "add psk: {file: secrets/{tunnel}.psk} (one random key per tunnel) or auth: {method: cert}", "tunnel has no authentication")
	}
	return c
}

func (r *resolver) mtuValue(s Str) int {
	if !s.Set || s.V == "auto" {
		return 0
	}
	n, err := strconv.Atoi(s.V)
	if err != nil || n < 576 || n > 65535 {
		r.errorf(s.At, RuleValue, "write auto (computed from the encapsulation) or a number such as 1400", "invalid mtu %q", s.V)
		return 0
	}
	return n
}

// initiatorRef validates the initiator: key of a block. It returns the
// gateway name or role that initiates ("" for the default).
func (r *resolver) initiatorRef(def *TunnelDef, family string, ps []pairing) string {
	if !def.Initiator.Set {
		return ""
	}
	v := def.Initiator.V
	switch v {
	case "none":
		return v
	case "hub", "spoke", "spokes":
		if family != "hub" {
			r.errorf(def.Initiator.At, RuleValue, "hub and spoke name roles of a hub/spokes block; name a gateway instead", "initiator %q outside a hub/spokes block", v)
			return ""
		}
		return strings.TrimSuffix(v, "s")
	case "both":
		r.errorf(def.Initiator.At, RuleValue, "let one side initiate and the other respond; both initiating creates duplicate SAs", "initiator cannot be both")
		return ""
	}
	for _, p := range ps {
		if p.a.Name == v || p.b.Name == v {
			return v
		}
	}
	r.errorf(def.Initiator.At, RuleUnresolved, "name a gateway of this tunnel, hub, spoke or none", "initiator %q is not a gateway of this tunnel", v)
	return ""
}

func (r *resolver) tunnel(def *TunnelDef, family string, p pairing, c blockCommon, initiator string) *Tunnel {
	t := &Tunnel{
		Name: p.name, At: def.At, Family: family,
		Ends:   [2]End{{Gateway: p.a, Role: p.ra}, {Gateway: p.b, Role: p.rb}},
		Crypto: c.crypto, Mode: c.mode, IfType: c.ifType, IfMTU: c.ifMTU,
		DPD:        dur(def.DPD, dur(r.defs.DPD, DefaultDPD)),
		IKERekey:   dur(def.Lifetime.IKE, dur(r.defs.Lifetime.IKE, DefaultIKERekey)),
		ChildRekey: dur(def.Lifetime.Child, dur(r.defs.Lifetime.Child, DefaultChildRekey)),
		Version:    2, Aggressive: def.Aggressive.V, Encap: def.Encap.V,
		// MOBIKE moves IKE into route-based tunnels (strongswan#299), and
		// external peers (hardware gateways) often do not support it
		MOBIKE: c.mode != "route" && !p.a.External && !p.b.External,
	}
	if def.MOBIKE.Set {
		t.MOBIKE = def.MOBIKE.V
	}
	if def.Version.Set {
		t.Version, t.VersionAt = def.Version.V, def.Version.At
		if def.Version.V != 1 && def.Version.V != 2 {
			r.errorf(def.Version.At, RuleValue, "use 2 (IKEv2)", "invalid IKE version %d", def.Version.V)
		}
	}
	// initiator
	idx := r.defaultInitiator(t)
	switch initiator {
	case "none":
		idx = -1
	case "hub":
		idx = 0
	case "spoke":
		idx = 1
	case "":
	default:
		if i := slices.IndexFunc(t.Ends[:], func(e End) bool { return e.Gateway.Name == initiator }); i >= 0 {
			idx = i
		}
	}
	if idx >= 0 {
		t.Ends[idx].Initiator = true
		if peer := t.Ends[Other(idx)].Gateway; peer.Dynamic {
			r.errorf(def.At, RuleValue, fmt.Sprintf("let %s initiate: its address is unknown to %s", peer.Name, t.Ends[idx].Gateway.Name), "tunnel %s: %s cannot initiate to dynamic gateway %s", t.Name, t.Ends[idx].Gateway.Name, peer.Name)
		}
	}
	// auth
	t.Auth.Method = c.method
	vars := map[string]string{"tunnel": t.Name, "a": p.a.Name, "b": p.b.Name}
	if family == "hub" {
		vars["hub"], vars["spoke"] = p.a.Name, p.b.Name
	}
	if c.method == AuthPSK {
		sd := def.PSK
		if sd == nil {
			sd = def.Auth.PSK
		}
		t.Auth.PSK = r.secret(sd, vars)
	}
	t.Auth.CA = def.Auth.CA.Values()
	// start / dpd / close
	t.Start = "trap|start" // established at load, re-established on traffic (strongSwan >= 5.9.6)
	if idx >= 0 && t.Ends[idx].Gateway.Dataplane == Libipsec {
		t.Start = "start" // kernel-libipsec cannot serve trap policies
	}
	if s := def.Start; s.Set {
		t.Start, _ = r.oneOf(s, "start action", startActions...)
	} else if r.defs.Start.Set {
		t.Start = r.defs.Start.V
	}
	if def.DPDAction.Set {
		t.DPDAction, _ = r.oneOf(def.DPDAction, "dpd action", "clear", "trap", "restart", "none")
	}
	if def.Close.Set {
		t.Close, _ = r.oneOf(def.Close, "close action", "none", "clear", "trap", "start")
	}
	if def.BGP.Set && def.BGP.On {
		if c.mode != "route" {
			r.errorf(def.BGP.At, RuleValue, "BGP runs over the tunnel interfaces of route-based tunnels: add mode: route", "bgp on a policy-based tunnel")
		}
		for _, e := range t.Ends {
			if e.Gateway.BGP == nil && c.mode == "route" {
				r.errorf(def.BGP.At, RuleRequired, fmt.Sprintf("give gateway %s bgp: {asn: ...}", e.Gateway.Name), "tunnel %s runs BGP but gateway %s has no bgp: section", t.Name, e.Gateway.Name)
			}
		}
		t.BGP = &TunnelBGP{Hold: dur(def.BGP.Hold, DefaultBGPHold)}
	}
	if t.Mode == "route" {
		req := &routeReq{id: def.Interface.ID, transfer: r.prefixes(def.Transfer, "transfer")}
		if len(def.Transfer) > 0 {
			req.transferAt = def.Transfer[0].At
		} else {
			req.transfer, req.transferAt = r.defTransfer, r.defTransferAt
		}
		for _, e := range def.Interface.Addresses {
			if i := r.endKey(t, e.Key); i >= 0 {
				p, err := netip.ParsePrefix(e.Value.V)
				if err != nil {
					r.errorf(e.Value.At, RuleAddress, "write the tunnel interface address with its length, e.g. 2001:db8:ff::6/127", "interface address %q is not address/length", e.Value.V)
					continue
				}
				req.addrs[i] = p
			}
		}
		r.routeReqs = append(r.routeReqs, routeReqFor{t, req})
	}
	r.children(def, t)
	return t
}

// DefaultBGPHold is the BGP hold time over tunnels (fast failover, seed 002).
const DefaultBGPHold = 9 * time.Second

func (r *resolver) defaultInitiator(t *Tunnel) int {
	a, b := t.Ends[0].Gateway, t.Ends[1].Gateway
	switch {
	case a.Dynamic != b.Dynamic:
		if a.Dynamic {
			return 0
		}
		return 1
	case a.External != b.External:
		if b.External {
			return 0
		}
		return 1
	case t.Family == "hub":
		return 1
	}
	return 0
}

// endKey maps a ts:/snat:/address: key to an end index. In a hub or mesh
// block a key may name a gateway of another tunnel of the block (per-spoke
// selectors); that returns -2 and is skipped for this tunnel.
func (r *resolver) endKey(t *Tunnel, k Str) int {
	for i, e := range t.Ends {
		if k.V == e.Gateway.Name || (t.Family == "hub" && string(e.Role) == k.V) {
			return i
		}
	}
	if _, isGW := r.gws[k.V]; isGW && t.Family != "between" {
		return -2
	}
	hint := fmt.Sprintf("keys are the gateways of the tunnel (%s, %s)", t.Ends[0].Gateway.Name, t.Ends[1].Gateway.Name)
	if t.Family == "hub" {
		hint = "keys are hub and spoke (or gateway names)"
	}
	r.errorf(k.At, RuleUnresolved, hint, "tunnel %s: %q is not an end of this tunnel", t.Name, k.V)
	return -1
}

// hostTS is the /32 (/128) selector of a gateway's own IKE address.
func hostTS(g *Gateway) TS {
	if g.Dynamic && len(g.LocalAddrs()) == 0 {
		return TS{Dynamic: true}
	}
	a := g.LocalAddrs()
	if len(a) == 0 {
		return TS{Dynamic: true}
	}
	return TS{Prefix: netip.PrefixFrom(a[0], a[0].BitLen())}
}

func lanTS(g *Gateway) []TS {
	out := make([]TS, len(g.LAN))
	for i, p := range g.LAN {
		out[i] = TS{Prefix: p}
	}
	return out
}

func (r *resolver) children(def *TunnelDef, t *Tunnel) {
	traffic := "lan"
	if def.Traffic.Set {
		traffic, _ = r.oneOf(def.Traffic, "traffic", "lan", "host-to-host")
	}
	if len(def.Children) == 0 {
		ch := &Child{Name: t.Name, At: def.At, Mode: "tunnel"}
		for i, e := range t.Ends {
			switch {
			case t.Mode == "route":
				ch.TS[i] = []TS{{Prefix: netip.MustParsePrefix("0.0.0.0/0")}, {Prefix: netip.MustParsePrefix("::/0")}}
			case traffic == "host-to-host":
				ch.TS[i] = []TS{hostTS(e.Gateway)}
			default:
				if len(e.Gateway.LAN) == 0 && !e.Gateway.lanBroken {
					r.errorf(def.At, RuleRequired, fmt.Sprintf("give gateway %s a lan:, use traffic: host-to-host, or list children with ts:", e.Gateway.Name), "tunnel %s: gateway %s has no lan to protect", t.Name, e.Gateway.Name)
				}
				ch.TS[i] = lanTS(e.Gateway)
			}
		}
		t.Children = []*Child{ch}
		return
	}
	seen := map[string]bool{}
	for ci := range def.Children {
		cd := &def.Children[ci]
		if !r.checkName(cd.Name, "child") {
			continue
		}
		if seen[cd.Name.V] {
			r.errorf(cd.Name.At, RuleDupName, "child names must be unique within a tunnel", "duplicate child %q", cd.Name.V)
			continue
		}
		seen[cd.Name.V] = true
		ch := &Child{Name: cd.Name.V, At: cd.At, Mode: "tunnel"}
		if cd.Mode.Set {
			ch.Mode, _ = r.oneOf(cd.Mode, "child mode", "tunnel", "transport")
		}
		if cd.Start.Set {
			ch.Start, _ = r.oneOf(cd.Start, "start action", startActions...)
		}
		var given [2]bool
		for _, e := range cd.TS {
			i := r.endKey(t, e.Key)
			if i < 0 {
				continue
			}
			given[i] = true
			for _, s := range e.Value {
				ch.TS[i] = append(ch.TS[i], r.selector(t, i, s)...)
			}
		}
		for i, ok := range given {
			if !ok {
				g := t.Ends[i].Gateway
				if traffic == "host-to-host" || len(g.LAN) == 0 {
					ch.TS[i] = []TS{hostTS(g)}
				} else {
					ch.TS[i] = lanTS(g)
				}
			}
		}
		for _, e := range cd.SNAT {
			if i := r.endKey(t, e.Key); i >= 0 {
				ch.SNAT[i] = r.addr(e.Value, "snat")
			}
		}
		if cd.GRE != nil {
			gre := &GRE{At: cd.GRE.At, Multicast: cd.GRE.Multicast.V, Keepalive: cd.GRE.Keepalive.V, MTU: r.mtuValue(cd.GRE.MTU)}
			if cd.GRE.Key.Set {
				gre.Key = uint32(cd.GRE.Key.V)
			}
			for _, e := range cd.GRE.Address {
				if i := r.endKey(t, e.Key); i >= 0 {
					p, err := netip.ParsePrefix(e.Value.V)
					if err != nil {
						r.errorf(e.Value.At, RuleAddress, "write the GRE device address with its length, e.g. 10.44.4.6/30", "gre address %q is not address/length", e.Value.V)
						continue
					}
					gre.Address[i] = p
				}
			}
			ch.GRE = gre
		}
		t.Children = append(t.Children, ch)
	}
}

// selector resolves one ts: entry for end i: lan, public (the end's own
// IKE address), dynamic, or a swanctl selector.
func (r *resolver) selector(t *Tunnel, i int, s Str) []TS {
	g := t.Ends[i].Gateway
	switch s.V {
	case "lan":
		if len(g.LAN) == 0 {
			r.errorf(s.At, RuleRequired, "give the gateway a lan:", "gateway %s has no lan", g.Name)
		}
		out := lanTS(g)
		for j := range out {
			out[j].At = s.At
		}
		return out
	case "public", "host":
		ts := hostTS(g)
		ts.At = s.At
		return []TS{ts}
	}
	ts, err := ParseTS(s.V)
	if err != nil {
		hint := "write e.g. 10.0.0.0/24, 10.0.0.2/32[tcp/8080], 10.44.6.1/32[gre], lan or public"
		if hb, ok := err.(*HostBitsError); ok {
			hint = fmt.Sprintf("write %s", hb.Masked)
		}
		r.errorf(s.At, RulePrefix, hint, "tunnel %s: %v", t.Name, err)
		return nil
	}
	ts.At = s.At
	return []TS{ts}
}
