package apply_test

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	govici "github.com/strongswan/govici/vici"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/apply/applytest"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render/nft"
	"github.com/styx-vpn/styx/internal/topology"
	"github.com/styx-vpn/styx/internal/vici"
)

// secrets are the pre-shared keys of s1-iot-cloud, by secret name.
var secrets = map[string][]byte{
	"ike-cloud-sitea": []byte("psk-cloud-sitea-0123456789abcdef"),
	"ike-cloud-siteb": []byte("psk-cloud-siteb-0123456789abcdef"),
}

// s1 returns the desired state of gateway cloud of examples/s1-iot-cloud.yaml,
// a fresh copy each time so that tests can edit it.
func s1(t *testing.T) apply.Desired {
	t.Helper()
	net, _, diags, err := topology.Load("../../examples/s1-iot-cloud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if net == nil || diags.HasErrors() {
		t.Fatalf("s1-iot-cloud.yaml does not resolve:\n%v", diags)
	}
	gw, err := plan.Build(net, "cloud", plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return apply.Desired{
		Gateway:  gw,
		Nft:      nft.Render(gw, "s1-iot-cloud.yaml"),
		Secrets:  secrets,
		Commands: apply.Commands(gw),
	}
}

func conn(t *testing.T, d apply.Desired, name string) *plan.Conn {
	t.Helper()
	for _, c := range d.Gateway.Conns {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("plan has no connection %s", name)
	return nil
}

// changesText prints changes as styx plan does.
func changesText(changes []apply.Change) string {
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(c.String() + "\n")
	}
	return b.String()
}

// readState returns the state file of gateway cloud, "" if there is none.
func readState(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(apply.StatePath(dir, "cloud"))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// applied applies the unchanged s1 plan and forgets the calls it made.
func applied(t *testing.T, g *applytest.Gateway, dir string) {
	t.Helper()
	if _, err := g.Engine(dir).Apply(context.Background(), s1(t)); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	g.Reset()
}

// appliedWith applies s1 changed by edit and forgets the calls it made.
func appliedWith(edit func(t *testing.T, d *apply.Desired)) func(t *testing.T, g *applytest.Gateway, dir string) {
	return func(t *testing.T, g *applytest.Gateway, dir string) {
		t.Helper()
		d := s1(t)
		edit(t, &d)
		if _, err := g.Engine(dir).Apply(context.Background(), d); err != nil {
			t.Fatalf("first apply: %v", err)
		}
		g.Reset()
	}
}

// disablePolicy is a sysctl of the device addLink creates.
var disablePolicy = plan.Sysctl{Key: "net.ipv4.conf.styx7.disable_policy", Value: "1", Device: "styx7"}

// addLink gives s1 an xfrm device with an address and a route through it.
func addLink(t *testing.T, d *apply.Desired) {
	d.Commands = linkCommands("styx7", "pub", 7)
}

// linkCommands are the commands of an xfrm device name on dev with an
// address and a route through it.
func linkCommands(name, dev string, ifID uint32) []apply.StateCommand {
	return apply.Commands(&plan.Gateway{
		Links:     []plan.Link{{Name: name, Kind: "xfrm", Dev: dev, IfID: ifID, MTU: 1400}},
		Addresses: []plan.Address{{Prefix: netip.MustParsePrefix("10.9.0.1/30"), Dev: name}},
		Routes:    []plan.Route{{Dst: netip.MustParsePrefix("10.8.0.0/24"), Dev: name, Metric: 100}},
	})
}

// diffText reports the first differing line of two texts, for readable
// failures of long literals.
func diffText(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "line " + strconv.Itoa(i+1) + ":\n  got:  " + gl + "\n  want: " + wl
		}
	}
	return ""
}

// observe is what every apply and plan of s1 reads first.
const observe = `get-conns
get-shared
get-pools
nft list table inet styx
sysctl -n net.ipv4.ip_forward
sysctl -n net.ipv4.conf.all.send_redirects
sysctl -n net.ipv4.conf.default.send_redirects
sysctl -n net.ipv4.conf.pub.send_redirects (failed: sysctl: cannot stat /proc/sys/net/ipv4/conf/pub/send_redirects: No such file or directory)
sysctl -n net.ipv4.conf.priv.send_redirects (failed: sysctl: cannot stat /proc/sys/net/ipv4/conf/priv/send_redirects: No such file or directory)
sysctl -n net.ipv4.conf.all.rp_filter
sysctl -n net.ipv4.conf.default.rp_filter
cat bird.conf
`

