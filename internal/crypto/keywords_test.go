package crypto

import (
	"sort"
	"strings"
	"testing"
)

// keywords598 is the keyword column of strongSwan 5.9.8's
// src/libstrongswan/crypto/proposal/proposal_keywords_static.txt.
const keywords598 = `
null des 3des aes aes128 aes192 aes256 aes128ctr aes192ctr aes256ctr aes128ccm8 aes128ccm64
aes128ccm12 aes128ccm96 aes128ccm16 aes128ccm128 aes128ccm aes192ccm8 aes192ccm64 aes192ccm12
aes192ccm96 aes192ccm16 aes192ccm128 aes192ccm aes256ccm8 aes256ccm64 aes256ccm12 aes256ccm96
aes256ccm16 aes256ccm128 aes256ccm aes128gcm8 aes128gcm64 aes128gcm12 aes128gcm96 aes128gcm16
aes128gcm128 aes128gcm aes192gcm8 aes192gcm64 aes192gcm12 aes192gcm96 aes192gcm16 aes192gcm128
aes192gcm aes256gcm8 aes256gcm64 aes256gcm12 aes256gcm96 aes256gcm16 aes256gcm128 aes256gcm
aes128gmac aes192gmac aes256gmac chacha20poly1305 chacha20poly1305compat blowfish blowfish128
blowfish192 blowfish256 camellia camellia128 camellia192 camellia256 camellia128ctr camellia192ctr
camellia256ctr camellia128ccm8 camellia128ccm64 camellia128ccm12 camellia128ccm96 camellia128ccm16
camellia128ccm128 camellia192ccm8 camellia192ccm64 camellia192ccm12 camellia192ccm96
camellia192ccm16 camellia192ccm128 camellia256ccm8 camellia256ccm64 camellia256ccm12
camellia256ccm96 camellia256ccm16 camellia256ccm128 cast128 serpent serpent128 serpent192
serpent256 twofish twofish128 twofish192 twofish256 sha sha1 sha1_160 sha256 sha2_256 sha256_96
sha2_256_96 sha384 sha2_384 sha512 sha2_512 md5 md5_128 aesxcbc camelliaxcbc aescmac prfsha1
prfsha256 prfsha384 prfsha512 prfmd5 prfaesxcbc prfcamelliaxcbc prfaescmac none modpnone
modpnull modp768 modp1024 modp1536 modp2048 modp3072 modp4096 modp6144 modp8192 ecp192 ecp224
ecp256 ecp384 ecp521 modp1024s160 modp2048s224 modp2048s256 ecp224bp ecp256bp ecp384bp ecp512bp
curve25519 x25519 curve448 x448 ntru112 ntru128 ntru192 ntru256 newhope128 noesn esn`

