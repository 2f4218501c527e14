package topology

import (
	"github.com/goccy/go-yaml/ast"

	"github.com/styx-vpn/styx/internal/diag"
)

// File is a topology file as written, version 1: every value keeps the
// position it came from so that later checks can point at it. Resolve turns
// a File into a Network.
type File struct {
	Styx         Int                `yaml:"styx,required"`
	Defaults     Defaults           `yaml:"defaults"`
	Crypto       Map[CryptoProfile] `yaml:"crypto"`
	Gateways     Map[GatewayDef]    `yaml:"gateways,required"`
	Tunnels      []TunnelDef        `yaml:"tunnels"`
	RemoteAccess []RemoteAccessDef  `yaml:"remote_access"`
	Services     []ServiceDef       `yaml:"services"`
	Allow        []FlowDef          `yaml:"allow"`
	Lab          LabDef             `yaml:"lab"`
}

// Defaults apply to every tunnel (and gateway) that does not say otherwise.
type Defaults struct {
	At        diag.Pos
	Crypto    Str          `yaml:"crypto"`    // crypto profile name (built-in or from crypto:)
	Lint      Str          `yaml:"lint"`      // lint strictness: modern, cnsa, legacy-interop
	Dataplane Str          `yaml:"dataplane"` // kernel or libipsec
	Mode      Str          `yaml:"mode"`      // policy or route
	Start     Str          `yaml:"start"`     // initiator's start action
	DPD       Dur          `yaml:"dpd"`
	Lifetime  LifetimeDef  `yaml:"lifetime"`
	MTU       Int          `yaml:"mtu"` // underlay MTU of public interfaces
	Firewall  Str          `yaml:"firewall"`
	Transfer  Strs         `yaml:"transfer"` // prefixes to number route-based tunnel interfaces from
	Interface InterfaceDef `yaml:"interface"`
}

// CryptoProfile is a named pair of proposal lists.
type CryptoProfile struct {
	At  diag.Pos
	IKE Strs `yaml:"ike,required"`
	ESP Strs `yaml:"esp,required"`
}

// GatewayDef describes one gateway.
type GatewayDef struct {
	At         diag.Pos
	ID         Str           `yaml:"id"`
	Public     Strs          `yaml:"public"`
	Local      Strs          `yaml:"local"`
	Dynamic    Bool          `yaml:"dynamic"`
	LAN        Strs          `yaml:"lan"`
	Site       Str           `yaml:"site"`
	Addresses  Strs          `yaml:"addresses"`
	Interfaces InterfacesDef `yaml:"interfaces"`
	Dataplane  Str           `yaml:"dataplane"`
	External   Bool          `yaml:"external"`
	Masquerade MasqDef       `yaml:"masquerade"`
	NAT        []NATDef      `yaml:"nat"`
	Firewall   Str           `yaml:"firewall"`
	MTU        Int           `yaml:"mtu"`
	Cert       Str           `yaml:"cert"`
	Key        Str           `yaml:"key"`
	CA         Strs          `yaml:"ca"`
	BGP        *BGPDef       `yaml:"bgp"`
	Router     Str           `yaml:"router"` // next hop on the public side
}

// InterfacesDef names the gateway's interfaces for firewall rules.
type InterfacesDef struct {
	At     diag.Pos
	Public Str  `yaml:"public"`
	LAN    Strs `yaml:"lan"`
}

// MasqDef is `masquerade: true` or `masquerade: {from: [...], interface: eth0}`.
type MasqDef struct {
	At    diag.Pos
	Set   bool
	On    bool
	From  Strs
	Iface Str
}

func (m *MasqDef) decodeYAML(d *decoder, n ast.Node) {
	rn := d.resolve(n)
	if rn == nil {
		return
	}
	m.At, m.Set = posOf(rn), true
	if _, isBool := rn.(*ast.BoolNode); isBool {
		var b Bool
		b.decodeYAML(d, rn)
		m.On = b.V
		return
	}
	if _, ok := d.mappingEntries(rn); !ok {
		d.errorf(m.At, RuleType, "write true, false or {from: [prefixes], interface: eth0}", "masquerade: expected true, false or a mapping, found %q", rn.GetToken().Value)
		return
	}
	var body struct {
		At    diag.Pos
		From  Strs `yaml:"from"`
		Iface Str  `yaml:"interface"`
	}
	d.decodeStruct(rn, reflectValue(&body))
	m.On, m.From, m.Iface = true, body.From, body.Iface
}

