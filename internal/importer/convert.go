package importer

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/styx-vpn/styx/internal/crypto"
)

// Options configure an import.
type Options struct {
	FS      FS     // nil: the OS
	Conf    string // ipsec.conf
	Secrets string // ipsec.secrets, optional
	// GatewayName names this gateway in the output (default: derived from
	// its identity).
	GatewayName string
	// LocalAddrs are this gateway's addresses: the side of a conn whose
	// address is among them is the local one.
	LocalAddrs []netip.Addr
	// AddrsFromInterfaces says LocalAddrs were read from this host's
	// interfaces rather than given by the user.
	AddrsFromInterfaces bool
	// LocalIDs are this gateway's IKE identities (decide left/right when
	// the addresses do not).
	LocalIDs []string
	// Lenient turns unknown keys into warnings and skips conns with invalid
	// values (as strongSwan does) instead of failing.
	Lenient bool
	// Profile is the crypto lint profile (default modern).
	Profile crypto.Profile
}

// ErrInput wraps every error about unreadable or unparsable input.
var ErrInput = errors.New("input cannot be read or parsed")

type importer struct {
	opts    Options
	conf    *Config
	secrets *Secrets
	report  *Report
	setup   setupCfg
	conns   []*ikeConn
	cas     []*caCfg
	// mapped records (conn, setting) pairs that were carried over or
	// reported, for the no-silent-drop check.
	mapped map[connKey]bool
	// pools by their ipsec.conf token (shared across conns, as stroke does).
	pools []*poolCfg
	// loaded are the converted conns in load order.
	loaded []*starterConn
}

type connKey struct {
	conn string
	st   *Setting
}

// used records that st of conn was mapped to target.
func (imp *importer) used(st *Setting, conn, target string) {
	if st == nil {
		return
	}
	imp.mapped[connKey{conn, st}] = true
	imp.report.Mappings = append(imp.report.Mappings, Mapping{Pos: st.KeyPos, Conn: conn, Key: st.Key, Value: st.Value, Target: target})
}

// Import reads and converts the configuration. The error is non-nil only
// if the input cannot be read or parsed (it wraps ErrInput); conversion
// problems are report items (Result.Report.HasErrors).
func Import(opts Options) (*Result, error) {
	if opts.FS == nil {
		opts.FS = OSFS{}
	}
	if opts.Profile == "" {
		opts.Profile = crypto.Modern
	}
	conf, err := ParseConf(opts.FS, opts.Conf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInput, err)
	}
	imp := &importer{opts: opts, conf: conf, report: &Report{Input: opts.Conf, Secrets: opts.Secrets}, mapped: map[connKey]bool{}}
	imp.report.Items = append(imp.report.Items, conf.Items...)
	if opts.Secrets != "" {
		s, err := ParseSecrets(opts.FS, opts.Secrets)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInput, err)
		}
		imp.secrets = s
		imp.report.Items = append(imp.report.Items, s.Items...)
	} else {
		imp.secrets = &Secrets{}
	}
	imp.readSetup()
	imp.readCAs()
	for _, sec := range conf.Conns {
		if sec.Name == "%default" {
			continue
		}
		imp.conn(sec)
	}
	imp.nameConns()
	imp.checkAllMapped()
	res := &Result{imp: imp, Report: imp.report}
	res.build()
	res.secretsReport()
	imp.summary()
	return res, nil
}

