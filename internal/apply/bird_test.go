package apply_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/apply/applytest"
)

const (
	birdA = "router id 1.0.1.1;\nprotocol device {\n}\nprotocol bgp tun_a {\n}\n"
	birdB = "router id 1.0.1.1;\nprotocol device {\n}\nprotocol bgp tun_b {\n}\n"
)

// TestApplyBird walks one gateway's BIRD configuration through add,
// change, a hand edit, a refused configure and removal.
func TestApplyBird(t *testing.T) {
	g := applytest.NewGateway()
	dir := t.TempDir()
	apply1 := func(bird string) ([]apply.Change, error) {
		t.Helper()
		g.Reset()
		d := s1(t)
		if bird != "" {
			d.Bird = []byte(bird)
		}
		return g.Engine(dir).Apply(context.Background(), d)
	}
	birdCalls := func() string {
		var out []string
		for _, c := range g.Bird.Log().Calls() {
			if !c.ReadOnly {
				out = append(out, c.String())
			}
		}
		return strings.Join(out, "; ")
	}

	// add: BIRD is configured after everything else
	changes, err := apply1(birdA)
	if err != nil {
		t.Fatal(err)
	}
	if last := changes[len(changes)-1]; last.Op != apply.Add || last.What != "bird" {
		t.Errorf("last change %s, want + bird", last)
	}
	if m := g.Mutations(); !strings.HasSuffix(m, "load-conn cloud-siteb\nbird -p\nbirdc configure\n") {
		t.Errorf("BIRD not configured last:\n%s", m)
	}
	if g.Bird.Running() != birdA {
		t.Errorf("BIRD runs %q", g.Bird.Running())
	}

	// unchanged: nothing to do
	if changes, err := apply1(birdA); err != nil || len(changes) != 0 {
		t.Errorf("second apply: %v %v", changes, err)
	}

	// changed
	changes, err = apply1(birdB)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := changesText(changes), "~ bird bird.conf\n    - protocol bgp tun_a {\n    + protocol bgp tun_b {\n"; got != want {
		t.Errorf("changes:\n%s\nwant:\n%s", got, want)
	}

	// a hand edit of the file is repaired: apply compares with the file
	g.Bird.Set(birdB + "protocol static x {\n}\n")
	changes, err = apply1(birdB)
	if err != nil || len(changes) != 1 || changes[0].Op != apply.Modify {
		t.Errorf("hand edit not repaired: %v %v", changes, err)
	}

	// BIRD refuses: the whole apply is rolled back, BIRD keeps birdB
	g.Bird.FailOnConfigure(errors.New("birdc configure: Unable to connect to server control socket"))
	_, err = apply1(birdA)
	var se *apply.StepError
	if !errors.As(err, &se) || se.Step.What != "bird" || len(se.UndoErrs) != 0 {
		t.Fatalf("refused configure: %v", err)
	}
	if got := birdCalls(); got != "bird -p; birdc configure (failed: birdc configure: Unable to connect to server control socket)" {
		t.Errorf("BIRD calls: %s", got)
	}
	if g.Bird.Running() != birdB {
		t.Errorf("after the failed apply BIRD runs %q, want the previous configuration", g.Bird.Running())
	}

	// a configuration that does not parse never reaches birdc
	_, err = apply1(birdA + "\nsyntax error\n")
	if !errors.Is(err, applytest.ErrBirdParse) || strings.Contains(birdCalls(), "birdc") {
		t.Errorf("bad configuration: err %v, calls %s", err, birdCalls())
	}

	// bgp removed from the topology: BIRD keeps the router id, no sessions
	changes, err = apply1("")
	if err != nil {
		t.Fatal(err)
	}
	if got := changesText(changes); !strings.HasPrefix(got, "- bird bird.conf\n") {
		t.Errorf("changes:\n%s", got)
	}
	if got, want := g.Bird.Running(), string(apply.BirdIdle([]byte(birdB))); got != want || !strings.Contains(got, "router id 1.0.1.1;\n") || strings.Contains(got, "protocol bgp") {
		t.Errorf("BIRD runs %q, want the idle configuration %q", got, want)
	}
	if changes, err := apply1(""); err != nil || len(changes) != 0 {
		t.Errorf("apply after removal: %v %v", changes, err)
	}
}

// TestPlanBirdWithoutRouter: an engine without a Router leaves BIRD alone
// even when the plan has a configuration.
func TestPlanBirdWithoutRouter(t *testing.T) {
	g := applytest.NewGateway()
	e := g.Engine(t.TempDir())
	e.Router = nil
	d := s1(t)
	d.Bird = []byte(birdA)
	changes, err := e.Plan(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range changes {
		if c.What == "bird" {
			t.Errorf("change %s without a Router", c)
		}
	}
	if g.Bird.Log().Len() != 0 {
		t.Errorf("BIRD was asked:\n%s", g.Bird)
	}
}
