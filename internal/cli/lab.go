package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kong"

	"github.com/styx-vpn/styx/internal/lab"
	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/topology"
	"github.com/styx-vpn/styx/internal/vm"
)

// LabCmd groups the lab subcommands.
type LabCmd struct {
	Up     LabUpCmd     `cmd:"" help:"Build the network of a topology file on this host and bring its tunnels up."`
	Test   LabTestCmd   `cmd:"" help:"Run the file's expectations against the running lab."`
	Down   LabDownCmd   `cmd:"" help:"Remove the lab: processes, namespaces, files."`
	Status LabStatusCmd `cmd:"" help:"Show the lab's nodes, processes and tunnels."`
	Exec   LabExecCmd   `cmd:"" help:"Run a command inside a lab node (for gateways with their private /run)."`
	Logs   LabLogsCmd   `cmd:"" help:"Show a lab gateway's charon (or BIRD) log."`
}

// Help is the long help of styx lab.
func (LabCmd) Help() string {
	return `The lab builds a topology's whole network on this host, in network
namespaces: one per gateway, per lab host and one "internet" router; one
real charon per gateway, configured with the same code as styx apply; and
small built-in services on the lab hosts. Then it proves the design with
traffic: reachability, encryption on the wire, spoofing. Needs root.

With --vm, the lab runs inside a QEMU VM with Debian's kernel (kernel ESP,
XFRM interfaces, GRE, BIRD): the tier for route-based tunnels, BGP and the
kernel-variant firewall. The same lab commands then reach it.

Examples:
  styx lab up examples/s1-iot-cloud.yaml
  styx lab test examples/s1-iot-cloud.yaml
  styx lab exec examples/s1-iot-cloud.yaml cloud -- swanctl --list-sas
  styx lab down examples/s1-iot-cloud.yaml
  styx lab up --vm examples/s2-route-based-bgp.yaml
  styx lab up --vm --test --down examples/s5-cloud-vm-gre.yaml`
}

type labFile struct {
	File string `arg:"" help:"Topology file." type:"path"`
	Dir  string `help:"Lab directory (default /var/tmp/styx-lab/<id>)." type:"path"`
}

func (f *labFile) dir() string {
	if f.Dir != "" {
		return f.Dir
	}
	return lab.DefaultDir(lab.ID(f.File))
}

func needRoot() error {
	if os.Geteuid() != 0 {
		return exitf(ExitProblem, "the lab needs root (network namespaces, charon); run it with sudo")
	}
	return nil
}

// LabUpCmd builds the lab.
type LabUpCmd struct {
	labFile
	Dataplane string `help:"Force the data plane: kernel or libipsec (default: detect)." enum:",kernel,libipsec" default:""`
	Test      bool   `help:"Run styx lab test right after."`
	Down      bool   `help:"With --test: remove the lab afterwards."`
	Format    string `help:"Test result format: table or json." enum:"table,json" default:"table"`
	Keep      bool   `name:"keep-on-failure" help:"Leave a lab that failed to come up in place, for styx lab logs and exec."`
	VM        bool   `name:"vm" help:"Run the lab inside a QEMU VM with Debian's kernel (kernel ESP, XFRM interfaces, VTI, GRE); lab test, exec, logs, status and down then reach it there. With --test --down: up, test and down in one boot."`
}

