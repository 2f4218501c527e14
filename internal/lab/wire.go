package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/topology"
)

// wire connects the namespaces: the router, each gateway's public side and
// LAN bridge (shared by the gateways of a site), and the lab hosts.
func (l *Lab) wire(ctx context.Context) error {
	net := l.net
	r := l.ns("internet")
	bat := &ipBatch{dir: l.opts.Dir}
	if err := setSysctls(ctx, r, "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1"); err != nil {
		return err
	}
	link := 0
	// veth between the router and a node's public side
	public := func(n *Node, ifname string, addrs []netip.Addr, routed []netip.Addr) error {
		link++
		rif := fmt.Sprintf("r%d", link)
		bat.add("", "link", "add", rif, "netns", r, "type", "veth", "peer", "name", ifname, "netns", n.NS)
		bat.add(r, "link", "set", rif, "up")
		bat.add(n.NS, "link", "set", ifname, "up")
		for _, a := range addrs {
			rv := routerV4
			if a.Is6() {
				rv = routerV6
			}
			// the router is the point-to-point peer of the node's address
			// (not only an on-link route): BIRD then sees it as a neighbor
			// and learns charon's routes through it (table 220)
			cmds := [][]string{
				{n.NS, "ip", "addr", "add", netip.PrefixFrom(a, a.BitLen()).String(), "peer", netip.PrefixFrom(rv, rv.BitLen()).String(), "dev", ifname},
				{r, "ip", "addr", "replace", netip.PrefixFrom(rv, rv.BitLen()).String(), "dev", rif},
				{n.NS, "ip", "route", "replace", rv.String(), "dev", ifname}, // IPv6 adds no route to the peer
				{n.NS, "ip", "route", "replace", "default", "via", rv.String(), "dev", ifname},
			}
			for _, c := range cmds {
				bat.add(c[0], c[2:]...)
			}
		}
		for _, a := range routed {
			bat.add(r, "route", "replace", netip.PrefixFrom(a, a.BitLen()).String(), "dev", rif)
		}
		return nil
	}
	for _, g := range net.Gateways {
		n := l.state.Node(g.Name)
		pubIf := g.PublicIf
		if pubIf == "" {
			pubIf = "pub"
		}
		own := g.LocalAddrs()
		if err := public(n, pubIf, own, own); err != nil {
			return err
		}
		for _, a := range g.Public {
			n.Addrs = append(n.Addrs, a.String())
		}
		// 1:1 NAT in front of a gateway with a private address
		if len(g.Local) > 0 {
			for i, loc := range g.Local {
				if i >= len(g.Public) {
					break
				}
				pub := g.Public[i]
				rule := fmt.Sprintf("table ip styxnat_%d {\n chain pre {\n  type nat hook prerouting priority dstnat;\n  ip daddr %s dnat to %s\n }\n chain post {\n  type nat hook postrouting priority srcnat;\n  ip saddr %s snat to %s\n }\n}", link, pub, loc, loc, pub)
				if err := l.nftIn(ctx, r, rule); err != nil {
					return err
				}
			}
		}
		// LAN bridge
		lanIf := lanIfOf(g)
		bat.add(n.NS, "link", "add", lanIf, "type", "bridge")
		bat.add(n.NS, "link", "set", lanIf, "up")
		for _, p := range g.LAN {
			a := l.lanGatewayAddr(g, p)
			bat.add(n.NS, "addr", "add", netip.PrefixFrom(a, p.Bits()).String(), "dev", lanIf)
			n.LANAddrs = append(n.LANAddrs, a.String())
		}
	}
	// the gateways of a site share their LAN segment: a veth joins each
	// one's bridge to the bridge of the site's first gateway
	joined := 0
	for _, g := range net.Gateways {
		if len(g.LAN) == 0 {
			continue
		}
		mates := siteMates(net, g, g.LAN[0])
		if len(mates) < 2 || mates[0] == g {
			continue
		}
		joined++
		first, n := l.state.Node(mates[0].Name), l.state.Node(g.Name)
		here, there := fmt.Sprintf("site%d", joined), fmt.Sprintf("mate%d", joined)
		bat.add("", "link", "add", here, "netns", n.NS, "type", "veth", "peer", "name", there, "netns", first.NS)
		bat.add(n.NS, "link", "set", here, "master", lanIfOf(g), "up")
		bat.add(first.NS, "link", "set", there, "master", lanIfOf(mates[0]), "up")
	}
	hostN := 0
	for _, h := range net.Lab.Hosts {
		n := l.state.Node(h.Name)
		switch {
		case h.Behind != nil:
			hostN++
			g := l.state.Node(h.Behind.Name)
			lanIf := lanIfOf(h.Behind)
			hif := fmt.Sprintf("h%d", hostN)
			bat.add("", "link", "add", hif, "netns", g.NS, "type", "veth", "peer", "name", "eth0", "netns", n.NS)
			bat.add(g.NS, "link", "set", hif, "master", lanIf)
			bat.add(g.NS, "link", "set", hif, "up")
			bat.add(n.NS, "link", "set", "eth0", "up")
			var lan netip.Prefix
			for _, p := range h.Behind.LAN {
				if p.Contains(h.Address) {
					lan = p
				}
			}
			if !lan.IsValid() {
				return fmt.Errorf("lab host %s: %s is outside the lan of %s", h.Name, h.Address, h.Behind.Name)
			}
			bat.add(n.NS, "addr", "add", netip.PrefixFrom(h.Address, lan.Bits()).String(), "dev", "eth0")
			bat.add(n.NS, "route", "add", "default", "via", l.lanGatewayAddr(h.Behind, lan).String())
			n.Addrs = []string{h.Address.String()}
		case h.Client != nil:
			pub := h.Public
			if !pub.IsValid() {
				pub = netip.AddrFrom4([4]byte{198, 18, 100, byte(10 + hostN)})
			}
			hostN++
			if err := public(n, "pub", []netip.Addr{pub}, []netip.Addr{pub}); err != nil {
				return err
			}
			n.Addrs = []string{pub.String()}
		}
	}
	return bat.run(ctx)
}

