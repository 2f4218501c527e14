package importer

import (
	"fmt"
	"slices"
	"strings"
)

// SectionKind is the type of an ipsec.conf section.
type SectionKind int

// Section kinds.
const (
	SectionSetup SectionKind = iota // config setup
	SectionConn                     // conn NAME
	SectionCA                       // ca NAME
)

func (k SectionKind) String() string {
	return [...]string{"config setup", "conn", "ca"}[k]
}

// Setting is one "key=value" line of a section.
type Setting struct {
	Key      string
	Value    string
	Null     bool // "key=" without a value: clears an inherited value
	KeyPos   Pos
	ValuePos Pos
	Section  *Section // where it was written
}

// Section is a config setup, conn or ca section. Sections of the same type
// and name are merged, as strongSwan does.
type Section struct {
	Kind SectionKind
	Name string
	Pos  Pos // where the section was first declared

	settings []*Setting // sorted by key, as conf_parser.c keeps them
	also     []*Setting // most important (last written) first
	parents  []*Section // linearised also= chain, %default last
	resolved bool
}

// Settings returns the settings written in this section (not inherited),
// sorted by key.
func (s *Section) Settings() []*Setting { return s.settings }

// Parents returns the sections this one inherits from (also= and
// %default), most important first.
func (s *Section) Parents() []*Section { return s.parents }

// Also returns the also= settings of the section, most important first.
func (s *Section) Also() []*Setting { return s.also }

// Config is a parsed ipsec.conf with its includes.
type Config struct {
	Files []string   // every file read, the main file first
	Setup *Section   // config setup (empty if absent)
	Conns []*Section // conn sections in order of appearance, %default included
	CAs   []*Section
	Items []Item // warnings found while parsing (empty includes, duplicates ...)

	conns map[string]*Section
	cas   map[string]*Section
}

// Conn returns the conn section name, or nil.
func (c *Config) Conn(name string) *Section { return c.conns[name] }

// ParseConf reads and parses an ipsec.conf file and its includes.
func ParseConf(fsys FS, name string) (*Config, error) {
	src, err := fsys.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return ParseConfBytes(fsys, name, src)
}

// ParseConfBytes parses ipsec.conf content; includes are read from fsys
// relative to name's directory.
func ParseConfBytes(fsys FS, name string, src []byte) (*Config, error) {
	if len(src) > MaxFileSize {
		return nil, errAt(Pos{File: name}, "file is larger than %d MiB", MaxFileSize>>20)
	}
	p := &confParser{lex: newLexer(fsys, name, src), cfg: &Config{
		Setup: &Section{Kind: SectionSetup, Name: "setup"},
		conns: map[string]*Section{}, cas: map[string]*Section{},
	}}
	if err := p.parse(); err != nil {
		return nil, err
	}
	cfg := p.cfg
	cfg.Files = p.lex.files
	cfg.Items = append(p.lex.warnings, cfg.Items...)
	if err := resolveAlso(cfg, cfg.conns, cfg.Conns); err != nil {
		return nil, err
	}
	if err := resolveAlso(cfg, cfg.cas, cfg.CAs); err != nil {
		return nil, err
	}
	return cfg, nil
}

type confParser struct {
	lex     *lexer
	cfg     *Config
	current *Section
	tok     token
	peeked  bool
}

func (p *confParser) next() (token, error) {
	if p.peeked {
		p.peeked = false
		return p.tok, nil
	}
	t, err := p.lex.next()
	p.tok = t
	return t, err
}

func (p *confParser) unread() { p.peeked = true }

const hintIndent = "settings must be indented: start the line with a space or a tab; a line that is not indented starts a section (conn NAME, ca NAME or config setup)"

