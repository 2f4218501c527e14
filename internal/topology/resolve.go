package topology

import (
	"cmp"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/styx-vpn/styx/internal/diag"
)

// Rule ids for reference and value problems found while resolving.
const (
	RuleUnresolved = "unresolved-ref"
	RuleDupName    = "duplicate-name"
	RuleAddress    = "bad-address"
	RulePrefix     = "bad-prefix"
	RuleShape      = "bad-tunnel"
)

// Defaults that apply when the file says nothing.
const (
	DefaultDPD        = 30 * time.Second
	DefaultIKERekey   = 4 * time.Hour
	DefaultChildRekey = time.Hour
	DefaultMTU        = 1500
)

type resolver struct {
	file  string
	dir   string
	diags diag.List
	net   *Network
	gws   map[string]*Gateway
	ras   map[string]*RemoteAccess
	defs  *Defaults

	defTransfer []netip.Prefix
	// defTransferAt is where defaults.transfer was written.
	defTransferAt diag.Pos
	routeReqs     []routeReqFor
	labHosts      Map[LabHostDef]
}

func (r *resolver) errorf(pos diag.Pos, rule, hint, format string, args ...any) {
	r.diags.Add(diag.Diagnostic{File: r.file, Pos: pos, Severity: diag.Error, Rule: rule, Message: fmt.Sprintf(format, args...), Hint: hint})
}

func (r *resolver) warnf(pos diag.Pos, rule, hint, format string, args ...any) {
	r.diags.Add(diag.Diagnostic{File: r.file, Pos: pos, Severity: diag.Warning, Rule: rule, Message: fmt.Sprintf(format, args...), Hint: hint})
}

