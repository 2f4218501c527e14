package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render/nft"
	"github.com/styx-vpn/styx/internal/secret"
	"github.com/styx-vpn/styx/internal/topology"
	"github.com/styx-vpn/styx/internal/vici"
)

// gatewayTarget are the flags that select a gateway and reach it.
type gatewayTarget struct {
	File      string `arg:"" help:"Topology file." type:"path"`
	Gateway   string `short:"g" required:"" help:"Gateway to act on."`
	Socket    string `help:"charon's VICI socket." default:"/var/run/charon.vici"`
	State     string `help:"Directory for styx's state (what the last apply did)." default:"/var/lib/styx"`
	Firewall  string `help:"Firewall backend: nft, or none to leave the firewall alone." enum:"nft,none" default:"nft"`
	NetNS     string `name:"netns" help:"Run the gateway's commands in this network namespace." hidden:""`
	Dataplane string `help:"Override the gateway's data plane: kernel or libipsec (the lab sets STYX_DATAPLANE)." enum:",kernel,libipsec" default:"" env:"STYX_DATAPLANE"`
}

// engine builds the apply engine and the desired state for the target.
func (t *gatewayTarget) engine(env *Env) (*apply.Engine, apply.Desired, *vici.Client, error) {
	net, err := loadChecked(env, t.File)
	if err != nil {
		return nil, apply.Desired{}, nil, err
	}
	if t.Dataplane != "" {
		net.SetDataplane(topology.Dataplane(t.Dataplane))
	}
	d, err := DesiredState(net, t.Gateway, t.File, secret.OS{Getenv: env.Getenv}, false)
	if err != nil {
		return nil, d, nil, exitf(ExitProblem, "%v", err)
	}
	client := vici.New(t.Socket)
	run := apply.Exec{NetNS: t.NetNS}
	e := &apply.Engine{
		Store: apply.ViciStore{C: client}, Creds: apply.ViciStore{C: client},
		Sysctls: apply.ProcSysctls{R: run}, Runner: run, StateDir: t.State,
		ReadFile: topologyFileReader(t.File),
	}
	if t.Firewall == "nft" {
		e.Firewall = apply.Nft{R: run}
	}
	return e, d, client, nil
}

// topologyFileReader reads files named in the topology (certificates),
// relative to the topology file.
func topologyFileReader(topo string) func(string) ([]byte, error) {
	dir := filepath.Dir(topo)
	return func(p string) ([]byte, error) {
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		return os.ReadFile(p)
	}
}

// DesiredState plans gateway name and reads its secrets.
func DesiredState(net *topology.Network, name, source string, r secret.OS, external bool) (apply.Desired, error) {
	gw, err := plan.Build(net, name, plan.Options{External: external})
	if err != nil {
		return apply.Desired{}, err
	}
	d := apply.Desired{Gateway: gw, Nft: nft.Render(gw, filepath.Base(source)), Secrets: map[string][]byte{}, Commands: apply.Commands(gw)}
	var missing []error
	for _, s := range gw.Secrets {
		v, err := r.ReadSecret(s.Source)
		if err != nil {
			missing = append(missing, fmt.Errorf("%s: %v", s.Name, err))
			continue
		}
		d.Secrets[s.Name] = v
	}
	if len(missing) > 0 {
		return d, fmt.Errorf("secrets not available (styx secrets --generate creates missing files):\n%w", errors.Join(missing...))
	}
	return d, nil
}

// PlanCmd shows what apply would change.
type PlanCmd struct {
	gatewayTarget
}

// Help is the long help of styx plan.
func (PlanCmd) Help() string {
	return `Reads what the gateway has now (charon over VICI, the styx nftables table,
sysctls, links and routes styx owns, and the state of the last apply) and
prints what "styx apply" would change. Secrets are shown as <redacted>.

Exit status: 0 nothing would change, 2 changes, 1 error -- so it can gate CI.

Examples:
  styx plan site.yaml --gateway cloud
  styx plan site.yaml --gateway cloud --socket /run/charon.vici`
}

// Run plans.
func (c *PlanCmd) Run(env *Env) error {
	e, d, client, err := c.engine(env)
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	changes, err := e.Plan(ctx, d)
	if err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	if len(changes) == 0 {
		fmt.Fprintf(env.Stdout, "%s: up to date\n", c.Gateway)
		return nil
	}
	for _, ch := range changes {
		fmt.Fprintln(env.Stdout, ch.String())
	}
	fmt.Fprintf(env.Stdout, "%s: %d change(s)\n", c.Gateway, len(changes))
	return &exitError{code: 2}
}

// ApplyCmd makes the gateway match the plan.
type ApplyCmd struct {
	gatewayTarget
	DryRun bool `help:"Only show what would change (same as styx plan)."`
}

// Help is the long help of styx apply.
func (ApplyCmd) Help() string {
	return `Makes the gateway match the topology with the smallest disturbance:
only changed connections, secrets and pools are (re)loaded over VICI, so
unchanged tunnels keep their SAs; the styx nftables table is replaced in
one atomic transaction (other tables are never touched); sysctls, links and
routes styx owns are set. If any step fails, every step already taken is
undone and the error names the failed step.

Running apply twice changes nothing the second time.

Examples:
  styx apply site.yaml --gateway cloud
  styx apply site.yaml --gateway cloud --dry-run
  styx apply site.yaml --gateway cloud --firewall none`
}

// Run applies.
func (c *ApplyCmd) Run(env *Env) error {
	if c.DryRun {
		return (&PlanCmd{c.gatewayTarget}).Run(env)
	}
	e, d, client, err := c.engine(env)
	if err != nil {
		return err
	}
	defer client.Close()
	e.Log = env.Stdout
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	changes, err := e.Apply(ctx, d)
	if err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	if len(changes) == 0 {
		fmt.Fprintf(env.Stdout, "%s: up to date, nothing changed\n", c.Gateway)
	} else {
		fmt.Fprintf(env.Stdout, "%s: applied %d change(s)\n", c.Gateway, len(changes))
	}
	return nil
}
