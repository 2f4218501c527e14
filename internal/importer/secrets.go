package importer

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
)

// Secret types of ipsec.secrets (case-sensitive, as in stroke_cred.c).
const (
	SecretPSK   = "PSK"
	SecretEAP   = "EAP"
	SecretXAUTH = "XAUTH"
	SecretNTLM  = "NTLM"
	SecretRSA   = "RSA"
	SecretECDSA = "ECDSA"
	SecretPKCS8 = "PKCS8"
	SecretP12   = "P12"
	SecretPIN   = "PIN"
)

// PrivateKeyDir is where stroke looks for relative key file names.
const PrivateKeyDir = "/etc/ipsec.d/private"

// SecretEntry is one line of ipsec.secrets.
type SecretEntry struct {
	Pos     Pos // start of the line
	IDs     []string
	Type    string
	TypePos Pos

	// PSK, EAP, XAUTH, NTLM: the decoded secret and how it was written
	// (quoted, hex, base64 or raw).
	Value    []byte
	Encoding string
	ValuePos Pos

	// RSA, ECDSA, PKCS8, P12: the key file as written and as strongSwan
	// resolves it, and the optional passphrases.
	File        string
	Path        string
	Passphrases [][]byte
	Prompt      bool // %prompt
	// PIN: the rest of the line (smartcard reference), not interpreted.
	Rest string
}

// Shared reports whether e is a shared secret (PSK, EAP, XAUTH, NTLM).
func (e *SecretEntry) Shared() bool {
	switch e.Type {
	case SecretPSK, SecretEAP, SecretXAUTH, SecretNTLM:
		return true
	}
	return false
}

// Secrets is a parsed ipsec.secrets with its includes.
type Secrets struct {
	Files   []string
	Entries []*SecretEntry
	Items   []Item
}

const maxSecretsRecursion = 10

// ParseSecrets reads an ipsec.secrets file and its includes.
func ParseSecrets(fsys FS, name string) (*Secrets, error) {
	src, err := fsys.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return ParseSecretsBytes(fsys, name, src)
}

// ParseSecretsBytes parses ipsec.secrets content.
func ParseSecretsBytes(fsys FS, name string, src []byte) (*Secrets, error) {
	s := &Secrets{}
	if err := s.parse(fsys, name, src, 0); err != nil {
		return nil, err
	}
	return s, nil
}

// line is a cursor over one line of ipsec.secrets.
type sline struct {
	s    string
	off  int
	file string
	nr   int
	note string // how strongSwan reads a malformed 0x/0s value
}

func (l *sline) pos() Pos { return Pos{File: l.file, Line: l.nr, Col: l.off + 1} }

// eatWS skips blanks and reports whether something other than a comment
// follows (eat_whitespace in lexparser.c).
func (l *sline) eatWS() bool {
	for l.off < len(l.s) && (l.s[l.off] == ' ' || l.s[l.off] == '\t') {
		l.off++
	}
	return l.off < len(l.s) && l.s[l.off] != '#'
}

// token extracts up to the next blank (space or tab), or the rest of the
// line; ok is false if there was no blank.
func (l *sline) token() (string, bool) {
	rest := l.s[l.off:]
	i := strings.IndexAny(rest, " \t")
	if i < 0 {
		return rest, false
	}
	l.off += i + 1
	return rest[:i], true
}

// value extracts a possibly quoted value (extract_value).
func (l *sline) value() (string, Pos, error) {
	if !l.eatWS() {
		return "", l.pos(), nil
	}
	p := l.pos()
	if q := l.s[l.off]; q == '"' || q == '\'' {
		end := strings.IndexByte(l.s[l.off+1:], q)
		if end < 0 {
			return "", p, errAt(p, "missing closing %c", q)
		}
		v := l.s[l.off+1 : l.off+1+end]
		l.off += end + 2
		return v, p, nil
	}
	v, ok := l.token()
	if !ok {
		l.off = len(l.s)
	}
	return v, p, nil
}