// firstApply is what the first apply of s1 does after observe.
const firstApply = `sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.conf.all.send_redirects=0
sysctl -w net.ipv4.conf.default.send_redirects=0
sysctl -w net.ipv4.conf.all.rp_filter=2
sysctl -w net.ipv4.conf.default.rp_filter=2
nft -f -
nft list table inet styx
load-shared ike-cloud-sitea
load-shared ike-cloud-siteb
load-conn cloud-sitea
load-conn cloud-siteb
`

// firstChanges are the changes of the first apply of s1; NFTLINES stands
// for the number of lines of the rendered nftables file.
const firstChanges = `~ sysctl net.ipv4.ip_forward
    0 -> 1
~ sysctl net.ipv4.conf.all.send_redirects
    1 -> 0
~ sysctl net.ipv4.conf.default.send_redirects
    1 -> 0
~ sysctl net.ipv4.conf.all.rp_filter
    0 -> 2
~ sysctl net.ipv4.conf.default.rp_filter
    0 -> 2
+ nftables table inet styx
    NFTLINES lines
+ secret ike-cloud-sitea
    owners @cloud, @sitea, value <redacted>
+ secret ike-cloud-siteb
    owners @cloud, @siteb, value <redacted>
+ connection cloud-sitea
    tunnel cloud-sitea: hub cloud <-> spoke sitea (cloud responds)
+ connection cloud-siteb
    tunnel cloud-siteb: hub cloud <-> spoke siteb (cloud responds)
`

// expand replaces NFTLINES in want by the line count of the rendered file,
// so that the tests do not depend on the nftables renderer.
func expand(t *testing.T, want string) string {
	return strings.ReplaceAll(want, "NFTLINES", strconv.Itoa(strings.Count(string(s1(t).Nft), "\n")))
}

