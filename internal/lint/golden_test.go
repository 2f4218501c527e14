package lint_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/lint"
	"github.com/styx-vpn/styx/internal/topology"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenSecrets holds the secrets the golden inputs refer to (the
// reader's view of them: resolved file paths and variable names).
func goldenSecrets() *fakeSecrets {
	return newFakeSecrets(
		"env PSK_CLOUD_SITEA", key1,
		"env PSK_CLOUD_PARTNER", key2,
		"env PSK_branch1", key1,
		"env PSK_branch2", key2,
		"env PSK_branch3", key3,
		"file testdata/diag/secrets/shared.psk", key4,
		"file testdata/diag/secrets/cloud-sitea.psk", key1,
		"file testdata/diag/secrets/cloud-siteb.psk", key2,
	)
}

// diagText is what styx check prints for one file: LoadBytes, lint.Run
// on whatever network resolved, the diagnostics sorted, deduplicated and
// written as text with the source lines, then the summary.
func diagText(name string, src []byte, secrets lint.SecretReader) string {
	net, file, diags, err := topology.LoadBytes(name, src)
	if err == nil && net != nil {
		diags = append(diags, lint.Run(net, file, lint.Options{Secrets: secrets})...)
	}
	diags.Sort()
	diags = diags.Dedup()
	var b strings.Builder
	diags.WriteText(&b, src)
	b.WriteString(name + ": " + diags.Summary() + "\n")
	return b.String()
}

func TestGoldenDiagnostics(t *testing.T) {
	inputs, err := filepath.Glob("testdata/diag/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) < 6 {
		t.Fatalf("found %d inputs in testdata/diag, want at least 6", len(inputs))
	}
	for _, in := range inputs {
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			got := diagText(filepath.ToSlash(in), src, goldenSecrets())
			golden := strings.TrimSuffix(in, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestGoldenDiagnostics -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("%s differs (go test -run TestGoldenDiagnostics -update rewrites it):\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestGoldenExpectations pins what each golden input is about, so that a
// careless -update cannot silently bless a regression.
func TestGoldenExpectations(t *testing.T) {
	tests := []struct {
		file  string
		rules []string // each must appear
		clean bool     // no diagnostics at all
	}{
		{file: "syntax.yaml", rules: []string{topology.RuleSyntax}},
		{file: "unknown-key.yaml", rules: []string{topology.RuleUnknownKey}},
		{file: "overlap.yaml", rules: []string{lint.RuleOverlap}},
		{file: "weak-crypto.yaml", rules: []string{"weak-crypto"}},
		{file: "psk-reused.yaml", rules: []string{lint.RulePSKReused}},
		{file: "clean.yaml", clean: true},
	}
	for _, tt := range tests {
		name := "testdata/diag/" + tt.file
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		net, file, diags, err := topology.LoadBytes(name, src)
		if err == nil && net != nil {
			diags = append(diags, lint.Run(net, file, lint.Options{Secrets: goldenSecrets()})...)
		}
		if tt.clean && len(diags) > 0 {
			t.Errorf("%s: want no diagnostics, got:\n%s", tt.file, formatDiags(diags))
		}
		for _, r := range tt.rules {
			if len(byRule(diags, r)) == 0 {
				t.Errorf("%s: no %s diagnostic:\n%s", tt.file, r, formatDiags(diags))
			}
		}
		for _, d := range diags {
			if !d.Pos.IsValid() {
				t.Errorf("%s: diagnostic without position: %s", tt.file, d)
			}
		}
	}
	_ = diag.Error
}
