package crypto

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"unicode"
)

// w is an expected finding: rule, severity, keyword and a message substring.
type w struct {
	rule string
	sev  Severity
	kw   string
	msg  string
}

type checkCase struct {
	name      string
	kind      Kind
	proposals []string
	profile   Profile
	version   int
	want      []w // exact list, in order
}

func (c checkCase) run(t *testing.T) []Finding {
	t.Helper()
	version := c.version
	if version == 0 {
		version = 2
	}
	got := Check(c.kind, c.proposals, c.profile, version)
	ok := len(got) == len(c.want)
	for i := 0; ok && i < len(got); i++ {
		f, x := got[i], c.want[i]
		ok = f.Rule == x.rule && f.Severity == x.sev && f.Keyword == x.kw && strings.Contains(f.Message, x.msg)
	}
	if !ok {
		var b strings.Builder
		for _, f := range got {
			fmt.Fprintf(&b, "\n  {%q, %v, %q, %q}", f.Rule, f.Severity, f.Keyword, f.Message)
		}
		t.Errorf("%s: Check(%v, %q, %s, %d) =%s\nwant %v", c.name, c.kind, c.proposals, c.profile, version, b.String(), c.want)
	}
	return got
}

// TestCleanProposals: the CNSA 1.0 suite is clean under every profile.
func TestCleanProposals(t *testing.T) {
	for _, p := range Profiles {
		for _, v := range []int{1, 2} {
			checkCase{"clean IKE", IKE, []string{"aes256gcm16-prfsha384-ecp384"}, p, v, nil}.run(t)
			checkCase{"clean ESP", ESP, []string{"aes256gcm16-ecp384"}, p, v, nil}.run(t)
			checkCase{"clean list", IKE, []string{"aes256gcm16-prfsha384-ecp384", "aes256-sha384-ecp384"}, p, v, nil}.run(t)
		}
	}
}

