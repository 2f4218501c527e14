package importer

import (
	"fmt"
	"slices"
	"strings"
)

// KeyKind says in which section a keyword is valid.
type KeyKind int

// Keyword kinds.
const (
	KindSetup KeyKind = iota
	KindConn
	KindCA
	KindEnd // leftX and rightX
)

func (k KeyKind) String() string {
	return [...]string{"config setup", "conn", "ca", "conn (left/right)"}[k]
}

// Status says what the importer does with a keyword.
type Status int

// Keyword statuses.
const (
	Mapped     Status = iota // carried over to swanctl.conf
	Partly                   // carried over in some cases, reported otherwise
	NotCarried               // no swanctl equivalent: reported
	Deprecated               // ignored by strongSwan 5 too: reported
	Extension                // not an ipsec.conf keyword, but understood
)

func (s Status) String() string {
	return [...]string{"mapped", "partly", "reported", "deprecated", "extension"}[s]
}

// KeyInfo describes one ipsec.conf keyword and its swanctl mapping.
type KeyInfo struct {
	Name   string // as written; for end keywords without the left/right prefix
	Token  string // the keyword it is an alias of ("" if none)
	Kind   KeyKind
	Status Status
	Target string // swanctl.conf (or strongswan.conf) equivalent, or why none
}

