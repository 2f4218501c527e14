package lab

import (
	"context"
	"fmt"

	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/topology"
)

// saCount is the packet counters of one installed CHILD_SA.
type saCount struct{ in, out uint64 }

// flowCounts are the CHILD_SA packet counters of one tunnel at both ends:
// sas[i] at Ends[i], by CHILD_SA unique id.
type flowCounts struct {
	tun *topology.Tunnel
	sas [2]map[string]saCount
	ok  bool // both ends could be read
}

// tunnelFlows reads the packet counters of every tunnel between the
// gateways a and b (nil when either is nil or they are the same gateway).
func (t *Tester) tunnelFlows(ctx context.Context, a, b *topology.Gateway) []flowCounts {
	if a == nil || b == nil || a == b {
		return nil
	}
	var out []flowCounts
	for _, tun := range t.Net.Tunnels {
		if tun.EndOf(a) < 0 || tun.EndOf(b) < 0 {
			continue
		}
		f := flowCounts{tun: tun, ok: true}
		for i, e := range tun.Ends {
			f.sas[i] = map[string]saCount{}
			n := t.State.Node(e.Gateway.Name)
			if n == nil {
				f.ok = false
				continue
			}
			sas, err := listSAs(ctx, n, tun.Name)
			if err != nil {
				f.ok = false
				continue
			}
			for _, sa := range sas {
				for _, c := range sa.Children {
					if c.State == "INSTALLED" {
						f.sas[i][c.UniqueID] = saCount{in: c.PacketsIn, out: c.PacketsOut}
					}
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// flowDelta is how many packets one end of a tunnel counted between two
// readings. gone says that a CHILD_SA of the first reading was replaced
// (rekeyed) before the second, so what it counted in between is unknown
// and a zero is not proof of nothing.
type flowDelta struct {
	in, out uint64
	gone    bool
}

func delta(before, after map[string]saCount) flowDelta {
	var d flowDelta
	for id, a := range after {
		b := before[id] // a CHILD_SA new since the first reading started at zero
		d.in += a.in - min(b.in, a.in)
		d.out += a.out - min(b.out, a.out)
	}
	for id := range before {
		if _, ok := after[id]; !ok {
			d.gone = true
		}
	}
	return d
}

// explainLoss compares the tunnel counters before and after a probe from
// gateway src that did not get through, and says where the packets were
// lost: the tunnel has no CHILD_SA at one end, nothing entered the tunnel,
// the peer received nothing (ESP or UDP/4500 dropped on the way or by a
// firewall), the peer received but did not answer, or the answer was lost.
// It returns "" when it cannot tell: counters unreadable, several tunnels,
// or a count that decides it is zero on an end whose CHILD_SA was rekeyed
// in between.
func explainLoss(before, after []flowCounts, src *topology.Gateway) string {
	if len(before) != 1 || len(after) != 1 || !before[0].ok || !after[0].ok {
		return ""
	}
	tun := before[0].tun
	s := tun.EndOf(src)
	if s < 0 {
		return ""
	}
	d := 1 - s
	for _, i := range []int{s, d} {
		if len(after[0].sas[i]) == 0 {
			return fmt.Sprintf("tunnel %s has no CHILD_SA at %s (see the test \"tunnel %s is up\")", tun.Name, tun.Ends[i].Gateway.Name, tun.Name)
		}
	}
	ds, dd := delta(before[0].sas[s], after[0].sas[s]), delta(before[0].sas[d], after[0].sas[d])
	S, D := tun.Ends[s].Gateway.Name, tun.Ends[d].Gateway.Name
	switch {
	case ds.out == 0:
		if ds.gone {
			return ""
		}
		return fmt.Sprintf("nothing entered tunnel %s at %s: the traffic matched none of %s's policies for it, or %s's firewall dropped it before the tunnel", tun.Name, S, S, S)
	case dd.in == 0:
		if dd.gone {
			return ""
		}
		return fmt.Sprintf("%s sent %d packet(s) into tunnel %s and %s received none: ESP (IP protocol 50) or UDP/4500 from %s is dropped on the way or by %s's firewall", S, ds.out, tun.Name, D, S, D)
	case dd.out == 0:
		if dd.gone {
			return ""
		}
		return fmt.Sprintf("%s received %d packet(s) through tunnel %s and sent nothing back: the destination did not answer, or %s's forward or NAT rules dropped the traffic", D, dd.in, tun.Name, D)
	case ds.in == 0:
		if ds.gone {
			return ""
		}
		return fmt.Sprintf("%s answered with %d packet(s) through tunnel %s and %s received none: ESP (IP protocol 50) or UDP/4500 from %s is dropped on the way or by %s's firewall", D, dd.out, tun.Name, S, D, S)
	}
	return ""
}

// whyLost explains a failed probe from ns to target with the tunnel
// counters read before it (flows) and now. When a rekey made them
// inconclusive, it sends up to two more probes (1s each) and reads the
// counters around them.
func (t *Tester) whyLost(ctx context.Context, flows []flowCounts, src, dst *topology.Gateway, ns, target string) string {
	before, after := flows, t.tunnelFlows(ctx, src, dst)
	for try := 0; ; try++ {
		why := explainLoss(before, after, src)
		if why != "" || try == 2 || len(after) != 1 {
			return why
		}
		before = after
		netns.Run(ctx, ns, t.Agent, "lab-agent", "probe", "--to", target, "--marker", marker(), "--timeout", "1s")
		after = t.tunnelFlows(ctx, src, dst)
	}
}
