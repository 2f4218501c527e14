package crypto

import (
	"reflect"
	"testing"
)

func FuzzParseProposal(f *testing.F) {
	for _, s := range []string{
		"aes256gcm16-prfsha384-ecp384", "aes256gcm16-ecp384", "aes128-sha256-modp3072",
		"3des-md5-modp1024", "aes256-sha256!", "AES256-sha256-none", "default", "",
		"aes256gcm16-prfsha384-x25519-ke1_mlkem768", " - aes - -sha- ", "KE7_none-ke0_x", "\x00\xff-!",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, kind := range []Kind{IKE, ESP, AH} {
			p, fs := ParseProposal(kind, s)
			if p.Text != s {
				t.Fatalf("Text = %q, want %q", p.Text, s)
			}
			for _, f := range fs {
				if f.Rule != RuleInvalid || f.Severity != Error {
					t.Fatalf("ParseProposal finding %+v", f)
				}
			}
			_ = p.EffectivePRF()
			_ = p.HasPFS()
			for _, prof := range Profiles {
				a := Check(kind, []string{s, s}, prof, 1)
				if b := Check(kind, []string{s, s}, prof, 1); !reflect.DeepEqual(a, b) {
					t.Fatalf("Check not deterministic for %q", s)
				}
				for _, f := range append(a, Check(kind, []string{s}, prof, 2)...) {
					checkStyle(t, f)
				}
			}
		}
	})
}

func FuzzCheckPSK(f *testing.F) {
	for _, s := range []string{"", "0x00", "0s", "0sAAAA", "this is the password", "0x" + "ab:cd", "0S====", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range Profiles {
			checkNoLeak(t, s, CheckPSK(s, p))
		}
	})
}
