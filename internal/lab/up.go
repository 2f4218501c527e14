package lab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/charon"
	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render"
	"github.com/styx-vpn/styx/internal/render/bird"
	"github.com/styx-vpn/styx/internal/render/nft"
	"github.com/styx-vpn/styx/internal/secret"
	"github.com/styx-vpn/styx/internal/topology"
	"github.com/styx-vpn/styx/internal/vici"
)

// RestartGateway kills the charon of gateway name (like a crash), starts
// a new one and configures it with the apply engine, as `lab up` did.
func RestartGateway(ctx context.Context, net *topology.Network, st *State, dir, name string) error {
	var g *topology.Gateway
	for _, x := range net.Gateways {
		if x.Name == name {
			g = x
		}
	}
	n := st.Node(name)
	if g == nil || n == nil {
		return fmt.Errorf("no gateway %s in the lab", name)
	}
	for _, p := range st.Procs {
		if p.Name == "charon "+name || p.Name == "bird "+name {
			stopAll([]int{p.PID})
		}
	}
	l := &Lab{opts: Options{Dir: dir}, net: net, state: st}
	return l.gateway(ctx, g, &labSecrets{dir: filepath.Join(dir, "secrets")}, nil)
}

// KillGateway kills the charon of gateway name without restarting it.
func KillGateway(st *State, name string) {
	for _, p := range st.Procs {
		if p.Name == "charon "+name {
			syscall.Kill(p.PID, syscall.SIGKILL)
			stopAll([]int{p.PID})
		}
	}
}

// Router addresses: every router link carries the same address, and
// gateways reach it on-link (so gateways in one /24 do not collide).
var (
	routerV4 = netip.MustParseAddr("198.18.0.1")
	routerV6 = netip.MustParseAddr("fd5f:5717::1")
)

// Options configure a lab.
type Options struct {
	// Dir holds the lab's files; default DefaultDir(ID(file)).
	Dir string
	// Agent is the styx binary run inside namespaces for services and
	// probes (default: this executable).
	Agent string
	// Dataplane forces "kernel" or "libipsec" ("" = detect).
	Dataplane string
	// Out receives progress lines.
	Out io.Writer
	// Getenv reads secrets from the environment.
	Getenv func(string) (string, bool)
	// SourceDir resolves relative paths of the topology (certificates).
	SourceDir string
	// KeepOnFailure leaves a lab that failed to come up in place, for
	// inspection with lab exec and lab logs.
	KeepOnFailure bool
}

// Lab is a lab being built or torn down.
type Lab struct {
	opts  Options
	net   *topology.Network
	state *State
	start time.Time
}

func (l *Lab) step(format string, args ...any) func() {
	t0 := time.Now()
	msg := fmt.Sprintf(format, args...)
	if l.opts.Out != nil {
		fmt.Fprintf(l.opts.Out, "  %-58s", msg)
	}
	return func() {
		if l.opts.Out != nil {
			fmt.Fprintf(l.opts.Out, " %6.2fs\n", time.Since(t0).Seconds())
		}
	}
}

func (l *Lab) say(format string, args ...any) {
	if l.opts.Out != nil {
		fmt.Fprintf(l.opts.Out, format+"\n", args...)
	}
}

