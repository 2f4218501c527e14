package importer

import (
	"errors"
	"net/netip"
	"strings"
	"testing"
)

func parse(t *testing.T, files MapFS) (*Config, error) {
	t.Helper()
	return ParseConf(files, "ipsec.conf")
}

func mustParse(t *testing.T, src string) *Config {
	t.Helper()
	cfg, err := parse(t, MapFS{"ipsec.conf": src})
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	return cfg
}

// effective returns key=value of the effective settings of conn name.
func effective(t *testing.T, cfg *Config, name string) map[string]string {
	t.Helper()
	sec := cfg.Conn(name)
	if sec == nil {
		t.Fatalf("no conn %q", name)
	}
	out := map[string]string{}
	for _, st := range Effective(sec) {
		out[st.Key] = st.Value
	}
	return out
}

func TestConfSettingsAndPositions(t *testing.T) {
	cfg := mustParse(t, "config setup\n\tuniqueids=no\n\nconn a\n  left=192.0.2.1\n\tright = 192.0.2.2   # comment\n")
	sec := cfg.Conn("a")
	if sec == nil || sec.Pos.String() != "ipsec.conf:4:1" {
		t.Fatalf("conn a at %v", sec)
	}
	st := Lookup(sec, "right")
	if st == nil || st.Value != "192.0.2.2" || st.KeyPos.String() != "ipsec.conf:6:2" || st.ValuePos.String() != "ipsec.conf:6:10" {
		t.Fatalf("right = %+v", st)
	}
	if v := Lookup(cfg.Setup, "uniqueids"); v == nil || v.Value != "no" {
		t.Fatalf("uniqueids = %+v", v)
	}
}

func TestConfSyntaxErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unindented setting", "conn a\nleft=1.2.3.4\n", "ipsec.conf:2:1: syntax error: unexpected \"left\" at the start of a line; settings must be indented"},
		{"missing value", "conn a\n\tleft\n", "ipsec.conf:2:2: missing value for setting \"left\""},
		{"two equals", "conn a\n\tleftid=C=CH\n", "ipsec.conf:2:10: syntax error: unexpected '=' in the value of \"leftid\""},
		{"no section name", "conn\n\tleft=1\n", "ipsec.conf:1:1: section name missing"},
		{"unterminated string", "conn a\n\tleftid=\"abc\n", "ipsec.conf:2:9: unterminated string"},
		{"junk after name", "conn a b\n", "ipsec.conf:1:8: syntax error: unexpected a word after the section name"},
		{"empty key", "conn a\n\t\"\"=x\n", "ipsec.conf:2:2: setting name can't be empty"},
		{"also missing", "conn a\n\talso=b\n", "ipsec.conf:2:7: also=b: there is no conn section named \"b\""},
		{"also loop", "conn a\n\talso=b\nconn b\n\talso=a\n", "includes itself (loop)"},
		{"eq first", "conn a\n\t=x\n", "ipsec.conf:2:2: syntax error: a setting needs a name before '='"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := parse(t, MapFS{"ipsec.conf": c.src})
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("got %v, want a SyntaxError", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %q, want %q", err, c.want)
			}
		})
	}
}

