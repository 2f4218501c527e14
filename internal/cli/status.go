package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/styx-vpn/styx/internal/birdd"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/status"
	"github.com/styx-vpn/styx/internal/vici"
)

// StatusCmd shows the SAs of a gateway.
type StatusCmd struct {
	File       string        `arg:"" optional:"" help:"Topology file: show configured tunnels that are down too (with --gateway)." type:"path"`
	Gateway    string        `short:"g" help:"Gateway of the topology this host is."`
	Socket     string        `help:"charon's VICI socket." default:"/var/run/charon.vici"`
	BirdSocket string        `help:"BIRD's control socket, for the BGP sessions; none to leave BGP out." default:"/run/bird/bird.ctl" env:"STYX_BIRD_SOCKET"`
	Format     string        `help:"Output format: table or json." enum:"table,json" default:"table"`
	Watch      time.Duration `help:"Refresh every interval (e.g. 2s) until interrupted." default:"0s"`
}

// Help is the long help of styx status.
func (StatusCmd) Help() string {
	return `Shows IKE and CHILD SAs with state, peer, algorithms, bytes and packets in and
out, time since the last packet and time to the next rekey, and a one-line
health summary. With a topology file and --gateway, tunnels that are
configured but have no SA are shown as down, with a reason when styx knows it.

SAs are queried per connection (never in one large stream), so gateways with
many tunnels are reported completely.

Exit status: 0 healthy, 3 some tunnel is not up, 1 error, 2 usage.
The JSON form (--format json) is stable: see docs/status.md.

Examples:
  styx status
  styx status site.yaml --gateway cloud --format json
  styx status --watch 2s`
}

// Run shows the status.
func (c *StatusCmd) Run(env *Env) error {
	var gw *plan.Gateway
	if c.File != "" {
		if c.Gateway == "" {
			return exitf(ExitUsage, "with a topology file, name the gateway with --gateway")
		}
		net, err := loadChecked(env, c.File)
		if err != nil {
			return err
		}
		if gw, err = plan.Build(net, c.Gateway, plan.Options{External: true}); err != nil {
			return exitf(ExitProblem, "%v", err)
		}
	}
	client := vici.New(c.Socket)
	defer client.Close()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	for {
		r, err := Status(ctx, client, gw)
		if err != nil {
			return exitf(ExitProblem, "%v", err)
		}
		if c.BirdSocket != "none" {
			r.BGP = bgpStatus(ctx, c.BirdSocket, gw)
			r.Evaluate()
		}
		if c.Watch > 0 && c.Format == "table" {
			fmt.Fprint(env.Stdout, "\033[H\033[2J")
			fmt.Fprintf(env.Stdout, "styx status  %s  (every %s, Ctrl-C to stop)\n\n", time.Now().Format("15:04:05"), c.Watch)
		}
		if c.Format == "json" {
			r.JSON(env.Stdout)
		} else {
			r.Table(env.Stdout)
		}
		if c.Watch <= 0 {
			if !r.Health.OK {
				return &exitError{code: ExitDegraded}
			}
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(c.Watch):
		}
	}
}

// Status collects the status of the charon behind client; gw (optional)
// names the connections that should exist.
func Status(ctx context.Context, client *vici.Client, gw *plan.Gateway) (*status.Report, error) {
	names, err := client.ConnNames(ctx)
	if err != nil {
		var ve *vici.Error
		if errors.As(err, &ve) {
			return nil, fmt.Errorf("cannot reach charon at %s: %v", client.Socket(), ve.Err)
		}
		return nil, err
	}
	r := &status.Report{}
	seen := map[string]bool{}
	add := func(name string, c *plan.Conn) error {
		if seen[name] {
			return nil
		}
		seen[name] = true
		sas, err := client.ListSAs(ctx, name)
		if err != nil {
			return err
		}
		conn := status.Conn{Name: name, SAs: sas}
		if c != nil {
			conn.Initiator = c.Initiator
			conn.RoadWarrior = slices.Contains(c.RemoteAddrs, "%any") && len(c.Pools) > 0
			for _, ch := range c.Children {
				conn.Expected = append(conn.Expected, ch.Name)
			}
			if !slices.Contains(names, name) {
				conn.Reason = "not loaded in charon (run styx apply)"
			} else if len(sas) == 0 && !c.Initiator {
				conn.Reason = "waiting for the peer to initiate"
			} else if len(sas) == 0 {
				conn.Reason = "initiating; see the charon log"
			}
		}
		r.Conns = append(r.Conns, conn)
		return nil
	}
	if gw != nil {
		r.Gateway = gw.Name
		for _, c := range gw.Conns {
			if err := add(c.Name, c); err != nil {
				return nil, err
			}
		}
	}
	slices.Sort(names)
	for _, n := range names {
		if err := add(n, nil); err != nil {
			return nil, err
		}
	}
	r.Evaluate()
	return r, nil
}

// bgpStatus asks BIRD for its BGP sessions. With a plan, the sessions it
// expects are named with their tunnels, missing ones are down, and an
// unreachable BIRD makes them all down; without one, an absent socket
// means there is no BIRD to report on.
func bgpStatus(ctx context.Context, sock string, gw *plan.Gateway) []status.BGPSession {
	want := map[string][2]string{}
	if gw != nil && gw.BGP != nil {
		for _, n := range gw.BGP.Neighbors {
			want[n.Name] = [2]string{n.Tunnel, n.Peer}
		}
	}
	if _, err := os.Stat(sock); err != nil && len(want) == 0 {
		return nil
	}
	protos, err := birdd.Protocols(ctx, sock)
	if err != nil {
		out := status.BGPFromBird(nil, want)
		for i := range out {
			out[i].Info = "BIRD not reachable at " + sock
		}
		return out
	}
	return status.BGPFromBird(protos, want)
}
