package topology

import (
	"net/netip"
	"strings"
	"time"

	"github.com/styx-vpn/styx/internal/diag"
)

// Network is a resolved topology: names are bound, shorthands (hub and
// spokes, mesh) are expanded into tunnels, defaults are applied and every
// address is parsed. Slices are sorted by name so that everything derived
// from a Network is deterministic.
type Network struct {
	File         string
	Version      int
	LintProfile  string
	Gateways     []*Gateway
	Tunnels      []*Tunnel
	RemoteAccess []*RemoteAccess
	Services     []*Service
	Flows        []*Flow
	Crypto       map[string]*Crypto
	Lab          *Lab
}

// Dataplane is the IPsec data plane a gateway runs.
type Dataplane string

// Data planes.
const (
	// Kernel is the Linux kernel's ESP (strongSwan kernel-netlink).
	Kernel Dataplane = "kernel"
	// Libipsec is strongSwan's user-space ESP over the TUN device ipsec0.
	Libipsec Dataplane = "libipsec"
)

// Gateway is one IPsec gateway.
type Gateway struct {
	Name      string
	At        diag.Pos
	ID        string         // IKE identity as swanctl writes it
	Public    []netip.Addr   // addresses peers connect to
	Hosts     []string       // DNS names peers connect to (external gateways)
	Local     []netip.Addr   // own addresses when behind 1:1 NAT (else = Public)
	Dynamic   bool           // address unknown; peers accept it from anywhere
	LAN       []netip.Prefix // protected prefixes
	Site      string         // redundancy group sharing LAN prefixes
	Addresses []netip.Addr   // extra own addresses (loopbacks, GRE sources)
	PublicIf  string         // public interface name (firewall), "" = unknown
	LANIfs    []string
	Dataplane Dataplane
	External  bool // not managed by styx
	Masq      *Masquerade
	NAT       []NATRule
	Firewall  string // "drop" (default-drop), "accept" (filter only what styx owns), "none"
	MTU       int    // underlay MTU
	Cert, Key string
	CA        []string
	BGP       *BGP
	Router    netip.Addr

	lanBroken bool // a lan entry failed to parse (suppresses follow-up errors)
}

// LocalAddrs returns the addresses the gateway itself owns for IKE.
func (g *Gateway) LocalAddrs() []netip.Addr {
	if len(g.Local) > 0 {
		return g.Local
	}
	return g.Public
}

// Masquerade hides protected prefixes behind the public address for
// traffic to the internet; tunnel traffic is exempt.
type Masquerade struct {
	At    diag.Pos
	From  []netip.Prefix
	Iface string
}

// NATRule is an explicit SNAT rule.
type NATRule struct {
	At    diag.Pos
	From  []netip.Prefix // empty = any
	To    []netip.Prefix // destination match, empty = any
	SNAT  netip.Addr
	Iface string
}

// BGP configures BIRD on a gateway.
type BGP struct {
	At       diag.Pos
	ASN      uint32
	RouterID netip.Addr
	Export   []netip.Prefix
	// ExportPools adds the virtual IP pools of the gateway's remote access
	// services to Export (routes to road warriors, seed 001).
	ExportPools bool
}

// Role is a gateway's role in a tunnel.
type Role string

// Roles.
const (
	RolePeer  Role = "peer"
	RoleHub   Role = "hub"
	RoleSpoke Role = "spoke"
)

// End is one side of a tunnel.
type End struct {
	Gateway   *Gateway
	Role      Role
	Initiator bool
	IfID      uint32       // route-based: if_id / VTI key on this gateway
	IfAddr    netip.Prefix // route-based: address on the tunnel interface
}

// Tunnel is one IKE connection between two gateways.
type Tunnel struct {
	Name       string
	At         diag.Pos // the tunnel block it came from
	Family     string   // "between", "hub", "mesh"
	Ends       [2]End
	Children   []*Child
	Crypto     *Crypto
	Auth       Auth
	Mode       string // policy or route
	IfType     string // xfrm or vti (route-based)
	IfMTU      int    // 0 = auto
	Start      string // start action of the initiator: start, trap, trap|start, none
	DPD        time.Duration
	DPDAction  string
	Close      string
	IKERekey   time.Duration
	ChildRekey time.Duration
	Version    int
	VersionAt  diag.Pos
	Aggressive bool
	MOBIKE     bool
	Encap      bool
	BGP        *TunnelBGP
}

// Other returns the index of the other end.
func Other(i int) int { return 1 - i }

// EndOf returns the index of gateway g in t, or -1.
func (t *Tunnel) EndOf(g *Gateway) int {
	for i, e := range t.Ends {
		if e.Gateway == g {
			return i
		}
	}
	return -1
}

// TunnelBGP runs BGP over a route-based tunnel.
type TunnelBGP struct {
	Hold time.Duration
}

// Crypto is a resolved crypto profile.
type Crypto struct {
	Name string
	At   diag.Pos
	IKE  []string
	ESP  []string
	// Positions of each proposal, for diagnostics.
	IKEAt, ESPAt []diag.Pos
	Builtin      bool
}

