package topology_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/topology"
)

// TestDecodeSchemaErrors covers the problems Decode reports as diagnostics
// (the file is YAML, but not a valid topology file).
func TestDecodeSchemaErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []wantDiag
	}{
		{
			name: "unknown key with did-you-mean",
			src: `styx: 1
gateways:
  a:
    public: 192.0.2.1
    lann: 10.0.0.0/24
`,
			want: []wantDiag{errAt("5:5", topology.RuleUnknownKey, `unknown key "lann"`, `did you mean "lan"?`)},
		},
		{
			name: "unknown key differing in case",
			src: `styx: 1
gateways:
  a: {Public: 192.0.2.1}
`,
			want: []wantDiag{errAt("3:7", topology.RuleUnknownKey, `unknown key "Public"`, `did you mean "public"?`)},
		},
		{
			name: "unknown key without a close match lists the valid keys",
			src: `styx: 1
gateways: {a: {public: 192.0.2.1}}
peers: [x]
`,
			want: []wantDiag{errAt("3:1", topology.RuleUnknownKey, `unknown key "peers"`,
				"valid keys here: allow, crypto, defaults, gateways, lab, remote_access, services, styx, tunnels")},
		},
		{
			name: "unknown key in a list item",
			src: `styx: 1
gateways: {a: {public: 192.0.2.1}}
tunnels:
  - between: [a, b]
    initator: a
`,
			want: []wantDiag{errAt("5:5", topology.RuleUnknownKey, `unknown key "initator"`, `did you mean "initiator"?`)},
		},
		{
			name: "wrong type: boolean",
			src: `styx: 1
gateways:
  a:
    public: 192.0.2.1
    dynamic: yes
`,
			want: []wantDiag{errAt("5:14", topology.RuleType, `expected true or false, found "yes"`, "write true or false")},
		},
		{
			name: "wrong type: number",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, mtu: "big"}
`,
			want: []wantDiag{errAt("3:31", topology.RuleType, "expected a whole number, found a string", "")},
		},
		{
			name: "wrong type: version as a string",
			src: `styx: "1"
gateways: {a: {public: 192.0.2.1}}
`,
			want: []wantDiag{errAt("1:7", topology.RuleType, "expected a whole number, found a string", "")},
		},
		{
			name: "wrong type: list for a mapping of names",
			src: `styx: 1
gateways: []
`,
			want: []wantDiag{errAt("2:11", topology.RuleType, "expected a mapping of names, found a list", "write name: value lines")},
		},
		{
			name: "wrong type: scalar for a struct",
			src: `styx: 1
gateways:
  a: 5
`,
			want: []wantDiag{errAt("3:6", topology.RuleType, "expected a mapping, found a number", "write key: value lines")},
		},
		{
			name: "wrong type: mapping for a list",
			src: `styx: 1
gateways: {a: {public: 192.0.2.1}}
tunnels:
  between: [a, b]
`,
			want: []wantDiag{errAt("4:10", topology.RuleType, "expected a list, found a mapping", "write a list")},
		},
		{
			name: "wrong type: list for a single value",
			src: `styx: 1
gateways: {a: {public: 192.0.2.1, site: [x]}}
`,
			want: []wantDiag{errAt("2:41", topology.RuleType, "expected a single value, found a list", "quote the value")},
		},
		{
			name: "number out of range",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, mtu: 99999999999999999}
`,
			want: []wantDiag{errAt("3:31", topology.RuleType, "number 99999999999999999 is out of range", "")},
		},
		{
			name: "invalid duration",
			src: `styx: 1
defaults:
  dpd: 5x
gateways: {a: {public: 192.0.2.1}}
`,
			want: []wantDiag{errAt("3:8", topology.RuleValue, `invalid duration "5x"`, "write a duration")},
		},
		{
			name: "masquerade is neither boolean nor mapping",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, masquerade: eth0}