// Up builds the lab for a resolved network. On failure everything built
// so far is removed and the error carries the charon log excerpt that
// explains it, when there is one.
func Up(ctx context.Context, net *topology.Network, file string, opts Options) (*State, error) {
	id := ID(file)
	if opts.Dir == "" {
		opts.Dir = DefaultDir(id)
	}
	if opts.Agent == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		opts.Agent = exe
	}
	if _, err := os.Stat(statePath(opts.Dir)); err == nil || len(netns.List(netns.Prefix+id+"-")) > 0 {
		if st, err := LoadState(opts.Dir); err == nil && st.ID != id {
			return nil, fmt.Errorf("the lab directory %s holds lab %q of %s; run styx lab down %s first, or choose another --dir", opts.Dir, st.ID, st.File, st.File)
		} else if err == nil && st.File != "" && filepath.Base(st.File) != filepath.Base(file) {
			return nil, fmt.Errorf("lab id %q is taken by a lab of %s, which is up (or left behind): lab ids come from the letters and digits of the file name; run styx lab down %s first, or rename one of the files", id, st.File, st.File)
		}
		return nil, fmt.Errorf("a lab %q is already up (or left behind); run styx lab down %s first", id, file)
	}
	l := &Lab{opts: opts, net: net, state: &State{ID: id, File: file}, start: time.Now()}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, err
	}
	if err := l.up(ctx); err != nil {
		if opts.KeepOnFailure {
			l.state.Save(opts.Dir)
			l.say("  failed: the lab is left in place (styx lab logs / exec / down)")
			return nil, err
		}
		l.say("  failed: cleaning up")
		Down(context.Background(), id, opts.Dir, nil)
		return nil, err
	}
	l.say("lab %s is up in %.1fs (data plane: %s); files in %s", id, time.Since(l.start).Seconds(), l.state.Dataplane, opts.Dir)
	return l.state, nil
}

func (l *Lab) ns(node string) string { return netns.Prefix + l.state.ID + "-" + node }

func (l *Lab) up(ctx context.Context) error {
	net := l.net
	// data plane
	dp, why := l.opts.Dataplane, "forced with --dataplane"
	if dp == "" {
		done := l.step("detecting the data plane")
		dp, why = DetectDataplane(ctx)
		done()
	}
	l.state.Dataplane = dp
	l.say("  data plane: %s", why)
	l.state.Skipped = Adapt(net, dp)
	for _, sk := range l.state.Skipped {
		l.say("  skipped: %s", sk)
	}
	if net.Lab.Rekey > 0 {
		l.state.Rekey = net.Lab.Rekey
		for _, t := range net.Tunnels {
			t.ChildRekey = net.Lab.Rekey
		}
		l.say("  lab.rekey: CHILD_SAs rekey every %s", net.Lab.Rekey)
	}
	// namespaces
	done := l.step("creating %d namespaces", 1+len(net.Gateways)+len(net.Lab.Hosts))
	l.state.Nodes = append(l.state.Nodes, &Node{Name: "internet", NS: l.ns("internet"), Kind: "router"})
	for _, g := range net.Gateways {
		l.state.Nodes = append(l.state.Nodes, &Node{Name: g.Name, NS: l.ns(g.Name), Kind: "gateway", Dir: filepath.Join(l.opts.Dir, g.Name)})
	}
	for _, h := range net.Lab.Hosts {
		kind, gw := "host", ""
		if h.Client != nil {
			kind = "roadwarrior"
		}
		if h.Behind != nil {
			gw = h.Behind.Name
		}
		l.state.Nodes = append(l.state.Nodes, &Node{Name: h.Name, NS: l.ns(h.Name), Kind: kind, Gateway: gw})
	}
	// the state is saved first: a crash from here on leaves labelled
	// namespaces that lab down finds
	l.state.Save(l.opts.Dir)
	nsb := &ipBatch{dir: l.opts.Dir}
	for _, n := range l.state.Nodes {
		nsb.add("", "netns", "add", n.NS)
		nsb.add(n.NS, "link", "set", "lo", "up")
	}
	if err := nsb.run(ctx); err != nil {
		return err
	}
	for _, n := range l.state.Nodes {
		// no duplicate address detection: IPv6 addresses are usable at once
		if err := setSysctls(ctx, n.NS, "net.ipv6.conf.all.accept_dad=0", "net.ipv6.conf.default.accept_dad=0"); err != nil {
			return err
		}
	}
	done()
	done = l.step("wiring the internet router, gateways and hosts")
	if err := l.wire(ctx); err != nil {
		return err
	}
	done()
	// charons and apply
	reader := &labSecrets{real: secret.OS{Getenv: l.opts.Getenv}, dir: filepath.Join(l.opts.Dir, "secrets")}
	pk, err := newLabPKI(filepath.Join(l.opts.Dir, "pki"))
	if err != nil {
		return err
	}
	for _, g := range net.Gateways {
		done := l.step("gateway %s: charon + styx apply", g.Name)
		if err := l.gateway(ctx, g, reader, pk); err != nil {
			return err
		}
		done()
	}
	// services
	done = l.step("starting lab services")
	if err := l.services(ctx); err != nil {
		return err
	}
	done()
	done = l.step("waiting for the tunnels to come up")
	if err := l.waitTunnels(ctx, 30*time.Second); err != nil {
		return err
	}
	done()
	if slices.ContainsFunc(l.state.Nodes, func(n *Node) bool { return n.Bird }) {
		done = l.step("waiting for the BGP sessions")
		if err := l.waitBGP(ctx, 60*time.Second); err != nil {
			return err
		}
		done()
	}
	for _, h := range net.Lab.Hosts {
		if h.Client == nil {
			continue
		}
		done := l.step("road warrior %s: charon, connect to %s", h.Name, h.Client.Name)
		if err := l.roadWarrior(ctx, h, pk, reader); err != nil {
			return err
		}
		done()
	}
	return l.state.Save(l.opts.Dir)
}