// Run builds the lab.
func (c *LabUpCmd) Run(env *Env) error {
	if err := needRoot(); err != nil {
		return err
	}
	if c.Down && !c.Test {
		return exitf(ExitUsage, "--down removes the lab after --test; without tests use styx lab down")
	}
	if c.VM && c.Test && c.Down {
		return runInVM(env, c.File, c.Format)
	}
	if c.VM {
		return startVMLab(env, c)
	}
	if _, ok := vm.OpenSession(lab.ID(c.File)); ok {
		return exitf(ExitProblem, "lab %s runs in the VM tier; styx lab down %s first", lab.ID(c.File), displayName(c.File))
	}
	net, err := loadChecked(env, c.File)
	if err != nil {
		return err
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	fmt.Fprintf(env.Stdout, "lab %s: building %s\n", lab.ID(c.File), displayName(c.File))
	st, err := lab.Up(ctx, net, c.File, lab.Options{Dir: c.dir(), Dataplane: c.Dataplane, Out: env.Stdout, Getenv: env.Getenv, SourceDir: filepath.Dir(c.File), KeepOnFailure: c.Keep})
	if err != nil {
		return exitf(ExitProblem, "lab up: %v", err)
	}
	if !c.Test {
		fmt.Fprintf(env.Stdout, "next: styx lab test %s   (styx lab down %s removes it)\n", displayName(c.File), displayName(c.File))
		return nil
	}
	err = runLabTests(ctx, env, net, st, c.dir(), c.Format)
	if c.Down {
		lab.Down(context.Background(), st.ID, c.dir(), env.Stdout)
	}
	return err
}

// LabTestCmd runs the expectations.
type LabTestCmd struct {
	labFile
	Format string `help:"Output format: table or json." enum:"table,json" default:"table"`
	VM     bool   `name:"vm" help:"Without a lab in the VM tier: up, test and down in one VM boot (same as lab up --vm --test --down)."`
}

// Run tests.
func (c *LabTestCmd) Run(env *Env) error {
	if err := needRoot(); err != nil {
		return err
	}
	if s, ok := vm.OpenSession(lab.ID(c.File)); ok {
		return forwardToVM(env, s, c.File, "test", "--format", c.Format)
	}
	if c.VM {
		return runInVM(env, c.File, c.Format)
	}
	net, err := loadChecked(env, c.File)
	if err != nil {
		return err
	}
	st, err := lab.LoadState(c.dir())
	if err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	return runLabTests(context.Background(), env, net, st, c.dir(), c.Format)
}

func runLabTests(ctx context.Context, env *Env, net *topology.Network, st *lab.State, dir, format string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	t := &lab.Tester{Net: net, State: st, Dir: dir, Agent: exe}
	results := t.Run(ctx)
	failed, skipped := 0, 0
	for _, r := range results {
		switch {
		case r.Skip:
			skipped++
		case !r.Pass:
			failed++
		}
	}
	if format == "json" {
		b, _ := json.MarshalIndent(struct {
			Lab       string       `json:"lab"`
			Dataplane string       `json:"dataplane"`
			Results   []lab.Result `json:"results"`
			Skipped   []string     `json:"skipped_parts,omitempty"`
			Passed    int          `json:"passed"`
			Failed    int          `json:"failed"`
			Skips     int          `json:"skipped"`
		}{st.ID, st.Dataplane, results, st.Skipped, len(results) - failed - skipped, failed, skipped}, "", "  ")
		fmt.Fprintln(env.Stdout, string(b))
	} else {
		fmt.Fprintf(env.Stdout, "lab %s tests (data plane: %s; firewall variant: %s)\n", st.ID, st.Dataplane, st.Dataplane)
		tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "RESULT\tTEST\tKIND\tTIME\tDETAIL")
		for _, r := range results {
			res := "PASS"
			switch {
			case r.Skip:
				res = "SKIP"
			case !r.Pass:
				res = "FAIL"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.2fs\t%s\n", res, r.Name, r.Kind, r.Seconds, r.Detail)
		}
		tw.Flush()
		for _, s := range st.Skipped {
			fmt.Fprintf(env.Stdout, "not tested here: %s (run it in the VM tier)\n", s)
		}
		fmt.Fprintf(env.Stdout, "%d passed, %d failed, %d skipped\n", len(results)-failed-skipped, failed, skipped)
	}
	if failed > 0 {
		return &exitError{code: ExitProblem}
	}
	return nil
}

// LabDownCmd removes the lab.
type LabDownCmd struct {
	labFile
}

// Run removes the lab.
func (c *LabDownCmd) Run(env *Env) error {
	if err := needRoot(); err != nil {
		return err
	}
	if s, ok := vm.OpenSession(lab.ID(c.File)); ok {
		return stopVMLab(env, s, c.File)
	}
	if err := lab.Down(context.Background(), lab.ID(c.File), c.dir(), env.Stdout); err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	return nil
}

// LabStatusCmd shows the lab.
type LabStatusCmd struct {
	labFile
}

// Run shows the status.
func (c *LabStatusCmd) Run(env *Env) error {
	if err := needRoot(); err != nil {
		return err
	}
	if s, ok := vm.OpenSession(lab.ID(c.File)); ok {
		return forwardToVM(env, s, c.File, "status")
	}
	st, err := lab.LoadState(c.dir())
	if err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	fmt.Fprintf(env.Stdout, "lab %s (%s), data plane %s\n", st.ID, st.File, st.Dataplane)
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NODE\tKIND\tNAMESPACE\tADDRESSES\tSTATE")
	for _, n := range st.Nodes {
		state := "missing"
		if netns.Exists(n.NS) {
			state = "ok"
		}
		for _, p := range st.Procs {
			if p.NS == n.NS && syscall.Kill(p.PID, 0) != nil {
				state = p.Name + " not running"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", n.Name, n.Kind, n.NS, strings.Join(append(append([]string{}, n.Addrs...), n.LANAddrs...), " "), state)
	}
	return tw.Flush()
}

// args is the command to run: the arguments after --, or a shell.
func (c *LabExecCmd) args() []string {
	args := c.Command
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		args = []string{"sh"}
	}
	return args
}

// LabExecCmd runs a command in a node.
type LabExecCmd struct {
	labFile
	Node    string   `arg:"" help:"Lab node (gateway, host, or internet)."`
	Command []string `arg:"" passthrough:"" help:"Command and arguments (after --)."`
}

// Run executes the command.
func (c *LabExecCmd) Run(env *Env) error {
	if err := needRoot(); err != nil {
		return err
	}
	if s, ok := vm.OpenSession(lab.ID(c.File)); ok {
		return forwardToVM(env, s, c.File, "exec", append([]string{c.Node, "--"}, c.args()...)...)
	}
	st, err := lab.LoadState(c.dir())
	if err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	n := st.Node(c.Node)
	if n == nil {
		return exitf(ExitUsage, "no node %q in lab %s (nodes: %s)", c.Node, st.ID, strings.Join(st.Names(), ", "))
	}
	args := c.args()
	var cmd *exec.Cmd
	if n.Kind == "gateway" {
		// the gateway's private /run: charon's default VICI socket, pid file
		script := fmt.Sprintf("mount --bind %q /run && exec \"$@\"", filepath.Join(n.Dir, "run"))
		cmd = exec.Command("ip", append([]string{"netns", "exec", n.NS, "sh", "-c", script, "sh"}, args...)...)
		cmd.Env = append(execEnv(), "STRONGSWAN_CONF="+filepath.Join(n.Dir, "strongswan.conf"), "SWANCTL_DIR="+filepath.Join(n.Dir, "rendered", "swanctl"),
			"STYX_DATAPLANE="+st.Dataplane, "STYX_LAB_SECRETS="+filepath.Join(c.dir(), "secrets"), "STYX_STATE="+filepath.Join(n.Dir, "state"))
		if n.Bird {
			cmd.Env = append(cmd.Env, "STYX_BIRD_CONF="+filepath.Join(n.Dir, "bird.conf"), "STYX_BIRD_SOCKET="+filepath.Join(n.Dir, "bird.ctl"))
		} else {
			cmd.Env = append(cmd.Env, "STYX_BIRD_CONF=none", "STYX_BIRD_SOCKET=none")
		}
		if st.Rekey > 0 {
			cmd.Env = append(cmd.Env, "STYX_LAB_REKEY="+st.Rekey.String())
		}
	} else {
		cmd = exec.Command("ip", append([]string{"netns", "exec", n.NS}, args...)...)
		cmd.Env = execEnv()
	}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, env.Stdout, env.Stderr
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return &exitError{code: ee.ExitCode()}
		}
		return exitf(ExitProblem, "%v", err)
	}
	return nil
}

