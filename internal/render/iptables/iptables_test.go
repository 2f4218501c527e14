package iptables

import (
	"bytes"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render/nft"
	"github.com/styx-vpn/styx/internal/topology"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func pfxs(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

func ips(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

func ep(addr string, port uint16, proto string) topology.Endpoint {
	return topology.Endpoint{Addr: ip(addr), Port: port, Proto: proto}
}

func tcp(p uint16) topology.Port { return topology.Port{Proto: "tcp", From: p, To: p} }
func udp(p uint16) topology.Port { return topology.Port{Proto: "udp", From: p, To: p} }

// cases are hand-built plans, one per golden pair testdata/NAME.v4.rules
// and testdata/NAME.v6.rules.
func cases() []struct {
	name string
	gw   *plan.Gateway
} {
	// a policy-based hub on the kernel data plane: two spokes, a
	// published service, masquerade, tunnel SNAT (with a multi-prefix
	// exception), host-to-host SNAT, a nat: rule and dual-stack selectors
	hub := &plan.Gateway{Name: "hub", Dataplane: topology.Kernel, Firewall: &plan.Firewall{
		Dataplane: topology.Kernel, Policy: "accept", PublicIf: "eth0", LANIfs: []string{"eth1"},
		Peers:      ips("192.0.2.2", "192.0.2.3", "2001:db8:ffff::3"),
		LocalProt:  pfxs("10.1.0.0/24", "172.30.30.30/32", "2001:db8:1::/64"),
		RemoteProt: pfxs("10.2.0.0/24", "10.3.0.0/24", "198.51.100.7/32", "2001:db8:3::/64"),
		LAN:        pfxs("10.1.0.0/24", "10.1.2.0/24", "2001:db8:1::/64"),
		Masq:       pfxs("10.1.0.0/24", "10.1.2.0/24"),
		MasqIf:     "eth0",
		SNAT: []plan.SNAT{
			{Except: pfxs("10.1.0.0/24", "10.1.2.0/24"), To: pfxs("10.9.0.0/24", "10.9.1.0/24"), Addr: ip("10.1.0.254"),
				Why: "hub-spoke9/net: traffic to 10.9.0.0/24, 10.9.1.0/24 leaves with the agreed source 10.1.0.254"},
			{From: pfxs("10.1.0.0/24", "10.1.2.0/24"), To: pfxs("198.51.100.7/32"), Addr: ip("192.0.2.1"),
				Why: "host-to-host tunnels: the lan reaches their peers as 192.0.2.1"},
		},
		DNAT: []plan.DNAT{
			{Name: "web", Publish: ep("172.30.30.30", 8080, "tcp"), To: ep("10.1.0.2", 8080, "tcp"), From: pfxs("10.2.0.0/24", "10.3.0.0/24"),
				Why: "service web: 172.30.30.30:8080/tcp -> 10.1.0.2:8080/tcp, only through IPsec"},
			{Name: "dns6", Publish: ep("2001:db8:1::53", 53, "udp"), To: ep("2001:db8:1::10", 53, "udp"),
				Why: `service dns6: [2001:db8:1::53]:53/udp -> [2001:db8:1::10]:53/udp, only through IPsec ("any" spoke)`},
		},
		Allow: []plan.Allow{
			{From: pfxs("192.168.50.0/24", "192.168.60.0/24"), To: pfxs("10.1.0.10/32", "10.1.0.11/32"),
				Ports: []topology.Port{tcp(22), tcp(443), {Proto: "udp", From: 1000, To: 2000}}, Why: "allow admins -> servers"},
			{From: pfxs("10.2.0.0/24", "2001:db8:3::/64"), To: pfxs("10.1.0.0/24", "2001:db8:1::/64"), Tunnel: true,
				Ports: []topology.Port{{Proto: "icmp"}, {Proto: "ipv6-icmp"}}, Why: "allow spoke2, spoke3 -> hub-lan"},
		},
		MSS4: 1360, MSS6: 1340, MSSWhy: "inner mtu 1400 of hub-spoke2: 1500 - 100 (ipv4 20, udp 8, esp 72)",
		NAT: []topology.NATRule{{From: pfxs("10.1.0.0/24"), To: pfxs("10.2.0.0/24", "10.3.0.0/24"), SNAT: ip("10.1.0.253")}},
	}}

	// a site on kernel-libipsec: IPv4 only, reaches the hub's published
	// service through the tunnel
	site := &plan.Gateway{Name: "site-b", Dataplane: topology.Libipsec, Firewall: &plan.Firewall{
		Dataplane: topology.Libipsec, Policy: "accept", PublicIf: "eth0",
		Peers:      ips("192.0.2.1"),
		LocalProt:  pfxs("10.2.0.0/24"),
		RemoteProt: pfxs("10.1.0.0/24", "172.30.30.30/32"),
		LAN:        pfxs("10.2.0.0/24"),
		Masq:       pfxs("10.2.0.0/24"),
		MasqIf:     "eth0",
		MSS4:       1360, MSS6: 1340, MSSWhy: "inner mtu 1400 of hub-site-b: ipsec0 mtu 1400",
		NAT: []topology.NATRule{{Iface: "eth2", To: pfxs("192.168.100.0/24"), SNAT: ip("192.168.100.1")}},
	}}

	// a dedicated road-warrior gateway with default drop (S3): any peer,
	// masqueraded pools, input and forward allows, a port list long
	// enough to need two multiport matches
	many := []topology.Port{}
	for p := uint16(8001); p <= 8014; p++ {
		many = append(many, tcp(p))
	}
	many = append(many, topology.Port{Proto: "tcp", From: 9000, To: 9100}, tcp(9443), udp(5353))
	rw := &plan.Gateway{Name: "rw-gw", Dataplane: topology.Kernel, Firewall: &plan.Firewall{
		Dataplane: topology.Kernel, Policy: "drop", PublicIf: "eth0", LANIfs: []string{"eth1"},
		Peers:      ips("192.0.2.1"),
		AnyPeer:    true,
		LocalProt:  pfxs("10.1.0.0/24", "2001:db8:1::/64"),
		RemoteProt: pfxs("10.2.0.0/24", "10.99.0.0/24", "fd00:99::/64"),
		LAN:        pfxs("10.1.0.0/24", "2001:db8:1::/64"),
		Masq:       pfxs("10.1.0.0/24"),
		MasqIf:     "eth0",
		PoolMasq:   pfxs("10.99.0.0/24", "fd00:99::/64"),
		Allow: []plan.Allow{
			{From: pfxs("10.99.0.0/24", "fd00:99::/64"), To: pfxs("10.1.0.1/32", "2001:db8:1::1/128"), Input: true, Tunnel: true,
				Ports: []topology.Port{udp(53), tcp(53)}, Why: "allow roadwarriors -> rw-gw (dns)"},
			{From: pfxs("10.99.0.0/24", "fd00:99::/64"), To: pfxs("10.1.0.0/24", "2001:db8:1::/64"), Tunnel: true,
				Ports: []topology.Port{{Proto: "icmp"}, {Proto: "ipv6-icmp"}, tcp(443)}, Why: "allow roadwarriors -> rw-lan"},
			{From: pfxs("0.0.0.0/0"), To: pfxs("10.1.0.80/32"), Ports: []topology.Port{tcp(80), tcp(443)}, Why: "allow internet -> web"},
			{From: pfxs("10.2.0.0/24"), To: pfxs("10.1.0.5/32"), Tunnel: true, Ports: []topology.Port{{Proto: "gre"}}, Why: "allow branch -> gre-box"},
			{From: pfxs("192.168.7.0/24"), To: pfxs("10.1.0.0/24"), Ports: many, Why: "allow monitoring -> rw-lan"},
			{To: pfxs("10.1.0.9/32"), Ports: []topology.Port{{Proto: "any"}}, Why: "allow anyone -> printer"},
		},
		MSS4: 1358, MSS6: 1338, MSSWhy: "inner mtu 1398 of rw-gw-branch: 1500 - 102 (ipv4 20, udp 8, esp 74)",
	}}

	// IPv6 only and route-based (no selectors, so no guards and no MSS
	// chain), default drop
	v6only := &plan.Gateway{Name: "edge6", Dataplane: topology.Kernel, Firewall: &plan.Firewall{
		Dataplane: topology.Kernel, Policy: "drop", PublicIf: "eth0",
		Peers: ips("2001:db8:ffff::1", "2001:db8:ffff::2"),
		LAN:   pfxs("2001:db8:10::/64"),
		Allow: []plan.Allow{
			{From: pfxs("2001:db8:20::/64", "2001:db8:21::/64"), To: pfxs("2001:db8:10::1/128"), Input: true,
				Ports: []topology.Port{tcp(22)}, Why: "allow ops -> edge6"},
		},
		MSS4: 1356, MSS6: 1336, MSSWhy: "inner mtu 1396 of edge6-core: 1500 - 104",
	}}

	// NAT only (firewall: none) on libipsec
	natOnly := &plan.Gateway{Name: "nat-only", Dataplane: topology.Libipsec, Firewall: &plan.Firewall{
		Dataplane: topology.Libipsec, Policy: "none", PublicIf: "eth0",
		Peers:      ips("192.0.2.2"),
		LocalProt:  pfxs("10.1.0.0/24", "172.30.30.30/32"),
		RemoteProt: pfxs("10.2.0.0/24", "10.4.0.0/24"),
		LAN:        pfxs("10.1.0.0/24", "10.1.1.0/24"),
		Masq:       pfxs("10.1.0.0/24"),
		DNAT: []plan.DNAT{{Name: "web", Publish: ep("172.30.30.30", 80, "tcp"), To: ep("10.1.0.2", 80, "tcp"),
			From: pfxs("10.2.0.0/24"), Why: "service web: 172.30.30.30:80/tcp -> 10.1.0.2:80/tcp, only through IPsec"}},
		MSS4: 1360, MSS6: 1340, MSSWhy: "inner mtu 1400",
	}}

	return []struct {
		name string
		gw   *plan.Gateway
	}{
		{"kernel-hub", hub},
		{"libipsec-site", site},
		{"drop-roadwarrior", rw},
		{"v6only-routebased", v6only},
		{"nat-only", natOnly},
	}
}

func TestGolden(t *testing.T) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			v4, v6 := Render(c.gw, "net.yaml")
			again4, again6 := Render(c.gw, "net.yaml")
			if !bytes.Equal(v4, again4) || !bytes.Equal(v6, again6) {
				t.Fatal("output differs between two renders")
			}
			for _, f := range []struct {
				suffix string
				got    []byte
			}{{".v4.rules", v4}, {".v6.rules", v6}} {
				path := filepath.Join("testdata", c.name+f.suffix)
				if *update {
					if err := os.WriteFile(path, f.got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update)", err)
				}
				if !bytes.Equal(f.got, want) {
					t.Errorf("%s differs from the rendered file (go test -update rewrites it); got:\n%s", path, f.got)
				}
			}
		})
	}
}

