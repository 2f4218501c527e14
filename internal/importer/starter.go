package importer

import (
	"fmt"
	"github.com/styx-vpn/styx/internal/suggest"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Startup is the auto= value.
type Startup int

// auto= values (LST_startup order).
const (
	AutoIgnore Startup = iota
	AutoAdd
	AutoRoute
	AutoStart
)

var startupNames = []string{"ignore", "add", "route", "start"}

// endCfg is one side (left or right) of a conn after the starter has read
// it (starter_end_t).
type endCfg struct {
	side       string // left or right, as written
	host       string // "" = unset (%any)
	hostRaw    string // left=/right= as written, for the report
	allowAny   bool
	ikeport    uint64
	subnet     string
	subnetSet  bool
	protocol   uint8
	fromPort   uint32
	toPort     uint32
	sourceip   string
	dns        string
	firewall   bool
	hostaccess bool
	updown     string
	auth       string
	auth2      string
	id, id2    string
	sigkey     string
	cert       string
	cert2      string
	certPolicy string
	sendcert   int // 0 always, 1 ifasked, 2 never (yes/no normalised)
	ca, ca2    string
	groups     string
	groups2    string

	// src records the setting behind every field, by end keyword token.
	src map[string]*Setting
}

// Values of sendcert.
const (
	sendAlways  = 0
	sendIfAsked = 1
	sendNever   = 2
)

// starterConn is a conn after the starter has read it (starter_conn_t).
type starterConn struct {
	name    string
	sec     *Section
	startup Startup

	keyexchange   int // 0 ike, 1 ikev1, 2 ikev2
	mode          string
	proxyMode     bool
	compress      bool
	dontRekey     bool
	dontReauth    bool
	mobike        bool
	forceEncap    bool
	modecfgPush   bool
	xauthServer   bool
	installPolicy bool
	aggressive    bool
	authby        string
	eapIdentity   string
	aaaIdentity   string
	xauthIdentity string
	fragmentation int // 0 no, 1 accept, 2 yes, 3 force
	ikedscp       string

	ikeLife, ipsecLife, margin time.Duration
	lifeBytes, marginBytes     uint64
	lifePackets, marginPackets uint64
	keyingTries                uint64
	fuzz                       uint64

	ike, esp, ah string

	dpdDelay, dpdTimeout time.Duration
	dpdAction            int // 0 none, 1 clear, 2 hold, 3 restart
	closeAction          int
	sha256_96            bool
	inactivity           time.Duration
	mediation            bool
	mediatedBy, mePeerID string
	reqid                uint64
	replayWindow         int64 // -1: charon's default
	markIn, markOut      string
	tfc                  string
	ifIDIn, ifIDOut      string

	left, right endCfg
	// me and other are left and right after deciding which is local.
	me, other *endCfg

	// src records the setting behind every conn field, by keyword token.
	src map[string]*Setting
	// effective lists every effective setting, in strongSwan's order.
	effective []*Setting
	// errors found; strongSwan ignores a conn with errors.
	errors []Item
}

// setup is the config setup section after reading.
type setupCfg struct {
	uniqueids       int // 0 no, 1 yes, 2 replace, 3 keep, 4 never
	strictcrlpolicy int // 0 no, 1 yes, 2 ifuri
	src             map[string]*Setting
}

var (
	lstBool          = []string{"no", "yes"}
	lstSendcert      = []string{"always", "ifasked", "never", "yes", "no"}
	lstUnique        = []string{"no", "yes", "replace", "keep", "never"}
	lstStrict        = []string{"no", "yes", "ifuri"}
	lstDPDAction     = []string{"none", "clear", "hold", "restart"}
	lstKeyexchange   = []string{"ike", "ikev1", "ikev2"}
	lstAuthby        = []string{"psk", "secret", "pubkey", "rsa", "rsasig", "ecdsa", "ecdsasig", "xauthpsk", "xauthrsasig", "never"}
	lstFragmentation = []string{"no", "accept", "yes", "force"}
)

// Defaults of confread.c.
const (
	defaultIKELife   = 3 * time.Hour
	defaultIPsecLife = time.Hour
	defaultMargin    = 9 * time.Minute
	defaultFuzz      = 100
	defaultTries     = 3
	defaultDPDDelay  = 30 * time.Second
	defaultDPDTimout = 150 * time.Second
)

func newStarterConn(sec *Section) *starterConn {
	c := &starterConn{
		name: sec.Name, sec: sec, startup: AutoIgnore, mode: "tunnel", mobike: true,
		ikeLife: defaultIKELife, ipsecLife: defaultIPsecLife, margin: defaultMargin,
		fuzz: defaultFuzz, keyingTries: defaultTries, installPolicy: true,
		dpdDelay: defaultDPDDelay, dpdTimeout: defaultDPDTimout, replayWindow: -1,
		fragmentation: 2, src: map[string]*Setting{},
	}
	for _, e := range []*endCfg{&c.left, &c.right} {
		e.sendcert = sendIfAsked
		e.ikeport = 500
		e.toPort = 0xffff
		e.src = map[string]*Setting{}
	}
	c.left.side, c.right.side = "left", "right"
	return c
}

func enumIndex(list []string, v string) int {
	for i, s := range list {
		if s == v {
			return i
		}
	}
	return -1
}

// parseTime reads a starter time value: an integer with an optional unit
// s, m, h or d (ARG_TIME).
func parseTime(v string) (time.Duration, bool) {
	num := strings.TrimRight(v, "smhd")
	unit := v[len(num):]
	if len(unit) > 1 || num == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(num, 10, 32)
	if err != nil {
		return 0, false
	}
	d := time.Duration(n) * time.Second
	switch unit {
	case "m":
		d *= 60
	case "h":
		d *= 3600
	case "d":
		d *= 86400
	}
	return d, true
}

var markRE = regexp.MustCompile(`^(%unique(-dir)?|[0-9]+|0[xX][0-9a-fA-F]+)(/([0-9]+|0[xX][0-9a-fA-F]+))?$`)

// readConn applies the effective settings of a conn like confread.c
// load_conn (and kw_end, handle_keyword, handle_firewall). Unknown and
// deprecated keys, and values strongSwan rejects, become report items.
func (imp *importer) readConn(sec *Section) *starterConn {
	c := newStarterConn(sec)
	c.effective = Effective(sec)
	for _, st := range c.effective {
		imp.connSetting(c, st)
	}
	for _, e := range []*endCfg{&c.left, &c.right} {
		if e.firewall {
			if e.updown != "" {
				c.bad(e.src["firewall"], "cannot have both %sfirewall and %supdown", e.side, e.side)
			} else {
				e.updown = updownIptables
			}
		}
	}
	return c
}

// updownIptables is what leftfirewall=yes means (confread.c
// firewall_defaults), with the Debian path of the script.
const updownIptables = "/usr/lib/ipsec/_updown iptables"

func (c *starterConn) bad(st *Setting, format string, args ...any) {
	it := Item{Severity: Error, Category: CatValue, Conn: c.name, Message: fmt.Sprintf(format, args...),
		Hint: "strongSwan ignores a conn with an invalid value; fix the value"}
	if st != nil {
		it.Pos, it.Key = st.ValuePos, st.Key
	}
	c.errors = append(c.errors, it)
}

func (imp *importer) connSetting(c *starterConn, st *Setting) {
	key, v := st.Key, st.Value
	if kind, dep := deprecatedKeys[key]; dep && (kind == KindConn || kind == KindEnd) {
		msg := fmt.Sprintf("%s is deprecated; strongSwan 5 ignores it", key)
		if n := deprecatedNote[key]; n != "" {
			msg += " (" + n + ")"
		}
		imp.report.add(Item{Pos: st.KeyPos, Severity: Warning, Category: CatDeprecated, Conn: writtenIn(st), Key: key, Message: msg})
		imp.used(st, c.name, "(deprecated, ignored)")
		return
	}
	info, side, ok := lookupKey(key)
	if !ok {
		if _, dep := deprecatedKeys[key]; dep {
			c.bad(st, "%s is not allowed in a conn section", key)
			return
		}
		imp.unknownKey(st, writtenIn(st), "conn")
		imp.used(st, c.name, "(unknown, ignored)")
		return
	}
	switch info.Kind {
	case KindSetup, KindCA:
		c.bad(st, "%s belongs in a %s section, not in a conn (strongSwan rejects the conn)", key, info.Kind)
		return
	case KindEnd:
		e := &c.left
		if side == "right" {
			e = &c.right
		}
		imp.endSetting(c, e, info.token(), st)
		return
	}
	tok := info.token()
	if old := c.src[tok]; old != nil && old.Key != key {
		imp.report.add(Item{Pos: st.KeyPos, Severity: Warning, Category: CatSyntax, Conn: writtenIn(st), Key: key,
			Message: fmt.Sprintf("%s and %s are the same keyword; strongSwan applies the one it reads last: %s=%s (%s)", old.Key, key, key, v, st.KeyPos),
			Hint:    "keep only one of them"})
		imp.used(old, c.name, fmt.Sprintf("(overridden: strongSwan applies %s=%s)", key, v))
	}
	c.src[tok] = st
	enum := func(list []string) int {
		i := enumIndex(list, v)
		if i < 0 {
			c.bad(st, "bad value %s=%s (expected one of: %s)", key, v, strings.Join(list, ", "))
		}
		return i
	}
	boolean := func() bool { return enum(lstBool) == 1 }
	flag := func(yes, no string) bool {
		switch v {
		case yes:
			return true
		case no:
			return false
		}
		c.bad(st, "bad option value %s=%s (expected %s or %s)", key, v, yes, no)
		return false
	}
	duration := func() time.Duration {
		d, ok := parseTime(v)
		if !ok {
			c.bad(st, "bad duration %s=%s (write a number with an optional unit s, m, h or d)", key, v)
		}
		return d
	}
	uinteger := func(bits int) uint64 {
		n, err := strconv.ParseUint(v, 10, bits)
		if err != nil {
			c.bad(st, "bad integer value %s=%s", key, v)
		}
		return n
	}
	switch tok {
	case "auto":
		if i := enum(startupNames); i >= 0 {
			c.startup = Startup(i)
		}
	case "keyexchange":
		if i := enum(lstKeyexchange); i >= 0 {
			c.keyexchange = i
		}
	case "type":
		c.mode, c.proxyMode = "transport", false
		switch v {
		case "tunnel":
			c.mode = "tunnel"
		case "beet":
			c.mode = "beet"
		case "transport_proxy":
			c.proxyMode = true
		case "passthrough", "pass":
			c.mode = "pass"
		case "drop", "reject":
			c.mode = "drop"
		case "transport":
		default:
			c.bad(st, "bad policy value %s=%s (expected tunnel, transport, transport_proxy, beet, passthrough or drop)", key, v)
		}
	case "compress":
		c.compress = flag("yes", "no")
	case "installpolicy":
		c.installPolicy = boolean()
	case "aggressive":
		c.aggressive = boolean()
	case "authby":
		if enum(lstAuthby) >= 0 {
			c.authby = v
		}
	case "eap_identity":
		c.eapIdentity = v
	case "aaa_identity":
		c.aaaIdentity = v
	case "xauth_identity":
		c.xauthIdentity = v
	case "mobike":
		c.mobike = flag("yes", "no")
	case "forceencaps":
		c.forceEncap = flag("yes", "no")
	case "fragmentation":
		if i := enum(lstFragmentation); i >= 0 {
			c.fragmentation = i
		}
	case "ikedscp":
		if _, err := strconv.ParseUint(v, 2, 6); err != nil {
			c.bad(st, "bad binary value %s=%s (six binary digits, e.g. 101110)", key, v)
		}
		c.ikedscp = v
	case "ikelifetime":
		c.ikeLife = duration()
	case "lifetime":
		c.ipsecLife = duration()
	case "rekeymargin":
		c.margin = duration()
	case "lifebytes":
		c.lifeBytes = uinteger(64)
	case "marginbytes":
		c.marginBytes = uinteger(64)
	case "lifepackets":
		c.lifePackets = uinteger(64)
	case "marginpackets":
		c.marginPackets = uinteger(64)
	case "keyingtries":
		if v == "%forever" {
			c.keyingTries = 0
		} else {
			c.keyingTries = uinteger(32)
		}
	case "rekeyfuzz":
		num, ok := strings.CutSuffix(v, "%")
		n, err := strconv.ParseUint(num, 10, 32)
		if !ok || err != nil {
			c.bad(st, "bad percent value %s=%s (write e.g. 100%%)", key, v)
		}
		c.fuzz = n
	case "rekey":
		c.dontRekey = flag("no", "yes")
	case "reauth":
		c.dontReauth = flag("no", "yes")
	case "ike":
		c.ike = v
	case "esp":
		c.esp = v
	case "ah":
		c.ah = v
	case "dpddelay":
		c.dpdDelay = duration()
	case "dpdtimeout":
		c.dpdTimeout = duration()
	case "dpdaction":
		if i := enum(lstDPDAction); i >= 0 {
			c.dpdAction = i
		}
	case "closeaction":
		if i := enum(lstDPDAction); i >= 0 {
			c.closeAction = i
		}
	case "sha256_96":
		c.sha256_96 = boolean()
	case "inactivity":
		c.inactivity = duration()
	case "modeconfig":
		c.modecfgPush = flag("push", "pull")
	case "xauth":
		c.xauthServer = flag("server", "client")
	case "mediation":
		c.mediation = boolean()
	case "mediated_by":
		c.mediatedBy = v
	case "me_peerid":
		c.mePeerID = v
	case "reqid":
		c.reqid = uinteger(32)
	case "replay_window":
		c.replayWindow = int64(uinteger(32))
	case "mark", "mark_in", "mark_out":
		if !markRE.MatchString(v) {
			c.bad(st, "bad mark %s=%s (write value[/mask], e.g. 42, 0x2a/0xff or %%unique)", key, v)
		}
		if tok != "mark_out" {
			c.markIn = v
		}
		if tok != "mark_in" {
			c.markOut = v
		}
	case "tfc":
		if v != "%mtu" {
			uinteger(32)
		}
		c.tfc = v
	case "if_id_in", "if_id_out":
		if v != "%unique" && v != "%unique-dir" {
			if _, err := strconv.ParseUint(v, 0, 32); err != nil {
				c.bad(st, "bad interface id %s=%s (a number or %%unique)", key, v)
			}
		}
		if tok == "if_id_in" {
			c.ifIDIn = v
		} else {
			c.ifIDOut = v
		}
	}
}

func (imp *importer) unknownKey(st *Setting, conn, where string) {
	sev, hint := Error, "remove it or fix the spelling; run with --lenient to convert anyway (strongSwan ignores unknown keys)"
	if imp.opts.Lenient {
		sev, hint = Warning, "strongSwan's starter ignores unknown keys as well; remove it or fix the spelling"
	}
	msg := fmt.Sprintf("unknown key %q in %s", st.Key, where)
	if c := closestKey(st.Key); c != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", c)
	}
	imp.report.add(Item{Pos: st.KeyPos, Severity: sev, Category: CatUnknown, Conn: conn, Key: st.Key, Message: msg, Hint: hint})
}

