package importer

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/styx-vpn/styx/internal/crypto"
	"github.com/styx-vpn/styx/internal/render/swanctl"
)

// authRound is one local or remote authentication round.
type authRound struct {
	auth       string
	id         string
	eapID      string
	aaaID      string
	xauthID    string
	certs      []string
	pubkeys    []string
	caID       string
	groups     []string
	certPolicy []string
	revocation string
}

// ikeParams is everything that must be equal for conns to share an IKE_SA
// (stroke merges a conn into an existing peer config if both the peer and
// the IKE configs are equal).
type ikeParams struct {
	version                   int
	localAddrs, remoteAddrs   []string
	localPort, remotePort     uint64
	proposals                 []string
	vips, pools               []string
	aggressive, mobike        bool
	encap, pull               bool
	fragmentation, dscp       string
	dpdDelay, dpdTimeout      time.Duration
	rekeyTime, reauthTime     time.Duration
	overTime, randTime        time.Duration
	unique                    string
	keyingTries               uint64
	sendCert                  string
	sendCertReq               bool
	local, remote             []authRound
	mediation                 bool
	mediatedBy, mediationPeer string
}

// ikeConn is one swanctl connection: one or more ipsec.conf conns.
type ikeConn struct {
	name     string
	params   ikeParams
	key      string
	children []*childCfg
	first    *starterConn
	me       *endCfg
	other    *endCfg
	strict   bool // ike= ended with '!'
	ikeSet   bool
	// localID and remoteID are the identities secrets are looked up with.
	localID, remoteID string
	psk               *SecretEntry // the PSK strongSwan would use
}

// childCfg is one CHILD_SA: one ipsec.conf conn.
type childCfg struct {
	name        string
	conn        *starterConn
	localTS     []string
	remoteTS    []string
	mode        string
	esp, ah     []string
	espStrict   bool
	rekeyTime   time.Duration
	lifeTime    time.Duration
	randTime    time.Duration
	bytes       [3]uint64 // rekey, life, rand
	packets     [3]uint64
	startAction string
	dpdAction   string
	closeAction string
	markIn      string
	markOut     string
	ifIDIn      string
	ifIDOut     string
	reqid       uint64
	replay      int64
	tfc         string
	inactivity  time.Duration
	ipcomp      bool
	noPolicies  bool
	hostaccess  bool
	sha256_96   bool
	updown      string
}

var ifaceRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_:+-]{0,14}$`)

// hostTokens splits an end's address list.
func hostTokens(e *endCfg) []string {
	if e.host == "" {
		return []string{"%any"}
	}
	return splitList(e.host)
}

func (imp *importer) hostIsLocal(e *endCfg) bool {
	for _, t := range hostTokens(e) {
		if strings.Contains(t, "/") {
			continue
		}
		a, err := netip.ParseAddr(t)
		if err != nil {
			continue
		}
		if slices.Contains(imp.opts.LocalAddrs, a.Unmap()) {
			return true
		}
	}
	return false
}

// ifaceRef reports whether the end names an interface (left=%eth0).
func ifaceRef(e *endCfg) bool {
	if !e.allowAny || strings.Contains(e.host, ".") || strings.Contains(e.host, ",") {
		return false
	}
	if _, err := netip.ParseAddr(e.host); err == nil {
		return false
	}
	return ifaceRE.MatchString(e.host)
}

func wildcard(e *endCfg) bool {
	switch e.host {
	case "", "%any", "%any4", "%any6", "0.0.0.0", "::":
		return true
	}
	return ifaceRef(e)
}

func (imp *importer) idIsLocal(e *endCfg) bool {
	id := e.id
	if id == "" {
		return false
	}
	me := parseIdent(strings.TrimPrefix(id, "%"))
	for _, l := range imp.opts.LocalIDs {
		if parseIdent(l) == me && me.typ != "any" {
			return true
		}
	}
	if g := strings.ToLower(imp.opts.GatewayName); g != "" && me.typ == "fqdn" {
		return me.val == g || strings.HasPrefix(me.val, g+".")
	}
	return false
}

func sideDesc(e *endCfg) string {
	h := e.host
	switch {
	case h == "":
		h = "%any"
	case e.allowAny && !strings.Contains(h, ","):
		h = "%" + h
	}
	if e.hostRaw != "" && e.hostRaw != h {
		return e.side + "=" + e.hostRaw + " (" + h + ")"
	}
	return e.side + "=" + h
}

// resolveEnds decides which side is local, as stroke_config.c swap_ends
// does against the local addresses, then by identities; it reports how.
func (imp *importer) resolveEnds(c *starterConn) (me, other *endCfg) {
	l, r := &c.left, &c.right
	pos := c.sec.Pos
	if st := l.src[""]; st != nil {
		pos = st.KeyPos
	}
	add := func(sev Severity, msg, hint string) {
		imp.report.add(Item{Pos: pos, Severity: sev, Category: CatEnds, Conn: c.name, Message: msg, Hint: hint})
	}
	lLocal, rLocal := imp.hostIsLocal(l), imp.hostIsLocal(r)
	switch {
	case lLocal && rLocal:
		add(Error, fmt.Sprintf("both %s and %s are local addresses, so the local side is ambiguous; strongSwan would take right", sideDesc(l), sideDesc(r)),
			"give only this gateway's own addresses with --local-address")
		return r, l
	case rLocal:
		add(Info, fmt.Sprintf("%s is a local address: right is this gateway (left and right swapped)", sideDesc(r)), "")
		return r, l
	case lLocal:
		return l, r
	}
	lID, rID := imp.idIsLocal(l), imp.idIsLocal(r)
	switch {
	case lID && rID:
		add(Error, fmt.Sprintf("both leftid=%s and rightid=%s match this gateway's identity, so the local side is ambiguous", l.id, r.id),
			"give --local-address, or a --local-id that matches only one side")
		return l, r
	case rID:
		add(Info, fmt.Sprintf("rightid=%s is this gateway's identity: right is this gateway (left and right swapped)", r.id), "")
		return r, l
	case lID:
		return l, r
	}
	switch {
	case wildcard(l):
		if wildcard(r) && len(imp.opts.LocalAddrs) > 0 {
			add(Info, fmt.Sprintf("%s and %s are both wildcards: left is assumed local, as strongSwan does", sideDesc(l), sideDesc(r)), "")
		}
		return l, r
	case wildcard(r):
		return l, r
	}
	switch {
	case len(imp.opts.LocalAddrs) > 0 && !imp.opts.AddrsFromInterfaces:
		add(Error, fmt.Sprintf("neither %s nor %s is one of the local addresses (%s); strongSwan would assume left is local", sideDesc(l), sideDesc(r), addrList(imp.opts.LocalAddrs)),
			"pass the address this gateway owns (behind a 1:1 NAT: the private one) with --local-address, or --local-id")
	case imp.opts.AddrsFromInterfaces:
		add(Warning, fmt.Sprintf("neither %s nor %s is an address of this host: left is assumed local, as strongSwan does", sideDesc(l), sideDesc(r)),
			"converting for another host? pass its address with --local-address")
	default:
		add(Info, fmt.Sprintf("no local address given: left (%s) is assumed local, as strongSwan does when neither side is local", sideDesc(l)),
			"pass --local-address to decide by address")
	}
	return l, r
}

func addrList(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// convertConn converts one loaded conn and adds it to its IKE connection.
func (imp *importer) convertConn(c *starterConn) {
	// Items about the IKE part are kept only for the first conn of an IKE
	// connection: conns merged into it have the same IKE settings.
	saved := imp.report
	ikeReport := &Report{}
	imp.report = ikeReport
	me, other := imp.resolveEnds(c)
	c.me, c.other = me, other
	m := func(st *Setting, format string, args ...any) {
		imp.used(st, c.name, fmt.Sprintf(format, args...))
	}
	item := func(st *Setting, sev Severity, cat Category, hint, format string, args ...any) {
		it := Item{Severity: sev, Category: cat, Conn: c.name, Message: fmt.Sprintf(format, args...), Hint: hint}
		if st != nil {
			it.Pos, it.Key = st.KeyPos, st.Key
			if w := writtenIn(st); w != "" {
				it.Conn = w
			}
		} else {
			it.Pos = c.sec.Pos
		}
		imp.report.add(it)
	}
	child := swanctlName(c.name)
	cp := "children." + child + "."
	var p ikeParams
	ic := &ikeConn{first: c, me: me, other: other}

	// version
	p.version = c.keyexchange
	if st := c.src["keyexchange"]; st != nil {
		m(st, "version = %d", p.version)
	}
	switch p.version {
	case 0:
		item(c.src["keyexchange"], Info, CatInfo, "write keyexchange=ikev2 (version = 2) if the peer speaks IKEv2, so that IKEv1 is not accepted",
			"keyexchange=ike (the default) -> version = 0: initiates IKEv2 but also accepts IKEv1 as responder, as before")
	case 1:
		item(c.src["keyexchange"], Warning, CatCrypto, "migrate the peer to IKEv2 (RFC 9395 deprecates IKEv1)",
			"IKEv1 (keyexchange=ikev1) is deprecated")
	}

	// addresses
	addrs := func(e *endCfg) []string {
		if ifaceRef(e) {
			item(e.src[""], Warning, CatSemantics, "write the address, or %any",
				"%s=%%%s names an interface; strongSwan 5 reads it as the DNS name %q (and %sallowany=yes); converted to %%any", e.side, e.host, e.host, e.side)
			return nil
		}
		var out []string
		for _, t := range hostTokens(e) {
			if t != "%any" {
				out = append(out, t)
			}
		}
		if e.allowAny {
			if len(out) == 0 {
				return nil
			}
			out = append(out, "0.0.0.0/0", "::/0")
		}
		return out
	}
	p.localAddrs, p.remoteAddrs = addrs(me), addrs(other)
	m(me.src[""], "local_addrs = %s", listOrAny(p.localAddrs))
	m(other.src[""], "remote_addrs = %s", listOrAny(p.remoteAddrs))
	m(me.src["allowany"], "local_addrs = %s", listOrAny(p.localAddrs))
	m(other.src["allowany"], "remote_addrs = %s", listOrAny(p.remoteAddrs))
	if me.ikeport != 500 {
		p.localPort = me.ikeport
	}
	if other.ikeport != 500 {
		p.remotePort = other.ikeport
	}
	m(me.src["ikeport"], "local_port = %d", me.ikeport)
	m(other.src["ikeport"], "remote_port = %d", other.ikeport)

	// IKE proposals
	vers := 2
	if p.version == 1 {
		vers = 1
	}
	ic.ikeSet = c.ike != ""
	p.proposals, ic.strict = imp.proposals(c, c.src["ike"], c.ike, crypto.IKE, vers, "proposals")

	// lifetimes
	fuzz := func(d time.Duration) time.Duration { return time.Duration(uint64(d) * c.fuzz / 100) }
	if !c.dontRekey {
		life := c.ikeLife
		t := life - c.margin
		if c.margin >= life {
			item(c.src["rekeymargin"], Warning, CatSemantics, "make rekeymargin smaller than ikelifetime",
				"rekeymargin (%s) is not smaller than ikelifetime (%s): strongSwan's rekey time underflows; converted with 90%% of the lifetime", swanctl.Duration(c.margin), swanctl.Duration(life))
			t = life * 9 / 10
		}
		if c.dontReauth {
			p.rekeyTime = t
		} else {
			p.reauthTime = t
		}
		p.overTime, p.randTime = c.margin, fuzz(c.margin)
	}
	ikeTimes := fmt.Sprintf("rekey_time = %s, reauth_time = %s, over_time = %s, rand_time = %s", swanctl.Duration(p.rekeyTime), swanctl.Duration(p.reauthTime), swanctl.Duration(p.overTime), swanctl.Duration(p.randTime))
	for _, k := range []string{"ikelifetime", "rekeymargin", "rekeyfuzz", "reauth", "rekey"} {
		m(c.src[k], "%s", ikeTimes)
	}
	if !c.dontRekey && !c.dontReauth && p.version != 1 && p.reauthTime > 0 {
		item(c.src["reauth"], Info, CatInfo, "if the peer supports IKEv2 rekeying, set reauth=no (rekey_time instead of reauth_time)",
			"reauth=yes (the ipsec.conf default): the IKE SA is reauthenticated every %s (reauth_time), not rekeyed; swanctl.conf's own default would rekey", swanctl.Duration(p.reauthTime))
	}
	if c.dontRekey {
		item(c.src["rekey"], Info, CatInfo, "", "rekey=no: this side never rekeys or reauthenticates; rekey_time, reauth_time and the child times are 0")
	}

	// DPD
	if c.dpdAction != 0 {
		p.dpdDelay = c.dpdDelay
		if p.version != 2 {
			p.dpdTimeout = c.dpdTimeout
		}
		m(c.src["dpddelay"], "dpd_delay = %s", swanctl.Duration(p.dpdDelay))
		if st := c.src["dpdtimeout"]; st != nil {
			if p.version == 2 {
				item(st, Info, CatNoEquivalent, "", "dpdtimeout applies to IKEv1 only; with IKEv2 the retransmission timeouts detect a dead peer, as before")
				m(st, "(IKEv1 only: no effect)")
			} else {
				m(st, "dpd_timeout = %s", swanctl.Duration(p.dpdTimeout))
			}
		}
	} else {
		for _, k := range []string{"dpddelay", "dpdtimeout"} {
			if st := c.src[k]; st != nil {
				item(st, Info, CatInfo, "set dpdaction=clear, hold or restart to enable DPD", "%s has no effect: dpdaction=none (the default) disables DPD, as before", k)
				m(st, "(no effect: DPD disabled)")
			}
		}
	}

	// flags
	p.aggressive, p.mobike, p.encap, p.pull = c.aggressive, c.mobike, c.forceEncap, !c.modecfgPush
	m(c.src["aggressive"], "aggressive = %s", yesNo(p.aggressive))
	m(c.src["mobike"], "mobike = %s", yesNo(p.mobike))
	m(c.src["forceencaps"], "encap = %s", yesNo(p.encap))
	m(c.src["modeconfig"], "pull = %s", yesNo(p.pull))
	p.fragmentation = []string{"no", "accept", "", "force"}[c.fragmentation]
	m(c.src["fragmentation"], "fragmentation = %s", []string{"no", "accept", "yes", "force"}[c.fragmentation])
	if c.ikedscp != "" && strings.Trim(c.ikedscp, "0") != "" {
		p.dscp = fmt.Sprintf("%06s", c.ikedscp)
	}
	m(c.src["ikedscp"], "dscp = %s", c.ikedscp)
	p.unique = []string{"no", "replace", "replace", "keep", "never"}[imp.setup.uniqueids]
	if c.mediation {
		p.unique = "replace"
	}
	p.keyingTries = c.keyingTries
	m(c.src["keyingtries"], "keyingtries = %d", p.keyingTries)
	p.mediation, p.mediatedBy, p.mediationPeer = c.mediation, c.mediatedBy, c.mePeerID
	m(c.src["mediation"], "mediation = %s", yesNo(c.mediation))
	m(c.src["mediated_by"], "mediated_by = %s", c.mediatedBy)
	m(c.src["me_peerid"], "mediation_peer = %s", c.mePeerID)
	if p.aggressive && p.version != 2 {
		item(c.src["aggressive"], Warning, CatCrypto, "avoid IKEv1 Aggressive Mode (with a PSK, an eavesdropper can attack the key offline)", "aggressive=yes: IKEv1 Aggressive Mode sends a hash of the pre-shared key in the clear")
	}

	// certificates policy
	switch me.sendcert {
	case sendAlways:
		p.sendCert = "always"
	case sendNever:
		p.sendCert = "never"
	}
	m(me.src["sendcert"], "send_cert = %s", []string{"always", "ifasked", "never"}[me.sendcert])
	p.sendCertReq = other.sendcert != sendNever
	m(other.src["sendcert"], "send_certreq = %s", yesNo(p.sendCertReq))

	// authentication
	p.local, p.remote = imp.authRounds(c, me, other, item, m)

	// virtual IPs and pools
	p.vips, p.pools = imp.vipsAndPools(c, me, other, item, m)

	ic.params = p
	ic.localID, ic.remoteID = p.local[0].id, p.remote[0].id
	if ic.localID == "" {
		ic.localID = firstAddr(me)
	}
	if ic.remoteID == "" {
		ic.remoteID = firstAddr(other)
	}

	imp.report = saved
	imp.report.Mappings = append(imp.report.Mappings, ikeReport.Mappings...)

	// the child
	ch := imp.child(c, me, other, child, cp, p.version, item, m)
	ch.conn = c
	imp.loaded = append(imp.loaded, c)
	m(c.src["auto"], "%sstart_action = %s", cp, orNone(ch.startAction))

	ic.key = fmt.Sprintf("%#v", p)
	for _, x := range imp.conns {
		if x.key == ic.key {
			x.children = append(x.children, ch)
			return
		}
	}
	imp.report.Items = append(imp.report.Items, ikeReport.Items...)
	ic.children = []*childCfg{ch}
	imp.conns = append(imp.conns, ic)
}

func firstAddr(e *endCfg) string {
	for _, t := range hostTokens(e) {
		if t != "%any" {
			return t
		}
	}
	return ""
}

func listOrAny(l []string) string {
	if len(l) == 0 {
		return "%any"
	}
	return strings.Join(l, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// proposals splits an ike=/esp=/ah= value, validates every proposal the
// way strongSwan would (an invalid one makes the conn fail to load) and
// lints them.
func (imp *importer) proposals(c *starterConn, st *Setting, value string, kind crypto.Kind, version int, target string) ([]string, bool) {
	if value == "" {
		for _, f := range crypto.Check(kind, nil, imp.opts.Profile, version) {
			imp.cryptoItem(c, nil, f)
		}
		return nil, false
	}
	v, strict := strings.CutSuffix(value, "!")
	list := splitProposals(v)
	imp.report.Items = append(imp.report.Items, invalidProposals(c, st, kind)...)
	for _, f := range crypto.Check(kind, list, imp.opts.Profile, version) {
		if f.Rule == crypto.RuleInvalid {
			continue
		}
		imp.cryptoItem(c, st, f)
	}
	imp.used(st, c.name, fmt.Sprintf("%s = %s", target, strings.Join(list, ", ")))
	if !strict {
		what, weak := "IKE", "3des, sha1, prfsha1 and modp2048"
		if kind != crypto.IKE {
			what, weak = kind.String(), "sha1, aesxcbc and proposals without PFS"
		}
		short := target[strings.LastIndexByte(target, '.')+1:]
		imp.report.add(Item{Pos: st.ValuePos, Severity: Warning, Category: CatSemantics, Conn: writtenIn(st), Key: st.Key,
			Message: fmt.Sprintf("%s=%s has no trailing '!': strongSwan also accepted its default %s proposals (including %s); the converted %s lists only the configured proposals", st.Key, value, what, weak, short),
			Hint:    fmt.Sprintf("make sure the peer proposes one of them; adding `default` to %s would restore the old behaviour (not recommended)", short)})
	}
	return list, strict
}

func splitProposals(v string) []string {
	var list []string
	for _, s := range strings.Split(v, ",") {
		list = append(list, strings.TrimSpace(s))
	}
	return list
}

// invalidProposals reports the proposals of an ike=/esp=/ah= value that
// strongSwan rejects (which makes the conn fail to load).
func invalidProposals(c *starterConn, st *Setting, kind crypto.Kind) []Item {
	var out []Item
	v, _ := strings.CutSuffix(st.Value, "!")
	for _, s := range splitProposals(v) {
		if s == "" {
			out = append(out, Item{Pos: st.ValuePos, Severity: Error, Category: CatValue, Conn: c.name, Key: st.Key,
				Message: fmt.Sprintf("%s=%s has an empty proposal; strongSwan rejects it and does not load the conn", st.Key, st.Value)})
			continue
		}
		if strings.Contains(s, "!") {
			out = append(out, Item{Pos: st.ValuePos, Severity: Error, Category: CatValue, Conn: c.name, Key: st.Key,
				Message: fmt.Sprintf("%s proposal %q: '!' is only allowed at the very end of the value; strongSwan does not load the conn", st.Key, s),
				Hint:    "write the '!' once, after the last proposal"})
			continue
		}
		_, fs := crypto.ParseProposal(kind, s)
		for _, f := range fs {
			if f.Rule == crypto.RuleInvalid && f.Severity == crypto.Error {
				out = append(out, Item{Pos: st.ValuePos, Severity: Error, Category: CatValue, Conn: c.name, Key: st.Key,
					Message: fmt.Sprintf("%s proposal %q: %s; strongSwan does not load the conn", st.Key, s, f.Message), Hint: f.Hint})
			}
		}
	}
	return out
}

func (imp *importer) cryptoItem(c *starterConn, st *Setting, f crypto.Finding) {
	sev := Warning
	if f.Severity == crypto.Info {
		sev = Info
	}
	it := Item{Severity: sev, Category: CatCrypto, Conn: c.name, Message: fmt.Sprintf("%s [%s, %s]", f.Message, f.Rule, f.Severity), Hint: f.Hint}
	if st != nil {
		it.Pos, it.Key, it.Conn = st.ValuePos, st.Key, writtenIn(st)
	} else {
		it.Pos = c.sec.Pos
	}
	imp.report.add(it)
}

type itemFunc func(st *Setting, sev Severity, cat Category, hint, format string, args ...any)
type mapFunc func(st *Setting, format string, args ...any)

// authRounds builds the local and remote authentication rounds like
// starterstroke.c (legacy authby) and stroke_config.c build_auth_cfg.
func (imp *importer) authRounds(c *starterConn, me, other *endCfg, item itemFunc, m mapFunc) ([]authRound, []authRound) {
	auth := map[*endCfg][2]string{&c.left: {c.left.auth, c.left.auth2}, &c.right: {c.right.auth, c.right.auth2}}
	if c.left.auth == "" && c.right.auth == "" && c.authby != "" {
		var a1, a2l, a2r string
		switch c.authby {
		case "rsa", "rsasig", "ecdsa", "ecdsasig", "pubkey":
			a1 = "pubkey"
		case "secret", "psk":
			a1 = "psk"
		case "xauthrsasig", "xauthpsk":
			a1 = "pubkey"
			if c.authby == "xauthpsk" {
				a1 = "psk"
			}
			if c.xauthServer {
				a2r = "xauth"
			} else {
				a2l = "xauth"
			}
		}
		if a1 != "" {
			auth[&c.left] = [2]string{a1, c.left.auth2}
			auth[&c.right] = [2]string{a1, c.right.auth2}
		}
		if a2l != "" {
			auth[&c.left] = [2]string{a1, a2l}
		}
		if a2r != "" {
			auth[&c.right] = [2]string{a1, a2r}
		}
		desc := fmt.Sprintf("local auth = %s, remote auth = %s", orPubkey(auth[me][0]), orPubkey(auth[other][0]))
		if a2l != "" || a2r != "" {
			desc += fmt.Sprintf(", xauth round on the %s side", map[bool]string{true: "local", false: "remote"}[(a2l != "") == (me == &c.left)])
		}
		if c.authby == "never" {
			desc = "no authentication method (shunt conn): auth = pubkey"
		}
		m(c.src["authby"], "%s", desc)
		m(c.src["xauth"], "%s", desc)
	} else {
		if st := c.src["authby"]; st != nil {
			item(st, Info, CatInfo, "", "authby=%s is ignored because leftauth/rightauth is set (as in strongSwan)", c.authby)
			m(st, "(overridden by leftauth/rightauth)")
		}
		if st := c.src["xauth"]; st != nil {
			m(st, "(no effect without authby=xauth*)")
		}
	}
	revocation := []string{"", "strict", "ifuri"}[imp.setup.strictcrlpolicy]
	round := func(e, o *endCfg, local, primary bool) (authRound, bool) {
		a := auth[e]
		r := authRound{}
		pre, suf := "remote", ""
		if local {
			pre = "local"
		}
		if !primary {
			suf = "-2"
		}
		sec := pre + suf
		var idSt, certSt, caSt, groupsSt *Setting
		if primary {
			r.auth, r.id = a[0], e.id
			idSt, certSt, caSt, groupsSt = e.src["id"], e.src["cert"], e.src["ca"], e.src["groups"]
			if r.id == "" {
				r.id = firstAddrOrList(e)
			}
			r.certs = splitList(e.cert)
			r.caID = e.ca
			if r.caID == "%same" {
				r.caID = o.ca
			}
			r.groups = splitList(e.groups)
		} else {
			r.auth, r.id = a[1], e.id2
			idSt, certSt, caSt, groupsSt = e.src["id2"], e.src["cert2"], e.src["ca2"], e.src["groups2"]
			if local && r.id == "" {
				r.id = e.id
			}
			r.certs = splitList(e.cert2)
			r.caID = e.ca2
			if r.caID == "%same" {
				r.caID = o.ca2
			}
			r.groups = splitList(e.groups2)
		}
		if r.auth == "" {
			if !primary {
				for _, st := range []*Setting{idSt, certSt, caSt, groupsSt} {
					if st != nil {
						item(st, Info, CatInfo, "", "%s has no effect without %sauth2", st.Key, e.side)
						m(st, "(no effect without %sauth2)", e.side)
					}
				}
				return r, false
			}
			r.auth = "pubkey"
		}
		if r.auth == "secret" {
			r.auth = "psk"
		}
		if strings.HasPrefix(r.id, "%") && r.id != "%any" && r.id != "%any6" {
			r.id = r.id[1:]
			if !local {
				item(idSt, Warning, CatNoEquivalent, "the peer must then send exactly this identity",
					"%s=%%%s: the '%%' (do not send IDr, accept another identity) has no swanctl equivalent; remote.id = %s", idSt.Key, r.id, r.id)
			}
		}
		if r.id == "%any" || r.id == "%any6" {
			if local {
				r.id = ""
			}
		}
		if strings.HasPrefix(r.auth, "pubkey") || strings.HasPrefix(r.auth, "rsa") || strings.HasPrefix(r.auth, "ecdsa") || strings.HasPrefix(r.auth, "ike:") || r.auth == "any" {
			if !local {
				r.revocation = revocation
			}
		}
		if strings.HasPrefix(r.auth, "eap") && c.eapIdentity != "" {
			r.eapID = c.eapIdentity
			if r.eapID == "%identity" {
				r.eapID = "%any"
			}
			m(c.src["eap_identity"], "%s.eap_id = %s", sec, r.eapID)
		}
		if strings.HasPrefix(r.auth, "eap") && c.aaaIdentity != "" {
			if local {
				r.aaaID = c.aaaIdentity
				m(c.src["aaa_identity"], "%s.aaa_id = %s", sec, r.aaaID)
			} else {
				item(c.src["aaa_identity"], Warning, CatNoEquivalent, "", "aaa_identity on the EAP server side has no swanctl equivalent (swanctl has local.aaa_id for EAP clients only)")
				m(c.src["aaa_identity"], "(not carried over)")
			}
		}
		if strings.HasPrefix(r.auth, "xauth") && c.xauthIdentity != "" {
			if local {
				r.xauthID = c.xauthIdentity
				m(c.src["xauth_identity"], "%s.xauth_id = %s", sec, r.xauthID)
			} else {
				item(c.src["xauth_identity"], Warning, CatNoEquivalent, "", "xauth_identity for the remote XAuth round has no swanctl equivalent")
				m(c.src["xauth_identity"], "(not carried over)")
			}
		}
		m(e.src[map[bool]string{true: "auth", false: "auth2"}[primary]], "%s.auth = %s", sec, r.auth)
		m(idSt, "%s.id = %s", sec, r.id)
		if len(r.certs) > 0 {
			var certs []string
			for _, cert := range r.certs {
				if strings.HasPrefix(cert, "%smartcard") {
					item(certSt, Warning, CatNoEquivalent, "write a cert<suffix> { handle, slot, module } subsection by hand",
						"%s=%s (a smartcard certificate) is not carried over", certSt.Key, cert)
					continue
				}
				certs = append(certs, cert)
				item(certSt, Info, CatFiles, "", "copy %s to /etc/swanctl/x509/%s (%s.certs)", resolvePath("/etc/ipsec.d/certs", cert), baseName(cert), sec)
			}
			r.certs = certs
			m(certSt, "%s.certs = %s", sec, strings.Join(certs, ", "))
		}
		if r.caID != "" {
			if local {
				item(caSt, Warning, CatNoEquivalent, "", "%s=%s (CA constraint for the local certificate chain) has no swanctl equivalent", caSt.Key, e.ca)
				m(caSt, "(not carried over)")
				r.caID = ""
			} else {
				m(caSt, "%s.ca_id = %s", sec, r.caID)
			}
		}
		if len(r.groups) > 0 {
			if local {
				item(groupsSt, Info, CatNoEquivalent, "", "%s on the local side has no effect (as in strongSwan)", groupsSt.Key)
				m(groupsSt, "(no effect)")
				r.groups = nil
			} else {
				m(groupsSt, "%s.groups = %s", sec, strings.Join(r.groups, ", "))
			}
		}
		if primary && e.certPolicy != "" {
			if local {
				item(e.src["certpolicy"], Info, CatNoEquivalent, "", "%s on the local side has no effect", e.src["certpolicy"].Key)
				m(e.src["certpolicy"], "(no effect)")
			} else {
				r.certPolicy = splitList(e.certPolicy)
				m(e.src["certpolicy"], "%s.cert_policy = %s", sec, strings.Join(r.certPolicy, ", "))
			}
		}
		if primary && e.sigkey != "" {
			st := e.src["sigkey"]
			switch {
			case e.sigkey == "%cert":
				m(st, "(%%cert: the key of the certificate, nothing to do)")
			case strings.HasPrefix(e.sigkey, "0s") || strings.HasPrefix(e.sigkey, "0x") || strings.HasPrefix(e.sigkey, "%dns"):
				item(st, Warning, CatNoEquivalent, "save the public key as a PEM file in /etc/swanctl/pubkey and list it in "+sec+".pubkeys",
					"%s=%s... (an inline or DNS public key) is not carried over", st.Key, e.sigkey[:min(len(e.sigkey), 3)])
				m(st, "(not carried over)")
			default:
				r.pubkeys = []string{e.sigkey}
				item(st, Info, CatFiles, "", "copy %s to /etc/swanctl/pubkey/%s (%s.pubkeys)", resolvePath("/etc/ipsec.d/certs", e.sigkey), baseName(e.sigkey), sec)
				m(st, "%s.pubkeys = %s", sec, e.sigkey)
			}
		}
		return r, true
	}
	r1, _ := round(me, other, true, true)
	local := []authRound{r1}
	if r2, ok := round(me, other, true, false); ok {
		local = append(local, r2)
	}
	r1, _ = round(other, me, false, true)
	remote := []authRound{r1}
	if r2, ok := round(other, me, false, false); ok {
		remote = append(remote, r2)
	}
	if !strings.HasPrefix(local[0].auth, "eap") && !strings.HasPrefix(remote[0].auth, "eap") && len(local) < 2 && len(remote) < 2 {
		for _, k := range []string{"eap_identity", "aaa_identity"} {
			if st := c.src[k]; st != nil {
				item(st, Info, CatInfo, "", "%s has no effect without EAP authentication", k)
				m(st, "(no effect without EAP)")
			}
		}
	}
	for _, k := range []string{"eap_identity", "aaa_identity", "xauth_identity"} {
		if st := c.src[k]; st != nil && !imp.mapped[connKey{c.name, st}] {
			m(st, "(no effect: no matching round)")
		}
	}
	if st := imp.setup.src["strictcrlpolicy"]; st != nil {
		target := "(no effect: no certificate authentication)"
		for _, r := range remote {
			if r.revocation != "" {
				target = "remote.revocation = " + r.revocation
			}
		}
		imp.used(st, c.name, target)
	}
	return local, remote
}

func orPubkey(s string) string {
	if s == "" {
		return "pubkey"
	}
	return s
}

// firstAddrOrList is the identity stroke falls back to: the address as
// written (a list stays a list).
func firstAddrOrList(e *endCfg) string {
	if e.host == "" || e.host == "%any" || e.host == "%any4" || e.host == "%any6" || ifaceRef(e) {
		return ""
	}
	return e.host
}

// poolCfg is a virtual IP pool defined by rightsourceip.
type poolCfg struct {
	name  string
	token string
	addrs string // CIDR or range
	dns   []string
	conns []string
}

// vipsAndPools maps leftsourceip (requested virtual IPs) and
// rightsourceip (pools served to the peer) like stroke_config.c.
func (imp *importer) vipsAndPools(c *starterConn, me, other *endCfg, item itemFunc, m mapFunc) (vips, pools []string) {
	if other.sourceip != "" {
		st := other.src["sourceip"]
		for _, tok := range splitList(other.sourceip) {
			switch tok {
			case "%modeconfig", "%modecfg", "%config", "%cfg", "%config4", "%config6":
				item(st, Warning, CatNoEquivalent, "name the pool: rightsourceip=<cidr> (a swanctl pool), or %dhcp / %radius with those plugins",
					"%s=%s on the responder hands out addresses from an external provider keyed by the conn name; converted as pools = %s, which must exist (e.g. from attr-sql)", st.Key, tok, swanctlName(c.name))
				pools = append(pools, swanctlName(c.name))
			case "%dhcp", "%radius":
				pools = append(pools, tok[1:])
				item(st, Info, CatInfo, "", "%s=%s: addresses come from the %s plugin (pools = %s)", st.Key, tok, tok[1:], tok[1:])
			default:
				if strings.HasPrefix(tok, "%") {
					pools = append(pools, tok[1:])
					item(st, Warning, CatNoEquivalent, "define it in the pools section or with attr-sql", "%s=%s refers to the external pool %q, which is not defined by this conversion", st.Key, tok, tok[1:])
					continue
				}
				pool := imp.pool(c, tok, st, item)
				if pool == nil {
					continue
				}
				pools = append(pools, pool.name)
			}
		}
		m(st, "pools = %s", strings.Join(pools, ", "))
	}
	if me.sourceip != "" {
		st := me.src["sourceip"]
		if other.sourceip != "" {
			item(st, Warning, CatNoEquivalent, "", "%s and %s are both set, but IKE negotiates one virtual IP only: strongSwan ignored %s; not carried over", st.Key, other.src["sourceip"].Key, st.Key)
			m(st, "(ignored: both sides have sourceip)")
		} else {
			for _, tok := range splitList(me.sourceip) {
				switch tok {
				case "%modeconfig", "%modecfg", "%config", "%cfg":
					v6 := false
					switch {
					case me.subnetSet:
						v6 = !strings.Contains(me.subnet, ".")
					case other.subnetSet:
						v6 = !strings.Contains(other.subnet, ".")
					default:
						a := firstAddr(me)
						v6 = strings.Contains(a, ":")
					}
					if v6 {
						vips = append(vips, "::")
					} else {
						vips = append(vips, "0.0.0.0")
					}
				case "%config4":
					vips = append(vips, "0.0.0.0")
				case "%config6":
					vips = append(vips, "::")
				default:
					if _, err := netip.ParseAddr(tok); err != nil {
						item(st, Warning, CatNoEquivalent, "", "%s: %q is not an address; strongSwan ignored it", st.Key, tok)
						continue
					}
					vips = append(vips, tok)
				}
			}
			m(st, "vips = %s", strings.Join(vips, ", "))
		}
	}
	if st := other.src["dns"]; st != nil {
		var dns []string
		for _, d := range splitList(other.dns) {
			if _, err := netip.ParseAddr(d); err == nil {
				dns = append(dns, d)
			} else {
				item(st, Info, CatInfo, "", "%s: %q is not an address; strongSwan ignored it", st.Key, d)
			}
		}
		served := false
		for _, p := range imp.pools {
			if slices.Contains(p.conns, c.name) {
				p.dns = uniq(append(p.dns, dns...))
				served = true
			}
		}
		if served {
			m(st, "pools.<pool>.dns = %s", strings.Join(dns, ", "))
		} else {
			item(st, Warning, CatNoEquivalent, "define a pool with rightsourceip=<cidr> to hand out DNS servers with it",
				"%s=%s (DNS servers handed to the peer) is not carried over: swanctl assigns DNS servers with the pool of the connection, and this conn has no pool of its own", st.Key, other.dns)
			m(st, "(not carried over)")
		}
	}
	if st := me.src["dns"]; st != nil {
		item(st, Warning, CatNoEquivalent, "charon requests DNS servers when a handler for them (e.g. the resolve plugin) is loaded",
			"%s=%s (DNS servers to request from the peer) is not carried over: swanctl.conf has no such option", st.Key, me.dns)
		m(st, "(not carried over)")
	}
	return vips, pools
}

func (imp *importer) pool(c *starterConn, tok string, st *Setting, item itemFunc) *poolCfg {
	for _, p := range imp.pools {
		if p.token == tok {
			p.conns = append(p.conns, c.name)
			return p
		}
	}
	addrs := tok
	if pr, err := netip.ParsePrefix(tok); err == nil {
		addrs = pr.Masked().String()
	} else if a, b, ok := strings.Cut(tok, "-"); ok {
		if _, e1 := netip.ParseAddr(a); e1 != nil {
			ok = false
		} else if _, e2 := netip.ParseAddr(b); e2 != nil {
			ok = false
		}
		if !ok {
			item(st, Warning, CatNoEquivalent, "", "%s: pool %q is invalid; strongSwan ignored it", st.Key, tok)
			return nil
		}
	} else if a, err := netip.ParseAddr(tok); err == nil {
		addrs = netip.PrefixFrom(a, a.BitLen()).String()
	} else {
		item(st, Warning, CatNoEquivalent, "", "%s: pool %q is invalid; strongSwan ignored it", st.Key, tok)
		return nil
	}
	name := swanctlName(c.name) + "-pool"
	for n := 2; slices.ContainsFunc(imp.pools, func(p *poolCfg) bool { return p.name == name }); n++ {
		name = swanctlName(c.name) + "-pool-" + strconv.Itoa(n)
	}
	p := &poolCfg{name: name, token: tok, addrs: addrs, conns: []string{c.name}}
	imp.pools = append(imp.pools, p)
	return p
}

// child builds the CHILD_SA of a conn (stroke_config.c build_child_cfg).
func (imp *importer) child(c *starterConn, me, other *endCfg, name, cp string, version int, item itemFunc, m mapFunc) *childCfg {
	ch := &childCfg{name: name, mode: c.mode}
	if c.proxyMode {
		ch.mode = "transport_proxy"
	}
	m(c.src["type"], "%smode = %s", cp, ch.mode)
	ch.localTS = imp.selectors(c, me, item)
	ch.remoteTS = imp.selectors(c, other, item)
	for _, e := range []*endCfg{me, other} {
		which := map[bool]string{true: "local_ts", false: "remote_ts"}[e == me]
		ts := map[bool][]string{true: ch.localTS, false: ch.remoteTS}[e == me]
		for _, k := range []string{"subnet", "protoport"} {
			m(e.src[k], "%s%s = %s", cp, which, strings.Join(ts, ", "))
		}
	}
	vers := 2
	if version == 1 {
		vers = 1
	}
	if c.ah != "" {
		ch.ah, ch.espStrict = imp.proposals(c, c.src["ah"], c.ah, crypto.AH, vers, cp+"ah_proposals")
		if st := c.src["esp"]; st != nil {
			item(st, Warning, CatNoEquivalent, "", "esp= is ignored because ah= is set (strongSwan uses AH only, AH+ESP bundles are not supported)")
			imp.used(st, c.name, "(ignored: ah is set)")
		}
	} else {
		ch.esp, ch.espStrict = imp.proposals(c, c.src["esp"], c.esp, crypto.ESP, vers, cp+"esp_proposals")
	}
	fuzz := func(d uint64) uint64 { return d * c.fuzz / 100 }
	if !c.dontRekey {
		ch.lifeTime = c.ipsecLife
		ch.rekeyTime = c.ipsecLife - c.margin
		if c.margin >= c.ipsecLife {
			item(c.src["rekeymargin"], Warning, CatSemantics, "make rekeymargin smaller than lifetime",
				"rekeymargin (%s) is not smaller than lifetime (%s): strongSwan's rekey time underflows; converted with 90%% of the lifetime", swanctl.Duration(c.margin), swanctl.Duration(c.ipsecLife))
			ch.rekeyTime = c.ipsecLife * 9 / 10
		}
		ch.randTime = time.Duration(fuzz(uint64(c.margin)))
		if c.lifeBytes > 0 {
			ch.bytes = [3]uint64{c.lifeBytes - min(c.marginBytes, c.lifeBytes), c.lifeBytes, fuzz(c.marginBytes)}
		}
		if c.lifePackets > 0 {
			ch.packets = [3]uint64{c.lifePackets - min(c.marginPackets, c.lifePackets), c.lifePackets, fuzz(c.marginPackets)}
		}
	}
	childTimes := fmt.Sprintf("%srekey_time = %s, life_time = %s, rand_time = %s", cp, swanctl.Duration(ch.rekeyTime), swanctl.Duration(ch.lifeTime), swanctl.Duration(ch.randTime))
	for _, k := range []string{"lifetime", "rekeymargin", "rekeyfuzz", "rekey"} {
		m(c.src[k], "%s", childTimes)
	}
	for _, k := range []string{"lifebytes", "marginbytes"} {
		m(c.src[k], "%srekey_bytes = %d, life_bytes = %d, rand_bytes = %d", cp, ch.bytes[0], ch.bytes[1], ch.bytes[2])
	}
	for _, k := range []string{"lifepackets", "marginpackets"} {
		m(c.src[k], "%srekey_packets = %d, life_packets = %d, rand_packets = %d", cp, ch.packets[0], ch.packets[1], ch.packets[2])
	}
	ch.startAction = []string{"", "", "trap", "start"}[c.startup]
	if c.startup == AutoRoute {
		item(c.src["auto"], Info, CatSemantics, "with kernel-libipsec use auto=start (start_action = start): trap policies do not work there",
			"auto=route -> start_action = trap: swanctl installs the trap policies when the connection is loaded (swanctl --load-conns) rather than when ipsec starts")
	}
	ch.dpdAction = []string{"", "clear", "trap", "restart"}[c.dpdAction]
	m(c.src["dpdaction"], "%sdpd_action = %s", cp, orNone(ch.dpdAction))
	ch.closeAction = []string{"", "", "trap", "start"}[c.closeAction]
	m(c.src["closeaction"], "%sclose_action = %s", cp, orNone(ch.closeAction))
	if c.closeAction == 1 {
		item(c.src["closeaction"], Info, CatInfo, "", "closeaction=clear is the same as none in charon: close_action = none")
	}
	ch.markIn, ch.markOut = c.markIn, c.markOut
	for _, k := range []string{"mark", "mark_in", "mark_out"} {
		m(c.src[k], "%smark_in = %s, mark_out = %s", cp, orNone(ch.markIn), orNone(ch.markOut))
	}
	ch.ifIDIn, ch.ifIDOut = c.ifIDIn, c.ifIDOut
	for _, k := range []string{"if_id_in", "if_id_out"} {
		if st := c.src[k]; st != nil {
			item(st, Warning, CatSemantics, "remove it if the old setup did not use XFRM interfaces",
				"%s is not an ipsec.conf keyword: strongSwan's starter ignored it (unknown keyword), so the old configuration did not use it; it is carried over as %s%s = %s", k, cp, k, st.Value)
			m(st, "%s%s = %s", cp, k, st.Value)
		}
	}
	ch.reqid = c.reqid
	m(c.src["reqid"], "%sreqid = %d", cp, c.reqid)
	ch.replay = c.replayWindow
	m(c.src["replay_window"], "%sreplay_window = %d", cp, c.replayWindow)
	ch.tfc = c.tfc
	if ch.tfc == "%mtu" {
		ch.tfc = "mtu"
	}
	m(c.src["tfc"], "%stfc_padding = %s", cp, ch.tfc)
	ch.inactivity = c.inactivity
	m(c.src["inactivity"], "%sinactivity = %s", cp, swanctl.Duration(c.inactivity))
	ch.ipcomp = c.compress
	m(c.src["compress"], "%sipcomp = %s", cp, yesNo(c.compress))
	ch.noPolicies = !c.installPolicy
	m(c.src["installpolicy"], "%spolicies = %s", cp, yesNo(c.installPolicy))
	ch.sha256_96 = c.sha256_96
	m(c.src["sha256_96"], "%ssha256_96 = %s", cp, yesNo(c.sha256_96))
	ch.hostaccess = me.hostaccess
	m(me.src["hostaccess"], "%shostaccess = %s", cp, yesNo(me.hostaccess))
	ch.updown = me.updown
	if st := me.src["firewall"]; st != nil {
		m(st, "%supdown = %s", cp, me.updown)
		if me.firewall || me.updown == updownIptables {
			imp.report.add(Item{Pos: st.KeyPos, Severity: Warning, Category: CatFirewall, Conn: writtenIn(st), Key: st.Key,
				Message: fmt.Sprintf("%s=yes: the updown script inserts iptables rules that accept this tunnel's traffic (INPUT/OUTPUT for host-to-host, FORWARD for subnets) while the CHILD_SA is up; the conversion keeps it as updown = %s, which needs iptables", st.Key, updownIptables),
				Hint:    "with a styx topology, styx renders the nftables/iptables rules for the tunnels instead: drop the updown then, and make sure nothing else filters the traffic"})
		}
	}
	if st := me.src["updown"]; st != nil {
		m(st, "%supdown = %s", cp, me.updown)
		imp.report.add(Item{Pos: st.KeyPos, Severity: Warning, Category: CatFirewall, Conn: writtenIn(st), Key: st.Key,
			Message: fmt.Sprintf("%s=%s runs on every CHILD_SA up/down; kept as updown = %s: check what it does (firewall rules, routes) and that it works with swanctl's environment", st.Key, st.Value, st.Value),
			Hint:    "rules and routes it adds may duplicate or conflict with those styx renders from a topology"})
	}
	for _, k := range []string{"firewall", "updown", "hostaccess"} {
		if st := other.src[k]; st != nil {
			item(st, Info, CatNoEquivalent, "", "%s is about the remote side and has no effect here (only the local side's updown/hostaccess run), as in strongSwan", st.Key)
			m(st, "(remote side: no effect)")
		}
	}
	if me.hostaccess && me.updown == "" {
		item(me.src["hostaccess"], Info, CatFirewall, "", "%s=yes only matters to the updown script, and none is set", me.src["hostaccess"].Key)
	}
	return ch
}

// selectors builds the traffic selectors of one side (add_ts).
func (imp *importer) selectors(c *starterConn, e *endCfg, item itemFunc) []string {
	suffix := func(proto uint8, from, to uint32) string {
		if proto == 0 && from == 0 && to == 0xffff {
			return ""
		}
		p := "any"
		if proto != 0 {
			p = protocolNames[proto]
			if p == "" {
				p = strconv.Itoa(int(proto))
			}
		}
		switch {
		case from == 0 && to == 0xffff:
			return "[" + p + "]"
		case from == 0xffff && to == 0:
			return "[" + p + "/opaque]"
		case from == to:
			return fmt.Sprintf("[%s/%d]", p, from)
		}
		return fmt.Sprintf("[%s/%d-%d]", p, from, to)
	}
	var out []string
	st := e.src["subnet"]
	if e.subnetSet {
		for _, tok := range splitList(e.subnet) {
			proto, from, to := e.protocol, e.fromPort, e.toPort
			sub := tok
			if i := strings.IndexByte(tok, '['); i >= 0 {
				sub = tok[:i]
				pp, ok := strings.CutSuffix(tok[i+1:], "]")
				var err error
				var r [2]uint32
				if ok {
					proto, r, err = parseProtoPort(pp)
					from, to = r[0], r[1]
				}
				if !ok || err != nil {
					item(st, Warning, CatNoEquivalent, "", "%s: invalid proto/port in %q; strongSwan skips this subnet", st.Key, tok)
					continue
				}
			}
			if sub == "%dynamic" {
				out = append(out, "dynamic"+suffix(proto, from, to))
				continue
			}
			pfx, err := netip.ParsePrefix(sub)
			if err != nil {
				a, aerr := netip.ParseAddr(sub)
				if aerr != nil {
					item(st, Warning, CatNoEquivalent, "write a prefix (ranges are not supported in ipsec.conf subnets)", "%s: %q is not a subnet; strongSwan skips it", st.Key, sub)
					continue
				}
				pfx = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
			}
			if pfx.Masked() != pfx {
				item(st, Info, CatInfo, "", "%s: %s has host bits set; strongSwan uses %s", st.Key, sub, pfx.Masked())
				pfx = pfx.Masked()
			}
			out = append(out, pfx.String()+suffix(proto, from, to))
		}
	}
	if len(out) == 0 {
		out = []string{"dynamic" + suffix(e.protocol, e.fromPort, e.toPort)}
	}
	return out
}