// ipBatch collects ip(8) commands per namespace and runs them with one
// `ip -batch` per namespace (the root namespace first: it creates the
// veths the others configure). One process instead of hundreds matters in
// the VM tier, where every exec is slow.
type ipBatch struct {
	dir   string
	order []string
	cmds  map[string][]string
}

func (b *ipBatch) add(ns string, args ...string) {
	if b.cmds == nil {
		b.cmds = map[string][]string{}
	}
	if _, ok := b.cmds[ns]; !ok {
		b.order = append(b.order, ns)
	}
	b.cmds[ns] = append(b.cmds[ns], strings.Join(args, " "))
}

func (b *ipBatch) run(ctx context.Context) error {
	order := slices.Clone(b.order)
	slices.SortStableFunc(order, func(x, y string) int {
		switch {
		case x == "" && y != "":
			return -1
		case y == "" && x != "":
			return 1
		}
		return 0
	})
	for _, ns := range order {
		f, err := os.CreateTemp(b.dir, "ip-*.batch")
		if err != nil {
			return err
		}
		f.WriteString(strings.Join(b.cmds[ns], "\n") + "\n")
		f.Close()
		args := []string{"-batch", f.Name()}
		if ns != "" {
			args = append([]string{"-n", ns}, args...)
		}
		_, err = netns.Run(ctx, "", "ip", args...)
		os.Remove(f.Name())
		if err != nil {
			return fmt.Errorf("wiring %s: %w", map[bool]string{true: "the root namespace", false: ns}[ns == ""], err)
		}
	}
	return nil
}

// lanGatewayAddr is the gateway's address in a LAN prefix: the first
// address not taken by a lab host; the gateways of one site that share the
// prefix (one LAN segment in the lab) take the first, second... such
// address in file order.
func (l *Lab) lanGatewayAddr(g *topology.Gateway, p netip.Prefix) netip.Addr {
	if p.Bits() >= p.Addr().BitLen()-1 {
		return p.Addr()
	}
	mates := siteMates(l.net, g, p)
	taken := map[netip.Addr]bool{}
	for _, h := range l.net.Lab.Hosts {
		if slices.Contains(mates, h.Behind) {
			taken[h.Address] = true
		}
	}
	k := slices.Index(mates, g)
	a := p.Addr().Next()
	for ; taken[a] || k > 0; a = a.Next() {
		if !taken[a] {
			k--
		}
	}
	return a
}

// lanIfOf is the name of a gateway's LAN bridge in the lab.
func lanIfOf(g *topology.Gateway) string {
	if len(g.LANIfs) > 0 {
		return g.LANIfs[0]
	}
	return "lan"
}

// siteMates are the gateways of g's site (g included, in file order) that
// have LAN prefix p: the lab puts them on one LAN segment, as the
// redundant gateways of a site are (seed 002).
func siteMates(net *topology.Network, g *topology.Gateway, p netip.Prefix) []*topology.Gateway {
	if g.Site == "" {
		return []*topology.Gateway{g}
	}
	var out []*topology.Gateway
	for _, x := range net.Gateways {
		if x.Site == g.Site && slices.Contains(x.LAN, p) {
			out = append(out, x)
		}
	}
	return out
}

func (l *Lab) nftIn(ctx context.Context, ns, ruleset string) error {
	f, err := os.CreateTemp(l.opts.Dir, "nat-*.nft")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	f.WriteString(ruleset + "\n")
	f.Close()
	return l.sh(ctx, ns, "nft", "-f", f.Name())
}

// setSysctls sets KEY=VALUE sysctls in namespace ns (without a process).
func setSysctls(ctx context.Context, ns string, kvs ...string) error {
	for _, kv := range kvs {
		k, v, _ := strings.Cut(kv, "=")
		if err := (apply.ProcSysctls{NetNS: ns}).Set(ctx, k, v); err != nil {
			return err
		}
	}
	return nil
}