// keywords is strongSwan 5.9's src/starter/keywords.txt with the mapping.
var keywords = []KeyInfo{
	// config setup
	{Name: "charondebug", Kind: KindSetup, Status: NotCarried, Target: "strongswan.conf: charon.filelog/syslog log levels"},
	{Name: "uniqueids", Kind: KindSetup, Status: Mapped, Target: "connections.<conn>.unique (yes -> replace)"},
	{Name: "cachecrls", Kind: KindSetup, Status: NotCarried, Target: "strongswan.conf: charon.cache_crls"},
	{Name: "strictcrlpolicy", Kind: KindSetup, Status: Mapped, Target: "remote.revocation (yes -> strict, ifuri -> ifuri, no -> relaxed)"},
	// conn
	{Name: "keyexchange", Kind: KindConn, Status: Mapped, Target: "version (ike -> 0, ikev1 -> 1, ikev2 -> 2)"},
	{Name: "type", Kind: KindConn, Status: Mapped, Target: "children.<child>.mode (tunnel, transport, transport_proxy, beet, pass, drop)"},
	{Name: "compress", Kind: KindConn, Status: Mapped, Target: "children.<child>.ipcomp"},
	{Name: "installpolicy", Kind: KindConn, Status: Mapped, Target: "children.<child>.policies"},
	{Name: "aggressive", Kind: KindConn, Status: Mapped, Target: "aggressive"},
	{Name: "authby", Kind: KindConn, Status: Mapped, Target: "local/remote auth (psk, pubkey), local-2/remote-2 auth = xauth for xauthpsk/xauthrsasig"},
	{Name: "eap_identity", Kind: KindConn, Status: Mapped, Target: "local/remote eap_id (%identity -> %any)"},
	{Name: "aaa_identity", Kind: KindConn, Status: Mapped, Target: "remote.aaa_id"},
	{Name: "mobike", Kind: KindConn, Status: Mapped, Target: "mobike"},
	{Name: "forceencaps", Kind: KindConn, Status: Mapped, Target: "encap"},
	{Name: "fragmentation", Kind: KindConn, Status: Mapped, Target: "fragmentation"},
	{Name: "ikedscp", Kind: KindConn, Status: Mapped, Target: "dscp"},
	{Name: "ikelifetime", Kind: KindConn, Status: Mapped, Target: "reauth_time (reauth=yes) or rekey_time = ikelifetime - rekeymargin"},
	{Name: "lifetime", Kind: KindConn, Status: Mapped, Target: "children.<child>.life_time, rekey_time = lifetime - rekeymargin"},
	{Name: "keylife", Token: "lifetime", Kind: KindConn, Status: Mapped, Target: "children.<child>.life_time, rekey_time = keylife - rekeymargin"},
	{Name: "rekeymargin", Kind: KindConn, Status: Mapped, Target: "over_time; subtracted from the rekey times"},
	{Name: "margintime", Token: "rekeymargin", Kind: KindConn, Status: Mapped, Target: "over_time; subtracted from the rekey times"},
	{Name: "lifebytes", Kind: KindConn, Status: Mapped, Target: "children.<child>.life_bytes, rekey_bytes"},
	{Name: "marginbytes", Kind: KindConn, Status: Mapped, Target: "children.<child>.rekey_bytes = lifebytes - marginbytes"},
	{Name: "lifepackets", Kind: KindConn, Status: Mapped, Target: "children.<child>.life_packets, rekey_packets"},
	{Name: "marginpackets", Kind: KindConn, Status: Mapped, Target: "children.<child>.rekey_packets = lifepackets - marginpackets"},
	{Name: "keyingtries", Kind: KindConn, Status: Mapped, Target: "keyingtries (%forever -> 0)"},
	{Name: "rekeyfuzz", Kind: KindConn, Status: Mapped, Target: "rand_time = rekeymargin * rekeyfuzz"},
	{Name: "rekey", Kind: KindConn, Status: Mapped, Target: "rekey=no: rekey_time, reauth_time and the child times 0"},
	{Name: "reauth", Kind: KindConn, Status: Mapped, Target: "reauth_time (yes) or rekey_time (no)"},
	{Name: "ike", Kind: KindConn, Status: Mapped, Target: "proposals (without '!' strongSwan also accepted its defaults: reported)"},
	{Name: "esp", Kind: KindConn, Status: Mapped, Target: "children.<child>.esp_proposals"},
	{Name: "ah", Kind: KindConn, Status: Mapped, Target: "children.<child>.ah_proposals"},
	{Name: "dpddelay", Kind: KindConn, Status: Mapped, Target: "dpd_delay (only with a dpdaction other than none)"},
	{Name: "dpdtimeout", Kind: KindConn, Status: Partly, Target: "dpd_timeout (IKEv1 only; IKEv2 uses retransmission timeouts)"},
	{Name: "dpdaction", Kind: KindConn, Status: Mapped, Target: "children.<child>.dpd_action (hold -> trap); none disables DPD"},
	{Name: "closeaction", Kind: KindConn, Status: Mapped, Target: "children.<child>.close_action (hold -> trap, restart -> start)"},
	{Name: "sha256_96", Kind: KindConn, Status: Mapped, Target: "children.<child>.sha256_96"},
	{Name: "inactivity", Kind: KindConn, Status: Mapped, Target: "children.<child>.inactivity"},
	{Name: "modeconfig", Kind: KindConn, Status: Mapped, Target: "pull (push -> no)"},
	{Name: "xauth", Kind: KindConn, Status: Mapped, Target: "which side gets the second (xauth) round"},
	{Name: "xauth_identity", Kind: KindConn, Status: Mapped, Target: "xauth_id of the xauth round"},
	{Name: "mediation", Kind: KindConn, Status: Mapped, Target: "mediation"},
	{Name: "mediated_by", Kind: KindConn, Status: Mapped, Target: "mediated_by"},
	{Name: "me_peerid", Kind: KindConn, Status: Mapped, Target: "mediation_peer"},
	{Name: "reqid", Kind: KindConn, Status: Mapped, Target: "children.<child>.reqid"},
	{Name: "replay_window", Kind: KindConn, Status: Mapped, Target: "children.<child>.replay_window"},
	{Name: "mark", Kind: KindConn, Status: Mapped, Target: "children.<child>.mark_in and mark_out"},
	{Name: "mark_in", Kind: KindConn, Status: Mapped, Target: "children.<child>.mark_in"},
	{Name: "mark_out", Kind: KindConn, Status: Mapped, Target: "children.<child>.mark_out"},
	{Name: "tfc", Kind: KindConn, Status: Mapped, Target: "children.<child>.tfc_padding"},
	{Name: "auto", Kind: KindConn, Status: Mapped, Target: "children.<child>.start_action (add -> none, route -> trap, start -> start; ignore: not converted)"},
	{Name: "also", Kind: KindConn, Status: Mapped, Target: "inheritance, resolved while converting"},
	{Name: "if_id_in", Kind: KindConn, Status: Extension, Target: "children.<child>.if_id_in (not read by strongSwan's starter: reported)"},
	{Name: "if_id_out", Kind: KindConn, Status: Extension, Target: "children.<child>.if_id_out (not read by strongSwan's starter: reported)"},
	// ca
	{Name: "cacert", Kind: KindCA, Status: Mapped, Target: "authorities.<ca>.cacert"},
	{Name: "crluri", Kind: KindCA, Status: Mapped, Target: "authorities.<ca>.crl_uris"},
	{Name: "crluri1", Token: "crluri", Kind: KindCA, Status: Mapped, Target: "authorities.<ca>.crl_uris"},
	{Name: "crluri2", Kind: KindCA, Status: Mapped, Target: "authorities.<ca>.crl_uris"},
	{Name: "ocspuri", Kind: KindCA, Status: Mapped, Target: "authorities.<ca>.ocsp_uris"},
	{Name: "ocspuri1", Token: "ocspuri", Kind: KindCA, Status: Mapped, Target: "authorities.<ca>.ocsp_uris"},
	{Name: "ocspuri2", Kind: KindCA, Status: Mapped, Target: "authorities.<ca>.ocsp_uris"},
	{Name: "certuribase", Kind: KindCA, Status: Mapped, Target: "authorities.<ca>.cert_uri_base"},
	// left/right
	{Name: "", Kind: KindEnd, Status: Mapped, Target: "local_addrs / remote_addrs (%defaultroute -> %any; %host sets allowany)"},
	{Name: "ikeport", Kind: KindEnd, Status: Mapped, Target: "local_port / remote_port"},
	{Name: "subnet", Kind: KindEnd, Status: Mapped, Target: "children.<child>.local_ts / remote_ts"},
	{Name: "subnetwithin", Token: "subnet", Kind: KindEnd, Status: Mapped, Target: "children.<child>.local_ts / remote_ts"},
	{Name: "protoport", Kind: KindEnd, Status: Mapped, Target: "[proto/port] of every traffic selector of the side"},
	{Name: "sourceip", Kind: KindEnd, Status: Mapped, Target: "local: vips (%config -> 0.0.0.0 or ::); remote: pools"},
	{Name: "dns", Kind: KindEnd, Status: Partly, Target: "responder: dns attribute of the pools; initiator: not carried over"},
	{Name: "firewall", Kind: KindEnd, Status: Mapped, Target: "local: children.<child>.updown = /usr/lib/ipsec/_updown iptables; remote: no effect"},
	{Name: "hostaccess", Kind: KindEnd, Status: Mapped, Target: "local: children.<child>.hostaccess; remote: no effect"},
	{Name: "allowany", Kind: KindEnd, Status: Mapped, Target: "local_addrs / remote_addrs plus 0.0.0.0/0, ::/0"},
	{Name: "updown", Kind: KindEnd, Status: Mapped, Target: "local: children.<child>.updown; remote: no effect"},
	{Name: "auth", Kind: KindEnd, Status: Mapped, Target: "local / remote auth"},
	{Name: "auth2", Kind: KindEnd, Status: Mapped, Target: "local-2 / remote-2 auth"},
	{Name: "id", Kind: KindEnd, Status: Mapped, Target: "local / remote id (default: the address)"},
	{Name: "id2", Kind: KindEnd, Status: Mapped, Target: "local-2 / remote-2 id"},
	{Name: "sigkey", Kind: KindEnd, Status: Partly, Target: "local / remote pubkeys (files; inline keys are not carried over)"},
	{Name: "rsasigkey", Token: "sigkey", Kind: KindEnd, Status: Partly, Target: "local / remote pubkeys"},
	{Name: "cert", Kind: KindEnd, Status: Mapped, Target: "local / remote certs (copy the files to swanctl/x509)"},
	{Name: "cert2", Kind: KindEnd, Status: Mapped, Target: "local-2 / remote-2 certs"},
	{Name: "certpolicy", Kind: KindEnd, Status: Partly, Target: "remote.cert_policy (local: no effect)"},
	{Name: "sendcert", Kind: KindEnd, Status: Mapped, Target: "local: send_cert; remote never: send_certreq = no"},
	{Name: "ca", Kind: KindEnd, Status: Partly, Target: "remote.ca_id (local: not carried over)"},
	{Name: "ca2", Kind: KindEnd, Status: Partly, Target: "remote-2.ca_id"},
	{Name: "groups", Kind: KindEnd, Status: Partly, Target: "remote.groups (local: no effect)"},
	{Name: "groups2", Kind: KindEnd, Status: Partly, Target: "remote-2.groups"},
}