// NATDef is an explicit source NAT rule; it does exactly what it says (no
// automatic exemption of tunnel traffic, unlike masquerade).
type NATDef struct {
	At        diag.Pos
	From      Strs `yaml:"from"`
	To        Strs `yaml:"to"` // destination match
	Snat      Str  `yaml:"snat,required"`
	Interface Str  `yaml:"interface"`
}

// BGPDef enables BGP on a gateway.
type BGPDef struct {
	At       diag.Pos
	ASN      Int  `yaml:"asn,required"`
	RouterID Str  `yaml:"router_id"`
	Export   Strs `yaml:"export"` // lan, pools, or prefixes
}

// TunnelDef is one tunnel, or a family of tunnels (hub and spokes, mesh).
// Exactly one of between, hub+spokes and mesh is given.
type TunnelDef struct {
	At          diag.Pos
	Name        Str          `yaml:"name"`
	Between     Strs         `yaml:"between"`
	Hub         Str          `yaml:"hub"`
	Spokes      Strs         `yaml:"spokes"`
	Mesh        Strs         `yaml:"mesh"`
	Initiator   Str          `yaml:"initiator"`
	Traffic     Str          `yaml:"traffic"` // lan (default), host-to-host
	Children    []ChildDef   `yaml:"children"`
	Crypto      Str          `yaml:"crypto"`
	Auth        AuthDef      `yaml:"auth"`
	PSK         *SecretDef   `yaml:"psk"` // shorthand for auth: {psk: ...}
	Mode        Str          `yaml:"mode"`
	Interface   InterfaceDef `yaml:"interface"`
	Start       Str          `yaml:"start"`
	DPD         Dur          `yaml:"dpd"`
	DPDAction   Str          `yaml:"dpd_action"`
	Close       Str          `yaml:"close_action"`
	Lifetime    LifetimeDef  `yaml:"lifetime"`
	Version     Int          `yaml:"version"`
	Aggressive  Bool         `yaml:"aggressive"`
	MOBIKE      Bool         `yaml:"mobike"`
	Encap       Bool         `yaml:"encap"`
	BGP         TunnelBGPDef `yaml:"bgp"`
	Transfer    Strs         `yaml:"transfer"`
	Description Str          `yaml:"description"`
}

// ChildDef is one CHILD_SA. TS and SNAT are keyed by gateway name, or by
// role (hub, spoke) in a hub-and-spoke block.
type ChildDef struct {
	At    diag.Pos
	Name  Str       `yaml:"name,required"`
	TS    Map[Strs] `yaml:"ts"`
	SNAT  Map[Str]  `yaml:"snat"`
	Mode  Str       `yaml:"mode"` // tunnel or transport
	Start Str       `yaml:"start"`
	GRE   *GREDef   `yaml:"gre"`
}

// GREDef runs a GRE tunnel over a child's /32 selectors.
type GREDef struct {
	At        diag.Pos
	Address   Map[Str] `yaml:"address"` // per gateway: address/len on the GRE device
	Multicast Bool     `yaml:"multicast"`
	Keepalive Bool     `yaml:"keepalive"`
	MTU       Str      `yaml:"mtu"` // auto or a number
	Key       Int      `yaml:"key"`
}

// AuthDef says how the ends of a tunnel authenticate.
type AuthDef struct {
	At     diag.Pos
	Method Str        `yaml:"method"` // psk, cert, pubkey
	PSK    *SecretDef `yaml:"psk"`
	CA     Strs       `yaml:"ca"`
}

// SecretDef says where a secret comes from: a file (path relative to the
// topology file), an environment variable, or inline (labs only). File and
// env names may contain {tunnel}, {a}, {b}, {hub} and {spoke}.
type SecretDef struct {
	At    diag.Pos
	File  Str `yaml:"file"`
	Env   Str `yaml:"env"`
	Value Str `yaml:"value"`
}

// LifetimeDef sets rekeying. Rekey times; life is derived (+10%) unless given.
type LifetimeDef struct {
	At    diag.Pos
	IKE   Dur `yaml:"ike"`
	Child Dur `yaml:"child"`
}