// AuthMethod is how the ends of a tunnel authenticate.
type AuthMethod string

// Authentication methods.
const (
	AuthPSK    AuthMethod = "psk"
	AuthCert   AuthMethod = "cert"
	AuthPubkey AuthMethod = "pubkey"
)

// Auth is a tunnel's authentication.
type Auth struct {
	Method AuthMethod
	PSK    *Secret
	CA     []string
}

// Secret says where a secret is; the value itself is read only when needed.
type Secret struct {
	At    diag.Pos
	File  string // resolved path (relative paths are relative to the topology file)
	Env   string
	Value string // inline
}

// Source describes the secret's location without revealing it.
func (s *Secret) Source() string {
	switch {
	case s.File != "":
		return "file " + s.File
	case s.Env != "":
		return "environment variable " + s.Env
	default:
		return "inline value"
	}
}

// TS is one traffic selector: a prefix with an optional protocol and port
// range, in swanctl syntax `10.0.0.0/24[tcp/8080]`.
type TS struct {
	Prefix   netip.Prefix
	Proto    string // "" = any; tcp, udp, gre, icmp, ipv6-icmp, or a number
	PortFrom uint16 // 0 = any
	PortTo   uint16
	Dynamic  bool // "dynamic": the IKE address (or the virtual IP)
	At       diag.Pos
}

// Child is one CHILD_SA of a tunnel; TS[i] are the selectors on Ends[i].
type Child struct {
	Name string
	At   diag.Pos
	TS   [2][]TS
	SNAT [2]netip.Addr // per end: source address tunnel traffic is SNATed to
	Mode string        // tunnel or transport
	// Start overrides the tunnel's start action for this child ("" = the
	// tunnel's).
	Start string
	GRE   *GRE
}

// GRE is a GRE tunnel carried by a child.
type GRE struct {
	At        diag.Pos
	Address   [2]netip.Prefix
	Multicast bool
	Keepalive bool
	MTU       int // 0 = auto
	Key       uint32
}

// RemoteAccess serves road warriors from one gateway.
type RemoteAccess struct {
	Name       string
	At         diag.Pos
	Gateway    *Gateway
	Pools      []netip.Prefix
	DNS        []netip.Addr
	Split      []netip.Prefix
	Auth       string // eap-mschapv2 or cert
	CA         []string
	Clients    []string
	Users      []User
	Crypto     *Crypto
	Masquerade bool
	DPD        time.Duration
	IKERekey   time.Duration
	ChildRekey time.Duration
	Export     bool
	Version    int
}

// User is an EAP user.
type User struct {
	Name     string
	At       diag.Pos
	Password *Secret
}

// Endpoint is an address, port and protocol, e.g. 172.30.30.30:8080/tcp.
type Endpoint struct {
	Addr  netip.Addr
	Port  uint16
	Proto string
}

// Service publishes a server behind a gateway to tunnel peers.
type Service struct {
	Name    string
	At      diag.Pos
	On      *Gateway
	Publish Endpoint
	To      Endpoint
	From    []*Gateway
	FromRA  []*RemoteAccess
}

// Flow allows traffic between address sets.
type Flow struct {
	At    diag.Pos
	From  []FlowPeer
	To    []FlowPeer
	Ports []Port
}

// FlowPeer is one side of a flow: a named object and the prefixes it stands for.
type FlowPeer struct {
	Name     string // as written
	Kind     string // gateway-lan, gateway-self, pool, host, prefix, internet, service
	Gateway  *Gateway
	Prefixes []netip.Prefix
}

// Port is a protocol with an optional port range.
type Port struct {
	Proto    string // tcp, udp, icmp, any ...
	From, To uint16
}

// Lab is the lab description.
type Lab struct {
	Hosts  []*LabHost
	Expect []*Expect
	Rekey  time.Duration
}

// LabHost is a lab-only host.
type LabHost struct {
	Name    string
	At      diag.Pos
	Behind  *Gateway
	Address netip.Addr
	Serve   []Port
	Client  *RemoteAccess
	User    string
	Public  netip.Addr
}

// Expect is one reachability assertion.
type Expect struct {
	Name      string
	At        diag.Pos
	From      string
	To        string
	Allow     bool
	Encrypted *bool
}

// SetDataplane makes every gateway use data plane dp (the lab runs all
// gateways on the data plane the kernel offers). With kernel-libipsec,
// trap start actions become start: libipsec has no trap policies.
func (n *Network) SetDataplane(dp Dataplane) {
	for _, g := range n.Gateways {
		g.Dataplane = dp
	}
	if dp != Libipsec {
		return
	}
	for _, t := range n.Tunnels {
		if strings.Contains(t.Start, "trap") {
			t.Start = "start"
		}
		for _, c := range t.Children {
			if strings.Contains(c.Start, "trap") {
				c.Start = "start"
			}
		}
	}
}
