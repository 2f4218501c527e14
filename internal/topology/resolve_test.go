package topology_test

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/topology"
)

// TestResolveErrors covers problems found while resolving a well-formed
// file: addresses, prefixes, references, names and tunnel shapes.
func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []wantDiag
	}{
		{
			name: "bad public address",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.300}
`,
			want: []wantDiag{errAt("3:15", topology.RuleAddress, `public: "192.0.2.300" is not an IP address`, "a DNS name is accepted only for external gateways")},
		},
		{
			name: "DNS name for a gateway styx manages",
			src: `styx: 1
gateways:
  a: {public: vpn.example.com}
  b: {public: vpn.example.net, external: true}
`,
			want: []wantDiag{errAt("3:15", topology.RuleAddress, `public: "vpn.example.com" is not an IP address`, "")},
		},
		{
			name: "bad local, addresses and router",
			src: `styx: 1
gateways:
  a:
    public: 192.0.2.1
    local: 10.0.0.256
    addresses: [10.44.6.1, "fe80::1%eth0"]
    router: gw
`,
			want: []wantDiag{
				errAt("5:12", topology.RuleAddress, `local: "10.0.0.256" is not an IP address`, "write an IPv4 or IPv6 address"),
				errAt("6:28", topology.RuleAddress, `addresses: "fe80::1%eth0" is not an IP address`, ""),
				errAt("7:13", topology.RuleAddress, `router: "gw" is not an IP address`, ""),
			},
		},
		{
			name: "prefix with host bits names the masked prefix",
			src: `styx: 1
gateways:
  a:
    public: 192.0.2.1
    lan: [10.1.2.3/16, "2001:db8:a1::1/64"]
`,
			want: []wantDiag{
				errAt("5:11", topology.RulePrefix, `lan: prefix "10.1.2.3/16" has host bits set (the network is 10.1.0.0/16)`, "write 10.1.0.0/16 (or the address as a /32)"),
				errAt("5:24", topology.RulePrefix, `lan: prefix "2001:db8:a1::1/64" has host bits set (the network is 2001:db8:a1::/64)`, "write 2001:db8:a1::/64 (or the address as a /128)"),
			},
		},
		{
			name: "selector with host bits names the masked prefix",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - between: [a, b]
    psk: {env: PSK}
    children:
      - name: web
        ts: {a: ["10.1.0.1/24[tcp/443]"]}
`,
			want: []wantDiag{errAt("10:18", topology.RulePrefix, `tunnel a-b: prefix "10.1.0.1/24" has host bits set`, "write 10.1.0.0/24")},
		},
		{
			name: "not a prefix",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: [10.1.0.0/33, lan]}
`,
			want: []wantDiag{
				errAt("3:32", topology.RulePrefix, `lan: "10.1.0.0/33" is not an IP prefix`, "write a prefix such as 10.0.0.0/24"),
				errAt("3:45", topology.RulePrefix, `lan: "lan" is not an IP prefix`, ""),
			},
		},
		{
			name: "gateway without address",
			src: `styx: 1
gateways:
  a: {lan: 10.0.0.0/24}
`,
			want: []wantDiag{errAt("3:3", topology.RuleRequired, `gateway "a" has no public address`, "dynamic: true")},
		},
		{
			name: "invalid gateway name",
			src: `styx: 1
gateways:
  Site_A: {public: 192.0.2.1}
`,
			want: []wantDiag{errAt("3:3", topology.RuleValue, `invalid gateway name "Site_A"`, "lower-case")},
		},
		{
			name: "unknown gateway with did-you-mean",
			src: `styx: 1
gateways:
  sitea: {public: 192.0.2.1, lan: 10.1.0.0/24}
  siteb: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - between: [sitea, sitaa]
    psk: {env: PSK}
