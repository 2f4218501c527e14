package topology

import (
	"time"

	"fmt"
	"net/netip"
	"slices"
	"strings"
)

func (r *resolver) remoteAccess(defs []RemoteAccessDef) {
	for i := range defs {
		def := &defs[i]
		if !r.checkName(def.Name, "remote access") {
			continue
		}
		if _, dup := r.ras[def.Name.V]; dup {
			r.errorf(def.Name.At, RuleDupName, "", "duplicate remote access name %q", def.Name.V)
			continue
		}
		if _, clash := r.gws[def.Name.V]; clash {
			r.errorf(def.Name.At, RuleDupName, "flows and services refer to both by name; rename one", "remote access %q has the name of a gateway", def.Name.V)
			continue
		}
		ra := &RemoteAccess{
			Name: def.Name.V, At: def.At, Gateway: r.gateway(def.Gateway, "remote access gateway"),
			Pools: r.prefixes(def.Pool, "pool"), DNS: r.addrs(def.DNS, "dns"),
			Split: r.prefixes(def.Split, "split"), CA: def.CA.Values(), Clients: def.Clients.Values(),
			Crypto: r.cryptoRef(def.Crypto), Masquerade: def.Masquerade.V, Export: def.Export.V,
			DPD:        dur(def.DPD, dur(r.defs.DPD, DefaultDPD)),
			IKERekey:   dur(def.Lifetime.IKE, dur(r.defs.Lifetime.IKE, DefaultIKERekey)),
			ChildRekey: dur(def.Lifetime.Child, dur(r.defs.Lifetime.Child, DefaultChildRekey)),
			Version:    2,
		}
		r.ras[ra.Name] = ra
		if def.Version.Set {
			ra.Version = def.Version.V
		}
		if ra.Gateway != nil && len(def.Split) == 0 {
			ra.Split = ra.Gateway.LAN
			if len(ra.Split) == 0 {
				r.errorf(def.At, RuleRequired, "add split: [prefixes] (or 0.0.0.0/0 for a full tunnel)", "remote access %s: gateway %s has no lan and no split is given", ra.Name, ra.Gateway.Name)
			}
		}
		ra.Auth = "eap-mschapv2"
		if len(def.Users) == 0 {
			ra.Auth = "cert"
		}
		if def.Auth.Set {
			ra.Auth, _ = r.oneOf(def.Auth, "remote access auth", "eap-mschapv2", "cert")
		}
		if ra.Auth == "eap-mschapv2" && len(def.Users) == 0 {
			r.errorf(def.At, RuleRequired, "add users: {alice: {password: {env: ALICE_PASSWORD}}}", "remote access %s: eap-mschapv2 without users", ra.Name)
		}
		for _, u := range def.Users {
			if strings.ContainsAny(u.Key.V, " \t\"") || u.Key.V == "" {
				r.errorf(u.Key.At, RuleValue, "", "invalid user name %q", u.Key.V)
			}
			ra.Users = append(ra.Users, User{Name: u.Key.V, At: u.Key.At, Password: r.secret(&u.Value.Password, map[string]string{"user": u.Key.V})})
		}
		slices.SortFunc(ra.Users, func(a, b User) int { return strings.Compare(a.Name, b.Name) })
		r.net.RemoteAccess = append(r.net.RemoteAccess, ra)
		if g := ra.Gateway; g != nil && g.BGP != nil && g.BGP.ExportPools {
			g.BGP.Export = append(g.BGP.Export, ra.Pools...)
		}
	}
}