// execEnv is the environment of a command in a lab node: this one, with
// the directory of the running styx binary first in PATH, so that `styx`
// in the command is this styx even when it is not installed.
func execEnv() []string {
	env := os.Environ()
	exe, err := os.Executable()
	if err != nil {
		return env
	}
	path := filepath.Dir(exe)
	if p, ok := os.LookupEnv("PATH"); ok && p != "" {
		path += string(os.PathListSeparator) + p
	}
	return append(env, "PATH="+path)
}

// LabLogsCmd prints a gateway's charon log.
type LabLogsCmd struct {
	labFile
	Gateway string `arg:"" help:"Lab gateway."`
	Lines   int    `short:"n" help:"Show only the last N lines (0 = all)." default:"0"`
	Bird    bool   `help:"Show the gateway's BIRD log instead of charon's."`
}

// Run prints the log.
func (c *LabLogsCmd) Run(env *Env) error {
	if err := needRoot(); err != nil {
		return err
	}
	if s, ok := vm.OpenSession(lab.ID(c.File)); ok {
		args := []string{c.Gateway, "-n", strconv.Itoa(c.Lines)}
		if c.Bird {
			args = append(args, "--bird")
		}
		return forwardToVM(env, s, c.File, "logs", args...)
	}
	st, err := lab.LoadState(c.dir())
	if err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	n := st.Node(c.Gateway)
	if n == nil || n.Kind != "gateway" {
		return exitf(ExitUsage, "no gateway %q in lab %s", c.Gateway, st.ID)
	}
	log := "charon.log"
	if c.Bird {
		if !n.Bird {
			return exitf(ExitUsage, "gateway %s runs no BIRD in lab %s (no BGP sessions on this data plane)", c.Gateway, st.ID)
		}
		log = "bird.log"
	}
	b, err := os.ReadFile(filepath.Join(n.Dir, log))
	if err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if c.Lines > 0 && len(lines) > c.Lines {
		lines = lines[len(lines)-c.Lines:]
	}
	fmt.Fprintln(env.Stdout, strings.Join(lines, "\n"))
	return nil
}