// sh runs a command in a namespace.
func (l *Lab) sh(ctx context.Context, ns string, argv ...string) error {
	_, err := netns.Run(ctx, ns, argv[0], argv[1:]...)
	return err
}

// labSecrets reads real secrets and makes up lab-only random keys for the
// ones that are not available here (stored in the lab directory, 0600).
type labSecrets struct {
	real secret.OS
	dir  string
}

func (s *labSecrets) ReadSecret(sec *topology.Secret) ([]byte, error) {
	v, err := s.real.ReadSecret(sec)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return v, err
	}
	path := filepath.Join(s.dir, secret.FallbackName(sec))
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if err := secret.Generate(path); err != nil {
			return nil, err
		}
	}
	return s.real.ReadSecret(&topology.Secret{File: path})
}

// gateway starts the charon of g and configures it with styx apply's engine.
func (l *Lab) gateway(ctx context.Context, g *topology.Gateway, reader *labSecrets, pk *labPKI) error {
	n := l.state.Node(g.Name)
	gw, err := plan.Build(l.net, g.Name, plan.Options{External: true})
	if err != nil {
		return err
	}
	if l.state.Dataplane == "libipsec" {
		withoutGRE(gw)
	}
	files, err := render.Gateway(gw, render.Options{Source: l.state.File, Secrets: reader})
	if err != nil {
		return err
	}
	var frag []byte
	for _, f := range files {
		if f.Path == render.StrongswanFrg {
			frag = f.Data
		}
	}
	// keep the rendered files next to the charon for inspection
	if err := writeFiles(filepath.Join(n.Dir, "rendered"), files); err != nil {
		return err
	}
	dp := charon.Kernel
	if gw.Dataplane == topology.Libipsec {
		dp = charon.Libipsec
	}
	inst, err := charon.Start(ctx, charon.Config{NetNS: n.NS, Dir: n.Dir, Dataplane: dp, Fragment: frag, Detached: true})
	if err != nil {
		return err
	}
	l.state.Procs = slices.DeleteFunc(l.state.Procs, func(p Proc) bool { return p.Name == "charon "+g.Name })
	l.state.Procs = append(l.state.Procs, Proc{Name: "charon " + g.Name, NS: n.NS, PID: inst.PID()})
	l.state.Save(l.opts.Dir)
	d := apply.Desired{Gateway: gw, Nft: nft.Render(gw, filepath.Base(l.state.File)), Secrets: map[string][]byte{}, Commands: apply.Commands(gw)}
	for _, s := range gw.Secrets {
		v, err := reader.ReadSecret(s.Source)
		if err != nil {
			return fmt.Errorf("gateway %s: secret %s: %w", g.Name, s.Name, err)
		}
		d.Secrets[s.Name] = v
	}
	client := vici.New(inst.Socket())
	defer client.Close()
	run := apply.Exec{NetNS: n.NS}
	readCert, err := pk.gatewayFiles(gw)
	if err != nil {
		return err
	}
	e := &apply.Engine{
		Store: apply.ViciStore{C: client}, Creds: apply.ViciStore{C: client},
		Firewall: apply.Nft{R: run}, Sysctls: apply.ProcSysctls{NetNS: n.NS}, Runner: run,
		StateDir: filepath.Join(n.Dir, "state"), ReadFile: readCert,
	}
	if gw.BGP != nil && len(gw.BGP.Neighbors) > 0 {
		r, err := l.startBird(ctx, n, gw.BGP)
		if err != nil {
			return fmt.Errorf("gateway %s: %w", g.Name, err)
		}
		e.Router = r
		d.Bird = bird.LogTo(bird.Render(gw.BGP, gw.Name, filepath.Base(l.state.File)), filepath.Join(n.Dir, "bird.log"))
	}
	if _, err := e.Apply(ctx, d); err != nil {
		return fmt.Errorf("gateway %s: %w\ncharon log:\n%s", g.Name, err, inst.LogTail(15))
	}
	return nil
}