func (r *resolver) services(defs []ServiceDef) {
	names := map[string]bool{}
	for i := range defs {
		def := &defs[i]
		if !r.checkName(def.Name, "service") {
			continue
		}
		if names[def.Name.V] {
			r.errorf(def.Name.At, RuleDupName, "", "duplicate service %q", def.Name.V)
			continue
		}
		names[def.Name.V] = true
		s := &Service{Name: def.Name.V, At: def.At, On: r.gateway(def.On, "service on")}
		pub, err := ParseEndpoint(def.Publish.V, "")
		if err != nil {
			r.errorf(def.Publish.At, RuleAddress, "write the published address as 172.30.30.30:8080/tcp", "publish: %v", err)
		}
		s.Publish = pub
		to, err := ParseEndpoint(def.To.V, pub.Proto)
		if err != nil && pub.Proto == "" {
			to, err = ParseEndpoint(def.To.V, "tcp")
		}
		if err != nil {
			r.errorf(def.To.At, RuleAddress, "write the server as 10.0.0.2:8080", "to: %v", err)
		}
		s.To = to
		for _, f := range def.From {
			if ra, ok := r.ras[f.V]; ok {
				s.FromRA = append(s.FromRA, ra)
				continue
			}
			if g := r.gateway(f, "service from"); g != nil {
				s.From = append(s.From, g)
			}
		}
		if len(def.From) == 0 && s.On != nil {
			for _, t := range r.net.Tunnels {
				if i := t.EndOf(s.On); i >= 0 {
					s.From = append(s.From, t.Ends[Other(i)].Gateway)
				}
			}
		}
		r.net.Services = append(r.net.Services, s)
	}
}

// flowPeer resolves a name used in allow: or lab expectations.
func (r *resolver) flowPeer(s Str) (FlowPeer, bool) {
	fp := FlowPeer{Name: s.V}
	all := []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0"), netip.MustParsePrefix("::/0")}
	switch {
	case s.V == "internet" || s.V == "any":
		fp.Kind, fp.Prefixes = "internet", all
		return fp, true
	case strings.HasSuffix(s.V, ".self"):
		g := r.gateway(Str{V: strings.TrimSuffix(s.V, ".self"), At: s.At, Set: true}, "allow")
		if g == nil {
			return fp, false
		}
		fp.Kind, fp.Gateway = "gateway-self", g
		for _, a := range append(append(slices.Clone(g.LocalAddrs()), g.Addresses...), g.Public...) {
			p := netip.PrefixFrom(a, a.BitLen())
			if !slices.Contains(fp.Prefixes, p) {
				fp.Prefixes = append(fp.Prefixes, p)
			}
		}
		return fp, true
	}
	if g, ok := r.gws[s.V]; ok {
		fp.Kind, fp.Gateway, fp.Prefixes = "gateway-lan", g, g.LAN
		return fp, true
	}
	if ra, ok := r.ras[s.V]; ok {
		fp.Kind, fp.Gateway, fp.Prefixes = "pool", ra.Gateway, ra.Pools
		return fp, true
	}
	for _, svc := range r.net.Services {
		if svc.Name == s.V {
			fp.Kind, fp.Gateway = "service", svc.On
			fp.Prefixes = []netip.Prefix{netip.PrefixFrom(svc.Publish.Addr, svc.Publish.Addr.BitLen())}
			return fp, true
		}
	}
	if h := r.labHost(s.V); h != nil {
		fp.Kind = "host"
		if a, err := ParseAddr(h.Address.V); err == nil {
			fp.Prefixes = []netip.Prefix{netip.PrefixFrom(a, a.BitLen())}
		}
		return fp, true
	}
	if p, err := ParsePrefix(s.V); err == nil {
		fp.Kind, fp.Prefixes = "prefix", []netip.Prefix{p}
		return fp, true
	}
	r.errorf(s.At, RuleUnresolved, "name a gateway (its lan), gateway.self, a remote access pool, a service, a lab host, internet, or write a prefix", "unknown name %q", s.V)
	return fp, false
}

func (r *resolver) labHost(name string) *LabHostDef {
	for i := range r.labHosts {
		if r.labHosts[i].Key.V == name {
			return &r.labHosts[i].Value
		}
	}
	return nil
}

func (r *resolver) flows(defs []FlowDef) {
	for i := range defs {
		def := &defs[i]
		fl := &Flow{At: def.At}
		for _, s := range def.From {
			if fp, ok := r.flowPeer(s); ok {
				fl.From = append(fl.From, fp)
			}
		}
		for _, s := range def.To {
			if fp, ok := r.flowPeer(s); ok {
				fl.To = append(fl.To, fp)
			}
		}
		for _, s := range def.Ports {
			p, err := ParsePort(s.V)
			if err != nil {
				r.errorf(s.At, RuleValue, "write e.g. 53/udp, 8080/tcp, 1000-2000/tcp, icmp or any", "%v", err)
				continue
			}
			fl.Ports = append(fl.Ports, p)
		}
		if len(fl.Ports) == 0 {
			fl.Ports = []Port{{Proto: "any"}}
		}
		r.net.Flows = append(r.net.Flows, fl)
	}
}