`,
			want: []wantDiag{errAt("6:22", topology.RuleUnresolved, `between: unknown gateway "sitaa"`, `did you mean "sitea"?`)},
		},
		{
			name: "duplicate tunnel name",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
  c: {public: 192.0.2.3, lan: 10.3.0.0/24}
tunnels:
  - {between: [a, b], name: core, psk: {env: PSK1}}
  - {between: [a, c], name: core, psk: {env: PSK2}}
`,
			want: []wantDiag{errAt("8:6", topology.RuleDupName, `duplicate tunnel name "core"`, "comes from line 7")},
		},
		{
			name: "duplicate tunnel name from expansion",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
  c: {public: 192.0.2.3, lan: 10.3.0.0/24}
tunnels:
  - {between: [b, c], name: a-b, psk: {env: PSK1}}
  - {mesh: [a, b], psk: {env: PSK2}}
`,
			want: []wantDiag{errAt("8:6", topology.RuleDupName, `duplicate tunnel name "a-b"`, "give this block a name:")},
		},
		{
			name: "two tunnels between the same gateways",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - {between: [a, b], psk: {env: PSK1}}
  - {between: [b, a], psk: {env: PSK2}}
`,
			want: []wantDiag{errAt("7:6", topology.RuleDupTunnel, `tunnels "a-b" and "b-a" both connect a and b`, "as children")},
		},
		{
			name: "duplicate child",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - between: [a, b]
    psk: {env: PSK}
    children:
      - name: x
      - name: x
`,
			want: []wantDiag{errAt("10:15", topology.RuleDupName, `duplicate child "x"`, "")},
		},
		{
			name: "remote access and lab host named like a gateway",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
remote_access:
  - {name: a, gateway: a, pool: 10.9.0.0/24}
lab:
  hosts:
    a: {behind: a, address: 10.1.0.2}
`,
			want: []wantDiag{
				errAt("5:12", topology.RuleDupName, `remote access "a" has the name of a gateway`, "rename one"),
				errAt("8:5", topology.RuleDupName, `lab host "a" has the name of a gateway`, ""),
			},
		},
		{
			name: "between needs two gateways",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
  c: {public: 192.0.2.3, lan: 10.3.0.0/24}
tunnels:
  - {between: [a, b, c], psk: {env: PSK}}
  - {between: [a, a], psk: {env: PSK}}
  - {between: [a, b], hub: c, psk: {env: PSK}}
  - {hub: c, psk: {env: PSK}}
  - {mesh: [a], psk: {env: PSK}}
`,
			want: []wantDiag{
				errAt("7:16", topology.RuleShape, "between needs exactly two gateways, found 3", "hub/spokes or mesh"),
				errAt("8:19", topology.RuleShape, "a tunnel needs two different gateways", ""),
				errAt("9:6", topology.RuleShape, "a tunnel needs exactly one of between, hub/spokes or mesh", ""),
				errAt("10:6", topology.RuleShape, "hub and spokes go together", ""),
				errAt("11:13", topology.RuleShape, "a mesh needs at least two gateways", ""),
			},
		},
		{
			name: "tunnel without authentication",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - between: [a, b]
`,
			want: []wantDiag{errAt("6:5", topology.RuleRequired, "tunnel has no authentication", "one random key per tunnel")},
		},
		{
			name: "lan tunnel to a gateway without lan",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2}
tunnels:
  - between: [a, b]
    psk: {env: PSK}
`,
			want: []wantDiag{errAt("6:5", topology.RuleRequired, "tunnel a-b: gateway b has no lan to protect", "traffic: host-to-host")},
		},
		{
			name: "bad initiators",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
  c: {public: 192.0.2.3, lan: 10.3.0.0/24}
  d: {dynamic: true, lan: 10.4.0.0/24}
tunnels:
  - {between: [a, b], initiator: both, psk: {env: PSK}}
  - {between: [a, c], initiator: hub, psk: {env: PSK}}
  - {between: [b, c], initiator: x, psk: {env: PSK}}
  - {between: [a, d], initiator: a, psk: {env: PSK}}
`,
			want: []wantDiag{
				errAt("8:34", topology.RuleValue, "initiator cannot be both", "let one side initiate"),
				errAt("9:34", topology.RuleValue, `initiator "hub" outside a hub/spokes block`, ""),
				errAt("10:34", topology.RuleUnresolved, `initiator "x" is not a gateway of this tunnel`, ""),
				errAt("11:6", topology.RuleValue, "tunnel a-d: a cannot initiate to dynamic gateway d", "let d initiate"),
			},
		},
		{
			name: "selector keyed by a gateway that is not an end",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - between: [a, b]
    psk: {env: PSK}
    children:
      - name: x
        ts: {spoke: [lan]}
`,
			want: []wantDiag{errAt("10:14", topology.RuleUnresolved, `tunnel a-b: "spoke" is not an end of this tunnel`, "(a, b)")},
		},
		{
			name: "crypto profiles",
			src: `styx: 1
crypto:
  modern: {ike: [aes128-sha256-modp2048], esp: [aes128-sha256]}
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - {between: [a, b], crypto: strict, psk: {env: PSK}}
`,
			want: []wantDiag{
				errAt("3:3", topology.RuleDupName, `crypto profile "modern" is built in`, "cnsa, compat, modern"),
				errAt("8:31", topology.RuleUnresolved, `unknown crypto profile "strict"`, "use one of: cnsa, compat, modern"),
			},
		},
		{
			name: "bad values with did-you-mean",
			src: `styx: 1
defaults:
  mode: routed
  mtu: 100
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24, dataplane: userspace}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - {between: [a, b], start: trapp, traffic: lans, psk: {env: PSK}, interface: {mtu: 9}}
`,
			want: []wantDiag{
				errAt("3:9", topology.RuleValue, `invalid tunnel mode "routed"`, `did you mean "route"?`),
				errAt("4:8", topology.RuleValue, "mtu 100 out of range 576-65535", ""),
				errAt("6:55", topology.RuleValue, `invalid data plane "userspace"`, "use one of: kernel, libipsec"),
				errAt("9:30", topology.RuleValue, `invalid start action "trapp"`, `did you mean "trap"?`),
				errAt("9:46", topology.RuleValue, `invalid traffic "lans"`, `did you mean "lan"?`),
				errAt("9:86", topology.RuleValue, `invalid mtu "9"`, ""),
			},
		},
		{
			name: "secrets",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
  c: {public: 192.0.2.3, lan: 10.3.0.0/24}
  d: {public: 192.0.2.4, lan: 10.4.0.0/24}
tunnels:
  - {between: [a, b], psk: {env: "PSK_{peer}"}}
  - {between: [a, c], psk: {env: PSK, file: psk}}
  - {between: [a, d], psk: {file: x}, auth: {method: cert}}
`,
			want: []wantDiag{
				errAt("8:34", topology.RuleValue, `unknown placeholder in secret name "PSK_{peer}"`, "{a}, {b}, {tunnel}"),
				errAt("9:29", topology.RuleValue, "a secret needs exactly one of file, env or value", ""),
				errAt("10:29", topology.RuleValue, "psk given twice", ""),
			},
		},
		{
			name: "lab rekey under two seconds or fractional",
			src: `styx: 1
gateways:
  a: {public: 192.0.2.1}
lab:
  rekey: 1500ms
`,
			want: []wantDiag{errAt("5:10", topology.RuleValue, "lab.rekey 1.5s: must be whole seconds, at least 2s", "whole seconds")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, ddiags, err := topology.Decode("net.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			noErrors(t, ddiags) // the problems are the resolver's
			net, rdiags := topology.Resolve("net.yaml", f)
			if net == nil {
				t.Fatal("Resolve returned no network")
			}
			checkDiags(t, rdiags, tt.want...)
			// LoadBytes reports the same
			_, _, ldiags, err := topology.LoadBytes("net.yaml", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			checkDiags(t, ldiags, tt.want...)
		})
	}
}

