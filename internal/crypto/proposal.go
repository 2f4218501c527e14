package crypto

import (
	"fmt"
	"strings"
)

// Proposal is a parsed proposal (one element of a swanctl proposals list).
//
// The keyword fields hold canonical keywords (aliases resolved, e.g. "aes"
// becomes "aes128", "x25519" becomes "curve25519") in the order written,
// sorted by transform type. They include keywords that strongSwan strips
// (integrity in AEAD proposals, PRFs in ESP/AH, none in IKE); Check reports
// those with RuleIgnored. Misspelled keywords that could be corrected (wrong
// case, trailing '!') appear in their corrected form.
type Proposal struct {
	Text       string   // as written
	Encryption []string // canonical keywords in order, e.g. "aes256gcm16"
	Integrity  []string
	PRF        []string // explicit prf keywords; see EffectivePRF
	KE         []string // key exchange methods incl. "none" and "keN_x" entries
	ESN        []string
	AEAD       bool // all encryption algorithms are AEAD (and there is at least one)
}

// EffectivePRF returns the PRFs strongSwan would use for an IKE proposal:
// explicit ones, else those implied by the integrity algorithms (table in
// baseline §4.5; strongSwan derives them before it strips integrity from AEAD
// proposals). It returns nil if there are none.
func (p Proposal) EffectivePRF() []string {
	if len(p.PRF) > 0 {
		return append([]string(nil), p.PRF...)
	}
	var out []string
	for _, in := range p.Integrity {
		k, ok := lookup(in)
		if !ok || k.prf == "" || contains(out, k.prf) {
			continue
		}
		out = append(out, k.prf)
	}
	return out
}

// HasPFS reports whether an ESP/AH proposal carries a mandatory key exchange
// (a KE other than none). A "none" among the key exchange methods makes the
// key exchange optional, so HasPFS is false then. Additional keN_ methods
// are not considered.
func (p Proposal) HasPFS() bool {
	has := false
	for _, ke := range p.KE {
		switch {
		case ke == "none":
			return false
		case !isAdditional(ke):
			has = true
		}
	}
	return has
}

