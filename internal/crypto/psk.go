package crypto

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
)

// PSK length thresholds in bytes (baseline §7.2).
const (
	pskMinBytes  = 16 // Libreswan's FIPS minimum for a SHA-256 PRF, AES-128 key size
	pskGoodBytes = 32 // strongSwan's ">256 bit" advice
)

// The fixed low-entropy messages.
const (
	msgHumanChosen = "pre-shared key looks human-chosen or has low entropy (words, a common password, a pattern or few distinct characters), so an attacker who sees one IKE_AUTH exchange can guess it offline"
	msgNotRandom   = "pre-shared key is not random (its decoded bytes repeat a pattern or take few distinct values), so an attacker who sees one IKE_AUTH exchange can guess it offline"
)

const pskGenerate = "generate a random key with: openssl rand -base64 33, and write it as 0s<base64>"

// CheckPSK lints a pre-shared key. secret is the value as written in
// ipsec.secrets/swanctl syntax: a "0x" prefix means hex, "0s" base64
// (prefixes are case-insensitive, as in swanctl), otherwise the raw bytes.
// It decodes it and applies §7.2: <16 bytes error (modern/cnsa; warning
// legacy), 16..31 warning (modern) / error (cnsa) / info (legacy), a
// low-entropy human-looking unprefixed value warning (error under cnsa, as
// §7.2 says). The findings never contain the secret or any part of it: they
// mention only lengths in bytes. Invalid hex/base64 after the prefix is an
// Error with rule psk-weak and a hint.
func CheckPSK(secret string, profile Profile) []Finding {
	data, prefixed, err := decodePSK(secret)
	if err != "" {
		return []Finding{{Severity: Error, Rule: RulePSKWeak, Message: err,
			Hint: "fix the encoding, or " + pskGenerate}}
	}
	n := len(data)
	var out []Finding
	switch {
	case n < pskMinBytes:
		out = append(out, Finding{Severity: bySeverity(profile, Error, Error, Warning), Rule: RulePSKWeak,
			Message: fmt.Sprintf("pre-shared key is %d bytes, below the minimum of %d bytes (128 bits) for a SHA-256 PRF and an AES-128 key", n, pskMinBytes),
			Hint:    pskGenerate})
	case n < pskGoodBytes:
		msg := fmt.Sprintf("pre-shared key is %d bytes, below the %d bytes (256 bits) of entropy strongSwan advises", n, pskGoodBytes)
		if profile == CNSA {
			msg += " and AES-256 needs"
		}
		out = append(out, Finding{Severity: bySeverity(profile, Warning, Error, Info), Rule: RulePSKWeak,
			Message: msg, Hint: pskGenerate})
	}
	// The message is the same whatever triggered it, so that it reveals
	// nothing about the secret but its length.
	msg := ""
	switch {
	case prefixed && lowVariety(data) != "":
		msg = msgNotRandom
	case !prefixed && lowEntropy(secret) != "":
		msg = msgHumanChosen
	}
	if msg != "" {
		out = append(out, Finding{Severity: bySeverity(profile, Warning, Error, Warning), Rule: RulePSKWeak,
			Message: msg, Hint: pskGenerate + "; or use certificates or EAP with a server certificate"})
	}
	return out
}

// decodePSK returns the decoded secret, whether it had a 0x/0s prefix, and
// an error message (never quoting the secret) if the encoding is invalid.
// Hex may contain ':' separators and an odd number of digits (a leading zero
// nibble is implied), as strongSwan's chunk_from_hex accepts.
func decodePSK(secret string) (data []byte, prefixed bool, err string) {
	if len(secret) < 2 || secret[0] != '0' {
		return []byte(secret), false, ""
	}
	body := secret[2:]
	switch secret[1] {
	case 'x', 'X':
		digits := strings.ReplaceAll(body, ":", "")
		if len(digits)%2 == 1 {
			digits = "0" + digits
		}
		b, e := hex.DecodeString(digits)
		if e != nil {
			return nil, true, "pre-shared key has a hex prefix but contains characters that are not hex digits"
		}
		return b, true, ""
	case 's', 'S':
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
			if b, e := enc.DecodeString(body); e == nil {
				return b, true, ""
			}
		}
		return nil, true, "pre-shared key has a base64 prefix but is not valid base64"
	}
	return []byte(secret), false, ""
}