// LabAgentCmd is what the lab runs inside namespaces.
type LabAgentCmd struct {
	Serve struct {
		Name   string   `required:""`
		Listen []string `help:"proto/port to serve."`
		Sink   string   `required:""`
	} `cmd:"" help:"Serve lab services."`
	Probe struct {
		To      string        `required:""`
		Marker  string        `required:""`
		Timeout time.Duration `default:"2s"`
	} `cmd:"" help:"Connect to a service."`
	Request struct {
		To    string        `required:""`
		Count int           `default:"5"`
		Every time.Duration `default:"1s"`
	} `cmd:"" help:"Request a service repeatedly and print the answers."`
	Ping struct {
		To       string        `required:""`
		Interval time.Duration `default:"100ms"`
		Duration time.Duration `default:"5s"`
		Flows    int           `default:"1"`
	} `cmd:"" help:"Continuous UDP probe; prints sent and received."`
	McastListen struct {
		Iface    string        `required:""`
		Group    string        `required:""`
		Port     int           `required:""`
		Duration time.Duration `default:"4s"`
	} `cmd:"" help:"Join a multicast group on an interface and print what arrives."`
	McastSend struct {
		Iface    string        `required:""`
		Group    string        `required:""`
		Port     int           `required:""`
		Payload  string        `required:""`
		Count    int           `default:"5"`
		Interval time.Duration `default:"200ms"`
	} `cmd:"" help:"Send datagrams to a multicast group out of an interface."`
	VMServe struct {
		Dir string `required:""`
	} `cmd:"" name:"vm-serve" help:"Inside a VM session: run the commands the host drops into DIR."`
	Spoof struct {
		Src    string `required:""`
		Dst    string `required:""`
		Port   uint16 `required:""`
		Marker string `required:""`
	} `cmd:"" help:"Send a UDP packet with a forged source."`
}

