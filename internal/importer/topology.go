package importer

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/styx-vpn/styx/internal/render/swanctl"
	"github.com/styx-vpn/styx/internal/topology"
)

// File is an output file (relative path).
type File struct {
	Path   string
	Mode   fs.FileMode
	Data   []byte
	Secret bool
}

// TopologyOptions configure the topology fragment.
type TopologyOptions struct {
	// SecretsDir is where psk: {file: ...} points, relative to the
	// fragment (default "secrets").
	SecretsDir string
	// Inline writes the keys into the fragment (psk: {value: ...}).
	Inline bool
	// Redact writes <redacted> instead of secret values.
	Redact bool
}

var topoNameRE = regexp.MustCompile(`[^a-z0-9_-]+`)

// topoName makes a valid topology name (^[a-z0-9][a-z0-9_-]{0,30}$).
func topoName(s string) string {
	n := topoNameRE.ReplaceAllString(strings.ToLower(s), "-")
	n = strings.TrimLeft(n, "-_")
	if len(n) > 31 {
		n = strings.TrimRight(n[:31], "-_")
	}
	return n
}

// topology-expressible keys: everything else a conn sets explicitly is
// listed as not expressible in the fragment.
var topoKeys = map[string]bool{
	"ike": true, "esp": true, "authby": true, "auto": true, "type": true, "keyexchange": true,
	"dpdaction": true, "dpddelay": true, "closeaction": true, "ikelifetime": true, "lifetime": true,
	"keylife": true, "rekeymargin": true, "margintime": true, "mobike": true, "forceencaps": true, "aggressive": true,
	"also": true, "left": true, "right": true, "leftid": true, "rightid": true, "leftsubnet": true,
	"rightsubnet": true, "leftsubnetwithin": true, "rightsubnetwithin": true, "leftprotoport": true,
	"rightprotoport": true, "leftauth": true, "rightauth": true, "leftcert": true, "leftfirewall": true,
}

type yamlWriter struct {
	b strings.Builder
}

func (w *yamlWriter) line(indent int, format string, args ...any) {
	w.b.WriteString(strings.Repeat("  ", indent))
	fmt.Fprintf(&w.b, format, args...)
	w.b.WriteByte('\n')
}

// q quotes a YAML scalar (JSON strings are valid YAML).
func q(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func qlist(l []string) string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = q(s)
	}
	return "[" + strings.Join(out, ", ") + "]"
}

type topoPeer struct {
	name    string
	id      string
	public  []string
	dynamic bool
	key     string
}

