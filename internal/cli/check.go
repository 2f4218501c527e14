package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/lint"
	"github.com/styx-vpn/styx/internal/topology"
)

// CheckCmd validates and lints topology files.
type CheckCmd struct {
	Files    []string `arg:"" name:"file" help:"Topology files to check." type:"path"`
	Format   string   `help:"Output format: text or json." enum:"text,json" default:"text"`
	Profile  string   `help:"Lint strictness, overriding the file's defaults.lint: modern, cnsa or legacy-interop." enum:",modern,cnsa,legacy-interop" default:""`
	Severity string   `help:"Show only diagnostics at least this severe: info, warning or error." enum:"info,warning,error" default:"info"`
	NoSource bool     `help:"Do not print the source line under each diagnostic." name:"no-source"`
}

// Help is the long help of styx check.
func (CheckCmd) Help() string {
	var rules strings.Builder
	for _, r := range lint.Rules {
		fmt.Fprintf(&rules, "  %-22s %s\n", r.ID, r.Doc)
	}
	return `Loads each file, validates it against the version 1 schema and runs the
lint rules. Diagnostics are printed as

  FILE:LINE:COL: severity: message (rule-id)

followed by the source line and a hint.

Secrets (psk: {file: ...} or {env: ...}) are read, if present, to check
their strength and reuse; their values are never printed.

Exit status: 0 no errors (warnings allowed), 1 errors found, 2 a file could
not be read or is not valid YAML.

Examples:
  styx check examples/s1-iot-cloud.yaml
  styx check --profile cnsa --format json site.yaml
  styx check --severity warning examples/*.yaml

Schema rules: syntax, unknown-key, duplicate-key, type, required, bad-value,
bad-address, bad-prefix, version, unresolved-ref, duplicate-name,
duplicate-tunnel, bad-tunnel.

Lint rules:
` + rules.String()
}

// Run checks the files.
func (c *CheckCmd) Run(env *Env) error {
	minSev := map[string]diag.Severity{"info": diag.Info, "warning": diag.Warning, "error": diag.Error}[c.Severity]
	code := ExitOK
	var all diag.List
	var text strings.Builder
	for _, path := range c.Files {
		name := displayName(path)
		src, err := os.ReadFile(path)
		if err != nil {
			d := diag.Diagnostic{File: name, Severity: diag.Error, Rule: "read", Message: readError(err)}
			all = append(all, d)
			fmt.Fprintln(&text, d.String())
			code = ExitUsage
			continue
		}
		diags := CheckBytes(name, src, c.Profile, secretReader(env))
		var shown diag.List
		for _, d := range diags {
			if d.Severity >= minSev {
				shown = append(shown, d)
			}
		}
		all = append(all, shown...)
		var srcForText []byte
		if !c.NoSource {
			srcForText = redactSource(src)
		}
		shown.WriteText(&text, srcForText)
		if isParseFailure(diags) {
			code = max(code, ExitUsage)
		} else if diags.HasErrors() && code == ExitOK {
			code = ExitProblem
		}
		fmt.Fprintf(&text, "%s: %s\n", name, shown.Summary())
	}
	if c.Format == "json" {
		b, err := all.JSON()
		if err != nil {
			return err
		}
		fmt.Fprintln(env.Stdout, string(b))
	} else {
		fmt.Fprint(env.Stdout, text.String())
	}
	if code != ExitOK {
		return &exitError{code: code}
	}
	return nil
}

// CheckBytes decodes, resolves and lints one topology file.
func CheckBytes(name string, src []byte, profile string, secrets lint.SecretReader) diag.List {
	net, file, diags, err := topology.LoadBytes(name, src)
	if err == nil && net != nil {
		// Lint whatever resolved, even next to resolver errors; Dedup
		// drops exact repeats of what the resolver already reported.
		diags = append(diags, lint.Run(net, file, lint.Options{Profile: profile, Secrets: secrets})...)
	}
	diags.Sort()
	return diags.Dedup()
}

func isParseFailure(l diag.List) bool {
	for _, d := range l {
		if d.Rule == topology.RuleSyntax && d.Severity == diag.Error {
			return true
		}
	}
	return false
}

func readError(err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// displayName shows paths as the user gave them, relative when possible.
func displayName(path string) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, ok := strings.CutPrefix(path, wd+string(os.PathSeparator)); ok {
			return rel
		}
	}
	return path
}
