package lint

import (
	"fmt"
	"strings"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/topology"
)

// leaks reports tunnel ends where plaintext can leave while the SA is down:
// no trap policy on that end and no styx firewall dropping it.
func (l *linter) leaks() {
	for _, t := range l.net.Tunnels {
		for i, e := range t.Ends {
			g := e.Gateway
			if !managed(g) || g.Firewall != "none" {
				continue
			}
			trap := e.Initiator && strings.Contains(t.Start, "trap") && g.Dataplane == topology.Kernel
			if trap {
				continue
			}
			var remote []string
			for _, c := range t.Children {
				for _, ts := range c.TS[topology.Other(i)] {
					remote = append(remote, ts.String())
				}
			}
			why := "it does not initiate with a trap"
			if g.Dataplane == topology.Libipsec {
				why = "kernel-libipsec has no trap policies"
			}
			pos := g.At
			if l.file != nil {
				if def, ok := l.file.Gateways.Get(g.Name); ok {
					pos = at(g.At, def.Firewall.At)
				}
				if !pos.IsValid() || pos == g.At {
					pos = at(g.At, l.file.Defaults.Firewall.At)
				}
			}
			l.add(diag.Warning, pos, RuleLeak,
				"keep styx's firewall on this gateway (firewall: accept or drop): it drops traffic for the remote selectors that is not going into the tunnel",
				"gateway %s (firewall: none): while tunnel %s is down, traffic to %s leaves unencrypted (%s)", g.Name, t.Name, strings.Join(remote, ", "), why)
		}
	}
}

// lifecycle checks start/close actions.
func (l *linter) lifecycle() {
	for _, t := range l.net.Tunnels {
		init := -1
		for i, e := range t.Ends {
			if e.Initiator {
				init = i
			}
		}
		def := l.tunnelDef(t)
		if init < 0 {
			pos := t.At
			if def != nil {
				pos = at(t.At, def.Initiator.At)
			}
			l.add(diag.Info, pos, RuleNoInitiator, "set initiator: to the gateway that should bring the tunnel up",
				"tunnel %s: initiator: none, nobody brings it up", t.Name)
		} else if g := t.Ends[init].Gateway; g.Dataplane == topology.Libipsec && strings.Contains(t.Start, "trap") {
			l.add(diag.Warning, l.startPos(t), RuleTrapLibipsec, "use start: start on gateways with kernel-libipsec",
				"tunnel %s: start: %s does not work on gateway %s (kernel-libipsec drops packets that hit a trap)", t.Name, t.Start, g.Name)
		}
		if t.Close == "start" {
			pos := t.At
			if def != nil {
				pos = at(t.At, def.Close.At)
			}
			l.add(diag.Warning, pos, RuleCloseStart, "use close_action: trap (or none) and let one side initiate",
				"tunnel %s: close_action: start on both ends can cause renegotiation storms", t.Name)
		}
	}
}

func (l *linter) startPos(t *topology.Tunnel) diag.Pos {
	if l.file != nil {
		for _, d := range l.file.Tunnels {
			if d.At == t.At && d.Start.Set {
				return d.Start.At
			}
		}
		if l.file.Defaults.Start.Set {
			return l.file.Defaults.Start.At
		}
	}
	return t.At
}

// mtu checks tunnel interface and GRE MTUs against the encapsulation.
func (l *linter) mtu() {
	for _, t := range l.net.Tunnels {
		for i, e := range t.Ends {
			g := e.Gateway
			if !managed(g) {
				continue
			}
			peer := t.Ends[topology.Other(i)].Gateway
			ov := topology.Overhead(t, g, peer)
			inner := g.MTU - ov.Total()
			if t.Mode == "route" && t.IfMTU > inner {
				pos := t.At
				if def := l.tunnelDef(t); def != nil {
					pos = at(t.At, def.Interface.MTU.At)
				}
				if pos == t.At && l.file != nil {
					pos = at(t.At, l.file.Defaults.Interface.MTU.At)
				}
				l.add(diag.Error, pos, RuleMTU, fmt.Sprintf("use mtu: auto (%d) or less", inner),
					"tunnel %s on %s: interface mtu %d does not fit: %d - %s = %d", t.Name, g.Name, t.IfMTU, g.MTU, ov, inner)
			}
			for _, c := range t.Children {
				if c.GRE == nil || c.GRE.MTU == 0 {
					continue
				}
				greMax := inner - topology.GREOverhead(c.GRE)
				if c.GRE.MTU > greMax {
					l.add(diag.Error, l.greMTUPos(t, c), RuleMTU, fmt.Sprintf("use mtu: auto (%d) or less", greMax),
						"tunnel %s, child %s on %s: GRE mtu %d does not fit: %d - %s - GRE %d = %d", t.Name, c.Name, g.Name, c.GRE.MTU, g.MTU, ov, topology.GREOverhead(c.GRE), greMax)
				}
			}
			if inner < 1280 && carriesV6(t) {
				l.add(diag.Error, t.At, RuleMTU, "raise the underlay mtu: IPv6 needs 1280 bytes",
					"tunnel %s on %s: only %d bytes fit inside the tunnel", t.Name, g.Name, inner)
			}
		}
	}
}

func carriesV6(t *topology.Tunnel) bool {
	for _, c := range t.Children {
		for _, side := range c.TS {
			for _, ts := range side {
				if !ts.Dynamic && ts.Prefix.Addr().Is6() {
					return true
				}
			}
		}
	}
	return false
}

// greMTUPos finds the `mtu:` of a child's gre: block.
func (l *linter) greMTUPos(t *topology.Tunnel, c *topology.Child) diag.Pos {
	if def := l.tunnelDef(t); def != nil {
		for _, cd := range def.Children {
			if cd.Name.V == c.Name && cd.GRE != nil {
				return at(c.GRE.At, cd.GRE.MTU.At)
			}
		}
	}
	return c.GRE.At
}
