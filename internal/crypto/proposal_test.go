package crypto

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseProposalFields(t *testing.T) {
	cases := []struct {
		kind Kind
		in   string
		want Proposal
	}{
		{IKE, "aes256gcm16-prfsha384-ecp384", Proposal{Encryption: []string{"aes256gcm16"},
			PRF: []string{"prfsha384"}, KE: []string{"ecp384"}, AEAD: true}},
		{IKE, "aes - sha - x25519 - modpnone - noesn", Proposal{Encryption: []string{"aes128"},
			Integrity: []string{"sha1"}, KE: []string{"curve25519", "none"}, ESN: []string{"noesn"}}},
		{ESP, "aes128gcm128-aes192gcm-aes256gcm96-aes128ccm64-camellia192ccm128", Proposal{
			Encryption: []string{"aes128gcm16", "aes192gcm16", "aes256gcm12", "aes128ccm8", "camellia192ccm16"}, AEAD: true}},
		{ESP, "blowfish-camellia-serpent-twofish-sha2_256-sha2_384-sha2_512-sha2_256_96-x448-esn-noesn", Proposal{
			Encryption: []string{"blowfish128", "camellia128", "serpent128", "twofish128"},
			Integrity:  []string{"sha256", "sha384", "sha512", "sha256_96"},
			KE:         []string{"curve448"}, ESN: []string{"esn", "noesn"}}},
		// strongSwan skips empty tokens and trims spaces.
		{IKE, "-aes256--sha256- ecp384 -", Proposal{Encryption: []string{"aes256"},
			Integrity: []string{"sha256"}, KE: []string{"ecp384"}}},
		// Correctable misspellings appear corrected.
		{IKE, "AES256-sha256!-ecp384", Proposal{Encryption: []string{"aes256"},
			Integrity: []string{"sha256"}, KE: []string{"ecp384"}}},
		{IKE, "aes256gcm16-prfsha384-ecp384-KE1_x25519", Proposal{Encryption: []string{"aes256gcm16"},
			PRF: []string{"prfsha384"}, KE: []string{"ecp384", "ke1_curve25519"}, AEAD: true}},
		{IKE, "aes256-aes256gcm16-sha256-ecp384", Proposal{Encryption: []string{"aes256", "aes256gcm16"},
			Integrity: []string{"sha256"}, KE: []string{"ecp384"}}},
		{IKE, "default", Proposal{}},
		{IKE, "", Proposal{}},
	}
	for _, tc := range cases {
		got, _ := ParseProposal(tc.kind, tc.in)
		tc.want.Text = tc.in
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseProposal(%v, %q) =\n %+v\nwant\n %+v", tc.kind, tc.in, got, tc.want)
		}
	}
}