// Run dispatches the agent subcommands.
func (c *LabAgentCmd) Run(env *Env, kctx *kong.Context) error {
	switch kctx.Command() {
	case "lab-agent serve":
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer cancel()
		return lab.Serve(ctx, c.Serve.Name, c.Serve.Listen, c.Serve.Sink)
	case "lab-agent probe":
		if err := lab.Probe(c.Probe.To, c.Probe.Marker, c.Probe.Timeout); err != nil {
			return exitf(ExitProblem, "%v", err)
		}
		fmt.Fprintln(env.Stdout, "ok")
		return nil
	case "lab-agent request":
		failed := 0
		for i := 0; i < c.Request.Count; i++ {
			if i > 0 {
				time.Sleep(c.Request.Every)
			}
			answer, err := lab.Request(c.Request.To, 2*time.Second)
			if err != nil {
				failed++
				fmt.Fprintf(env.Stdout, "%s  %s: %v\n", time.Now().Format("15:04:05"), c.Request.To, err)
				continue
			}
			fmt.Fprintf(env.Stdout, "%s  %s\n", time.Now().Format("15:04:05"), answer)
		}
		if failed > 0 {
			return exitf(ExitProblem, "%d of %d requests failed", failed, c.Request.Count)
		}
		return nil
	case "lab-agent ping":
		sent, recv, err := lab.Ping(c.Ping.To, c.Ping.Interval, c.Ping.Duration, c.Ping.Flows)
		if err != nil {
			return exitf(ExitProblem, "%v", err)
		}
		fmt.Fprintf(env.Stdout, "sent %d received %d lost %d\n", sent, recv, sent-recv)
		return nil
	case "lab-agent mcast-listen":
		group, err := netip.ParseAddr(c.McastListen.Group)
		if err != nil {
			return exitf(ExitUsage, "bad group: %v", err)
		}
		got, err := lab.McastListen(c.McastListen.Iface, group, c.McastListen.Port, c.McastListen.Duration)
		if err != nil {
			return exitf(ExitProblem, "%v", err)
		}
		for _, p := range got {
			fmt.Fprintln(env.Stdout, p)
		}
		return nil
	case "lab-agent mcast-send":
		group, err := netip.ParseAddr(c.McastSend.Group)
		if err != nil {
			return exitf(ExitUsage, "bad group: %v", err)
		}
		if err := lab.McastSend(c.McastSend.Iface, group, c.McastSend.Port, []byte(c.McastSend.Payload), c.McastSend.Count, c.McastSend.Interval); err != nil {
			return exitf(ExitProblem, "%v", err)
		}
		return nil
	case "lab-agent vm-serve":
		if err := vm.Serve(c.VMServe.Dir); err != nil {
			return exitf(ExitProblem, "%v", err)
		}
		return nil
	case "lab-agent spoof":
		src, err1 := netip.ParseAddr(c.Spoof.Src)
		dst, err2 := netip.ParseAddr(c.Spoof.Dst)
		if err1 != nil || err2 != nil {
			return exitf(ExitUsage, "bad address")
		}
		return lab.Spoof(src, dst, c.Spoof.Port, []byte(c.Spoof.Marker))
	}
	return exitf(ExitUsage, "unknown agent command")
}

