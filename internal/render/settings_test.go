package render_test

import (
	"fmt"
	"strings"
	"testing"
)

// A small parser for the strongSwan settings syntax that swanctl.conf and
// strongswan.conf use: sections `name { ... }`, `key = value`, comments
// from `#` to the end of the line, double-quoted values with backslash
// escapes, and `include PATTERN` lines (recorded, not followed). It reads
// the rendered text independently of the renderer, so that the tests
// check what charon will read, not what the renderer meant.

type settingsSection struct {
	name     string
	keys     map[string]string // raw value: quotes and escapes kept
	keyOrder []string
	subs     map[string]*settingsSection
	subOrder []string
	includes []string
}

func newSection(name string) *settingsSection {
	return &settingsSection{name: name, keys: map[string]string{}, subs: map[string]*settingsSection{}}
}

// sub returns the section at a dotted path below s, or nil.
func (s *settingsSection) sub(path ...string) *settingsSection {
	for _, p := range path {
		if s == nil {
			return nil
		}
		s = s.subs[p]
	}
	return s
}

// value returns the unquoted value of key ("" if absent).
func (s *settingsSection) value(key string) string {
	if s == nil {
		return ""
	}
	v, ok := s.keys[key]
	if !ok {
		return ""
	}
	l := splitList(v)
	if len(l) == 1 {
		return l[0]
	}
	return v
}

// list returns the value of key as swanctl reads a list: comma-separated
// elements, each unquoted.
func (s *settingsSection) list(key string) []string {
	if s == nil {
		return nil
	}
	v, ok := s.keys[key]
	if !ok {
		return nil
	}
	return splitList(v)
}

func (s *settingsSection) has(key string) bool {
	if s == nil {
		return false
	}
	_, ok := s.keys[key]
	return ok
}

// parseSettings parses strongSwan settings text.
func parseSettings(src string) (*settingsSection, error) {
	root := newSection("")
	stack := []*settingsSection{root}
	line := 1
	i := 0
	errf := func(format string, args ...any) error {
		return fmt.Errorf("line %d: %s", line, fmt.Sprintf(format, args...))
	}
	skipToEOL := func() {
		for i < len(src) && src[i] != '\n' {
			i++
		}
	}
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r':
			i++
			continue
		case c == '#':
			skipToEOL()
			continue
		case c == '}':
			if len(stack) == 1 {
				return nil, errf("unbalanced }")
			}
			stack = stack[:len(stack)-1]
			i++
			continue
		case c == '{' || c == '=' || c == '"':
			return nil, errf("unexpected %q", c)
		}
		start := i
		for i < len(src) && !strings.ContainsRune(" \t\r\n{}=#\"", rune(src[i])) {
			i++
		}
		name := src[start:i]
		for i < len(src) && (src[i] == ' ' || src[i] == '\t') {
			i++
		}
		cur := stack[len(stack)-1]
		if name == "include" && i < len(src) && src[i] != '=' && src[i] != '{' {
			start := i
			skipToEOL()
			cur.includes = append(cur.includes, strings.TrimSpace(src[start:i]))
			continue
		}
		if i >= len(src) {
			return nil, errf("%q: unexpected end of input", name)
		}
		switch src[i] {
		case '{':
			i++
			if _, dup := cur.subs[name]; dup {
				return nil, errf("section %q defined twice in %q", name, cur.name)
			}
			s := newSection(name)
			cur.subs[name] = s
			cur.subOrder = append(cur.subOrder, name)
			stack = append(stack, s)
		case '=':
			i++
			var b strings.Builder
			quoted := false
		value:
			for i < len(src) {
				c := src[i]
				switch {
				case c == '\n' && !quoted:
					break value
				case c == '\n':
					return nil, errf("%q: newline in a quoted value", name)
				case c == '#' && !quoted:
					skipToEOL()
					break value
				case c == '\\' && quoted && i+1 < len(src):
					b.WriteByte(c)
					b.WriteByte(src[i+1])
					i += 2
					continue
				case c == '"':
					quoted = !quoted
				}
				b.WriteByte(c)
				i++
			}
			if quoted {
				return nil, errf("%q: unterminated quote", name)
			}
			if _, dup := cur.keys[name]; dup {
				return nil, errf("key %q set twice in %q", name, cur.name)
			}
			cur.keys[name] = strings.TrimSpace(b.String())
			cur.keyOrder = append(cur.keyOrder, name)
		default:
			return nil, errf("%q: expected { or =, found %q", name, src[i])
		}
	}
	if len(stack) != 1 {
		return nil, errf("section %q not closed", stack[len(stack)-1].name)
	}
	return root, nil
}

// splitList splits a raw value at commas outside quotes, trims and
// unquotes each element.
func splitList(v string) []string {
	var out []string
	var b strings.Builder
	quoted := false
	flush := func() {
		out = append(out, unquote(strings.TrimSpace(b.String())))
		b.Reset()
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && quoted && i+1 < len(v):
			b.WriteByte(c)
			b.WriteByte(v[i+1])
			i++
			continue
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			flush()
			continue
		}
		b.WriteByte(c)
	}
	flush()
	return out
}

func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	r := strings.NewReplacer(`\\`, `\`, `\"`, `"`, `\n`, "\n")
	return r.Replace(s[1 : len(s)-1])
}

func TestSettingsParser(t *testing.T) {
	src := `# comment
connections {
    a-b { # trailing comment
        version = 2
        remote_addrs = 192.0.2.1, host.example
        local {
            id = "C=CH, O=example, CN=gw # not a comment"
        }
        children {
            c1 {
                local_ts = 10.0.0.0/24[tcp/443], "10.1.0.0/24"
                esc = "a \"quoted\" \\ word"
            }
        }
    }
}
include conf.d/*.conf
`
	root, err := parseSettings(src)
	if err != nil {
		t.Fatal(err)
	}
	c := root.sub("connections", "a-b")
	if c == nil {
		t.Fatal("no connection a-b")
	}
	if got := c.value("version"); got != "2" {
		t.Errorf("version = %q", got)
	}
	if got := c.list("remote_addrs"); fmt.Sprint(got) != "[192.0.2.1 host.example]" {
		t.Errorf("remote_addrs = %q", got)
	}
	if got := c.sub("local").value("id"); got != "C=CH, O=example, CN=gw # not a comment" {
		t.Errorf("id = %q", got)
	}
	ch := c.sub("children", "c1")
	if got := ch.list("local_ts"); fmt.Sprint(got) != "[10.0.0.0/24[tcp/443] 10.1.0.0/24]" {
		t.Errorf("local_ts = %q", got)
	}
	if got := ch.value("esc"); got != `a "quoted" \ word` {
		t.Errorf("esc = %q", got)
	}
	if fmt.Sprint(root.includes) != "[conf.d/*.conf]" {
		t.Errorf("includes = %q", root.includes)
	}
	for _, bad := range []string{"a {\n", "}\n", "a = \"x\n", "a {\nb = 1\nb = 2\n}\n", "a b\n"} {
		if _, err := parseSettings(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