func TestParseProposalInvalid(t *testing.T) {
	type want struct {
		keyword, msg, hint string
	}
	cases := []struct {
		kind Kind
		in   string
		want []want // RuleInvalid findings, in order; nil means valid
	}{
		{IKE, "aes256gcm16-prfsha384-ecp384", nil},
		{ESP, "aes256gcm16-ecp384", nil},
		{IKE, "aes256 - sha256 - ecp384", nil},
		{IKE, "aes256gcm16-sha384-ecp384", nil}, // PRF derived from integrity before it is stripped
		{ESP, "aes256", nil},                    // accepted by strongSwan, P1 is Check's business
		{ESP, "null", nil},
		{AH, "sha256", nil},
		{AH, "aes128gmac", nil},
		{AH, "aes256-sha256", nil},
		{IKE, "default", nil},
		{IKE, "Default", nil},
		// P5: unknown keywords, case, '!', 6.0-only keywords
		{IKE, "AES256-sha256-ecp384", []want{{"AES256", "case-sensitive", `write "aes256"`}}},
		{IKE, "aes256-SHA2_256-ecp384", []want{{"SHA2_256", "case-sensitive", `write "sha2_256"`}}},
		{ESP, "aes256-sha256!", []want{{"sha256!", "swanctl has no '!'", "swanctl has no '!'"}}},
		{ESP, "aes256gcm16-ecp384-!", []want{{"!", "'!' is ipsec.conf syntax", "swanctl has no '!'"}}},
		{IKE, "aes256-sha265-ecp384", []want{{"sha265", "not a strongSwan 5.9.8 keyword", `did you mean "sha256"?`}}},
		{IKE, "aes256-sha256-curve2519", []want{{"curve2519", "not a strongSwan", `did you mean "curve25519"?`}}},
		{IKE, "aes256gmc16-prfsha384-ecp384", []want{{"aes256gmc16", "not a strongSwan", `did you mean "aes256gcm16"?`}}},
		{IKE, "cast-sha256-ecp384", []want{{"cast", "not a strongSwan", `did you mean "cast128"?`}}},
		{IKE, "aes256-sha256-modp512", []want{{"modp512", "no 512-bit MODP group", "ecp384"}}},
		{IKE, "aes256-sha256-ecp384-default", []want{{"default", "list element of its own", "separate"}}},
		{IKE, "aes256 sha256 ecp384", []want{{"aes256 sha256 ecp384", "not a strongSwan", "separate keywords with '-'"}}},
		{IKE, "aes256-sha256-xyzzy", []want{{"xyzzy", "not a strongSwan", "keyword list"}}},
		{IKE, "aes256gcm16-prfsha384-x25519-ke1_mlkem768", []want{{"ke1_mlkem768", "not recognized by strongSwan 5.9.8", "needs strongSwan 6.0"}}},
		{IKE, "aes256gcm16-prfsha384-ecp384-mlkem768", []want{{"mlkem768", "ML-KEM needs strongSwan 6.0", "needs strongSwan 6.0"}}},
		{IKE, "aes256gcm16-prfsha384-gost256", []want{{"gost256", "GOST", "needs strongSwan 6.0"}}},
		{ESP, "aes256gcm16-ecp384-ke1_none", []want{{"ke1_none", "additional key exchanges", "needs strongSwan 6.0"}}},
		{IKE, "aes256-sha256-ecp384-ke8_mlkem768", []want{{"ke8_mlkem768", "not a strongSwan", ""}}},
		// P2: AEAD + classic
		{IKE, "aes256gcm16-aes256-sha256-ecp384", []want{{"", "mixes classic and AEAD", "split it"}}},
		{ESP, "aes256-aes256gcm16-sha256", []want{{"", "mixes classic and AEAD", "split it"}}},
		// P3: AEAD IKE without PRF; sha256_96 implies no PRF (checked on 5.9.8)
		{IKE, "aes256gcm16-ecp384", []want{{"", "a PRF algorithm is mandatory in IKE proposals", "prfsha384"}}},
		{IKE, "aes256-sha256_96-ecp256", []want{{"", "a PRF algorithm is mandatory in IKE proposals", "prfsha256"}}},
		// P4: IKE without KE, none is stripped
		{IKE, "aes256-sha256-none", []want{{"", "a DH group is mandatory in IKE proposals", "ecp384"}}},
		{IKE, "aes256-sha256", []want{{"", "a DH group is mandatory", "curve25519"}}},
		// IKE/ESP without encryption, IKE without integrity, AH without integrity
		{IKE, "sha256-prfsha256-ecp384", []want{{"", "an encryption algorithm is mandatory in IKE proposals", ""}}},
		{ESP, "sha256-ecp384", []want{{"", "an encryption algorithm is mandatory in ESP proposals", ""}}},
		{IKE, "aes256-ecp384", []want{{"", "an integrity algorithm is mandatory in IKE proposals", "sha256"}}},
		{AH, "aes256-ecp384", []want{{"", "an integrity algorithm is mandatory in AH proposals", "sha384"}}},
		{IKE, "", []want{{"", "empty proposal", "aes256gcm16-prfsha384-ecp384"}}},
		{ESP, " - ", []want{{"", "empty proposal", "aes256gcm16-ecp384"}}},
	}
	for _, tc := range cases {
		_, fs := ParseProposal(tc.kind, tc.in)
		if len(fs) != len(tc.want) {
			t.Errorf("ParseProposal(%v, %q): %d findings, want %d: %v", tc.kind, tc.in, len(fs), len(tc.want), fs)
			continue
		}
		for i, f := range fs {
			w := tc.want[i]
			if f.Rule != RuleInvalid || f.Severity != Error || f.Keyword != w.keyword ||
				!strings.Contains(f.Message, w.msg) || !strings.Contains(f.Hint, w.hint) {
				t.Errorf("ParseProposal(%v, %q)[%d] = %+v; want keyword %q, message ~%q, hint ~%q",
					tc.kind, tc.in, i, f, w.keyword, w.msg, w.hint)
			}
		}
	}
}

func TestEffectivePRF(t *testing.T) {
	cases := []struct {
		in   string
		want []string
	}{
		{"aes256-sha256-ecp384", []string{"prfsha256"}},
		{"aes256-sha1-sha1_160-sha384-md5_128-aesxcbc-aescmac-camelliaxcbc-sha512-md5-ecp384",
			[]string{"prfsha1", "prfsha384", "prfmd5", "prfaesxcbc", "prfaescmac", "prfcamelliaxcbc", "prfsha512"}},
		{"aes256-sha1-prfsha384-ecp384", []string{"prfsha384"}}, // explicit wins, nothing derived
		{"aes256gcm16-sha384-ecp384", []string{"prfsha384"}},
		{"aes256-sha256_96-ecp384", nil},
		{"aes256gcm16-ecp384", nil},
	}
	for _, tc := range cases {
		p, _ := ParseProposal(IKE, tc.in)
		if got := p.EffectivePRF(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("EffectivePRF(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestHasPFS(t *testing.T) {
	for in, want := range map[string]bool{
		"aes256gcm16":                     false,
		"aes256gcm16-ecp384":              true,
		"aes256gcm16-modpnone-ecp384":     false,
		"aes256gcm16-ecp384-none":         false,
		"aes256gcm16-none":                false,
		"aes256gcm16-ke1_mlkem768":        false,
		"aes256gcm16-ecp384-ke1_mlkem768": true,
		"aes256-sha256-modp3072-ecp384":   true,
	} {
		p, _ := ParseProposal(ESP, in)
		if got := p.HasPFS(); got != want {
			t.Errorf("HasPFS(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestIsDefault(t *testing.T) {
	for in, want := range map[string]bool{"default": true, "DEFAULT": true, " Default ": true, "defaults": false, "aes256-default": false} {
		if got := IsDefault(in); got != want {
			t.Errorf("IsDefault(%q) = %v", in, got)
		}
	}
}