`,
			want: []wantDiag{errAt("3:38", topology.RuleType, `masquerade: expected true, false or a mapping, found "eth0"`, "")},
		},
		{
			name: "duplicate key",
			src: `styx: 1
gateways:
  a:
    public: 192.0.2.1
    lan: 10.0.0.0/24
    public: 192.0.2.2
`,
			want: []wantDiag{errAt("6:5", topology.RuleDuplicate, `duplicate key "public"`, "the first is at line 4")},
		},
		{
			name: "duplicate key in a flow mapping",
			src: `styx: 1
gateways: {a: {public: 192.0.2.1, public: 192.0.2.2}}
`,
			want: []wantDiag{errAt("2:35", topology.RuleDuplicate, `duplicate key "public"`, "the first is at line 2")},
		},
		{
			name: "duplicate top-level key",
			src: `styx: 1
gateways: {a: {public: 192.0.2.1}}
styx: 1
`,
			want: []wantDiag{errAt("3:1", topology.RuleDuplicate, `duplicate key "styx"`, "the first is at line 1")},
		},
		{
			name: "duplicate name",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1}
  b: {public: 192.0.2.2}
  a: {public: 192.0.2.3}
`,
			want: []wantDiag{errAt("5:3", topology.RuleDuplicate, `duplicate name "a"`, `the first "a" is at line 3`)},
		},
		{
			name: "unsupported version",
			src: `styx: 2
gateways: {a: {public: 192.0.2.1}}
`,
			want: []wantDiag{errAt("1:7", topology.RuleVersion, "unsupported file version 2", "this styx reads version 1 files")},
		},
		{
			name: "not a mapping",
			src: `- styx: 1
- gateways: {}
`,
			want: []wantDiag{errAt("1:1", topology.RuleType, "the file must be a mapping, found a list", "start with `styx: 1`")},
		},
		{
			name: "unknown alias",
			src: `styx: 1
gateways:
  a: *nosuch
`,
			want: []wantDiag{errAt("3:6", topology.RuleSyntax, "unknown alias *nosuch", "define the anchor (&nosuch) before using it")},
		},
		{
			name: "several problems are all reported",
			src: `styx: 1
gateways:
  a:
    publik: 192.0.2.1
    mtu: big
  b: {public: 192.0.2.2, dynamic: 1}
tunnels: {}
`,
			want: []wantDiag{
				errAt("4:5", topology.RuleUnknownKey, `unknown key "publik"`, `did you mean "public"?`),
				errAt("5:10", topology.RuleType, "expected a whole number", ""),
				errAt("6:35", topology.RuleType, `expected true or false, found "1"`, ""),
				errAt("7:10", topology.RuleType, "expected a list, found a mapping", ""),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, diags, err := topology.Decode("net.yaml", []byte(tt.src))
			if err != nil {
				t.Fatalf("Decode: unexpected error %v", err)
			}
			if f == nil {
				t.Fatal("Decode returned a nil File")
			}
			for _, d := range diags {
				if d.File != "net.yaml" {
					t.Errorf("diagnostic names file %q, want net.yaml", d.File)
				}
			}
			checkDiags(t, diags, tt.want...)
		})
	}
}

