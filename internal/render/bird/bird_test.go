package bird

import (
	"bytes"
	"flag"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/topology"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// goldenCases are the examples with BGP and the gateways rendered from
// them (nil: every gateway with a bgp section).
var goldenCases = []struct {
	example  string
	gateways []string
}{
	{"s2-route-based-bgp", nil},
	{"s4-roadwarrior-eap", []string{"vpn"}},
}

func load(t testing.TB, example string) *topology.Network {
	t.Helper()
	path := filepath.Join("..", "..", "..", "examples", example+".yaml")
	net, _, diags, err := topology.Load(path)
	if err != nil || diags.HasErrors() {
		t.Fatalf("%s: %v %v", path, err, diags)
	}
	return net
}

// golden is one golden file: the example, gateway and rendered config.
type golden struct {
	example, gateway, path string
	data                   []byte
}

func renderGoldens(t *testing.T) []golden {
	t.Helper()
	var out []golden
	for _, c := range goldenCases {
		net := load(t, c.example)
		names := c.gateways
		if names == nil {
			for _, g := range net.Gateways {
				if g.BGP != nil {
					names = append(names, g.Name)
				}
			}
		}
		if len(names) == 0 {
			t.Fatalf("%s: no gateway with bgp", c.example)
		}
		for _, name := range names {
			b := plan.BGPPlan(net, name)
			if b == nil {
				t.Fatalf("%s: BGPPlan(%s) = nil", c.example, name)
			}
			out = append(out, golden{
				example: c.example, gateway: name,
				path: filepath.Join("testdata", c.example, name+".conf"),
				data: Render(b, name, c.example+".yaml"),
			})
		}
	}
	return out
}

// TestGolden compares bird.conf of every gateway of s2 and of s4's vpn
// with testdata/<example>/<gateway>.conf; -update rewrites them.
func TestGolden(t *testing.T) {
	for _, g := range renderGoldens(t) {
		t.Run(g.example+"/"+g.gateway, func(t *testing.T) {
			if *update {
				if err := os.MkdirAll(filepath.Dir(g.path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(g.path, g.data, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(g.path)
			if err != nil {
				t.Fatalf("%v (go test ./internal/render/bird -run TestGolden -update creates it)", err)
			}
			if !bytes.Equal(g.data, want) {
				t.Errorf("%s differs from the golden file (-update rewrites it):\n%s", g.path, g.data)
			}
		})
	}
}

// birdPath finds BIRD 2's daemon (in sbin, often not on a user's PATH),
// or skips the test.
func birdPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("bird"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/bird", "/usr/local/sbin/bird"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("skipping: bird (BIRD 2) is not installed")
	return ""
}

// TestBirdParses runs `bird -p` (parse only) on every golden file.
func TestBirdParses(t *testing.T) {
	bird := birdPath(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.conf"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden files (run go test -run TestGolden -update): %v", err)
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			out, err := exec.Command(bird, "-p", "-c", f).CombinedOutput()
			if err != nil {
				t.Errorf("bird -p -c %s: %v\n%s", f, err, out)
			}
		})
	}
}

// TestDeterministic renders every plan twice from freshly loaded topologies.
func TestDeterministic(t *testing.T) {
	a, b := renderGoldens(t), renderGoldens(t)
	for i := range a {
		if !bytes.Equal(a[i].data, b[i].data) {
			t.Errorf("%s/%s: two renderings differ", a[i].example, a[i].gateway)
		}
	}
}

func pfx(ss ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range ss {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// TestPlanS2 checks the sessions of one s2 gateway against the topology.
func TestPlanS2(t *testing.T) {
	net := load(t, "s2-route-based-bgp")
	b := plan.BGPPlan(net, "v1-2")
	if b.ASN != 65001 || b.RouterID != netip.MustParseAddr("1.0.1.2") || b.RouteTable220 {
		t.Errorf("asn %d, router id %s, table 220 %v", b.ASN, b.RouterID, b.RouteTable220)
	}
	if len(b.Export4) != 0 || !slices.Equal(b.Export6, pfx("2001:db8:a1::/64", "2001:db8:a6::cc:1/128", "2001:db8:a6::cc:5/128")) {
		t.Errorf("export %v %v", b.Export4, b.Export6)
	}
	var names []string
	for _, n := range b.Neighbors {
		names = append(names, n.Name)
	}
	if want := []string{"tun_v1_2_v2_1", "tun_v1_2_v2_2", "tun_v1_2_v3_1", "tun_v1_2_v3_2"}; !slices.Equal(names, want) {
		t.Fatalf("neighbors %v, want %v", names, want)
	}
	// every session agrees with the other end's plan and with the links
	gw, err := plan.Build(net, "v1-2", plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range b.Neighbors {
		if n.HoldSeconds() != 6 || n.IPv4 || !n.IPv6 {
			t.Errorf("%s: hold %d, ipv4 %v, ipv6 %v", n.Name, n.HoldSeconds(), n.IPv4, n.IPv6)
		}
		if !slices.ContainsFunc(gw.Addresses, func(a plan.Address) bool { return a.Dev == n.Interface && a.Prefix.Addr() == n.Local }) {
			t.Errorf("%s: %s is not an address of %s in the plan's links", n.Name, n.Local, n.Interface)
		}
		pb := plan.BGPPlan(net, n.Peer)
		i := slices.IndexFunc(pb.Neighbors, func(m plan.Neighbor) bool { return m.Tunnel == n.Tunnel })
		if i < 0 {
			t.Fatalf("%s: no session on %s", n.Name, n.Peer)
		}
		m := pb.Neighbors[i]
		if m.Local != n.Addr || m.Addr != n.Local || m.ASN != b.ASN || n.ASN != pb.ASN {
			t.Errorf("%s: ends disagree: %+v / %+v", n.Name, n, m)
		}
		if !slices.Equal(n.Accept, pb.Export6) {
			t.Errorf("%s: accepts %v, %s announces %v", n.Name, n.Accept, n.Peer, pb.Export6)
		}
	}
}

func TestPlanS4(t *testing.T) {
	net := load(t, "s4-roadwarrior-eap")
	b := plan.BGPPlan(net, "vpn")
	if !b.RouteTable220 || len(b.Neighbors) != 0 {
		t.Errorf("table 220 %v, neighbors %v", b.RouteTable220, b.Neighbors)
	}
	if !slices.Equal(b.Export4, pfx("10.3.0.0/24")) || !slices.Equal(b.LearnPools, pfx("10.3.0.0/24")) {
		t.Errorf("export %v, learn %v", b.Export4, b.LearnPools)
	}
	if !slices.Equal(b.Local, pfx("10.0.0.0/16", "10.3.0.0/24")) {
		t.Errorf("local %v", b.Local)
	}
	if plan.BGPPlan(net, "nope") != nil {
		t.Error("BGPPlan of an unknown gateway is not nil")
	}
}

// testPlan is a dual-stack gateway with one IPv6 session (carrying IPv4
// too) and a table 220 pool.
func testPlan() *plan.BGP {
	return &plan.BGP{
		Gateway:       "gw",
		RouterID:      netip.MustParseAddr("192.0.2.1"),
		ASN:           65001,
		Export4:       pfx("10.0.0.0/8", "10.1.0.0/16"),
		Export6:       pfx("2001:db8:a1::/64"),
		Local:         pfx("10.1.0.0/16", "10.3.0.0/24", "2001:db8:a1::/64"),
		Pools:         pfx("10.3.0.0/24"),
		RouteTable220: true,
		LearnPools:    pfx("10.3.0.0/24"),
		Transfer:      pfx("2001:db8:ff::/127"),
		IKEAddrs:      []netip.Addr{netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.2")},
		Neighbors: []plan.Neighbor{{
			Name: "tun_gw_peer", Tunnel: "gw-peer", Peer: "peer",
			Local: netip.MustParseAddr("2001:db8:ff::"), Addr: netip.MustParseAddr("2001:db8:ff::1"),
			ASN: 65002, Interface: "styx7", Hold: 6 * time.Second, IPv4: true, IPv6: true,
			Accept: pfx("10.2.0.0/16", "2001:db8:a2::/64"),
		}},
	}
}

// TestFilters checks the contents of the import and export filters (BG2):
// for every filter, lines that must and must not appear.
func TestFilters(t *testing.T) {
	b := testPlan()
	n := &b.Neighbors[0]
	st := states(b)
	v4, v6 := families[0], families[1]
	var defs strings.Builder
	for _, s := range st {
		defines(&defs, b, s)
	}
	for _, c := range []struct {
		name      string
		text      string
		want, not []string
	}{
		{"import4", importFilter(b, n, v4),
			[]string{
				"filter tun_gw_peer_import4\n{\n\tif styx_never4() then reject;\n\tif net ~ STYX_OWN4 then reject;\n\tif net ~ [ 10.2.0.0/16+ ] then accept;\n\treject;\n}\n",
			},
			[]string{"2001:db8", "accept;\n\taccept", "STYX_OWN6"}},
		{"import6", importFilter(b, n, v6),
			[]string{"if styx_never6() then reject;", "if net ~ STYX_OWN6 then reject;", "if net ~ [ 2001:db8:a2::/64+ ] then accept;"},
			[]string{"10.2.0.0"}},
		{"export4", exportFilter(st[0]),
			[]string{
				"filter styx_export4\n{\n\tif styx_never4() then reject;\n\tif proto = \"static_export4\" then accept;\n" +
					"\tif proto = \"kernel220_4\" && net ~ STYX_POOLS4 then accept;\n\treject;\n}\n",
			},
			[]string{"tun_", "RTS_BGP"}},
		{"export6", exportFilter(st[1]),
			[]string{"if styx_never6() then reject;", "if proto = \"static_export6\" then accept;"},
			[]string{"kernel220", "POOLS"}},
		{"defines", defs.String(),
			[]string{
				// lan and pools with everything inside, the aggregate exactly:
				// the peer's 10.2.0.0/16 inside our 10.0.0.0/8 stays acceptable
				"define STYX_OWN4 = [ 10.0.0.0/8, 10.1.0.0/16+, 10.3.0.0/24+ ];",
				"define STYX_OWN6 = [ 2001:db8:a1::/64+ ];",
				"define STYX_TRANSFER6 = [ 2001:db8:ff::/127+ ];",
				"define STYX_POOLS4 = [ 10.3.0.0/24+ ];",
				"function styx_never4()\n{\n\tif net.len = 0 then return true;\n\tif 192.0.2.1 ~ net then return true;\n\tif 198.51.100.2 ~ net then return true;\n\treturn false;\n}\n",
				"function styx_never6()\n{\n\tif net.len = 0 then return true;\n\tif net ~ STYX_TRANSFER6 then return true;\n\treturn false;\n}\n",
			},
			[]string{"STYX_TRANSFER4", "STYX_POOLS6"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, w := range c.want {
				if !strings.Contains(c.text, w) {
					t.Errorf("missing %q in\n%s", w, c.text)
				}
			}
			for _, w := range c.not {
				if strings.Contains(c.text, w) {
					t.Errorf("unexpected %q in\n%s", w, c.text)
				}
			}
		})
	}
}

// TestRenderSession checks a session block, and that the test plan
// parses too (IPv4 over IPv6, table 220 and sessions in one file).
func TestRenderSession(t *testing.T) {
	b := testPlan()
	out := string(Render(b, "gw", "t.yaml"))
	for _, w := range []string{
		"protocol bgp tun_gw_peer {\n\tdescription \"tunnel gw-peer to peer\";\n\tlocal 2001:db8:ff:: as 65001;\n\tneighbor 2001:db8:ff::1 as 65002;\n\tinterface \"styx7\";\n\tdirect;\n\thold time 6;\n",
		"\tipv4 {\n\t\t# IPv4 routes with the IPv6 next hop of the session (RFC 5549)\n\t\textended next hop on;\n\t\timport filter tun_gw_peer_import4;\n\t\texport filter styx_export4;\n\t\tnext hop self;\n\t};\n",
		"\tipv6 {\n\t\timport filter tun_gw_peer_import6;\n\t\texport filter styx_export6;\n\t\tnext hop self;\n\t};\n",
		"protocol kernel kernel220_4 {\n\tipv4 {\n\t\ttable t220_4;\n\t\timport all;\n\t\texport none;\n\t};\n\tkernel table 220;\n\tlearn;\n\tscan time 10;\n}\n",
		"protocol pipe pipe220_4 {\n\ttable t220_4;\n\tpeer table master4;\n\timport none;\n\texport where net ~ STYX_POOLS4;\n}\n",
		"\texport where source = RTS_BGP;\n\t};\n\tmerge paths on;\n\tmetric 32;\n\tpersist;\n",
		"route 10.0.0.0/8 blackhole;",
		"router id 192.0.2.1;",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("missing %q", w)
		}
	}
	if strings.Contains(out, "protocol direct ") || strings.Contains(out, "kernel220_6") {
		t.Error("unneeded protocol rendered")
	}
	bird := birdPath(t)
	f := filepath.Join(t.TempDir(), "bird.conf")
	if err := os.WriteFile(f, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(bird, "-p", "-c", f).CombinedOutput(); err != nil {
		t.Errorf("bird -p: %v\n%s\n%s", err, msg, out)
	}
}

func TestHoldSeconds(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want int
	}{{6 * time.Second, 6}, {1500 * time.Millisecond, 3}, {0, 3}, {9*time.Second + 1, 10}} {
		n := plan.Neighbor{Hold: c.d}
		if got := n.HoldSeconds(); got != c.want {
			t.Errorf("HoldSeconds(%v) = %d, want %d", c.d, got, c.want)
		}
	}
}

// TestEmpty renders a gateway with bgp but nothing to announce and no
// session: still a valid file, and no reference to undefined filters.
func TestEmpty(t *testing.T) {
	out := Render(&plan.BGP{Gateway: "gw", ASN: 65000, RouterID: netip.MustParseAddr("192.0.2.1")}, "gw", "t.yaml")
	if strings.Contains(string(out), "styx_export") || strings.Contains(string(out), "protocol kernel") {
		t.Errorf("unexpected protocols or filters:\n%s", out)
	}
	bird := birdPath(t)
	f := filepath.Join(t.TempDir(), "bird.conf")
	if err := os.WriteFile(f, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(bird, "-p", "-c", f).CombinedOutput(); err != nil {
		t.Errorf("bird -p: %v\n%s\n%s", err, msg, out)
	}
}

// TestPlanVTIDual: a VTI tunnel with IPv4 transfer addresses between
// dual-stack gateways; a has a remote access pool with export_routes.
func TestPlanVTIDual(t *testing.T) {
	net, _, diags, err := topology.Load(filepath.Join("testdata", "topo", "vti-dual.yaml"))
	if err != nil || diags.HasErrors() {
		t.Fatalf("%v %v", err, diags)
	}
	b := plan.BGPPlan(net, "a")
	if b.RouterID != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("router id %s, want the IKE address", b.RouterID)
	}
	if !slices.Equal(b.Export4, pfx("10.1.0.0/16", "10.3.0.0/24")) || !slices.Equal(b.Export6, pfx("2001:db8:a1::/64")) {
		t.Errorf("export %v %v", b.Export4, b.Export6)
	}
	if !b.RouteTable220 || !slices.Equal(b.LearnPools, pfx("10.3.0.0/24")) || !slices.Equal(b.Transfer, pfx("10.255.0.0/31")) {
		t.Errorf("table 220 %v %v, transfer %v", b.RouteTable220, b.LearnPools, b.Transfer)
	}
	if len(b.Neighbors) != 1 {
		t.Fatalf("neighbors %+v", b.Neighbors)
	}
	n := b.Neighbors[0]
	if n.Name != "tun_a_b" || n.Interface != "styxv7" || n.Local != netip.MustParseAddr("10.255.0.0") ||
		n.Addr != netip.MustParseAddr("10.255.0.1") || n.ASN != 65002 || n.HoldSeconds() != 4 || !n.IPv4 || n.IPv6 || n.ExtendedNextHop() {
		t.Errorf("neighbor %+v", n)
	}
	if !slices.Equal(n.Accept, pfx("10.2.0.0/16", "2001:db8:a2::/64")) {
		t.Errorf("accept %v", n.Accept)
	}
	if len(b.Notes) != 1 || !strings.Contains(b.Notes[0], "IPv6 prefixes are not exchanged") {
		t.Errorf("notes %q", b.Notes)
	}
	// b accepts a's pool and the client routes inside it
	nb := plan.BGPPlan(net, "b").Neighbors[0]
	if !slices.Equal(nb.Accept, pfx("10.1.0.0/16", "10.3.0.0/24", "2001:db8:a1::/64")) {
		t.Errorf("b accepts %v", nb.Accept)
	}
	gw, err := plan.Build(net, "a", plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(gw.Links, func(l plan.Link) bool { return l.Name == n.Interface }) {
		t.Errorf("%s is not among the plan's links %+v", n.Interface, gw.Links)
	}
	out := Render(b, "a", "vti-dual.yaml")
	f := filepath.Join(t.TempDir(), "bird.conf")
	if err := os.WriteFile(f, out, 0o644); err != nil {
		t.Fatal(err)
	}
	if msg, err := exec.Command(birdPath(t), "-p", "-c", f).CombinedOutput(); err != nil {
		t.Errorf("bird -p: %v\n%s\n%s", err, msg, out)
	}
}

func TestLogTo(t *testing.T) {
	conf := Render(&plan.BGP{ASN: 65001}, "gw", "net.yaml")
	got := string(LogTo(conf, "/var/tmp/lab/gw/bird.log"))
	if !strings.Contains(got, "\nlog \"/var/tmp/lab/gw/bird.log\" all;\n") || strings.Contains(got, "syslog") {
		t.Errorf("LogTo:\n%s", got)
	}
}
