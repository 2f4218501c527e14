package crypto

import (
	"fmt"
	"sort"
	"strings"
)

// Check lints a list of proposals (one swanctl proposals/esp_proposals
// value) under a profile: every finding of ParseProposal plus classification
// of each keyword (weak-crypto), P1, P7/P8, P10 ('default' keyword: under
// modern warning, cnsa error, legacy info), P6/P9 infos, P11. version is the
// IKE version (1 or 2); with 1, P12 (more than one algorithm of a kind) is
// reported (warning; error under cnsa, as baseline §4.9 says). Findings are
// deterministic (ordered by proposal index, then keyword position; findings
// about a whole proposal come after its keywords).
//
// An empty list means the option is unset, so strongSwan's defaults apply:
// that is reported like 'default' (P10). Unknown profiles are treated as
// Modern.
func Check(kind Kind, proposals []string, profile Profile, version int) []Finding {
	if len(proposals) == 0 {
		return []Finding{defaultsFinding(kind, profile, "")}
	}
	var out []Finding
	for _, s := range proposals {
		if IsDefault(s) {
			out = append(out, defaultsFinding(kind, profile, strings.Trim(s, " ")))
			continue
		}
		out = append(out, checkOne(kind, s, profile, version)...)
	}
	return out
}

// checkOne lints one proposal.
func checkOne(kind Kind, s string, profile Profile, version int) []Finding {
	ps := parse(kind, s)
	fs := append([]posFinding(nil), ps.findings...)
	emit := func(pos int, f Finding) { fs = append(fs, posFinding{pos, f}) }
	p, end := ps.p, len(ps.toks)
	q := fmt.Sprintf("%q", p.Text)
	explicitPRF := len(p.PRF) > 0
	// Proposal-level rules need a fully resolved proposal that strongSwan
	// would accept; otherwise only keyword findings are added.
	valid := !ps.unresolved && !ps.structural
	implied := map[string]bool{}
	count := map[transform]int{}

	for i, t := range ps.toks {
		if !usable(t) {
			continue
		}
		k := t.kw
		switch {
		case t.stripped:
			emit(i, ignoredFinding(kind, t, explicitPRF))
		case kind == IKE && k.t == tESN:
			emit(i, info(RuleIgnored, t.text, fmt.Sprintf("%q is meaningless in IKE proposals", t.text),
				"remove it; ESN belongs in esp_proposals"))
		default:
			if f, ok := classifyFinding(kind, k, t.addl > 0, profile, t.text, ""); ok {
				emit(i, f)
			}
		}
		if kind == IKE && !explicitPRF && k.prf != "" && !implied[k.prf] {
			implied[k.prf] = true
			if f, ok := classifyFinding(kind, keywords[k.prf], false, profile, t.text, k.name); ok {
				emit(i, f)
			}
		}
		if valid && profile == Modern && !t.stripped {
			if f, ok := orderFinding(ps.toks, i, kind); ok {
				emit(i, f)
			}
		}
		if valid && kind != IKE && k.none && ps.hasPrimaryKE() {
			emit(i, Finding{Severity: bySeverity(profile, Warning, Error, Info), Rule: RuleNoPFS, Keyword: t.text,
				Message: fmt.Sprintf("proposal %s makes PFS optional with %q, so a peer can negotiate it away", q, t.text),
				Hint:    fmt.Sprintf("remove %q so the key exchange is mandatory", t.text)})
		}
		if valid && version == 1 && !t.stripped && !k.none && (k.t == tEncr || k.t == tInteg || k.t == tKE) {
			if count[k.t]++; count[k.t] == 2 {
				emit(i, Finding{Severity: bySeverity(profile, Warning, Error, Warning), Rule: RuleIKEv1Multi, Keyword: t.text,
					Message: fmt.Sprintf("proposal %s lists more than one %s, but IKEv1 uses only the first", q, k.t.noun()),
					Hint:    "use one algorithm of each kind per proposal and list alternatives as separate proposals"})
			}
		}
	}
	if valid {
		if ps.noInteg {
			emit(end, Finding{Severity: Error, Rule: RuleNoInteg,
				Message: fmt.Sprintf("proposal %s has encryption without integrity protection, which strongSwan accepts but RFC 8221 says must not be used", q),
				Hint:    "add sha256 or sha384 (e.g. aes256-sha384), or use an AEAD cipher such as aes256gcm16"})
		}
		if kind != IKE && !ps.hasPrimaryKE() {
			msg := fmt.Sprintf("proposal %s has no key exchange method, so rekeyed and CREATE_CHILD_SA child SAs get no PFS", q)
			if contains(p.KE, "none") {
				msg = fmt.Sprintf("proposal %s has only \"none\" as key exchange method, so there is no PFS", q)
			}
			emit(end, Finding{Severity: bySeverity(profile, Warning, Error, Info), Rule: RuleNoPFS, Message: msg,
				Hint: "add a key exchange method such as ecp384 (e.g. " + example(kind) + "); consider childless = prefer to detect a mismatch at setup"})
		}
	}
	sort.SliceStable(fs, func(a, b int) bool { return fs[a].pos < fs[b].pos })
	out := make([]Finding, len(fs))
	for i, f := range fs {
		out[i] = f.f
	}
	return out
}

// usable reports whether a token takes part in classification: resolved,
// and valid on the target version (6.0-only keywords are reported invalid).
func usable(t token) bool {
	return t.kw != nil && !t.kw.v6 && t.addl == 0
}

func info(rule, kw, msg, hint string) Finding {
	return Finding{Severity: Info, Rule: rule, Keyword: kw, Message: msg, Hint: hint}
}