// Topology writes the styx topology fragment: this gateway, its peers as
// external gateways, one tunnel per IKE connection with its children, and
// remote access blocks for road-warrior servers. It adds what the format
// cannot express to the report (once) and returns the secret files the
// fragment refers to.
func (r *Result) Topology(o TopologyOptions) ([]byte, []File) {
	imp := r.imp
	if o.SecretsDir == "" {
		o.SecretsDir = "secrets"
	}
	addItem := func(it Item) {
		it.Category = CatTopology
		if !r.topoReported {
			imp.report.add(it)
		}
	}
	defer func() { r.topoReported = true }()
	if st := imp.setup.src["uniqueids"]; st != nil && imp.setup.uniqueids != 1 && imp.setup.uniqueids != 2 {
		addItem(Item{Pos: st.KeyPos, Severity: Warning, Key: st.Key,
			Message: fmt.Sprintf("uniqueids=%s has no topology form: styx writes unique = replace", st.Value)})
	}
	if st := imp.setup.src["strictcrlpolicy"]; st != nil && imp.setup.strictcrlpolicy != 0 {
		addItem(Item{Pos: st.KeyPos, Severity: Warning, Key: st.Key,
			Message: fmt.Sprintf("strictcrlpolicy=%s has no topology form: styx does not set remote.revocation", st.Value)})
	}
	me := topoName(r.Gateway.Name)
	if me == "" {
		me = "local"
	}
	var peers []*topoPeer
	type tunnel struct {
		ic    *ikeConn
		name  string
		peer  *topoPeer
		crypt string
	}
	var tunnels []tunnel
	var ras []*ikeConn
	var files []File
	pairs := map[string]string{}
	tunnelNames := map[string]bool{}
	names := map[string]bool{me: true}
	uniqueName := func(n string) string {
		if n == "" {
			n = "peer"
		}
		out := n
		for i := 2; names[out]; i++ {
			out = fmt.Sprintf("%s-%d", n, i)
		}
		names[out] = true
		return out
	}
	var myID string
	var myAddrs []string
	for _, ic := range imp.conns {
		p := ic.params
		at := ic.first.sec.Pos
		if myID == "" {
			myID = p.local[0].id
		} else if p.local[0].id != "" && p.local[0].id != myID {
			addItem(Item{Pos: at, Severity: Warning, Conn: ic.first.name,
				Message: fmt.Sprintf("uses the local identity %s, but a topology gateway has one identity (%s); the tunnel uses %s", p.local[0].id, myID, myID)})
		}
		for _, a := range p.localAddrs {
			if _, err := netip.ParseAddr(a); err == nil && !slices.Contains(myAddrs, a) {
				myAddrs = append(myAddrs, a)
			}
		}
		var why []string
		// road warriors: remote %any with pools
		if len(p.remoteAddrs) == 0 && len(p.pools) > 0 {
			if a := p.remote[0].auth; !strings.HasPrefix(a, "eap") && a != "pubkey" {
				why = append(why, fmt.Sprintf("remote access with remote authentication %s (the topology knows eap-mschapv2 and certificates)", a))
			}
			if p.local[0].auth != "pubkey" {
				why = append(why, fmt.Sprintf("remote access with local authentication %s (the topology's gateways use certificates)", p.local[0].auth))
			}
			if len(p.remote) > 1 || len(p.local) > 1 {
				why = append(why, "a second authentication round")
			}
			if len(why) == 0 {
				ras = append(ras, ic)
				continue
			}
		}
		if len(p.vips) > 0 {
			why = append(why, "a virtual IP (leftsourceip): road-warrior clients have no topology form")
		}
		for _, ch := range ic.children {
			if ch.mode != "tunnel" && ch.mode != "transport" {
				why = append(why, fmt.Sprintf("child %s has mode %s (shunt policies have no topology form)", ch.name, ch.mode))
			}
		}
		if a := p.local[0].auth; a != "psk" && a != "pubkey" {
			why = append(why, fmt.Sprintf("local authentication %s (the topology knows psk and certificates)", a))
		}
		if a := p.remote[0].auth; a != "psk" && a != "pubkey" {
			why = append(why, fmt.Sprintf("remote authentication %s (the topology knows psk and certificates)", a))
		}
		if len(why) > 0 {
			addItem(Item{Pos: at, Severity: Warning, Conn: ic.first.name,
				Message: "not in the topology fragment: " + strings.Join(why, "; "), Hint: "use --to swanctl for this connection"})
			continue
		}
		pkey := strings.Join(p.remoteAddrs, ",") + "|" + p.remote[0].id
		var peer *topoPeer
		for _, x := range peers {
			if x.key == pkey {
				peer = x
			}
		}
		if peer == nil {
			n := nameFromID(p.remote[0].id)
			if n == "" || names[n] {
				n = topoName(ic.name + "-peer")
			}
			peer = &topoPeer{name: uniqueName(n), id: p.remote[0].id, key: pkey}
			for _, a := range p.remoteAddrs {
				if strings.Contains(a, "/") || strings.Contains(a, "-") {
					continue
				}
				peer.public = append(peer.public, a)
			}
			peer.dynamic = len(peer.public) == 0
			peers = append(peers, peer)
		}
		if first, dup := pairs[peer.name]; dup {
			addItem(Item{Pos: at, Severity: Warning, Conn: ic.first.name,
				Message: fmt.Sprintf("a second IKE connection to %s (the first is %s) cannot be expressed: the topology has one tunnel per pair of gateways; not in the fragment", peer.name, first),
				Hint:    "give both conns the same IKE settings (they then share one IKE SA), or use --to swanctl"})
			continue
		}
		pairs[peer.name] = ic.name
		tn := topoName(ic.name)
		for i := 2; tunnelNames[tn]; i++ {
			tn = fmt.Sprintf("%s-%d", topoName(ic.name), i)
		}
		tunnelNames[tn] = true
		tunnels = append(tunnels, tunnel{ic: ic, name: tn, peer: peer})
	}

	w := &yamlWriter{}
	w.line(0, "# styx topology fragment for gateway %s, imported by styx import from %s.", me, filepath0(imp.opts.Conf))
	w.line(0, "# Review the import report, then merge it into your topology file.")
	w.line(0, "styx: 1")
	if len(tunnels)+len(ras) > 0 {
		w.line(0, "")
		w.line(0, "crypto:")
		for i := range tunnels {
			t := &tunnels[i]
			t.crypt = t.name
			r.writeCrypto(w, t.name, t.ic, addItem)
		}
		for _, ic := range ras {
			r.writeCrypto(w, topoName(ic.name), ic, addItem)
		}
	}
	w.line(0, "")
	w.line(0, "gateways:")
	w.line(1, "%s:", me)
	if myID != "" {
		w.line(2, "id: %s", q(myID))
	}
	public, local := myAddrs, []string(nil)
	if a, err := netip.ParseAddr(myID); err == nil && len(myAddrs) == 1 && myAddrs[0] != a.String() && a.IsGlobalUnicast() && !a.IsPrivate() {
		public, local = []string{a.String()}, myAddrs
		addItem(Item{Pos: imp.conns[0].first.sec.Pos, Severity: Info,
			Message: fmt.Sprintf("the local address %s differs from the identity %s: written as public: %s, local: %s (1:1 NAT)", myAddrs[0], a, a, myAddrs[0])})
	}
	if len(public) == 0 && len(imp.opts.LocalAddrs) > 0 {
		public = []string{imp.opts.LocalAddrs[0].String()}
	}
	switch {
	case len(public) > 0:
		w.line(2, "public: %s", qlist(public))
		if len(local) > 0 {
			w.line(2, "local: %s", qlist(local))
		}
	default:
		w.line(2, "dynamic: true   # the address is not in ipsec.conf (left=%%any): set public: if peers connect to it")
	}
	for _, ic := range imp.conns {
		if c := ic.params.local[0].certs; len(c) > 0 && ic.params.local[0].auth == "pubkey" {
			w.line(2, "cert: %s", q("x509/"+baseName(c[0])))
			if k := r.keyFor(); k != "" {
				w.line(2, "key: %s", q("private/"+baseName(k)))
			}
			addItem(Item{Pos: ic.first.sec.Pos, Severity: Info,
				Message: fmt.Sprintf("the gateway certificate is referred to as x509/%s (relative to the fragment): copy it there", baseName(c[0]))})
			break
		}
	}
	for _, p := range peers {
		w.line(1, "%s:", p.name)
		w.line(2, "external: true")
		if p.id != "" {
			w.line(2, "id: %s", q(p.id))
		}
		if p.dynamic {
			w.line(2, "dynamic: true")
		} else {
			w.line(2, "public: %s", qlist(p.public))
		}
	}
	if len(tunnels) > 0 {
		w.line(0, "")
		w.line(0, "tunnels:")
	}
	for _, t := range tunnels {
		files = append(files, r.writeTunnel(w, t.ic, t.name, me, t.peer, o, addItem)...)
	}
	if len(ras) > 0 {
		w.line(0, "")
		w.line(0, "remote_access:")
		for _, ic := range ras {
			files = append(files, r.writeRA(w, ic, me, o, addItem)...)
		}
	}
	return []byte(w.b.String()), files
}