func (imp *importer) readSetup() {
	imp.setup = setupCfg{uniqueids: 1, src: map[string]*Setting{}}
	for _, st := range Effective(imp.conf.Setup) {
		key, v := st.Key, st.Value
		if kind, dep := deprecatedKeys[key]; dep && kind == KindSetup {
			msg := fmt.Sprintf("%s is deprecated; strongSwan 5 ignores it", key)
			if n := deprecatedNote[key]; n != "" {
				msg += " (" + n + ")"
			}
			imp.report.add(Item{Pos: st.KeyPos, Severity: Warning, Category: CatDeprecated, Key: key, Message: msg})
			continue
		}
		info, _, ok := lookupKey(key)
		if !ok {
			if _, dep := deprecatedKeys[key]; !dep {
				imp.unknownKey(st, "", "config setup")
				continue
			}
		}
		if !ok || info.Kind != KindSetup {
			imp.report.add(Item{Pos: st.KeyPos, Severity: Error, Category: CatValue, Key: key,
				Message: fmt.Sprintf("%s is not allowed in config setup; strongSwan refuses to start with this file", key)})
			continue
		}
		imp.setup.src[key] = st
		bad := func(list []string) {
			imp.report.add(Item{Pos: st.ValuePos, Severity: Error, Category: CatValue, Key: key,
				Message: fmt.Sprintf("bad value %s=%s (expected one of: %s); strongSwan refuses to start with this file", key, v, strings.Join(list, ", "))})
		}
		switch key {
		case "charondebug":
			imp.report.add(Item{Pos: st.KeyPos, Severity: Warning, Category: CatNoEquivalent, Key: key,
				Message: fmt.Sprintf("charondebug=%s has no swanctl equivalent: log levels are set in strongswan.conf", v),
				Hint:    "e.g. charon { syslog { daemon { default = 1  ike = 2 } } } in /etc/strongswan.d/charon-logging.conf"})
		case "uniqueids":
			if i := enumIndex(lstUnique, v); i >= 0 {
				imp.setup.uniqueids = i
			} else {
				bad(lstUnique)
			}
		case "cachecrls":
			if i := enumIndex(lstBool, v); i < 0 {
				bad(lstBool)
			} else if i == 1 {
				imp.report.add(Item{Pos: st.KeyPos, Severity: Warning, Category: CatNoEquivalent, Key: key,
					Message: "cachecrls=yes has no swanctl equivalent: CRL caching is set in strongswan.conf",
					Hint:    "charon { cache_crls = yes } (fetched CRLs are then stored in /etc/swanctl/x509crl)"})
			}
		case "strictcrlpolicy":
			if i := enumIndex(lstStrict, v); i >= 0 {
				imp.setup.strictcrlpolicy = i
			} else {
				bad(lstStrict)
			}
		}
	}
}

// caCfg is a ca section.
type caCfg struct {
	name        string
	sec         *Section
	cacert      string
	crlURIs     []string
	ocspURIs    []string
	certURIBase string
}

func (imp *importer) readCAs() {
	for _, sec := range imp.conf.CAs {
		if sec.Name == "%default" {
			continue
		}
		ca := &caCfg{name: sec.Name, sec: sec}
		startup := AutoIgnore
		var errs []Item
		src := map[string]*Setting{}
		for _, st := range Effective(sec) {
			key, v := st.Key, st.Value
			if kind, dep := deprecatedKeys[key]; dep && kind == KindCA {
				imp.report.add(Item{Pos: st.KeyPos, Severity: Warning, Category: CatDeprecated, Conn: "ca " + sec.Name, Key: key,
					Message: fmt.Sprintf("%s is deprecated; strongSwan 5 ignores it", key)})
				continue
			}
			info, _, ok := lookupKey(key)
			if !ok {
				imp.unknownKey(st, "ca "+sec.Name, "a ca section")
				continue
			}
			if key == "auto" {
				if i := enumIndex(startupNames, v); i >= 0 {
					startup = Startup(i)
				} else {
					errs = append(errs, Item{Pos: st.ValuePos, Severity: Error, Category: CatValue, Conn: "ca " + sec.Name, Key: key,
						Message: fmt.Sprintf("bad value auto=%s", v)})
				}
				continue
			}
			if info.Kind != KindCA {
				errs = append(errs, Item{Pos: st.KeyPos, Severity: Error, Category: CatValue, Conn: "ca " + sec.Name, Key: key,
					Message: fmt.Sprintf("%s is not allowed in a ca section; strongSwan ignores the ca", key)})
				continue
			}
			src[info.token()] = st
			switch info.token() {
			case "cacert":
				ca.cacert = v
			case "crluri", "crluri2":
				ca.crlURIs = append(ca.crlURIs, v)
			case "ocspuri", "ocspuri2":
				ca.ocspURIs = append(ca.ocspURIs, v)
			case "certuribase":
				ca.certURIBase = v
			}
		}
		if len(errs) > 0 {
			for _, e := range errs {
				if imp.opts.Lenient {
					e.Severity = Warning
					e.Hint = "strongSwan ignores this ca section; it is not converted"
				}
				imp.report.add(e)
			}
			continue
		}
		if startup == AutoIgnore {
			imp.report.add(Item{Pos: sec.Pos, Severity: Info, Category: CatInfo, Conn: "ca " + sec.Name,
				Message: "not loaded (auto=ignore, the default for ca sections); not converted"})
			continue
		}
		if ca.cacert == "" {
			imp.report.add(Item{Pos: sec.Pos, Severity: Warning, Category: CatNoEquivalent, Conn: "ca " + sec.Name,
				Message: "ca section without cacert: strongSwan ignores it; not converted"})
			continue
		}
		if strings.HasPrefix(ca.cacert, "%smartcard") {
			imp.report.add(Item{Pos: src["cacert"].ValuePos, Severity: Warning, Category: CatNoEquivalent, Conn: "ca " + sec.Name,
				Message: fmt.Sprintf("cacert=%s (a smartcard) is not converted", ca.cacert),
				Hint:    "write authorities." + sec.Name + " { handle = ..., slot = ..., module = ... } by hand"})
			continue
		}
		imp.report.add(Item{Pos: src["cacert"].ValuePos, Severity: Info, Category: CatFiles, Conn: "ca " + sec.Name,
			Message: fmt.Sprintf("copy %s to /etc/swanctl/x509ca/%s (authorities.%s.cacert)", resolvePath("/etc/ipsec.d/cacerts", ca.cacert), baseName(ca.cacert), swanctlName(sec.Name))})
		imp.cas = append(imp.cas, ca)
	}
}