// ignoredFinding explains a keyword that strongSwan strips (P6, P9).
func ignoredFinding(kind Kind, t token, explicitPRF bool) Finding {
	k := t.kw
	switch {
	case k.t == tInteg && kind == IKE && !explicitPRF && k.prf != "":
		return info(RuleIgnored, t.text, fmt.Sprintf("%q is removed from AEAD proposals and only derives the PRF %s", t.text, k.prf),
			fmt.Sprintf("write %s instead", k.prf))
	case k.t == tInteg:
		return info(RuleIgnored, t.text, fmt.Sprintf("%q is ignored: AEAD proposals carry no integrity algorithm", t.text), "remove it")
	case k.t == tPRF:
		return info(RuleIgnored, t.text, fmt.Sprintf("%q is ignored in %s proposals (PRFs are used only by IKE)", t.text, kind), "remove it")
	case k.t == tEncr:
		return info(RuleIgnored, t.text, fmt.Sprintf("%q is ignored in AH proposals (AH has no encryption)", t.text),
			"remove it, or use ESP with aes256gcm16 for confidentiality")
	}
	return info(RuleIgnored, t.text, fmt.Sprintf("%q is ignored in IKE proposals", t.text), "remove it")
}

// Default hints per transform type, for the modern/legacy and cnsa profiles.
var (
	hintModern = map[transform]string{
		tEncr:  "use aes256gcm16 (AEAD) or aes256 with sha256",
		tInteg: "use sha256 or sha384, or an AEAD cipher such as aes256gcm16",
		tPRF:   "use prfsha256 or prfsha384",
		tKE:    "use ecp384 or curve25519",
	}
	hintCNSA = map[transform]string{
		tEncr:  "use aes256gcm16 (or aes256 with sha384)",
		tInteg: "use sha384, or aes256gcm16",
		tPRF:   "use prfsha384",
		tKE:    "use ecp384",
	}
	cnsaReason = map[transform]string{
		tEncr:  "CNSA allows only aes256gcm16 and aes256",
		tInteg: "CNSA allows only sha384 and sha512",
		tPRF:   "CNSA allows only prfsha384 and prfsha512",
		tKE:    "CNSA allows only ecp384 and modp3072 or larger",
	}
)

// classifyFinding reports keyword k (as written) if it is D, F or F° under
// the profile. impliedBy names the integrity keyword an implied PRF comes from.
func classifyFinding(kind Kind, k *keyword, addl bool, profile Profile, written, impliedBy string) (Finding, bool) {
	v := k.variantFor(kind, addl)
	c := v.cls[profile.index()]
	var sev Severity
	switch c {
	case classD:
		sev = Warning
	case classF:
		sev = bySeverity(profile, Error, Error, Warning)
	case classFloor:
		sev = Error
	default:
		return Finding{}, false
	}
	name := fmt.Sprintf("%q", written)
	if impliedBy != "" {
		name = fmt.Sprintf("%q (implied by %q)", k.name, written)
	}
	var msg string
	switch {
	case v.cls[0] >= classF:
		msg = fmt.Sprintf("%s is a weak %s (%s)", name, k.t.noun(), v.reason)
	case c >= classF:
		msg = fmt.Sprintf("%s is not allowed under the cnsa profile (%s)", name, cnsaReason[k.t])
	default:
		msg = fmt.Sprintf("%s is a deprecated %s (%s)", name, k.t.noun(), v.reason)
	}
	hint := hintModern[k.t]
	switch {
	case kind == AH && k.t == tInteg:
		hint = bySeverityHint(profile, "use sha256 or sha384", "use sha384")
	case profile == CNSA:
		hint = hintCNSA[k.t]
	case k.hint != "":
		hint = k.hint
	}
	if impliedBy != "" {
		hint = "name a PRF explicitly: " + hint
	}
	return Finding{Severity: sev, Rule: RuleWeak, Keyword: written, Message: msg, Hint: hint}, true
}

// bySeverityHint picks the cnsa hint under CNSA and the other one else.
func bySeverityHint(profile Profile, other, cnsa string) string {
	if profile == CNSA {
		return cnsa
	}
	return other
}

// orderFinding reports P11: token i (A or D under modern) comes before a
// stronger keyword of the same transform type.
func orderFinding(toks []token, i int, kind Kind) (Finding, bool) {
	t := toks[i]
	if t.kw.none || t.kw.t == tESN {
		return Finding{}, false
	}
	c := t.kw.variantFor(kind, false).cls[0]
	if c != classA && c != classD {
		return Finding{}, false
	}
	for _, u := range toks[i+1:] {
		if !usable(u) || u.stripped || u.kw.none || u.kw.t != t.kw.t {
			continue
		}
		if u.kw.variantFor(kind, false).cls[0] < c {
			return info(RuleOrder, t.text, fmt.Sprintf("%q is listed before the stronger %q, so it is preferred whenever the peer supports both", t.text, u.text),
				fmt.Sprintf("list %q first", u.text)), true
		}
	}
	return Finding{}, false
}

// defaultsFinding reports P10 for the keyword "default" (as written) or, if
// written is empty, for an unset option.
func defaultsFinding(kind Kind, profile Profile, written string) Finding {
	accept := "which also accept 3des, sha1, prfsha1, modp2048 and short-ICV AEAD ciphers"
	if kind != IKE {
		accept = "which also accept sha1 and aesxcbc and carry no key exchange, so no PFS"
	}
	msg := fmt.Sprintf("%q adds strongSwan's default %s proposals, %s", written, kind, accept)
	if written == "" {
		msg = fmt.Sprintf("no %s proposals are configured, so strongSwan uses its defaults, %s", kind, accept)
	}
	return Finding{Severity: bySeverity(profile, Warning, Error, Info), Rule: RuleDefaults, Keyword: written,
		Message: msg, Hint: "list explicit proposals, e.g. " + example(kind)}
}