func filepath0(p string) string { return baseName(p) }

// keyFor returns the private key file of ipsec.secrets, if exactly one.
func (r *Result) keyFor() string {
	var keys []string
	for _, e := range r.imp.secrets.Entries {
		if e.Type == SecretRSA || e.Type == SecretECDSA || e.Type == SecretPKCS8 {
			keys = append(keys, e.File)
		}
	}
	if len(keys) == 1 {
		return keys[0]
	}
	return ""
}

func (r *Result) writeCrypto(w *yamlWriter, name string, ic *ikeConn, addItem func(Item)) {
	ike := ic.params.proposals
	if len(ike) == 0 {
		ike = []string{"default"}
	}
	esp := ic.children[0].esp
	if len(esp) == 0 {
		esp = []string{"default"}
	}
	for _, ch := range ic.children[1:] {
		if !slices.Equal(ch.esp, ic.children[0].esp) {
			addItem(Item{Pos: ch.conn.sec.Pos, Severity: Warning, Conn: ch.conn.name,
				Message: fmt.Sprintf("its esp proposals differ from those of %s, but a topology tunnel has one crypto profile; the fragment uses %s's", ic.children[0].conn.name, ic.children[0].conn.name)})
		}
		if len(ch.ah) > 0 {
			addItem(Item{Pos: ch.conn.sec.Pos, Severity: Warning, Conn: ch.conn.name, Message: "ah= (AH) has no topology form; the fragment uses ESP"})
		}
	}
	w.line(1, "%s:", name)
	w.line(2, "ike: %s", qlist(ike))
	w.line(2, "esp: %s", qlist(esp))
}

