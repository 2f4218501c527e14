package importer

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render/swanctl"
	"github.com/styx-vpn/styx/internal/topology"
)

// Result is a converted configuration.
type Result struct {
	Report *Report
	// Gateway is the plan the swanctl renderer writes; Patches adds what
	// the plan cannot express.
	Gateway *plan.Gateway

	imp           *importer
	confPatches   []patch
	secretPatches []patch
	values        map[*topology.Secret][]byte
	literal       map[*topology.Secret]bool
	// secretOf maps an ipsec.secrets entry to its plan secret.
	secretOf map[*SecretEntry]*plan.Secret
	// passphrases of private keys, by secret patch index
	passphrases [][]byte
	// topoReported is set once the topology items are in the report.
	topoReported bool
}

// nameConns names the IKE connections (after the first conn, as strongSwan
// does, or after a common also= template), makes child names unique and
// valid, and reports merges and renames.
func (imp *importer) nameConns() {
	used := map[string]bool{}
	for _, ic := range imp.conns {
		for _, ch := range ic.children {
			n := ch.name
			for i := 2; used[n]; i++ {
				n = ch.name + "-" + strconv.Itoa(i)
			}
			used[n] = true
			if n != ch.conn.name {
				imp.report.add(Item{Pos: ch.conn.sec.Pos, Severity: Info, Category: CatInfo, Conn: ch.conn.name,
					Message: fmt.Sprintf("conn name %q is not a valid swanctl section name; written as %q", ch.conn.name, n)})
			}
			ch.name = n
		}
	}
	loaded := map[string]bool{}
	for _, c := range imp.loaded {
		loaded[c.name] = true
	}
	ikeNames := map[string]bool{}
	for _, ic := range imp.conns {
		first := ic.children[0]
		name := first.name
		template := ""
		if len(ic.children) > 1 {
			template = commonTemplate(ic, loaded)
			if template != "" && !used[swanctlName(template)] && !ikeNames[swanctlName(template)] {
				name = swanctlName(template)
			} else {
				template = ""
			}
		}
		for i := 2; ikeNames[name]; i++ {
			name = first.name + "-" + strconv.Itoa(i)
		}
		ikeNames[name] = true
		ic.name = name
		if len(ic.children) > 1 {
			var names []string
			for _, ch := range ic.children {
				names = append(names, ch.conn.name)
			}
			msg := fmt.Sprintf("conns %s have identical IKE settings and share one IKE SA, as strongSwan merged them: one connection %q with %d children", strings.Join(names, ", "), name, len(names))
			if template != "" {
				msg += fmt.Sprintf(" (named after their common also= section %s; strongSwan named the IKE SA %s)", template, first.conn.name)
			}
			imp.report.add(Item{Pos: first.conn.sec.Pos, Severity: Info, Category: CatInfo, Conn: first.conn.name, Message: msg})
		}
	}
}

// commonTemplate returns the nearest also= section all conns of ic inherit
// from, if it is not loaded itself.
func commonTemplate(ic *ikeConn, loaded map[string]bool) string {
	for _, p := range ic.children[0].conn.sec.parents {
		if p.Name == "%default" || loaded[p.Name] {
			continue
		}
		all := true
		for _, ch := range ic.children[1:] {
			all = all && slices.Contains(ch.conn.sec.parents, p)
		}
		if all {
			return p.Name
		}
	}
	return ""
}

var idNameRE = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

// gatewayName is this gateway's name in the outputs.
func (imp *importer) gatewayName() string {
	if imp.opts.GatewayName != "" {
		return imp.opts.GatewayName
	}
	for _, ic := range imp.conns {
		if n := nameFromID(ic.localID); n != "" {
			return n
		}
	}
	return "local"
}

// nameFromID derives a topology name from an identity: @sitea -> sitea,
// vpn.example.org -> vpn; addresses and DNs give "".
func nameFromID(id string) string {
	i := parseIdent(id)
	switch i.typ {
	case "fqdn":
		v, _, _ := strings.Cut(i.val, ".")
		return topoName(v)
	case "email":
		v, _, _ := strings.Cut(i.val, "@")
		return topoName(v)
	}
	return ""
}

