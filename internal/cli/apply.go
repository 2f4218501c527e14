package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render/bird"
	"github.com/styx-vpn/styx/internal/render/iptables"
	"github.com/styx-vpn/styx/internal/render/nft"
	"github.com/styx-vpn/styx/internal/secret"
	"github.com/styx-vpn/styx/internal/topology"
	"github.com/styx-vpn/styx/internal/vici"
)

// gatewayTarget are the flags that select a gateway and reach it.
type gatewayTarget struct {
	File       string        `arg:"" help:"Topology file." type:"path"`
	Gateway    string        `short:"g" required:"" help:"Gateway to act on."`
	Socket     string        `help:"charon's VICI socket." default:"/var/run/charon.vici"`
	State      string        `help:"Directory for styx's state (what the last apply did); styx lab exec sets STYX_STATE to the gateway's." default:"/var/lib/styx" env:"STYX_STATE"`
	Firewall   string        `help:"Firewall backend: nft, iptables (iptables-restore into STYX-* chains), or none to leave the firewall alone." enum:"nft,iptables,none" default:"nft"`
	Bird       string        `help:"BIRD configuration file styx owns for gateways with bgp (loaded with birdc configure), or none to leave BIRD alone." default:"/etc/bird/bird.conf" env:"STYX_BIRD_CONF"`
	BirdSocket string        `help:"BIRD's control socket." default:"/run/bird/bird.ctl" env:"STYX_BIRD_SOCKET"`
	NetNS      string        `name:"netns" help:"Run the gateway's commands in this network namespace." hidden:""`
	Dataplane  string        `help:"Override the gateway's data plane: kernel or libipsec (the lab sets STYX_DATAPLANE)." enum:",kernel,libipsec" default:"" env:"STYX_DATAPLANE"`
	LabRekey   time.Duration `hidden:"" help:"CHILD_SA rekey time the lab uses (set by styx lab exec)." default:"0s" env:"STYX_LAB_REKEY"`
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
	if t.LabRekey > 0 {
		for _, tun := range net.Tunnels {
			tun.ChildRekey = t.LabRekey
		}
	}
	d, err := DesiredState(net, t.Gateway, t.File, secretReader(env), false)
	if err != nil {
		return nil, d, nil, exitf(ExitProblem, "%v", err)
	}
	if t.Firewall == "iptables" {
		v4, v6 := iptables.Render(d.Gateway, filepath.Base(t.File))
		d.Nft = apply.IptablesRuleset(v4, v6, iptables.Hooks(d.Gateway))
		d.FirewallKind = "iptables"
	}
	client := vici.New(t.Socket)
	run := apply.Exec{NetNS: t.NetNS}
	e := &apply.Engine{
		Store: apply.ViciStore{C: client}, Creds: apply.ViciStore{C: client},
		Sysctls: apply.ProcSysctls{NetNS: t.NetNS}, Runner: run, StateDir: t.State,
		ReadFile: topologyFileReader(t.File),
	}
	if t.Bird != "none" {
		e.Router = apply.Bird{Conf: t.Bird, Socket: t.BirdSocket, R: run}
	}
	switch t.Firewall {
	case "nft":
		e.Firewall = apply.Nft{R: run}
	case "iptables":
		e.Firewall = apply.Iptables{R: run}
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
	if gw.BGP != nil {
		d.Bird = bird.Render(gw.BGP, gw.Name, filepath.Base(source))
	}
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
Rules edited inside the styx firewall by hand or by another tool since the
last apply show as a change too (counter values do not count), and apply
puts the rules back.

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
	DryRun    bool          `help:"Only show what would change (same as styx plan)."`
	Confirm   time.Duration `help:"Roll the apply back automatically unless styx apply --confirm-ok follows within this time (e.g. 2m)." default:"0s"`
	ConfirmOK bool          `name:"confirm-ok" help:"Confirm a pending --confirm apply (nothing else is done)."`
}

// Help is the long help of styx apply.
func (ApplyCmd) Help() string {
	return `Makes the gateway match the topology with the smallest disturbance:
only changed connections, secrets and pools are (re)loaded over VICI, so
unchanged tunnels keep their SAs; the styx nftables table is replaced in
one atomic transaction (other tables are never touched); sysctls, links and
routes styx owns are set; for a gateway with bgp, bird.conf is checked with
bird -p, written to --bird and loaded with birdc configure (last, once the
tunnel devices exist). If any step fails, every step already taken is
undone and the error names the failed step.

Running apply twice changes nothing the second time.

With --confirm DURATION the apply is rolled back automatically after
DURATION unless "styx apply --confirm-ok" confirms it first -- so a firewall
change that cuts the operator off undoes itself.

Examples:
  styx apply site.yaml --gateway cloud
  styx apply site.yaml --gateway cloud --dry-run
  styx apply site.yaml --gateway cloud --firewall none
  styx apply s2.yaml --gateway v1-1 --bird /etc/bird/bird.conf --bird-socket /run/bird/bird.ctl
  styx apply site.yaml --gateway cloud --confirm 2m
  styx apply site.yaml --gateway cloud --confirm-ok`
}

// Run applies.
func (c *ApplyCmd) Run(env *Env) error {
	if c.ConfirmOK {
		return confirmOK(env, c.State, c.Gateway)
	}
	if c.DryRun {
		return (&PlanCmd{c.gatewayTarget}).Run(env)
	}
	if p, err := apply.LoadPending(c.State, c.Gateway); err != nil {
		return exitf(ExitProblem, "%v", err)
	} else if p != nil {
		return exitf(ExitProblem, "an apply of %s is waiting for confirmation until %s: run styx apply --confirm-ok first (or let it roll back)", c.Gateway, p.Deadline.Format(time.RFC3339))
	}
	prev, err := apply.LoadState(c.State, c.Gateway)
	if err != nil {
		return exitf(ExitProblem, "%v", err)
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
		return nil
	}
	fmt.Fprintf(env.Stdout, "%s: applied %d change(s)\n", c.Gateway, len(changes))
	if c.Confirm > 0 {
		return c.armRollback(env, prev)
	}
	return nil
}

// armRollback records the previous state and starts the process that
// rolls back at the deadline unless the apply is confirmed.
func (c *ApplyCmd) armRollback(env *Env, prev *apply.State) error {
	p := &apply.Pending{Gateway: c.Gateway, Deadline: time.Now().Add(c.Confirm), Previous: prev}
	if err := apply.SavePending(c.State, p); err != nil {
		return exitf(ExitProblem, "recording the rollback: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	args := []string{"confirm-wait", "--gateway", c.Gateway, "--state", c.State, "--socket", c.Socket, "--firewall", c.Firewall}
	if c.NetNS != "" {
		args = append(args, "--netns", c.NetNS)
	}
	logf, err := os.OpenFile(filepath.Join(c.State, c.Gateway+".rollback.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	defer logf.Close()
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return exitf(ExitProblem, "starting the rollback timer: %v", err)
	}
	p.WaiterPID = cmd.Process.Pid
	if err := apply.SavePending(c.State, p); err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	cmd.Process.Release()
	fmt.Fprintf(env.Stdout, "%s: rolls back at %s unless confirmed: styx apply %s --gateway %s --confirm-ok\n",
		c.Gateway, p.Deadline.Format("15:04:05"), displayName(c.File), c.Gateway)
	return nil
}

func confirmOK(env *Env, stateDir, gw string) error {
	p, err := apply.LoadPending(stateDir, gw)
	if err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	if p == nil {
		fmt.Fprintf(env.Stdout, "%s: nothing waits for confirmation\n", gw)
		return nil
	}
	if err := apply.ClearPending(stateDir, gw); err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	if p.WaiterPID > 0 {
		syscall.Kill(p.WaiterPID, syscall.SIGTERM)
	}
	fmt.Fprintf(env.Stdout, "%s: confirmed; the automatic rollback is cancelled\n", gw)
	return nil
}

// ConfirmWaitCmd waits for a pending apply's deadline and rolls it back
// unless it was confirmed (started by apply --confirm).
type ConfirmWaitCmd struct {
	Gateway  string `required:""`
	State    string `required:""`
	Socket   string `required:""`
	Firewall string `default:"nft"`
	NetNS    string `name:"netns"`
}

// Run waits and rolls back.
func (c *ConfirmWaitCmd) Run(env *Env) error {
	p, err := apply.LoadPending(c.State, c.Gateway)
	if err != nil || p == nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	select {
	case <-sig:
		fmt.Fprintf(env.Stdout, "%s %s: confirmed, no rollback\n", time.Now().Format(time.RFC3339), c.Gateway)
		return nil
	case <-time.After(time.Until(p.Deadline)):
	}
	if p, err = apply.LoadPending(c.State, c.Gateway); err != nil || p == nil {
		return err // confirmed in the meantime
	}
	cur, _ := apply.LoadState(c.State, c.Gateway)
	d, err := apply.DesiredFromState(p.Previous, cur)
	if err != nil {
		return err
	}
	client := vici.New(c.Socket)
	defer client.Close()
	run := apply.Exec{NetNS: c.NetNS}
	e := &apply.Engine{Store: apply.ViciStore{C: client}, Creds: apply.ViciStore{C: client}, Sysctls: apply.ProcSysctls{NetNS: c.NetNS}, Runner: run, StateDir: c.State, Log: env.Stdout}
	switch c.Firewall {
	case "nft":
		e.Firewall = apply.Nft{R: run}
	case "iptables":
		e.Firewall = apply.Iptables{R: run}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fmt.Fprintf(env.Stdout, "%s %s: not confirmed before %s, rolling back\n", time.Now().Format(time.RFC3339), c.Gateway, p.Deadline.Format(time.RFC3339))
	if _, err := e.Apply(ctx, d); err != nil {
		fmt.Fprintf(env.Stdout, "rollback failed: %v\n", err)
		return err
	}
	apply.ClearPending(c.State, c.Gateway)
	fmt.Fprintf(env.Stdout, "%s %s: rolled back\n", time.Now().Format(time.RFC3339), c.Gateway)
	return nil
}