// tsForTopology converts swanctl selectors to ones the topology accepts.
func tsForTopology(ts []string) ([]string, []string) {
	var ok, bad []string
	for _, s := range ts {
		if _, err := topology.ParseTS(s); err != nil {
			bad = append(bad, s)
			continue
		}
		ok = append(ok, s)
	}
	return ok, bad
}

func (r *Result) writeTunnel(w *yamlWriter, ic *ikeConn, name, me string, peer *topoPeer, o TopologyOptions, addItem func(Item)) []File {
	p := ic.params
	at := ic.first.sec.Pos
	var files []File
	w.line(1, "- name: %s", name)
	w.line(2, "between: [%s, %s]", me, peer.name)
	initiates := false
	start := ""
	for _, ch := range ic.children {
		if ch.startAction != "" {
			initiates = true
			if start == "" {
				start = ch.startAction
			}
		}
	}
	if initiates && peer.dynamic {
		addItem(Item{Pos: at, Severity: Warning, Conn: ic.first.name,
			Message: fmt.Sprintf("start_action %s towards a peer without address (right=%%any) has no topology form: the peer initiates", start)})
		initiates = false
	}
	if initiates {
		w.line(2, "initiator: %s", me)
		w.line(2, "start: %s", start)
	} else {
		w.line(2, "initiator: %s   # auto=add here: the peer initiates", peer.name)
	}
	w.line(2, "crypto: %s", name)
	switch {
	case p.local[0].auth == "psk" || p.remote[0].auth == "psk":
		if p.local[0].auth != p.remote[0].auth {
			addItem(Item{Pos: at, Severity: Warning, Conn: ic.first.name,
				Message: fmt.Sprintf("local auth %s and remote auth %s differ; the topology uses one method per tunnel (psk)", p.local[0].auth, p.remote[0].auth)})
		}
		switch {
		case ic.psk == nil:
			w.line(2, "psk: {file: %s}   # no matching PSK in ipsec.secrets: create it", q(o.SecretsDir+"/"+name+".psk"))
		case o.Inline:
			v := secretValue(ic.psk.Value)
			if o.Redact {
				v = "<redacted>"
			}
			w.line(2, "psk: {value: %s}", q(v))
		default:
			path := o.SecretsDir + "/" + name + ".psk"
			w.line(2, "psk: {file: %s}", q(path))
			v := secretValue(ic.psk.Value)
			if o.Redact {
				v = "<redacted>"
			}
			files = append(files, File{Path: path, Mode: 0o600, Data: []byte(v + "\n"), Secret: true})
		}
	default:
		w.line(2, "auth: {method: cert}")
	}
	switch p.version {
	case 0:
		addItem(Item{Pos: at, Severity: Info, Conn: ic.first.name,
			Message: "keyexchange=ike (IKEv2, IKEv1 accepted as responder) has no topology form: the tunnel uses IKEv2 only"})
	default:
		w.line(2, "version: %d", p.version)
	}
	w.line(2, "mobike: %t", p.mobike)
	if p.encap {
		w.line(2, "encap: true")
	}
	if p.aggressive {
		w.line(2, "aggressive: true")
	}
	w.line(2, "dpd: %s", durStrS(p.dpdDelay))
	first := ic.children[0]
	if first.dpdAction != "" {
		w.line(2, "dpd_action: %s", first.dpdAction)
	}
	if first.closeAction != "" {
		w.line(2, "close_action: %s", first.closeAction)
	}
	ike := p.rekeyTime
	if ike == 0 {
		ike = p.reauthTime
	}
	w.line(2, "lifetime: {ike: %s, child: %s}", durStrS(ike), durStrS(first.rekeyTime))
	if p.reauthTime > 0 {
		addItem(Item{Pos: at, Severity: Info, Conn: ic.first.name,
			Message: fmt.Sprintf("styx rekeys IKE SAs; the conn reauthenticated them (reauth=yes): lifetime.ike = %s is used as the rekey time", swanctl.Duration(ike))})
	}
	w.line(2, "children:")
	for _, ch := range ic.children {
		w.line(3, "- name: %s", topoName(ch.name))
		lts, lbad := tsForTopology(ch.localTS)
		rts, rbad := tsForTopology(ch.remoteTS)
		if bad := append(lbad, rbad...); len(bad) > 0 {
			addItem(Item{Pos: ch.conn.sec.Pos, Severity: Warning, Conn: ch.conn.name,
				Message: fmt.Sprintf("selectors %s have no topology form and are left out", strings.Join(bad, ", "))})
		}
		w.line(4, "ts:")
		if len(lts) > 0 {
			w.line(5, "%s: %s", me, qlist(lts))
		}
		if len(rts) > 0 {
			w.line(5, "%s: %s", peer.name, qlist(rts))
		}
		if ch.mode == "transport" {
			w.line(4, "mode: transport")
		}
		if ch.startAction != start && ch.startAction != "" {
			w.line(4, "start: %s", ch.startAction)
		}
		if ch.dpdAction != first.dpdAction || ch.closeAction != first.closeAction || ch.rekeyTime != first.rekeyTime {
			addItem(Item{Pos: ch.conn.sec.Pos, Severity: Warning, Conn: ch.conn.name,
				Message: fmt.Sprintf("its dpdaction, closeaction or lifetime differ from %s's; a topology tunnel has one value for all children", first.conn.name)})
		}
		r.notExpressible(ch.conn, addItem)
	}
	return files
}