// build makes the plan.Gateway and the patches for swanctl.conf and the
// secrets file.
func (r *Result) build() {
	imp := r.imp
	gw := &plan.Gateway{Name: imp.gatewayName(), Dataplane: topology.Kernel}
	r.Gateway = gw
	r.values = map[*topology.Secret][]byte{}
	r.literal = map[*topology.Secret]bool{}
	r.secretOf = map[*SecretEntry]*plan.Secret{}
	base := filepath.Base(imp.opts.Conf)
	for _, ic := range imp.conns {
		r.buildConn(ic, base)
	}
	for _, p := range imp.pools {
		pool := &plan.Pool{Name: p.name}
		if pr, err := netip.ParsePrefix(p.addrs); err == nil {
			pool.Addrs = pr
		} else {
			r.confPatches = append(r.confPatches, setKV([]string{"pools", p.name}, "addrs", p.addrs))
		}
		for _, d := range p.dns {
			if a, err := netip.ParseAddr(d); err == nil {
				pool.DNS = append(pool.DNS, a)
			}
		}
		gw.Pools = append(gw.Pools, pool)
	}
	for _, ca := range imp.cas {
		b := &block{name: swanctlName(ca.name)}
		b.kv("cacert", quoteValue(ca.cacert))
		if len(ca.crlURIs) > 0 {
			b.kv("crl_uris", quoteList(ca.crlURIs))
		}
		if len(ca.ocspURIs) > 0 {
			b.kv("ocsp_uris", quoteList(ca.ocspURIs))
		}
		b.kv("cert_uri_base", quoteValue(ca.certURIBase))
		if ca.certURIBase == "" {
			b.kvs = slices.DeleteFunc(b.kvs, func(kv [2]string) bool { return kv[0] == "cert_uri_base" })
		}
		r.confPatches = append(r.confPatches, patch{path: []string{"authorities"}, sub: b})
	}
	r.buildSecrets()
}

