package render_test

import (
	"bytes"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render"
	"github.com/styx-vpn/styx/internal/render/iptables"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

const goldenDir = "testdata/golden"

// exampleName is the golden directory of an example: its base name
// without .yaml (s1-iot-cloud).
func exampleName(path string) string {
	return strings.TrimSuffix(filepath.Base(path), ".yaml")
}

// renderGolden renders every file of gw the way the golden files hold
// them: fixed fake secrets, iptables included.
func renderGolden(t testing.TB, gw *plan.Gateway, source string) []render.File {
	t.Helper()
	files, err := render.Gateway(gw, render.Options{Source: source, Secrets: fixedSecrets{}, Iptables: iptables.Render})
	if err != nil {
		t.Fatalf("render %s: %v", gw.Name, err)
	}
	return files
}

// sortedNames returns the keys of a gateway map in order.
func sortedNames(gws map[string]*plan.Gateway) []string {
	names := make([]string, 0, len(gws))
	for n := range gws {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// TestGolden renders every gateway of every example (external ones too)
// and compares each file byte for byte with
// testdata/golden/<example>/<gateway>/<path>. go test -run TestGolden
// -update rewrites them (and removes files no longer rendered).
func TestGolden(t *testing.T) {
	for _, ex := range examples(t) {
		gws := renderAll(t, ex)
		for _, name := range sortedNames(gws) {
			t.Run(exampleName(ex)+"/"+name, func(t *testing.T) {
				dir := filepath.Join(goldenDir, exampleName(ex), name)
				files := renderGolden(t, gws[name], ex)
				rendered := map[string]bool{}
				for _, f := range files {
					rendered[f.Path] = true
					path := filepath.Join(dir, filepath.FromSlash(f.Path))
					if *update {
						if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(path, f.Data, 0o644); err != nil {
							t.Fatal(err)
						}
						continue
					}
					want, err := os.ReadFile(path)
					if err != nil {
						t.Errorf("%v (go test ./internal/render -run TestGolden -update creates it)", err)
						continue
					}
					if !bytes.Equal(f.Data, want) {
						t.Errorf("%s differs from the golden file (go test ./internal/render -run TestGolden -update rewrites it):\n%s",
							path, lineDiff(string(want), string(f.Data)))
					}
				}
				// golden files that are no longer rendered
				err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					rel, _ := filepath.Rel(dir, p)
					if rendered[filepath.ToSlash(rel)] {
						return nil
					}
					if *update {
						return os.Remove(p)
					}
					t.Errorf("golden file %s is not rendered any more (-update removes it)", p)
					return nil
				})
				if err != nil && !(*update && os.IsNotExist(err)) {
					t.Error(err)
				}
			})
		}
	}
}

// lineDiff shows the first differing lines of want and got, with a little
// context: enough to see what changed without a diff library.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 20; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl == gl {
			continue
		}
		if i >= len(w) {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  + " + gl + "\n")
		} else if i >= len(g) {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  - " + wl + "\n")
		} else {
			b.WriteString("line " + strconv.Itoa(i+1) + ":\n  - " + wl + "\n  + " + gl + "\n")
		}
		shown++
	}
	if shown == 0 {
		return "(only line endings differ)"
	}
	return b.String()
}
