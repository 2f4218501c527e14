package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/topology"
)

// bgpTests runs the BGP tests of a lab whose gateways run BIRD: sessions
// established, ECMP routes where two tunnels lead to a prefix, and a
// failover (a peer cut off: its routes are withdrawn and traffic goes on
// over the other path).
func (t *Tester) bgpTests(ctx context.Context) []Result {
	var out []Result
	for _, n := range t.State.Nodes {
		if n.Bird {
			out = append(out, t.bgpSessions(ctx, n))
		}
	}
	for _, n := range t.State.Nodes {
		if n.Bird {
			if r, ok := t.ecmp(ctx, n); ok {
				out = append(out, r)
			}
		}
	}
	out = append(out, t.exportedClients(ctx)...)
	if f := t.failoverPath(); f != nil {
		out = append(out, t.failover(ctx, f))
	}
	return out
}

// exportedClients checks, for every connected road warrior of a remote
// access service with export_routes, that each BGP neighbor of its gateway
// learnt the route to the client's virtual IP (seed 001: charon's table
// 220 route, picked up by BIRD and announced).
func (t *Tester) exportedClients(ctx context.Context) []Result {
	var out []Result
	for _, h := range t.Net.Lab.Hosts {
		ra := h.Client
		if ra == nil || !ra.Export {
			continue
		}
		gn, hn := t.State.Node(ra.Gateway.Name), t.State.Node(h.Name)
		if gn == nil || !gn.Bird || hn == nil || len(hn.LANAddrs) == 0 {
			continue
		}
		vip, err := netip.ParseAddr(hn.LANAddrs[0])
		if err != nil {
			continue
		}
		host := netip.PrefixFrom(vip, vip.BitLen())
		for _, nb := range plan.BGPPlan(t.Net, ra.Gateway.Name).Neighbors {
			pn := t.State.Node(nb.Peer)
			if pn == nil {
				continue
			}
			t0 := time.Now()
			r := Result{Name: fmt.Sprintf("%s's %s announced by %s to %s", h.Name, host, ra.Gateway.Name, nb.Peer), Kind: "bgp-export"}
			var devs []string
			for {
				devs, err = routeDevs(ctx, pn.NS, host)
				if err == nil && len(devs) > 0 || time.Since(t0) > 15*time.Second {
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
			switch {
			case err != nil:
				r.Detail = err.Error()
			case len(devs) == 0:
				r.Detail = fmt.Sprintf("%s has no BGP route to %s after %s", nb.Peer, host, time.Since(t0).Round(time.Second))
			default:
				r.Pass, r.Detail = true, fmt.Sprintf("%s routes %s via %s (from %s's table %d, learnt by BIRD)", nb.Peer, host, strings.Join(devs, "+"), ra.Gateway.Name, 220)
			}
			r.Seconds = time.Since(t0).Seconds()
			out = append(out, r)
		}
	}
	return out
}

func (t *Tester) bgpSessions(ctx context.Context, n *Node) (r Result) {
	t0 := time.Now()
	r = Result{Name: "BGP sessions of " + n.Name, Kind: "bgp"}
	defer func() { r.Seconds = time.Since(t0).Seconds() }()
	ps, err := bgpSessions(ctx, n)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	var down []string
	for _, p := range ps {
		if !p.Established() {
			down = append(down, fmt.Sprintf("%s %s", p.Name, strings.TrimSpace(p.State+" "+p.Info)))
		}
	}
	switch {
	case len(ps) == 0:
		r.Detail = "BIRD has no BGP sessions"
	case len(down) > 0:
		r.Detail = fmt.Sprintf("%d of %d established; not: %s", len(ps)-len(down), len(ps), strings.Join(down, "; "))
	default:
		r.Pass, r.Detail = true, fmt.Sprintf("%d of %d established", len(ps), len(ps))
	}
	return r
}

// ecmpPrefixes maps each prefix that two or more BGP neighbors of gateway
// g announce to the tunnel devices leading to them.
func ecmpPrefixes(net *topology.Network, g string) map[netip.Prefix][]string {
	b := plan.BGPPlan(net, g)
	if b == nil {
		return nil
	}
	devs := map[netip.Prefix][]string{}
	for _, nb := range b.Neighbors {
		for _, p := range nb.Accept {
			devs[p] = append(devs[p], nb.Interface)
		}
	}
	for p, d := range devs {
		if len(d) < 2 {
			delete(devs, p)
		}
	}
	return devs
}

var nexthopDev = regexp.MustCompile(`\bdev (\S+)`)

// routeDevs returns the devices of BIRD's route to prefix p in the main
// table of namespace ns (several for an ECMP route).
func routeDevs(ctx context.Context, ns string, p netip.Prefix) ([]string, error) {
	fam := "-4"
	if p.Addr().Is6() {
		fam = "-6"
	}
	out, err := netns.Run(ctx, ns, "ip", fam, "route", "show", "exact", p.String(), "proto", "bird")
	if err != nil {
		return nil, err
	}
	var devs []string
	for _, m := range nexthopDev.FindAllStringSubmatch(string(out), -1) {
		if !slices.Contains(devs, m[1]) {
			devs = append(devs, m[1])
		}
	}
	slices.Sort(devs)
	return devs, nil
}

// ecmp checks that every prefix two neighbors of n announce has an ECMP
// route over both tunnels.
func (t *Tester) ecmp(ctx context.Context, n *Node) (r Result, ok bool) {
	want := ecmpPrefixes(t.Net, n.Name)
	if len(want) == 0 {
		return r, false
	}
	t0 := time.Now()
	r = Result{Name: "ECMP routes of " + n.Name, Kind: "ecmp"}
	defer func() { r.Seconds = time.Since(t0).Seconds() }()
	var good, bad []string
	for _, p := range sortedPrefixes(want) {
		devs, err := routeDevs(ctx, n.NS, p)
		w := slices.Sorted(slices.Values(want[p]))
		switch {
		case err != nil:
			bad = append(bad, fmt.Sprintf("%s: %v", p, err))
		case !slices.Equal(devs, w):
			bad = append(bad, fmt.Sprintf("%s via %s, want %s", p, orNone(devs), strings.Join(w, "+")))
		default:
			good = append(good, fmt.Sprintf("%s via %s", p, strings.Join(devs, "+")))
		}
	}
	r.Pass = len(bad) == 0
	r.Detail = strings.Join(append(bad, good...), "; ")
	return r, true
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "(no route)"
	}
	return strings.Join(s, "+")
}

func sortedPrefixes[V any](m map[netip.Prefix]V) []netip.Prefix {
	var out []netip.Prefix
	for p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b netip.Prefix) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// failoverCase is a flow over an ECMP route and the peer to cut off.
type failoverCase struct {
	gw     *Node // holds the ECMP route
	host   *topology.LabHost
	target *topology.LabHost
	prefix netip.Prefix
	cut    string // peer gateway to cut off
	cutDev string // gw's tunnel device to it
	keep   string // gw's other tunnel device
	hold   time.Duration
}

// failoverPath finds a lab host behind a BIRD gateway and a lab host in a
// prefix that gateway reaches over two tunnels, one of them to a gateway
// other than the target's: that one is cut off.
func (t *Tester) failoverPath() *failoverCase {
	for _, n := range t.State.Nodes {
		if !n.Bird {
			continue
		}
		b := plan.BGPPlan(t.Net, n.Name)
		want := ecmpPrefixes(t.Net, n.Name)
		for _, p := range sortedPrefixes(want) {
			for _, h := range t.Net.Lab.Hosts {
				if h.Behind == nil || h.Behind.Name != n.Name {
					continue
				}
				for _, dst := range t.Net.Lab.Hosts {
					if dst.Behind == nil || !p.Contains(dst.Address) {
						continue
					}
					for _, nb := range b.Neighbors {
						if nb.Peer == dst.Behind.Name || !slices.Contains(want[p], nb.Interface) {
							continue
						}
						keep := ""
						for _, d := range want[p] {
							if d != nb.Interface {
								keep = d
							}
						}
						return &failoverCase{gw: n, host: h, target: dst, prefix: p, cut: nb.Peer, cutDev: nb.Interface, keep: keep, hold: time.Duration(nb.HoldSeconds()) * time.Second}
					}
				}
			}
		}
	}
	return nil
}

func txPackets(ctx context.Context, ns, dev string) int {
	out, err := netns.Run(ctx, ns, "cat", filepath.Join("/sys/class/net", dev, "statistics/tx_packets"))
	if err != nil {
		return -1
	}
	v, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return v
}

// flowPing runs the agent's ping from a lab host with several flows.
func (t *Tester) flowPing(ctx context.Context, from *topology.LabHost, to netip.Addr, d time.Duration, flows int) (sent, recv int, err error) {
	out, err := netns.Run(ctx, t.State.Node(from.Name).NS, t.Agent, "lab-agent", "ping", "--to", netip.AddrPortFrom(to, EchoPort).String(), "--duration", d.String(), "--flows", strconv.Itoa(flows))
	if err != nil {
		return 0, 0, err
	}
	_, err = fmt.Sscanf(strings.TrimSpace(string(out)), "sent %d received %d", &sent, &recv)
	return sent, recv, err
}

// failover proves ECMP and failover: traffic of several flows uses both
// tunnels; the peer fails (cut off from the internet, charon and BIRD
// killed); its
// route is withdrawn within the BGP hold time and traffic continues over
// the other tunnel; the peer is reconnected afterwards.
func (t *Tester) failover(ctx context.Context, f *failoverCase) (r Result) {
	t0 := time.Now()
	r = Result{Name: fmt.Sprintf("%s -> %s, %s fails (ECMP on %s)", f.host.Name, f.target.Name, f.cut, f.gw.Name), Kind: "failover"}
	defer func() { r.Seconds = time.Since(t0).Seconds() }()
	const flows = 8
	// both paths carry traffic
	c0, k0 := txPackets(ctx, f.gw.NS, f.cutDev), txPackets(ctx, f.gw.NS, f.keep)
	sent, recv, err := t.flowPing(ctx, f.host, f.target.Address, 2*time.Second, flows)
	c1, k1 := txPackets(ctx, f.gw.NS, f.cutDev), txPackets(ctx, f.gw.NS, f.keep)
	if err != nil || recv < sent {
		r.Detail = fmt.Sprintf("before the failure, %d of %d probes answered (%v)", recv, sent, err)
		return r
	}
	// a flow sends 20 probes in 2 s; BGP keepalives add a few packets, so
	// a path carries a flow when it sent at least 10 more
	if c1-c0 < 10 || k1-k0 < 10 {
		r.Detail = fmt.Sprintf("%d flows did not use both paths: %s +%d, %s +%d packets (a flow sends 20)", flows, f.cutDev, c1-c0, f.keep, k1-k0)
		return r
	}
	both := fmt.Sprintf("%d flows over both paths (%s +%d, %s +%d packets)", flows, f.cutDev, c1-c0, f.keep, k1-k0)
	// cut the peer off, probing all along
	type pingResult struct{ sent, recv int }
	during := make(chan pingResult, 1)
	window := f.hold*2 + 4*time.Second
	go func() {
		s, rc, _ := t.flowPing(ctx, f.host, f.target.Address, window, flows)
		during <- pingResult{s, rc}
	}()
	time.Sleep(time.Second)
	restore, err := t.cutOff(ctx, f.cut)
	if err != nil {
		r.Detail = "cutting " + f.cut + " off: " + err.Error()
		return r
	}
	defer func() {
		if err := restore(); err != nil {
			r.Pass, r.Detail = false, r.Detail+"; reconnecting "+f.cut+": "+err.Error()
		}
	}()
	tCut := time.Now()
	var withdrawn time.Duration
	for {
		devs, err := routeDevs(ctx, f.gw.NS, f.prefix)
		if err == nil && !slices.Contains(devs, f.cutDev) && slices.Contains(devs, f.keep) {
			withdrawn = time.Since(tCut)
			break
		}
		if time.Since(tCut) > f.hold*3 {
			<-during
			r.Detail = fmt.Sprintf("%s; %s still routed via %s %s after %s was cut off", both, f.prefix, orNone(devs), time.Since(tCut).Round(time.Second), f.cut)
			return r
		}
		time.Sleep(200 * time.Millisecond)
	}
	pr := <-during
	sent, recv, err = t.flowPing(ctx, f.host, f.target.Address, 2*time.Second, flows)
	if err != nil || recv < sent {
		r.Detail = fmt.Sprintf("%s; route via %s withdrawn after %.1fs, but then %d of %d probes answered (%v)", both, f.cutDev, withdrawn.Seconds(), recv, sent, err)
		return r
	}
	r.Pass = true
	r.Detail = fmt.Sprintf("%s; %s killed and cut off: route via %s withdrawn after %.1fs (hold %s), %d of %d probes lost meanwhile; then %d/%d answered over %s", both, f.cut, f.cutDev, withdrawn.Seconds(), f.hold, pr.sent-pr.recv, pr.sent, recv, sent, f.keep)
	return r
}

// cutOff makes gateway name fail: the internet router drops every packet
// from and to its public addresses, and its charon and BIRD are killed;
// restore reconnects it, starts and configures it again (as after a
// reboot) and waits for the BGP sessions to be established again.
func (t *Tester) cutOff(ctx context.Context, name string) (restore func() error, err error) {
	var g *topology.Gateway
	for _, x := range t.Net.Gateways {
		if x.Name == name {
			g = x
		}
	}
	if g == nil {
		return nil, fmt.Errorf("no gateway %s", name)
	}
	var b strings.Builder
	b.WriteString("table inet styxcut {\n chain forward {\n  type filter hook forward priority -10; policy accept;\n")
	for _, a := range g.Public {
		ip := "ip"
		if a.Is6() {
			ip = "ip6"
		}
		fmt.Fprintf(&b, "  %s saddr %s drop\n  %s daddr %s drop\n", ip, a, ip, a)
	}
	b.WriteString(" }\n}\n")
	r := t.State.Node("internet").NS
	f := filepath.Join(t.Dir, "cut.nft")
	if err := os.WriteFile(f, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(f)
	if _, err := netns.Run(ctx, r, "nft", "-f", f); err != nil {
		return nil, err
	}
	// and it dies: charon and BIRD are killed (the kernel keeps its SAs,
	// but no packet gets through the router)
	var pids []int
	for _, p := range t.State.Procs {
		if p.Name == "charon "+name || p.Name == "bird "+name {
			syscall.Kill(p.PID, syscall.SIGKILL)
			pids = append(pids, p.PID)
		}
	}
	stopAll(pids)
	return func() error {
		if _, err := netns.Run(ctx, r, "nft", "delete", "table", "inet", "styxcut"); err != nil {
			return err
		}
		if err := RestartGateway(ctx, t.Net, t.State, t.Dir, name); err != nil {
			return err
		}
		t.State.Save(t.Dir)
		l := &Lab{opts: Options{Dir: t.Dir}, net: t.Net, state: t.State}
		return l.waitBGP(ctx, 90*time.Second)
	}, nil
}