func (r *Result) buildConn(ic *ikeConn, base string) {
	p := ic.params
	var names []string
	for _, ch := range ic.children {
		names = append(names, fmt.Sprintf("%s (%s:%d)", ch.conn.name, filepath.Base(ch.conn.sec.Pos.File), ch.conn.sec.Pos.Line))
	}
	origin := "ipsec.conf conn " + names[0]
	if len(names) > 1 {
		origin = "ipsec.conf conns " + strings.Join(names, ", ") + ": one IKE SA"
	}
	c := &plan.Conn{
		Name: ic.name, Origin: origin, Version: p.version,
		LocalAddrs: p.localAddrs, RemoteAddrs: p.remoteAddrs, Proposals: p.proposals, Pools: p.pools,
		DPDDelay: p.dpdDelay, RekeyTime: p.rekeyTime, Mobike: p.mobike, Encap: p.encap, Aggressive: p.aggressive,
		Unique: p.unique, KeyingTries: int(p.keyingTries), SendCert: p.sendCert, SendCertReq: p.sendCertReq,
		Initiator: slices.ContainsFunc(ic.children, func(ch *childCfg) bool { return ch.startAction != "" }),
	}
	c.Local = plan.AuthRound{Auth: p.local[0].auth, ID: p.local[0].id, EAPID: p.local[0].eapID, Certs: p.local[0].certs}
	c.Remote = plan.AuthRound{Auth: p.remote[0].auth, ID: p.remote[0].id, EAPID: p.remote[0].eapID, Certs: p.remote[0].certs}
	cp := []string{"connections", ic.name}
	set := func(path []string, k, v string) {
		if v != "" {
			r.confPatches = append(r.confPatches, setKV(path, k, v))
		}
	}
	set(cp, "reauth_time", durNonZero(p.reauthTime))
	set(cp, "over_time", swanctl.Duration(p.overTime))
	set(cp, "rand_time", swanctl.Duration(p.randTime))
	if p.localPort != 0 {
		set(cp, "local_port", strconv.FormatUint(p.localPort, 10))
	}
	if p.remotePort != 0 {
		set(cp, "remote_port", strconv.FormatUint(p.remotePort, 10))
	}
	if len(p.vips) > 0 {
		set(cp, "vips", quoteList(p.vips))
	}
	if !p.pull {
		set(cp, "pull", "no")
	}
	set(cp, "fragmentation", p.fragmentation)
	set(cp, "dscp", p.dscp)
	set(cp, "dpd_timeout", durNonZero(p.dpdTimeout))
	if p.mediation {
		set(cp, "mediation", "yes")
	}
	set(cp, "mediated_by", quoteValue2(p.mediatedBy))
	set(cp, "mediation_peer", quoteValue2(p.mediationPeer))
	roundExtras := func(path []string, a authRound, local bool) {
		set(path, "aaa_id", quoteValue2(a.aaaID))
		set(path, "xauth_id", quoteValue2(a.xauthID))
		if len(a.pubkeys) > 0 {
			set(path, "pubkeys", quoteList(a.pubkeys))
		}
		set(path, "ca_id", quoteValue2(a.caID))
		if len(a.groups) > 0 {
			set(path, "groups", quoteList(a.groups))
		}
		if len(a.certPolicy) > 0 {
			set(path, "cert_policy", quoteList(a.certPolicy))
		}
		set(path, "revocation", a.revocation)
	}
	roundExtras(append(cp, "local"), p.local[0], true)
	roundExtras(append(cp, "remote"), p.remote[0], false)
	second := func(name string, a authRound) {
		b := &block{name: name}
		b.kv("auth", a.auth)
		b.kv("id", quoteValue2(a.id))
		b.kv("eap_id", quoteValue2(a.eapID))
		b.kv("aaa_id", quoteValue2(a.aaaID))
		b.kv("xauth_id", quoteValue2(a.xauthID))
		if len(a.certs) > 0 {
			b.kv("certs", quoteList(a.certs))
		}
		b.kv("ca_id", quoteValue2(a.caID))
		if len(a.groups) > 0 {
			b.kv("groups", quoteList(a.groups))
		}
		b.kv("revocation", a.revocation)
		r.confPatches = append(r.confPatches, patch{path: cp, sub: b, before: "children"})
	}
	if len(p.local) > 1 {
		second("local-2", p.local[1])
	}
	if len(p.remote) > 1 {
		second("remote-2", p.remote[1])
	}
	for _, ch := range ic.children {
		pc := &plan.Child{
			Name: ch.name, Origin: fmt.Sprintf("ipsec.conf conn %s (%s:%d)", ch.conn.name, filepath.Base(ch.conn.sec.Pos.File), ch.conn.sec.Pos.Line),
			LocalTS: ch.localTS, RemoteTS: ch.remoteTS, Mode: ch.mode, ESPProposals: ch.esp,
			RekeyTime: ch.rekeyTime, StartAction: ch.startAction, DPDAction: ch.dpdAction, CloseAction: ch.closeAction,
		}
		if ch.startAction == "" {
			pc.StartAction = "none"
		}
		chp := append(slices.Clone(cp), "children", ch.name)
		set(chp, "life_time", swanctl.Duration(ch.lifeTime))
		set(chp, "rand_time", swanctl.Duration(ch.randTime))
		if ch.bytes[1] > 0 {
			set(chp, "rekey_bytes", strconv.FormatUint(ch.bytes[0], 10))
			set(chp, "life_bytes", strconv.FormatUint(ch.bytes[1], 10))
			set(chp, "rand_bytes", strconv.FormatUint(ch.bytes[2], 10))
		}
		if ch.packets[1] > 0 {
			set(chp, "rekey_packets", strconv.FormatUint(ch.packets[0], 10))
			set(chp, "life_packets", strconv.FormatUint(ch.packets[1], 10))
			set(chp, "rand_packets", strconv.FormatUint(ch.packets[2], 10))
		}
		if len(ch.ah) > 0 {
			set(chp, "ah_proposals", quoteList(ch.ah))
		}
		set(chp, "mark_in", ch.markIn)
		set(chp, "mark_out", ch.markOut)
		set(chp, "if_id_in", ch.ifIDIn)
		set(chp, "if_id_out", ch.ifIDOut)
		if ch.reqid != 0 {
			set(chp, "reqid", strconv.FormatUint(ch.reqid, 10))
		}
		if ch.replay >= 0 {
			set(chp, "replay_window", strconv.FormatInt(ch.replay, 10))
		}
		set(chp, "tfc_padding", ch.tfc)
		set(chp, "inactivity", durNonZero(ch.inactivity))
		if ch.ipcomp {
			set(chp, "ipcomp", "yes")
		}
		if ch.noPolicies {
			set(chp, "policies", "no")
		}
		if ch.hostaccess {
			set(chp, "hostaccess", "yes")
		}
		if ch.sha256_96 {
			set(chp, "sha256_96", "yes")
		}
		set(chp, "updown", quoteValue2(ch.updown))
		c.Children = append(c.Children, pc)
	}
	r.Gateway.Conns = append(r.Gateway.Conns, c)
}

func durNonZero(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return swanctl.Duration(d)
}

func quoteValue2(v string) string {
	if v == "" {
		return ""
	}
	return quoteValue(v)
}

