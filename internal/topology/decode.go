package topology

import (
	"fmt"
	"github.com/styx-vpn/styx/internal/suggest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"

	"github.com/styx-vpn/styx/internal/diag"
)

// decoder turns a YAML syntax tree into the File structs, collecting every
// schema problem (unknown key, duplicate key, wrong type, missing field) as a
// diagnostic with its position instead of stopping at the first.
type decoder struct {
	file    string
	diags   *diag.List
	anchors map[string]ast.Node
	entries map[ast.Node][]*ast.MappingValueNode
	depth   int
	merged  int
}

// yamlValue is implemented by types that decode themselves.
type yamlValue interface {
	decodeYAML(d *decoder, n ast.Node)
}

// Rule ids for schema problems.
const (
	RuleSyntax     = "syntax"
	RuleUnknownKey = "unknown-key"
	RuleDuplicate  = "duplicate-key"
	RuleType       = "type"
	RuleRequired   = "required"
	RuleValue      = "bad-value"
	RuleVersion    = "version"
)

func (d *decoder) report(sev diag.Severity, pos diag.Pos, rule, hint, format string, args ...any) {
	d.diags.Add(diag.Diagnostic{File: d.file, Pos: pos, Severity: sev, Rule: rule, Message: fmt.Sprintf(format, args...), Hint: hint})
}

func (d *decoder) errorf(pos diag.Pos, rule, hint, format string, args ...any) {
	d.report(diag.Error, pos, rule, hint, format, args...)
}

func posOf(n ast.Node) diag.Pos {
	if n == nil {
		return diag.Pos{}
	}
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return diag.Pos{}
	}
	return diag.Pos{Line: tk.Position.Line, Col: tk.Position.Column}
}

// resolve strips anchors, tags and aliases and returns the node that carries
// the value. nil means an empty value.
func (d *decoder) resolve(n ast.Node) ast.Node {
	for i := 0; i < 64 && n != nil; i++ {
		switch v := n.(type) {
		case *ast.DocumentNode:
			n = v.Body
		case *ast.TagNode:
			n = v.Value
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			name := ""
			if v.Value != nil {
				name = v.Value.GetToken().Value
			}
			target, ok := d.anchors[name]
			if !ok {
				d.errorf(posOf(v), RuleSyntax, "define the anchor (&"+name+") before using it", "unknown alias *%s", name)
				return nil
			}
			n = target
		case *ast.NullNode:
			return nil
		default:
			return n
		}
	}
	return n
}

// maxMerged bounds the entries merge keys may produce in one file, so that
// nested merges of aliases cannot blow up exponentially.
const maxMerged = 10000

// mappingEntries returns the key/value pairs of a mapping node (a single-key
// mapping is represented by goccy as a bare MappingValueNode), with merge
// keys (<<: *alias, <<: [*a, *b]) expanded as YAML says: explicit keys win
// over merged ones wherever they are written, and among merged mappings the
// first one wins. Merged entries have a nil Start, so that decodeStruct does
// not report them as duplicates. ok is false if n is not a mapping.
func (d *decoder) mappingEntries(n ast.Node) (entries []*ast.MappingValueNode, ok bool) {
	if cached, hit := d.entries[n]; hit {
		return cached, true
	}
	var raw []*ast.MappingValueNode
	switch v := n.(type) {
	case *ast.MappingNode:
		raw = v.Values
	case *ast.MappingValueNode:
		raw = []*ast.MappingValueNode{v}
	default:
		return nil, false
	}
	explicit := map[string]bool{}
	for _, mv := range raw {
		if mv.Key == nil || !mv.Key.IsMergeKey() {
			entries = append(entries, mv)
			explicit[keyString(mv.Key)] = true
		}
	}
	merged := map[string]bool{}
	for _, mv := range raw {
		if mv.Key == nil || !mv.Key.IsMergeKey() {
			continue
		}
		d.depth++
		if d.depth > 32 {
			d.errorf(posOf(mv.Key), RuleSyntax, "", "merge keys nested too deeply")
			d.depth--
			continue
		}
		target := d.resolve(mv.Value)
		var sources []ast.Node
		if sq, isSeq := target.(*ast.SequenceNode); isSeq {
			for _, it := range sq.Values {
				sources = append(sources, d.resolve(it))
			}
		} else {
			sources = []ast.Node{target}
		}
		for _, src := range sources {
			m, ok := d.mappingEntries(src)
			if !ok {
				d.errorf(posOf(mv.Value), RuleType, "merge (<<) only mappings", "merge key value is not a mapping")
				continue
			}
			for _, e := range m {
				k := keyString(e.Key)
				if explicit[k] || merged[k] {
					continue
				}
				if d.merged++; d.merged > maxMerged {
					if d.merged == maxMerged+1 {
						d.errorf(posOf(mv.Key), RuleSyntax, "simplify the anchors and merge keys", "merge keys expand to more than %d entries", maxMerged)
					}
					continue
				}
				merged[k] = true
				entries = append(entries, &ast.MappingValueNode{BaseNode: e.BaseNode, Key: e.Key, Value: e.Value})
			}
		}
		d.depth--
	}
	d.entries[n] = entries
	return entries, true
}

