package topology_test

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/topology"
)

const routeBase = `styx: 1
defaults:
  mode: route
  transfer: "2001:db8:ff::/64"
gateways:
  v1: {public: "2001:db8:1::1", lan: "2001:db8:a1::/64"}
  v2: {public: "2001:db8:2::1", lan: "2001:db8:a2::/64"}
  v3: {public: "2001:db8:3::1", lan: "2001:db8:a3::/64"}
  v4: {public: "2001:db8:4::1", lan: "2001:db8:a4::/64"}
  v5: {public: "2001:db8:5::1", lan: "2001:db8:a5::/64"}
tunnels:
`

// ifState is what route mode allocates for one tunnel.
type ifState struct {
	IDs   [2]uint32
	Addrs [2]netip.Prefix
}

func ifStates(net *topology.Network) map[string]ifState {
	out := map[string]ifState{}
	for _, tu := range net.Tunnels {
		out[tu.Name] = ifState{
			IDs:   [2]uint32{tu.Ends[0].IfID, tu.Ends[1].IfID},
			Addrs: [2]netip.Prefix{tu.Ends[0].IfAddr, tu.Ends[1].IfAddr},
		}
	}
	return out
}

// checkRouteInvariants checks what must hold for every route-based
// network: 0/0 selectors, interface ids unique per gateway, transfer
// addresses as /127 (/31) pairs, distinct across tunnels, inside the pool.
func checkRouteInvariants(t *testing.T, net *topology.Network, pool netip.Prefix) {
	t.Helper()
	perGW := map[string]map[uint32]string{}
	pairs := map[netip.Prefix]string{}
	bits := 31
	if pool.Addr().Is6() {
		bits = 127
	}
	for _, tu := range net.Tunnels {
		if tu.Mode != "route" || tu.MOBIKE {
			t.Errorf("%s: mode %q mobike %v, want route without MOBIKE", tu.Name, tu.Mode, tu.MOBIKE)
		}
		for _, c := range tu.Children {
			if d := diff([2][]string{{"0.0.0.0/0", "::/0"}, {"0.0.0.0/0", "::/0"}}, selectors(c)); d != "" {
				t.Errorf("%s/%s selectors: %s", tu.Name, c.Name, d)
			}
		}
		for _, e := range tu.Ends {
			if e.IfID == 0 {
				t.Errorf("%s: gateway %s has no interface id", tu.Name, e.Gateway.Name)
			}
			m := perGW[e.Gateway.Name]
			if m == nil {
				m = map[uint32]string{}
				perGW[e.Gateway.Name] = m
			}
			if other, dup := m[e.IfID]; dup {
				t.Errorf("gateway %s: interface id %d used by %s and %s", e.Gateway.Name, e.IfID, other, tu.Name)
			}
			m[e.IfID] = tu.Name
		}
		a, b := tu.Ends[0].IfAddr, tu.Ends[1].IfAddr
		if a.Bits() != bits || b.Bits() != bits {
			t.Errorf("%s: transfer addresses %s, %s are not /%d", tu.Name, a, b, bits)
			continue
		}
		if a.Masked() != b.Masked() || a.Masked().Addr() != a.Addr() || a.Addr().Next() != b.Addr() {
			t.Errorf("%s: transfer addresses %s, %s are not the two addresses of one /%d", tu.Name, a, b, bits)
		}
		if !pool.Contains(a.Addr()) {
			t.Errorf("%s: transfer address %s is outside the pool %s", tu.Name, a, pool)
		}
		if other, dup := pairs[a.Masked()]; dup {
			t.Errorf("transfer prefix %s used by %s and %s", a.Masked(), other, tu.Name)
		}
		pairs[a.Masked()] = tu.Name
	}
}

func TestRouteMode(t *testing.T) {
	pool := netip.MustParsePrefix("2001:db8:ff::/64")
	src := routeBase + `  - mesh: [v1, v2, v3]
    psk: {env: "PSK_{tunnel}"}
`
	net := load(t, src)
	if len(net.Tunnels) != 3 {
		t.Fatalf("tunnels: %v", tunnelNames(net))
	}
	checkRouteInvariants(t, net, pool)
	before := ifStates(net)

	// another gateway in the mesh and another tunnel: nobody is renumbered
	src2 := routeBase + `  - mesh: [v1, v2, v3, v4]
    psk: {env: "PSK_{tunnel}"}
  - between: [v5, v1]
    psk: {env: PSK_51}
`
	net2 := load(t, src2)
	if len(net2.Tunnels) != 7 {
		t.Fatalf("tunnels: %v", tunnelNames(net2))
	}
	checkRouteInvariants(t, net2, pool)
	after := ifStates(net2)
	for name, st := range before {
		if d := diff(st, after[name]); d != "" {
			t.Errorf("%s renumbered when tunnels were added: %s", name, d)
		}
	}
}

