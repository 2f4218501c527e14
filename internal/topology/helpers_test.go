package topology_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/topology"
)

// wantDiag is an expected diagnostic. pos is "line:col" ("-" for a
// diagnostic about the whole file); msg and hint are substrings.
type wantDiag struct {
	pos  string
	sev  diag.Severity
	rule string
	msg  string
	hint string
}

func (w wantDiag) String() string {
	return fmt.Sprintf("%s %s %s %q hint~%q", w.pos, w.sev, w.rule, w.msg, w.hint)
}

func (w wantDiag) matches(d diag.Diagnostic) bool {
	return d.Pos.String() == w.pos && d.Severity == w.sev && d.Rule == w.rule &&
		strings.Contains(d.Message, w.msg) && strings.Contains(d.Hint, w.hint)
}

func errAt(pos, rule, msg, hint string) wantDiag {
	return wantDiag{pos: pos, sev: diag.Error, rule: rule, msg: msg, hint: hint}
}

func formatDiags(l diag.List) string {
	var b strings.Builder
	for _, d := range l {
		fmt.Fprintf(&b, "\t%s  [hint: %s]\n", d, d.Hint)
	}
	return b.String()
}

// checkDiags asserts that got holds exactly the wanted diagnostics, in
// position order: no more, no fewer (duplicates count).
func checkDiags(t *testing.T, got diag.List, want ...wantDiag) {
	t.Helper()
	got = append(diag.List(nil), got...)
	got.Sort()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = want[i].matches(got[i])
	}
	if !ok {
		var w strings.Builder
		for _, x := range want {
			fmt.Fprintf(&w, "\t%s\n", x)
		}
		t.Errorf("diagnostics:\n got:\n%s want:\n%s", formatDiags(got), w.String())
	}
}

// noErrors fails the test if l holds an error.
func noErrors(t *testing.T, l diag.List) {
	t.Helper()
	if l.HasErrors() {
		t.Fatalf("unexpected errors:\n%s", formatDiags(l))
	}
}

// load runs LoadBytes on src (named "net.yaml") and requires a network
// without errors.
func load(t *testing.T, src string) *topology.Network {
	t.Helper()
	net, _, diags, err := topology.LoadBytes("net.yaml", []byte(src))
	if err != nil {
		t.Fatalf("LoadBytes: %v\n%s", err, formatDiags(diags))
	}
	noErrors(t, diags)
	if net == nil {
		t.Fatal("LoadBytes returned no network")
	}
	return net
}

// loadDiags runs LoadBytes and returns its diagnostics; it fails on a
// syntax error.
func loadDiags(t *testing.T, src string) (*topology.Network, diag.List) {
	t.Helper()
	net, _, diags, err := topology.LoadBytes("net.yaml", []byte(src))
	if err != nil {
		t.Fatalf("LoadBytes: %v\n%s", err, formatDiags(diags))
	}
	return net, diags
}

func tunnelByName(t *testing.T, net *topology.Network, name string) *topology.Tunnel {
	t.Helper()
	for _, tu := range net.Tunnels {
		if tu.Name == name {
			return tu
		}
	}
	t.Fatalf("no tunnel %q; have %v", name, tunnelNames(net))
	return nil
}

func tunnelNames(net *topology.Network) []string {
	var out []string
	for _, tu := range net.Tunnels {
		out = append(out, tu.Name)
	}
	return out
}

// diff compares two values (netip values included: they are comparable
// and canonical, so reflect.DeepEqual is exact for them) and describes the
// difference, or returns "".
//
// The brief asked for go-cmp with cmpopts.EquateComparable; go-cmp is not
// a requirement in go.mod, and test files may not change go.mod, so this
// small stand-in is used instead.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return fmt.Sprintf("\n got: %+v\nwant: %+v", got, want)
}

// selectors renders the selectors of a child as swanctl strings, per end.
func selectors(c *topology.Child) [2][]string {
	var out [2][]string
	for i, side := range c.TS {
		for _, ts := range side {
			out[i] = append(out[i], ts.String())
		}
	}
	return out
}

// initiators returns the names of the gateways that initiate t.
func initiators(t *topology.Tunnel) []string {
	var out []string
	for _, e := range t.Ends {
		if e.Initiator {
			out = append(out, e.Gateway.Name)
		}
	}
	return out
}
