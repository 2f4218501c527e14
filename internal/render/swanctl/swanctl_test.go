package swanctl_test

import (
	"strings"
	"testing"

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