// TestWorkedExamples reproduces baseline §9.
func TestWorkedExamples(t *testing.T) {
	invalid := func(kw string) w { return w{RuleInvalid, Error, kw, "strongSwan 6.0"} }
	cases := []checkCase{
		{"§9 cnsa suite", IKE, []string{"aes256gcm16-prfsha384-ecp384"}, CNSA, 2, nil},
		{"§9 nist128 modern", IKE, []string{"aes128-sha256-modp3072"}, Modern, 2, nil},
		{"§9 nist128 cnsa", IKE, []string{"aes128-sha256-modp3072"}, CNSA, 2, []w{
			{RuleWeak, Error, "aes128", "not allowed under the cnsa profile"},
			{RuleWeak, Error, "sha256", "not allowed under the cnsa profile"},
			{RuleWeak, Error, "sha256", `"prfsha256" (implied by "sha256")`}}},
		{"§9 nist128 legacy", IKE, []string{"aes128-sha256-modp3072"}, Legacy, 2, nil},
		{"§9 3des modern", IKE, []string{"3des-md5-modp1024"}, Modern, 2, []w{
			{RuleWeak, Error, "3des", `"3des" is a weak encryption algorithm (strongSwan: must not be used`},
			{RuleWeak, Error, "md5", "weak integrity algorithm"},
			{RuleWeak, Error, "md5", `"prfmd5" (implied by "md5") is a weak PRF`},
			{RuleWeak, Error, "modp1024", "weak key exchange method"}}},
		{"§9 3des cnsa", IKE, []string{"3des-md5-modp1024"}, CNSA, 2, []w{
			{RuleWeak, Error, "3des", ""}, {RuleWeak, Error, "md5", ""},
			{RuleWeak, Error, "md5", "prfmd5"}, {RuleWeak, Error, "modp1024", ""}}},
		{"§9 3des legacy", IKE, []string{"3des-md5-modp1024"}, Legacy, 2, []w{
			{RuleWeak, Warning, "3des", ""}, {RuleWeak, Error, "md5", ""},
			{RuleWeak, Error, "md5", "prfmd5"}, {RuleWeak, Warning, "modp1024", ""}}},
		{"§9 chacha modern", IKE, []string{"chacha20poly1305-prfsha256-x25519"}, Modern, 2, nil},
		{"§9 chacha cnsa", IKE, []string{"chacha20poly1305-prfsha256-x25519"}, CNSA, 2, []w{
			{RuleWeak, Error, "chacha20poly1305", ""}, {RuleWeak, Error, "prfsha256", ""},
			{RuleWeak, Error, "x25519", ""}}},
		{"§9 chacha legacy", IKE, []string{"chacha20poly1305-prfsha256-x25519"}, Legacy, 2, nil},
		{"§9 sha1 modern", IKE, []string{"aes256-sha1-modp2048s256"}, Modern, 2, []w{
			{RuleWeak, Error, "sha1", ""}, {RuleWeak, Error, "sha1", "prfsha1"},
			{RuleWeak, Error, "modp2048s256", ""}}},
		{"§9 sha1 cnsa", IKE, []string{"aes256-sha1-modp2048s256"}, CNSA, 2, []w{
			{RuleWeak, Error, "sha1", ""}, {RuleWeak, Error, "sha1", "prfsha1"},
			{RuleWeak, Error, "modp2048s256", ""}}},
		{"§9 sha1 legacy", IKE, []string{"aes256-sha1-modp2048s256"}, Legacy, 2, []w{
			{RuleWeak, Warning, "sha1", ""}, {RuleWeak, Warning, "sha1", "prfsha1"},
			{RuleWeak, Warning, "modp2048s256", ""}}},
		{"§9 mlkem modern (5.9.8)", IKE, []string{"aes256gcm16-prfsha384-x25519-ke1_mlkem768"}, Modern, 2, []w{invalid("ke1_mlkem768")}},
		{"§9 mlkem cnsa (5.9.8)", IKE, []string{"aes256gcm16-prfsha384-x25519-ke1_mlkem768"}, CNSA, 2, []w{
			{RuleWeak, Error, "x25519", ""}, invalid("ke1_mlkem768")}},
		{"§9 mlkem legacy (5.9.8)", IKE, []string{"aes256gcm16-prfsha384-x25519-ke1_mlkem768"}, Legacy, 2, []w{invalid("ke1_mlkem768")}},
		{"§9 esp no KE modern", ESP, []string{"aes256gcm16"}, Modern, 2, []w{{RuleNoPFS, Warning, "", "no PFS"}}},
		{"§9 esp no KE cnsa", ESP, []string{"aes256gcm16"}, CNSA, 2, []w{{RuleNoPFS, Error, "", "no PFS"}}},
		{"§9 esp no KE legacy", ESP, []string{"aes256gcm16"}, Legacy, 2, []w{{RuleNoPFS, Info, "", "no PFS"}}},
		{"§9 esp no integrity", ESP, []string{"aes256"}, Legacy, 2, []w{
			{RuleNoInteg, Error, "", "without integrity protection"}, {RuleNoPFS, Info, "", ""}}},
		{"§9 esp sha1 modp2048 modern", ESP, []string{"aes128-sha1-modp2048"}, Modern, 2, []w{
			{RuleWeak, Error, "sha1", ""}, {RuleWeak, Warning, "modp2048", "deprecated key exchange method"}}},
		{"§9 esp sha1 modp2048 legacy", ESP, []string{"aes128-sha1-modp2048"}, Legacy, 2, []w{{RuleWeak, Warning, "sha1", ""}}},
		{"§9 esp bang", ESP, []string{"aes256-sha256!-ecp384"}, Modern, 2, []w{{RuleInvalid, Error, "sha256!", "no '!'"}}},
	}
	for _, c := range cases {
		c.run(t)
	}
}

