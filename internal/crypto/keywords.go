package crypto

import "fmt"

// class is the classification of a keyword under one profile (baseline §2.1).
type class int

const (
	classR     class = iota // recommended
	classA                  // acceptable
	classD                  // deprecated: warning
	classF                  // forbidden: error (warning under legacy-interop)
	classFloor              // F°: forbidden even under legacy-interop
)

// String returns the class letter; F° is reported as "F".
func (c class) String() string {
	return [...]string{"R", "A", "D", "F", "F"}[c]
}

// transform is the strongSwan transform type of a keyword.
type transform int

const (
	tEncr transform = iota
	tInteg
	tPRF
	tKE
	tESN
)

// noun names the transform type in messages.
func (t transform) noun() string {
	return [...]string{"encryption algorithm", "integrity algorithm", "PRF",
		"key exchange method", "ESN setting"}[t]
}

// variant is a classification (modern, cnsa, legacy) with its reason.
type variant struct {
	cls    [3]class
	reason string
}

// keyword is one canonical strongSwan proposal keyword.
type keyword struct {
	name  string
	t     transform
	aead  bool     // combined-mode cipher (encryption_algorithm_is_aead)
	gmac  bool     // ENCR_NULL_AUTH_AES_GMAC: AEAD without confidentiality
	none  bool     // KE_NONE
	v6    bool     // only strongSwan >= 6.0 knows it
	base  variant  // classification in ESP/AH proposals and by default
	ike   *variant // override in IKE proposals
	esp   *variant // override in ESP/AH proposals
	ah    *variant // override in AH proposals (before esp)
	addl  *variant // override when used as keN_ additional key exchange
	prf   string   // PRF implied in IKE proposals (integrity only, §4.5)
	hint  string   // replacement hint overriding the kind's default (not under cnsa)
	order int      // position in the table, for deterministic iteration
}

// cls parses a class triple such as "FFX" (modern, cnsa, legacy); X is F°.
func cls(s string) [3]class {
	var c [3]class
	for i := range c {
		switch s[i] {
		case 'R':
			c[i] = classR
		case 'A':
			c[i] = classA
		case 'D':
			c[i] = classD
		case 'F':
			c[i] = classF
		case 'X':
			c[i] = classFloor
		default:
			panic(fmt.Sprintf("crypto: bad class triple %q", s))
		}
	}
	return c
}

// Reasons shared by several table entries.
const (
	rSSWeak     = "strongSwan: must not be used"
	rMustNot    = "RFC 8221 and RFC 8247: MUST NOT; strongSwan: must not be used"
	rPrivate    = "non-standard, strongSwan-private transform"
	rShortRound = "below strongSwan's 128-bit default round"
	rRFC5114    = "RFC 5114 prime of questionable source"
	rMLKEMFirst = "ML-KEM needs an initial classic key exchange; use it as an additional ke1_ method"
	rNoKernel   = "; no Linux kernel ESP support"
	hICV        = "use a 16-octet ICV, e.g. aes256gcm16"
	hNoConf     = "use aes256gcm16 for confidentiality and integrity"
	hMLKEM      = "put ecp384 first and add the ML-KEM as ke1_mlkem768 (strongSwan 6.0)"
)