func TestRouteModeIPv4Transfer(t *testing.T) {
	src := `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
  c: {public: 192.0.2.3, lan: 10.3.0.0/24}
tunnels:
  - mesh: [a, b, c]
    mode: route
    transfer: 10.255.0.0/29
    psk: {env: "PSK_{tunnel}"}
`
	net := load(t, src)
	checkRouteInvariants(t, net, netip.MustParsePrefix("10.255.0.0/29"))
}

// TestRouteModeManyTunnels: a hub with many route-based spokes needs many
// interface ids on the hub; hash collisions must be probed away.
func TestRouteModeManyTunnels(t *testing.T) {
	var b strings.Builder
	b.WriteString("styx: 1\ngateways:\n  hub: {public: 192.0.2.1, lan: 10.0.0.0/16}\n")
	var spokes []string
	for i := range 400 {
		fmt.Fprintf(&b, "  s%d: {public: 198.51.%d.%d, lan: 10.%d.%d.0/24}\n", i, 100+i/250, 1+i%250, 1+i/250, i%250)
		spokes = append(spokes, fmt.Sprintf("s%d", i))
	}
	fmt.Fprintf(&b, "tunnels:\n  - hub: hub\n    spokes: [%s]\n    mode: route\n    transfer: 10.254.0.0/22\n    psk: {env: \"PSK_{spoke}\"}\n", strings.Join(spokes, ", "))
	net := load(t, b.String())
	if len(net.Tunnels) != 400 {
		t.Fatalf("%d tunnels", len(net.Tunnels))
	}
	checkRouteInvariants(t, net, netip.MustParsePrefix("10.254.0.0/22"))
}

func TestRouteModeExplicit(t *testing.T) {
	src := routeBase + `  - between: [v1, v2]
    interface: {id: 6, type: vti, mtu: 1400, addresses: {v1: "2001:db8:ff::6/127", v2: "2001:db8:ff::7/127"}}
    psk: {env: PSK}
  - between: [v1, v3]
    psk: {env: PSK13}
  - between: [v2, v3]
    mode: policy
    psk: {env: PSK23}
`
	net := load(t, src)
	v12, v13, v23 := tunnelByName(t, net, "v1-v2"), tunnelByName(t, net, "v1-v3"), tunnelByName(t, net, "v2-v3")
	want := ifState{IDs: [2]uint32{6, 6}, Addrs: [2]netip.Prefix{netip.MustParsePrefix("2001:db8:ff::6/127"), netip.MustParsePrefix("2001:db8:ff::7/127")}}
	if d := diff(want, ifStates(net)["v1-v2"]); d != "" {
		t.Errorf("explicit: %s", d)
	}
	if v12.IfType != "vti" || v12.IfMTU != 1400 || v13.IfType != "xfrm" || v13.IfMTU != 0 {
		t.Errorf("interface type/mtu: %s %d, %s %d", v12.IfType, v12.IfMTU, v13.IfType, v13.IfMTU)
	}
	if v13.Ends[0].IfID == 6 || !v13.Ends[0].IfAddr.IsValid() || v13.Ends[0].IfAddr.Masked() == want.Addrs[0].Masked() {
		t.Errorf("v1-v3 must avoid the explicit id and addresses: %+v", ifStates(net)["v1-v3"])
	}
	// policy mode overrides the default: no interface, the lans as selectors
	if v23.Mode != "policy" || v23.Ends[0].IfID != 0 || v23.Ends[0].IfAddr.IsValid() {
		t.Errorf("v2-v3 = mode %s, %+v", v23.Mode, ifStates(net)["v2-v3"])
	}
	if d := diff([2][]string{{"2001:db8:a2::/64"}, {"2001:db8:a3::/64"}}, selectors(v23.Children[0])); d != "" {
		t.Errorf("v2-v3 selectors: %s", d)
	}
}