// collectAnchors registers every anchor of the document before decoding,
// so that an alias may refer to an anchor under a key that is itself
// reported as unknown.
func (d *decoder) collectAnchors(n ast.Node) {
	ast.Walk(anchorVisitor{d}, n)
}

type anchorVisitor struct{ d *decoder }

func (v anchorVisitor) Visit(n ast.Node) ast.Visitor {
	if a, ok := n.(*ast.AnchorNode); ok && a.Name != nil {
		if _, seen := v.d.anchors[a.Name.GetToken().Value]; !seen {
			v.d.anchors[a.Name.GetToken().Value] = a.Value
		}
	}
	return v
}

func keyString(k ast.MapKeyNode) string {
	if k == nil {
		return ""
	}
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	if tk := k.GetToken(); tk != nil {
		return tk.Value
	}
	return k.String()
}

// kindName describes the YAML kind of a node for type errors.
func kindName(n ast.Node) string {
	switch n.(type) {
	case nil:
		return "nothing"
	case *ast.MappingNode, *ast.MappingValueNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.IntegerNode:
		return "a number"
	case *ast.FloatNode:
		return "a number"
	case *ast.BoolNode:
		return "a boolean"
	default:
		return "a string"
	}
}

var (
	posType      = reflect.TypeFor[diag.Pos]()
	yamlValueTyp = reflect.TypeFor[yamlValue]()
)

