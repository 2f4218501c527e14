package plan

import (
	"time"

	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"

	"github.com/styx-vpn/styx/internal/topology"
)

// Errors returned by Build.
var (
	ErrUnknownGateway = errors.New("plan: unknown gateway")
	ErrExternal       = errors.New("plan: gateway is external (not managed by styx)")
)

// Options change what Build produces.
type Options struct {
	// External allows planning an external gateway (the lab emulates the
	// other party's gateway from the topology).
	External bool
}

// Build computes the desired state of gateway name. The network must have
// resolved without errors.
func Build(net *topology.Network, name string, opts Options) (*Gateway, error) {
	var g *topology.Gateway
	for _, x := range net.Gateways {
		if x.Name == name {
			g = x
		}
	}
	if g == nil {
		var names []string
		for _, x := range net.Gateways {
			names = append(names, x.Name)
		}
		return nil, fmt.Errorf("%w %q (gateways: %s)", ErrUnknownGateway, name, strings.Join(names, ", "))
	}
	if g.External && !opts.External {
		return nil, fmt.Errorf("%w: %s", ErrExternal, name)
	}
	b := &builder{net: net, g: g, out: &Gateway{Name: g.Name, Dataplane: g.Dataplane}}
	b.tunnels()
	b.remoteAccess()
	b.links()
	b.firewall()
	for _, l := range b.out.Links {
		b.out.Firewall.TunnelIfs = append(b.out.Firewall.TunnelIfs, l.Name)
	}
	b.out.BGP = BGPPlan(net, g.Name)
	if b.out.BGP != nil {
		for _, n := range b.out.BGP.Neighbors {
			b.out.Firewall.BGP = append(b.out.Firewall.BGP, BGPPeer{Dev: n.Interface, Addr: n.Addr, Peer: n.Peer})
		}
	}
	b.sysctls()
	b.charon()
	b.libipsecFallback()
	b.certs()
	return b.out, nil
}

type builder struct {
	net *topology.Network
	g   *topology.Gateway
	out *Gateway
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

func tsStrings(ts []topology.TS) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.String()
	}
	return out
}

func origin(t *topology.Tunnel, i int) string {
	e, p := t.Ends[i], t.Ends[topology.Other(i)]
	who := "responds"
	if e.Initiator {
		who = "initiates"
	}
	switch t.Family {
	case "hub":
		return fmt.Sprintf("tunnel %s: %s %s <-> %s %s (%s %s)", t.Name, t.Ends[0].Role, t.Ends[0].Gateway.Name, t.Ends[1].Role, t.Ends[1].Gateway.Name, e.Gateway.Name, who)
	default:
		return fmt.Sprintf("tunnel %s: %s <-> %s (%s %s)", t.Name, e.Gateway.Name, p.Gateway.Name, e.Gateway.Name, who)
	}
}

func (b *builder) tunnels() {
	g := b.g
	for _, t := range b.net.Tunnels {
		i := t.EndOf(g)
		if i < 0 {
			continue
		}
		e, p := t.Ends[i], t.Ends[topology.Other(i)]
		peer := p.Gateway
		c := &Conn{
			Name: t.Name, Origin: origin(t, i), Version: t.Version,
			LocalAddrs: addrStrings(g.LocalAddrs()),
			DPDDelay:   t.DPD, RekeyTime: t.IKERekey,
			Mobike: t.MOBIKE, Encap: t.Encap, Aggressive: t.Aggressive,
			Unique: "replace", KeyingTries: 1, Initiator: e.Initiator,
			SendCertReq: true,
		}
		if t.Crypto != nil {
			c.Proposals = t.Crypto.IKE
		}
		if e.Initiator {
			c.KeyingTries = 0 // keep trying until the peer answers
		}
		if peer.Dynamic {
			c.RemoteAddrs = []string{"%any"}
		} else {
			c.RemoteAddrs = append(addrStrings(peer.Public), peer.Hosts...)
		}
		auth := "psk"
		if t.Auth.Method == topology.AuthCert || t.Auth.Method == topology.AuthPubkey {
			auth = "pubkey"
		}
		c.Local = AuthRound{Auth: auth, ID: g.ID}
		c.Remote = AuthRound{Auth: auth, ID: peer.ID}
		if auth == "pubkey" {
			if g.Cert != "" {
				c.Local.Certs = []string{filepath.Base(g.Cert)}
			}
			for _, ca := range append(append([]string{}, t.Auth.CA...), g.CA...) {
				if n := filepath.Base(ca); !slices.Contains(c.Remote.CACerts, n) {
					c.Remote.CACerts = append(c.Remote.CACerts, n)
				}
			}
		}
		if t.Auth.Method == topology.AuthPSK && t.Auth.PSK != nil {
			b.out.Secrets = append(b.out.Secrets, &Secret{Name: "ike-" + t.Name, Kind: "ike", IDs: []string{g.ID, peer.ID}, Source: t.Auth.PSK})
		}
		for _, ch := range t.Children {
			c.Children = append(c.Children, b.child(t, i, ch))
		}
		b.out.Conns = append(b.out.Conns, c)
	}
}

