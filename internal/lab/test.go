package lab

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/topology"
)

// Result is the outcome of one lab test.
type Result struct {
	Name     string  `json:"name"`
	Kind     string  `json:"kind"` // reachability, encryption, spoofing, tunnel
	Pass     bool    `json:"pass"`
	Skip     bool    `json:"skip,omitempty"`
	Detail   string  `json:"detail"`
	Seconds  float64 `json:"seconds"`
	Expected string  `json:"expected,omitempty"`
}

// Tester runs a lab's expectations.
type Tester struct {
	Net   *topology.Network
	State *State
	Dir   string
	Agent string
}

func marker() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "styx-marker-" + hex.EncodeToString(b)
}

// Run runs every test: tunnels up, the file's expectations (with an
// encryption check where asked), and a spoofing test per protected lan.
func (t *Tester) Run(ctx context.Context) []Result {
	Adapt(t.Net, t.State.Dataplane)
	var out []Result
	out = append(out, t.tunnels(ctx)...)
	for _, e := range t.Net.Lab.Expect {
		out = append(out, t.expect(ctx, e))
	}
	out = append(out, t.spoofing(ctx)...)
	out = append(out, t.bgpTests(ctx)...)
	for _, m := range t.greMcastPaths() {
		if t.State.Dataplane == "libipsec" {
			out = append(out, Result{Name: fmt.Sprintf("multicast %s -> %s over GRE %s/%s", m.from.Name, m.to.Name, m.tunnel, m.child), Kind: "multicast", Skip: true,
				Detail: "no GRE devices on the libipsec data plane (run it in the VM tier)"})
			continue
		}
		out = append(out, t.multicast(ctx, m))
	}
	if p := t.path(); p != nil {
		if t.Net.Lab.Rekey > 0 {
			out = append(out, t.rekey(ctx, p))
		}
		out = append(out, t.restart(ctx, p))
	}
	return out
}

// probePath is a host behind a tunnel's initiator and an address of the
// responder that the tunnel carries, for continuous probes.
type probePath struct {
	tunnel    *topology.Tunnel
	initiator *topology.Gateway
	host      *topology.LabHost
	target    netip.Addr
}

func (t *Tester) path() *probePath {
	for _, tun := range t.Net.Tunnels {
		for i, e := range tun.Ends {
			if !e.Initiator || tun.Start == "none" {
				continue
			}
			b := tun.Ends[topology.Other(i)].Gateway
			if b.Firewall == "drop" || e.Gateway.Firewall == "drop" || len(tun.Children) == 0 {
				continue
			}
			var host *topology.LabHost
			for _, h := range t.Net.Lab.Hosts {
				if h.Behind == e.Gateway && h.Address.Is4() {
					host = h
					break
				}
			}
			if host == nil {
				continue
			}
			bn := t.State.Node(b.Name)
			var cands []netip.Addr
			for _, a := range append(b.LocalAddrs(), b.Public...) {
				cands = append(cands, a)
			}
			for _, s := range bn.LANAddrs {
				if a, err := netip.ParseAddr(s); err == nil {
					cands = append(cands, a)
				}
			}
			for _, ts := range tun.Children[0].TS[topology.Other(i)] {
				for _, a := range cands {
					if !ts.Dynamic && ts.Prefix.Contains(a) && ts.Proto == "" && a.Is4() {
						return &probePath{tunnel: tun, initiator: e.Gateway, host: host, target: a}
					}
				}
			}
		}
	}
	return nil
}

func (t *Tester) ping(ctx context.Context, p *probePath, d time.Duration) (sent, recv int, err error) {
	out, err := netns.Run(ctx, t.State.Node(p.host.Name).NS, t.Agent, "lab-agent", "ping", "--to", netip.AddrPortFrom(p.target, EchoPort).String(), "--duration", d.String())
	if err != nil {
		return 0, 0, err
	}
	_, err = fmt.Sscanf(strings.TrimSpace(string(out)), "sent %d received %d", &sent, &recv)
	return sent, recv, err
}