func (r *resolver) lab(def *LabDef) {
	lab := r.net.Lab
	lab.Rekey = def.Rekey.V
	if d := def.Rekey; d.V != 0 && (d.V < 2*time.Second || d.V%time.Second != 0) {
		r.errorf(d.At, RuleValue, "charon's timers count whole seconds; use e.g. 6s", "lab.rekey %s: must be whole seconds, at least 2s", d.V)
	}
	for _, e := range def.Hosts {
		if !r.checkName(e.Key, "lab host") {
			continue
		}
		if _, clash := r.gws[e.Key.V]; clash {
			r.errorf(e.Key.At, RuleDupName, "lab hosts and gateways share one namespace; rename the host", "lab host %q has the name of a gateway", e.Key.V)
			continue
		}
		hd := &e.Value
		h := &LabHost{Name: e.Key.V, At: e.Key.At, User: hd.User.V}
		switch {
		case hd.Behind.Set && hd.Client.Set:
			r.errorf(hd.At, RuleValue, "a host sits behind a gateway (behind:) or is a road warrior (client:)", "lab host %s: behind and client together", h.Name)
		case hd.Behind.Set:
			h.Behind = r.gateway(hd.Behind, "lab host behind")
			if !hd.Address.Set {
				r.errorf(hd.At, RuleRequired, "give the host an address inside the gateway's lan", "lab host %s has no address", h.Name)
			}
		case hd.Client.Set:
			ra, ok := r.ras[hd.Client.V]
			if !ok {
				r.errorf(hd.Client.At, RuleUnresolved, "client: names a remote_access entry", "unknown remote access %q", hd.Client.V)
			}
			h.Client = ra
			h.Public = r.addr(hd.Public, "lab host public")
		default:
			r.errorf(hd.At, RuleRequired, "add behind: <gateway> or client: <remote access>", "lab host %s is not placed", h.Name)
		}
		h.Address = r.addr(hd.Address, "lab host address")
		for _, s := range hd.Serve {
			p, err := ParsePort(s.V)
			if err != nil || p.From == 0 {
				r.errorf(s.At, RuleValue, "write http/8080, tcp/22 or udp/53", "lab host %s: cannot serve %q", h.Name, s.V)
				continue
			}
			h.Serve = append(h.Serve, p)
		}
		lab.Hosts = append(lab.Hosts, h)
	}
	for i := range def.Expect {
		ed := &def.Expect[i]
		ex := &Expect{Name: ed.Name.V, At: ed.At, From: ed.From.V, To: ed.To.V}
		if v, ok := r.oneOf(ed.Result, "expected result", "allow", "deny"); ok {
			ex.Allow = v == "allow"
		}
		if ed.Encrypted.Set {
			v := ed.Encrypted.V
			ex.Encrypted = &v
		}
		if ex.Name == "" {
			ex.Name = fmt.Sprintf("%s -> %s", ex.From, ex.To)
		}
		if _, ok := r.gws[ex.From]; !ok && ex.From != "internet" && r.labHost(ex.From) == nil {
			r.errorf(ed.From.At, RuleUnresolved, "from: is a lab host, a gateway or internet", "unknown expectation source %q", ex.From)
		}
		r.expectTarget(ed.To)
		lab.Expect = append(lab.Expect, ex)
	}
}

// expectTarget checks an expectation's to: a service, a lab host with
// optional :port/proto, or address:port/proto.
func (r *resolver) expectTarget(s Str) {
	for _, svc := range r.net.Services {
		if svc.Name == s.V {
			return
		}
	}
	host, rest, _ := strings.Cut(s.V, ":")
	if r.labHost(host) != nil || r.gws[host] != nil {
		if rest != "" {
			if _, err := ParsePort(rest); err != nil {
				r.errorf(s.At, RuleValue, "write host:8080/tcp", "expectation target %q: %v", s.V, err)
			}
		}
		return
	}
	if _, err := ParseEndpoint(s.V, "tcp"); err == nil {
		return
	}
	if _, err := ParseAddr(s.V); err == nil {
		return
	}
	r.errorf(s.At, RuleUnresolved, "to: is a service name, a lab host (optionally host:8080/tcp) or address:port/proto", "unknown expectation target %q", s.V)
}