func foreignConn(t *testing.T, name string) *govici.Message {
	t.Helper()
	m, err := vici.ConnMessage(&plan.Conn{Name: name, Version: 2, RemoteAddrs: []string{"192.0.2.1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func dropConn(d *apply.Desired, name string) {
	d.Gateway.Conns = slices.DeleteFunc(d.Gateway.Conns, func(c *plan.Conn) bool { return c.Name == name })
}

func dropSecret(d *apply.Desired, name string) {
	d.Gateway.Secrets = slices.DeleteFunc(d.Gateway.Secrets, func(s *plan.Secret) bool { return s.Name == name })
}

func TestApply(t *testing.T) {
	tests := []struct {
		name string
		// before brings the gateway to its state before the apply under
		// test; it must leave the call log empty.
		before func(t *testing.T, g *applytest.Gateway, dir string)
		// edit changes the desired state (s1 otherwise).
		edit func(t *testing.T, d *apply.Desired)
		// want is every call of the apply under test, in order.
		want string
		// wantChanges is what Apply returns, as styx plan prints it.
		wantChanges string
		// check looks at the gateway after the apply.
		check func(t *testing.T, g *applytest.Gateway, changes []apply.Change)
	}{
		{
			name:        "first apply",
			want:        observe + firstApply,
			wantChanges: firstChanges,
			check: func(t *testing.T, g *applytest.Gateway, _ []apply.Change) {
				if v, _ := g.Sysctls.Value("net.ipv4.ip_forward"); v != "1" {
					t.Errorf("ip_forward = %s, want 1", v)
				}
				if tbl, ok := g.Firewall.Table(); !ok || !strings.HasPrefix(tbl, "table inet styx {\n") {
					t.Errorf("styx table after apply:\n%s", tbl)
				}
				m, _ := g.Store.Get(apply.Shared, "ike-cloud-sitea")
				for _, s := range []string{"id = ike-cloud-sitea", "type = IKE", "data = psk-cloud-sitea-0123456789abcdef", "owners = @cloud,@sitea"} {
					if !strings.Contains(m, s) {
						t.Errorf("load-shared ike-cloud-sitea message lacks %q:\n%s", s, m)
					}
				}
			},
		},
		{
			name:   "second apply changes nothing",
			before: applied,
			want:   observe,
		},
		{
			name:   "child rekey time changed",
			before: applied,
			edit: func(t *testing.T, d *apply.Desired) {
				conn(t, *d, "cloud-sitea").Children[0].RekeyTime = 2 * time.Hour
			},
			want: observe + "load-conn cloud-sitea\n",
			wantChanges: `~ connection cloud-sitea
    Children[0].RekeyTime: 3600000000000 -> 7200000000000
`,
			check: func(t *testing.T, g *applytest.Gateway, changes []apply.Change) {
				m, _ := g.Store.Get(apply.Conn, "cloud-sitea")
				if !strings.Contains(m, "        rekey_time = 2h\n") {
					t.Errorf("cloud-sitea was not reloaded with the new child rekey_time:\n%s", m)
				}
			},
		},
		{
			name: "connection removed, foreign connection left alone",
			before: func(t *testing.T, g *applytest.Gateway, dir string) {
				g.Store.Put(apply.Conn, "foreign", foreignConn(t, "foreign"))
				applied(t, g, dir)
			},
			edit: func(t *testing.T, d *apply.Desired) { dropConn(d, "cloud-siteb") },
			want: observe + "unload-conn cloud-siteb\n",
			wantChanges: `- connection cloud-siteb
`,
			check: func(t *testing.T, g *applytest.Gateway, _ []apply.Change) {
				if _, ok := g.Store.Get(apply.Conn, "foreign"); !ok {
					t.Error("the foreign connection was unloaded")
				}
				if _, ok := g.Store.Get(apply.Shared, "ike-cloud-siteb"); !ok {
					t.Error("the secret of cloud-siteb, still in the plan, was unloaded")
				}
			},
		},
		{
			name:   "tunnel removed",
			before: applied,
			edit: func(t *testing.T, d *apply.Desired) {
				dropConn(d, "cloud-siteb")
				dropSecret(d, "ike-cloud-siteb")
			},
			want: observe + "unload-conn cloud-siteb\nunload-shared ike-cloud-siteb\n",
			wantChanges: `- connection cloud-siteb
- secret ike-cloud-siteb
`,
		},
		{
			// cloud-siteb is loaded, but not by styx: it is not in the state.
			name: "connection styx never loaded is not unloaded",
			before: func(t *testing.T, g *applytest.Gateway, dir string) {
				g.Store.Put(apply.Conn, "cloud-siteb", foreignConn(t, "cloud-siteb"))
				g.Store.Put(apply.Conn, "foreign", foreignConn(t, "foreign"))
			},
			edit:        func(t *testing.T, d *apply.Desired) { dropConn(d, "cloud-siteb") },
			want:        observe + strings.ReplaceAll(firstApply, "load-conn cloud-siteb\n", ""),
			wantChanges: strings.ReplaceAll(firstChanges, "+ connection cloud-siteb\n    tunnel cloud-siteb: hub cloud <-> spoke siteb (cloud responds)\n", ""),
			check: func(t *testing.T, g *applytest.Gateway, _ []apply.Change) {
				for _, n := range []string{"cloud-siteb", "foreign"} {
					if m, _ := g.Store.Get(apply.Conn, n); !strings.Contains(m, "192.0.2.1") {
						t.Errorf("connection %s loaded by someone else was touched: %s", n, m)
					}
				}
			},
		},
		{
			name: "charon restarted",
			before: func(t *testing.T, g *applytest.Gateway, dir string) {
				applied(t, g, dir)
				g.Store.Restart()
			},
			want: observe + `load-shared ike-cloud-sitea
load-shared ike-cloud-siteb
load-conn cloud-sitea
load-conn cloud-siteb
`,
			wantChanges: `+ secret ike-cloud-sitea (missing in charon, reload)
    owners @cloud, @sitea, value <redacted>
+ secret ike-cloud-siteb (missing in charon, reload)
    owners @cloud, @siteb, value <redacted>
+ connection cloud-sitea (missing in charon, reload)
    tunnel cloud-sitea: hub cloud <-> spoke sitea (cloud responds)
+ connection cloud-siteb (missing in charon, reload)
    tunnel cloud-siteb: hub cloud <-> spoke siteb (cloud responds)
`,
			check: func(t *testing.T, g *applytest.Gateway, changes []apply.Change) {
				for _, c := range changes {
					if !c.Reload {
						t.Errorf("%s %s: Reload = false", c.What, c.Name)
					}
				}
			},
		},
		{
			// The tunnel was removed while charon was down, so there was
			// nothing to unload; the state must forget it all the same, or a
			// later connection of that name, loaded by someone else, would
			// be unloaded as styx's.
			name: "removed while charon was down, then loaded by someone else",
			before: func(t *testing.T, g *applytest.Gateway, dir string) {
				applied(t, g, dir)
				g.Store.Restart()
				d := s1(t)
				dropConn(&d, "cloud-siteb")
				dropSecret(&d, "ike-cloud-siteb")
				if _, err := g.Engine(dir).Apply(context.Background(), d); err != nil {
					t.Fatal(err)
				}
				g.Store.Put(apply.Conn, "cloud-siteb", foreignConn(t, "cloud-siteb"))
				g.Reset()
			},
			edit: func(t *testing.T, d *apply.Desired) {
				dropConn(d, "cloud-siteb")
				dropSecret(d, "ike-cloud-siteb")
			},
			want: observe,
			check: func(t *testing.T, g *applytest.Gateway, _ []apply.Change) {
				if _, ok := g.Store.Get(apply.Conn, "cloud-siteb"); !ok {
					t.Error("a connection loaded by someone else was unloaded")
				}
			},
		},
		{
			name:   "link, address and route added",
			before: applied,
			edit:   addLink,
			want: observe + `ip link add styx7 type xfrm dev pub if_id 7
ip link set styx7 mtu 1400 up
ip addr add 10.9.0.1/30 dev styx7
ip route add 10.8.0.0/24 dev styx7 metric 100
`,
			wantChanges: `+ command ip link add styx7 type xfrm dev pub if_id 7
+ command ip link set styx7 mtu 1400 up
+ command ip addr add 10.9.0.1/30 dev styx7
+ command ip route add 10.8.0.0/24 dev styx7 metric 100
`,
		},
		{
			// Removed in the reverse order of adding: the address and the
			// route go before their device.
			name:   "link, address and route removed",
			before: appliedWith(addLink),
			want: observe + `ip route del 10.8.0.0/24 dev styx7 metric 100
ip addr del 10.9.0.1/30 dev styx7
ip link del styx7
`,
			wantChanges: `- command ip route add 10.8.0.0/24 dev styx7 metric 100
- command ip addr add 10.9.0.1/30 dev styx7
- command ip link set styx7 mtu 1400 up
- command ip link add styx7 type xfrm dev pub if_id 7
`,
		},
		{
			// A device that moves (new if_id, new name) is gone with its
			// address and route before its successor takes them over.
			name:   "link renamed",
			before: appliedWith(addLink),
			edit: func(t *testing.T, d *apply.Desired) {
				d.Commands = linkCommands("styx8", "pub", 8)
			},
			want: observe + `ip route del 10.8.0.0/24 dev styx7 metric 100
ip addr del 10.9.0.1/30 dev styx7
ip link del styx7
ip link add styx8 type xfrm dev pub if_id 8
ip link set styx8 mtu 1400 up
ip addr add 10.9.0.1/30 dev styx8
ip route add 10.8.0.0/24 dev styx8 metric 100
`,
			wantChanges: `- command ip route add 10.8.0.0/24 dev styx7 metric 100
- command ip addr add 10.9.0.1/30 dev styx7
- command ip link set styx7 mtu 1400 up
- command ip link add styx7 type xfrm dev pub if_id 7
+ command ip link add styx8 type xfrm dev pub if_id 8
+ command ip link set styx8 mtu 1400 up
+ command ip addr add 10.9.0.1/30 dev styx8
+ command ip route add 10.8.0.0/24 dev styx8 metric 100
`,
		},
		{
			// The same name with other parameters: the device is created
			// anew, and its unchanged address, route and sysctl with it.
			name: "link recreated",
			before: func(t *testing.T, g *applytest.Gateway, dir string) {
				g.Sysctls.Define(disablePolicy.Key, "0")
				appliedWith(func(t *testing.T, d *apply.Desired) {
					addLink(t, d)
					d.Gateway.Sysctls = append(d.Gateway.Sysctls, disablePolicy)
				})(t, g, dir)
			},
			edit: func(t *testing.T, d *apply.Desired) {
				d.Gateway.Sysctls = append(d.Gateway.Sysctls, disablePolicy)
				d.Commands = linkCommands("styx7", "priv", 7)
			},
			want: strings.Replace(observe, "cat bird.conf\n", "sysctl -n net.ipv4.conf.styx7.disable_policy\ncat bird.conf\n", 1) + `ip route del 10.8.0.0/24 dev styx7 metric 100
ip addr del 10.9.0.1/30 dev styx7
ip link del styx7
ip link add styx7 type xfrm dev priv if_id 7
ip link set styx7 mtu 1400 up
ip addr add 10.9.0.1/30 dev styx7
ip route add 10.8.0.0/24 dev styx7 metric 100
sysctl -w net.ipv4.conf.styx7.disable_policy=1
`,
			wantChanges: `- command ip route add 10.8.0.0/24 dev styx7 metric 100
- command ip addr add 10.9.0.1/30 dev styx7
- command ip link set styx7 mtu 1400 up
- command ip link add styx7 type xfrm dev pub if_id 7
+ command ip link add styx7 type xfrm dev priv if_id 7
+ command ip link set styx7 mtu 1400 up
    again: device styx7 is created anew
+ command ip addr add 10.9.0.1/30 dev styx7
    again: device styx7 is created anew
+ command ip route add 10.8.0.0/24 dev styx7 metric 100
    again: device styx7 is created anew
~ sysctl net.ipv4.conf.styx7.disable_policy
    1 -> 1
`,
		},
		{
			name:   "firewall rule added",
			before: applied,
			edit: func(t *testing.T, d *apply.Desired) {
				d.Nft = []byte(strings.Replace(string(d.Nft), "\t\tct state invalid counter drop\n", "\t\tct state invalid counter drop\n\t\tip saddr 198.51.100.7 drop\n", 1))
			},
			want: observe + "nft -f -\nnft list table inet styx\n",
			wantChanges: `~ nftables table inet styx
    + ip saddr 198.51.100.7 drop
`,
			check: func(t *testing.T, g *applytest.Gateway, _ []apply.Change) {
				if tbl, _ := g.Firewall.Table(); !strings.Contains(tbl, "\t\tip saddr 198.51.100.7 drop\n") {
					t.Errorf("the new rule is not in the table:\n%s", tbl)
				}
			},
		},
		{
			name: "firewall edited behind styx's back",
			before: func(t *testing.T, g *applytest.Gateway, dir string) {
				applied(t, g, dir)
				tbl, _ := g.Firewall.Table()
				g.Firewall.Set(strings.Replace(tbl, "\t\tct state invalid counter drop\n", "\t\tct state invalid counter drop\n\t\tmeta l4proto esp drop\n", 1))
				g.Reset()
			},
			want: observe + "nft -f -\nnft list table inet styx\n",
			wantChanges: `~ nftables table inet styx
    the live rules differ from what styx loaded (edited by hand or by another tool); live -> as loaded:
    - meta l4proto esp drop
`,
			check: func(t *testing.T, g *applytest.Gateway, _ []apply.Change) {
				if tbl, _ := g.Firewall.Table(); strings.Contains(tbl, "esp drop") {
					t.Errorf("the hand-made rule is still in the table:\n%s", tbl)
				}
			},
		},
		{
			name: "firewall counters changed",
			before: func(t *testing.T, g *applytest.Gateway, dir string) {
				applied(t, g, dir)
				tbl, _ := g.Firewall.Table()
				g.Firewall.Set(strings.ReplaceAll(tbl, "counter drop", "counter packets 12 bytes 3456 drop"))
				g.Reset()
			},
			want: observe,
		},
		{
			name: "sysctl changed behind styx's back",
			before: func(t *testing.T, g *applytest.Gateway, dir string) {
				applied(t, g, dir)
				g.Sysctls.Set(context.Background(), "net.ipv4.ip_forward", "0")
				g.Reset()
			},
			want: observe + "sysctl -w net.ipv4.ip_forward=1\n",
			wantChanges: `~ sysctl net.ipv4.ip_forward
    0 -> 1
`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := applytest.NewGateway()
			dir := t.TempDir()
			if tt.before != nil {
				tt.before(t, g, dir)
			}
			if got := g.String(); got != "" {
				t.Fatalf("before left calls in the log:\n%s", got)
			}
			d := s1(t)
			if tt.edit != nil {
				tt.edit(t, &d)
			}
			changes, err := g.Engine(dir).Apply(context.Background(), d)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got, want := g.String(), tt.want; got != want {
				t.Errorf("calls:\n%s\nwant:\n%s\n%s", got, want, diffText(got, want))
			}
			if got, want := changesText(changes), expand(t, tt.wantChanges); got != want {
				t.Errorf("changes:\n%s\nwant:\n%s\n%s", got, want, diffText(got, want))
			}
			if tt.check != nil {
				tt.check(t, g, changes)
			}

			// Whatever the apply did, the next one has nothing left to do
			// and leaves the state file as it is.
			g.Reset()
			state := readState(t, dir)
			changes, err = g.Engine(dir).Apply(context.Background(), d)
			if err != nil {
				t.Fatalf("Apply again: %v", err)
			}
			if len(changes) != 0 || g.Mutations() != "" {
				t.Errorf("applying again changed:\n%s\ncalls:\n%s", changesText(changes), g.Mutations())
			}
			if readState(t, dir) != state {
				t.Error("applying again rewrote the state file differently")
			}
		})
	}
}
