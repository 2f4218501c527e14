package importer

import (
	"strings"
)

// The swanctl renderer (internal/render/swanctl) writes what plan.Gateway
// can express. Everything else ipsec.conf can say (reauth_time, over_time,
// vips, second authentication rounds, marks with masks, authorities ...)
// is added to its output by patches: set a key in a section, or insert a
// subsection. The renderer's output is strongSwan settings syntax with one
// section or key per line, which is what the patcher relies on.

// block is a settings section to insert.
type block struct {
	name string
	kvs  [][2]string
	subs []*block
}

// patch changes one section of rendered settings text.
type patch struct {
	path  []string // section path, e.g. connections, x, children, y
	key   string   // set key = value (replacing an existing key)
	value string
	sub   *block // or insert this subsection
	// before names a subsection to insert sub in front of, if present
	before string
}

func setKV(path []string, key, value string) patch {
	return patch{path: path, key: key, value: value}
}

func (b *block) kv(key, value string) {
	if value != "" {
		b.kvs = append(b.kvs, [2]string{key, value})
	}
}

func (b *block) render(depth int) []string {
	ind := strings.Repeat("    ", depth)
	out := []string{ind + b.name + " {"}
	for _, kv := range b.kvs {
		out = append(out, ind+"    "+kv[0]+" = "+kv[1])
	}
	for _, s := range b.subs {
		out = append(out, s.render(depth+1)...)
	}
	return append(out, ind+"}")
}

// applyPatches applies ps in order to settings text.
func applyPatches(text string, ps []patch) string {
	lines := strings.Split(text, "\n")
	for _, p := range ps {
		lines = applyPatch(lines, p)
	}
	return strings.Join(lines, "\n")
}

// findSection returns the lines opening and closing the section at path.
func findSection(lines []string, path []string) (open, close int, ok bool) {
	var stack []string
	open = -1
	for i, l := range lines {
		t := strings.TrimSpace(l)
		switch {
		case strings.HasPrefix(t, "#"):
		case strings.HasSuffix(t, " {"):
			stack = append(stack, strings.TrimSuffix(t, " {"))
			if equalPath(stack, path) {
				open = i
			}
		case t == "}":
			if open >= 0 && equalPath(stack, path) {
				return open, i, true
			}
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	return 0, 0, false
}

func equalPath(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func applyPatch(lines []string, p patch) []string {
	depth := len(p.path)
	ind := strings.Repeat("    ", depth)
	open, close := -1, len(lines)
	if depth > 0 {
		o, c, ok := findSection(lines, p.path)
		if !ok {
			// create the missing section at the end of its parent
			parent := p.path[:depth-1]
			lines = applyPatch(lines, patch{path: parent, sub: &block{name: p.path[depth-1]}})
			if o, c, ok = findSection(lines, p.path); !ok {
				return lines
			}
		}
		open, close = o, c
	}
	// scan the direct children of the section
	firstSub, before := -1, -1
	level := 0
	for i := open + 1; i < close; i++ {
		t := strings.TrimSpace(lines[i])
		switch {
		case strings.HasPrefix(t, "#") || t == "":
			continue
		case strings.HasSuffix(t, " {"):
			if level == 0 {
				if firstSub < 0 {
					firstSub = i
				}
				if p.before != "" && strings.TrimSuffix(t, " {") == p.before && before < 0 {
					before = i
				}
			}
			level++
			continue
		case t == "}":
			level--
			continue
		}
		if level == 0 && p.sub == nil && strings.HasPrefix(t, p.key+" = ") {
			lines[i] = ind + p.key + " = " + p.value
			return lines
		}
	}
	var ins []string
	at := close
	if depth == 0 {
		at = len(lines)
		for at > 0 && lines[at-1] == "" {
			at--
		}
		for i, l := range lines {
			if strings.HasPrefix(l, "include ") {
				at = i
				for at > 0 && strings.HasPrefix(lines[at-1], "#") {
					at--
				}
				break
			}
		}
	}
	if p.sub != nil {
		ins = p.sub.render(depth)
		if before >= 0 {
			at = before
			// keep a comment line that belongs to the section before
			for at > open+1 && strings.HasPrefix(strings.TrimSpace(lines[at-1]), "#") {
				at--
			}
		}
		if depth == 0 {
			if at > 0 && lines[at-1] != "" {
				ins = append([]string{""}, ins...)
			}
			if at < len(lines) && lines[at] != "" {
				ins = append(ins, "")
			}
		}
	} else {
		if p.value == "" {
			return lines
		}
		ins = []string{ind + p.key + " = " + p.value}
		if firstSub >= 0 {
			at = firstSub
			for at > open+1 && strings.HasPrefix(strings.TrimSpace(lines[at-1]), "#") {
				at--
			}
		}
	}
	out := make([]string, 0, len(lines)+len(ins))
	out = append(out, lines[:at]...)
	out = append(out, ins...)
	return append(out, lines[at:]...)
}

// quoteValue writes v as a settings value, quoted if needed (the same rule
// as the swanctl renderer).
func quoteValue(v string) string {
	if v == "" || strings.ContainsAny(v, " \t,{}#\"=\\\n") {
		r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
		return `"` + r.Replace(v) + `"`
	}
	return v
}

func quoteList(vs []string) string {
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = quoteValue(v)
	}
	return strings.Join(q, ", ")
}