func TestRouteModeErrors(t *testing.T) {
	src := routeBase + `  - {between: [v1, v2], interface: {id: 6}, psk: {env: PSK}}
  - {between: [v1, v3], interface: {id: 6}, psk: {env: PSK}}
  - {between: [v1, v4], interface: {id: 0}, psk: {env: PSK}}
  - {between: [v1, v5], interface: {addresses: {v1: "2001:db8:ff::8"}}, psk: {env: PSK}}
  - {between: [v2, v3], bgp: true, mode: policy, psk: {env: PSK}}
`
	_, diags := loadDiags(t, src)
	checkDiags(t, diags,
		errAt("13:41", topology.RuleDupName, "interface id 6 is used twice on gateway v1", "its own id"),
		errAt("14:41", topology.RuleValue, "invalid interface id 0", "1-4294967294"),
		errAt("15:53", topology.RuleAddress, `interface address "2001:db8:ff::8" is not address/length`, ""),
		errAt("16:30", topology.RuleValue, "bgp on a policy-based tunnel", "mode: route"),
	)
}

func fnv32a(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// TestRouteModeAddTunnel: adding a gateway to a mesh keeps the existing
// tunnel's numbers, except when the new tunnel's hash lands on the
// existing tunnel's id and its name sorts first: then the new tunnel takes
// the slot and the existing one moves to the next id, as docs/topology.md
// says (pin interface.id to rule that out).
func TestRouteModeAddTunnel(t *testing.T) {
	src := routeBase + `  - mesh: [v1, v2]
    psk: {env: "PSK_{tunnel}"}
`
	before := ifStates(load(t, src))["v1-v2"]
	add := func(g string) ifState {
		t.Helper()
		src2 := strings.Replace(src, "gateways:\n", "gateways:\n  "+g+": {public: \"2001:db8:9::1\", lan: \"2001:db8:a9::/64\"}\n", 1)
		src2 = strings.Replace(src2, "mesh: [v1, v2]", "mesh: [v1, v2, "+g+"]", 1)
		net2 := load(t, src2)
		checkRouteInvariants(t, net2, netip.MustParsePrefix("2001:db8:ff::/64"))
		return ifStates(net2)["v1-v2"]
	}
	if after := add("a0"); after.IDs != before.IDs {
		t.Errorf("adding a0 (no collision) renumbered v1-v2: %v -> %v", before.IDs, after.IDs)
	}

	// a gateway name g (sorting before v1) with hash("g-v1") landing on
	// hash("v1-v2"): tunnel g-v1 is numbered first
	target := fnv32a("v1-v2") % 0xfff0
	var g string
	for i := 0; i < 10_000_000 && g == ""; i++ {
		name := fmt.Sprintf("a%d", i)
		if fnv32a(name+"-v1")%0xfff0 == target {
			g = name
		}
	}
	if g == "" {
		t.Fatal("no colliding name found")
	}
	after := add(g)
	want := [2]uint32{before.IDs[0]%0xfff0 + 1, before.IDs[1]}
	if after.IDs != want {
		t.Errorf("adding %s (hash of %s-v1 = hash of v1-v2): v1-v2 ids %v -> %v, want %v (v1 moves to the next id, v2 keeps its own)",
			g, g, before.IDs, after.IDs, want)
	}
}

// TestRouteModeTransferPool: a transfer prefix that cannot hold a pair,
// or runs out of pairs, is an error at the transfer: that was used, and
// no tunnel is left without its addresses unnoticed.
func TestRouteModeTransferPool(t *testing.T) {
	small := strings.Replace(routeBase, `transfer: "2001:db8:ff::/64"`, `transfer: "2001:db8:ff::/128"`, 1) +
		"  - {between: [v1, v2], psk: {env: PSK}}\n"
	_, diags := loadDiags(t, small)
	checkDiags(t, diags,
		errAt("4:13", topology.RulePrefix, "transfer prefix 2001:db8:ff::/128 is too small for the two interface addresses of tunnel v1-v2 (a /127)", "/127 or shorter"))

	// a /126 holds two /127 pairs; a mesh of three gateways has three tunnels
	full := routeBase + "  - {mesh: [v1, v2, v3], transfer: \"2001:db8:ff::/126\", psk: {env: \"PSK_{tunnel}\"}}\n"
	_, diags = loadDiags(t, full)
	checkDiags(t, diags,
		errAt("12:36", topology.RulePrefix, "transfer prefix 2001:db8:ff::/126 has no free /127 left for tunnel v2-v3 (it holds 2)", "larger transfer prefix"))
}