func resolvePath(dir, p string) string {
	if strings.HasPrefix(p, "/") {
		return p
	}
	return dir + "/" + p
}

func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

var swanctlNameRE = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// swanctlName makes a conn name usable as a swanctl section name.
func swanctlName(s string) string {
	n := swanctlNameRE.ReplaceAllString(s, "-")
	if n == "" {
		n = "conn"
	}
	return n
}

// conn reads one conn section and converts it if strongSwan would load it.
func (imp *importer) conn(sec *Section) {
	sub := &importer{opts: imp.opts, conf: imp.conf, report: &Report{}, mapped: imp.mapped}
	c := sub.readConn(sec)
	badAuto := false
	if st := c.src["auto"]; st != nil && enumIndex(startupNames, st.Value) < 0 {
		badAuto = true
	}
	if c.startup == AutoIgnore && !badAuto {
		templateOf := []string{}
		for _, other := range imp.conf.Conns {
			for _, p := range other.parents {
				if p == sec {
					templateOf = append(templateOf, other.Name)
				}
			}
		}
		msg := "not loaded (auto=ignore is the default); not converted"
		if len(templateOf) > 0 {
			msg = fmt.Sprintf("not loaded (auto=ignore); used as a template (also=) by %s", strings.Join(templateOf, ", "))
		}
		imp.report.add(Item{Pos: sec.Pos, Severity: Info, Category: CatInfo, Conn: sec.Name, Message: msg})
		return
	}
	imp.report.Items = append(imp.report.Items, sub.report.Items...)
	imp.report.Mappings = append(imp.report.Mappings, sub.report.Mappings...)
	if len(c.errors) > 0 {
		// also say which proposals strongSwan would reject
		for _, k := range []string{"ike", "esp", "ah"} {
			if st := c.src[k]; st != nil {
				kind := map[string]crypto.Kind{"ike": crypto.IKE, "esp": crypto.ESP, "ah": crypto.AH}[k]
				c.errors = append(c.errors, invalidProposals(c, st, kind)...)
			}
		}
		for _, e := range c.errors {
			if imp.opts.Lenient {
				e.Severity = Warning
				e.Hint = "strongSwan ignores this conn; it is not converted"
			}
			imp.report.add(e)
		}
		return
	}
	imp.convertConn(c)
}

// checkAllMapped makes sure every effective setting of every converted
// conn was either carried over or reported.
func (imp *importer) checkAllMapped() {
	for _, c := range imp.loaded {
		for _, st := range c.effective {
			if !imp.mapped[connKey{c.name, st}] {
				imp.report.add(Item{Pos: st.KeyPos, Severity: Warning, Category: CatNoEquivalent, Conn: c.name, Key: st.Key,
					Message: fmt.Sprintf("%s=%s is not carried over", st.Key, st.Value)})
			}
		}
	}
}

func (imp *importer) summary() {
	n := 0
	for _, ic := range imp.conns {
		n += len(ic.children)
	}
	imp.report.Notes = append(imp.report.Notes,
		fmt.Sprintf("%d conn(s) converted into %d IKE connection(s); %d ca section(s); %d secret(s) read", n, len(imp.conns), len(imp.cas), len(imp.secrets.Entries)))
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func uniq(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
