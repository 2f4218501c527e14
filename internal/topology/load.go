package topology

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/styx-vpn/styx/internal/diag"
)

// Version is the topology file format version this package reads.
const Version = 1

// ErrSyntax is returned (wrapped) by Decode when the file is not valid YAML.
var ErrSyntax = errors.New("topology: not valid YAML")

// maxSize bounds the files Decode accepts.
const maxSize = 32 << 20

// Decode parses src (named name in diagnostics) into a File. A YAML syntax
// error is returned as an error wrapping ErrSyntax together with a
// diagnostic for it; schema problems (unknown or duplicate keys, wrong
// types, missing keys) are diagnostics, and decoding continues past them so
// that all are reported at once.
func Decode(name string, src []byte) (*File, diag.List, error) {
	var diags diag.List
	if len(src) > maxSize {
		diags.Add(diag.Diagnostic{File: name, Severity: diag.Error, Rule: RuleSyntax,
			Message: fmt.Sprintf("file is larger than %d MiB", maxSize>>20)})
		return nil, diags, fmt.Errorf("%w: file too large", ErrSyntax)
	}
	// goccy counts line breaks of CRLF files wrongly after comments: parse
	// with LF line ends (columns do not change)
	src = NormalizeNewlines(src)
	astFile, err := parseYAML(src)
	if err != nil {
		d := diag.Diagnostic{File: name, Severity: diag.Error, Rule: RuleSyntax, Message: err.Error()}
		var ye yaml.Error
		if errors.As(err, &ye) {
			d.Message = ye.GetMessage()
			if tk := ye.GetToken(); tk != nil && tk.Position != nil {
				d.Pos = diag.Pos{Line: tk.Position.Line, Col: tk.Position.Column}
			}
		}
		d.Hint = "check indentation and quoting around this place"
		diags.Add(d)
		return nil, diags, fmt.Errorf("%w: %s", ErrSyntax, d.Message)
	}
	f := new(File)
	if len(astFile.Docs) == 0 || astFile.Docs[0].Body == nil {
		diags.Add(diag.Diagnostic{File: name, Severity: diag.Error, Rule: RuleRequired,
			Message: "the file is empty", Hint: "start with `styx: 1` and a gateways: section; see examples/"})
		return f, diags, nil
	}
	if len(astFile.Docs) > 1 {
		var at diag.Pos
		if st := astFile.Docs[1].Start; st != nil && st.Position != nil {
			at = diag.Pos{Line: st.Position.Line, Col: st.Position.Column}
		}
		diags.Add(diag.Diagnostic{File: name, Pos: at, Severity: diag.Error, Rule: RuleSyntax,
			Message: "more than one YAML document", Hint: "one file describes one network; remove the `---` separator"})
	}
	d := &decoder{file: name, diags: &diags, anchors: map[string]ast.Node{}, entries: map[ast.Node][]*ast.MappingValueNode{}}
	d.collectAnchors(astFile.Docs[0].Body)
	body := d.resolve(astFile.Docs[0].Body)
	if body != nil {
		if _, ok := d.mappingEntries(body); !ok {
			d.errorf(posOf(body), RuleType, "start with `styx: 1` and a gateways: section", "the file must be a mapping, found %s", kindName(body))
			return f, diags, nil
		}
	}
	d.decodeStruct(astFile.Docs[0].Body, reflectValue(f))
	if f.Styx.Set && f.Styx.V != Version {
		d.errorf(f.Styx.At, RuleVersion, fmt.Sprintf("this styx reads version %d files", Version), "unsupported file version %d", f.Styx.V)
	}
	return f, diags, nil
}

func parseYAML(src []byte) (f *ast.File, err error) {
	defer func() {
		// the YAML parser must never take the process down on hostile input
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("YAML parser failed: %v", r)
		}
	}()
	return parser.ParseBytes(src, 0, parser.AllowDuplicateMapKey())
}

// Load reads, decodes and resolves the topology file at path.
// The error is non-nil only if the file could not be read or is not YAML;
// every other problem is a diagnostic, and net is nil if any is an error
// that prevents resolution.
func Load(path string) (*Network, *File, diag.List, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("topology: %w", err)
	}
	return LoadBytes(path, src)
}

// LoadBytes is Load for a file already in memory.
func LoadBytes(name string, src []byte) (*Network, *File, diag.List, error) {
	f, diags, err := Decode(name, src)
	if err != nil {
		return nil, nil, diags, err
	}
	if diags.HasErrors() {
		return nil, f, diags, nil
	}
	net, rdiags := Resolve(name, f)
	diags = append(diags, rdiags...)
	return net, f, diags, nil
}

// NormalizeNewlines turns CRLF and lone CR line ends into LF.
func NormalizeNewlines(src []byte) []byte {
	if !bytes.ContainsRune(src, '\r') {
		return src
	}
	src = bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(src, []byte("\r"), []byte("\n"))
}