// TestLoadValidExample: the example S1 loads without errors and resolves to
// the seed's tunnels.
func TestLoadValidExample(t *testing.T) {
	net, file, diags, err := topology.Load("../../examples/s1-iot-cloud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	noErrors(t, diags)
	if file == nil || net == nil {
		t.Fatal("no network")
	}
	if d := diff([]string{"cloud-sitea", "cloud-siteb"}, tunnelNames(net)); d != "" {
		t.Errorf("tunnels: %s", d)
	}
	tu := tunnelByName(t, net, "cloud-sitea")
	if d := diff([2][]string{{"172.30.30.30/32"}, {"172.16.16.16/32"}}, selectors(tu.Children[0])); d != "" {
		t.Errorf("selectors: %s", d)
	}
	if d := diff([]string{"sitea"}, initiators(tu)); d != "" {
		t.Errorf("initiators: %s", d)
	}
	if tu.Auth.PSK == nil || tu.Auth.PSK.File != "../../examples/secrets/cloud-sitea.psk" {
		t.Errorf("psk = %+v", tu.Auth.PSK)
	}
	svc := net.Services[0]
	if svc.Publish.String() != "172.30.30.30:8080/tcp" || svc.To.String() != "10.0.0.2:8080/tcp" {
		t.Errorf("service = %s -> %s", svc.Publish, svc.To)
	}
	if _, _, _, err := topology.Load("../../examples/no-such-file.yaml"); err == nil {
		t.Error("Load of a missing file: no error")
	}
}

func TestHubSpokesExpansion(t *testing.T) {
	src := `styx: 1
gateways:
  hub: {public: 192.0.2.1, lan: 10.0.0.0/24}
  s3: {public: 192.0.2.13, lan: 10.3.0.0/24}
  s1: {public: 192.0.2.11, lan: 10.1.0.0/24}
  s2: {dynamic: true, lan: 10.2.0.0/24}
  ext: {public: vpn.example.com, external: true, lan: 10.9.0.0/24}
tunnels:
  - hub: hub
    spokes: [s3, s1, s2]
    psk: {file: "secrets/{spoke}.psk"}
  - hub: ext
    name: partner
    spokes: [s1, hub]
    psk: {env: "PSK_{hub}_{spoke}"}
`
	net := load(t, src)
	type tun struct {
		Name       string
		Family     string
		Ends       [2]string
		Roles      [2]topology.Role
		Initiators []string
		TS         [2][]string
	}
	var got []tun
	for _, tu := range net.Tunnels {
		got = append(got, tun{tu.Name, tu.Family,
			[2]string{tu.Ends[0].Gateway.Name, tu.Ends[1].Gateway.Name},
			[2]topology.Role{tu.Ends[0].Role, tu.Ends[1].Role},
			initiators(tu), selectors(tu.Children[0])})
		if tu.At.String() != "9:5" && tu.At.String() != "12:5" {
			t.Errorf("tunnel %s at %s, want its block", tu.Name, tu.At)
		}
	}
	want := []tun{
		{"hub-s1", "hub", [2]string{"hub", "s1"}, [2]topology.Role{"hub", "spoke"}, []string{"s1"}, [2][]string{{"10.0.0.0/24"}, {"10.1.0.0/24"}}},
		// a dynamic spoke initiates (its address is unknown)
		{"hub-s2", "hub", [2]string{"hub", "s2"}, [2]topology.Role{"hub", "spoke"}, []string{"s2"}, [2][]string{{"10.0.0.0/24"}, {"10.2.0.0/24"}}},
		{"hub-s3", "hub", [2]string{"hub", "s3"}, [2]topology.Role{"hub", "spoke"}, []string{"s3"}, [2][]string{{"10.0.0.0/24"}, {"10.3.0.0/24"}}},
		// our side initiates towards an external hub
		{"partner-hub", "hub", [2]string{"ext", "hub"}, [2]topology.Role{"hub", "spoke"}, []string{"hub"}, [2][]string{{"10.9.0.0/24"}, {"10.0.0.0/24"}}},
		{"partner-s1", "hub", [2]string{"ext", "s1"}, [2]topology.Role{"hub", "spoke"}, []string{"s1"}, [2][]string{{"10.9.0.0/24"}, {"10.1.0.0/24"}}},
	}
	if d := diff(want, got); d != "" {
		t.Errorf("tunnels: %s", d)
	}
	if got := tunnelByName(t, net, "hub-s2").Auth.PSK.File; got != "secrets/s2.psk" {
		t.Errorf("{spoke} placeholder: psk file %q, want secrets/s2.psk", got)
	}
	if got := tunnelByName(t, net, "partner-s1").Auth.PSK.Env; got != "PSK_ext_s1" {
		t.Errorf("{hub}_{spoke} placeholders: env %q, want PSK_ext_s1", got)
	}
}

func TestHubSpokesErrors(t *testing.T) {
	src := `styx: 1
gateways:
  hub: {public: 192.0.2.1, lan: 10.0.0.0/24}
  s1: {public: 192.0.2.11, lan: 10.1.0.0/24}
tunnels:
  - hub: hub
    spokes: [s1, hub, s1, s9]
    psk: {env: "PSK_{spoke}"}
`
	net, diags := loadDiags(t, src)
	checkDiags(t, diags,
		errAt("7:18", topology.RuleShape, `spoke "hub" is listed twice or is the hub`, ""),
		errAt("7:23", topology.RuleShape, `spoke "s1" is listed twice or is the hub`, ""),
		errAt("7:27", topology.RuleUnresolved, `spokes: unknown gateway "s9"`, ""),
	)
	if d := diff([]string{"hub-s1"}, tunnelNames(net)); d != "" {
		t.Errorf("the valid spoke is still expanded: %s", d)
	}
}

func TestMeshExpansion(t *testing.T) {
	src := `styx: 1
gateways:
  d: {public: 192.0.2.4, lan: 10.4.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  c: {public: 192.0.2.3, lan: 10.3.0.0/24}
  x: {dynamic: true, lan: 10.8.0.0/24}
  y: {public: 198.51.100.1, lan: 10.9.0.0/24, external: true}
tunnels:
  - mesh: [d, b, a, c]
    psk: {env: "PSK_{a}_{b}"}
  - mesh: [a, x, y]
    name: edge
    psk: {env: "PSK_{tunnel}"}
`
	net := load(t, src)
	type tun struct {
		Name       string
		Family     string
		Ends       [2]string
		Initiators []string
		Env        string
	}
	var got []tun
	for _, tu := range net.Tunnels {
		got = append(got, tun{tu.Name, tu.Family, [2]string{tu.Ends[0].Gateway.Name, tu.Ends[1].Gateway.Name}, initiators(tu), tu.Auth.PSK.Env})
	}
	want := []tun{
		// n(n-1)/2 = 6 tunnels, ends in name order, the first end initiates
		{"a-b", "mesh", [2]string{"a", "b"}, []string{"a"}, "PSK_a_b"},
		{"a-c", "mesh", [2]string{"a", "c"}, []string{"a"}, "PSK_a_c"},
		{"a-d", "mesh", [2]string{"a", "d"}, []string{"a"}, "PSK_a_d"},
		{"b-c", "mesh", [2]string{"b", "c"}, []string{"b"}, "PSK_b_c"},
		{"b-d", "mesh", [2]string{"b", "d"}, []string{"b"}, "PSK_b_d"},
		{"c-d", "mesh", [2]string{"c", "d"}, []string{"c"}, "PSK_c_d"},
		// a name prefixes the pair; a dynamic gateway initiates; we
		// initiate towards an external one
		{"edge-a-x", "mesh", [2]string{"a", "x"}, []string{"x"}, "PSK_edge-a-x"},
		{"edge-a-y", "mesh", [2]string{"a", "y"}, []string{"a"}, "PSK_edge-a-y"},
		{"edge-x-y", "mesh", [2]string{"x", "y"}, []string{"x"}, "PSK_edge-x-y"},
	}
	if d := diff(want, got); d != "" {
		t.Errorf("tunnels: %s", d)
	}
}

func TestInitiator(t *testing.T) {
	tests := []struct {
		name   string
		tunnel string
		want   []string
	}{
		{"between: the first named initiates", "{between: [b, a]}", []string{"b"}},
		{"between: explicit", "{between: [a, b], initiator: b}", []string{"b"}},
		{"between: none", "{between: [a, b], initiator: none}", nil},
		{"hub: spoke by default", "{hub: a, spokes: [b]}", []string{"b"}},
		{"hub: explicit hub", "{hub: a, spokes: [b], initiator: hub}", []string{"a"}},
		{"hub: explicit spokes", "{hub: a, spokes: [b], initiator: spokes}", []string{"b"}},
		{"hub: by name", "{hub: a, spokes: [b], initiator: a}", []string{"a"}},
		{"dynamic end initiates", "{between: [a, dyn]}", []string{"dyn"}},
		{"dynamic hub initiates", "{hub: dyn, spokes: [a]}", []string{"dyn"}},
		{"we initiate towards external", "{between: [ext, a]}", []string{"a"}},
		{"external spoke: the hub initiates", "{hub: a, spokes: [ext]}", []string{"a"}},
		{"dynamic beats external", "{between: [ext, dyn]}", []string{"dyn"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
  dyn: {dynamic: true, lan: 10.3.0.0/24}
  ext: {public: 198.51.100.1, external: true, lan: 10.4.0.0/24}
tunnels:
  - ` + strings.TrimSuffix(tt.tunnel, "}") + `, psk: {env: PSK}}
`
			net := load(t, src)
			if len(net.Tunnels) != 1 {
				t.Fatalf("tunnels: %v", tunnelNames(net))
			}
			if d := diff(tt.want, initiators(net.Tunnels[0])); d != "" {
				t.Errorf("initiators: %s", d)
			}
		})
	}
}

// TestSelectors covers ts: keyed by gateway name and by role, the
// keywords lan and public, and the defaults for an end without ts.
func TestSelectors(t *testing.T) {
	src := `styx: 1
gateways:
  hub: {public: 192.0.2.1, lan: [10.0.0.0/24, "2001:db8:a0::/64"]}
  s1: {public: 192.0.2.11, lan: 10.1.0.0/24}
  s2: {public: 192.0.2.12, local: 10.99.0.2, lan: 10.2.0.0/24}
  a: {public: 198.51.100.1, lan: 10.5.0.0/24}
  b: {public: 198.51.100.2, addresses: [10.44.7.1]}
tunnels:
  - hub: hub
    spokes: [s1, s2]
    psk: {env: "PSK_{spoke}"}
    children:
      - name: web
        ts:
          hub: ["10.0.0.10/32[tcp/443]", "10.0.0.11/32[udp/1000-2000]"]
          spoke: [lan, public]
        snat: {spoke: 10.1.0.1}
      - name: mgmt
        ts: {spoke: [public]}
  - between: [a, b]
    psk: {env: PSK}
    children:
      - name: gre
        mode: transport
        ts: {a: ["198.51.100.1/32[gre]"], b: ["10.44.7.1/32[gre]"]}
      - name: rest
        ts: {a: [dynamic]}
`
	net := load(t, src)
	type child struct {
		Tunnel, Child string
		TS            [2][]string
		Mode          string
	}
	var got []child
	for _, tu := range net.Tunnels {
		for _, c := range tu.Children {
			got = append(got, child{tu.Name, c.Name, selectors(c), c.Mode})
		}
	}
	want := []child{
		{"a-b", "gre", [2][]string{{"198.51.100.1/32[gre]"}, {"10.44.7.1/32[gre]"}}, "transport"},
		// b has no lan: its side defaults to its own address
		{"a-b", "rest", [2][]string{{"dynamic"}, {"198.51.100.2/32"}}, "tunnel"},
		{"hub-s1", "web", [2][]string{{"10.0.0.10/32[tcp/443]", "10.0.0.11/32[udp/1000-2000]"}, {"10.1.0.0/24", "192.0.2.11/32"}}, "tunnel"},
		// the hub's side defaults to its lan
		{"hub-s1", "mgmt", [2][]string{{"10.0.0.0/24", "2001:db8:a0::/64"}, {"192.0.2.11/32"}}, "tunnel"},
		// public is the address the gateway itself owns (local behind 1:1 NAT)
		{"hub-s2", "web", [2][]string{{"10.0.0.10/32[tcp/443]", "10.0.0.11/32[udp/1000-2000]"}, {"10.2.0.0/24", "10.99.0.2/32"}}, "tunnel"},
		{"hub-s2", "mgmt", [2][]string{{"10.0.0.0/24", "2001:db8:a0::/64"}, {"10.99.0.2/32"}}, "tunnel"},
	}
	if d := diff(want, got); d != "" {
		t.Errorf("children: %s", d)
	}
	web := tunnelByName(t, net, "hub-s1").Children[0]
	if d := diff([2]netip.Addr{{}, netip.MustParseAddr("10.1.0.1")}, web.SNAT); d != "" {
		t.Errorf("snat by role: %s", d)
	}
	// selectors keep the position of the text they came from
	if got := web.TS[0][1].At.String(); got != "15:42" {
		t.Errorf("second hub selector at %s, want 15:42", got)
	}
	if got := web.TS[1][0].At.String(); got != "16:19" {
		t.Errorf("lan keyword selector at %s, want 16:19", got)
	}
	if ts := web.TS[0][0]; ts.Proto != "tcp" || ts.PortFrom != 443 || ts.PortTo != 443 {
		t.Errorf("parsed selector = %+v", ts)
	}
}

// TestSelectorsBugSpokeNameInHubBlock: ts: keyed by a gateway name in a
// hub/spokes block (documented in file.go: "keyed by gateway name, or by
// role (hub, spoke) in a hub-and-spoke block") should apply to that
// spoke's tunnel only.
func TestSelectorsBugSpokeNameInHubBlock(t *testing.T) {
	src := `styx: 1
gateways:
  hub: {public: 192.0.2.1, lan: 10.0.0.0/24}
  s1: {public: 192.0.2.11, lan: 10.1.0.0/24}
  s2: {public: 192.0.2.12, lan: 10.2.0.0/24}
tunnels:
  - hub: hub
    spokes: [s1, s2]
    psk: {env: "PSK_{spoke}"}
    children:
      - name: web
        ts: {hub: [10.0.0.0/25], s1: [10.1.0.128/25]}
`
	net, diags := loadDiags(t, src)
	if diags.HasErrors() {
		t.Errorf("resolve_tunnels.go children/endKey: in a hub/spokes block, a ts: (or snat:) key naming one spoke is "+
			"an error in the tunnels of all the other spokes, so per-spoke selectors cannot be written:\n%s", formatDiags(diags))
	}
	if d := diff([2][]string{{"10.0.0.0/25"}, {"10.1.0.128/25"}}, selectors(tunnelByName(t, net, "hub-s1").Children[0])); d != "" {
		t.Errorf("hub-s1: %s", d)
	}
	if d := diff([2][]string{{"10.0.0.0/25"}, {"10.2.0.0/24"}}, selectors(tunnelByName(t, net, "hub-s2").Children[0])); d != "" {
		t.Errorf("hub-s2: %s", d)
	}
}

func TestHostToHost(t *testing.T) {
	src := `styx: 1
gateways:
  cloud: {public: 172.30.30.30, lan: 10.0.0.0/24}
  sitea: {public: 172.16.16.16, lan: 10.1.0.0/24}
  siteb: {public: 172.17.17.17, local: 10.0.2.15, lan: 10.1.0.0/24}
  road: {dynamic: true}
  v6: {public: "2001:db8:1::1"}
tunnels:
  - hub: cloud
    spokes: [sitea, siteb, road]
    traffic: host-to-host
    psk: {env: "PSK_{spoke}"}
  - between: [v6, road]
    traffic: host-to-host
    psk: {env: PSK}
`
	net := load(t, src)
	want := map[string][2][]string{
		"cloud-sitea": {{"172.30.30.30/32"}, {"172.16.16.16/32"}},
		// behind 1:1 NAT the selector is the local address
		"cloud-siteb": {{"172.30.30.30/32"}, {"10.0.2.15/32"}},
		// a dynamic gateway's address is whatever it connects from
		"cloud-road": {{"172.30.30.30/32"}, {"dynamic"}},
		"v6-road":    {{"2001:db8:1::1/128"}, {"dynamic"}},
	}
	for name, w := range want {
		tu := tunnelByName(t, net, name)
		if len(tu.Children) != 1 || tu.Children[0].Name != name {
			t.Errorf("%s: children %+v", name, tu.Children)
			continue
		}
		if d := diff(w, selectors(tu.Children[0])); d != "" {
			t.Errorf("%s: %s", name, d)
		}
	}
	if got := initiators(tunnelByName(t, net, "v6-road")); len(got) != 1 || got[0] != "road" {
		t.Errorf("v6-road initiators = %v", got)
	}
}

func TestDefaultsApplied(t *testing.T) {
	src := `styx: 1
defaults:
  dpd: 10s
  lifetime: {ike: 8h}
  start: start
  mtu: 9001
  firewall: drop
  dataplane: libipsec
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24, mtu: 1400, firewall: none, dataplane: kernel}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
  c: {public: 192.0.2.3, lan: 10.3.0.0/24}
tunnels:
  - {between: [a, b], dpd: 5s, lifetime: {child: 20m}, psk: {env: PSK}}
  - {between: [a, c], version: 1, aggressive: true, mobike: false, psk: {env: PSK2}, close_action: trap}
`
	net := load(t, src)
	gw := map[string]*topology.Gateway{}
	for _, g := range net.Gateways {
		gw[g.Name] = g
	}
	type gws struct {
		MTU       int
		Firewall  string
		Dataplane topology.Dataplane
	}
	got := []gws{{gw["a"].MTU, gw["a"].Firewall, gw["a"].Dataplane}, {gw["b"].MTU, gw["b"].Firewall, gw["b"].Dataplane}}
	want := []gws{{1400, "none", "kernel"}, {9001, "drop", "libipsec"}}
	if d := diff(want, got); d != "" {
		t.Errorf("gateways: %s", d)
	}
	ab, ac := tunnelByName(t, net, "a-b"), tunnelByName(t, net, "a-c")
	type tun struct {
		DPD, IKE, Child       string
		Start, Close          string
		Version               int
		Aggressive, MOBIKE    bool
		Crypto                string
		VersionAt             string
		Mode, IfType, Initiat string
	}
	gotT := []tun{
		{ab.DPD.String(), ab.IKERekey.String(), ab.ChildRekey.String(), ab.Start, ab.Close, ab.Version, ab.Aggressive, ab.MOBIKE, ab.Crypto.Name, ab.VersionAt.String(), ab.Mode, ab.IfType, initiators(ab)[0]},
		{ac.DPD.String(), ac.IKERekey.String(), ac.ChildRekey.String(), ac.Start, ac.Close, ac.Version, ac.Aggressive, ac.MOBIKE, ac.Crypto.Name, ac.VersionAt.String(), ac.Mode, ac.IfType, initiators(ac)[0]},
	}
	wantT := []tun{
		{"5s", "8h0m0s", "20m0s", "start", "", 2, false, true, "modern", "-", "policy", "xfrm", "a"},
		{"10s", "8h0m0s", "1h0m0s", "start", "trap", 1, true, false, "modern", "15:32", "policy", "xfrm", "a"},
	}
	if d := diff(wantT, gotT); d != "" {
		t.Errorf("tunnels: %s", d)
	}
}

// TestStartOnLibipsec: an initiator on kernel-libipsec gets start: start
// (traps do not work there) unless the file says otherwise.
func TestStartOnLibipsec(t *testing.T) {
	src := `styx: 1
gateways:
  a: {public: 192.0.2.1, lan: 10.1.0.0/24, dataplane: libipsec}
  b: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - {between: [a, b], psk: {env: PSK}}
  - {between: [b, a], name: back, psk: {env: PSK}}
`
	net, diags := loadDiags(t, src)
	checkDiags(t, diags, errAt("7:6", topology.RuleDupTunnel, "both connect a and b", ""))
	if got := tunnelByName(t, net, "a-b").Start; got != "start" {
		t.Errorf("libipsec initiator: start = %q, want start", got)
	}
	src2 := strings.Replace(src, "  - {between: [b, a], name: back, psk: {env: PSK}}\n", "", 1)
	src2 = strings.Replace(src2, "[a, b]", "[b, a]", 1)
	net = load(t, src2)
	if got := net.Tunnels[0].Start; got != "trap|start" {
		t.Errorf("kernel initiator: start = %q, want trap|start", got)
	}
}

func TestSecretPlaceholders(t *testing.T) {
	src := `styx: 1
gateways:
  hub: {public: 192.0.2.1, lan: 10.0.0.0/24}
  s1: {public: 192.0.2.11, lan: 10.1.0.0/24}
  a: {public: 198.51.100.1, lan: 10.5.0.0/24}
  b: {public: 198.51.100.2, lan: 10.6.0.0/24}
  c: {public: 198.51.100.3, lan: 10.7.0.0/24}
tunnels:
  - {hub: hub, spokes: [s1], psk: {file: "secrets/{hub}/{spoke}-{tunnel}.psk"}}
  - {between: [b, a], psk: {env: "PSK_{a}_{b}"}}
  - {between: [a, c], auth: {psk: {file: "/etc/styx/{tunnel}.psk"}}}
  - {between: [b, c], psk: {value: "0sAbCdEf"}}
remote_access:
  - name: rw
    gateway: hub
    pool: 10.9.0.0/24
    users:
      alice: {password: {env: "PW_{user}"}}
`
	net, _, diags, err := topology.LoadBytes("site/net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	noErrors(t, diags)
	got := map[string]topology.Secret{}
	for _, tu := range net.Tunnels {
		if tu.Auth.Method != topology.AuthPSK || tu.Auth.PSK == nil {
			t.Fatalf("%s: auth %+v", tu.Name, tu.Auth)
		}
		got[tu.Name] = *tu.Auth.PSK
	}
	want := map[string]topology.Secret{
		// relative files are relative to the topology file
		"hub-s1": {At: diag.Pos{Line: 9, Col: 42}, File: "site/secrets/hub/s1-hub-s1.psk"},
		// {a} and {b} are the ends as written
		"b-a": {At: diag.Pos{Line: 10, Col: 34}, Env: "PSK_b_a"},
		"a-c": {At: diag.Pos{Line: 11, Col: 42}, File: "/etc/styx/a-c.psk"},
		"b-c": {At: diag.Pos{Line: 12, Col: 36}, Value: "0sAbCdEf"},
	}
	if d := diff(want, got); d != "" {
		t.Errorf("secrets: %s", d)
	}
	if got := tunnelByName(t, net, "b-c").Auth.PSK.Source(); got != "inline value" {
		t.Errorf("Source() = %q", got)
	}
	if got := tunnelByName(t, net, "b-a").Auth.PSK.Source(); got != "environment variable PSK_b_a" {
		t.Errorf("Source() = %q", got)
	}
	if pw := net.RemoteAccess[0].Users[0].Password; pw == nil || pw.Env != "PW_alice" {
		t.Errorf("user password = %+v", pw)
	}
}

// TestSecretPlaceholdersBugRoleOutsideHub: {hub} and {spoke} mean nothing
// in a between or mesh block; they expand to "" today, so every tunnel of
// the block silently gets the same secret name.
func TestSecretPlaceholdersBugRoleOutsideHub(t *testing.T) {
	src := `styx: 1
gateways:
  a: {public: 198.51.100.1, lan: 10.5.0.0/24}
  b: {public: 198.51.100.2, lan: 10.6.0.0/24}
  c: {public: 198.51.100.3, lan: 10.7.0.0/24}
tunnels:
  - {mesh: [a, b, c], psk: {file: "secrets/{spoke}.psk"}}
`
	net, diags := loadDiags(t, src)
	if !diags.HasErrors() {
		files := map[string]bool{}
		for _, tu := range net.Tunnels {
			files[tu.Auth.PSK.File] = true
		}
		t.Errorf("resolve_tunnels.go tunnel() sets vars hub and spoke to \"\" outside hub/spokes blocks and "+
			"resolve.go secret() expands them silently: mesh [a, b, c] with psk {file: \"secrets/{spoke}.psk\"} "+
			"gives all 3 tunnels the file %v instead of an error at 7:35", files)
	}
	checkDiags(t, diags, errAt("7:35", topology.RuleValue, "{spoke}", ""))
}

// TestSecretBugBraceInDirectory: the unknown-placeholder check runs on the
// path joined with the topology file's directory.
func TestSecretBugBraceInDirectory(t *testing.T) {
	src := `styx: 1
gateways:
  a: {public: 198.51.100.1, lan: 10.5.0.0/24}
  b: {public: 198.51.100.2, lan: 10.6.0.0/24}
tunnels:
  - {between: [a, b], psk: {file: "secrets/{tunnel}.psk"}}
`
	_, _, diags, err := topology.LoadBytes("/srv/{prod}/net.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if diags.HasErrors() {
		t.Errorf("resolve.go secret() checks for unknown placeholders after joining the path with the "+
			"topology file's directory, so a file under a directory whose name contains '{' gets a false error:\n%s", formatDiags(diags))
	}
}

// TestUnknownGatewayHintDeterministic: when two gateway names are equally
// close to a misspelt one, the hint must not depend on map order.
func TestUnknownGatewayHintDeterministic(t *testing.T) {
	src := `styx: 1
gateways:
  sitea: {public: 192.0.2.1, lan: 10.1.0.0/24}
  siteb: {public: 192.0.2.2, lan: 10.2.0.0/24}
tunnels:
  - between: [sitea, sitec]
    psk: {env: PSK}
`
	hints := map[string]bool{}
	for range 50 {
		_, diags := loadDiags(t, src)
		checkDiags(t, diags, errAt("6:22", topology.RuleUnresolved, `between: unknown gateway "sitec"`, "did you mean"))
		for _, d := range diags {
			hints[d.Hint] = true
		}
	}
	if len(hints) > 1 {
		t.Errorf("resolve.go gateway() builds its candidate list from the map r.gws, and closest() keeps the first "+
			"of equally close names, so the hint changes from run to run: %v", hints)
	}
}
