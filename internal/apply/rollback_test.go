package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/apply/applytest"
)

var errBoom = errors.New("boom")

// rollbackFirst undoes firstApply up to and including load-conn cloud-sitea.
const rollbackFirst = `unload-conn cloud-sitea
unload-shared ike-cloud-siteb
unload-shared ike-cloud-sitea
nft delete table inet styx
sysctl -w net.ipv4.conf.default.rp_filter=0
sysctl -w net.ipv4.conf.all.rp_filter=0
sysctl -w net.ipv4.conf.default.send_redirects=1
sysctl -w net.ipv4.conf.all.send_redirects=1
sysctl -w net.ipv4.ip_forward=0
`

func TestApplyRollback(t *testing.T) {
	tests := []struct {
		name   string
		before func(t *testing.T, g *applytest.Gateway, dir string)
		edit   func(t *testing.T, d *apply.Desired)
		// fail injects the failure.
		fail func(g *applytest.Gateway)
		want string
		// wantStep is the failed step as Change.String prints it (first line).
		wantStep string
		wantErr  string
		// undoFails: the rollback itself fails, the gateway is not restored.
		undoFails bool
	}{
		{
			name:     "second load-conn of the first apply",
			fail:     func(g *applytest.Gateway) { g.Store.FailOn("load-conn", "cloud-siteb", errBoom) },
			want:     observe + strings.Replace(firstApply, "load-conn cloud-siteb\n", "load-conn cloud-siteb (failed: boom)\n", 1) + rollbackFirst,
			wantStep: "+ connection cloud-siteb",
			wantErr:  "apply failed at step + connection cloud-siteb: boom; rolled back 9 step(s), the gateway is as it was before",
		},
		{
			name:   "second load-conn of an update",
			before: applied,
			edit: func(t *testing.T, d *apply.Desired) {
				conn(t, *d, "cloud-sitea").Children[0].RekeyTime = 2 * time.Hour
				conn(t, *d, "cloud-siteb").DPDDelay = 10 * time.Second
				d.Nft = []byte(strings.Replace(string(d.Nft), "\t\tct state invalid counter drop\n", "\t\tct state invalid counter drop\n\t\tip saddr 198.51.100.7 drop\n", 1))
				d.Secrets = map[string][]byte{"ike-cloud-sitea": []byte("new-key-a"), "ike-cloud-siteb": secrets["ike-cloud-siteb"]}
			},
			fail: func(g *applytest.Gateway) { g.Store.FailOn("load-conn", "cloud-siteb", errBoom) },
			want: observe + `nft -f -
nft list table inet styx
load-shared ike-cloud-sitea
load-conn cloud-sitea
load-conn cloud-siteb (failed: boom)
load-conn cloud-sitea
load-shared ike-cloud-sitea
nft -f -
`,
			wantStep: "~ connection cloud-siteb",
			wantErr:  "apply failed at step ~ connection cloud-siteb: boom; rolled back 3 step(s), the gateway is as it was before",
		},
		{
			name: "nftables load",
			fail: func(g *applytest.Gateway) { g.Firewall.FailOnLoad(1, errBoom) },
			want: observe + `sysctl -w net.ipv4.ip_forward=1
sysctl -w net.ipv4.conf.all.send_redirects=0
sysctl -w net.ipv4.conf.default.send_redirects=0
sysctl -w net.ipv4.conf.all.rp_filter=2
sysctl -w net.ipv4.conf.default.rp_filter=2
nft -f - (failed: boom)
sysctl -w net.ipv4.conf.default.rp_filter=0
sysctl -w net.ipv4.conf.all.rp_filter=0
sysctl -w net.ipv4.conf.default.send_redirects=1
sysctl -w net.ipv4.conf.all.send_redirects=1
sysctl -w net.ipv4.ip_forward=0
`,
			wantStep: "+ nftables table inet styx",
			wantErr:  "apply failed at step + nftables table inet styx: boom; rolled back 5 step(s), the gateway is as it was before",
		},
		{
			name: "rollback fails too",
			fail: func(g *applytest.Gateway) {
				g.Store.FailOn("load-conn", "cloud-siteb", errBoom)
				g.Store.FailOn("unload-shared", "ike-cloud-siteb", errors.New("charon hung up"))
			},
			want: observe + strings.Replace(firstApply, "load-conn cloud-siteb\n", "load-conn cloud-siteb (failed: boom)\n", 1) +
				strings.Replace(rollbackFirst, "unload-shared ike-cloud-siteb\n", "unload-shared ike-cloud-siteb (failed: charon hung up)\n", 1),
			wantStep:  "+ connection cloud-siteb",
			wantErr:   "apply failed at step + connection cloud-siteb: boom; rolled back 9 step(s), but the rollback also failed: undo secret ike-cloud-siteb: charon hung up",
			undoFails: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := applytest.NewGateway()
			dir := t.TempDir()
			if tt.before != nil {
				tt.before(t, g, dir)
			}
			d := s1(t)
			if tt.edit != nil {
				tt.edit(t, &d)
			}
			tt.fail(g)
			snap, state := g.Snapshot(), readState(t, dir)

			_, err := g.Engine(dir).Apply(context.Background(), d)

			var se *apply.StepError
			if !errors.As(err, &se) {
				t.Fatalf("Apply error = %v (%T), want a *apply.StepError", err, err)
			}
			if !errors.Is(err, errBoom) {
				t.Errorf("the StepError does not wrap the injected error: %v", err)
			}
			if got, _, _ := strings.Cut(se.Step.String(), "\n"); got != tt.wantStep {
				t.Errorf("failed step = %q, want %q", got, tt.wantStep)
			}
			if err.Error() != tt.wantErr {
				t.Errorf("error:\n%v\nwant:\n%s", err, tt.wantErr)
			}
			if got := g.String(); got != tt.want {
				t.Errorf("calls:\n%s\nwant:\n%s\n%s", got, tt.want, diffText(got, tt.want))
			}
			if readState(t, dir) != state {
				t.Error("the failed apply changed the state file")
			}
			if got := g.Snapshot(); (got == snap) == tt.undoFails {
				if tt.undoFails {
					t.Errorf("the rollback failed, yet the gateway is as before")
				} else {
					t.Errorf("the gateway is not as before the apply:\n%s\nwant:\n%s\n%s", got, snap, diffText(got, snap))
				}
			}

			// Once the cause is gone, the same apply succeeds.
			g.Reset()
			if _, err := g.Engine(dir).Apply(context.Background(), d); err != nil {
				t.Fatalf("Apply after the failure: %v", err)
			}
		})
	}
}
