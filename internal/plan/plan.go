package plan

import (
	"net/netip"
	"strconv"
	"time"

	"github.com/styx-vpn/styx/internal/topology"
)

// Gateway is the desired state of one gateway.
type Gateway struct {
	Name      string
	Dataplane topology.Dataplane
	Conns     []*Conn
	Secrets   []*Secret
	Pools     []*Pool
	Firewall  *Firewall
	Sysctls   []Sysctl
	Links     []Link
	Addresses []Address
	Routes    []Route
	Rules     []Rule
	Charon    Charon
	// BGP is the BIRD configuration of a gateway with bgp: (nil without).
	BGP *BGP
	// Certs are certificate and key files the connections refer to.
	Certs []CertFile
}

// Conn is one swanctl connection (IKE_SA).
type Conn struct {
	Name        string
	Origin      string // one line naming the topology object, for comments
	Version     int
	LocalAddrs  []string
	RemoteAddrs []string
	Local       AuthRound
	Remote      AuthRound
	Proposals   []string
	Pools       []string
	// Vips are the virtual IPs a client requests from its responder
	// ("0.0.0.0" or "::" for any); empty on gateways.
	Vips        []string
	DPDDelay    time.Duration
	RekeyTime   time.Duration
	ReauthTime  time.Duration
	Mobike      bool
	Encap       bool
	Aggressive  bool
	Unique      string // replace, keep, no, never
	KeyingTries int    // 0 = forever
	SendCert    string // ifasked (default), always, never
	SendCertReq bool
	Children    []*Child
	// Initiator reports whether this end initiates (for status and apply).
	Initiator bool
}

// AuthRound is a local or remote authentication round.
type AuthRound struct {
	Auth    string // psk, pubkey, eap-mschapv2
	ID      string
	EAPID   string
	Certs   []string // file names under swanctl/x509
	CACerts []string // file names under swanctl/x509ca
}

// Child is one CHILD_SA configuration.
type Child struct {
	Name         string
	Origin       string
	LocalTS      []string
	RemoteTS     []string
	Mode         string
	ESPProposals []string
	StartAction  string
	DPDAction    string
	CloseAction  string
	RekeyTime    time.Duration
	// LifeTime and RandTime are the hard lifetime and the rekey jitter;
	// zero leaves charon's defaults (life_time 110% of rekey_time,
	// rand_time the difference). See ChildTimes.
	LifeTime time.Duration
	RandTime time.Duration
	IfIDIn   uint32
	IfIDOut  uint32
	MarkIn   uint32
	MarkOut  uint32
}

// Secret is one entry of the secrets section. Value is never set by the
// planner; Source says where render reads it from.
type Secret struct {
	Name   string // section name, e.g. ike-cloud-sitea, eap-alice
	Kind   string // ike or eap
	IDs    []string
	Source *topology.Secret
}

// Pool is a virtual IP pool.
type Pool struct {
	Name  string
	Addrs netip.Prefix
	DNS   []netip.Addr
}

// Sysctl is one kernel parameter.
type Sysctl struct {
	Key, Value, Why string
	// Device is the styx device the key belongs to: it is set after the
	// device is created.
	Device string `json:",omitempty"`
	// Optional keys are skipped when the kernel does not have them (an
	// interface named in the topology that does not exist here).
	Optional bool `json:",omitempty"`
}

// Link is a network device styx owns (xfrm, vti, gre).
type Link struct {
	Name      string
	Kind      string // xfrm, vti, gre
	Dev       string // underlying device (xfrm)
	IfID      uint32 // xfrm if_id / vti key
	Local     netip.Addr
	Remote    netip.Addr
	MTU       int
	Multicast bool
	Key       uint32
	Why       string
}

// AddArgs is the ip(8) command that creates the device: an XFRM
// interface, a VTI (vti6 between IPv6 endpoints) with the key as mark, or
// a GRE tunnel (ip6gre between IPv6 endpoints). The same command serves
// routes.sh and styx apply.
func (l Link) AddArgs() []string {
	six := ""
	if l.Local.Is6() {
		six = "6"
	}
	switch l.Kind {
	case "xfrm":
		args := []string{"ip", "link", "add", l.Name, "type", "xfrm"}
		if l.Dev != "" {
			args = append(args, "dev", l.Dev)
		}
		return append(args, "if_id", strconv.FormatUint(uint64(l.IfID), 10))
	case "vti":
		return []string{"ip", "link", "add", l.Name, "type", "vti" + six, "local", l.Local.String(), "remote", l.Remote.String(), "key", strconv.FormatUint(uint64(l.IfID), 10)}
	case "gre":
		typ := "gre"
		if six != "" {
			typ = "ip6gre"
		}
		args := []string{"ip", "link", "add", l.Name, "type", typ, "local", l.Local.String(), "remote", l.Remote.String(), "ttl", "255"}
		if l.Key != 0 {
			args = append(args, "key", strconv.FormatUint(uint64(l.Key), 10))
		}
		return args
	}
	return nil
}

// Address is an address styx puts on a device.
type Address struct {
	Prefix netip.Prefix
	Peer   netip.Addr // point-to-point peer, optional
	Dev    string
	Why    string
}

// Route is a route styx owns.
type Route struct {
	Dst    netip.Prefix
	Dev    string
	Type   string // "" (unicast) or unreachable
	Metric int
	Table  int // 0 = main
	Why    string
}

// Rule is a policy routing rule styx owns.
type Rule struct {
	Priority  int
	Table     int
	NotFwmark string // e.g. 0x42: packets with this mark skip the rule
	Why       string
}

// LibipsecFallbackTable holds, on kernel-libipsec gateways, routes of the
// remote selectors via ipsec0, consulted after charon's table 220: while
// charon swaps the route of a rekeyed CHILD_SA, packets still go into the
// tunnel device (and are encrypted with the new SA, or dropped by libipsec
// if none exists) instead of falling back to the default route.
const LibipsecFallbackTable = 221

// Charon is what the gateway's strongswan.conf must say.
type Charon struct {
	Dataplane topology.Dataplane
	// InstallRoutes is false for VTI gateways (SS1, SW29).
	InstallRoutes bool
	// PeerTSFwmark: a remote selector contains a peer's IKE address; with
	// kernel-libipsec this needs allow_peer_ts and the fwmark pair so that
	// charon's own packets bypass the tunnel routes.
	PeerTSFwmark bool
	// InterfacesIgnore lists devices IKE must not use (tunnel devices).
	InterfacesIgnore []string
}

// CertFile is a certificate or key a connection refers to.
type CertFile struct {
	Path string // as given in the topology (relative to the file)
	Dir  string // swanctl subdirectory: x509, x509ca, private
	Name string // file name inside Dir
}
