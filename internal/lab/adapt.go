package lab

import (
	"fmt"
	"slices"
	"strings"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/topology"
)

// Adapt fits a network to the data plane the lab runs: with
// kernel-libipsec, route-based tunnels (XFRM interfaces, VTI) are left out,
// GRE devices are not created (their CHILD_SAs still are), and trap start
// actions become start. It returns one line per part left out, for the
// user: the lab never pretends to test what it cannot run.
func Adapt(net *topology.Network, dataplane string) []string {
	net.SetDataplane(topology.Dataplane(dataplane))
	if dataplane != "libipsec" {
		return nil
	}
	var skipped []string
	net.Tunnels = slices.DeleteFunc(net.Tunnels, func(t *topology.Tunnel) bool {
		if t.Mode == "route" {
			skipped = append(skipped, fmt.Sprintf("tunnel %s: route-based (%s interface) needs the kernel data plane", t.Name, t.IfType))
			return true
		}
		return false
	})
	for _, t := range net.Tunnels {
		for _, c := range t.Children {
			if c.GRE != nil {
				skipped = append(skipped, fmt.Sprintf("tunnel %s/%s: GRE device (this kernel has no GRE); the CHILD_SA is still negotiated", t.Name, c.Name))
			}
		}
	}
	return skipped
}

// withoutGRE removes GRE devices and what hangs on them from a gateway plan.
func withoutGRE(gw *plan.Gateway) {
	var gone []string
	gw.Links = slices.DeleteFunc(gw.Links, func(l plan.Link) bool {
		if l.Kind == "gre" {
			gone = append(gone, l.Name)
			return true
		}
		return false
	})
	gw.Addresses = slices.DeleteFunc(gw.Addresses, func(a plan.Address) bool { return slices.Contains(gone, a.Dev) })
	gw.Routes = slices.DeleteFunc(gw.Routes, func(r plan.Route) bool { return slices.Contains(gone, r.Dev) })
	gw.Sysctls = slices.DeleteFunc(gw.Sysctls, func(s plan.Sysctl) bool {
		for _, n := range gone {
			if strings.Contains(s.Key, "."+n+".") {
				return true
			}
		}
		return false
	})
	gw.Charon.InterfacesIgnore = slices.DeleteFunc(gw.Charon.InterfacesIgnore, func(n string) bool { return slices.Contains(gone, n) })
}

// connected reports whether a tunnel of net joins gateways a and b.
func connected(net *topology.Network, a, b *topology.Gateway) bool {
	for _, t := range net.Tunnels {
		if t.EndOf(a) >= 0 && t.EndOf(b) >= 0 {
			return true
		}
	}
	return false
}
