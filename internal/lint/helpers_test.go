package lint_test

import (
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/lint"
	"github.com/styx-vpn/styx/internal/topology"
)

// Random keys (openssl rand -base64 33 style) that pass the strength check.
const (
	key1 = "0sd7c2FkCHXVea2KGzN7vckaRQ4mnVlVtIheEFDa4nq989"
	key2 = "0sHSYncEFM4soq3F7SOIFXUoWG23bNm9SMSBg91c099puH"
	key3 = "0sFdxqwS6y7V/x4ZEuJVVINrqvOczkGPPWo3X5LHzvGlBI"
	key4 = "0sLP8mU922TgaOc7U4GUl2pVddvrTyE95qQOYd2uaTHA1X"
)

// fakeSecrets is a lint.SecretReader backed by a map from "file PATH" or
// "env NAME" to the value. It records what it was asked for; String()
// prints the requests, never the values.
type fakeSecrets struct {
	values map[string]string
	asked  []string
}

func newFakeSecrets(kv ...string) *fakeSecrets {
	f := &fakeSecrets{values: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.values[kv[i]] = kv[i+1]
	}
	return f
}

func secretKey(s *topology.Secret) string {
	switch {
	case s.File != "":
		return "file " + s.File
	case s.Env != "":
		return "env " + s.Env
	}
	return "inline"
}

func (f *fakeSecrets) ReadSecret(s *topology.Secret) ([]byte, error) {
	k := secretKey(s)
	f.asked = append(f.asked, k)
	v, ok := f.values[k]
	if !ok {
		return nil, fmt.Errorf("fake: %s: %w", k, fs.ErrNotExist)
	}
	return []byte(v), nil
}

func (f *fakeSecrets) String() string {
	if f == nil || len(f.asked) == 0 {
		return "(no secrets read)"
	}
	return "read " + strings.Join(f.asked, ", ")
}

var _ lint.SecretReader = (*fakeSecrets)(nil)

func formatDiags(l diag.List) string {
	var b strings.Builder
	for _, d := range l {
		fmt.Fprintf(&b, "\t%s\n", d)
	}
	return b.String()
}

// check loads src (named net.yaml) and lints it the way styx check does:
// LoadBytes, then lint.Run on the network; the result is sorted and
// deduplicated. Load errors fail the test unless allowLoadErrors.
func check(t testing.TB, src string, opts lint.Options, allowLoadErrors bool) diag.List {
	t.Helper()
	net, file, diags, err := topology.LoadBytes("net.yaml", []byte(src))
	if err != nil {
		t.Fatalf("LoadBytes: %v\n%s", err, formatDiags(diags))
	}
	if diags.HasErrors() && !allowLoadErrors {
		t.Fatalf("the topology does not load cleanly:\n%s", formatDiags(diags))
	}
	if net == nil {
		t.Fatalf("no network:\n%s", formatDiags(diags))
	}
	diags = append(diags, lint.Run(net, file, opts)...)
	diags.Sort()
	return diags.Dedup()
}

func byRule(l diag.List, rule string) diag.List {
	var out diag.List
	for _, d := range l {
		if d.Rule == rule {
			out = append(out, d)
		}
	}
	return out
}

func ruleIDs() []string {
	var out []string
	for _, r := range lint.Rules {
		out = append(out, r.ID)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