func (p *confParser) parse() error {
	for {
		t, err := p.next()
		if err != nil {
			return err
		}
		switch t.kind {
		case tEOF:
			return nil
		case tNewline:
			continue
		case tConfigSetup, tConn, tCA:
			if err := p.section(t); err != nil {
				return err
			}
		case tSpaces:
			if err := p.setting(); err != nil {
				return err
			}
		case tString:
			return errAt(t.pos, "syntax error: unexpected %q at the start of a line; %s", t.text, hintIndent)
		default:
			return errAt(t.pos, "syntax error: unexpected %s", t.kind)
		}
	}
}

func (p *confParser) section(t token) error {
	var name string
	n, err := p.next()
	if err != nil {
		return err
	}
	hasName := false
	if n.kind == tString {
		name, hasName = n.text, true
		if n, err = p.next(); err != nil {
			return err
		}
	}
	switch n.kind {
	case tNewline, tEOF, tConfigSetup, tConn, tCA, tSpaces:
		p.unread()
	default:
		return errAt(n.pos, "syntax error: unexpected %s after the section name; a section line is `%s NAME`", n.kind, t.text)
	}
	cfg := p.cfg
	switch t.kind {
	case tConfigSetup:
		p.current = cfg.Setup
		if !cfg.Setup.Pos.IsValid() {
			cfg.Setup.Pos = t.pos
		}
		if hasName && name != "" {
			cfg.Items = append(cfg.Items, Item{Pos: t.pos, Severity: Info, Category: CatSyntax,
				Message: fmt.Sprintf("config setup takes no name; %q is ignored", name)})
		}
		return nil
	case tConn, tCA:
		if !hasName || name == "" {
			return errAt(t.pos, "section name missing: write `%s NAME`", t.text)
		}
		m, order := cfg.conns, &cfg.Conns
		kind := SectionConn
		if t.kind == tCA {
			m, order, kind = cfg.cas, &cfg.CAs, SectionCA
		}
		s, ok := m[name]
		if !ok {
			s = &Section{Kind: kind, Name: name, Pos: t.pos}
			m[name] = s
			*order = append(*order, s)
		} else {
			cfg.Items = append(cfg.Items, Item{Pos: t.pos, Severity: Info, Category: CatSyntax, Conn: name,
				Message: fmt.Sprintf("%s %q is declared again (first at %s); strongSwan merges both sections, later settings win", t.text, name, s.Pos)})
		}
		p.current = s
	}
	return nil
}

// setting parses what follows an indentation: nothing, "key=", "key=value".
func (p *confParser) setting() error {
	t, err := p.next()
	if err != nil {
		return err
	}
	if t.kind != tString {
		p.unread() // empty setting: blank line, or a section from an include
		if t.kind == tEQ {
			return errAt(t.pos, "syntax error: a setting needs a name before '='")
		}
		return nil
	}
	key := t
	eq, err := p.next()
	if err != nil {
		return err
	}
	if eq.kind != tEQ {
		if eq.kind == tString {
			return errAt(eq.pos, "syntax error: unexpected %q after %q; write %s=value", eq.text, key.text, key.text)
		}
		return errAt(key.pos, "missing value for setting %q: write %s=value (or %s= to clear an inherited value)", key.text, key.text, key.text)
	}
	if key.text == "" {
		return errAt(key.pos, "setting name can't be empty")
	}
	var words []string
	var vpos Pos
	for {
		v, err := p.next()
		if err != nil {
			return err
		}
		if v.kind == tEQ {
			return errAt(v.pos, "syntax error: unexpected '=' in the value of %q; quote values that contain '=' (e.g. %s=\"C=CH, O=example, CN=gw\")", key.text, key.text)
		}
		if v.kind != tString {
			p.unread()
			break
		}
		if len(words) == 0 {
			vpos = v.pos
		}
		words = append(words, v.text)
	}
	s := &Setting{Key: key.text, KeyPos: key.pos, ValuePos: vpos, Null: len(words) == 0}
	if !s.Null {
		s.Value = strings.Join(words, " ")
	} else {
		s.ValuePos = eq.pos
	}
	p.add(s)
	return nil
}