// buildSecrets turns the shared secrets of ipsec.secrets into plan secrets
// (every one of them, as stroke loads them all) and the key references
// into private key sections where a passphrase is needed.
func (r *Result) buildSecrets() {
	imp := r.imp
	names := map[string]bool{}
	uniqueName := func(n string) string {
		out := n
		for i := 2; names[out]; i++ {
			out = n + "-" + strconv.Itoa(i)
		}
		names[out] = true
		return out
	}
	for _, e := range imp.secrets.Entries {
		switch e.Type {
		case SecretPSK, SecretEAP, SecretXAUTH, SecretNTLM:
			prefix := map[string]string{SecretPSK: "ike", SecretEAP: "eap", SecretXAUTH: "xauth", SecretNTLM: "ntlm"}[e.Type]
			var parts []string
			for _, id := range e.IDs {
				parts = append(parts, strings.Trim(idNameRE.ReplaceAllString(strings.TrimLeft(id, "@"), "-"), "-"))
			}
			label := strings.Join(parts, "-")
			if len(label) > 40 {
				label = strings.TrimRight(label[:40], "-")
			}
			if label == "" || label == "any" {
				label = "any"
			}
			src := &topology.Secret{At: diagPos(e.ValuePos)}
			r.values[src] = e.Value
			kind := "ike"
			if prefix != "ike" && len(e.IDs) == 1 {
				kind = "eap"
			}
			if kind == "eap" {
				r.literal[src] = true // passwords reach swanctl as their bytes
			}
			ps := &plan.Secret{Name: uniqueName(prefix + "-" + label), Kind: kind, IDs: e.IDs, Source: src}
			r.Gateway.Secrets = append(r.Gateway.Secrets, ps)
			r.secretOf[e] = ps
			if e.Type == SecretNTLM {
				imp.report.add(Item{Pos: e.Pos, Severity: Info, Category: CatSecrets,
					Message: "NTLM secret converted to secrets." + ps.Name})
			}
		case SecretRSA, SecretECDSA, SecretPKCS8, SecretP12:
			dir := map[string]string{SecretRSA: "rsa", SecretECDSA: "ecdsa", SecretPKCS8: "pkcs8", SecretP12: "pkcs12"}[e.Type]
			if len(e.IDs) > 0 {
				imp.report.add(Item{Pos: e.Pos, Severity: Info, Category: CatSecrets,
					Message: fmt.Sprintf("the ids before ': %s' are ignored by strongSwan for key files", e.Type)})
			}
			imp.report.add(Item{Pos: e.ValuePos, Severity: Info, Category: CatFiles,
				Message: fmt.Sprintf("copy %s to /etc/swanctl/%s/%s (swanctl --load-creds loads every key there)", e.Path, dir, baseName(e.File))})
			switch {
			case e.Prompt:
				imp.report.add(Item{Pos: e.ValuePos, Severity: Info, Category: CatSecrets,
					Message: fmt.Sprintf("%s %s is protected with %%prompt: swanctl --load-creds asks for the passphrase (not with --noprompt)", e.Type, e.File)})
			case len(e.Passphrases) > 0:
				b := &block{name: uniqueName(dir + "-" + strings.Trim(idNameRE.ReplaceAllString(strings.TrimSuffix(baseName(e.File), filepath.Ext(e.File)), "-"), "-"))}
				b.kv("file", quoteValue(baseName(e.File)))
				b.kv("secret", "\x00"+strconv.Itoa(len(r.secretPatches))) // filled in when rendering
				r.secretPatches = append(r.secretPatches, patch{path: []string{"secrets"}, sub: b})
				r.passphrases = append(r.passphrases, e.Passphrases[0])
				if len(e.Passphrases) > 1 {
					imp.report.add(Item{Pos: e.ValuePos, Severity: Warning, Category: CatNoEquivalent,
						Message: "the second passphrase (PKCS#12 MAC password) has no swanctl equivalent; not carried over"})
				}
			}
		case SecretPIN:
			imp.report.add(Item{Pos: e.Pos, Severity: Warning, Category: CatNoEquivalent,
				Message: "PIN (smartcard) secret is not carried over",
				Hint:    "write secrets.token<suffix> { handle = ..., slot = ..., module = ..., pin = ... } by hand"})
		}
	}
}

// SecretValue returns the canonical swanctl encoding of a secret's bytes.
func secretValue(b []byte) string { return "0s" + base64.StdEncoding.EncodeToString(b) }