// isAdditional reports whether a canonical KE entry is a keN_ method.
func isAdditional(s string) bool {
	return len(s) > 4 && s[:2] == "ke" && s[3] == '_'
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// IsDefault reports whether a proposals list element is the swanctl keyword
// "default" (case-insensitive), which expands to strongSwan's defaults.
func IsDefault(s string) bool {
	return strings.EqualFold(strings.Trim(s, " "), "default")
}

// token is one dash-separated keyword of a proposal.
type token struct {
	text     string   // as written, spaces trimmed
	kw       *keyword // nil if unresolved
	addl     int      // N of keN_, 0 for a primary keyword
	canon    string   // canonical form stored in Proposal
	invalid  bool     // reported with RuleInvalid (resolved or not)
	stripped bool     // strongSwan removes it from the proposal
}

// posFinding is a finding with its sort position: the token index, or the
// number of tokens for findings about the whole proposal.
type posFinding struct {
	pos int
	f   Finding
}

// parsed is the internal result of parsing one proposal.
type parsed struct {
	p          Proposal
	toks       []token
	findings   []posFinding // RuleInvalid only
	unresolved bool         // a token could not be resolved at all
	structural bool         // a proposal-level RuleInvalid was reported
	noInteg    bool         // P1: classic ESP without integrity
}

// resolveExact resolves a keyword exactly as strongSwan 6.0 would: the
// static table, then keN_<method> (prefix case-insensitive, N = 1..7).
func resolveExact(s string) (k *keyword, addl int, ok bool) {
	if k, ok := lookup(s); ok {
		return k, 0, true
	}
	if len(s) > 4 && strings.EqualFold(s[:2], "ke") && s[2] >= '1' && s[2] <= '7' && s[3] == '_' {
		if k, ok := lookup(s[4:]); ok && k.t == tKE {
			return k, int(s[2] - '0'), true
		}
	}
	return nil, 0, false
}

// canonical returns the canonical spelling of a resolved keyword.
func canonical(k *keyword, addl int) string {
	if addl > 0 {
		return fmt.Sprintf("ke%d_%s", addl, k.name)
	}
	return k.name
}

// ParseProposal parses one proposal in swanctl syntax (dash separated). It
// returns the parsed proposal and the findings that make it invalid for
// strongSwan 5.9.8 (RuleInvalid, e.g. unknown keyword with a did-you-mean
// hint, case errors like "AES256", a trailing '!', mixed AEAD/classic). It
// never panics on any input.
//
// The list element "default" is not a proposal; ParseProposal returns it
// with no findings (see IsDefault; Check reports it with RuleDefaults).
func ParseProposal(kind Kind, s string) (Proposal, []Finding) {
	if IsDefault(s) {
		return Proposal{Text: s}, nil
	}
	ps := parse(kind, s)
	var out []Finding
	for _, f := range ps.findings {
		out = append(out, f.f)
	}
	return ps.p, out
}

// parse tokenises like strongSwan's enumerator_create_token(s, "-", " ")
// (empty tokens are skipped, spaces trimmed) and applies check_proposal().
func parse(kind Kind, s string) *parsed {
	ps := &parsed{p: Proposal{Text: s}}
	for _, raw := range strings.Split(s, "-") {
		if t := strings.Trim(raw, " "); t != "" {
			ps.toks = append(ps.toks, token{text: t})
		}
	}
	if len(ps.toks) == 0 {
		ps.structural = true
		ps.add(0, "", "empty proposal", "remove the empty entry or write a proposal such as "+example(kind))
		return ps
	}
	for i := range ps.toks {
		ps.resolve(i, kind)
	}
	ps.assign(kind)
	if !ps.unresolved {
		ps.check(kind)
	}
	return ps
}

// add records a RuleInvalid finding at pos.
func (ps *parsed) add(pos int, kw, msg, hint string) {
	ps.findings = append(ps.findings, posFinding{pos, Finding{
		Severity: Error, Rule: RuleInvalid, Keyword: kw, Message: msg, Hint: hint}})
}

// resolve looks up token i, reporting keywords 5.9.8 rejects. Tokens whose
// intended keyword is clear (6.0-only keywords, wrong case, trailing '!')
// are resolved anyway so that the remaining checks do not cascade.
func (ps *parsed) resolve(i int, kind Kind) {
	t := &ps.toks[i]
	q := fmt.Sprintf("%q", t.text)
	set := func(k *keyword, addl int) {
		t.kw, t.addl, t.canon = k, addl, canonical(k, addl)
	}
	if k, addl, ok := resolveExact(t.text); ok {
		set(k, addl)
		if k.v6 || addl > 0 {
			t.invalid = true
			what := "ML-KEM needs"
			switch {
			case addl > 0:
				what = "additional key exchanges need"
			case k.name[:4] == "gost":
				what = "GOST key exchange needs"
			}
			ps.add(i, t.text, fmt.Sprintf("%s is not recognized by strongSwan %s (%s strongSwan 6.0)", q, TargetVersion, what),
				"needs strongSwan 6.0; on "+TargetVersion+" remove it and use a classic key exchange such as ecp384")
		}
		return
	}
	t.invalid = true
	bare := strings.TrimRight(t.text, "!")
	if bare != t.text {
		hint := "swanctl has no '!': configured proposals are already strict, so remove it"
		if bare == "" {
			ps.add(i, t.text, fmt.Sprintf("%s is not a keyword: '!' is ipsec.conf syntax", q), hint)
			return
		}
		if k, addl, ok := resolveExact(bare); ok && !k.v6 && addl == 0 {
			set(k, 0)
			ps.add(i, t.text, fmt.Sprintf("%s is not recognized: swanctl has no '!' suffix (ipsec.conf syntax)", q), hint)
			return
		}
	}
	if k, addl, ok := resolveExact(strings.ToLower(bare)); ok && !k.v6 && addl == 0 {
		set(k, 0)
		ps.add(i, t.text, fmt.Sprintf("%s is not recognized: strongSwan keywords are case-sensitive", q),
			fmt.Sprintf("write %q", k.nameAsWritten(strings.ToLower(bare))))
		return
	}
	ps.unresolved = true
	msg, hint := unknownKeyword(t.text)
	ps.add(i, t.text, msg, hint)
}

// nameAsWritten keeps an alias spelling if s is one, else the canonical name.
func (k *keyword) nameAsWritten(s string) string {
	if _, ok := keywords[s]; ok {
		return s
	}
	return k.name
}

// assign sorts the resolved tokens into the Proposal fields.
func (ps *parsed) assign(kind Kind) {
	p := &ps.p
	anyAEAD, allAEAD := false, true
	for _, t := range ps.toks {
		if t.kw == nil {
			continue
		}
		switch t.kw.t {
		case tEncr:
			p.Encryption = append(p.Encryption, t.canon)
			if t.kw.aead {
				anyAEAD = true
			} else {
				allAEAD = false
			}
		case tInteg:
			p.Integrity = append(p.Integrity, t.canon)
		case tPRF:
			p.PRF = append(p.PRF, t.canon)
		case tKE:
			p.KE = append(p.KE, t.canon)
		case tESN:
			p.ESN = append(p.ESN, t.canon)
		}
	}
	p.AEAD = anyAEAD && allAEAD
	for i := range ps.toks {
		t := &ps.toks[i]
		if t.kw == nil {
			continue
		}
		switch {
		case t.kw.t == tInteg && kind != AH && p.AEAD,
			t.kw.t == tPRF && kind != IKE,
			t.kw.t == tEncr && kind == AH && !t.kw.gmac,
			t.kw.none && kind == IKE && t.addl == 0:
			t.stripped = true
		}
	}
}

// check applies the proposal-level rules of check_proposal() (P2-P4) and
// notes P1. Unlike strongSwan it reports every problem, not just the first.
func (ps *parsed) check(kind Kind) {
	p, end := &ps.p, len(ps.toks)
	q := fmt.Sprintf("%q", p.Text)
	fail := func(msg, hint string) {
		ps.structural = true
		ps.add(end, "", msg, hint)
	}
	mixed := len(p.Encryption) > 0 && !p.AEAD && ps.anyAEAD()
	switch kind {
	case IKE:
		if len(p.Encryption) == 0 {
			fail(fmt.Sprintf("proposal %s has no encryption algorithm (an encryption algorithm is mandatory in IKE proposals)", q),
				"add an encryption algorithm, e.g. "+example(IKE))
		}
		if mixed {
			fail(fmt.Sprintf("proposal %s mixes classic and AEAD encryption algorithms, which strongSwan rejects", q),
				"split it into two proposals, e.g. aes256gcm16-prfsha384-ecp384, aes256-sha384-ecp384")
		}
		classicNoInteg := len(p.Encryption) > 0 && !p.AEAD && !mixed && len(p.Integrity) == 0
		if classicNoInteg {
			fail(fmt.Sprintf("proposal %s has classic encryption but no integrity algorithm (an integrity algorithm is mandatory in IKE proposals with classic encryption)", q),
				"add sha256 or sha384, or use an AEAD cipher such as aes256gcm16 with prfsha384")
		}
		if len(p.EffectivePRF()) == 0 && !classicNoInteg {
			if p.AEAD {
				fail(fmt.Sprintf("proposal %s uses an AEAD cipher but names no PRF (a PRF algorithm is mandatory in IKE proposals)", q),
					"add a prf keyword, e.g. aes256gcm16-prfsha384-ecp384")
			} else {
				fail(fmt.Sprintf("proposal %s has no PRF and its integrity algorithms imply none (a PRF algorithm is mandatory in IKE proposals)", q),
					"add prfsha256 or prfsha384, or use sha256 or sha384 integrity")
			}
		}
		if !ps.hasPrimaryKE() {
			msg := fmt.Sprintf("proposal %s has no key exchange method (a DH group is mandatory in IKE proposals)", q)
			if contains(p.KE, "none") {
				msg = fmt.Sprintf("proposal %s has no key exchange method other than \"none\", which IKE proposals drop (a DH group is mandatory in IKE proposals)", q)
			}
			fail(msg, "add a key exchange method such as ecp384 or curve25519")
		}
	case ESP:
		if len(p.Encryption) == 0 {
			fail(fmt.Sprintf("proposal %s has no encryption algorithm (an encryption algorithm is mandatory in ESP proposals)", q),
				"add an encryption algorithm, e.g. "+example(ESP)+" (for integrity-only ESP: null with sha256)")
		} else if mixed {
			fail(fmt.Sprintf("proposal %s mixes classic and AEAD encryption algorithms, which strongSwan rejects", q),
				"split it into two proposals, e.g. aes256gcm16-ecp384, aes256-sha256-ecp384")
		} else if !p.AEAD && len(p.Integrity) == 0 {
			ps.noInteg = true
		}
	case AH:
		hasInteg := len(p.Integrity) > 0
		for _, t := range ps.toks {
			hasInteg = hasInteg || (t.kw != nil && t.kw.gmac)
		}
		if !hasInteg {
			fail(fmt.Sprintf("proposal %s has no integrity algorithm (an integrity algorithm is mandatory in AH proposals)", q),
				"add an integrity algorithm, e.g. "+example(AH))
		}
	}
}

func (ps *parsed) anyAEAD() bool {
	for _, t := range ps.toks {
		if t.kw != nil && t.kw.t == tEncr && t.kw.aead {
			return true
		}
	}
	return false
}

// hasPrimaryKE reports a key exchange method other than none and keN_.
func (ps *parsed) hasPrimaryKE() bool {
	for _, ke := range ps.p.KE {
		if ke != "none" && !isAdditional(ke) {
			return true
		}
	}
	return false
}

// example returns a recommended proposal of the kind.
func example(kind Kind) string {
	switch kind {
	case IKE:
		return "aes256gcm16-prfsha384-ecp384"
	case AH:
		return "sha384-ecp384"
	}
	return "aes256gcm16-ecp384"
}