// table holds every canonical keyword of strongSwan 5.9.8 plus the 6.0-only
// ones (baseline §2.2-§2.8 and strongSwan's proposal_keywords_static.txt).
var table = []*keyword{
	// §2.2 encryption, classic
	{name: "des", t: tEncr, base: variant{cls("FFX"), rMustNot}},
	{name: "3des", t: tEncr, base: variant{cls("FFD"), rSSWeak + "; 64-bit block cipher"}},
	{name: "cast128", t: tEncr, base: variant{cls("FFD"), rSSWeak}},
	{name: "blowfish128", t: tEncr, base: variant{cls("FFX"), "RFC 8221: MUST NOT; " + rSSWeak}},
	{name: "blowfish192", t: tEncr, base: variant{cls("FFX"), "RFC 8221: MUST NOT; " + rSSWeak}},
	{name: "blowfish256", t: tEncr, base: variant{cls("FFX"), "RFC 8221: MUST NOT; " + rSSWeak}},
	{name: "null", t: tEncr, base: variant{cls("DFD"), "no confidentiality, integrity-only ESP"},
		ike: &variant{cls("FFX"), "no confidentiality; RFC 8247: MUST NOT"}, hint: hNoConf},
	{name: "aes128", t: tEncr, base: variant{cls("AFA"), ""}},
	{name: "aes192", t: tEncr, base: variant{cls("AFA"), ""}},
	{name: "aes256", t: tEncr, base: variant{cls("AAA"), ""}},
	{name: "aes128ctr", t: tEncr, base: variant{cls("AFA"), ""}},
	{name: "aes192ctr", t: tEncr, base: variant{cls("AFA"), ""}},
	{name: "aes256ctr", t: tEncr, base: variant{cls("AFA"), ""}},
	{name: "camellia128", t: tEncr, base: variant{cls("AFA"), ""}},
	{name: "camellia192", t: tEncr, base: variant{cls("AFA"), ""}},
	{name: "camellia256", t: tEncr, base: variant{cls("AFA"), ""}},
	{name: "camellia128ctr", t: tEncr, base: variant{cls("AFA"), ""}},
	{name: "camellia192ctr", t: tEncr, base: variant{cls("AFA"), ""}},
	{name: "camellia256ctr", t: tEncr, base: variant{cls("AFA"), ""}},
	{name: "serpent128", t: tEncr, base: variant{cls("DFD"), rPrivate}},
	{name: "serpent192", t: tEncr, base: variant{cls("DFD"), rPrivate}},
	{name: "serpent256", t: tEncr, base: variant{cls("DFD"), rPrivate}},
	{name: "twofish128", t: tEncr, base: variant{cls("DFD"), rPrivate}},
	{name: "twofish192", t: tEncr, base: variant{cls("DFD"), rPrivate}},
	{name: "twofish256", t: tEncr, base: variant{cls("DFD"), rPrivate}},
	// §2.3 AEAD (the AES-GCM/CCM and Camellia-CCM families are added by init)
	{name: "chacha20poly1305", t: tEncr, aead: true, base: variant{cls("RFR"), ""}},
	{name: "chacha20poly1305compat", t: tEncr, aead: true, base: variant{cls("DFA"),
		"non-standard key-length attribute, only for peers older than strongSwan 5.6.3"},
		hint: "use chacha20poly1305 or aes256gcm16"},
	// §2.4 integrity
	{name: "md5", t: tInteg, prf: "prfmd5", base: variant{cls("FFX"), rMustNot}},
	{name: "md5_128", t: tInteg, prf: "prfmd5", base: variant{cls("FFX"), rSSWeak}},
	{name: "sha1", t: tInteg, prf: "prfsha1", base: variant{cls("FFD"), rSSWeak}},
	{name: "sha1_160", t: tInteg, prf: "prfsha1", base: variant{cls("FFD"), rSSWeak}},
	{name: "aesxcbc", t: tInteg, prf: "prfaesxcbc", base: variant{cls("DFA"), "96-bit tag, " + rShortRound}},
	{name: "aescmac", t: tInteg, prf: "prfaescmac", base: variant{cls("DFA"), "96-bit tag, " + rShortRound}},
	{name: "camelliaxcbc", t: tInteg, prf: "prfcamelliaxcbc", base: variant{cls("DFD"), rPrivate}},
	{name: "sha256", t: tInteg, prf: "prfsha256", base: variant{cls("RFR"), ""}},
	{name: "sha384", t: tInteg, prf: "prfsha384", base: variant{cls("RRR"), ""}},
	{name: "sha512", t: tInteg, prf: "prfsha512", base: variant{cls("RAR"), ""}},
	{name: "sha256_96", t: tInteg, base: variant{cls("DFD"),
		"truncated to 96 bits, a workaround for Linux kernels before 2.6.33"}},
	// §2.5 PRF
	{name: "prfmd5", t: tPRF, base: variant{cls("FFX"), "RFC 8247: MUST NOT; " + rSSWeak}},
	{name: "prfsha1", t: tPRF, base: variant{cls("FFD"), rSSWeak}},
	{name: "prfaesxcbc", t: tPRF, base: variant{cls("AFA"), ""}},
	{name: "prfaescmac", t: tPRF, base: variant{cls("AFA"), ""}},
	{name: "prfcamelliaxcbc", t: tPRF, base: variant{cls("DFD"), rPrivate}},
	{name: "prfsha256", t: tPRF, base: variant{cls("RFR"), ""}},
	{name: "prfsha384", t: tPRF, base: variant{cls("RRR"), ""}},
	{name: "prfsha512", t: tPRF, base: variant{cls("RAR"), ""}},
	// §2.6 key exchange, classic
	{name: "modpnull", t: tKE, base: variant{cls("FFX"), "strongSwan: only for testing, no security at all"}},
	{name: "modp768", t: tKE, base: variant{cls("FFX"), "RFC 8247: MUST NOT; " + rSSWeak}},
	{name: "modp1024", t: tKE, base: variant{cls("FFD"), rSSWeak + "; 1024-bit MODP"}},
	{name: "modp1536", t: tKE, base: variant{cls("FFD"), rSSWeak + "; 1536-bit MODP"}},
	{name: "modp2048", t: tKE, base: variant{cls("DFA"), "112-bit security strength, " + rShortRound}},
	{name: "modp3072", t: tKE, base: variant{cls("RAR"), ""}},
	{name: "modp4096", t: tKE, base: variant{cls("AAA"), ""}},
	{name: "modp6144", t: tKE, base: variant{cls("AAA"), ""}},
	{name: "modp8192", t: tKE, base: variant{cls("AAA"), ""}},
	{name: "modp1024s160", t: tKE, base: variant{cls("FFX"), "RFC 8247: MUST NOT; " + rRFC5114}},
	{name: "modp2048s224", t: tKE, base: variant{cls("FFD"), rSSWeak + "; " + rRFC5114}},
	{name: "modp2048s256", t: tKE, base: variant{cls("FFD"), rSSWeak + "; " + rRFC5114}},
	{name: "ecp192", t: tKE, base: variant{cls("FFD"), rSSWeak + "; 96-bit security strength"}},
	{name: "ecp224", t: tKE, base: variant{cls("DFA"), "112-bit security strength, rarely used"}},
	{name: "ecp256", t: tKE, base: variant{cls("RFR"), ""}},
	{name: "ecp384", t: tKE, base: variant{cls("RRR"), ""}},
	{name: "ecp521", t: tKE, base: variant{cls("AFA"), ""}},
	{name: "ecp224bp", t: tKE, base: variant{cls("DFA"), "112-bit security strength, rarely used"}},
	{name: "ecp256bp", t: tKE, base: variant{cls("AFA"), ""}},
	{name: "ecp384bp", t: tKE, base: variant{cls("AFA"), ""}},
	{name: "ecp512bp", t: tKE, base: variant{cls("AFA"), ""}},
	{name: "curve25519", t: tKE, base: variant{cls("RFR"), ""}},
	{name: "curve448", t: tKE, base: variant{cls("AFA"), ""}},
	// 5.9.x-only experimental post-quantum methods (not in the baseline;
	// classed like the other non-standard transforms)
	{name: "ntru112", t: tKE, base: variant{cls("DFD"), "experimental, removed in strongSwan 6.0"}},
	{name: "ntru128", t: tKE, base: variant{cls("DFD"), "experimental, removed in strongSwan 6.0"}},
	{name: "ntru192", t: tKE, base: variant{cls("DFD"), "experimental, removed in strongSwan 6.0"}},
	{name: "ntru256", t: tKE, base: variant{cls("DFD"), "experimental, removed in strongSwan 6.0"}},
	{name: "newhope128", t: tKE, base: variant{cls("DFD"), "experimental, removed in strongSwan 6.0"}},
	// strongSwan 6.0 only
	{name: "gost256", t: tKE, v6: true, base: variant{cls("DFD"), "GOST (RFC 9385), not in strongSwan's docs"}},
	{name: "gost512", t: tKE, v6: true, base: variant{cls("DFD"), "GOST (RFC 9385), not in strongSwan's docs"}},
	// §2.7: as the first (or only) KE, and as keN_
	{name: "mlkem512", t: tKE, v6: true, base: variant{cls("DFA"), rMLKEMFirst},
		addl: &variant{cls("AFA"), ""}, hint: hMLKEM},
	{name: "mlkem768", t: tKE, v6: true, base: variant{cls("DFR"), rMLKEMFirst},
		addl: &variant{cls("RFR"), ""}, hint: hMLKEM},
	{name: "mlkem1024", t: tKE, v6: true, base: variant{cls("DFR"), rMLKEMFirst},
		addl: &variant{cls("RRR"), ""}, hint: hMLKEM},
	// §2.8 other
	{name: "none", t: tKE, none: true, base: variant{cls("AAA"), ""}},
	{name: "esn", t: tESN, base: variant{cls("AAA"), ""}},
	{name: "noesn", t: tESN, base: variant{cls("AAA"), ""}},
}

