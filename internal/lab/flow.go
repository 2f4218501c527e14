package lab

import (
	"context"
	"fmt"

	"github.com/styx-vpn/styx/internal/topology"
)

// flowCounts are the CHILD_SA packet counters of one tunnel at both ends,
// summed over the tunnel's CHILD_SAs: in[i] and out[i] at Ends[i].
type flowCounts struct {
	tun     *topology.Tunnel
	in, out [2]uint64
	// children counts the installed CHILD_SAs at each end.
	children [2]int
	ok       bool // both ends could be read
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
					f.in[i] += c.PacketsIn
					f.out[i] += c.PacketsOut
					if c.State == "INSTALLED" {
						f.children[i]++
					}
				}
			}
		}
		out = append(out, f)
	}
	return out
}

// explainLoss compares the tunnel counters before and after a probe from
// gateway src that did not get through, and says where the packets were
// lost: not sent into the tunnel, sent but never received by the peer
// (ESP or UDP/4500 dropped on the way or by a firewall), received but not
// answered, or answered but the answer lost; or that the tunnel has no
// CHILD_SA at one end. It returns "" when it cannot tell (counters
// unreadable, a rekey in between, several tunnels).
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
		if after[0].children[i] == 0 {
			return fmt.Sprintf("tunnel %s has no CHILD_SA at %s (see the test \"tunnel %s is up\")", tun.Name, tun.Ends[i].Gateway.Name, tun.Name)
		}
	}
	delta := func(x, y uint64) (uint64, bool) { return y - x, y >= x }
	sent, ok1 := delta(before[0].out[s], after[0].out[s])
	recv, ok2 := delta(before[0].in[d], after[0].in[d])
	back, ok3 := delta(before[0].out[d], after[0].out[d])
	home, ok4 := delta(before[0].in[s], after[0].in[s])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return "" // an SA was replaced in between
	}
	S, D := tun.Ends[s].Gateway.Name, tun.Ends[d].Gateway.Name
	switch {
	case sent == 0:
		return fmt.Sprintf("nothing entered tunnel %s at %s: the traffic matched none of %s's policies for it, or %s's firewall dropped it before the tunnel", tun.Name, S, S, S)
	case recv == 0:
		return fmt.Sprintf("%s sent %d packet(s) into tunnel %s and %s received none: ESP (IP protocol 50) or UDP/4500 from %s is dropped on the way or by %s's firewall", S, sent, tun.Name, D, S, D)
	case back == 0:
		return fmt.Sprintf("%s received %d packet(s) through tunnel %s and sent nothing back: the destination did not answer, or %s's forward or NAT rules dropped the traffic", D, recv, tun.Name, D)
	case home == 0:
		return fmt.Sprintf("%s answered with %d packet(s) through tunnel %s and %s received none: ESP (IP protocol 50) or UDP/4500 from %s is dropped on the way or by %s's firewall", D, back, tun.Name, S, D, S)
	}
	return ""
}