// decode fills v (addressable) from node n.
func (d *decoder) decode(n ast.Node, v reflect.Value) {
	if v.CanAddr() && v.Addr().Type().Implements(yamlValueTyp) {
		v.Addr().Interface().(yamlValue).decodeYAML(d, n)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if d.resolve(n) == nil {
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(n, v.Elem())
	case reflect.Struct:
		d.decodeStruct(n, v)
	case reflect.Slice:
		rn := d.resolve(n)
		if rn == nil {
			return
		}
		sq, ok := rn.(*ast.SequenceNode)
		if !ok {
			d.errorf(posOf(rn), RuleType, "write a list, e.g. `- item` lines or [a, b]", "expected a list, found %s", kindName(rn))
			return
		}
		out := reflect.MakeSlice(v.Type(), len(sq.Values), len(sq.Values))
		for i, it := range sq.Values {
			d.decode(it, out.Index(i))
		}
		v.Set(out)
	default:
		panic(fmt.Sprintf("topology: cannot decode into %s", v.Type()))
	}
}

type fieldInfo struct {
	name     string
	index    int
	required bool
}

func structFields(t reflect.Type) (fields []fieldInfo, posIndex int) {
	posIndex = -1
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Type == posType && f.Name == "At" {
			posIndex = i
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "" || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fields = append(fields, fieldInfo{name: name, index: i, required: opts == "required"})
	}
	return fields, posIndex
}

func (d *decoder) decodeStruct(n ast.Node, v reflect.Value) {
	rn := d.resolve(n)
	fields, posIndex := structFields(v.Type())
	if posIndex >= 0 {
		p := posOf(rn)
		if entries, ok := d.mappingEntries(rn); ok && len(entries) > 0 {
			p = posOf(entries[0].Key)
		}
		if !p.IsValid() {
			p = posOf(n)
		}
		v.Field(posIndex).Set(reflect.ValueOf(p))
	}
	if rn == nil {
		for _, f := range fields {
			if f.required {
				d.errorf(posOf(n), RuleRequired, "", "missing required key %q", f.name)
			}
		}
		return
	}
	entries, ok := d.mappingEntries(rn)
	if !ok {
		d.errorf(posOf(rn), RuleType, "write key: value lines", "expected a mapping, found %s", kindName(rn))
		return
	}
	seen := map[string]*ast.MappingValueNode{}
	for _, e := range entries {
		key := keyString(e.Key)
		if prev, dup := seen[key]; dup && e.Start != nil && prev.Start != nil {
			d.errorf(posOf(e.Key), RuleDuplicate, fmt.Sprintf("remove one of them; the first is at line %d", posOf(prev.Key).Line), "duplicate key %q", key)
			continue
		}
		seen[key] = e
		i := slices.IndexFunc(fields, func(f fieldInfo) bool { return f.name == key })
		if i < 0 {
			d.errorf(posOf(e.Key), RuleUnknownKey, unknownKeyHint(key, fields), "unknown key %q", key)
			continue
		}
		d.decode(e.Value, v.Field(fields[i].index))
	}
	at := posOf(rn)
	if len(entries) > 0 {
		at = posOf(entries[0].Key)
	}
	for _, f := range fields {
		if _, ok := seen[f.name]; !ok && f.required {
			d.errorf(at, RuleRequired, "", "missing required key %q", f.name)
		}
	}
}

func unknownKeyHint(key string, fields []fieldInfo) string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.name
	}
	if best := closest(key, names); best != "" {
		return fmt.Sprintf("did you mean %q?", best)
	}
	slices.Sort(names)
	return "valid keys here: " + strings.Join(names, ", ")
}

// closest returns the candidate within edit distance 2 (or a prefix match)
// nearest to s, or "".
func closest(s string, candidates []string) string {
	limit := len(s) / 3
	if len(s) >= 3 {
		limit = max(limit, 1)
	}
	best, bestD := "", limit+1
	for _, c := range candidates {
		dist := suggest.Distance(strings.ToLower(s), c)
		if dist < bestD {
			best, bestD = c, dist
		}
	}
	return best
}

// Str is a string value with the position it came from. Set is false when
// the key was absent or empty.
type Str struct {
	V   string
	At  diag.Pos
	Set bool
}

func (s *Str) decodeYAML(d *decoder, n ast.Node) {
	rn := d.resolve(n)
	if rn == nil {
		return
	}
	s.At = posOf(rn)
	switch v := rn.(type) {
	case *ast.StringNode:
		s.V, s.Set = v.Value, true
	case *ast.LiteralNode:
		if v.Value != nil {
			s.V = v.Value.Value
		}
		s.Set = true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
		s.V, s.Set = rn.GetToken().Value, true
	default:
		hint := "quote the value if it is meant as text"
		if _, isMap := rn.(*ast.MappingValueNode); isMap {
			hint = "inside [ ] or { }, quote values that contain ':' (IPv6 addresses): \"2001:db8::/64\""
		}
		d.errorf(s.At, RuleType, hint, "expected a single value, found %s", kindName(rn))
	}
}

// Strs is a list of strings; a single scalar is accepted as a one-element
// list, so `lan: 10.0.0.0/24` and `lan: [10.0.0.0/24]` mean the same.
type Strs []Str

func (s *Strs) decodeYAML(d *decoder, n ast.Node) {
	rn := d.resolve(n)
	if rn == nil {
		return
	}
	if sq, ok := rn.(*ast.SequenceNode); ok {
		out := make(Strs, 0, len(sq.Values))
		for _, it := range sq.Values {
			var one Str
			one.decodeYAML(d, it)
			if one.Set {
				out = append(out, one)
			}
		}
		*s = out
		return
	}
	var one Str
	one.decodeYAML(d, rn)
	if one.Set {
		*s = Strs{one}
	}
}