// runInVM runs lab up --test --down on the kernel data plane inside a VM.
func runInVM(env *Env, file, format string) error {
	if _, err := loadChecked(env, file); err != nil {
		return err
	}
	if err := vm.Available(); err != nil {
		return exitf(ExitProblem, "the VM tier cannot run here: %v", err)
	}
	exe, abs, wd, err := vmPaths(file)
	if err != nil {
		return err
	}
	if _, ok := vm.OpenSession(lab.ID(file)); ok {
		return exitf(ExitProblem, "lab %s is up in the VM tier: use styx lab test %s, or styx lab down %s first", lab.ID(file), displayName(file), displayName(file))
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	fmt.Fprintf(env.Stdout, "lab %s: VM tier (kernel data plane, kernel-variant firewall)\n", lab.ID(file))
	args := []string{"lab", "up", abs, "--dir", vmLabDir, "--dataplane", "kernel", "--test", "--down", "--format", format}
	code, err := vm.Run(ctx, vm.Options{Dir: vm.DefaultDir, Styx: exe, Args: args, Workdir: wd, Out: env.Stdout})
	if err != nil {
		return exitf(ExitProblem, "lab in a VM: %v", err)
	}
	fmt.Fprintf(env.Stdout, "results above are from the VM tier (Debian kernel, kernel ESP)\n")
	if code != 0 {
		return &exitError{code: ExitProblem}
	}
	return nil
}

// vmLabDir is the lab directory inside the VM (a tmpfs there).
const vmLabDir = "/tmp/styx-lab"

// vmPaths returns this executable (the VM runs a copy of it), the
// topology file as the VM sees it (vm.GuestPath), and the working
// directory as the VM sees it ("/" when the VM does not see it).
func vmPaths(file string) (exe, guest, wd string, err error) {
	if exe, err = os.Executable(); err != nil {
		return "", "", "", err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", "", "", err
	}
	if guest, err = vm.GuestPath(abs); err != nil {
		return "", "", "", exitf(ExitUsage, "%v: put the topology file (and what it references) elsewhere", err)
	}
	wd = "/"
	if here, err := os.Getwd(); err == nil {
		if g, err := vm.GuestPath(here); err == nil {
			wd = g
		}
	}
	return exe, guest, wd, nil
}

// startVMLab boots a VM that keeps the lab up; lab test, exec, logs,
// status and down then reach it through the VM's control directory.
func startVMLab(env *Env, c *LabUpCmd) error {
	if _, err := loadChecked(env, c.File); err != nil {
		return err
	}
	if err := vm.Available(); err != nil {
		return exitf(ExitProblem, "the VM tier cannot run here: %v", err)
	}
	exe, abs, wd, err := vmPaths(c.File)
	if err != nil {
		return err
	}
	id := lab.ID(c.File)
	if _, err := lab.LoadState(c.dir()); err == nil {
		return exitf(ExitProblem, "lab %s is up on this host; styx lab down %s first", id, displayName(c.File))
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	fmt.Fprintf(env.Stdout, "lab %s: VM tier (kernel data plane, kernel-variant firewall)\n", id)
	args := []string{"lab", "up", abs, "--dir", vmLabDir, "--dataplane", "kernel"}
	s, code, err := vm.StartSession(ctx, id, vm.Options{Styx: exe, Args: args, Workdir: wd, Out: env.Stdout})
	switch {
	case errors.Is(err, context.Canceled):
		return exitf(ExitProblem, "lab up --vm interrupted; the VM is stopped and its files removed")
	case err != nil:
		return exitf(ExitProblem, "lab in a VM: %v (the VM is stopped and its files removed)", err)
	case code != 0:
		return exitf(ExitProblem, "lab up failed in the VM (exit %d); the VM is stopped and its files removed", code)
	}
	fmt.Fprintf(env.Stdout, "lab %s is up in the VM tier (qemu pid %d, control directory %s)\n", id, s.PID, s.Dir)
	if !c.Test {
		fmt.Fprintf(env.Stdout, "next: styx lab test %s   (lab exec, logs, status reach the VM; styx lab down %s stops it)\n", displayName(c.File), displayName(c.File))
		return nil
	}
	return forwardToVM(env, s, c.File, "test", "--format", c.Format)
}

// forwardToVM runs `styx lab SUB FILE --dir DIR ARGS...` in the VM of a
// lab in the VM tier and exits with its status.
func forwardToVM(env *Env, s *vm.Session, file, sub string, args ...string) error {
	_, abs, _, err := vmPaths(file)
	if err != nil {
		return err
	}
	if !s.Alive() {
		return exitf(ExitProblem, "lab %s was in the VM tier, but its VM is not running; styx lab down %s removes what is left", lab.ID(file), displayName(file))
	}
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	// the guest runs its own copy of styx, taken when the VM started
	argv := append([]string{s.Styx(), "lab", sub, abs, "--dir", vmLabDir}, args...)
	if sub == "exec" {
		// the node and the command follow the file and the flags
		argv = append([]string{s.Styx(), "lab", sub, "--dir", vmLabDir, abs}, args...)
	}
	code, err := s.Exec(ctx, argv, env.Stdout)
	if err != nil {
		return exitf(ExitProblem, "lab %s in the VM: %v", lab.ID(file), err)
	}
	if sub == "test" || sub == "status" {
		fmt.Fprintln(env.Stderr, "(from the VM tier: Debian kernel, kernel ESP)")
	}
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// stopVMLab removes a lab in the VM tier: lab down inside, then the VM is
// powered off and its control directory removed.
func stopVMLab(env *Env, s *vm.Session, file string) error {
	if s.Alive() {
		if err := forwardToVM(env, s, file, "down"); err != nil {
			fmt.Fprintf(env.Stderr, "lab down in the VM failed (%v); stopping the VM anyway\n", exitText(err))
		}
	}
	if err := s.Stop(30 * time.Second); err != nil {
		return exitf(ExitProblem, "removing %s: %v", s.Dir, err)
	}
	fmt.Fprintf(env.Stdout, "lab %s: VM stopped, %s removed\n", lab.ID(file), s.Dir)
	return nil
}

// exitText describes an error that may carry only an exit status.
func exitText(err error) string {
	var ee *exitError
	if errors.As(err, &ee) && ee.Error() == "" {
		return fmt.Sprintf("exit %d", ee.code)
	}
	return err.Error()
}