// writtenIn names the section a setting was written in, for items about
// the setting itself (so that inherited settings are reported once).
func writtenIn(st *Setting) string {
	if st.Section == nil || st.Section.Kind != SectionConn {
		return ""
	}
	return st.Section.Name
}

func (imp *importer) endSetting(c *starterConn, e *endCfg, tok string, st *Setting) {
	v := st.Value
	if old := e.src[tok]; old != nil && old.Key != st.Key {
		imp.report.add(Item{Pos: st.KeyPos, Severity: Warning, Category: CatSyntax, Conn: writtenIn(st), Key: st.Key,
			Message: fmt.Sprintf("%s and %s are the same keyword; strongSwan applies the one it reads last: %s=%s (%s)", old.Key, st.Key, st.Key, v, st.KeyPos),
			Hint:    "keep only one of them"})
		imp.used(old, c.name, fmt.Sprintf("(overridden: strongSwan applies %s=%s)", st.Key, v))
	}
	e.src[tok] = st
	boolean := func() bool {
		switch v {
		case "yes":
			return true
		case "no":
			return false
		}
		c.bad(st, "bad value %s=%s (expected yes or no)", st.Key, v)
		return false
	}
	switch tok {
	case "":
		e.hostRaw = v
		if strings.HasPrefix(v, "%") {
			if v == "%defaultroute" {
				v = "%any"
			}
			if v != "%any" && v != "%any4" && v != "%any6" {
				e.allowAny = true
				v = v[1:]
			}
		}
		e.host = v
	case "ikeport":
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n > 65535 {
			c.bad(st, "bad port %s=%s", st.Key, v)
		}
		e.ikeport = n
	case "subnet":
		e.subnet, e.subnetSet = v, true
	case "protoport":
		proto, port, err := parseProtoPort(v)
		if err != nil {
			c.bad(st, "bad %s=%s: %v", st.Key, v, err)
			return
		}
		e.protocol, e.fromPort, e.toPort = proto, port[0], port[1]
	case "sourceip":
		e.sourceip = v
		c.mode, c.proxyMode = "tunnel", false
	case "dns":
		e.dns = v
	case "firewall":
		e.firewall = boolean()
	case "hostaccess":
		e.hostaccess = boolean()
	case "allowany":
		e.allowAny = boolean()
	case "updown":
		e.updown = v
	case "auth":
		e.auth = v
	case "auth2":
		e.auth2 = v
	case "id":
		e.id = v
	case "id2":
		e.id2 = v
	case "sigkey":
		e.sigkey = v
	case "cert":
		e.cert = v
	case "cert2":
		e.cert2 = v
	case "certpolicy":
		e.certPolicy = v
	case "sendcert":
		i := enumIndex(lstSendcert, v)
		switch i {
		case -1:
			c.bad(st, "bad value %s=%s (expected always, ifasked, never, yes or no)", st.Key, v)
		case 3:
			e.sendcert = sendAlways
		case 4:
			e.sendcert = sendNever
		default:
			e.sendcert = i
		}
	case "ca":
		e.ca = v
	case "ca2":
		e.ca2 = v
	case "groups":
		e.groups = v
	case "groups2":
		e.groups2 = v
	}
}