// secret extracts a secret (extract_secret): quoted text is literal,
// 0x is hex, 0s is base64, anything else is the raw word.
func (l *sline) secret() ([]byte, string, Pos, error) {
	if !l.eatWS() {
		return nil, "", l.pos(), errAt(l.pos(), "missing secret")
	}
	p := l.pos()
	if q := l.s[l.off]; q == '"' || q == '\'' {
		end := strings.IndexByte(l.s[l.off+1:], q)
		if end < 0 {
			return nil, "", p, errAt(p, "malformed secret: missing second delimiter %c", q)
		}
		v := l.s[l.off+1 : l.off+1+end]
		l.off += end + 2
		return []byte(v), "quoted", p, nil
	}
	raw, ok := l.token()
	if !ok {
		l.off = len(l.s)
	}
	if len(raw) > 2 {
		switch strings.ToLower(raw[:2]) {
		case "0x":
			b, note := decodeHex(raw[2:])
			l.note = note
			return b, "hex", p, nil
		case "0s":
			b, note := decodeBase64(raw[2:])
			l.note = note
			return b, "base64", p, nil
		}
	}
	return []byte(raw), "raw", p, nil
}

// decodeHex decodes hex exactly like strongSwan's chunk_from_hex: ':'
// separators are skipped, an odd number of digits gets a leading zero
// nibble, and an invalid digit counts as 0 (the note says so).
func decodeHex(s string) ([]byte, string) {
	digits := strings.ReplaceAll(s, ":", "")
	note := ""
	for i := 0; i < len(digits); i++ {
		if _, ok := hexNibble(digits[i]); !ok {
			note = "it contains characters that are not hex digits, which strongSwan reads as 0"
			break
		}
	}
	if len(digits)%2 == 1 {
		digits = "0" + digits
	}
	out := make([]byte, len(digits)/2)
	for i := 0; i < len(digits); i += 2 {
		hi, _ := hexNibble(digits[i])
		lo, _ := hexNibble(digits[i+1])
		out[i/2] = hi<<4 | lo
	}
	return out, note
}