func (b *builder) child(t *topology.Tunnel, i int, ch *topology.Child) *Child {
	e := t.Ends[i]
	c := &Child{
		Name: ch.Name, LocalTS: tsStrings(ch.TS[i]), RemoteTS: tsStrings(ch.TS[topology.Other(i)]),
		Mode: ch.Mode, RekeyTime: t.ChildRekey,
		StartAction: "none", DPDAction: "clear", CloseAction: "none",
	}
	c.LifeTime, c.RandTime = ChildTimes(c.RekeyTime)
	if t.Crypto != nil {
		c.ESPProposals = t.Crypto.ESP
	}
	if ch.GRE != nil {
		c.Origin = "carries GRE;"
	}
	start := t.Start
	if ch.Start != "" {
		start = ch.Start
	}
	c.Origin = strings.TrimSpace(c.Origin + " " + childOrigin(t, ch, i))
	if e.Initiator {
		c.StartAction = start
		c.DPDAction, c.CloseAction = "restart", "start"
		if strings.Contains(start, "trap") {
			// never restart with traps (duplicate CHILD_SAs): re-install the trap
			c.DPDAction, c.CloseAction = "trap", "trap"
		}
		if start == "none" {
			c.DPDAction, c.CloseAction = "clear", "none"
		}
	}
	if t.DPDAction != "" {
		c.DPDAction = t.DPDAction
	}
	if t.Close != "" && e.Initiator {
		c.CloseAction = t.Close
	}
	if t.Mode == "route" {
		if t.IfType == "vti" {
			c.MarkIn, c.MarkOut = e.IfID, e.IfID
		} else {
			c.IfIDIn, c.IfIDOut = e.IfID, e.IfID
		}
	}
	return c
}