// parseProtoPort parses protocol[/port] as kw_end and parse_protoport do:
// protocol by name, number or %any; port by service name, number, range
// a-b, %any or %opaque. It returns the port range [from, to].
func parseProtoPort(s string) (uint8, [2]uint32, error) {
	proto, port, _ := strings.Cut(s, "/")
	var p uint8
	switch {
	case proto == "%any":
	default:
		if n, ok := protocolNumbers[proto]; ok {
			p = n
		} else {
			v, err := strconv.ParseUint(proto, 0, 8)
			if err != nil {
				return 0, [2]uint32{}, fmt.Errorf("unknown protocol %q", proto)
			}
			p = uint8(v)
		}
	}
	r := [2]uint32{0, 0xffff}
	switch {
	case port == "%any" || port == "":
	case port == "%opaque":
		r = [2]uint32{0xffff, 0}
	default:
		if n, ok := serviceNumbers[port]; ok {
			r = [2]uint32{n, n}
			break
		}
		a, b, isRange := strings.Cut(port, "-")
		from, err := strconv.ParseUint(a, 0, 16)
		if err != nil {
			return 0, r, fmt.Errorf("unknown port or service %q", port)
		}
		to := from
		if isRange {
			if to, err = strconv.ParseUint(b, 0, 16); err != nil {
				return 0, r, fmt.Errorf("bad port range %q", port)
			}
		}
		r = [2]uint32{uint32(from), uint32(to)}
	}
	return p, r, nil
}