func TestConfQuotingAndComments(t *testing.T) {
	cfg := mustParse(t, strings.Join([]string{
		"version 2.0",
		"# a comment",
		"   # an indented comment",
		"conn a",
		"\tleftid=\"C=CH, O=x # not a comment, CN=gw\"",
		"\trightid=\"say \\\"hi\\\"\\tnow \\",
		"continued\"",
		"\tleftsubnet=10.0.0.0/8    10.1.0.0/16",
		"\tike=aes256-sha256 # comment",
		"\tleftcert=@#0123abcd",
		"\tempty=",
		"",
	}, "\n"))
	got := effective(t, cfg, "a")
	want := map[string]string{
		"leftid":     "C=CH, O=x # not a comment, CN=gw",
		"rightid":    "say \"hi\"\tnow continued",
		"leftsubnet": "10.0.0.0/8 10.1.0.0/16",
		"ike":        "aes256-sha256",
		"leftcert":   "@#0123abcd",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["empty"]; ok {
		t.Errorf("empty= should not be an effective setting")
	}
	if Lookup(cfg.Conn("a"), "ike").KeyPos.Line != 9 {
		t.Errorf("line numbers are off after the continued string")
	}
}

// TestConfAlso checks the linearisation documented in conf_parser.c:
// D also=C, also=B with B and C also=A gives D B C A (then %default).
func TestConfAlso(t *testing.T) {
	cfg := mustParse(t, `conn %default
	k=default
	d=from-default
conn A
	k=a
	a=1
conn B
	also=A
	k=b
	b=1
conn C
	also=A
	k=c
	c=1
conn D
	also=C
	also=B
	cleared=
conn E
	also=D
	k=
`)
	var order []string
	for _, p := range cfg.Conn("D").Parents() {
		order = append(order, p.Name)
	}
	if got := strings.Join(order, " "); got != "B C A %default" {
		t.Fatalf("parents of D: %s", got)
	}
	d := effective(t, cfg, "D")
	if d["k"] != "b" || d["a"] != "1" || d["b"] != "1" || d["c"] != "1" || d["d"] != "from-default" {
		t.Fatalf("D: %v", d)
	}
	if _, ok := effective(t, cfg, "E")["k"]; ok {
		t.Fatalf("k= in E must clear the inherited value")
	}
}

func TestConfMergeAndDuplicates(t *testing.T) {
	cfg := mustParse(t, "conn a\n\tauto=add\n\tleft=1.1.1.1\nconn b\n\tauto=add\nconn a\n\tauto=start\n")
	if got := effective(t, cfg, "a"); got["auto"] != "start" || got["left"] != "1.1.1.1" {
		t.Fatalf("merged a: %v", got)
	}
	if len(cfg.Conns) != 2 {
		t.Fatalf("conns: %d", len(cfg.Conns))
	}
	notes := 0
	for _, it := range cfg.Items {
		if strings.Contains(it.Message, "declared again") || strings.Contains(it.Message, "set twice") {
			notes++
		}
	}
	if notes != 2 {
		t.Fatalf("want notes for the second section and the repeated key, got %v", cfg.Items)
	}
}

func TestConfInclude(t *testing.T) {
	files := MapFS{
		"etc/ipsec.conf":             "conn %default\n\tkeyexchange=ikev2\ninclude ipsec.d/*.conf\n  include \"ipsec.d/sub dir/x.conf\"\ninclude nothing/*.conf\nconn last\n\talso=b\n",
		"etc/ipsec.d/b.conf":         "conn b\n\tleft=2.2.2.2\n\tinclude more/c.inc\n",
		"etc/ipsec.d/a.conf":         "conn a\n\tleft=1.1.1.1",
		"etc/ipsec.d/more/c.inc":     "\tright=3.3.3.3\n",
		"etc/ipsec.d/sub dir/x.conf": "conn x\n\tauto=add\n",
	}
	cfg, err := ParseConf(files, "etc/ipsec.conf")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cfg.Conns {
		names = append(names, c.Name)
	}
	if got := strings.Join(names, " "); got != "%default a b x last" {
		t.Fatalf("conns in order: %s", got)
	}
	b := effective(t, cfg, "b")
	if b["right"] != "3.3.3.3" || b["keyexchange"] != "ikev2" {
		t.Fatalf("b: %v", b)
	}
	if p := Lookup(cfg.Conn("b"), "right").KeyPos; p.String() != "etc/ipsec.d/more/c.inc:1:2" {
		t.Fatalf("position in the included file: %s", p)
	}
	if l := effective(t, cfg, "last"); l["left"] != "2.2.2.2" {
		t.Fatalf("last: %v", l)
	}
	found := false
	for _, it := range cfg.Items {
		found = found || strings.Contains(it.Message, "matches no file")
	}
	if !found {
		t.Fatalf("no warning for the empty include: %v", cfg.Items)
	}
	// a file including itself
	_, err = ParseConf(MapFS{"ipsec.conf": "include ipsec.conf\n"}, "ipsec.conf")
	if err == nil || !strings.Contains(err.Error(), "loop") {
		t.Fatalf("self include: %v", err)
	}
}

func TestConfOutsideSectionAndCRLF(t *testing.T) {
	cfg := mustParse(t, "  stray=1\r\nconn a\r\n\tleft=1.1.1.1\r\n")
	if got := effective(t, cfg, "a")["left"]; got != "1.1.1.1" {
		t.Fatalf("left with CRLF: %q", got)
	}
	var msgs []string
	for _, it := range cfg.Items {
		msgs = append(msgs, it.Message)
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, "outside any section") || !strings.Contains(all, "CRLF") {
		t.Fatalf("items: %s", all)
	}
}

func TestSecrets(t *testing.T) {
	files := MapFS{
		"ipsec.secrets": `# comment
@a @b : PSK "quoted # not a comment"
@a %any : PSK 0x0102:03
  : PSK 'single'
172.16.0.1 : PSK raw-word trailing words ignored
"C=CH, CN=x" carol@example.org : EAP 0sY2Fyb2w=
: RSA key.pem "pass phrase"
: ECDSA /abs/ec.pem %prompt
include secrets.d/*.secrets
bob : XAUTH 0sYm9iIQ
`,
		"secrets.d/x.secrets": "alice : NTLM 0x00ff\n",
	}
	s, err := ParseSecrets(files, "ipsec.secrets")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Entries) != 9 {
		t.Fatalf("%d entries", len(s.Entries))
	}
	check := func(i int, typ string, ids []string, value string) {
		t.Helper()
		e := s.Entries[i]
		if e.Type != typ || strings.Join(e.IDs, "|") != strings.Join(ids, "|") || string(e.Value) != value {
			t.Errorf("entry %d: %s %q %q", i, e.Type, e.IDs, e.Value)
		}
	}
	check(0, "PSK", []string{"@a", "@b"}, "quoted # not a comment")
	check(1, "PSK", []string{"@a", "%any"}, "\x01\x02\x03")
	check(2, "PSK", nil, "single")
	check(3, "PSK", []string{"172.16.0.1"}, "raw-word")
	check(4, "EAP", []string{"C=CH, CN=x", "carol@example.org"}, "carol")
	if e := s.Entries[5]; e.Type != "RSA" || e.Path != "/etc/ipsec.d/private/key.pem" || string(e.Passphrases[0]) != "pass phrase" {
		t.Errorf("RSA: %+v", e)
	}
	if e := s.Entries[6]; e.Path != "/abs/ec.pem" || !e.Prompt {
		t.Errorf("ECDSA: %+v", e)
	}
	check(7, "NTLM", []string{"alice"}, "\x00\xff")
	check(8, "XAUTH", []string{"bob"}, "bob") // "Ym9i" only: strongSwan ignores the partial group
	if e := s.Entries[7]; e.Pos.String() != "secrets.d/x.secrets:1:1" {
		t.Errorf("position in the included file: %s", e.Pos)
	}
	malformed := false
	for _, it := range s.Items {
		malformed = malformed || strings.Contains(it.Message, "malformed")
	}
	if !malformed {
		t.Errorf("no warning for the malformed base64: %v", s.Items)
	}
	for _, bad := range []struct{ src, want string }{
		{"@a @b PSK x\n", "missing ' : ' separator"},
		{"@a : FOO x\n", "token must be either"},
		{"@a : PSK \"open\n", "missing second delimiter"},
		{": RSA\n", "missing token"},
	} {
		_, err := ParseSecrets(MapFS{"s": bad.src}, "s")
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: got %v, want %q", bad.src, err, bad.want)
		}
	}
}

