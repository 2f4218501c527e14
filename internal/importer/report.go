package importer

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Severity of a report item.
type Severity int

// Severities. Errors make the conversion fail (exit 1); warnings and
// notes are things to review.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return "note"
}

// Category groups report items.
type Category string

// Report categories, in the order the report lists them.
const (
	CatUnknown      Category = "unknown-key"      // not an ipsec.conf keyword
	CatValue        Category = "bad-value"        // strongSwan would reject the value (and ignore the conn)
	CatEnds         Category = "left-right"       // which side is local
	CatNoEquivalent Category = "not-carried-over" // no swanctl (or topology) equivalent
	CatSemantics    Category = "semantics"        // carried over, but behaves differently
	CatDeprecated   Category = "deprecated"       // ignored by strongSwan 5 as well
	CatCrypto       Category = "weak-crypto"      // crypto lint findings
	CatSecrets      Category = "secrets"          // PSKs: strength, reuse, missing, unused
	CatFirewall     Category = "firewall"         // leftfirewall/leftupdown implications
	CatFiles        Category = "files"            // certificates and keys to copy
	CatTopology     Category = "topology"         // what the topology fragment cannot express
	CatSyntax       Category = "input"            // notes about the input files
	CatInfo         Category = "conversion"       // how conns were converted
)

var categoryOrder = []Category{CatUnknown, CatValue, CatEnds, CatNoEquivalent, CatSemantics, CatDeprecated,
	CatCrypto, CatSecrets, CatFirewall, CatFiles, CatTopology, CatSyntax, CatInfo}

var categoryTitle = map[Category]string{
	CatUnknown:      "Unknown keys (not ipsec.conf keywords)",
	CatValue:        "Invalid values (strongSwan ignores such conns)",
	CatEnds:         "Which side is local (left/right)",
	CatNoEquivalent: "Not carried over (no equivalent)",
	CatSemantics:    "Semantics that change",
	CatDeprecated:   "Deprecated keys (ignored by strongSwan 5 too)",
	CatCrypto:       "Crypto lint (proposals)",
	CatSecrets:      "Secrets",
	CatFirewall:     "Firewall (leftfirewall / updown)",
	CatFiles:        "Certificates and keys to copy",
	CatTopology:     "Topology fragment",
	CatSyntax:       "Input files",
	CatInfo:         "Conversion notes",
}

// Item is one report entry. Messages never contain secret values.
type Item struct {
	Pos      Pos
	Severity Severity
	Category Category
	Conn     string // conn (or ca) section the item is about, if any
	Key      string // ipsec.conf key, if any
	Message  string
	Hint     string
}

// Mapping records how one effective setting was carried over (for the
// verbose report).
type Mapping struct {
	Pos    Pos
	Conn   string
	Key    string
	Value  string
	Target string // e.g. "connections.x.children.y.rekey_time = 51m"
}

// Report is everything the conversion has to say.
type Report struct {
	Input    string // ipsec.conf as named on the command line
	Secrets  string
	Items    []Item
	Mappings []Mapping
	// Summary lines (conns converted, connections written).
	Notes []string
}

func (r *Report) add(it Item) { r.Items = append(r.Items, it) }

// Count returns the number of items with severity sev.
func (r *Report) Count(sev Severity) int {
	n := 0
	for _, it := range r.Items {
		if it.Severity == sev {
			n++
		}
	}
	return n
}

// HasErrors reports whether the conversion failed.
func (r *Report) HasErrors() bool { return r.Count(Error) > 0 }

func posCompare(a, b Pos) int {
	return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
}

// sorted returns the items in report order: by category, then position.
func (r *Report) sorted() []Item {
	items := slices.Clone(r.Items)
	rank := map[Category]int{}
	for i, c := range categoryOrder {
		rank[c] = i
	}
	slices.SortStableFunc(items, func(a, b Item) int {
		return cmp.Or(cmp.Compare(rank[a.Category], rank[b.Category]), posCompare(a.Pos, b.Pos),
			strings.Compare(a.Conn, b.Conn), strings.Compare(a.Message, b.Message))
	})
	return slices.CompactFunc(items, func(a, b Item) bool { return a == b })
}

// Text formats the report. Each item is one line
//
//	FILE:LINE:COL: severity: conn NAME: message
//
// followed by an indented hint, under a heading per category. With verbose,
// every mapped setting is listed too.
func (r *Report) Text(verbose bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "styx import report for %s", r.Input)
	if r.Secrets != "" {
		fmt.Fprintf(&b, " and %s", r.Secrets)
	}
	b.WriteString("\n")
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "  %s\n", n)
	}
	var last Category = "-"
	for _, it := range r.sorted() {
		if it.Category != last {
			last = it.Category
			fmt.Fprintf(&b, "\n%s:\n", categoryTitle[it.Category])
		}
		b.WriteString("  ")
		if it.Pos.File != "" {
			b.WriteString(it.Pos.String())
			b.WriteString(": ")
		}
		b.WriteString(it.Severity.String())
		b.WriteString(": ")
		switch {
		case strings.Contains(it.Conn, " "):
			fmt.Fprintf(&b, "%s: ", it.Conn)
		case it.Conn != "":
			fmt.Fprintf(&b, "conn %s: ", it.Conn)
		}
		b.WriteString(it.Message)
		b.WriteString("\n")
		if it.Hint != "" {
			fmt.Fprintf(&b, "      hint: %s\n", it.Hint)
		}
	}
	if verbose && len(r.Mappings) > 0 {
		b.WriteString("\nMapped settings:\n")
		ms := slices.Clone(r.Mappings)
		slices.SortStableFunc(ms, func(a, b Mapping) int {
			return cmp.Or(posCompare(a.Pos, b.Pos), strings.Compare(a.Conn, b.Conn))
		})
		for _, m := range ms {
			fmt.Fprintf(&b, "  %s: conn %s: %s=%s -> %s\n", m.Pos, m.Conn, m.Key, m.Value, m.Target)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", r.Summary())
	return b.String()
}

// Summary is the last line of the report.
func (r *Report) Summary() string {
	e, w, n := r.Count(Error), r.Count(Warning), r.Count(Info)
	return fmt.Sprintf("%d %s, %d %s, %d %s", e, plural(e, "error", "errors"), w, plural(w, "warning", "warnings"), n, plural(n, "note", "notes"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
