package plan

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestChildTimes checks the margins rendered for short rekey times and
// that usual rekey times keep charon's defaults.
func TestChildTimes(t *testing.T) {
	for _, tc := range []struct {
		rekey, life, rand time.Duration
	}{
		{0, 0, 0},
		{2 * time.Second, 3 * time.Second, time.Second}, // lab.rekey minimum
		{6 * time.Second, 9 * time.Second, time.Second},
		{30 * time.Second, 45 * time.Second, 3 * time.Second},
		{59 * time.Second, 88500 * time.Millisecond, 6 * time.Second},
		{time.Minute, 0, 0},
		{time.Hour, 0, 0},
	} {
		life, rand := ChildTimes(tc.rekey)
		if life != tc.life || rand != tc.rand {
			t.Errorf("ChildTimes(%s) = %s, %s; want %s, %s", tc.rekey, life, rand, tc.life, tc.rand)
		}
		if life != 0 && (life-tc.rekey < time.Second || rand >= tc.rekey) {
			t.Errorf("ChildTimes(%s): margin %s under a second or jitter %s not below the rekey time", tc.rekey, life-tc.rekey, rand)
		}
	}
}

// TestLinkAddArgs: the device commands, per kind and family.
func TestLinkAddArgs(t *testing.T) {
	v4a, v4b := netip.MustParseAddr("10.44.6.1"), netip.MustParseAddr("10.44.7.1")
	v6a, v6b := netip.MustParseAddr("2001:db8:1::1"), netip.MustParseAddr("2001:db8:3::2")
	for _, tc := range []struct {
		l    Link
		want string
	}{
		{Link{Name: "styx7", Kind: "xfrm", IfID: 7}, "ip link add styx7 type xfrm if_id 7"},
		{Link{Name: "styx7", Kind: "xfrm", IfID: 7, Dev: "eth0"}, "ip link add styx7 type xfrm dev eth0 if_id 7"},
		{Link{Name: "styxv6", Kind: "vti", IfID: 6, Local: v4a, Remote: v4b}, "ip link add styxv6 type vti local 10.44.6.1 remote 10.44.7.1 key 6"},
		{Link{Name: "styxv6", Kind: "vti", IfID: 6, Local: v6a, Remote: v6b}, "ip link add styxv6 type vti6 local 2001:db8:1::1 remote 2001:db8:3::2 key 6"},
		{Link{Name: "styxgre1", Kind: "gre", Local: v4a, Remote: v4b}, "ip link add styxgre1 type gre local 10.44.6.1 remote 10.44.7.1 ttl 255"},
		{Link{Name: "styxgre1", Kind: "gre", Local: v6a, Remote: v6b, Key: 9}, "ip link add styxgre1 type ip6gre local 2001:db8:1::1 remote 2001:db8:3::2 ttl 255 key 9"},
	} {
		if got := strings.Join(tc.l.AddArgs(), " "); got != tc.want {
			t.Errorf("%+v:\n got %s\nwant %s", tc.l, got, tc.want)
		}
	}
}