// TestStructure checks properties every file must have, whatever the plan.
func TestStructure(t *testing.T) {
	for _, c := range cases() {
		v4, v6 := Render(c.gw, "net.yaml")
		for _, f := range []struct {
			name string
			data []byte
		}{{"v4", v4}, {"v6", v6}} {
			s := string(f.data)
			first, _, _ := strings.Cut(s, "\n")
			variant := "variant: " + string(c.gw.Firewall.Dataplane)
			if !strings.HasPrefix(first, "# ") || !strings.Contains(first, "gateway "+c.gw.Name) || !strings.Contains(first, "net.yaml") ||
				!strings.Contains(s[:300], variant) {
				t.Errorf("%s/%s: header does not name gateway, source and variant:\n%s", c.name, f.name, s[:300])
			}
			if got := strings.Count(s, "\nCOMMIT\n"); got != 3 {
				t.Errorf("%s/%s: %d COMMITs, want one per table (3)", c.name, f.name, got)
			}
			for _, l := range strings.Split(s, "\n") {
				switch {
				case strings.HasPrefix(l, ":") && !strings.HasPrefix(l, ":STYX-"):
					if c.gw.Firewall.Policy != "drop" || !strings.HasSuffix(l, " DROP [0:0]") {
						t.Errorf("%s/%s: touches a built-in chain: %s", c.name, f.name, l)
					}
				case strings.HasPrefix(l, "-A ") && !strings.HasPrefix(l, "-A STYX-"):
					t.Errorf("%s/%s: rule outside the styx chains: %s", c.name, f.name, l)
				case strings.HasPrefix(l, "-I ") || strings.HasPrefix(l, "-P ") || strings.HasPrefix(l, "-F") || strings.HasPrefix(l, "-X"):
					t.Errorf("%s/%s: %s", c.name, f.name, l)
				case c.gw.Firewall.Dataplane == topology.Libipsec && strings.Contains(l, "-m policy"):
					t.Errorf("%s/%s: policy match on libipsec: %s", c.name, f.name, l)
				case c.gw.Firewall.Dataplane == topology.Kernel && strings.Contains(l, "ipsec0"):
					t.Errorf("%s/%s: ipsec0 on the kernel data plane: %s", c.name, f.name, l)
				}
			}
		}
	}
}

