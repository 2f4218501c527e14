package lab

import (
	"context"
	"net"
	"net/netip"
	"os"
	"testing"

	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/topology"
)

// TestLANGatewayAddr: the gateways of one site share the LAN segment and
// take distinct addresses in it, skipping lab hosts.
func TestLANGatewayAddr(t *testing.T) {
	net, _, diags, err := topology.Load("../../examples/s2-route-based-bgp.yaml")
	if err != nil || diags.HasErrors() {
		t.Fatalf("%v %v", err, diags)
	}
	l := &Lab{net: net}
	gw := func(name string) *topology.Gateway {
		for _, g := range net.Gateways {
			if g.Name == name {
				return g
			}
		}
		t.Fatalf("no gateway %s", name)
		return nil
	}
	a1 := netip.MustParsePrefix("2001:db8:a1::/64")
	a8 := netip.MustParsePrefix("2001:db8:a8::/64")
	for _, tc := range []struct {
		gw     string
		prefix netip.Prefix
		want   string
	}{
		{"v1-1", a1, "2001:db8:a1::1"},
		{"v1-2", a1, "2001:db8:a1::2"},
		{"v2-1", a8, "2001:db8:a8::1"},
		{"v2-2", a8, "2001:db8:a8::2"},
	} {
		if got := l.lanGatewayAddr(gw(tc.gw), tc.prefix); got.String() != tc.want {
			t.Errorf("lanGatewayAddr(%s, %s) = %s, want %s", tc.gw, tc.prefix, got, tc.want)
		}
	}
	if m := siteMates(net, gw("v3-2"), netip.MustParsePrefix("2001:db8:a3::/64")); len(m) != 2 || m[0].Name != "v3-1" {
		t.Errorf("siteMates(v3-2) = %v", m)
	}
	// a host on the first address pushes both gateways up
	net.Lab.Hosts = append(net.Lab.Hosts, &topology.LabHost{Name: "x", Behind: gw("v1-2"), Address: netip.MustParseAddr("2001:db8:a1::1")})
	if got := l.lanGatewayAddr(gw("v1-1"), a1); got.String() != "2001:db8:a1::2" {
		t.Errorf("with a host on ::1, v1-1 gets %s", got)
	}
	if got := l.lanGatewayAddr(gw("v1-2"), a1); got.String() != "2001:db8:a1::3" {
		t.Errorf("with a host on ::1, v1-2 gets %s", got)
	}
}

// TestListening reads the listening ports of a namespace from /proc.
func TestListening(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (network namespaces)")
	}
	ctx := context.Background()
	ns := netns.TempName("listen")
	if err := netns.Add(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netns.Delete(context.Background(), ns) })
	var tl net.Listener
	var ul net.PacketConn
	err := netns.Do(ns, func() (err error) {
		if tl, err = net.Listen("tcp", "[::]:4711"); err != nil {
			return err
		}
		ul, err = net.ListenPacket("udp4", "127.0.0.1:4712")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	defer ul.Close()
	open, err := listening(ns)
	if err != nil {
		t.Fatal(err)
	}
	if !open["tcp/4711"] || !open["udp/4712"] || open["tcp/4712"] {
		t.Errorf("listening(%s) = %v", ns, open)
	}
	if here, _ := listening(""); here["tcp/4711"] {
		t.Error("the namespace's port shows in this one")
	}
}