// protocolNumbers are the names getprotobyname(3) knows on a usual
// /etc/protocols, for the protocols that appear in IPsec selectors.
var protocolNumbers = map[string]uint8{
	"ip": 0, "icmp": 1, "igmp": 2, "ipencap": 4, "tcp": 6, "udp": 17, "ipv6": 41, "gre": 47,
	"esp": 50, "ah": 51, "ipv6-icmp": 58, "icmpv6": 58, "ospf": 89, "pim": 103, "l2tp": 115,
	"sctp": 132, "udplite": 136,
}

// protocolNames are the names swanctl selectors are written with.
var protocolNames = map[uint8]string{
	1: "icmp", 6: "tcp", 17: "udp", 47: "gre", 50: "esp", 51: "ah", 58: "ipv6-icmp", 132: "sctp",
}

// serviceNumbers are common /etc/services names (getservbyname(3)).
var serviceNumbers = map[string]uint32{
	"ftp-data": 20, "ftp": 21, "ssh": 22, "telnet": 23, "smtp": 25, "domain": 53, "bootps": 67,
	"bootpc": 68, "tftp": 69, "http": 80, "www": 80, "kerberos": 88, "pop3": 110, "sunrpc": 111,
	"ntp": 123, "netbios-ns": 137, "netbios-dgm": 138, "netbios-ssn": 139, "imap2": 143, "imap": 143,
	"snmp": 161, "snmp-trap": 162, "bgp": 179, "ldap": 389, "https": 443, "microsoft-ds": 445,
	"isakmp": 500, "syslog": 514, "submission": 587, "ldaps": 636, "imaps": 993, "pop3s": 995,
	"l2tp": 1701, "openvpn": 1194, "radius": 1812, "radius-acct": 1813, "nfs": 2049,
	"ipsec-nat-t": 4500, "sip": 5060, "postgresql": 5432, "mysql": 3306, "rdp": 3389,
	"http-alt": 8080, "webcache": 8080,
}

// closestKey suggests a keyword for a misspelt key.
func closestKey(k string) string {
	best, bestD := "", 3
	try := func(name string) {
		if d := suggest.Distance(k, name); d < bestD {
			best, bestD = name, d
		}
	}
	for _, kw := range keywords {
		if kw.Kind == KindEnd {
			try("left" + kw.Name)
			try("right" + kw.Name)
		} else {
			try(kw.Name)
		}
	}
	return best
}