// TestDecodeMissingRequired checks that a missing required key is reported
// with the position of the mapping that lacks it: its first key.
func TestDecodeMissingRequired(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []wantDiag
	}{
		{
			name: "no gateways",
			src:  "styx: 1\n",
			want: []wantDiag{errAt("1:1", topology.RuleRequired, `missing required key "gateways"`, "")},
		},
		{
			name: "no version",
			src:  "gateways:\n  a: {public: 192.0.2.1}\n",
			want: []wantDiag{errAt("1:1", topology.RuleRequired, `missing required key "styx"`, "")},
		},
		{
			name: "list item lacking keys",
			src: `styx: 1
gateways: {a: {public: 192.0.2.1}}
services:
  - name: web
    on: a
`,
			want: []wantDiag{
				errAt("4:5", topology.RuleRequired, `missing required key "publish"`, ""),
				errAt("4:5", topology.RuleRequired, `missing required key "to"`, ""),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags, err := topology.Decode("net.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			// rule, severity and message first: those are right today
			if len(diags) != len(tt.want) {
				t.Fatalf("got %d diagnostics, want %d:\n%s", len(diags), len(tt.want), formatDiags(diags))
			}
			diags.Sort()
			for i, w := range tt.want {
				d := diags[i]
				if d.Rule != w.rule || d.Severity != w.sev || !strings.Contains(d.Message, w.msg) {
					t.Fatalf("diagnostic %d: got %s, want %s", i, d, w)
				}
			}
			for i, w := range tt.want {
				if got := diags[i].Pos.String(); got != w.pos {
					t.Errorf("decode.go decodeStruct reports a missing required key at posOf(rn), which for a "+
						"mapping is the token of its first ':' (here %s), not the mapping's first key (%s); the struct's At "+
						"(computed a few lines above) has the right position", got, w.pos)
				}
			}
		})
	}
}

func TestDecodeSyntaxError(t *testing.T) {
	tests := []struct {
		name string
		src  string
		pos  string
		msg  string
	}{
		{"unclosed flow mapping", "styx: 1\ngateways:\n  a: {public: 192.0.2.1\n", "3:6", "could not find flow mapping end token '}'"},
		{"unclosed flow sequence", "styx: 1\ngateways: {a: {lan: [10.0.0.0/24}}\n", "2:33", "',' or ']' must be specified"},
		{"unterminated quote", "styx: 1\ngateways:\n  a: {public: \"192.0.2.1}\n", "3:15", "could not find end character of double-quoted text"},
		{"tab indentation", "styx: 1\ngateways:\n\ta: {}\n", "3:1", "cannot start any token"},
		{"bad indentation", "styx: 1\n  gateways: 1\n", "1:7", "mapping value is not allowed in this context"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, diags, err := topology.Decode("net.yaml", []byte(tt.src))
			if !errors.Is(err, topology.ErrSyntax) {
				t.Fatalf("err = %v, want one wrapping ErrSyntax", err)
			}
			if f != nil {
				t.Errorf("Decode returned a File for invalid YAML")
			}
			checkDiags(t, diags, wantDiag{pos: tt.pos, sev: diag.Error, rule: topology.RuleSyntax, msg: tt.msg, hint: "check indentation and quoting"})
			if !strings.Contains(err.Error(), diags[0].Message) {
				t.Errorf("error %q does not carry the diagnostic's message %q", err, diags[0].Message)
			}
			// LoadBytes passes the error through
			net, file, ldiags, lerr := topology.LoadBytes("net.yaml", []byte(tt.src))
			if !errors.Is(lerr, topology.ErrSyntax) || net != nil || file != nil || len(ldiags) != 1 {
				t.Errorf("LoadBytes = %v, %v, %d diags, %v; want nil, nil, 1 diag, ErrSyntax", net, file, len(ldiags), lerr)
			}
		})
	}
}

func TestDecodeEmpty(t *testing.T) {
	for _, src := range []string{"", "\n", "# only a comment\n", "---\n", "--- # a document without content\n"} {
		f, diags, err := topology.Decode("net.yaml", []byte(src))
		if err != nil {
			t.Errorf("%q: err = %v, want nil", src, err)
			continue
		}
		if f == nil {
			t.Errorf("%q: nil File", src)
		}
		// a diagnostic about the file as a whole: no position
		checkDiags(t, diags, errAt("-", topology.RuleRequired, "the file is empty", "start with `styx: 1`"))
		net, _, _, _ := topology.LoadBytes("net.yaml", []byte(src))
		if net != nil {
			t.Errorf("%q: LoadBytes returned a network for an empty file", src)
		}
	}
}