func (b *builder) remoteAccess() {
	g := b.g
	for _, ra := range b.net.RemoteAccess {
		if ra.Gateway != g {
			continue
		}
		var pools []string
		var v4n, v6n int
		for _, p := range ra.Pools {
			name := ra.Name + "-v4"
			n := &v4n
			if p.Addr().Is6() {
				name, n = ra.Name+"-v6", &v6n
			}
			if *n > 0 {
				name = fmt.Sprintf("%s-%d", name, *n)
			}
			*n++
			pool := &Pool{Name: name, Addrs: p}
			for _, d := range ra.DNS {
				if d.Is4() == p.Addr().Is4() {
					pool.DNS = append(pool.DNS, d)
				}
			}
			b.out.Pools = append(b.out.Pools, pool)
			pools = append(pools, name)
		}
		clients := ra.Clients
		if ra.Auth == "eap-mschapv2" || len(clients) == 0 {
			clients = []string{"%any"}
		}
		for ci, client := range clients {
			name := ra.Name
			if len(clients) > 1 {
				name = fmt.Sprintf("%s-%d", ra.Name, ci+1)
			}
			c := &Conn{
				Name: name, Origin: fmt.Sprintf("remote access %s on %s", ra.Name, g.Name), Version: ra.Version,
				LocalAddrs: addrStrings(g.LocalAddrs()), RemoteAddrs: []string{"%any"}, Pools: pools,
				DPDDelay: ra.DPD, RekeyTime: ra.IKERekey, Mobike: true, Unique: "replace", KeyingTries: 1,
				SendCert: "always", SendCertReq: ra.Auth != "eap-mschapv2",
				Local: AuthRound{Auth: "pubkey", ID: g.ID},
			}
			if ra.Crypto != nil {
				c.Proposals = ra.Crypto.IKE
			}
			if g.Cert != "" {
				c.Local.Certs = []string{filepath.Base(g.Cert)}
			}
			if ra.Auth == "eap-mschapv2" {
				c.Remote = AuthRound{Auth: "eap-mschapv2", EAPID: "%any"}
			} else {
				c.Remote = AuthRound{Auth: "pubkey", ID: client}
				for _, ca := range append(append([]string{}, ra.CA...), g.CA...) {
					if n := filepath.Base(ca); !slices.Contains(c.Remote.CACerts, n) {
						c.Remote.CACerts = append(c.Remote.CACerts, n)
					}
				}
			}
			ch := &Child{Name: ra.Name, LocalTS: prefixStrings(ra.Split), Mode: "tunnel", RekeyTime: ra.ChildRekey,
				StartAction: "none", DPDAction: "clear", CloseAction: "none"}
			ch.LifeTime, ch.RandTime = ChildTimes(ch.RekeyTime)
			if ra.Crypto != nil {
				ch.ESPProposals = ra.Crypto.ESP
			}
			c.Children = []*Child{ch}
			b.out.Conns = append(b.out.Conns, c)
		}
		for _, u := range ra.Users {
			b.out.Secrets = append(b.out.Secrets, &Secret{Name: "eap-" + u.Name, Kind: "eap", IDs: []string{u.Name}, Source: u.Password})
		}
	}
	slices.SortFunc(b.out.Conns, func(a, c *Conn) int { return strings.Compare(a.Name, c.Name) })
	slices.SortFunc(b.out.Secrets, func(a, c *Secret) int { return strings.Compare(a.Name, c.Name) })
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

func (b *builder) certs() {
	g := b.g
	add := func(path, dir string) {
		if path == "" {
			return
		}
		cf := CertFile{Path: path, Dir: dir, Name: filepath.Base(path)}
		if !slices.Contains(b.out.Certs, cf) {
			b.out.Certs = append(b.out.Certs, cf)
		}
	}
	uses := false
	for _, c := range b.out.Conns {
		uses = uses || c.Local.Auth == "pubkey"
	}
	if !uses {
		return
	}
	add(g.Cert, "x509")
	add(g.Key, "private")
	for _, ca := range g.CA {
		add(ca, "x509ca")
	}
	for _, t := range b.net.Tunnels {
		if t.EndOf(g) >= 0 {
			for _, ca := range t.Auth.CA {
				add(ca, "x509ca")
			}
		}
	}
	for _, ra := range b.net.RemoteAccess {
		if ra.Gateway == g {
			for _, ca := range ra.CA {
				add(ca, "x509ca")
			}
		}
	}
}

// childOrigin says where a child's selectors come from, for comments.
func childOrigin(t *topology.Tunnel, ch *topology.Child, i int) string {
	if ch.Name == t.Name {
		return fmt.Sprintf("child of tunnel %s", t.Name)
	}
	return fmt.Sprintf("child %s of tunnel %s", ch.Name, t.Name)
}

// libipsecFallback routes the remote selectors of a kernel-libipsec gateway
// into ipsec0 from a second table behind charon's table 220 (see
// LibipsecFallbackTable).
func (b *builder) libipsecFallback() {
	if b.g.Dataplane != topology.Libipsec || len(b.out.Firewall.RemoteProt) == 0 {
		return
	}
	for _, p := range b.out.Firewall.RemoteProt {
		b.out.Routes = append(b.out.Routes, Route{Dst: p, Dev: "ipsec0", Metric: 100, Table: LibipsecFallbackTable,
			Why: "remote selector into ipsec0 while charon swaps its route during a rekey"})
	}
	r := Rule{Priority: LibipsecFallbackTable, Table: LibipsecFallbackTable, Why: "after charon's table 220"}
	if b.out.Charon.PeerTSFwmark {
		r.NotFwmark = "0x42" // charon's own IKE/ESP packets never go into the tunnel
	}
	b.out.Rules = append(b.out.Rules, r)
}

// ChildTimes returns the life_time and rand_time to render for a CHILD_SA
// rekey time, or zeros to leave charon's defaults. charon derives
// life_time as 110% of rekey_time in whole seconds, which under a minute
// leaves a margin of a few seconds or none at all (6s gives 6s): the SA
// then hits its hard lifetime instead of being rekeyed, and packets are
// lost. Rekey times under a minute (labs, tests) therefore get a hard
// lifetime of one and a half times the rekey time and a jitter of a tenth
// of it, at least one second.
func ChildTimes(rekey time.Duration) (life, rand time.Duration) {
	if rekey <= 0 || rekey >= time.Minute {
		return 0, 0
	}
	rand = max((rekey / 10).Round(time.Second), time.Second)
	return rekey + rekey/2, rand
}
