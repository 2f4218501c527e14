package lab

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/birdd"
	"github.com/styx-vpn/styx/internal/plan"
)

// birdPaths are the configuration file and control socket of the BIRD of
// a lab gateway, in its directory.
func birdPaths(n *Node) (conf, sock string) {
	return filepath.Join(n.Dir, "bird.conf"), filepath.Join(n.Dir, "bird.ctl")
}

// startBird starts the BIRD of a lab gateway with a configuration without
// sessions and returns the Router styx apply loads the real one through.
func (l *Lab) startBird(ctx context.Context, n *Node, b *plan.BGP) (apply.Router, error) {
	if err := birdd.Available(); err != nil {
		return nil, err
	}
	conf, sock := birdPaths(n)
	id := ""
	if b.RouterID.IsValid() {
		id = b.RouterID.String()
	}
	inst, err := birdd.Start(ctx, n.NS, conf, sock, id)
	if err != nil {
		return nil, err
	}
	l.state.Procs = slices.DeleteFunc(l.state.Procs, func(p Proc) bool { return p.Name == "bird "+n.Name })
	l.state.Procs = append(l.state.Procs, Proc{Name: "bird " + n.Name, NS: n.NS, PID: inst.PID()})
	n.Bird = true
	l.state.Save(l.opts.Dir)
	// bird -p and birdc need no namespace: the control socket is a file
	return apply.Bird{Conf: conf, Socket: sock, R: apply.Exec{}}, nil
}

// bgpSessions returns the BGP protocols of a lab gateway's BIRD.
func bgpSessions(ctx context.Context, n *Node) ([]birdd.Protocol, error) {
	_, sock := birdPaths(n)
	ps, err := birdd.Protocols(ctx, sock)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(ps, func(p birdd.Protocol) bool { return p.Proto != "BGP" }), nil
}

// waitBGP waits until every BGP session of every gateway is established.
func (l *Lab) waitBGP(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, n := range l.state.Nodes {
		if !n.Bird {
			continue
		}
		for {
			ps, err := bgpSessions(ctx, n)
			var down []string
			for _, p := range ps {
				if !p.Established() {
					down = append(down, fmt.Sprintf("%s %s %s", p.Name, p.State, p.Info))
				}
			}
			if err == nil && len(down) == 0 {
				break
			}
			if time.Now().After(deadline) {
				if err != nil {
					return fmt.Errorf("gateway %s: BIRD: %w", n.Name, err)
				}
				return fmt.Errorf("gateway %s: BGP sessions not established within %s: %s (birdc: styx lab exec FILE %s -- birdc -s %s show protocols all)", n.Name, timeout, strings.Join(down, "; "), n.Name, filepath.Join(n.Dir, "bird.ctl"))
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	return nil
}
