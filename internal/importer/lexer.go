package importer

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FS is where the importer reads files from: ipsec.conf, ipsec.secrets and
// their includes. OSFS reads the real file system.
type FS interface {
	ReadFile(name string) ([]byte, error)
	// Glob returns the names matching pattern in lexical order, like
	// glob(3) without GLOB_BRACE (filepath.Glob).
	Glob(pattern string) ([]string, error)
}

// OSFS is the operating system's file system.
type OSFS struct{}

// ReadFile reads a regular file, at most MaxFileSize bytes.
func (OSFS) ReadFile(name string) ([]byte, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	if st.Size() > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than %d MiB", name, MaxFileSize>>20)
	}
	return os.ReadFile(name)
}

// Glob expands pattern with filepath.Glob.
func (OSFS) Glob(pattern string) ([]string, error) { return filepath.Glob(pattern) }

// MapFS is an in-memory FS for tests and fuzzing: file name to content.
type MapFS map[string]string

// ReadFile returns the content of name.
func (m MapFS) ReadFile(name string) ([]byte, error) {
	s, ok := m[filepath.Clean(name)]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return []byte(s), nil
}

// Glob matches pattern against the file names.
func (m MapFS) Glob(pattern string) ([]string, error) {
	if _, err := filepath.Match(pattern, ""); err != nil {
		return nil, err
	}
	var out []string
	for name := range m {
		if ok, _ := filepath.Match(filepath.Clean(pattern), name); ok {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Limits on the input.
const (
	MaxFileSize     = 16 << 20 // per file
	MaxIncludeDepth = 16
	maxFiles        = 1000
)

type tokKind int

const (
	tEOF tokKind = iota
	tNewline
	tSpaces
	tEQ
	tString
	tConfigSetup
	tConn
	tCA
)

func (k tokKind) String() string {
	return [...]string{"end of file", "end of line", "indentation", "'='", "a word", "config setup", "conn", "ca"}[k]
}

type token struct {
	kind tokKind
	text string
	pos  Pos
}

type buffer struct {
	name      string
	src       []byte
	off       int
	line, col int
	bol       bool
	depth     int
	chain     []string // include chain, for loop detection
}

func (b *buffer) pos() Pos { return Pos{File: b.name, Line: b.line, Col: b.col} }

// advance moves over n bytes, counting lines.
func (b *buffer) advance(n int) {
	for i := 0; i < n && b.off < len(b.src); i++ {
		if b.src[b.off] == '\n' {
			b.line++
			b.col = 1
		} else {
			b.col++
		}
		b.off++
	}
}

func (b *buffer) peek(i int) int {
	if b.off+i < len(b.src) {
		return int(b.src[b.off+i])
	}
	return -1
}

// lexer reproduces strongSwan's src/starter/parser/lexer.l, including the
// splicing of included files into the token stream.
type lexer struct {
	fs       FS
	stack    []*buffer
	files    []string
	nfiles   int
	warnings []Item
	crlf     bool
}

func newLexer(fsys FS, name string, src []byte) *lexer {
	l := &lexer{fs: fsys}
	l.push(name, src, 0, nil)
	return l
}

func (l *lexer) push(name string, src []byte, depth int, chain []string) {
	l.files = append(l.files, name)
	l.stack = append(l.stack, &buffer{name: name, src: src, line: 1, col: 1, bol: true, depth: depth, chain: append(append([]string(nil), chain...), filepath.Clean(name))})
}

func (l *lexer) top() *buffer {
	if len(l.stack) == 0 {
		return nil
	}
	return l.stack[len(l.stack)-1]
}

func isWS(c int) bool { return c == ' ' || c == '\t' }

// stringChar reports whether c may appear in an unquoted word
// ([^\"#= \t\n] in lexer.l).
func stringChar(c int) bool {
	return c >= 0 && c != '"' && c != '#' && c != '=' && c != ' ' && c != '\t' && c != '\n'
}

func (l *lexer) crlfAt(b *buffer) bool {
	if b.peek(0) == '\r' && b.peek(1) == '\n' {
		if !l.crlf {
			l.crlf = true
			l.warnings = append(l.warnings, Item{Pos: b.pos(), Severity: Info, Category: CatSyntax,
				Message: "the file has CRLF (Windows) line endings; strongSwan's starter would keep the CR in the values, the importer ignores it",
				Hint:    "convert the file with dos2unix before running ipsec/starter"})
		}
		return true
	}
	return false
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	for {
		b := l.top()
		if b == nil {
			return token{kind: tEOF, pos: l.eofPos()}, nil
		}
		if b.off >= len(b.src) {
			l.stack = l.stack[:len(l.stack)-1]
			if len(l.stack) == 0 {
				return token{kind: tEOF, pos: b.pos()}, nil
			}
			continue
		}
		if b.bol {
			b.bol = false
			j := 0
			for isWS(b.peek(j)) {
				j++
			}
			rest := b.src[b.off+j:]
			switch {
			case bytes.HasPrefix(rest, []byte("version")):
				// ^[\t ]*"version"[^\n]*$: a legacy version line, eaten
				l.skipLine(b)
				continue
			case len(rest) > 0 && rest[0] == '#':
				l.skipLine(b)
				continue
			case j > 0:
				p := b.pos()
				b.advance(j)
				return token{kind: tSpaces, pos: p}, nil
			}
			run := 0
			for stringChar(b.peek(run)) {
				run++
			}
			p := b.pos()
			switch {
			case bytes.HasPrefix(rest, []byte("config setup")):
				b.advance(len("config setup"))
				return token{kind: tConfigSetup, text: "config setup", pos: p}, nil
			case bytes.HasPrefix(rest, []byte("conn")) && run == 4:
				b.advance(4)
				return token{kind: tConn, text: "conn", pos: p}, nil
			case bytes.HasPrefix(rest, []byte("ca")) && run == 2:
				b.advance(2)
				return token{kind: tCA, text: "ca", pos: p}, nil
			}
		}
		c := b.peek(0)
		switch {
		case isWS(c):
			for isWS(b.peek(0)) {
				b.advance(1)
			}
			if b.peek(0) == '#' {
				l.skipLine(b)
			}
			continue
		case c == '#':
			l.skipLine(b)
			continue
		case c == '\r' && l.crlfAt(b):
			b.advance(1)
			continue
		case c == '\n':
			p := b.pos()
			b.advance(1)
			b.bol = true
			return token{kind: tNewline, pos: p}, nil
		case c == '=':
			p := b.pos()
			b.advance(1)
			return token{kind: tEQ, text: "=", pos: p}, nil
		case c == '"':
			p := b.pos()
			b.advance(1)
			s, err := l.quoted(b, p)
			if err != nil {
				return token{}, err
			}
			return token{kind: tString, text: s, pos: p}, nil
		}
		if ok, err := l.include(b); err != nil {
			return token{}, err
		} else if ok {
			continue
		}
		p := b.pos()
		start := b.off
		if b.peek(0) == '@' && b.peek(1) == '#' && stringChar(b.peek(2)) {
			b.advance(2)
		}
		for stringChar(b.peek(0)) && !(b.peek(0) == '\r' && b.peek(1) == '\n') {
			b.advance(1)
		}
		return token{kind: tString, text: string(b.src[start:b.off]), pos: p}, nil
	}
}

func (l *lexer) eofPos() Pos {
	if len(l.files) > 0 {
		return Pos{File: l.files[0]}
	}
	return Pos{}
}

// skipLine skips to (not over) the end of the line.
func (l *lexer) skipLine(b *buffer) {
	for b.off < len(b.src) && b.src[b.off] != '\n' {
		b.advance(1)
	}
}

// quoted reads a double-quoted string after its opening quote (the str
// start condition of lexer.l).
func (l *lexer) quoted(b *buffer, start Pos) (string, error) {
	var s strings.Builder
	for {
		c := b.peek(0)
		switch c {
		case -1:
			return "", errAt(start, "unterminated string: a double-quoted value needs its closing '\"'")
		case '"':
			b.advance(1)
			return s.String(), nil
		case '\\':
			n := b.peek(1)
			switch n {
			case -1:
				return "", errAt(start, "unterminated string: a double-quoted value needs its closing '\"'")
			case 'n':
				s.WriteByte('\n')
			case 'r':
				s.WriteByte('\r')
			case 't':
				s.WriteByte('\t')
			case '\n':
				// line continuation
			case '\r':
				if b.peek(2) == '\n' {
					b.advance(1)
				} else {
					s.WriteByte('\r')
				}
			default:
				s.WriteByte(byte(n))
			}
			b.advance(2)
		default:
			s.WriteByte(byte(c))
			b.advance(1)
		}
	}
}

// include handles "include PATTERN" ("include"[\t ]+/[^=] in lexer.l): it
// reads the pattern, expands it relative to the current file and splices
// the files into the input.
func (l *lexer) include(b *buffer) (bool, error) {
	rest := b.src[b.off:]
	if !bytes.HasPrefix(rest, []byte("include")) {
		return false, nil
	}
	j := len("include")
	if j >= len(rest) || !isWS(int(rest[j])) {
		return false, nil
	}
	for j < len(rest) && isWS(int(rest[j])) {
		j++
	}
	if j >= len(rest) || rest[j] == '=' {
		return false, nil
	}
	p := b.pos()
	b.advance(j)
	var pat strings.Builder
loop:
	for {
		c := b.peek(0)
		switch {
		case c == -1 || c == '#' || c == '\n':
			break loop
		case c == '\r' && b.peek(1) == '\n':
			break loop
		case isWS(c):
			b.advance(1)
			break loop
		case c == '"':
			qp := b.pos()
			b.advance(1)
			s, err := l.quoted(b, qp)
			if err != nil {
				return false, err
			}
			pat.WriteString(s)
			break loop
		case c == '\\':
			if n := b.peek(1); n == '"' || n == '#' || n == '}' || n == ' ' {
				pat.WriteByte(byte(n))
				b.advance(2)
			} else {
				pat.WriteByte('\\')
				b.advance(1)
			}
		default:
			pat.WriteByte(byte(c))
			b.advance(1)
		}
	}
	return true, l.doInclude(b, p, pat.String())
}

func (l *lexer) doInclude(b *buffer, p Pos, pattern string) error {
	if pattern == "" {
		l.warnings = append(l.warnings, Item{Pos: p, Severity: Warning, Category: CatSyntax,
			Message: "include without a file name is ignored (as strongSwan does)"})
		return nil
	}
	if b.depth+1 > MaxIncludeDepth {
		return errAt(p, "include %q: more than %d levels of includes", pattern, MaxIncludeDepth)
	}
	full := pattern
	if !filepath.IsAbs(pattern) {
		full = filepath.Join(filepath.Dir(b.name), pattern)
	}
	names, err := l.fs.Glob(full)
	if err != nil {
		return errAt(p, "include %q: %v", pattern, err)
	}
	if len(names) == 0 {
		l.warnings = append(l.warnings, Item{Pos: p, Severity: Warning, Category: CatSyntax,
			Message: fmt.Sprintf("include %q matches no file; strongSwan ignores it silently", pattern),
			Hint:    "check the path: relative patterns are relative to the directory of the including file"})
		return nil
	}
	var bufs []*buffer
	for _, n := range names {
		for _, c := range b.chain {
			if c == filepath.Clean(n) {
				return errAt(p, "include %q: %s includes itself (loop)", pattern, n)
			}
		}
		data, err := l.fs.ReadFile(n)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return errAt(p, "include %q: %v", pattern, err)
		}
		l.nfiles++
		if l.nfiles > maxFiles {
			return errAt(p, "more than %d included files", maxFiles)
		}
		bufs = append(bufs, &buffer{name: n, src: data, line: 1, col: 1, bol: true, depth: b.depth + 1,
			chain: append(append([]string(nil), b.chain...), filepath.Clean(n))})
	}
	for i := len(bufs) - 1; i >= 0; i-- {
		l.stack = append(l.stack, bufs[i])
	}
	for _, nb := range bufs {
		l.files = append(l.files, nb.name)
	}
	return nil
}