func hexNibble(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func b642bin(c byte) byte {
	switch {
	case 'A' <= c && c <= 'Z':
		return c - 'A'
	case 'a' <= c && c <= 'z':
		return 26 + c - 'a'
	case '0' <= c && c <= '9':
		return 52 + c - '0'
	case c == '+' || c == '-':
		return 62
	case c == '/' || c == '_':
		return 63
	case c == '=':
		return 0
	}
	return 0xff
}

// decodeBase64 decodes exactly like strongSwan's chunk_from_base64: only
// whole groups of four characters count, '=' shortens the result, and an
// invalid character decodes as all ones. The note explains any deviation
// from standard base64, which changes the key.
func decodeBase64(s string) ([]byte, string) {
	n := len(s) / 4 * 3
	buf := make([]byte, n)
	out := 0
	pos := 0
	for i := 0; i < n; i += 3 {
		out += 3
		var b [4]byte
		for j := 0; j < 4; j++ {
			if s[pos] == '=' && out > 0 {
				out--
			}
			b[j] = b642bin(s[pos])
			pos++
		}
		buf[i] = b[0]<<2 | b[1]>>4
		buf[i+1] = b[1]<<4 | b[2]>>2
		buf[i+2] = b[2]<<6 | b[3]
	}
	note := ""
	switch {
	case len(s)%4 != 0:
		note = fmt.Sprintf("its length (%d characters after 0s) is not a multiple of 4: strongSwan ignores the last %d character(s)", len(s), len(s)%4)
	default:
		for i := 0; i < len(s); i++ {
			if b642bin(s[i]) == 0xff {
				note = "it contains characters that are not base64, which strongSwan decodes as garbage"
				break
			}
		}
	}
	return buf[:out], note
}

func (s *Secrets) parse(fsys FS, name string, src []byte, level int) error {
	if len(src) > MaxFileSize {
		return errAt(Pos{File: name}, "file is larger than %d MiB", MaxFileSize>>20)
	}
	s.Files = append(s.Files, name)
	lines := bytes.Split(src, []byte("\n"))
	for i, raw := range lines {
		l := &sline{s: strings.TrimSuffix(string(raw), "\r"), file: name, nr: i + 1}
		if !l.eatWS() {
			continue
		}
		rest := l.s[l.off:]
		if len(rest) > len("include ") && strings.HasPrefix(rest, "include ") {
			if err := s.include(fsys, l, level); err != nil {
				return err
			}
			continue
		}
		e := &SecretEntry{Pos: l.pos()}
		var ids string
		idsOff := l.off
		switch {
		case len(rest) > 2 && strings.HasPrefix(rest, ": "):
			l.off++
		default:
			j := strings.Index(rest, " : ")
			if j < 0 {
				return errAt(l.pos(), "missing ' : ' separator between the ids and the secret (write `ID ... : PSK \"secret\"` or `: RSA key.pem`)")
			}
			ids = rest[:j]
			l.off += j + 3
		}
		if !l.eatWS() {
			return errAt(l.pos(), "missing secret type after ':' (PSK, EAP, XAUTH, NTLM, RSA, ECDSA, PKCS8, P12 or PIN)")
		}
		e.TypePos = l.pos()
		typ, ok := l.token()
		if !ok {
			return errAt(e.TypePos, "missing token: %q must be followed by a secret or a file", typ)
		}
		e.Type = typ
		switch typ {
		case SecretPSK, SecretEAP, SecretXAUTH, SecretNTLM:
			v, enc, vp, err := l.secret()
			if err != nil {
				return err
			}
			e.Value, e.Encoding, e.ValuePos = v, enc, vp
			if l.note != "" {
				s.Items = append(s.Items, Item{Pos: vp, Severity: Warning, Category: CatSecrets,
					Message: fmt.Sprintf("the %s %s secret is malformed: %s; the conversion keeps the %d bytes strongSwan uses", enc, typ, l.note, len(v)),
					Hint:    "fix the value on both peers (openssl rand -base64 33)"})
			}
		case SecretRSA, SecretECDSA, SecretPKCS8, SecretP12:
			f, fp, err := l.value()
			if err != nil {
				return err
			}
			if f == "" {
				return errAt(fp, "empty filename")
			}
			e.File, e.ValuePos = f, fp
			e.Path = f
			if !filepath.IsAbs(f) {
				e.Path = PrivateKeyDir + "/" + f
			}
			for n := 0; n < 2 && l.eatWS(); n++ {
				v, _, _, err := l.secret()
				if err != nil {
					return errAt(l.pos(), "malformed passphrase: %v", err.(*SyntaxError).Msg)
				}
				if n == 0 && string(v) == "%prompt" {
					e.Prompt = true
					break
				}
				e.Passphrases = append(e.Passphrases, v)
			}
		case SecretPIN:
			e.Rest = strings.TrimSpace(l.s[l.off:])
		default:
			return errAt(e.TypePos, "token must be either RSA, ECDSA, PKCS8, P12, PIN, PSK, EAP, XAUTH or NTLM, found %q", typ)
		}
		// owners
		il := &sline{s: ids, file: name, nr: i + 1}
		for il.off < len(il.s) {
			v, vp, err := il.value()
			if err != nil {
				vp.Col += idsOff
				return errAt(vp, "%v", err.(*SyntaxError).Msg)
			}
			if v == "" {
				if !il.eatWS() {
					break
				}
				continue
			}
			e.IDs = append(e.IDs, v)
		}
		s.Entries = append(s.Entries, e)
	}
	return nil
}

func (s *Secrets) include(fsys FS, l *sline, level int) error {
	p := l.pos()
	if level >= maxSecretsRecursion {
		s.Items = append(s.Items, Item{Pos: p, Severity: Warning, Category: CatSyntax,
			Message: fmt.Sprintf("maximum level of %d includes reached; strongSwan ignores this include", maxSecretsRecursion)})
		return nil
	}
	rest := l.s[l.off+len("include "):]
	if i := strings.IndexByte(rest, ' '); i >= 0 {
		rest = rest[:i]
	}
	pattern := rest
	if !strings.HasPrefix(pattern, "/") {
		pattern = filepath.Join(filepath.Dir(l.file), pattern)
	}
	names, err := fsys.Glob(pattern)
	if err != nil || len(names) == 0 {
		s.Items = append(s.Items, Item{Pos: p, Severity: Warning, Category: CatSyntax,
			Message: fmt.Sprintf("include %q matches no file; strongSwan ignores it", rest)})
		return nil
	}
	for _, n := range names {
		data, err := fsys.ReadFile(n)
		if err != nil {
			s.Items = append(s.Items, Item{Pos: p, Severity: Warning, Category: CatSyntax,
				Message: fmt.Sprintf("include %q: %s cannot be read (%v); strongSwan skips it", rest, n, err)})
			continue
		}
		if err := s.parse(fsys, n, data, level+1); err != nil {
			return err
		}
	}
	return nil
}
