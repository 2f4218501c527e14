package importer

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/topology"
)

// update rewrites the golden files: go test ./internal/importer -run TestGolden -update
var update = flag.Bool("update", false, "rewrite the golden files in testdata/*/")

// fixtures returns the fixture directories (testdata/<case>/ipsec.conf).
func fixtures(t *testing.T) []string {
	t.Helper()
	dirs, err := filepath.Glob("testdata/*/ipsec.conf")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for i, d := range dirs {
		dirs[i] = filepath.Dir(d)
	}
	return dirs
}

// fixtureOptions reads testdata/<case>/args: one option per line
// (local-address A, local-id ID, gateway-name N, lenient).
func fixtureOptions(t *testing.T, dir string) Options {
	t.Helper()
	o := Options{Conf: "ipsec.conf"}
	if _, err := os.Stat(filepath.Join(dir, "ipsec.secrets")); err == nil {
		o.Secrets = "ipsec.secrets"
	}
	data, err := os.ReadFile(filepath.Join(dir, "args"))
	if err != nil {
		return o
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch k {
		case "local-address":
			o.LocalAddrs = append(o.LocalAddrs, netip.MustParseAddr(v))
		case "local-id":
			o.LocalIDs = append(o.LocalIDs, v)
		case "gateway-name":
			o.GatewayName = v
		case "lenient":
			o.Lenient = true
		case "":
		default:
			t.Fatalf("%s/args: unknown option %q", dir, k)
		}
	}
	return o
}

// convertFixture converts one fixture from inside its directory, so that
// file names in the outputs are relative.
func convertFixture(t *testing.T, dir string) (*Result, map[string][]byte) {
	t.Helper()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(abs)
	res, err := Import(fixtureOptions(t, "."))
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	conf, sec, err := res.Swanctl(false)
	if err != nil {
		t.Fatalf("swanctl: %v", err)
	}
	topo, files := res.Topology(TopologyOptions{})
	var tf bytes.Buffer
	for _, f := range files {
		fmt.Fprintf(&tf, "==> %s (mode %04o) <==\n%s", f.Path, f.Mode, f.Data)
	}
	out := map[string][]byte{
		"swanctl.conf.golden":     conf,
		"secrets.conf.golden":     sec,
		"topology.yaml.golden":    topo,
		"topology-secrets.golden": tf.Bytes(),
		"report.txt.golden":       []byte(res.Report.Text(true)),
	}
	return res, out
}

// TestGolden converts every fixture and compares swanctl.conf, the secrets
// file, the topology fragment, its secret files and the (verbose) report
// with the golden files.
func TestGolden(t *testing.T) {
	for _, dir := range fixtures(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			_, out := convertFixture(t, dir)
			for name, got := range out {
				if *update {
					if err := os.WriteFile(name, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(name)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s/%s differs from the golden file (run with -update and review the diff):\n%s", dir, name, lineDiff(string(want), string(got)))
				}
			}
		})
	}
}

// withErrors reports whether dir is the fixture with conversion errors on
// purpose (testdata/errors); it fails the test if that fixture converts
// without errors or any other fixture has errors.
func withErrors(t *testing.T, dir string, res *Result) bool {
	t.Helper()
	want := filepath.Base(dir) == "errors"
	if got := res.Report.HasErrors(); got != want {
		t.Fatalf("%s: conversion errors = %v, want %v", dir, got, want)
	}
	return want
}

// TestTopologyLoads loads every topology fragment with the styx loader:
// no errors (warnings are fine).
func TestTopologyLoads(t *testing.T) {
	for _, dir := range fixtures(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, out := convertFixture(t, dir)
			if withErrors(t, dir, res) {
				t.Skip("the fixture has conversion errors on purpose")
			}
			src := out["topology.yaml.golden"]
			_, _, diags, err := topology.LoadBytes("fragment.yaml", src)
			if err != nil {
				t.Fatalf("not valid YAML: %v\n%s", err, src)
			}
			var errs diag.List
			for _, d := range diags {
				if d.Severity == diag.Error {
					errs = append(errs, d)
				}
			}
			if len(errs) > 0 {
				var b strings.Builder
				errs.WriteText(&b, src)
				t.Fatalf("the fragment does not load:\n%s\n%s", b.String(), src)
			}
		})
	}
}

// TestNoSilentDrops checks that every effective setting of every converted
// conn is accounted for (mapped or reported) and that no report item
// carries a secret value of the fixtures.
func TestNoSilentDrops(t *testing.T) {
	for _, dir := range fixtures(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			res, out := convertFixture(t, dir)
			for _, c := range res.imp.loaded {
				for _, st := range c.effective {
					if !res.imp.mapped[connKey{c.name, st}] {
						t.Errorf("%s: conn %s: %s=%s is neither mapped nor reported", st.KeyPos, c.name, st.Key, st.Value)
					}
				}
			}
			report := string(out["report.txt.golden"])
			for _, e := range res.imp.secrets.Entries {
				if len(e.Value) >= 8 && strings.Contains(report, string(e.Value)) {
					t.Errorf("the report contains the secret of %s", e.Pos)
				}
			}
			redConf, redSec, err := res.Swanctl(true)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range res.imp.secrets.Entries {
				v := secretValue(e.Value)
				if e.Shared() && (bytes.Contains(redSec, []byte(v)) || bytes.Contains(redConf, []byte(v))) {
					t.Errorf("the redacted output contains the secret of %s", e.Pos)
				}
			}
		})
	}
}

// lineDiff is a small line-based diff for test failures.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	n := max(len(w), len(g))
	shown := 0
	for i := 0; i < n && shown < 40; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  - %s\n  + %s\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}