func TestBestSecret(t *testing.T) {
	s, err := ParseSecretsBytes(MapFS{}, "s", []byte(": PSK any\n@a : PSK onlya\n@a @b : PSK pair\n@a *.example.org : PSK wild\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ me, other, want string }{
		{"@a", "@b", "pair"},
		{"@a", "@c", "any"}, // strongSwan prefers the better match of the remote id
		{"@x", "@y", "any"},
		{"@a", "@gw.example.org", "wild"},
	} {
		best, _ := bestSecret(s.Entries, []string{"PSK"}, c.me, c.other)
		if best == nil || string(best.Value) != c.want {
			t.Errorf("%s %s: got %v, want %s", c.me, c.other, best, c.want)
		}
	}
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]string{"90": "1m30s", "90s": "1m30s", "3m": "3m0s", "2h": "2h0m0s", "1d": "24h0m0s"} {
		d, ok := parseTime(in)
		if !ok || d.String() != want {
			t.Errorf("%s: %v %v", in, d, ok)
		}
	}
	for _, in := range []string{"", "3 hours", "1.5h", "-1", "1hm"} {
		if _, ok := parseTime(in); ok {
			t.Errorf("%q accepted", in)
		}
	}
}

// TestWildcardNoteNamesHostAsWritten: the note about two wildcard ends
// shows left= as written (%defaultroute), with what it means.
func TestWildcardNoteNamesHostAsWritten(t *testing.T) {
	fs := MapFS{"ipsec.conf": "conn rw\n  left=%defaultroute\n  right=%any\n  leftsubnet=10.0.0.0/24\n  rightsourceip=10.9.0.0/24\n  authby=secret\n  auto=add\n"}
	res, err := Import(Options{FS: fs, Conf: "ipsec.conf", LocalAddrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}})
	if err != nil {
		t.Fatal(err)
	}
	want := "left=%defaultroute (%any) and right=%any are both wildcards"
	if text := res.Report.Text(false); !strings.Contains(text, want) {
		t.Errorf("report does not say %q:\n%s", want, text)
	}
}
