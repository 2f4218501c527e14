package swanctl

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// writer emits strongSwan settings syntax with 4-space indentation.
type writer struct {
	b     strings.Builder
	depth int
}

func (w *writer) indent() { w.b.WriteString(strings.Repeat("    ", w.depth)) }

func (w *writer) comment(format string, args ...any) {
	for _, line := range strings.Split(fmt.Sprintf(format, args...), "\n") {
		w.indent()
		w.b.WriteString("# ")
		w.b.WriteString(line)
		w.b.WriteByte('\n')
	}
}

func (w *writer) open(name string) {
	w.indent()
	w.b.WriteString(name)
	w.b.WriteString(" {\n")
	w.depth++
}

func (w *writer) close() {
	w.depth--
	w.indent()
	w.b.WriteString("}\n")
}

func (w *writer) blank() { w.b.WriteByte('\n') }

// kv writes key = value; empty values are skipped.
func (w *writer) kv(key, value string) {
	if value == "" {
		return
	}
	w.indent()
	fmt.Fprintf(&w.b, "%s = %s\n", key, value)
}

func (w *writer) list(key string, values []string) {
	if len(values) == 0 {
		return
	}
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = quote(v)
	}
	w.kv(key, strings.Join(q, ", "))
}

func (w *writer) bool(key string, v bool) {
	if v {
		w.kv(key, "yes")
	} else {
		w.kv(key, "no")
	}
}

// quote returns v as a settings value, quoted if it contains characters
// with a meaning in the syntax (DNs: "C=CH, O=example, CN=gw").
func quote(v string) string {
	if v == "" || strings.ContainsAny(v, " \t,{}#\"=\\\n") {
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
		return `"` + r.Replace(v) + `"`
	}
	return v
}

// Duration formats d the way strongSwan reads it: 4h, 30m, 45s.
func Duration(d time.Duration) string {
	switch {
	case d == 0:
		return "0"
	case d%(24*time.Hour) == 0:
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	case d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	}
	return strconv.FormatInt(int64((d+time.Second/2)/time.Second), 10) + "s"
}