// lowVariety returns why a decoded (0x/0s) key is clearly not random, or "":
// few distinct byte values or a repeated pattern.
func lowVariety(b []byte) string {
	if len(b) < 8 {
		return ""
	}
	if distinct(string(b)) < 5 {
		return "few distinct byte values"
	}
	if periodic(string(b)) {
		return "a repeated pattern"
	}
	return ""
}

// commonFragments are parts of widely used passwords, matched
// case-insensitively; all are 5 bytes or longer, so a random key contains
// one by chance with negligible probability.
var commonFragments = []string{
	"password", "passwort", "passphrase", "qwert", "azert", "asdfg", "zxcvb", "yxcvb", "secret", "letmein",
	"admin", "changeme", "welcome", "123456", "654321", "strongswan", "iloveyou",
	"trustno1", "sunshine", "dragon", "monkey", "abc123", "master", "shadow",
	"football", "baseball", "default", "ipsecvpn", "private", "company",
}

// lowEntropy returns why an unprefixed secret looks human-chosen, or "".
// It is a heuristic (baseline §10.8: the estimator is a design choice):
// common password fragments, few distinct characters, a repeated or
// sequential pattern, space-separated words, word-like letter runs covering
// most of the value, or a character-set bound below 64 bits.
func lowEntropy(s string) string {
	if s == "" {
		return ""
	}
	if len(s) > 4096 { // bound the work; no human types a longer key
		s = s[:4096]
	}
	lower := strings.ToLower(s)
	for _, f := range commonFragments {
		if strings.Contains(lower, f) {
			return "it contains a common password"
		}
	}
	if len(s) >= 4 {
		if d := distinct(s); d < 5 || (len(s) >= 24 && d < 8) {
			return "few distinct characters"
		}
		if periodic(s) {
			return "a repeated pattern"
		}
		if sequential(s) {
			return "a character sequence"
		}
	}
	if isPassphrase(s) {
		return "words or a passphrase"
	}
	if bits := float64(len(s)) * math.Log2(float64(charsetSize(s))); bits < 64 {
		return "a small character set"
	}
	return ""
}

func distinct(s string) int {
	var seen [256]bool
	n := 0
	for i := 0; i < len(s); i++ {
		if !seen[s[i]] {
			seen[s[i]] = true
			n++
		}
	}
	return n
}

// periodic reports whether s repeats a unit of at most half its length.
func periodic(s string) bool {
	for p := 1; p <= len(s)/2; p++ {
		if s[p:] == s[:len(s)-p] {
			return true
		}
	}
	return false
}

// sequential reports whether at least half the steps between adjacent bytes
// are +1 or -1 ("abcd", "4321").
func sequential(s string) bool {
	steps := 0
	for i := 1; i < len(s); i++ {
		if d := int(s[i]) - int(s[i-1]); d == 1 || d == -1 {
			steps++
		}
	}
	return 2*steps >= len(s)-1
}

// charsetSize estimates the alphabet of s from the character classes present.
func charsetSize(s string) int {
	var lower, upper, digit, space, punct, other bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upper = true
		case '0' <= c && c <= '9':
			digit = true
		case c == ' ':
			space = true
		case c > ' ' && c < 0x7f:
			punct = true
		default:
			other = true
		}
	}
	if other {
		return 256
	}
	n := 0
	for _, c := range []struct {
		on   bool
		size int
	}{{lower, 26}, {upper, 26}, {digit, 10}, {space, 1}, {punct, 32}} {
		if c.on {
			n += c.size
		}
	}
	return max(n, 2)
}