// Resolve binds names, expands tunnel shorthands, applies defaults and
// parses addresses. Problems are returned as diagnostics; the Network is
// returned even when some are errors (with the offending parts left out),
// so that callers can run further checks, but it must not be rendered then.
func Resolve(name string, f *File) (*Network, diag.List) {
	r := &resolver{
		file: name, dir: filepath.Dir(name),
		net: &Network{File: name, Version: f.Styx.V, Crypto: map[string]*Crypto{}, Lab: &Lab{}},
		gws: map[string]*Gateway{}, ras: map[string]*RemoteAccess{}, defs: &f.Defaults,
	}
	r.defaults(&f.Defaults)
	r.defTransfer = r.prefixes(f.Defaults.Transfer, "transfer")
	if len(f.Defaults.Transfer) > 0 {
		r.defTransferAt = f.Defaults.Transfer[0].At
	}
	r.labHosts = f.Lab.Hosts
	r.crypto(f.Crypto)
	r.gateways(f.Gateways)
	r.tunnels(f.Tunnels)
	r.remoteAccess(f.RemoteAccess)
	r.services(f.Services)
	r.flows(f.Allow)
	r.lab(&f.Lab)
	slices.SortFunc(r.net.Tunnels, func(a, b *Tunnel) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(r.net.RemoteAccess, func(a, b *RemoteAccess) int { return cmp.Compare(a.Name, b.Name) })
	slices.SortFunc(r.net.Services, func(a, b *Service) int { return cmp.Compare(a.Name, b.Name) })
	// a block expanded into many tunnels reports a problem of the block once
	r.diags.Sort()
	return r.net, r.diags.Dedup()
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,30}$`)

// checkName validates a user-chosen name (gateway, tunnel, child, ...). Names
// end up in swanctl section names, nftables set names and interface names.
func (r *resolver) checkName(s Str, what string) bool {
	if nameRE.MatchString(s.V) {
		return true
	}
	r.errorf(s.At, RuleValue, "use 1-31 lower-case letters, digits, '-' or '_', starting with a letter or digit", "invalid %s name %q", what, s.V)
	return false
}

func (r *resolver) oneOf(s Str, what string, allowed ...string) (string, bool) {
	if slices.Contains(allowed, s.V) {
		return s.V, true
	}
	hint := "use one of: " + strings.Join(allowed, ", ")
	if c := closest(s.V, allowed); c != "" {
		hint = fmt.Sprintf("did you mean %q? (one of: %s)", c, strings.Join(allowed, ", "))
	}
	r.errorf(s.At, RuleValue, hint, "invalid %s %q", what, s.V)
	return "", false
}

func (r *resolver) defaults(d *Defaults) {
	r.net.LintProfile = "modern"
	if d.Lint.Set {
		if v, ok := r.oneOf(d.Lint, "lint profile", "modern", "cnsa", "legacy-interop"); ok {
			r.net.LintProfile = v
		}
	}
	if d.Dataplane.Set {
		r.oneOf(d.Dataplane, "data plane", string(Kernel), string(Libipsec))
	}
	if d.Mode.Set {
		r.oneOf(d.Mode, "tunnel mode", "policy", "route")
	}
	if d.Start.Set {
		r.oneOf(d.Start, "start action", startActions...)
	}
	if d.Firewall.Set {
		r.oneOf(d.Firewall, "firewall policy", firewallPolicies...)
	}
	if d.MTU.Set && (d.MTU.V < 576 || d.MTU.V > 65535) {
		r.errorf(d.MTU.At, RuleValue, "typical values are 1500, or 9001 in some clouds", "mtu %d out of range 576-65535", d.MTU.V)
	}
}

var (
	startActions     = []string{"start", "trap", "trap|start", "none"}
	firewallPolicies = []string{"drop", "accept", "none"}
)

func (r *resolver) crypto(m Map[CryptoProfile]) {
	for name, c := range builtinCrypto {
		r.net.Crypto[name] = c
	}
	for _, e := range m {
		if !r.checkName(e.Key, "crypto profile") {
			continue
		}
		if _, builtin := builtinCrypto[e.Key.V]; builtin {
			r.errorf(e.Key.At, RuleDupName, "choose another name; built-in profiles are "+strings.Join(BuiltinCrypto(), ", "), "crypto profile %q is built in", e.Key.V)
			continue
		}
		c := &Crypto{Name: e.Key.V, At: e.Key.At}
		for _, p := range e.Value.IKE {
			c.IKE, c.IKEAt = append(c.IKE, p.V), append(c.IKEAt, p.At)
		}
		for _, p := range e.Value.ESP {
			c.ESP, c.ESPAt = append(c.ESP, p.V), append(c.ESPAt, p.At)
		}
		r.net.Crypto[c.Name] = c
	}
}

// cryptoRef resolves a crypto profile name (or the default).
func (r *resolver) cryptoRef(s Str) *Crypto {
	name := DefaultCrypto
	at := s.At
	if s.Set {
		name = s.V
	} else if r.defs.Crypto.Set {
		name, at = r.defs.Crypto.V, r.defs.Crypto.At
	}
	if c, ok := r.net.Crypto[name]; ok {
		return c
	}
	var names []string
	for n := range r.net.Crypto {
		names = append(names, n)
	}
	slices.Sort(names)
	r.errorf(at, RuleUnresolved, "define it under crypto: or use one of: "+strings.Join(names, ", "), "unknown crypto profile %q", name)
	return nil
}

func (r *resolver) addrs(list Strs, what string) []netip.Addr {
	var out []netip.Addr
	for _, s := range list {
		a, err := ParseAddr(s.V)
		if err != nil {
			r.errorf(s.At, RuleAddress, "write an IPv4 or IPv6 address such as 192.0.2.1 or 2001:db8::1", "%s: %v", what, err)
			continue
		}
		out = append(out, a)
	}
	return out
}

func (r *resolver) addr(s Str, what string) netip.Addr {
	if !s.Set {
		return netip.Addr{}
	}
	a := r.addrs(Strs{s}, what)
	if len(a) == 0 {
		return netip.Addr{}
	}
	return a[0]
}

func (r *resolver) prefixes(list Strs, what string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, ok := r.prefix(s, what); ok {
			out = append(out, p)
		}
	}
	return out
}

func (r *resolver) prefix(s Str, what string) (netip.Prefix, bool) {
	p, err := ParsePrefix(s.V)
	if err != nil {
		if hb, ok := err.(*HostBitsError); ok {
			r.errorf(s.At, RulePrefix, fmt.Sprintf("write %s (or the address as a /%d)", hb.Masked, hb.Masked.Addr().BitLen()), "%s: %v", what, err)
		} else {
			r.errorf(s.At, RulePrefix, "write a prefix such as 10.0.0.0/24 or 2001:db8:a1::/64", "%s: %v", what, err)
		}
		return netip.Prefix{}, false
	}
	return p, true
}

func (r *resolver) gateway(s Str, what string) *Gateway {
	if g, ok := r.gws[s.V]; ok {
		return g
	}
	names := make([]string, 0, len(r.gws))
	for n := range r.gws {
		names = append(names, n)
	}
	slices.Sort(names)
	hint := "gateways are defined under gateways:"
	if c := closest(s.V, names); c != "" {
		hint = fmt.Sprintf("did you mean %q?", c)
	}
	r.errorf(s.At, RuleUnresolved, hint, "%s: unknown gateway %q", what, s.V)
	return nil
}

func (r *resolver) secret(def *SecretDef, vars map[string]string) *Secret {
	if def == nil {
		return nil
	}
	n := 0
	for _, s := range []Str{def.File, def.Env, def.Value} {
		if s.Set {
			n++
		}
	}
	if n != 1 {
		r.errorf(def.At, RuleValue, "write e.g. {file: secrets/psk} or {env: STYX_PSK}", "a secret needs exactly one of file, env or value")
		return nil
	}
	expand := func(s string) string {
		for k, v := range vars {
			s = strings.ReplaceAll(s, "{"+k+"}", v)
		}
		return s
	}
	sec := &Secret{At: def.At}
	var unexpanded string
	switch {
	case def.File.Set:
		p := expand(def.File.V)
		unexpanded = p
		if !filepath.IsAbs(p) {
			p = filepath.Join(r.dir, p)
		}
		sec.File = p
		sec.At = def.File.At
	case def.Env.Set:
		sec.Env = expand(def.Env.V)
		unexpanded = sec.Env
		sec.At = def.Env.At
	default:
		sec.Value = def.Value.V
		sec.At = def.Value.At
	}
	if strings.Contains(unexpanded, "{") {
		names := make([]string, 0, len(vars))
		for k := range vars {
			names = append(names, "{"+k+"}")
		}
		slices.Sort(names)
		r.errorf(sec.At, RuleValue, "placeholders here are "+strings.Join(names, ", ")+" ({hub} and {spoke} only in hub/spokes blocks, {user} only for users)", "unknown placeholder in secret name %q", unexpanded)
	}
	return sec
}

func dur(v Dur, def time.Duration) time.Duration {
	if v.Set {
		return v.V
	}
	return def
}