// TestSameRulesAsNft: every commented nft rule has its iptables
// counterpart with the same comment, and every commented iptables rule
// comes from an nft rule, except the kernel variant's early returns before
// the leak check (doc: NAT and the leak check).
func TestSameRulesAsNft(t *testing.T) {
	nftComment := regexp.MustCompile(`comment ("(?:[^"\\]|\\.)*")`)
	iptComment := regexp.MustCompile(`--comment "([^"]*)"`)
	exempt := regexp.MustCompile(`^(nat rule: )?SNAT to \S+ follows in nat POSTROUTING|^service \S+: the reply is un-DNATed`)
	for _, c := range cases() {
		want := map[string]bool{}
		for _, m := range nftComment.FindAllStringSubmatch(string(nft.Render(c.gw, "net.yaml")), -1) {
			s, err := strconv.Unquote(m[1])
			if err != nil {
				t.Fatal(err)
			}
			want[strings.NewReplacer(`"`, "'", `\`, "/").Replace(s)] = true
		}
		v4, v6 := Render(c.gw, "net.yaml")
		got := map[string]bool{}
		for _, m := range iptComment.FindAllStringSubmatch(string(v4)+string(v6), -1) {
			got[m[1]] = true
		}
		for s := range want {
			if !got[s] {
				t.Errorf("%s: nft rule %q has no iptables counterpart", c.name, s)
			}
		}
		for s := range got {
			if !want[s] && !(c.gw.Firewall.Dataplane == topology.Kernel && exempt.MatchString(s)) {
				t.Errorf("%s: iptables rule %q is not in the nft file", c.name, s)
			}
		}
	}
}

func TestHooks(t *testing.T) {
	all := cases()
	got := Hooks(all[0].gw)
	want := [][]string{
		{"-t", "mangle", "-C", "PREROUTING", "-j", "STYX-GUARD-IN"},
		{"-t", "mangle", "-C", "POSTROUTING", "-j", "STYX-GUARD-OUT"},
		{"-t", "mangle", "-C", "FORWARD", "-j", "STYX-MSS"},
		{"-t", "filter", "-C", "FORWARD", "-j", "STYX-FWD"},
		{"-t", "nat", "-C", "PREROUTING", "-j", "STYX-DNAT"},
		{"-t", "nat", "-C", "POSTROUTING", "-j", "STYX-SNAT"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Hooks(hub) = %q, want %q", got, want)
	}
	if got, want := InsertArgs(want[3]), []string{"-t", "filter", "-I", "FORWARD", "1", "-j", "STYX-FWD"}; !reflect.DeepEqual(got, want) {
		t.Errorf("InsertArgs = %q, want %q", got, want)
	}
	// firewall none: only the NAT chains are hooked
	got = Hooks(all[4].gw)
	want = [][]string{{"-t", "nat", "-C", "PREROUTING", "-j", "STYX-DNAT"}, {"-t", "nat", "-C", "POSTROUTING", "-j", "STYX-SNAT"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Hooks(nat-only) = %q, want %q", got, want)
	}
	// every hook is named in both files
	v4, v6 := Render(all[0].gw, "x")
	for _, h := range Hooks(all[0].gw) {
		l := "# hook: " + strings.Join(InsertArgs(h), " ")
		if !bytes.Contains(v4, []byte(l)) || !bytes.Contains(v6, []byte(l)) {
			t.Errorf("%q missing from a file", l)
		}
	}
}

func TestComment(t *testing.T) {
	if got, want := comment(`a "b" \c`), `-m comment --comment "a 'b' /c"`; got != want {
		t.Errorf("comment = %s, want %s", got, want)
	}
	long := strings.Repeat("é", 200)
	if got := comment(long); len(got) > len(`-m comment --comment ""`)+255 || !strings.HasSuffix(got, `é"`) {
		t.Errorf("long comment not cut at 255 bytes on a rune boundary: %d", len(got))
	}
}

// TestLinear: rules grow with the sum of the set sizes, not their product.
func TestLinear(t *testing.T) {
	var remote, local []string
	for i := range 100 {
		remote = append(remote, fmt.Sprintf("10.%d.0.0/16", 100+i))
		local = append(local, fmt.Sprintf("172.16.%d.0/24", i))
	}
	for _, policy := range []string{"accept", "drop"} {
		gw := &plan.Gateway{Name: "big", Firewall: &plan.Firewall{Dataplane: topology.Kernel, Policy: policy,
			Peers: ips("192.0.2.1"), RemoteProt: pfxs(remote...), LocalProt: pfxs(local...), LAN: pfxs(local...)}}
		v4, _ := Render(gw, "x")
		if n := bytes.Count(v4, []byte("\n-A ")); n > 2000 {
			t.Errorf("policy %s: %d rules for 100 x 100 prefixes", policy, n)
		}
	}
}

func needRoot(t *testing.T, cmds ...string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	for _, c := range append(cmds, "unshare") {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s not installed", c)
		}
	}
}

// TestIntegrationIptablesRestore loads every golden file into a fresh
// network namespace: --test, then --noflush twice with the hooks inserted
// check-then-insert after each load; the second load must change nothing.
func TestIntegrationIptablesRestore(t *testing.T) {
	needRoot(t, "iptables-restore", "ip6tables-restore", "iptables", "ip6tables", "iptables-save", "ip6tables-save")
	for _, c := range cases() {
		hooks := Hooks(c.gw)
		for _, fam := range []struct{ suffix, cmd string }{{".v4.rules", "iptables"}, {".v6.rules", "ip6tables"}} {
			path := filepath.Join("testdata", c.name+fam.suffix)
			t.Run(c.name+fam.suffix, func(t *testing.T) {
				if out, err := exec.Command("unshare", "-n", fam.cmd+"-restore", "--test", path).CombinedOutput(); err != nil {
					t.Fatalf("%s-restore --test %s: %v\n%s", fam.cmd, path, err, out)
				}
				var hook strings.Builder
				for _, h := range hooks {
					fmt.Fprintf(&hook, "%s %s 2>/dev/null || %s %s\n", fam.cmd, strings.Join(h, " "), fam.cmd, strings.Join(InsertArgs(h), " "))
				}
				script := fmt.Sprintf(`set -e
load() { %[1]s-restore --noflush "$1"; %[2]s %[1]s-save | grep -v '^#'; }
load "$1"
echo ===
load "$1"
`, fam.cmd, hook.String())
				out, err := exec.Command("unshare", "-n", "sh", "-c", script, "sh", path).CombinedOutput()
				if err != nil {
					t.Fatalf("load: %v\n%s", err, out)
				}
				first, second, _ := strings.Cut(string(out), "===\n")
				if first != second {
					t.Errorf("a second load changed the rules:\n%s\n---\n%s", first, second)
				}
				for _, h := range hooks {
					jump := fmt.Sprintf("-A %s -j %s\n", h[3], h[5])
					if n := strings.Count(second, jump); n != 1 {
						t.Errorf("%q appears %d times after two loads", jump, n)
					}
				}
			})
		}
	}
}

// TestIntegrationGotoReturn proves with packets that the helper chains
// behave as one nft rule each: a RETURN (an nft accept under policy
// accept) leaves the styx chain, a non-match continues with the next rule.
// Traffic between addresses on lo passes the OUTPUT hook.
func TestIntegrationGotoReturn(t *testing.T) {
	needRoot(t, "iptables-restore", "ip", "ping")
	top := &chainBuf{name: "STYX-OUT"}
	w := &writer{top: top, cur: top, accept: "RETURN"}
	src := func(n ...int) []string {
		var out []string
		for _, i := range n {
			out = append(out, fmt.Sprintf("-s 172.16.0.%d", i))
		}
		return out
	}
	dst := func(net int, n ...int) []string {
		var out []string
		for _, i := range n {
			out = append(out, fmt.Sprintf("-d 10.%d.0.%d", net, i))
		}
		return out
	}
	w.add("product", "RETURN", anyOf(src(1, 2)), anyOf(dst(2, 1, 2)))
	w.add("negated", "RETURN", anyOf(dst(3, 1, 2)), noneOf(src(1, 2)))
	w.add("three sets", "RETURN", anyOf(src(1, 2)), anyOf(dst(4, 1, 2)), anyOf([]string{"-p udp", "-p icmp --icmp-type echo-request"}))
	w.add("nested drop", "DROP", anyOf(dst(5, 1, 2)), noneOf(src(1, 2)))
	w.add("after", "RETURN", m("-d 10.5.0.0/16"))
	w.add("rest", "DROP", m("-d 10.0.0.0/8"))
	var file strings.Builder
	file.WriteString("*filter\n")
	chains := append([]*chainBuf{top}, top.helpers...)
	for _, c := range chains {
		fmt.Fprintf(&file, ":%s - [0:0]\n", c.name)
	}
	for _, c := range chains {
		for _, l := range c.lines {
			fmt.Fprintf(&file, "-A %s %s\n", c.name, l)
		}
	}
	file.WriteString("COMMIT\n")
	rules := filepath.Join(t.TempDir(), "rules")
	if err := os.WriteFile(rules, []byte(file.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	probes := []struct {
		src, dst string
		pass     bool
	}{
		{"172.16.0.1", "10.2.0.1", true},
		{"172.16.0.2", "10.2.0.2", true},
		{"172.16.0.3", "10.2.0.1", false},
		{"172.16.0.1", "10.2.0.3", false},
		{"172.16.0.3", "10.3.0.1", true},
		{"172.16.0.1", "10.3.0.2", false},
		{"172.16.0.2", "10.4.0.2", true},
		{"172.16.0.3", "10.4.0.2", false},
		{"172.16.0.1", "10.4.0.3", false},
		{"172.16.0.3", "10.5.0.1", false},
		{"172.16.0.1", "10.5.0.2", true},
		{"172.16.0.1", "10.6.0.1", false},
	}
	var script strings.Builder
	script.WriteString("set -e\nip link set lo up\n")
	for _, a := range []string{"172.16.0.1", "172.16.0.2", "172.16.0.3"} {
		fmt.Fprintf(&script, "ip addr add %s/32 dev lo\n", a)
	}
	for n := 2; n <= 6; n++ {
		for i := 1; i <= 3; i++ {
			fmt.Fprintf(&script, "ip addr add 10.%d.0.%d/32 dev lo\n", n, i)
		}
	}
	fmt.Fprintf(&script, "iptables-restore --noflush %s\niptables -I OUTPUT 1 -j STYX-OUT\nset +e\n", rules)
	for _, p := range probes {
		fmt.Fprintf(&script, "if ping -n -q -c1 -W1 -I %s %s >/dev/null 2>&1; then echo pass; else echo drop; fi\n", p.src, p.dst)
	}
	out, err := exec.Command("unshare", "-n", "sh", "-c", script.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	got := strings.Fields(string(out))
	if len(got) != len(probes) {
		t.Fatalf("unexpected output:\n%s", out)
	}
	for i, p := range probes {
		if want := map[bool]string{true: "pass", false: "drop"}[p.pass]; got[i] != want {
			t.Errorf("%s -> %s: %s, want %s", p.src, p.dst, got[i], want)
		}
	}
	if t.Failed() {
		t.Logf("rules:\n%s", file.String())
	}
}