// aliases maps alternative spellings to canonical keywords (S-KW). The size
// families of AEAD aliases are added by init.
var aliases = map[string]string{
	"aes":         "aes128",
	"blowfish":    "blowfish128",
	"camellia":    "camellia128",
	"serpent":     "serpent128",
	"twofish":     "twofish128",
	"sha":         "sha1",
	"sha2_256":    "sha256",
	"sha2_384":    "sha384",
	"sha2_512":    "sha512",
	"sha2_256_96": "sha256_96",
	"x25519":      "curve25519",
	"x448":        "curve448",
	"modpnone":    "none",
}

// keywords maps every canonical keyword and alias to its entry.
var keywords = map[string]*keyword{}

func init() {
	icv := map[int]variant{
		8:  {cls("DFA"), "64-bit ICV"},
		12: {cls("DFA"), "96-bit ICV"},
	}
	for _, size := range []string{"128", "192", "256"} {
		// AES-GCM: aesNNNgcm16 = gcm128 = gcm; gcm12 = gcm96; gcm8 = gcm64.
		gcm16 := map[string]string{"128": "RFR", "192": "AFA", "256": "RRR"}[size]
		for _, mode := range []string{"gcm", "ccm"} {
			c16 := cls(gcm16)
			if mode == "ccm" {
				c16 = cls("AFA")
			}
			p := "aes" + size + mode
			table = append(table, &keyword{name: p + "16", t: tEncr, aead: true, base: variant{c16, ""}})
			for _, n := range []int{12, 8} {
				v := icv[n]
				if mode == "ccm" && n == 8 {
					v.reason = "64-bit ICV, meant for IoT only"
				}
				table = append(table, &keyword{name: fmt.Sprintf("%s%d", p, n), t: tEncr, aead: true, base: v, hint: hICV})
			}
			aliases[p] = p + "16"
			aliases[p+"128"] = p + "16"
			aliases[p+"96"] = p + "12"
			aliases[p+"64"] = p + "8"
		}
		// Camellia-CCM: no kernel ESP support, and no bare camelliaNNNccm keyword.
		p := "camellia" + size + "ccm"
		table = append(table, &keyword{name: p + "16", t: tEncr, aead: true, base: variant{cls("AFA"), ""},
			esp: &variant{cls("DFA"), "no Linux kernel ESP support"}, hint: "use aes256gcm16"})
		for _, n := range []int{12, 8} {
			v := icv[n]
			e := variant{v.cls, v.reason + rNoKernel}
			table = append(table, &keyword{name: fmt.Sprintf("%s%d", p, n), t: tEncr, aead: true, base: v, esp: &e, hint: hICV})
		}
		aliases[p+"128"] = p + "16"
		aliases[p+"96"] = p + "12"
		aliases[p+"64"] = p + "8"
		// AES-GMAC: AEAD without confidentiality.
		table = append(table, &keyword{name: "aes" + size + "gmac", t: tEncr, aead: true, gmac: true,
			base: variant{cls("DFD"), "no confidentiality, integrity-only ESP"},
			ike:  &variant{cls("FFX"), "no confidentiality"},
			ah:   &variant{cls("AFA"), ""}, hint: hNoConf}) // AH: AUTH_AES_*_GMAC, RFC 8221 MAY
	}
	for i, k := range table {
		k.order = i
		if _, dup := keywords[k.name]; dup {
			panic("crypto: duplicate keyword " + k.name)
		}
		keywords[k.name] = k
	}
	for a, c := range aliases {
		k, ok := keywords[c]
		if !ok {
			panic("crypto: alias " + a + " of unknown keyword " + c)
		}
		keywords[a] = k
	}
}