// deprecated keywords of keywords.txt: strongSwan 5 logs and ignores them.
var deprecatedKeys = map[string]KeyKind{
	"interfaces": KindSetup, "dumpdir": KindSetup, "charonstart": KindSetup, "plutostart": KindSetup,
	"klipsdebug": KindSetup, "plutodebug": KindSetup, "prepluto": KindSetup, "postpluto": KindSetup,
	"plutostderrlog": KindSetup, "fragicmp": KindSetup, "packetdefault": KindSetup, "hidetos": KindSetup,
	"overridemtu": KindSetup, "crlcheckinterval": KindSetup, "nocrsend": KindSetup, "nat_traversal": KindSetup,
	"keep_alive": KindSetup, "force_keepalive": KindSetup, "virtual_private": KindSetup,
	"pkcs11module": KindSetup, "pkcs11initargs": KindSetup, "pkcs11keepstate": KindSetup, "pkcs11proxy": KindSetup,
	"ldaphost": KindCA, "ldapbase": KindCA,
	"pfs": KindConn, "pfsgroup": KindConn, "eap": KindConn,
	"leftnexthop": KindEnd, "rightnexthop": KindEnd,
}

var deprecatedNote = map[string]string{
	"pfs":            "PFS is enabled by a key exchange group in esp= (e.g. esp=aes256gcm16-ecp384)",
	"pfsgroup":       "PFS is enabled by a key exchange group in esp= (e.g. esp=aes256gcm16-ecp384)",
	"eap":            "use leftauth/rightauth=eap-<method>",
	"nat_traversal":  "NAT traversal is always enabled in charon",
	"pkcs11module":   "use the pkcs11 plugin in strongswan.conf",
	"pkcs11initargs": "use the pkcs11 plugin in strongswan.conf",
	"leftnexthop":    "charon finds the next hop itself",
	"rightnexthop":   "charon finds the next hop itself",
}

