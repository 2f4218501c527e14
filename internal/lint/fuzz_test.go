package lint_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/lint"
	"github.com/styx-vpn/styx/internal/topology"
)

// fuzzSnippets are small inputs reaching parts of the schema the examples
// may not: anchors and merges, route mode, remote access, services, lab.
var fuzzSnippets = []string{
	"",
	"styx: 1\n",
	"styx: 1\ngateways:\n  a: {public: 192.0.2.1, lan: 10.0.0.0/24}\n  b: {public: 192.0.2.2, lan: 10.1.0.0/24}\ntunnels:\n  - between: [a, b]\n    psk: {value: x}\n",
	"styx: 1\nx: &x {public: 192.0.2.1}\ngateways:\n  a:\n    <<: *x\n    lan: [10.0.0.0/24]\n  b: {<<: [*x], public: 192.0.2.2}\n",
	"styx: 1\ngateways: {a: &g {public: \"2001:db8::1\", lan: \"2001:db8:a::/64\"}, b: *g, c: {<<: *g, public: \"2001:db8::3\"}}\ntunnels: [{mesh: [a, b, c], mode: route, transfer: \"2001:db8:ff::/126\", psk: {env: \"K_{tunnel}\"}}]\n",
	"styx: 1\ngateways:\n  h: {public: 192.0.2.1, lan: 10.0.0.0/24, nat: [{from: 10.0.0.0/24, snat: 192.0.2.1}], firewall: none, dataplane: libipsec}\n  s: {dynamic: true, lan: 10.0.0.0/25}\ntunnels:\n  - {hub: h, spokes: [s], initiator: hub, start: trap, close_action: start, version: 1, aggressive: true, psk: {file: \"{hub}/{spoke}\"}, children: [{name: c, ts: {hub: [\"10.0.0.1/32[tcp/1-65535]\"], spoke: [dynamic]}, gre: {address: {hub: 10.9.9.1/30}, mtu: 1500, key: 1}}]}\n",
	"styx: 1\ngateways: {g: {public: 192.0.2.1, lan: 10.0.0.0/24, bgp: {asn: 65001, export: [lan, pools]}}}\nremote_access:\n  - {name: rw, gateway: g, pool: [10.0.0.128/25, \"fd00::/120\"], users: {u: {password: {value: pw}}}, version: 1}\nservices:\n  - {name: s, on: g, publish: \"192.0.2.1:80/tcp\", to: \"10.0.0.2:8080\", from: [rw]}\nallow:\n  - {from: [rw, g.self, internet], to: [s, 10.0.0.0/24], ports: [http/80, icmp, 1000-2000/udp]}\nlab:\n  hosts: {h: {behind: g, address: 10.1.0.1, serve: [http/80]}, r: {client: rw, public: 198.51.100.9}}\n  expect: [{from: r, to: s, result: allow}, {from: h, to: \"h:80/tcp\", result: deny, encrypted: false}]\n",
	"styx: 1\ndefaults: {mode: route, interface: {type: vti, mtu: auto}, transfer: [10.255.0.0/30], lifetime: {ike: 1d, child: 3600}}\ngateways: {a: {public: 192.0.2.1, local: 10.0.0.1, mtu: 576}, b: {public: vpn.example.com, external: true}}\ntunnels: [{between: [a, b], interface: {id: 4294967295, addresses: {a: 10.9.0.1/31}}, auth: {method: cert}}]\n",
	"styx: 1\n---\nstyx: 2\n",
	"- [\n",
	"styx: 1\ngateways:\n\ta: 1\n",
	"styx: 0x1\ngateways: {a: {public: 1.2.3.4, mtu: 1_500}}\n",
	"styx: 1\ngateways: {a: {public: 192.0.2.1}}\ntunnels:\n  - between: [a, a]\n  - hub: a\n  - mesh: [a]\n  - {between: [a, b], hub: a, mesh: [a]}\n",
}

func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"../../examples/*.yaml", "testdata/diag/*.yaml"} {
		files, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		for _, name := range files {
			src, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	for _, s := range fuzzSnippets {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			t.Fatalf("panic: %v\n%s", r, debug.Stack())
		}()
		net, file, diags, err := topology.LoadBytes("fuzz.yaml", src)
		if err != nil {
			if !errors.Is(err, topology.ErrSyntax) {
				t.Fatalf("LoadBytes error %v does not wrap ErrSyntax", err)
			}
			if net != nil || !diags.HasErrors() {
				t.Fatalf("LoadBytes failed with a network or without an error diagnostic: %v", err)
			}
		}
		if net != nil {
			diags = append(diags, lint.Run(net, file, lint.Options{Secrets: newFakeSecrets("env K_a-b", key1)})...)
		}
		// YAML breaks lines at \n, \r\n and a lone \r (found by the fuzzer:
		// "\r0" reports line 2; diag.WriteText splits at \n only and then
		// prints no source line, see TestWriteTextLoneCR)
		lines := strings.Count(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n") + strings.Count(strings.ReplaceAll(string(src), "\r\n", ""), "\r") + 1
		for _, d := range diags {
			if d.File != "fuzz.yaml" || d.Rule == "" || d.Message == "" {
				t.Fatalf("malformed diagnostic %#v", d)
			}
			if d.Pos.Line < 0 || d.Pos.Line > lines || (d.Pos.Line > 0 && d.Pos.Col < 1) {
				t.Fatalf("diagnostic outside the file (%d lines): %s", lines, d)
			}
			if d.Severity < diag.Info || d.Severity > diag.Error {
				t.Fatalf("bad severity: %s", d)
			}
		}
		diags.Sort()
		var b strings.Builder
		diags.Dedup().WriteText(&b, src)
		if _, err := diags.JSON(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestWriteTextLoneCR: the YAML parser counts a lone \r as a line break,
// and so must diag.WriteText, to print the source line of a diagnostic in
// a file with CR line ends.
func TestWriteTextLoneCR(t *testing.T) {
	src := []byte("styx: 1\rgateways:\r  a: {public: 192.0.2.300}\r")
	text := diagText("cr.yaml", src, nil)
	if !strings.Contains(text, "cr.yaml:3:15: error: public: \"192.0.2.300\" is not an IP address") {
		t.Fatalf("diagnostics:\n%s", text)
	}
	if !strings.Contains(text, "    3 |   a: {public: 192.0.2.300}") {
		t.Errorf("no source line for a file with CR line ends:\n%s", text)
	}
}