// TestKeywordSetMatches598 checks that the table knows exactly strongSwan
// 5.9.8's keywords, plus the 6.0-only ones marked as such.
func TestKeywordSetMatches598(t *testing.T) {
	want := strings.Fields(keywords598)
	var got, v6 []string
	for name, k := range keywords {
		if k.v6 {
			v6 = append(v6, name)
		} else {
			got = append(got, name)
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	sort.Strings(v6)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("5.9.8 keyword set differs:\n got %v\nwant %v", got, want)
	}
	if strings.Join(v6, " ") != "gost256 gost512 mlkem1024 mlkem512 mlkem768" {
		t.Errorf("6.0-only keywords = %v", v6)
	}
	for _, w := range want {
		p, fs := ParseProposal(ESP, w)
		for _, f := range fs {
			if f.Keyword == w {
				t.Errorf("keyword %q reported invalid: %v", w, f)
			}
		}
		if p.Text != w {
			t.Errorf("ParseProposal(%q).Text = %q", w, p.Text)
		}
	}
}

func TestClassify(t *testing.T) {
	type c struct {
		kind                 Kind
		kw                   string
		modern, cnsa, legacy string
	}
	cases := []c{
		// §2.2
		{IKE, "des", "F", "F", "F"}, // F° shown as F
		{IKE, "3des", "F", "F", "D"},
		{ESP, "cast128", "F", "F", "D"},
		{ESP, "blowfish", "F", "F", "F"},
		{IKE, "null", "F", "F", "F"},
		{ESP, "null", "D", "F", "D"},
		{IKE, "aes", "A", "F", "A"},
		{IKE, "aes128", "A", "F", "A"},
		{IKE, "aes192", "A", "F", "A"},
		{IKE, "aes256", "A", "A", "A"},
		{IKE, "aes192ctr", "A", "F", "A"},
		{IKE, "camellia", "A", "F", "A"},
		{IKE, "camellia256ctr", "A", "F", "A"},
		{ESP, "serpent", "D", "F", "D"},
		{ESP, "twofish256", "D", "F", "D"},
		// §2.3
		{IKE, "aes128gcm16", "R", "F", "R"},
		{IKE, "aes128gcm128", "R", "F", "R"},
		{IKE, "aes128gcm", "R", "F", "R"},
		{IKE, "aes192gcm16", "A", "F", "A"},
		{IKE, "aes256gcm16", "R", "R", "R"},
		{IKE, "aes256gcm", "R", "R", "R"},
		{IKE, "aes256gcm12", "D", "F", "A"},
		{IKE, "aes256gcm96", "D", "F", "A"},
		{IKE, "aes128gcm8", "D", "F", "A"},
		{IKE, "aes128gcm64", "D", "F", "A"},
		{IKE, "aes256ccm16", "A", "F", "A"},
		{IKE, "aes256ccm", "A", "F", "A"},
		{IKE, "aes256ccm12", "D", "F", "A"},
		{IKE, "aes128ccm8", "D", "F", "A"},
		{IKE, "camellia256ccm16", "A", "F", "A"},
		{ESP, "camellia256ccm128", "D", "F", "A"},
		{ESP, "camellia128ccm64", "D", "F", "A"},
		{IKE, "chacha20poly1305", "R", "F", "R"},
		{IKE, "chacha20poly1305compat", "D", "F", "A"},
		{ESP, "aes128gmac", "D", "F", "D"},
		{IKE, "aes256gmac", "F", "F", "F"},
		{AH, "aes256gmac", "A", "F", "A"},
		// §2.4
		{ESP, "md5", "F", "F", "F"},
		{ESP, "md5_128", "F", "F", "F"},
		{ESP, "sha", "F", "F", "D"},
		{ESP, "sha1", "F", "F", "D"},
		{ESP, "sha1_160", "F", "F", "D"},
		{ESP, "aesxcbc", "D", "F", "A"},
		{ESP, "aescmac", "D", "F", "A"},
		{ESP, "camelliaxcbc", "D", "F", "D"},
		{ESP, "sha256", "R", "F", "R"},
		{ESP, "sha2_256", "R", "F", "R"},
		{ESP, "sha384", "R", "R", "R"},
		{ESP, "sha2_384", "R", "R", "R"},
		{ESP, "sha512", "R", "A", "R"},
		{ESP, "sha2_512", "R", "A", "R"},
		{ESP, "sha256_96", "D", "F", "D"},
		{ESP, "sha2_256_96", "D", "F", "D"},
		// §2.5
		{IKE, "prfmd5", "F", "F", "F"},
		{IKE, "prfsha1", "F", "F", "D"},
		{IKE, "prfaesxcbc", "A", "F", "A"},
		{IKE, "prfaescmac", "A", "F", "A"},
		{IKE, "prfcamelliaxcbc", "D", "F", "D"},
		{IKE, "prfsha256", "R", "F", "R"},
		{IKE, "prfsha384", "R", "R", "R"},
		{IKE, "prfsha512", "R", "A", "R"},
		// §2.6
		{IKE, "modp768", "F", "F", "F"},
		{IKE, "modp1024", "F", "F", "D"},
		{IKE, "modp1536", "F", "F", "D"},
		{IKE, "modp2048", "D", "F", "A"},
		{IKE, "modp3072", "R", "A", "R"},
		{IKE, "modp4096", "A", "A", "A"},
		{IKE, "modp8192", "A", "A", "A"},
		{IKE, "modp1024s160", "F", "F", "F"},
		{IKE, "modp2048s224", "F", "F", "D"},
		{IKE, "modp2048s256", "F", "F", "D"},
		{IKE, "ecp192", "F", "F", "D"},
		{IKE, "ecp224", "D", "F", "A"},
		{IKE, "ecp256", "R", "F", "R"},
		{IKE, "ecp384", "R", "R", "R"},
		{IKE, "ecp521", "A", "F", "A"},
		{IKE, "ecp224bp", "D", "F", "A"},
		{IKE, "ecp512bp", "A", "F", "A"},
		{IKE, "curve25519", "R", "F", "R"},
		{IKE, "x25519", "R", "F", "R"},
		{IKE, "x448", "A", "F", "A"},
		{IKE, "gost256", "D", "F", "D"},
		{IKE, "modpnull", "F", "F", "F"},
		// §2.7
		{IKE, "mlkem768", "D", "F", "R"},
		{IKE, "ke1_mlkem768", "R", "F", "R"},
		{IKE, "KE2_mlkem512", "A", "F", "A"},
		{IKE, "ke1_mlkem1024", "R", "R", "R"},
		{IKE, "ke1_x25519", "R", "F", "R"},
		// §2.8
		{ESP, "none", "A", "A", "A"},
		{ESP, "modpnone", "A", "A", "A"},
		{ESP, "esn", "A", "A", "A"},
	}
	for _, tc := range cases {
		for i, p := range Profiles {
			want := [3]string{tc.modern, tc.cnsa, tc.legacy}[i]
			got, ok := Classify(tc.kind, tc.kw, p)
			if !ok || got != want {
				t.Errorf("Classify(%v, %q, %s) = %q, %v; want %q", tc.kind, tc.kw, p, got, ok, want)
			}
		}
	}
	for _, bad := range []string{"", "AES256", "cast", "modp512", "default", "ke0_ecp384", "ke8_ecp384", "ke1_aes256", "ke1_", "aes256!"} {
		if got, ok := Classify(IKE, bad, Modern); ok {
			t.Errorf("Classify(%q) = %q, true; want unknown", bad, got)
		}
	}
}

// TestFloorOnlyInLegacyErrors checks that under legacy-interop every
// keyword of class F° is an error and every other weak one a warning.
func TestFloorOnlyInLegacyErrors(t *testing.T) {
	floor := map[string]bool{"des": true, "blowfish128": true, "blowfish192": true, "blowfish256": true,
		"md5": true, "md5_128": true, "prfmd5": true, "modp768": true, "modp1024s160": true, "modpnull": true}
	for _, k := range table {
		if k.v6 {
			continue
		}
		c := k.variantFor(ESP, false).cls[2]
		if floor[k.name] != (c == classFloor) {
			t.Errorf("%s: legacy class %v, floor expected %v", k.name, c, floor[k.name])
		}
		if c == classF {
			t.Errorf("%s: plain F in the legacy column", k.name)
		}
	}
}

func TestParseProfile(t *testing.T) {
	for in, want := range map[string]Profile{"modern": Modern, "cnsa": CNSA, "legacy-interop": Legacy, " CNSA ": CNSA, "": Modern} {
		if got, err := ParseProfile(in); err != nil || got != want {
			t.Errorf("ParseProfile(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseProfile("legacy")
	if err == nil || !strings.Contains(err.Error(), "modern, cnsa, legacy-interop") {
		t.Errorf("ParseProfile(legacy) error = %v", err)
	}
}