// lookupKey resolves a key as written. For left/right keys, side is
// "left" or "right" and the returned info is the end keyword.
func lookupKey(key string) (info *KeyInfo, side string, ok bool) {
	for _, s := range []string{"left", "right"} {
		if rest, found := strings.CutPrefix(key, s); found {
			for i := range keywords {
				if keywords[i].Kind == KindEnd && keywords[i].Name == rest {
					return &keywords[i], s, true
				}
			}
		}
	}
	for i := range keywords {
		if keywords[i].Kind != KindEnd && keywords[i].Name == key {
			return &keywords[i], "", true
		}
	}
	return nil, "", false
}

// token returns the canonical keyword name (aliases resolved).
func (k *KeyInfo) token() string {
	if k.Token != "" {
		return k.Token
	}
	return k.Name
}

// KeyTable returns the keyword table: every ipsec.conf keyword strongSwan
// 5.9 knows (and the understood extensions) with its mapping.
func KeyTable() []KeyInfo {
	out := slices.Clone(keywords)
	for name, kind := range deprecatedKeys {
		note := "ignored by strongSwan 5"
		if n := deprecatedNote[name]; n != "" {
			note += "; " + n
		}
		out = append(out, KeyInfo{Name: name, Kind: kind, Status: Deprecated, Target: note})
	}
	slices.SortStableFunc(out, func(a, b KeyInfo) int {
		if a.Kind != b.Kind {
			return int(a.Kind) - int(b.Kind)
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// FormatKeyTable renders KeyTable as text.
func FormatKeyTable() string {
	var b strings.Builder
	last := KeyKind(-1)
	for _, k := range KeyTable() {
		if k.Kind != last {
			last = k.Kind
			fmt.Fprintf(&b, "\n%s:\n", k.Kind)
		}
		name := k.Name
		if k.Kind == KindEnd {
			name = "left" + k.Name + ", right" + k.Name
			if k.Name == "" {
				name = "left, right"
			}
		}
		if k.Token != "" {
			name += " (= " + k.Token + ")"
		}
		fmt.Fprintf(&b, "  %-30s %-10s %s\n", name, k.Status, k.Target)
	}
	return strings.TrimPrefix(b.String(), "\n")
}