func (t *Tester) childIDs(ctx context.Context, p *probePath) string {
	sas, err := listSAs(ctx, t.State.Node(p.initiator.Name), p.tunnel.Name)
	if err != nil {
		return ""
	}
	var ids []string
	for _, sa := range sas {
		for _, c := range sa.Children {
			ids = append(ids, c.Name+"#"+c.UniqueID)
		}
	}
	return strings.Join(ids, ",")
}

// rekey probes across CHILD_SA rekeys (lab.rekey) and requires no loss.
func (t *Tester) rekey(ctx context.Context, p *probePath) (r Result) {
	t0 := time.Now()
	r = Result{Name: fmt.Sprintf("%s -> %s across a rekey of %s", p.host.Name, p.target, p.tunnel.Name), Kind: "rekey"}
	defer func() { r.Seconds = time.Since(t0).Seconds() }()
	before := t.childIDs(ctx, p)
	sent, recv, err := t.ping(ctx, p, t.Net.Lab.Rekey*8/5)
	after := t.childIDs(ctx, p)
	switch {
	case err != nil:
		r.Detail = err.Error()
	case recv == 0 && sent > 0:
		r.Detail = fmt.Sprintf("none of %d probes was answered: the path is broken, not just the rekey (see the reachability tests; %s -> %s)", sent, before, after)
	case before == after:
		r.Detail = fmt.Sprintf("no rekey happened during the probe (%s)", after)
	case sent != recv:
		r.Detail = fmt.Sprintf("%d of %d probes lost while rekeying (%s -> %s)", sent-recv, sent, before, after)
	default:
		r.Pass, r.Detail = true, fmt.Sprintf("%d/%d probes answered while the CHILD_SA was rekeyed (%s -> %s)", recv, sent, before, after)
	}
	return r
}

