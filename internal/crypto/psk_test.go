package crypto

import (
	"encoding/base64"
	"encoding/hex"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// pskFixture returns n deterministic pseudo-random bytes.
func pskFixture(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

func TestCheckPSK(t *testing.T) {
	b33 := pskFixture(1, 33)
	type want struct {
		sev Severity
		msg string
	}
	cases := []struct {
		name, secret string
		modern       []want
		cnsa         []want
		legacy       []want
	}{
		{"base64 33 bytes", "0s" + base64.StdEncoding.EncodeToString(b33), nil, nil, nil},
		{"base64 unpadded", "0S" + base64.RawStdEncoding.EncodeToString(b33[:32]), nil, nil, nil},
		{"hex 32 bytes", "0x" + hex.EncodeToString(b33[:32]), nil, nil, nil},
		{"hex with colons", "0X" + strings.ToUpper(hex.EncodeToString(b33[:32])[:2]+":"+hex.EncodeToString(b33[1:32])), nil, nil, nil},
		{"raw random 44 chars", base64.StdEncoding.EncodeToString(b33[:32]), nil, nil, nil},
		{"hex 20 bytes", "0x" + hex.EncodeToString(b33[:20]),
			[]want{{Warning, "20 bytes, below the 32 bytes"}},
			[]want{{Error, "AES-256"}},
			[]want{{Info, "20 bytes"}}},
		{"odd hex 31 digits = 16 bytes", "0x" + hex.EncodeToString(b33[:16])[1:],
			[]want{{Warning, "16 bytes"}}, []want{{Error, "16 bytes"}}, []want{{Info, "16 bytes"}}},
		{"base64 15 bytes", "0s" + base64.StdEncoding.EncodeToString(b33[:15]),
			[]want{{Error, "15 bytes, below the minimum of 16 bytes"}},
			[]want{{Error, "15 bytes"}},
			[]want{{Warning, "15 bytes"}}},
		{"empty", "", []want{{Error, "0 bytes"}}, []want{{Error, "0 bytes"}}, []want{{Warning, "0 bytes"}}},
		{"empty hex", "0x", []want{{Error, "0 bytes"}}, []want{{Error, "0 bytes"}}, []want{{Warning, "0 bytes"}}},
		{"seed 000 password", "this is the password",
			[]want{{Warning, "20 bytes"}, {Warning, "human-chosen"}},
			[]want{{Error, "20 bytes"}, {Error, "human-chosen"}},
			[]want{{Info, "20 bytes"}, {Warning, "human-chosen"}}},
		{"long passphrase", "correct horse battery staple on the blue mountain",
			[]want{{Warning, "human-chosen"}}, []want{{Error, "human-chosen"}}, []want{{Warning, "human-chosen"}}},
		{"concatenated words", "CorrectHorseBatteryStapleBlueMountain",
			[]want{{Warning, "human-chosen"}}, []want{{Error, "human-chosen"}}, []want{{Warning, "human-chosen"}}},
		{"few distinct", strings.Repeat("ab", 20),
			[]want{{Warning, "human-chosen"}}, []want{{Error, "human-chosen"}}, []want{{Warning, "human-chosen"}}},
		{"all zero hex", "0x" + strings.Repeat("00", 32),
			[]want{{Warning, "not random"}}, []want{{Error, "not random"}}, []want{{Warning, "not random"}}},
		{"bad hex", "0xnothex-at-all-0123456789abcdef",
			[]want{{Error, "not hex digits"}}, []want{{Error, "not hex digits"}}, []want{{Error, "not hex digits"}}},
		{"bad base64", "0s***notbase64***",
			[]want{{Error, "not valid base64"}}, []want{{Error, "not valid base64"}}, []want{{Error, "not valid base64"}}},
	}
	for _, c := range cases {
		for i, p := range Profiles {
			exp := [][]want{c.modern, c.cnsa, c.legacy}[i]
			got := CheckPSK(c.secret, p)
			ok := len(got) == len(exp)
			for j := 0; ok && j < len(got); j++ {
				ok = got[j].Severity == exp[j].sev && strings.Contains(got[j].Message, exp[j].msg) &&
					got[j].Rule == RulePSKWeak && got[j].Keyword == "" && got[j].Hint != ""
			}
			if !ok {
				t.Errorf("%s: CheckPSK(%s) = %v, want %v", c.name, p, got, exp)
			}
		}
	}
}

// TestLowEntropyHeuristic checks the estimator on human-looking values and
// that it does not flag random keys of 24 bytes or more.
func TestLowEntropyHeuristic(t *testing.T) {
	for _, s := range []string{
		"this is the password", "Password2024!", "thisisthepassword", "Sommerurlaub2023",
		"my vpn key for site a", "bestfriendforever", "qwertzuiopasdfgh", "0123456789abcdef0123",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "1234512345123451234512345", "9876543210", "00000000000000000000",
		"hunter2hunter2hunter2",
	} {
		if lowEntropy(s) == "" {
			t.Errorf("lowEntropy(%q) = \"\", want a reason", s)
		}
	}
	r := rand.New(rand.NewPCG(7, 7))
	sets := []string{
		"abcdefghijklmnopqrstuvwxyz",
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/",
		"0123456789abcdef",
	}
	for _, cs := range sets {
		for _, n := range []int{32, 44, 64} {
			for i := 0; i < 2000; i++ {
				b := make([]byte, n)
				for j := range b {
					b[j] = cs[r.IntN(len(cs))]
				}
				if why := lowEntropy(string(b)); why != "" {
					t.Errorf("random %d-char value flagged: %s", n, why)
				}
			}
		}
	}
}

// pskTemplates holds every message CheckPSK may produce, with numbers
// replaced by N: the messages reveal nothing but byte lengths.
var pskTemplates = map[string]bool{}

func init() {
	for s := range pskTemplateList {
		pskTemplates[digits.ReplaceAllString(s, "N")] = true
	}
}

var pskTemplateList = map[string]bool{
	"pre-shared key is N bytes, below the minimum of N bytes (N bits) for a SHA-N PRF and an AES-N key":   true,
	"pre-shared key is N bytes, below the N bytes (N bits) of entropy strongSwan advises":                 true,
	"pre-shared key is N bytes, below the N bytes (N bits) of entropy strongSwan advises and AES-N needs": true,
	msgHumanChosen: true,
	msgNotRandom:   true,
	"pre-shared key has a hex prefix but contains characters that are not hex digits": true,
	"pre-shared key has a base64 prefix but is not valid base64":                      true,
}

var digits = regexp.MustCompile(`[0-9]+`)

// checkNoLeak fails if a PSK finding could carry any part of the secret.
func checkNoLeak(t *testing.T, secret string, fs []Finding) {
	t.Helper()
	for _, f := range fs {
		if f.Keyword != "" || !pskTemplates[digits.ReplaceAllString(f.Message, "N")] ||
			!strings.HasPrefix(f.Hint, pskGenerate) && !strings.HasPrefix(f.Hint, "fix the encoding") {
			t.Errorf("CheckPSK(%q) finding not from a fixed template: %+v", secret, f)
		}
		checkStyle(t, f)
	}
}

func TestCheckPSKNeverLeaks(t *testing.T) {
	for _, s := range []string{"", "x", "Zq7marker", "0xZq7marker", "0sZq7marker===", "this is the password",
		"0x" + strings.Repeat("ab", 40), "pre-shared key", "bytes", "0s", "0x0", "16 bytes"} {
		for _, p := range Profiles {
			checkNoLeak(t, s, CheckPSK(s, p))
		}
	}
}