// Swanctl renders swanctl.conf and the secrets file. With redact, secret
// values are written as <redacted>.
func (r *Result) Swanctl(redact bool) (conf, secrets []byte, err error) {
	src := filepath.Base(r.imp.opts.Conf)
	text := string(swanctl.Config(r.Gateway, src))
	text = r.header(text, "swanctl.conf")
	text = applyPatches(text, r.confPatches)
	sec, err := swanctl.Secrets(r.Gateway, src, r, redact)
	if err != nil {
		return nil, nil, err
	}
	stext := r.header(string(sec), "swanctl secrets")
	var ps []patch
	for i, p := range r.secretPatches {
		p.sub = cloneBlock(p.sub)
		for j, kv := range p.sub.kvs {
			if strings.HasPrefix(kv[1], "\x00") {
				v := swanctl.Redacted
				if !redact {
					v = secretValue(r.passphrases[i])
				}
				p.sub.kvs[j][1] = v
			}
		}
		ps = append(ps, p)
	}
	stext = applyPatches(stext, ps)
	return []byte(text), []byte(stext), nil
}

func cloneBlock(b *block) *block {
	c := &block{name: b.name, kvs: slices.Clone(b.kvs)}
	for _, s := range b.subs {
		c.subs = append(c.subs, cloneBlock(s))
	}
	return c
}

// header replaces the renderer's first comment line (which tells to run
// styx render again) with one that names the import.
func (r *Result) header(text, what string) string {
	first, rest, _ := strings.Cut(text, "\n")
	if strings.HasPrefix(first, "# ") {
		first = fmt.Sprintf("# %s for gateway %s, converted by styx import from %s; review the import report.", what, r.Gateway.Name, filepath.Base(r.imp.opts.Conf))
	}
	return first + "\n" + rest
}

// ReadSecret implements swanctl.SecretReader with the values read from
// ipsec.secrets, always as 0s<base64> so that no value is misread.
func (r *Result) ReadSecret(s *topology.Secret) ([]byte, error) {
	v, ok := r.values[s]
	if !ok {
		return nil, fmt.Errorf("no value")
	}
	if r.literal[s] {
		return v, nil // swanctl.SecretValue encodes EAP passwords itself
	}
	return []byte(secretValue(v)), nil
}

// pskInput is how CheckPSK should see a secret's bytes.
func pskInput(e *SecretEntry) string {
	switch e.Encoding {
	case "hex":
		return "0x" + fmt.Sprintf("%x", e.Value)
	case "base64":
		return secretValue(e.Value)
	}
	v := string(e.Value)
	if l := strings.ToLower(v); strings.HasPrefix(l, "0x") || strings.HasPrefix(l, "0s") {
		return secretValue(e.Value)
	}
	return v
}

func diagPos(p Pos) diag.Pos { return diag.Pos{Line: p.Line, Col: p.Col} }

// Reference is a credential file the converted configuration refers to,
// relative to a swanctl directory (x509, x509ca, pubkey, rsa, ecdsa,
// pkcs8, pkcs12).
type Reference struct {
	Dir  string
	Name string
	// ID is the identity the certificate or key is for, if known.
	ID string
}

// References lists the certificate and key files swanctl.conf and the
// secrets file refer to (they have to be copied from /etc/ipsec.d).
func (r *Result) References() []Reference {
	var out []Reference
	add := func(ref Reference) {
		if !slices.Contains(out, ref) {
			out = append(out, ref)
		}
	}
	for _, ic := range r.imp.conns {
		rounds := append(slices.Clone(ic.params.local), ic.params.remote...)
		for i, a := range rounds {
			id := a.id
			if id == "" && i < len(ic.params.local) {
				id = ic.localID
			}
			for _, c := range a.certs {
				add(Reference{Dir: "x509", Name: c, ID: id})
			}
			for _, k := range a.pubkeys {
				add(Reference{Dir: "pubkey", Name: k, ID: id})
			}
		}
	}
	for _, ca := range r.imp.cas {
		add(Reference{Dir: "x509ca", Name: ca.cacert})
	}
	for _, e := range r.imp.secrets.Entries {
		dir := map[string]string{SecretRSA: "rsa", SecretECDSA: "ecdsa", SecretPKCS8: "pkcs8", SecretP12: "pkcs12"}[e.Type]
		if dir != "" {
			add(Reference{Dir: dir, Name: baseName(e.File)})
		}
	}
	return out
}