func writeFiles(dir string, files []render.File) error {
	for _, f := range files {
		p := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			return err
		}
	}
	return nil
}

// startAgent runs `styx lab-agent ARGS` detached in a namespace.
func (l *Lab) startAgent(ns, name string, args ...string) error {
	logf, err := os.OpenFile(filepath.Join(l.opts.Dir, "agent-"+name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, l.opts.Agent, "lab-agent"}, args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return err
	}
	l.state.Procs = append(l.state.Procs, Proc{Name: "agent " + name, NS: ns, PID: cmd.Process.Pid})
	go cmd.Wait()
	return nil
}

func (l *Lab) services(ctx context.Context) error {
	var waits []wait
	// gateways serve the ports that allow: flows open to them (DNS for VPN users)
	for _, g := range l.net.Gateways {
		var ports []topology.Port
		for _, f := range l.net.Flows {
			for _, to := range f.To {
				if to.Kind == "gateway-self" && to.Gateway == g {
					for _, p := range f.Ports {
						if p.From != 0 && (p.Proto == "tcp" || p.Proto == "udp") {
							ports = append(ports, p)
						}
					}
				}
			}
		}
		n := l.state.Node(g.Name)
		args := []string{"serve", "--name", g.Name, "--sink", filepath.Join(l.opts.Dir, "sink-"+g.Name+".log")}
		for _, p := range ports {
			args = append(args, "--listen", fmt.Sprintf("%s/%d", p.Proto, p.From))
		}
		if err := l.startAgent(n.NS, g.Name, args...); err != nil {
			return err
		}
		waits = append(waits, wait{"gateway " + g.Name, n.NS, ports})
	}
	for _, h := range l.net.Lab.Hosts {
		if h.Behind == nil && len(h.Serve) == 0 {
			continue
		}
		n := l.state.Node(h.Name)
		args := []string{"serve", "--name", h.Name, "--sink", filepath.Join(l.opts.Dir, "sink-"+h.Name+".log")}
		for _, p := range h.Serve {
			args = append(args, "--listen", fmt.Sprintf("%s/%d", p.Proto, p.From))
		}
		if err := l.startAgent(n.NS, h.Name, args...); err != nil {
			return err
		}
		waits = append(waits, wait{"lab host " + h.Name, n.NS, h.Serve})
	}
	// all agents start in parallel; then wait for each to listen
	for _, w := range waits {
		if err := waitListening(ctx, w.ns, w.ports); err != nil {
			return fmt.Errorf("%s: %w", w.what, err)
		}
	}
	return nil
}

