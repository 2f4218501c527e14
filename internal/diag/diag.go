package diag

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Severity orders diagnostics by how much they matter.
type Severity int

// Severities, least severe first.
const (
	Info Severity = iota
	Warning
	Error
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// MarshalText implements encoding.TextMarshaler (used by JSON output).
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Pos is a position in a source file. Line and Col are 1-based; a zero Pos
// means "no position" (the diagnostic is about the file as a whole).
type Pos struct {
	Line int `json:"line"`
	Col  int `json:"col"`
}

// IsValid reports whether p names a real position.
func (p Pos) IsValid() bool { return p.Line > 0 }

// String returns "line:col", or "-" for the zero Pos.
func (p Pos) String() string {
	if !p.IsValid() {
		return "-"
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Col)
}

// Diagnostic is one finding about a topology file.
type Diagnostic struct {
	File     string   `json:"file"`
	Pos      Pos      `json:"pos"`
	Severity Severity `json:"severity"`
	Rule     string   `json:"rule"`
	Message  string   `json:"message"`
	Hint     string   `json:"hint,omitempty"`
}

// String formats d as "FILE:LINE:COL: severity: message (rule)".
func (d Diagnostic) String() string {
	loc := d.File
	if d.Pos.IsValid() {
		loc = fmt.Sprintf("%s:%d:%d", d.File, d.Pos.Line, d.Pos.Col)
	}
	return fmt.Sprintf("%s: %s: %s (%s)", loc, d.Severity, d.Message, d.Rule)
}

// List is a set of diagnostics.
type List []Diagnostic

// Add appends a diagnostic.
func (l *List) Add(d Diagnostic) { *l = append(*l, d) }

// Sort orders the list by file, position, severity (most severe first),
// rule and message, so that output is deterministic.
func (l List) Sort() {
	slices.SortStableFunc(l, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.File, b.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			-cmp.Compare(a.Severity, b.Severity),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Message, b.Message),
		)
	})
}

// Dedup removes exact duplicates from a sorted list.
func (l List) Dedup() List {
	return slices.Compact(l)
}

// Count returns how many diagnostics have severity s.
func (l List) Count(s Severity) int {
	n := 0
	for _, d := range l {
		if d.Severity == s {
			n++
		}
	}
	return n
}

// HasErrors reports whether any diagnostic is an error.
func (l List) HasErrors() bool { return l.Count(Error) > 0 }

// Summary returns e.g. "2 errors, 1 warning" or "no problems".
func (l List) Summary() string {
	var parts []string
	for _, s := range []Severity{Error, Warning, Info} {
		n := l.Count(s)
		if n == 0 {
			continue
		}
		word := s.String()
		if n != 1 {
			word += "s"
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, word))
	}
	if len(parts) == 0 {
		return "no problems"
	}
	return strings.Join(parts, ", ")
}

// WriteText writes l in the compiler style, each diagnostic followed by the
// source line with a caret (when src is given and the position is valid)
// and its hint.
func (l List) WriteText(b *strings.Builder, src []byte) {
	lines := splitLines(src)
	for _, d := range l {
		b.WriteString(d.String())
		b.WriteByte('\n')
		if d.Pos.IsValid() && d.Pos.Line <= len(lines) {
			line := strings.ReplaceAll(lines[d.Pos.Line-1], "\t", " ")
			num := fmt.Sprintf("%5d", d.Pos.Line)
			fmt.Fprintf(b, "%s | %s\n", num, line)
			col := max(d.Pos.Col, 1)
			fmt.Fprintf(b, "%s | %s^\n", strings.Repeat(" ", len(num)), strings.Repeat(" ", col-1))
		}
		if d.Hint != "" {
			fmt.Fprintf(b, "      hint: %s\n", d.Hint)
		}
	}
}

// JSON returns l as an indented JSON document:
// {"diagnostics": [...], "errors": N, "warnings": N, "infos": N}.
func (l List) JSON() ([]byte, error) {
	out := struct {
		Diagnostics List `json:"diagnostics"`
		Errors      int  `json:"errors"`
		Warnings    int  `json:"warnings"`
		Infos       int  `json:"infos"`
	}{l, l.Count(Error), l.Count(Warning), l.Count(Info)}
	if out.Diagnostics == nil {
		out.Diagnostics = List{}
	}
	return json.MarshalIndent(out, "", "  ")
}

func splitLines(src []byte) []string {
	if len(src) == 0 {
		return nil
	}
	text := strings.ReplaceAll(strings.ReplaceAll(string(src), "\r\n", "\n"), "\r", "\n")
	return strings.Split(strings.TrimRight(text, "\n"), "\n")
}
