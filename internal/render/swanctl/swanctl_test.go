package swanctl_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render/swanctl"
)

// TestConfigVips checks that a client's virtual-IP request is rendered,
// and that a gateway (no Vips) gets no vips line at all.
func TestConfigVips(t *testing.T) {
	for _, tc := range []struct {
		vips []string
		want string // "" = no vips line
	}{
		{[]string{"0.0.0.0", "::"}, "vips = 0.0.0.0, ::"},
		{nil, ""},
	} {
		gw := &plan.Gateway{Name: "rw", Conns: []*plan.Conn{{Name: "home", Version: 2, Vips: tc.vips}}}
		out := string(swanctl.Config(gw, "test.yaml"))
		var got string
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "vips") {
				got = strings.TrimSpace(l)
			}
		}
		if got != tc.want {
			t.Errorf("Vips %q: vips line %q, want %q\n%s", tc.vips, got, tc.want, out)
		}
	}
}

// TestConfigChildTimes checks that life_time and rand_time are rendered
// only when the plan sets them, so charon's defaults apply otherwise.
func TestConfigChildTimes(t *testing.T) {
	for _, tc := range []struct {
		rekey time.Duration
		want  []string // life_time and rand_time lines; nil = none
	}{
		{6 * time.Second, []string{"life_time = 9s", "rand_time = 1s"}},
		{time.Hour, nil},
	} {
		ch := &plan.Child{Name: "c", Mode: "tunnel", RekeyTime: tc.rekey}
		ch.LifeTime, ch.RandTime = plan.ChildTimes(tc.rekey)
		gw := &plan.Gateway{Name: "gw", Conns: []*plan.Conn{{Name: "t", Version: 2, Children: []*plan.Child{ch}}}}
		out := string(swanctl.Config(gw, "test.yaml"))
		var got []string
		for _, l := range strings.Split(out, "\n") {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "life_time") || strings.HasPrefix(l, "rand_time") {
				got = append(got, l)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("rekey %s: %q, want %q\n%s", tc.rekey, got, tc.want, out)
		}
	}
}
