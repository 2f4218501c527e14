package lint

import (
	"fmt"
	"slices"

	"github.com/styx-vpn/styx/internal/crypto"
	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/topology"
)

// SecretReader reads a secret's value. Implementations return an error
// wrapping fs.ErrNotExist when the secret is not available here (a file
// that is deployed separately, an unset environment variable).
type SecretReader interface {
	ReadSecret(s *topology.Secret) ([]byte, error)
}

// Options configure a lint run.
type Options struct {
	// Profile overrides the file's lint profile ("" = use the file's).
	Profile string
	// Secrets reads PSKs for the strength and reuse checks; nil skips
	// reading (only the locations are compared).
	Secrets SecretReader
}

// Rule describes one lint rule.
type Rule struct {
	ID  string
	Doc string
}

// Rules lists every rule this package reports, in a stable order.
var Rules = []Rule{
	{RuleOverlap, "two sites' protected prefixes overlap where one gateway would route both into tunnels"},
	{RuleTSOutside, "a traffic selector is not covered by the gateway's lan, addresses or SNAT address"},
	{RuleIKEv1, "IKEv1 (deprecated, RFC 9395)"},
	{RuleAggressive, "IKEv1 aggressive mode"},
	{crypto.RuleWeak, "a proposal keyword is weak or deprecated under the lint profile"},
	{crypto.RuleInvalid, "strongSwan would reject the proposal"},
	{crypto.RuleNoInteg, "ESP without integrity"},
	{crypto.RuleNoPFS, "ESP proposals without a key exchange (no PFS)"},
	{crypto.RuleDefaults, "proposals fall back to strongSwan's defaults"},
	{crypto.RuleIgnored, "part of a proposal is ignored by strongSwan (integrity with AEAD, PRF in ESP, ...)"},
	{crypto.RuleOrder, "a weaker algorithm is listed before a stronger one of the same kind"},
	{crypto.RuleIKEv1Multi, "IKEv1 uses only the first algorithm of each kind in a proposal"},
	{crypto.RulePSKWeak, "a pre-shared key is short or looks human-chosen"},
	{RulePSKReused, "one pre-shared key authenticates several tunnels"},
	{RulePSKInline, "a secret is written into the topology file"},
	{RuleSecretMissing, "a secret cannot be read here, so its strength is not checked"},
	{RuleLeak, "plaintext can leave while an SA is down (no trap, no styx firewall)"},
	{RuleNATCapture, "a NAT rule rewrites tunnel traffic so that it no longer matches its selector"},
	{RuleServiceNoTunnel, "a published service is not carried by any tunnel from its clients"},
	{RuleServiceAddr, "a service is published on an address the gateway does not own, or its server is outside the lan"},
	{RuleAllowNoPath, "an allow rule names traffic no tunnel carries"},
	{RuleMTU, "an MTU does not fit the encapsulation (ESP, NAT-T, GRE)"},
	{RuleTrapLibipsec, "start: trap on a gateway using kernel-libipsec (traps do not work there)"},
	{RulePoolOverlap, "a virtual IP pool overlaps a lan or another pool"},
	{RuleCloseStart, "close_action: start (renegotiation storms when both sides restart children)"},
	{RuleNoInitiator, "nobody initiates a tunnel"},
	{RuleLabHost, "a lab host's address is outside its gateway's lan"},
	{RuleSelfOverlap, "a child's local and remote selectors overlap (own traffic would go into the tunnel)"},
	{RuleRACert, "a remote access gateway has no certificate and key to authenticate with"},
	{RuleExportNoBGP, "export_routes on a remote access service whose gateway has no bgp: (nothing would announce the routes)"},
}

// Rule ids.
const (
	RuleOverlap         = "lan-overlap"
	RuleTSOutside       = "ts-outside-lan"
	RuleIKEv1           = "ike-v1"
	RuleAggressive      = "aggressive-mode"
	RulePSKReused       = "psk-reused"
	RulePSKInline       = "psk-inline"
	RuleSecretMissing   = "secret-unavailable"
	RuleLeak            = "leak-unprotected"
	RuleNATCapture      = "nat-captures-tunnel"
	RuleServiceNoTunnel = "service-unreachable"
	RuleServiceAddr     = "service-address"
	RuleAllowNoPath     = "allow-no-tunnel"
	RuleMTU             = "mtu-too-small"
	RuleTrapLibipsec    = "trap-libipsec"
	RulePoolOverlap     = "pool-overlap"
	RuleCloseStart      = "close-action-start"
	RuleNoInitiator     = "no-initiator"
	RuleLabHost         = "lab-host-outside-lan"
	RuleSelfOverlap     = "ts-self-overlap"
	RuleRACert          = "ra-certificate"
	RuleExportNoBGP     = "export-without-bgp"
)

type linter struct {
	net     *topology.Network
	file    *topology.File
	opts    Options
	profile crypto.Profile
	diags   diag.List
}

func (l *linter) add(sev diag.Severity, pos diag.Pos, rule, hint, format string, args ...any) {
	l.diags.Add(diag.Diagnostic{File: l.net.File, Pos: pos, Severity: sev, Rule: rule, Message: fmt.Sprintf(format, args...), Hint: hint})
}

// Run lints a resolved network. file is the decoded file the network came
// from (for positions of values); it may be nil.
func Run(net *topology.Network, file *topology.File, opts Options) diag.List {
	l := &linter{net: net, file: file, opts: opts}
	name := net.LintProfile
	if opts.Profile != "" {
		name = opts.Profile
	}
	p, err := crypto.ParseProfile(name)
	if err != nil {
		p = crypto.Modern
	}
	l.profile = p
	l.overlaps()
	l.selectors()
	l.protocol()
	l.proposals()
	l.secrets()
	l.leaks()
	l.nat()
	l.services()
	l.allows()
	l.mtu()
	l.lifecycle()
	l.pools()
	l.remoteAccessCerts()
	l.exportRoutes()
	l.labHosts()
	l.diags.Sort()
	return l.diags.Dedup()
}

// managed reports whether styx configures g (external gateways are the
// other party's).
func managed(g *topology.Gateway) bool { return !g.External }

// lanPos returns the position of the lan entry of g that covers p, or the
// gateway's position.
func (l *linter) lanPos(g *topology.Gateway, i int) diag.Pos {
	if l.file != nil {
		if def, ok := l.file.Gateways.Get(g.Name); ok && i >= 0 && i < len(def.LAN) {
			return def.LAN[i].At
		}
	}
	return g.At
}

// tunnelDef returns the tunnel block a tunnel came from.
func (l *linter) tunnelDef(t *topology.Tunnel) *topology.TunnelDef {
	if l.file == nil {
		return nil
	}
	for i := range l.file.Tunnels {
		if l.file.Tunnels[i].At == t.At {
			return &l.file.Tunnels[i]
		}
	}
	return nil
}

// at returns the first valid position, else fallback.
func at(fallback diag.Pos, candidates ...diag.Pos) diag.Pos {
	for _, p := range candidates {
		if p.IsValid() {
			return p
		}
	}
	return fallback
}

func severityFor(s crypto.Severity) diag.Severity {
	switch s {
	case crypto.Error:
		return diag.Error
	case crypto.Warning:
		return diag.Warning
	}
	return diag.Info
}

func contains[T comparable](list []T, v T) bool { return slices.Contains(list, v) }
