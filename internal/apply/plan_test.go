package apply_test

import (
	"context"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/apply/applytest"
)

// TestPlan checks that a dry run reads the gateway, reports what Apply
// would do, and changes nothing: no mutating call, same gateway, same
// state file.
func TestPlan(t *testing.T) {
	tests := []struct {
		name        string
		before      func(t *testing.T, g *applytest.Gateway, dir string)
		edit        func(t *testing.T, d *apply.Desired)
		wantChanges string
	}{
		{
			name:        "fresh gateway",
			wantChanges: firstChanges,
		},
		{
			name:   "up to date",
			before: applied,
		},
		{
			name:   "child rekey time changed",
			before: applied,
			edit: func(t *testing.T, d *apply.Desired) {
				conn(t, *d, "cloud-sitea").Children[0].RekeyTime = 2 * time.Hour
			},
			wantChanges: `~ connection cloud-sitea
    Children[0].RekeyTime: 3600000000000 -> 7200000000000
`,
		},
		{
			name: "charon restarted and a tunnel removed",
			before: func(t *testing.T, g *applytest.Gateway, dir string) {
				applied(t, g, dir)
				g.Store.Restart()
			},
			edit: func(t *testing.T, d *apply.Desired) {
				dropConn(d, "cloud-siteb")
				dropSecret(d, "ike-cloud-siteb")
			},
			// cloud-siteb is gone from charon already: nothing to unload.
			wantChanges: `+ secret ike-cloud-sitea (missing in charon, reload)
    owners @cloud, @sitea, value <redacted>
+ connection cloud-sitea (missing in charon, reload)
    tunnel cloud-sitea: hub cloud <-> spoke sitea (cloud responds)
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
			d := s1(t)
			if tt.edit != nil {
				tt.edit(t, &d)
			}
			snap, state := g.Snapshot(), readState(t, dir)

			changes, err := g.Engine(dir).Plan(context.Background(), d)
			if err != nil {
				t.Fatalf("Plan: %v", err)
			}
			if got, want := changesText(changes), expand(t, tt.wantChanges); got != want {
				t.Errorf("changes:\n%s\nwant:\n%s\n%s", got, want, diffText(got, want))
			}
			if got := g.String(); got != observe {
				t.Errorf("calls:\n%s\nwant only the reads:\n%s", got, observe)
			}
			if got := g.Mutations(); got != "" {
				t.Errorf("Plan made mutating calls:\n%s", got)
			}
			if g.Snapshot() != snap {
				t.Error("Plan changed the gateway")
			}
			if readState(t, dir) != state {
				t.Error("Plan changed the state file")
			}

			// Apply does what Plan said.
			g.Reset()
			applied, err := g.Engine(dir).Apply(context.Background(), d)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if got, want := changesText(applied), changesText(changes); got != want {
				t.Errorf("Apply changed:\n%s\nPlan said:\n%s", got, want)
			}
		})
	}
}

// TestEngineWithoutEffects checks that an engine without Firewall, Sysctls,
// Runner and Router leaves those alone and only talks to charon.
func TestEngineWithoutEffects(t *testing.T) {
	g := applytest.NewGateway()
	e := g.Engine(t.TempDir())
	e.Firewall, e.Sysctls, e.Runner, e.Router = nil, nil, nil, nil
	changes, err := e.Apply(context.Background(), s1(t))
	if err != nil {
		t.Fatal(err)
	}
	want := `get-conns
get-shared
get-pools
load-shared ike-cloud-sitea
load-shared ike-cloud-siteb
load-conn cloud-sitea
load-conn cloud-siteb
`
	if got := g.String(); got != want {
		t.Errorf("calls:\n%s\nwant:\n%s", got, want)
	}
	if len(changes) != 4 {
		t.Errorf("got %d changes, want 4:\n%s", len(changes), changesText(changes))
	}
}