type wait struct {
	what  string
	ns    string
	ports []topology.Port
}

func waitListening(ctx context.Context, ns string, ports []topology.Port) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		open, err := listening(ns)
		ok := err == nil
		for _, p := range append(ports, topology.Port{Proto: "udp", From: SinkPort}, topology.Port{Proto: "udp", From: EchoPort}) {
			ok = ok && open[fmt.Sprintf("%s/%d", p.Proto, p.From)]
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("services did not start listening (%v)", ports)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// listening returns the TCP ports listening and the UDP ports bound in
// namespace ns ("tcp/22", "udp/9998"), read from /proc/net without
// starting a process.
func listening(ns string) (map[string]bool, error) {
	open := map[string]bool{}
	err := netns.Do(ns, func() error {
		for _, f := range []string{"tcp", "tcp6", "udp", "udp6"} {
			b, err := os.ReadFile("/proc/thread-self/net/" + f)
			if err != nil {
				return err
			}
			for _, line := range strings.Split(string(b), "\n")[1:] {
				fs := strings.Fields(line)
				if len(fs) < 4 || strings.HasPrefix(f, "tcp") && fs[3] != "0A" { // 0A: LISTEN
					continue
				}
				_, hexPort, _ := strings.Cut(fs[1], ":")
				if port, err := strconv.ParseUint(hexPort, 16, 16); err == nil {
					open[fmt.Sprintf("%s/%d", strings.TrimSuffix(f, "6"), port)] = true
				}
			}
		}
		return nil
	})
	return open, err
}

// waitTunnels waits until every child of every initiating connection is
// installed, or fails with the log excerpt of the initiator.
func (l *Lab) waitTunnels(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, t := range l.net.Tunnels {
		for _, e := range t.Ends {
			if !e.Initiator || t.Start == "none" {
				continue
			}
			n := l.state.Node(e.Gateway.Name)
			client := vici.New(filepath.Join(n.Dir, "run", "charon.vici"))
			kicked := false
			for {
				sas, err := client.ListSAs(ctx, t.Name)
				if err == nil && childrenUp(sas, t) {
					break
				}
				// gateways are configured one after the other: an initiator
				// may have tried before its peer had the connection (and
				// given up, keyingtries 1); now that all are configured,
				// initiate once more
				if err == nil && len(sas) == 0 && !kicked {
					kicked = true
					for _, c := range t.Children {
						client.Initiate(ctx, t.Name, c.Name)
					}
					continue
				}
				if time.Now().After(deadline) {
					client.Close()
					tester := &Tester{Net: l.net, State: l.state}
					cause := tester.diagnose(t)
					if cause == "" {
						cause = "no known failure in the logs"
					}
					return fmt.Errorf("tunnel %s did not come up within %s (initiator %s): %s\nlast lines of the charon log of %s (styx lab logs shows all):\n%s", t.Name, timeout, e.Gateway.Name, cause, e.Gateway.Name, logTail(n.Dir, 12))
				}
				time.Sleep(100 * time.Millisecond)
			}
			client.Close()
		}
	}
	return nil
}

func childrenUp(sas []vici.IKESA, t *topology.Tunnel) bool {
	for _, c := range t.Children {
		up := false
		for _, sa := range sas {
			if sa.State != "ESTABLISHED" {
				continue
			}
			up = up || slices.ContainsFunc(sa.Children, func(ch vici.ChildSA) bool { return ch.Name == c.Name && ch.State == "INSTALLED" })
		}
		if !up {
			return false
		}
	}
	return true
}

func logTail(dir string, n int) string {
	b, err := os.ReadFile(filepath.Join(dir, "charon.log"))
	if err != nil {
		return "(no log)"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
