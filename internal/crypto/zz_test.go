package crypto

import "testing"

func TestZZ(t *testing.T) {
	cases := []struct {
		k Kind
		s []string
	}{
		{IKE, []string{"aes256gcm16-prfsha384-ecp384"}},
		{ESP, []string{"aes256gcm16-ecp384"}},
		{IKE, []string{"aes128-sha256-modp3072"}},
		{IKE, []string{"3des-md5-modp1024"}},
		{IKE, []string{"aes256-sha1-modp2048s256"}},
		{IKE, []string{"aes256gcm16-prfsha384-x25519-ke1_mlkem768"}},
		{ESP, []string{"aes256gcm16"}},
		{ESP, []string{"aes256"}},
		{ESP, []string{"aes256-sha256!"}},
		{IKE, []string{"aes256-sha256-none"}},
		{IKE, []string{"aes256gcm16-ecp384"}},
		{IKE, []string{"aes256gcm16-sha384-ecp384"}},
		{IKE, []string{"AES256-sha256-ecp384", "default"}},
		{ESP, []string{"aes256-sha256-modp2048-ecp384-none", "aes256-sha2_56-foo"}},
		{IKE, []string{"aes128-aes256-sha256-sha384-ecp384-modp2048-esn"}},
		{AH, []string{"aes256-sha256-prfsha256-ecp384", "aes128gmac"}},
		{ESP, nil},
		{IKE, []string{"", "aes256-cast-modp512"}},
	}
	for _, c := range cases {
		for _, p := range Profiles {
			for _, f := range Check(c.k, c.s, p, 1) {
				t.Logf("%v %q %s: %s", c.k, c.s, p, f)
			}
		}
	}
	t.Logf("%+v", mustParse(IKE, "aes-sha-x25519-modpnone-noesn-aes128gcm"))
	t.Log(CheckPSK("this is the password", Modern))
	t.Log(CheckPSK("0xZZ", Modern))
	t.Log(CheckPSK("0s"+"dGVzdHRlc3R0ZXN0dGVzdHRlc3R0ZXN0dGVzdHRlc3Q=", CNSA))
}

func mustParse(k Kind, s string) Proposal { p, _ := ParseProposal(k, s); return p }