// TestRules triggers every rule, and checks severities per profile.
func TestRules(t *testing.T) {
	cases := []checkCase{
		// P1
		{"P1", ESP, []string{"aes256-ecp384"}, Modern, 2, []w{{RuleNoInteg, Error, "", "without integrity"}}},
		{"P1 null", ESP, []string{"null-ecp384"}, Modern, 2, []w{
			{RuleWeak, Warning, "null", "no confidentiality"}, {RuleNoInteg, Error, "", ""}}},
		{"P1 not for AEAD", ESP, []string{"aes256gcm16-ecp384"}, Legacy, 2, nil},
		// P2-P5 come with ParseProposal findings
		{"P2", ESP, []string{"aes256-aes256gcm16-sha256-ecp384"}, Modern, 2, []w{{RuleInvalid, Error, "", "mixes"}}},
		{"P3", IKE, []string{"aes256gcm16-ecp384"}, Legacy, 2, []w{{RuleInvalid, Error, "", "a PRF algorithm is mandatory"}}},
		{"P4+P9", IKE, []string{"aes256-sha384-none"}, Modern, 2, []w{
			{RuleIgnored, Info, "none", "ignored in IKE proposals"},
			{RuleInvalid, Error, "", "a DH group is mandatory in IKE proposals"}}},
		{"P5 unknown keeps classifying the rest", IKE, []string{"aes256-md5-foo"}, Modern, 2, []w{
			{RuleWeak, Error, "md5", ""}, {RuleWeak, Error, "md5", "prfmd5"},
			{RuleInvalid, Error, "foo", "not a strongSwan"}}},
		// P6
		{"P6 integ in AEAD ESP", ESP, []string{"aes256gcm16-sha256-ecp384"}, Modern, 2, []w{
			{RuleIgnored, Info, "sha256", "AEAD proposals carry no integrity algorithm"}}},
		{"P6 integ in AEAD IKE derives PRF", IKE, []string{"aes256gcm16-sha1-ecp384"}, Modern, 2, []w{
			{RuleIgnored, Info, "sha1", "only derives the PRF prfsha1"},
			{RuleWeak, Error, "sha1", `"prfsha1" (implied by "sha1") is a weak PRF`}}},
		{"P6 integ in AEAD IKE with prf", IKE, []string{"aes256gcm16-md5-prfsha384-ecp384"}, Modern, 2, []w{
			{RuleIgnored, Info, "md5", "carry no integrity"}}},
		{"P6 prf in ESP", ESP, []string{"aes256-sha256-prfmd5-ecp384"}, Modern, 2, []w{
			{RuleIgnored, Info, "prfmd5", "PRFs are used only by IKE"}}},
		{"P6 esn in IKE", IKE, []string{"aes256gcm16-prfsha384-ecp384-esn"}, Modern, 2, []w{
			{RuleIgnored, Info, "esn", "meaningless in IKE"}}},
		{"P6 encryption in AH", AH, []string{"aes256-sha384-ecp384"}, Modern, 2, []w{
			{RuleIgnored, Info, "aes256", "AH has no encryption"}}},
		{"AH gmac", AH, []string{"aes256gmac-ecp384"}, Modern, 2, nil},
		{"AH integrity hint", AH, []string{"sha1-ecp384"}, Modern, 2, []w{{RuleWeak, Error, "sha1", ""}}},
		// P7/P8
		{"P7 only none", ESP, []string{"aes256gcm16-none"}, Modern, 2, []w{{RuleNoPFS, Warning, "", `only "none"`}}},
		{"P7 AH", AH, []string{"sha384"}, CNSA, 2, []w{{RuleNoPFS, Error, "", "no PFS"}}},
		{"P8 modern", ESP, []string{"aes256gcm16-ecp384-modpnone"}, Modern, 2, []w{{RuleNoPFS, Warning, "modpnone", "PFS optional"}}},
		{"P8 cnsa", ESP, []string{"aes256gcm16-ecp384-none"}, CNSA, 2, []w{{RuleNoPFS, Error, "none", "PFS optional"}}},
		{"P8 legacy", ESP, []string{"aes256gcm16-none-ecp384"}, Legacy, 2, []w{{RuleNoPFS, Info, "none", "PFS optional"}}},
		{"no P7 for IKE", IKE, []string{"aes256gcm16-prfsha384-ecp384"}, CNSA, 2, nil},
		// P10
		{"P10 modern", IKE, []string{"aes256gcm16-prfsha384-ecp384", "default"}, Modern, 2, []w{
			{RuleDefaults, Warning, "default", "3des, sha1, prfsha1, modp2048"}}},
		{"P10 cnsa", ESP, []string{" Default "}, CNSA, 2, []w{{RuleDefaults, Error, "Default", "no PFS"}}},
		{"P10 legacy", AH, []string{"DEFAULT"}, Legacy, 2, []w{{RuleDefaults, Info, "DEFAULT", ""}}},
		{"P10 unset", IKE, nil, Modern, 2, []w{{RuleDefaults, Warning, "", "no IKE proposals are configured"}}},
		{"P10 unset ESP", ESP, []string{}, CNSA, 2, []w{{RuleDefaults, Error, "", "no ESP proposals"}}},
		// P11 (modern only)
		{"P11", IKE, []string{"aes256gcm16-prfsha384-modp4096-ecp384"}, Modern, 2, []w{
			{RuleOrder, Info, "modp4096", `before the stronger "ecp384"`}}},
		{"P11 D before R", ESP, []string{"aes128ccm8-aes256gcm16-ecp384"}, Modern, 2, []w{
			{RuleWeak, Warning, "aes128ccm8", "64-bit ICV"}, {RuleOrder, Info, "aes128ccm8", ""}}},
		{"P11 not for F", ESP, []string{"aes256-sha1-sha256-ecp384"}, Modern, 2, []w{{RuleWeak, Error, "sha1", ""}}},
		{"P11 not in cnsa", IKE, []string{"aes256gcm16-prfsha384-modp4096-ecp384"}, CNSA, 2, nil},
		{"P11 not in legacy", IKE, []string{"aes256gcm16-prfsha384-modp4096-ecp384"}, Legacy, 2, nil},
		{"P11 R then A is fine", IKE, []string{"aes256gcm16-prfsha384-ecp384-modp4096"}, Modern, 2, nil},
		// P12
		{"P12", IKE, []string{"aes256-aes128-sha384-sha256-ecp384-modp3072-none"}, Modern, 1, []w{
			{RuleIKEv1Multi, Warning, "aes128", "more than one encryption algorithm"},
			{RuleIKEv1Multi, Warning, "sha256", "more than one integrity algorithm"},
			{RuleIKEv1Multi, Warning, "modp3072", "more than one key exchange method"},
			{RuleIgnored, Info, "none", ""}}},
		{"P12 cnsa", ESP, []string{"aes256gcm16-ecp384-modp3072"}, CNSA, 1, []w{{RuleIKEv1Multi, Error, "modp3072", ""}}},
		{"P12 not for IKEv2", ESP, []string{"aes256gcm16-ecp384-modp3072"}, CNSA, 2, nil},
		// weak-crypto details
		{"floor in legacy", IKE, []string{"des-sha256-modp768"}, Legacy, 2, []w{
			{RuleWeak, Error, "des", "MUST NOT"}, {RuleWeak, Error, "modp768", ""}}},
		{"null IKE", IKE, []string{"null-sha256-ecp384"}, Legacy, 2, []w{{RuleWeak, Error, "null", "no confidentiality"}}},
		{"aliases as written", IKE, []string{"aes-sha-modpnone-x25519"}, Modern, 2, []w{
			{RuleWeak, Error, "sha", `"sha" is a weak integrity algorithm`},
			{RuleWeak, Error, "sha", `"prfsha1" (implied by "sha")`},
			{RuleIgnored, Info, "modpnone", ""}}},
		{"case error still classified", IKE, []string{"aes256-SHA1-ecp384"}, Modern, 2, []w{
			{RuleInvalid, Error, "SHA1", "case-sensitive"},
			{RuleWeak, Error, "SHA1", ""}, {RuleWeak, Error, "SHA1", "prfsha1"}}},
		{"implied PRF reported once", IKE, []string{"aes256-sha1-sha1_160-ecp384"}, Legacy, 2, []w{
			{RuleWeak, Warning, "sha1", ""}, {RuleWeak, Warning, "sha1", "prfsha1"},
			{RuleWeak, Warning, "sha1_160", ""}}},
		{"order across proposals", ESP, []string{"aes256gcm16-modp1024", "sha1-foo"}, Modern, 2, []w{
			{RuleWeak, Error, "modp1024", ""},
			{RuleWeak, Error, "sha1", ""}, {RuleInvalid, Error, "foo", ""}}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		for _, f := range c.run(t) {
			seen[f.Rule] = true
		}
	}
	for _, r := range []string{RuleWeak, RuleInvalid, RuleNoInteg, RuleNoPFS, RuleDefaults, RuleIgnored, RuleOrder, RuleIKEv1Multi} {
		if !seen[r] {
			t.Errorf("rule %s never triggered", r)
		}
	}
}

// TestHints checks that replacements are named per kind and profile.
func TestHints(t *testing.T) {
	cases := []struct {
		kind    Kind
		p       string
		profile Profile
		hint    string
	}{
		{IKE, "aes256gcm16-prfsha384-modp1024", Modern, "use ecp384 or curve25519"},
		{IKE, "aes256gcm16-prfsha384-modp1024", CNSA, "use ecp384"},
		{ESP, "3des-sha256-ecp384", Modern, "use aes256gcm16 (AEAD) or aes256 with sha256"},
		{ESP, "aes256gcm8-ecp384", Modern, "16-octet ICV"},
		{IKE, "aes256-md5-prfsha384-ecp384", Modern, "use sha256 or sha384"},
		{IKE, "aes256-sha384-prfsha1-ecp384", CNSA, "use prfsha384"},
		{AH, "md5-ecp384", CNSA, "use sha384"},
	}
	for _, c := range cases {
		fs := Check(c.kind, []string{c.p}, c.profile, 2)
		if len(fs) == 0 || fs[0].Hint != c.hint && !strings.Contains(fs[0].Hint, c.hint) {
			t.Errorf("Check(%v, %q, %s) = %v; want hint ~%q", c.kind, c.p, c.profile, fs, c.hint)
		}
	}
}

// TestFindingStyle checks message conventions over many inputs, and that
// Check is deterministic.
func TestFindingStyle(t *testing.T) {
	var inputs []string
	for _, k := range table {
		inputs = append(inputs, k.name, "aes256-"+k.name+"-ecp384", k.name+"-sha256-ecp384-none")
	}
	inputs = append(inputs, "", "default", "AES256-sha256!", "x-y", "ke1_mlkem768", "aes256 sha256", "!")
	for _, kind := range []Kind{IKE, ESP, AH} {
		for _, p := range Profiles {
			for _, v := range []int{1, 2} {
				a := Check(kind, inputs, p, v)
				if b := Check(kind, inputs, p, v); !reflect.DeepEqual(a, b) {
					t.Fatalf("Check is not deterministic")
				}
				for _, f := range a {
					checkStyle(t, f)
				}
			}
		}
	}
}

func checkStyle(t *testing.T, f Finding) {
	t.Helper()
	switch f.Rule {
	case RuleWeak, RuleInvalid, RuleNoInteg, RuleNoPFS, RuleDefaults, RuleIgnored, RuleOrder, RuleIKEv1Multi, RulePSKWeak:
	default:
		t.Errorf("unknown rule in %+v", f)
	}
	if f.Severity < Info || f.Severity > Error {
		t.Errorf("bad severity in %+v", f)
	}
	if f.Message == "" || f.Hint == "" || strings.HasSuffix(f.Message, ".") || strings.Contains(f.Message, "\n") {
		t.Errorf("bad message or hint in %+v", f)
	}
	if r := []rune(f.Message)[0]; unicode.IsUpper(r) {
		t.Errorf("message starts upper-case: %+v", f)
	}
}

func TestStringers(t *testing.T) {
	if IKE.String() != "IKE" || AH.String() != "AH" || Kind(9).String() != "Kind(9)" {
		t.Error("Kind.String")
	}
	if Warning.String() != "warning" || Severity(7).String() != "Severity(7)" {
		t.Error("Severity.String")
	}
	f := Finding{Severity: Error, Rule: RuleWeak, Message: "m", Hint: "h"}
	if got := f.String(); got != "error: m [weak-crypto] (h)" {
		t.Errorf("Finding.String = %q", got)
	}
}