// isPassphrase reports values made of words: printable ASCII with at least
// two space-separated alphabetic words, or letter runs that look like words
// (split at lower-to-upper case changes) covering 60% of the value.
func isPassphrase(s string) bool {
	words, covered := 0, 0
	for _, field := range strings.Fields(s) {
		for _, r := range letterRuns(field) {
			if len(r) >= 2 && hasVowel(r) {
				words++
			}
			if wordLike(r) {
				covered += len(r)
			}
		}
	}
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] >= 0x7f {
			return false
		}
	}
	if strings.Contains(s, " ") && words >= 2 {
		return true
	}
	return 10*covered >= 6*len(s)
}

// letterRuns splits s into maximal runs of ASCII letters, also splitting
// where a lower-case letter is followed by an upper-case one.
func letterRuns(s string) []string {
	var runs []string
	start := -1
	for i := 0; i <= len(s); i++ {
		isLetter := i < len(s) && isAlpha(s[i])
		camel := isLetter && start >= 0 && isUpper(s[i]) && !isUpper(s[i-1])
		if start >= 0 && (!isLetter || camel) {
			runs = append(runs, s[start:i])
			start = -1
		}
		if isLetter && start < 0 {
			start = i
		}
	}
	return runs
}

func isAlpha(c byte) bool { return 'a' <= c|0x20 && c|0x20 <= 'z' }
func isUpper(c byte) bool { return 'A' <= c && c <= 'Z' }

func isVowel(c byte) bool { return strings.IndexByte("aeiouy", c|0x20) >= 0 }

func hasVowel(r string) bool {
	for i := 0; i < len(r); i++ {
		if isVowel(r[i]) {
			return true
		}
	}
	return false
}

// bigrams lists, for each first letter a..z, the second letters of the
// letter pairs that make up at least 0.01% of the pairs in English prose (the
// Debian license texts and the Go documentation were counted). About 44% of
// all pairs qualify, so a random letter run rarely consists only of them.
var bigrams = [26]string{
	"bcdfgiklmnprstuvwxy",
	"aeijlnorsuy",
	"acehiklorstu",
	"adeilorsuy",
	"abcdefgilmnopqrstvwxy",
	"aefilorstuy",
	"aeghilnoprstu",
	"aeiortu",
	"abcdefgklmnoprstvxz",
	"eu",
	"aeins",
	"adefilostuvy",
	"abeimopstu",
	"acdefgiklmnostuvy",
	"abcdefgiklmnoprstuvw",
	"aehiloprstuy",
	"u",
	"abcdefgiklmnoprstuvwy",
	"abcefhilmopstuwy",
	"acefhilmoprstuwy",
	"abcdefgilmnprst",
	"aeio",
	"aehilnor",
	"aceipt",
	"eimnoprst",
	"ae",
}

// commonPair reports whether the lower-case letters a, b form a common pair.
func commonPair(a, b byte) bool {
	return strings.IndexByte(bigrams[a-'a'], b) >= 0
}

// wordLike reports whether a letter run reads like (concatenated) words: a
// natural vowel ratio, mostly common letter pairs (at most one uncommon pair
// per 8 letters), and no mixed case after the first letter.
func wordLike(r string) bool {
	n := len(r)
	if n < 4 {
		return false
	}
	vowels, upper, uncommon := 0, 0, 0
	for i := 0; i < n; i++ {
		c := r[i] | 0x20
		if isVowel(c) {
			vowels++
		}
		if i > 0 {
			if isUpper(r[i]) {
				upper++
			}
			if !commonPair(r[i-1]|0x20, c) {
				uncommon++
			}
		}
	}
	ratio := float64(vowels) / float64(n)
	return ratio >= 0.2 && ratio <= 0.7 && uncommon <= n/8 && (upper == 0 || upper == n-1)
}