// Values returns the plain strings.
func (s Strs) Values() []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = v.V
	}
	return out
}

// Int is an integer value with its position.
type Int struct {
	V   int
	At  diag.Pos
	Set bool
}

func (i *Int) decodeYAML(d *decoder, n ast.Node) {
	rn := d.resolve(n)
	if rn == nil {
		return
	}
	i.At = posOf(rn)
	iv, ok := rn.(*ast.IntegerNode)
	if !ok {
		d.errorf(i.At, RuleType, "", "expected a whole number, found %s", kindName(rn))
		return
	}
	text := strings.ReplaceAll(iv.GetToken().Value, "_", "")
	v, err := strconv.ParseInt(text, 0, 64)
	if err != nil || v > 1<<40 || v < -(1<<40) {
		d.errorf(i.At, RuleType, "", "number %s is out of range", iv.GetToken().Value)
		return
	}
	i.V, i.Set = int(v), true
}

// Bool is a boolean value with its position.
type Bool struct {
	V   bool
	At  diag.Pos
	Set bool
}

func (b *Bool) decodeYAML(d *decoder, n ast.Node) {
	rn := d.resolve(n)
	if rn == nil {
		return
	}
	b.At = posOf(rn)
	bv, ok := rn.(*ast.BoolNode)
	if !ok {
		d.errorf(b.At, RuleType, "write true or false", "expected true or false, found %q", rn.GetToken().Value)
		return
	}
	b.V, b.Set = bv.Value, true
}

// Dur is a duration ("30s", "4h", "1h30m", "2d", or a number of seconds)
// with its position.
type Dur struct {
	V   time.Duration
	At  diag.Pos
	Set bool
}

func (t *Dur) decodeYAML(d *decoder, n ast.Node) {
	var s Str
	s.decodeYAML(d, n)
	if !s.Set {
		return
	}
	t.At = s.At
	v, err := ParseDuration(s.V)
	if err != nil {
		d.errorf(s.At, RuleValue, "write a duration such as 30s, 15m, 4h or 1d", "invalid duration %q", s.V)
		return
	}
	t.V, t.Set = v, true
}

// ParseDuration parses a Go duration with an extra "d" (day) unit; a bare
// number is seconds. Negative durations are rejected.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseUint(s, 10, 32); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("invalid duration %q", s)
	}
	return v, nil
}

// Entry is one key/value pair of a Map.
type Entry[T any] struct {
	Key   Str
	Value T
}

// Map is a YAML mapping whose keys are names chosen by the user (gateway
// names, host names); it keeps the file order and every key's position.
type Map[T any] []Entry[T]

func (m *Map[T]) decodeYAML(d *decoder, n ast.Node) {
	rn := d.resolve(n)
	if rn == nil {
		return
	}
	entries, ok := d.mappingEntries(rn)
	if !ok {
		d.errorf(posOf(rn), RuleType, "write name: value lines", "expected a mapping of names, found %s", kindName(rn))
		return
	}
	seen := map[string]diag.Pos{}
	for _, e := range entries {
		key := keyString(e.Key)
		kp := posOf(e.Key)
		if first, dup := seen[key]; dup {
			d.errorf(kp, RuleDuplicate, fmt.Sprintf("names must be unique; the first %q is at line %d", key, first.Line), "duplicate name %q", key)
			continue
		}
		seen[key] = kp
		var ent Entry[T]
		ent.Key = Str{V: key, At: kp, Set: true}
		d.decode(e.Value, reflect.ValueOf(&ent.Value).Elem())
		*m = append(*m, ent)
	}
}

// Get returns the value for key and whether it exists.
func (m Map[T]) Get(key string) (T, bool) {
	for _, e := range m {
		if e.Key.V == key {
			return e.Value, true
		}
	}
	var zero T
	return zero, false
}