// restart kills the initiator's charon, checks that nothing leaks in
// clear while it is down, restarts it and measures how long the tunnel
// takes to carry traffic again.
func (t *Tester) restart(ctx context.Context, p *probePath) (r Result) {
	t0 := time.Now()
	r = Result{Name: fmt.Sprintf("restart %s: %s -> %s", p.initiator.Name, p.host.Name, p.target), Kind: "restart"}
	defer func() { r.Seconds = time.Since(t0).Seconds() }()
	capture, err := startCapture(ctx, t.State.Node("internet").NS, filepath.Join(t.Dir, "capture-restart.pcap"))
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	defer capture.remove()
	KillGateway(t.State, p.initiator.Name)
	_, down, _ := t.ping(ctx, p, time.Second)
	pcap, _, err := capture.stop(ctx)
	if err != nil {
		r.Detail = "capture: " + err.Error()
		return r
	}
	if bytes.Contains(pcap, []byte("styx-ping")) {
		r.Detail = fmt.Sprintf("while charon of %s was down, probes went through in clear (%d answered)", p.initiator.Name, down)
		return r
	}
	// with the kernel data plane, the SAs stay in the kernel when charon
	// dies: probes may still be answered, encrypted
	downNote := "nothing in clear while down"
	if down > 0 {
		downNote = fmt.Sprintf("nothing in clear while down (%d probes still answered through the kernel's SAs)", down)
	}
	t1 := time.Now()
	if err := RestartGateway(ctx, t.Net, t.State, t.Dir, p.initiator.Name); err != nil {
		r.Detail = "restart: " + err.Error()
		return r
	}
	t.State.Save(t.Dir)
	for {
		sas, err := listSAs(ctx, t.State.Node(p.initiator.Name), p.tunnel.Name)
		if err == nil && childrenUp(sas, p.tunnel) {
			break
		}
		if time.Since(t1) > 30*time.Second {
			r.Detail = "the tunnel did not come back within 30s"
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	back := time.Since(t1)
	sent, recv, err := t.ping(ctx, p, time.Second)
	if err != nil || recv == 0 {
		r.Detail = fmt.Sprintf("tunnel up again after %.2fs but probes fail (%d/%d)", back.Seconds(), recv, sent)
		return r
	}
	r.Pass = true
	r.Detail = fmt.Sprintf("%s; tunnel back %.2fs after the restart; %d/%d probes answered", downNote, back.Seconds(), recv, sent)
	return r
}

func (t *Tester) tunnels(ctx context.Context) []Result {
	var out []Result
	for _, tun := range t.Net.Tunnels {
		for _, e := range tun.Ends {
			if !e.Initiator {
				continue
			}
			t0 := time.Now()
			n := t.State.Node(e.Gateway.Name)
			r := Result{Name: "tunnel " + tun.Name + " is up", Kind: "tunnel"}
			sas, err := listSAs(ctx, n, tun.Name)
			switch {
			case err != nil:
				r.Detail = err.Error()
			case childrenUp(sas, tun):
				r.Pass = true
				var algs []string
				for _, sa := range sas {
					algs = append(algs, fmt.Sprintf("IKE %s/%s/%s", sa.Encryption, sa.PRF, sa.DHGroup))
					for _, c := range sa.Children {
						algs = append(algs, fmt.Sprintf("%s %s %s encap=%v", c.Name, c.State, c.Encryption, c.Encap))
					}
				}
				r.Detail = strings.Join(algs, "; ")
			default:
				r.Detail = "children not installed"
				if cause := t.diagnose(tun); cause != "" {
					r.Detail += ": " + cause
				}
				r.Detail += "; see styx lab logs " + e.Gateway.Name
			}
			r.Seconds = time.Since(t0).Seconds()
			out = append(out, r)
		}
	}
	return out
}

// failurePatterns are charon log lines that explain a tunnel that is down.
var failurePatterns = regexp.MustCompile(`AUTHENTICATION_FAILED|authentication of .* failed|NO_PROPOSAL_CHOSEN|no acceptable proposal|TS_UNACCEPTABLE|traffic selectors .* unacceptable|no shared key found|peer not responding|giving up after|retransmit .* of request|error installing route|unable to install|unable to add|failed to establish CHILD_SA|no matching peer config|no IKE config found|received netlink error`)

// diagnose returns the most telling charon log line of either end of a
// tunnel that is down.
func (t *Tester) diagnose(tun *topology.Tunnel) string {
	var found []string
	for _, e := range tun.Ends {
		n := t.State.Node(e.Gateway.Name)
		if n == nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(n.Dir, "charon.log"))
		if err != nil {
			continue
		}
		lines := strings.Split(string(b), "\n")
		for i := len(lines) - 1; i >= 0 && i >= len(lines)-400; i-- {
			if failurePatterns.MatchString(lines[i]) {
				found = append(found, e.Gateway.Name+": "+strings.TrimSpace(lines[i]))
				break
			}
		}
	}
	return strings.Join(found, " | ")
}

// endpoint resolves an expectation target.
func (t *Tester) endpoint(to string) (topology.Endpoint, error) {
	for _, s := range t.Net.Services {
		if s.Name == to {
			return s.Publish, nil
		}
	}
	host, rest, _ := strings.Cut(to, ":")
	for _, g := range t.Net.Gateways {
		if g.Name == host && rest != "" && len(g.Public) > 0 {
			p, err := topology.ParsePort(rest)
			if err != nil {
				return topology.Endpoint{}, err
			}
			return topology.Endpoint{Addr: g.Public[0], Port: p.From, Proto: p.Proto}, nil
		}
	}
	for _, h := range t.Net.Lab.Hosts {
		if h.Name != host {
			continue
		}
		addr := h.Address
		if n := t.State.Node(h.Name); n != nil && len(n.Addrs) > 0 {
			addr, _ = netip.ParseAddr(n.Addrs[0])
			if n.Kind == "roadwarrior" {
				if len(n.LANAddrs) == 0 {
					return topology.Endpoint{}, fmt.Errorf("road warrior %s has no virtual IP", h.Name)
				}
				addr, _ = netip.ParseAddr(n.LANAddrs[0])
			}
		}
		if rest != "" {
			p, err := topology.ParsePort(rest)
			if err != nil {
				return topology.Endpoint{}, err
			}
			return topology.Endpoint{Addr: addr, Port: p.From, Proto: p.Proto}, nil
		}
		if len(h.Serve) == 0 {
			return topology.Endpoint{}, fmt.Errorf("lab host %s serves nothing; write %s:PORT/PROTO", h.Name, h.Name)
		}
		return topology.Endpoint{Addr: addr, Port: h.Serve[0].From, Proto: h.Serve[0].Proto}, nil
	}
	if ep, err := topology.ParseEndpoint(to, "tcp"); err == nil {
		return ep, nil
	}
	return topology.Endpoint{}, fmt.Errorf("expectation target %q: write host:PORT/PROTO, gateway:PORT/PROTO, a service name or ADDRESS:PORT/PROTO", to)
}

// sourceNS returns the namespace an expectation runs from.
func (t *Tester) sourceNS(from string) (string, error) {
	if from == "internet" {
		return t.State.Node("internet").NS, nil
	}
	if n := t.State.Node(from); n != nil {
		return n.NS, nil
	}
	return "", fmt.Errorf("unknown source %q", from)
}

// gatewayOf returns the gateway a lab host sits behind, or the gateway
// itself.
func (t *Tester) gatewayOf(name string) *topology.Gateway {
	for _, g := range t.Net.Gateways {
		if g.Name == name {
			return g
		}
	}
	for _, h := range t.Net.Lab.Hosts {
		if h.Name == name {
			if h.Behind != nil {
				return h.Behind
			}
			if h.Client != nil {
				return h.Client.Gateway
			}
		}
	}
	return nil
}

func (t *Tester) gatewayOfAddr(a netip.Addr) *topology.Gateway {
	for _, h := range t.Net.Lab.Hosts {
		if h.Address == a && h.Behind != nil {
			return h.Behind
		}
	}
	g, _ := t.lanOf(a)
	return g
}

// gatewayServing returns the gateway behind which a is: the gateway of
// the lab host or lan with that address, or the gateway with that public
// (or local) address, for services it publishes.
func (t *Tester) gatewayServing(a netip.Addr) *topology.Gateway {
	if g := t.gatewayOfAddr(a); g != nil {
		return g
	}
	for _, g := range t.Net.Gateways {
		if slices.Contains(g.Public, a) || slices.Contains(g.Local, a) {
			return g
		}
	}
	return nil
}

// lanOf returns the gateway whose lan contains a, if any.
func (t *Tester) lanOf(a netip.Addr) (*topology.Gateway, netip.Prefix) {
	for _, g := range t.Net.Gateways {
		for _, p := range g.LAN {
			if p.Contains(a) {
				return g, p
			}
		}
	}
	return nil, netip.Prefix{}
}

func (t *Tester) expect(ctx context.Context, e *topology.Expect) (r Result) {
	t0 := time.Now()
	r = Result{Name: e.Name, Kind: "reachability", Expected: map[bool]string{true: "allow", false: "deny"}[e.Allow]}
	defer func() { r.Seconds = time.Since(t0).Seconds() }()
	ep, err := t.endpoint(e.To)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	if from, to := t.gatewayOf(e.From), t.gatewayOfAddr(ep.Addr); len(t.State.Skipped) > 0 && from != nil && to != nil && from != to && !connected(t.Net, from, to) {
		r.Skip = true
		r.Detail = fmt.Sprintf("no tunnel between %s and %s runs on the %s data plane (see skipped parts)", from.Name, to.Name, t.State.Dataplane)
		return r
	}
	ns, err := t.sourceNS(e.From)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	// from the internet to a protected lan: give the router a route to it
	// through the gateway, so that the packet really reaches the gateway
	// and the gateway's firewall decides
	if e.From == "internet" {
		if g, lan := t.lanOf(ep.Addr); g != nil && len(g.Public) > 0 {
			cleanup, err := t.routeVia(ctx, lan, g.Public[0])
			if err != nil {
				r.Detail = err.Error()
				return r
			}
			defer cleanup()
		}
	}
	m := marker()
	var capture *capture
	if e.Encrypted != nil && *e.Encrypted {
		r.Kind = "reachability+encryption"
		capture, err = startCapture(ctx, t.State.Node("internet").NS, filepath.Join(t.Dir, "capture-"+m+".pcap"))
		if err != nil {
			r.Detail = err.Error()
			return r
		}
		defer capture.remove()
	}
	target := fmt.Sprintf("%s/%s", netip.AddrPortFrom(ep.Addr, ep.Port), ep.Proto)
	var flows []flowCounts
	src, dst := t.gatewayOf(e.From), t.gatewayServing(ep.Addr)
	if e.Allow {
		flows = t.tunnelFlows(ctx, src, dst)
	}
	out, perr := netns.Run(ctx, ns, t.Agent, "lab-agent", "probe", "--to", target, "--marker", m, "--timeout", "2s")
	connected := perr == nil
	switch {
	case connected && e.Allow:
		r.Pass, r.Detail = true, "connected to "+target
	case !connected && !e.Allow:
		r.Pass, r.Detail = true, "blocked: "+lastLine(out)
	case connected:
		r.Detail = "connected to " + target + ", but the expectation is deny"
	default:
		r.Detail = "could not connect to " + target + ": " + lastLine(out)
		if why := t.whyLost(ctx, flows, src, dst, ns, target); why != "" {
			r.Detail += "; " + why
		}
	}
	if capture != nil {
		pcap, esp, err := capture.stop(ctx)
		switch {
		case err != nil:
			r.Pass, r.Detail = false, r.Detail+"; capture failed: "+err.Error()
		case bytes.Contains(pcap, []byte(m)):
			r.Pass, r.Detail = false, r.Detail+"; PLAINTEXT: the marker was seen on the router's links"
		case esp == 0 && connected:
			r.Pass, r.Detail = false, r.Detail+"; no ESP or UDP/4500 packets crossed the router"
		case connected:
			r.Detail += fmt.Sprintf("; on the wire: %d ESP/UDP-4500 packets, marker never in clear", esp)
		}
	}
	return r
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	s := lines[len(lines)-1]
	if i := strings.LastIndex(s, ": "); i > 0 && len(s) > 120 {
		s = s[i+2:]
	}
	return s
}

// routeVia adds a temporary route on the router for p via gw.
func (t *Tester) routeVia(ctx context.Context, p netip.Prefix, gw netip.Addr) (func(), error) {
	r := t.State.Node("internet").NS
	out, err := netns.Run(ctx, r, "ip", "-o", "route", "get", gw.String())
	if err != nil {
		return nil, err
	}
	dev := regexp.MustCompile(`dev (\S+)`).FindStringSubmatch(string(out))
	if dev == nil {
		return nil, fmt.Errorf("router has no route to %s", gw)
	}
	if _, err := netns.Run(ctx, r, "ip", "route", "replace", p.String(), "via", gw.String(), "dev", dev[1], "onlink"); err != nil {
		return nil, err
	}
	return func() { netns.Run(context.Background(), r, "ip", "route", "del", p.String()) }, nil
}

// spoofing sends, for every gateway with lab hosts behind it, a packet
// from the internet with a source address inside a remote protected prefix
// of that gateway to a lan host; it must not arrive.
func (t *Tester) spoofing(ctx context.Context) []Result {
	var out []Result
	done := map[*topology.Gateway]bool{}
	for _, h := range t.Net.Lab.Hosts {
		if h.Behind == nil || len(h.Behind.Public) == 0 || !h.Address.Is4() || done[h.Behind] {
			continue
		}
		g := h.Behind
		src := t.remoteSource(g)
		if !src.IsValid() {
			continue
		}
		t0 := time.Now()
		r := Result{Name: fmt.Sprintf("spoofed %s -> %s (%s's lan)", src, h.Name, g.Name), Kind: "spoofing", Expected: "deny"}
		_, lan := t.lanOf(h.Address)
		cleanup, err := t.routeVia(ctx, lan, g.Public[0])
		if err != nil {
			r.Detail = err.Error()
			out = append(out, r)
			continue
		}
		m := marker()
		rns := t.State.Node("internet").NS
		_, err = netns.Run(ctx, rns, t.Agent, "lab-agent", "spoof", "--src", src.String(), "--dst", h.Address.String(), "--port", strconv.Itoa(SinkPort), "--marker", m)
		time.Sleep(300 * time.Millisecond)
		cleanup()
		sink, _ := os.ReadFile(filepath.Join(t.Dir, "sink-"+h.Name+".log"))
		switch {
		case err != nil:
			r.Detail = "could not send: " + err.Error()
		case bytes.Contains(sink, []byte(m)):
			r.Detail = "the spoofed packet reached " + h.Name
		default:
			r.Pass, r.Detail = true, "dropped before the lan"
		}
		r.Seconds = time.Since(t0).Seconds()
		out = append(out, r)
		done[g] = true
	}
	return out
}

// remoteSource picks an address inside a remote protected prefix of g.
func (t *Tester) remoteSource(g *topology.Gateway) netip.Addr {
	for _, tun := range t.Net.Tunnels {
		i := tun.EndOf(g)
		if i < 0 || tun.Mode == "route" {
			continue
		}
		for _, c := range tun.Children {
			for _, ts := range c.TS[topology.Other(i)] {
				if !ts.Dynamic && ts.Prefix.Addr().Is4() {
					a := ts.Prefix.Addr()
					if !ts.Prefix.IsSingleIP() {
						a = a.Next()
					}
					return a
				}
			}
		}
	}
	for _, ra := range t.Net.RemoteAccess {
		if ra.Gateway == g {
			for _, p := range ra.Pools {
				if p.Addr().Is4() {
					return p.Addr().Next().Next()
				}
			}
		}
	}
	return netip.Addr{}
}

// capture is a tcpdump on all of the router's links.
type capture struct {
	cmd    *exec.Cmd
	path   string
	stderr *bytes.Buffer
}

func startCapture(ctx context.Context, ns, path string) (*capture, error) {
	cmd := exec.Command("ip", "netns", "exec", ns, "tcpdump", "-Z", "root", "-i", "any", "--immediate-mode", "-U", "-n", "-s", "0", "-w", path, "not arp")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("tcpdump: %w", err)
	}
	c := &capture{cmd: cmd, path: path, stderr: &stderr}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stderr.String(), "listening on") {
		if time.Now().After(deadline) {
			c.stop(ctx)
			return nil, fmt.Errorf("tcpdump did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// tcpdump says "listening" a moment before packets of every interface
	// of "any" reach it
	time.Sleep(200 * time.Millisecond)
	return c, nil
}

// stop ends the capture and returns the pcap bytes and the number of
// ESP or UDP/4500 packets in it.
func (c *capture) stop(ctx context.Context) ([]byte, int, error) {
	time.Sleep(200 * time.Millisecond)
	syscall.Kill(-c.cmd.Process.Pid, syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	pcap, err := os.ReadFile(c.path)
	if err != nil {
		return nil, 0, err
	}
	out, err := exec.CommandContext(ctx, "tcpdump", "-r", c.path, "-n", "esp or udp port 4500").Output()
	if err != nil {
		return pcap, 0, fmt.Errorf("reading the capture: %w", err)
	}
	if os.Getenv("STYX_DEBUG_CAPTURE") != "" {
		fmt.Fprintf(os.Stderr, "capture %s: %d bytes, filter output %q, tcpdump said %q\n", c.path, len(pcap), out, c.stderr.String())
	}
	return pcap, strings.Count(string(out), "\n"), nil
}

func (c *capture) remove() { os.Remove(c.path) }