// lookup returns the entry of an exact (case-sensitive) keyword or alias.
func lookup(s string) (*keyword, bool) {
	k, ok := keywords[s]
	return k, ok
}

// variantFor returns the classification of k in a proposal of kind; addl
// says whether it is used as a keN_ additional key exchange.
func (k *keyword) variantFor(kind Kind, addl bool) variant {
	switch {
	case addl && k.addl != nil:
		return *k.addl
	case kind == AH && k.ah != nil:
		return *k.ah
	case kind == IKE && k.ike != nil:
		return *k.ike
	case kind != IKE && k.esp != nil:
		return *k.esp
	}
	return k.base
}

// Classify returns the classification of a keyword under a profile: "R",
// "A", "D" or "F" (F° is reported as "F"), and ok=false if the keyword is
// unknown. Aliases and keN_<method> are accepted, including those only
// strongSwan 6.0 knows (ParseProposal reports them as invalid on 5.9.8).
// Keywords without a security class (none, esn, noesn) are "A". Unknown
// profiles are treated as Modern.
func Classify(kind Kind, keyword string, profile Profile) (class string, ok bool) {
	k, addl, ok := resolveExact(keyword)
	if !ok {
		return "", false
	}
	return k.variantFor(kind, addl > 0).cls[profile.index()].String(), true
}