// InterfaceDef configures the tunnel interfaces of route-based tunnels.
type InterfaceDef struct {
	At        diag.Pos
	Type      Str      `yaml:"type"` // xfrm (default) or vti
	ID        Int      `yaml:"id"`   // if_id or mark; allocated if absent
	MTU       Str      `yaml:"mtu"`  // auto or a number
	Addresses Map[Str] `yaml:"addresses"`
}

// TunnelBGPDef is `bgp: true` or `bgp: {hold: 6s}`.
type TunnelBGPDef struct {
	At   diag.Pos
	Set  bool
	On   bool
	Hold Dur
}

func (b *TunnelBGPDef) decodeYAML(d *decoder, n ast.Node) {
	rn := d.resolve(n)
	if rn == nil {
		return
	}
	b.At, b.Set = posOf(rn), true
	if _, isBool := rn.(*ast.BoolNode); isBool {
		var v Bool
		v.decodeYAML(d, rn)
		b.On = v.V
		return
	}
	if _, ok := d.mappingEntries(rn); !ok {
		d.errorf(b.At, RuleType, "write true, false or {hold: 6s}", "bgp: expected true, false or a mapping, found %q", rn.GetToken().Value)
		return
	}
	var body struct {
		At   diag.Pos
		Hold Dur `yaml:"hold"`
	}
	d.decodeStruct(rn, reflectValue(&body))
	b.On, b.Hold = true, body.Hold
}

// RemoteAccessDef serves road warriors from a gateway.
type RemoteAccessDef struct {
	At         diag.Pos
	Name       Str          `yaml:"name,required"`
	Gateway    Str          `yaml:"gateway,required"`
	Pool       Strs         `yaml:"pool,required"`
	DNS        Strs         `yaml:"dns"`
	Split      Strs         `yaml:"split"`
	Auth       Str          `yaml:"auth"` // eap-mschapv2, cert
	CA         Strs         `yaml:"ca"`
	Clients    Strs         `yaml:"clients"`
	Users      Map[UserDef] `yaml:"users"`
	Crypto     Str          `yaml:"crypto"`
	Masquerade Bool         `yaml:"masquerade"`
	DPD        Dur          `yaml:"dpd"`
	Lifetime   LifetimeDef  `yaml:"lifetime"`
	Export     Bool         `yaml:"export_routes"`
	Version    Int          `yaml:"version"`
}

// UserDef is one EAP user.
type UserDef struct {
	At       diag.Pos
	Password SecretDef `yaml:"password,required"`
}

// ServiceDef publishes a service behind a gateway through the tunnels:
// packets for Publish that arrived through IPsec from From are DNATed to To.
type ServiceDef struct {
	At      diag.Pos
	Name    Str  `yaml:"name,required"`
	On      Str  `yaml:"on,required"`
	Publish Str  `yaml:"publish,required"`
	To      Str  `yaml:"to,required"`
	From    Strs `yaml:"from"`
}

// FlowDef allows traffic from sources to destinations on some ports.
type FlowDef struct {
	At    diag.Pos
	From  Strs `yaml:"from,required"`
	To    Strs `yaml:"to,required"`
	Ports Strs `yaml:"ports"`
}

// LabDef describes hosts and expectations for `styx lab`.
type LabDef struct {
	At     diag.Pos
	Hosts  Map[LabHostDef] `yaml:"hosts"`
	Expect []ExpectDef     `yaml:"expect"`
	Rekey  Dur             `yaml:"rekey"`
}

// LabHostDef is a lab-only host: a LAN host behind a gateway, or a road
// warrior using a remote access service.
type LabHostDef struct {
	At      diag.Pos
	Behind  Str  `yaml:"behind"`
	Address Str  `yaml:"address"`
	Serve   Strs `yaml:"serve"`
	Client  Str  `yaml:"client"` // remote_access name: host is a road warrior
	User    Str  `yaml:"user"`   // EAP user or certificate identity of a road warrior
	Public  Str  `yaml:"public"` // road warrior's internet address
}

// ExpectDef is one reachability assertion.
type ExpectDef struct {
	At        diag.Pos
	Name      Str  `yaml:"name"`
	From      Str  `yaml:"from,required"`
	To        Str  `yaml:"to,required"`
	Result    Str  `yaml:"result,required"` // allow or deny
	Encrypted Bool `yaml:"encrypted"`
}