func durStrS(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	return swanctl.Duration(d)
}

// notExpressible lists the keys a conn sets that the topology has no
// place for.
func (r *Result) notExpressible(c *starterConn, addItem func(Item), also ...string) {
	var keys []string
	for _, st := range c.effective {
		_, _, known := lookupKey(st.Key)
		_, dep := deprecatedKeys[st.Key]
		if !topoKeys[st.Key] && known && !dep && !slices.Contains(also, st.Key) {
			keys = append(keys, st.Key)
		}
	}
	if st := c.me.src["firewall"]; st != nil && c.me.updown == updownIptables {
		addItem(Item{Pos: st.KeyPos, Severity: Info, Conn: writtenIn(st), Key: st.Key,
			Message: "leftfirewall: no updown script in the fragment; styx renders the firewall rules for the tunnel (nftables or iptables) from the topology"})
	}
	if len(keys) > 0 {
		addItem(Item{Pos: c.sec.Pos, Severity: Warning, Conn: c.name,
			Message: "not expressible in the topology, left out of the fragment: " + strings.Join(keys, ", "),
			Hint:    "the swanctl conversion (--to swanctl) carries them over"})
	}
}

func (r *Result) writeRA(w *yamlWriter, ic *ikeConn, me string, o TopologyOptions, addItem func(Item)) []File {
	p := ic.params
	name := topoName(ic.name)
	var files []File
	var pools []string
	var dns []string
	for _, pn := range p.pools {
		for _, pc := range r.imp.pools {
			if pc.name == pn {
				if _, err := netip.ParsePrefix(pc.addrs); err == nil {
					pools = append(pools, pc.addrs)
				} else {
					addItem(Item{Pos: ic.first.sec.Pos, Severity: Warning, Conn: ic.first.name,
						Message: fmt.Sprintf("pool %s (%s) is a range; the topology takes prefixes: left out", pc.name, pc.addrs)})
				}
				dns = append(dns, pc.dns...)
			}
		}
	}
	w.line(1, "- name: %s", name)
	w.line(2, "gateway: %s", me)
	w.line(2, "pool: %s", qlist(pools))
	if len(dns) > 0 {
		w.line(2, "dns: %s", qlist(uniq(dns)))
	}
	split := ic.children[0].localTS
	if sp, _ := tsForTopology(split); len(sp) > 0 && !slices.Contains(sp, "dynamic") {
		w.line(2, "split: %s", qlist(sp))
	}
	w.line(2, "crypto: %s", name)
	ra := p.remote[0].auth
	switch {
	case strings.HasPrefix(ra, "eap"):
		if ra != "eap-mschapv2" {
			addItem(Item{Pos: ic.first.sec.Pos, Severity: Warning, Conn: ic.first.name,
				Message: fmt.Sprintf("remote auth %s: the topology supports eap-mschapv2 and certificates; written as eap-mschapv2", ra)})
		}
		w.line(2, "auth: eap-mschapv2")
		w.line(2, "users:")
		n := 0
		for _, e := range r.imp.secrets.Entries {
			if (e.Type != SecretEAP && e.Type != SecretXAUTH) || len(e.IDs) != 1 {
				continue
			}
			u := e.IDs[0]
			n++
			if o.Inline {
				v := secretValue(e.Value)
				if o.Redact {
					v = "<redacted>"
				}
				w.line(3, "%s: {password: {value: %s}}", q(u), q(v))
				continue
			}
			path := o.SecretsDir + "/eap-" + strings.Trim(idNameRE.ReplaceAllString(u, "-"), "-") + ".password"
			w.line(3, "%s: {password: {file: %s}}", q(u), q(path))
			v := string(e.Value)
			if o.Redact {
				v = "<redacted>"
			}
			files = append(files, File{Path: path, Mode: 0o600, Data: []byte(v + "\n"), Secret: true})
		}
		if n == 0 {
			w.line(3, "user: {password: {file: %s}}   # no EAP secrets found: add the users", q(o.SecretsDir+"/eap-user.password"))
		}
	default:
		w.line(2, "auth: cert")
	}
	for _, ch := range ic.children {
		// remote access carries the pool, its DNS servers and the EAP users
		r.notExpressible(ch.conn, addItem, "rightsourceip", "rightdns", "eap_identity", "leftsendcert")
	}
	return files
}
