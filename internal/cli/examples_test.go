package cli_test

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	"github.com/styx-vpn/styx/internal/cli"
)

// TestExamplesPass checks that every example topology passes styx check
// (exit 0: warnings and infos are allowed, errors are not).
func TestExamplesPass(t *testing.T) {
	files, err := filepath.Glob("../../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(files, func(f string) bool {
		return filepath.Base(f) == "s1-iot-cloud.yaml"
	}) {
		t.Fatalf("examples/s1-iot-cloud.yaml not found among %q", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := cli.Main([]string{"check", f}, cli.Env{Stdout: &stdout, Stderr: &stderr})
			if code != cli.ExitOK {
				t.Errorf("styx check %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", f, code, cli.ExitOK, stdout.String(), stderr.String())
			}
		})
	}
}