func TestDecodeTooLarge(t *testing.T) {
	src := make([]byte, 32<<20+1)
	_, diags, err := topology.Decode("big.yaml", src)
	if !errors.Is(err, topology.ErrSyntax) {
		t.Fatalf("err = %v, want ErrSyntax", err)
	}
	checkDiags(t, diags, errAt("-", topology.RuleSyntax, "larger than 32 MiB", ""))
}

func TestDecodeMultipleDocuments(t *testing.T) {
	src := `styx: 1
gateways: {a: {public: 192.0.2.1}}
---
styx: 1
`
	_, diags, err := topology.Decode("net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) != 1 || diags[0].Rule != topology.RuleSyntax || !strings.Contains(diags[0].Message, "more than one YAML document") {
		t.Fatalf("diagnostics:\n%s", formatDiags(diags))
	}
	if got := diags[0].Pos.String(); got != "3:1" {
		t.Errorf("load.go Decode reports \"more than one YAML document\" at posOf(astFile.Docs[1]) = %s: goccy's "+
			"DocumentNode.GetToken() is its body's token (here the first ':'); the hint says to remove the `---` separator, "+
			"which is at 3:1 (DocumentNode.Start)", got)
	}
}

// TestDecodeValues checks that values and their positions land in the
// File as written.
func TestDecodeValues(t *testing.T) {
	src := `styx: 1
defaults:
  dpd: 2d
  lifetime: {ike: 90m, child: 3600}
gateways:
  gw-a:
    public: [192.0.2.1, "2001:db8::1"]
    lan: 10.0.0.0/24
    dynamic: false
    masquerade: {from: [10.0.0.0/25], interface: eth0}
  gw-b:
    public: 192.0.2.2
    masquerade: true
tunnels:
  - between: [gw-a, gw-b]
    bgp: {hold: 6s}
    psk: {env: PSK}
`
	f, diags, err := topology.Decode("net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	noErrors(t, diags)
	if f.Styx.V != 1 || f.Styx.At != (diag.Pos{Line: 1, Col: 7}) {
		t.Errorf("styx = %+v", f.Styx)
	}
	if f.Defaults.DPD.V.Hours() != 48 || f.Defaults.DPD.At.String() != "3:8" {
		t.Errorf("dpd = %+v", f.Defaults.DPD)
	}
	if f.Defaults.Lifetime.IKE.V.Minutes() != 90 || f.Defaults.Lifetime.Child.V.Seconds() != 3600 {
		t.Errorf("lifetime = %+v", f.Defaults.Lifetime)
	}
	if len(f.Gateways) != 2 || f.Gateways[0].Key.V != "gw-a" || f.Gateways[1].Key.V != "gw-b" {
		t.Fatalf("gateways = %+v", f.Gateways)
	}
	a := f.Gateways[0]
	if a.Key.At.String() != "6:3" || a.Value.At.String() != "7:5" {
		t.Errorf("gw-a key at %s, value at %s; want 6:3, 7:5", a.Key.At, a.Value.At)
	}
	if d := diff([]string{"192.0.2.1", "2001:db8::1"}, a.Value.Public.Values()); d != "" {
		t.Errorf("public: %s", d)
	}
	if a.Value.Public[1].At.String() != "7:25" {
		t.Errorf("second public address at %s, want 7:25", a.Value.Public[1].At)
	}
	// a scalar where a list is expected is a one-element list
	if d := diff([]string{"10.0.0.0/24"}, a.Value.LAN.Values()); d != "" {
		t.Errorf("lan: %s", d)
	}
	if !a.Value.Dynamic.Set || a.Value.Dynamic.V {
		t.Errorf("dynamic = %+v, want set and false", a.Value.Dynamic)
	}
	m := a.Value.Masquerade
	if !m.Set || !m.On || m.Iface.V != "eth0" || len(m.From) != 1 || m.From[0].V != "10.0.0.0/25" {
		t.Errorf("masquerade = %+v", m)
	}
	if mb := f.Gateways[1].Value.Masquerade; !mb.Set || !mb.On || len(mb.From) != 0 {
		t.Errorf("gw-b masquerade = %+v", mb)
	}
	tu := f.Tunnels[0]
	if tu.At.String() != "15:5" || !tu.BGP.On || tu.BGP.Hold.V.Seconds() != 6 {
		t.Errorf("tunnel = at %s bgp %+v", tu.At, tu.BGP)
	}
	if tu.PSK == nil || tu.PSK.Env.V != "PSK" || tu.PSK.Env.At.String() != "17:16" {
		t.Errorf("psk = %+v", tu.PSK)
	}
}

// TestDecodeAnchorsAndMerge checks that anchors, aliases and merge keys
// work: values come from the anchor, explicit keys beside a merge win.
func TestDecodeAnchorsAndMerge(t *testing.T) {
	src := `styx: 1
defaults:
  lifetime: &life {ike: 2h, child: 30m}
crypto:
  strong: &strong
    ike: [aes256gcm16-prfsha384-ecp384]
    esp: [aes256gcm16-ecp384]
  strong2: *strong
gateways:
  a: &gw
    public: 192.0.2.1
    lan: &lan [10.0.0.0/24, 10.0.1.0/24]
    mtu: 1400
  b:
    <<: *gw
    public: 192.0.2.2
    lan: [10.2.0.0/24]
  c:
    <<: [*gw]
    public: 192.0.2.3
    lan: [10.3.0.0/24]
  d: {public: 192.0.2.4, lan: *lan}
tunnels:
  - mesh: [a, b, c]
    lifetime: *life
    psk: {env: "PSK_{tunnel}"}
`
	f, diags, err := topology.Decode("net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	checkDiags(t, diags)
	gw := func(name string) topology.GatewayDef {
		g, ok := f.Gateways.Get(name)
		if !ok {
			t.Fatalf("no gateway %s", name)
		}
		return g
	}
	for _, tc := range []struct {
		name   string
		public string
		lan    []string
		mtu    int
	}{
		{"a", "192.0.2.1", []string{"10.0.0.0/24", "10.0.1.0/24"}, 1400},
		{"b", "192.0.2.2", []string{"10.2.0.0/24"}, 1400},
		{"c", "192.0.2.3", []string{"10.3.0.0/24"}, 1400},
		{"d", "192.0.2.4", []string{"10.0.0.0/24", "10.0.1.0/24"}, 0},
	} {
		g := gw(tc.name)
		got := struct {
			Public string
			LAN    []string
			MTU    int
		}{g.Public.Values()[0], g.LAN.Values(), g.MTU.V}
		want := struct {
			Public string
			LAN    []string
			MTU    int
		}{tc.public, tc.lan, tc.mtu}
		if d := diff(want, got); d != "" {
			t.Errorf("gateway %s: %s", tc.name, d)
		}
	}
	// merged values keep the position of the anchor's text
	if got := gw("b").MTU.At.String(); got != "13:10" {
		t.Errorf("merged mtu at %s, want 13:10 (in the anchored mapping)", got)
	}
	if s2, _ := f.Crypto.Get("strong2"); len(s2.IKE) != 1 || s2.IKE[0].V != "aes256gcm16-prfsha384-ecp384" {
		t.Errorf("aliased crypto profile = %+v", s2)
	}
	if lt := f.Tunnels[0].Lifetime; lt.IKE.V.Hours() != 2 || lt.Child.V.Minutes() != 30 {
		t.Errorf("aliased lifetime = %+v", lt)
	}
	// and the whole file resolves
	net := load(t, src)
	if len(net.Tunnels) != 3 || net.Tunnels[0].IKERekey.Hours() != 2 {
		t.Errorf("tunnels: %v", tunnelNames(net))
	}
}

// TestDecodeBugMergeOrder: YAML merge keys never override a key written in
// the mapping itself, wherever the merge key stands, and of several merged
// mappings the earlier ones win (https://yaml.org/type/merge.html).
func TestDecodeBugMergeOrder(t *testing.T) {
	src := `styx: 1
gateways:
  a:
    public: 192.0.2.1
    <<: {public: 192.0.2.9, lan: 10.1.0.0/24}
  b:
    <<: [{public: 192.0.2.2}, {public: 192.0.2.3}]
    lan: 10.2.0.0/24
`
	f, diags, err := topology.Decode("net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	checkDiags(t, diags)
	a, _ := f.Gateways.Get("a")
	b, _ := f.Gateways.Get("b")
	var bugs []string
	if got := a.Public.Values(); len(got) != 1 || got[0] != "192.0.2.1" {
		bugs = append(bugs, "decode.go decodeStruct: a merge key written after an explicit key overrides it (gateway a public = "+got[0]+", want 192.0.2.1): merged entries carry Start=nil and are decoded in order, so the later one wins")
	}
	if got := b.Public.Values(); len(got) != 1 || got[0] != "192.0.2.2" {
		bugs = append(bugs, "decode.go mappingEntries: in `<<: [*x, *y]` the later mapping wins (gateway b public = "+got[0]+", want 192.0.2.2 from the first)")
	}
	if len(bugs) > 0 {
		t.Error(strings.Join(bugs, "; "))
	}
}

// TestDecodeBugMergeInNameMap: explicit keys win over merged ones in
// mappings of names too (gateways:, lab hosts:, ts:), instead of being
// reported as duplicates.
func TestDecodeBugMergeInNameMap(t *testing.T) {
	src := `styx: 1
gateways:
  <<: {a: {public: 192.0.2.9}}
  a: {public: 192.0.2.1}
`
	f, diags, err := topology.Decode("net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(diags) > 0 {
		t.Errorf("decode.go Map.decodeYAML does not honour merge keys the way decodeStruct does: "+
			"an explicit name after `<<:` is reported as a duplicate:\n%s", formatDiags(diags))
	}
	a, _ := f.Gateways.Get("a")
	if got := a.Public.Values(); len(got) != 1 || got[0] != "192.0.2.1" {
		t.Errorf("gateway a public = %v, want the explicit 192.0.2.1", got)
	}
}

// TestDecodeBugMergeErrorReportedTwice: a bad merge key is one problem and
// must give one diagnostic.
func TestDecodeBugMergeErrorReportedTwice(t *testing.T) {
	src := `styx: 1
gateways:
  a:
    <<: 5
    public: 192.0.2.1
`
	_, diags, err := topology.Decode("net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := errAt("4:9", topology.RuleType, "merge key value is not a mapping", "merge (<<) only mappings")
	if len(diags) == 2 && want.matches(diags[0]) && want.matches(diags[1]) {
		t.Error("decode.go decodeStruct calls d.mappingEntries(rn) twice (once for the At position, once for the " +
			"entries) and mappingEntries reports merge-key errors, so Decode/LoadBytes return every merge-key error " +
			"(and every unknown alias used in a merge) twice; only callers that Dedup hide it")
	}
	checkDiags(t, diags, want)
}

// TestDecodeBugAnchorInUnknownKey: an anchor defined under a key the
// schema does not know (a common place for templates) is reported as an
// unknown alias where it is used, although it is defined above.
func TestDecodeBugAnchorInUnknownKey(t *testing.T) {
	src := `styx: 1
x-base: &base
  lan: 10.0.0.0/24
gateways:
  a:
    <<: *base
    public: 192.0.2.1
`
	_, diags, err := topology.Decode("net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	diags.Sort()
	diags = diags.Dedup()
	want := errAt("2:1", topology.RuleUnknownKey, `unknown key "x-base"`, "valid keys here")
	if len(diags) > 1 && want.matches(diags[0]) {
		t.Errorf("decode.go registers anchors only when the decoder resolves the anchored node, so an anchor "+
			"under an unknown key is never registered and its uses give follow-up errors that are false "+
			"(\"unknown alias *base\" although &base is defined on line 2):\n%s", formatDiags(diags))
	}
	checkDiags(t, diags, want)
}

// TestDecodeBugTrailingSeparator: a trailing `---` (an empty second
// document) is common in YAML files; it must be a diagnostic, not a crash.
func TestDecodeBugTrailingSeparator(t *testing.T) {
	for _, src := range []string{
		"styx: 1\ngateways: {a: {public: 192.0.2.1}}\n---\n",
		"00\n---", // found by FuzzLoad
	} {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("load.go Decode panics on %q: posOf(astFile.Docs[1]) calls goccy's DocumentNode.GetToken(), "+
						"which dereferences the nil Body of an empty document (%v); styx check crashes on any file ending in ---", src, r)
				}
			}()
			_, diags, err := topology.Decode("net.yaml", []byte(src))
			if err != nil {
				t.Fatal(err)
			}
			if len(byRuleT(diags, topology.RuleSyntax)) != 1 {
				t.Errorf("%q: want one syntax diagnostic, got:\n%s", src, formatDiags(diags))
			}
		}()
	}
}

func byRuleT(l diag.List, rule string) diag.List {
	var out diag.List
	for _, d := range l {
		if d.Rule == rule {
			out = append(out, d)
		}
	}
	return out
}

// TestDecodeBugMergeBlowUp: n lines of `gN: &aN {<<: [*aN-1, *aN-1]}`
// must not take 2^n steps (a "billion laughs"; the depth limit of 32
// bounds nesting, not work): 25 lines decode at once (an exponential
// decoder would not finish within the test's timeout). A budget of merged
// entries bounds the rest: more than 10,000 is an error at the merge key.
func TestDecodeBugMergeBlowUp(t *testing.T) {
	var b strings.Builder
	b.WriteString("styx: 1\ngateways:\n  g0: &a0 {public: 192.0.2.1}\n")
	for i := 1; i <= 25; i++ {
		fmt.Fprintf(&b, "  g%d: &a%d {<<: [*a%d, *a%d]}\n", i, i, i-1, i-1)
	}
	f, diags, err := topology.Decode("net.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	noErrors(t, diags)
	if len(f.Gateways) != 26 {
		t.Errorf("%d gateways, want 26", len(f.Gateways))
	}

	b.Reset()
	b.WriteString("styx: 1\ngateways:\n  <<: {")
	for i := range 10_001 {
		fmt.Fprintf(&b, "g%d: {public: 192.0.2.1}, ", i)
	}
	b.WriteString("}\n")
	_, diags, err = topology.Decode("net.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	want := errAt("3:3", topology.RuleSyntax, "merge keys expand to more than 10000 entries", "simplify the anchors")
	var found bool
	for _, d := range diags {
		found = found || want.matches(d)
	}
	if !found {
		t.Errorf("10,001 merged gateways: no error %s among %d diagnostics", want, len(diags))
	}
}

// TestDecodeBugCRLFComments: a file saved with Windows line ends must give
// the same positions as with Unix ones.
func TestDecodeBugCRLFComments(t *testing.T) {
	lf := "styx: 1 # version\n# a comment\ngateways:\n  a: {public: 192.0.2.300}\n"
	crlf := strings.ReplaceAll(lf, "\n", "\r\n")
	want := errAt("4:15", topology.RuleAddress, `public: "192.0.2.300" is not an IP address`, "")
	_, diags := loadDiags(t, lf)
	checkDiags(t, diags, want)
	_, diags = loadDiags(t, crlf)
	if len(diags) == 1 && diags[0].Pos.String() != "4:15" {
		t.Errorf("with CRLF line ends the error is reported at %s, not 4:15: goccy/go-yaml v1.19.2 counts the "+
			"CRLF ending a comment as two lines (goccy/go-yaml#560, open), so every comment shifts all later positions "+
			"one line down; load.go Decode could replace \\r\\n with \\n before parsing (columns stay the same)", diags[0].Pos)
	}
	checkDiags(t, diags, want)
}