func (p *confParser) add(s *Setting) {
	sec := p.current
	if sec == nil {
		p.cfg.Items = append(p.cfg.Items, Item{Pos: s.KeyPos, Severity: Warning, Category: CatSyntax,
			Message: fmt.Sprintf("setting %q is outside any section; strongSwan ignores it", s.Key),
			Hint:    "put it under a conn, ca or config setup line"})
		return
	}
	s.Section = sec
	if s.Key == "also" {
		if s.Null || s.Value == "" || s.Value == "%default" {
			return // every section inherits %default anyway
		}
		sec.also = append([]*Setting{s}, sec.also...)
		return
	}
	i, found := slices.BinarySearchFunc(sec.settings, s.Key, func(a *Setting, k string) int { return strings.Compare(a.Key, k) })
	if found {
		old := sec.settings[i]
		p.cfg.Items = append(p.cfg.Items, Item{Pos: s.KeyPos, Severity: Info, Category: CatSyntax, Conn: connName(sec),
			Message: fmt.Sprintf("%s is set twice in %s (also at %s); the later value wins", s.Key, sectionLabel(sec), old.KeyPos)})
		sec.settings[i] = s
		return
	}
	sec.settings = slices.Insert(sec.settings, i, s)
}

func connName(s *Section) string {
	if s.Kind == SectionConn {
		return s.Name
	}
	return ""
}

func sectionLabel(s *Section) string {
	if s.Kind == SectionSetup {
		return "config setup"
	}
	return s.Kind.String() + " " + s.Name
}

// resolveAlso linearises the also= references like conf_parser.c
// (bottom-first depth-first, keeping the last occurrence of each section,
// %default last).
func resolveAlso(cfg *Config, secs map[string]*Section, order []*Section) error {
	def := secs["%default"]
	if def != nil {
		def.parents, def.resolved = nil, true
		for _, a := range def.also {
			cfg.Items = append(cfg.Items, Item{Pos: a.KeyPos, Severity: Warning, Category: CatSyntax,
				Message: fmt.Sprintf("also=%s in %s %%default is ignored by strongSwan", a.Value, def.Kind)})
		}
	}
	for _, s := range order {
		if !s.resolved {
			if err := resolveSingle(secs, s, def, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

func resolveSingle(secs map[string]*Section, s, def *Section, stack []*Section) error {
	stack = append(stack, s)
	var parents []*Section
	for _, a := range s.also {
		parent := secs[a.Value]
		if parent == nil {
			return errAt(a.ValuePos, "also=%s: there is no %s section named %q", a.Value, s.Kind, a.Value)
		}
		if slices.Contains(stack, parent) {
			return errAt(a.ValuePos, "also=%s: %s %q includes itself (loop)", a.Value, s.Kind, parent.Name)
		}
		if !parent.resolved {
			if err := resolveSingle(secs, parent, def, stack); err != nil {
				return err
			}
		}
		parents = append(parents, parent)
		parents = append(parents, parent.parents...)
	}
	if def != nil && len(parents) == 0 && s != def {
		parents = append(parents, def)
	}
	for i, p := range parents {
		if !slices.Contains(parents[i+1:], p) {
			s.parents = append(s.parents, p)
		}
	}
	s.resolved = true
	return nil
}

// Effective returns the settings that apply to s in strongSwan's
// enumeration order: its own settings sorted by key, then each parent's,
// skipping keys already seen; "key=" hides inherited values and is not
// returned.
func Effective(s *Section) []*Setting {
	var out []*Setting
	seen := map[string]bool{}
	for _, sec := range append([]*Section{s}, s.parents...) {
		for _, st := range sec.settings {
			if seen[st.Key] {
				continue
			}
			seen[st.Key] = true
			if !st.Null {
				out = append(out, st)
			}
		}
	}
	return out
}

// Lookup returns the effective setting key of s, or nil.
func Lookup(s *Section, key string) *Setting {
	for _, sec := range append([]*Section{s}, s.parents...) {
		for _, st := range sec.settings {
			if st.Key == key {
				if st.Null {
					return nil
				}
				return st
			}
		}
	}
	return nil
}
