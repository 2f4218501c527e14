package apply_test

// Integration tests of the apply engine against a real charon in a
// throw-away network namespace (root only): rollback of a failed apply
// verified by reading the real state back, charon dying in the middle of
// an apply, and idempotence counted in VICI calls. Helpers here are
// prefixed with "live" so they do not collide with the unit tests' helpers.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	govici "github.com/strongswan/govici/vici"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/charon"
	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render"
	"github.com/styx-vpn/styx/internal/render/iptables"
	"github.com/styx-vpn/styx/internal/render/nft"
	"github.com/styx-vpn/styx/internal/render/swanctl"
	"github.com/styx-vpn/styx/internal/topology"
	"github.com/styx-vpn/styx/internal/vici"
)

// liveNeed skips unless a real charon can be run here.
func liveNeed(tb testing.TB) {
	tb.Helper()
	if os.Geteuid() != 0 {
		tb.Skip("skipping: needs root (network namespaces, charon)")
	}
	if err := charon.Available(); err != nil {
		tb.Skipf("skipping: %v", err)
	}
	for _, bin := range []string{"ip", "nft", "sysctl"} {
		if _, err := exec.LookPath(bin); err != nil {
			tb.Skipf("skipping: %s not installed", bin)
		}
	}
}

// liveSecrets is a fixed fake secret reader: a test key derived from the
// secret's source, never a real one.
type liveSecrets struct{}

func (liveSecrets) ReadSecret(s *topology.Secret) ([]byte, error) {
	if s.Value != "" {
		return []byte(s.Value), nil
	}
	sum := sha256.Sum256([]byte("styx-integration-test\x00" + s.File + "\x00" + s.Env))
	return []byte("0s" + base64.StdEncoding.EncodeToString(sum[:])), nil
}

// liveDesired builds the desired state of gateway gw as cli.DesiredState
// does, with secrets read by r.
func liveDesired(tb testing.TB, net *topology.Network, gw, source string, r swanctl.SecretReader) apply.Desired {
	tb.Helper()
	g, err := plan.Build(net, gw, plan.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	d := apply.Desired{Gateway: g, Nft: nft.Render(g, source), Secrets: map[string][]byte{}, Commands: apply.Commands(g)}
	for _, s := range g.Secrets {
		v, err := r.ReadSecret(s.Source)
		if err != nil {
			tb.Fatalf("secret %s: %v", s.Name, err)
		}
		d.Secrets[s.Name] = v
	}
	return d
}

// liveS1 is the desired state of gateway cloud of examples/s1-iot-cloud.yaml
// (a fresh copy on every call).
func liveS1(tb testing.TB) apply.Desired {
	tb.Helper()
	net, _, diags, err := topology.Load("../../examples/s1-iot-cloud.yaml")
	if err != nil || net == nil || diags.HasErrors() {
		tb.Fatalf("s1-iot-cloud.yaml: %v\n%v", err, diags)
	}
	return liveDesired(tb, net, "cloud", "s1-iot-cloud.yaml", liveSecrets{})
}

func liveConn(tb testing.TB, d apply.Desired, name string) *plan.Conn {
	tb.Helper()
	for _, c := range d.Gateway.Conns {
		if c.Name == name {
			return c
		}
	}
	tb.Fatalf("plan has no connection %s", name)
	return nil
}

// liveChange changes s1 in every kind of step apply takes: a sysctl, an
// address and a route (ip commands), the nftables table, a secret, and two
// connections (a child lifetime, a DPD delay), in this order.
func liveChange(tb testing.TB, d *apply.Desired) {
	tb.Helper()
	liveConn(tb, *d, "cloud-sitea").Children[0].RekeyTime = 2 * time.Hour
	liveConn(tb, *d, "cloud-siteb").DPDDelay = 10 * time.Second
	found := false
	for i := range d.Gateway.Sysctls {
		if d.Gateway.Sysctls[i].Key == "net.ipv4.conf.all.rp_filter" {
			d.Gateway.Sysctls[i].Value = "1"
			found = true
		}
	}
	if !found {
		tb.Fatal("s1 sets no net.ipv4.conf.all.rp_filter")
	}
	d.Gateway.Addresses = append(d.Gateway.Addresses, plan.Address{Prefix: netip.MustParsePrefix("10.9.9.1/32"), Dev: "lo"})
	d.Gateway.Routes = append(d.Gateway.Routes, plan.Route{Dst: netip.MustParsePrefix("10.8.0.0/24"), Type: "unreachable", Metric: 100})
	d.Commands = apply.Commands(d.Gateway)
	old := d.Nft
	d.Gateway.Firewall.MSS4 = 1300
	d.Nft = nft.Render(d.Gateway, "s1-iot-cloud.yaml")
	if string(old) == string(d.Nft) {
		tb.Fatal("changing the MSS did not change the nftables file")
	}
	secrets := map[string][]byte{}
	for k, v := range d.Secrets {
		secrets[k] = v
	}
	secrets["ike-cloud-sitea"] = []byte("0sY2hhbmdlZC10ZXN0LWtleS1mb3ItY2xvdWQtc2l0ZWEtMDEyMzQ1Njc4OQ==")
	d.Secrets = secrets
}

// liveGW is one charon in a throw-away namespace with a VICI client for
// the engine and another one for looking (so that looking does not count).
type liveGW struct {
	ns, dir, stateDir string
	cfg               charon.Config
	inst              *charon.Instance
	client, peek      *vici.Client
}

// liveStart starts charon in a new namespace; everything is removed by
// cleanups, in reverse order, even when the test fails.
func liveStart(tb testing.TB, tag string, frag []byte) *liveGW {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	g := &liveGW{ns: netns.TempName(tag), dir: tb.TempDir(), stateDir: tb.TempDir()}
	if err := netns.Add(ctx, g.ns); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := netns.Delete(context.Background(), g.ns); err != nil {
			tb.Errorf("removing namespace %s: %v", g.ns, err)
		}
	})
	g.cfg = charon.Config{NetNS: g.ns, Dir: g.dir, Dataplane: charon.Kernel, Fragment: frag}
	tb.Cleanup(func() {
		if g.inst != nil {
			g.inst.Stop()
		}
	})
	g.restart(tb)
	g.client, g.peek = vici.New(g.inst.Socket()), vici.New(g.inst.Socket())
	tb.Cleanup(func() { g.client.Close(); g.peek.Close() })
	return g
}

// restart starts charon (again) in the same directory and namespace.
func (g *liveGW) restart(tb testing.TB) {
	tb.Helper()
	if g.inst != nil {
		g.inst.Stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inst, err := charon.Start(ctx, g.cfg)
	if err != nil {
		tb.Fatal(err)
	}
	g.inst = inst
	// The looking client's session predates the restart: its next call
	// would fail once (broken pipe) before it redials. The engine's client
	// is left alone: it must find the new charon by itself.
	if g.peek != nil {
		g.peek.Close()
	}
}

// engine is the engine styx apply builds, with store as the Store and r
// running every command in the namespace.
func (g *liveGW) engine(store apply.Store, r apply.Runner) *apply.Engine {
	return &apply.Engine{
		Store: store, Creds: apply.ViciStore{C: g.client},
		Firewall: apply.Nft{R: r}, Sysctls: apply.ProcSysctls{NetNS: g.ns}, Runner: r,
		StateDir: g.stateDir, ReadFile: os.ReadFile,
	}
}

func (g *liveGW) exec() apply.Exec { return apply.Exec{NetNS: g.ns} }

func (g *liveGW) run(tb testing.TB, argv ...string) string {
	tb.Helper()
	out, err := netns.Run(context.Background(), g.ns, argv[0], argv[1:]...)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}

// liveConnDetails returns what charon lists about each loaded connection
// (list-conns), by name. It asks per connection: one stream of many
// list-conn events loses some of them (govici drops events beyond about
// 128; with 1,000 connections a few dozen go missing).
func liveConnDetails(ctx context.Context, c *vici.Client) (map[string]string, error) {
	names, err := c.ConnNames(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, name := range names {
		in := govici.NewMessage()
		if err := in.Set("ike", name); err != nil {
			return nil, err
		}
		events, err := c.Stream(ctx, "list-conns", "list-conn", in, 0)
		if err != nil {
			return nil, err
		}
		for _, ev := range events {
			for _, k := range ev.Keys() {
				if m, ok := ev.Get(k).(*govici.Message); ok {
					out[k] = m.String()
				}
			}
		}
		if _, ok := out[name]; !ok {
			return nil, fmt.Errorf("list-conns does not list connection %s", name)
		}
	}
	return out, nil
}

// snapshot reads the real state of the gateway back: what charon has
// loaded (names and list-conns details), the whole nftables ruleset, the
// sysctls named, addresses and routes.
func (g *liveGW) snapshot(tb testing.TB, sysctls []string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var b strings.Builder
	names := func(what string, f func(context.Context) ([]string, error)) {
		l, err := f(ctx)
		if err != nil {
			tb.Fatalf("%s: %v", what, err)
		}
		slices.Sort(l)
		fmt.Fprintf(&b, "%s: %s\n", what, strings.Join(l, " "))
	}
	names("get-conns", g.peek.ConnNames)
	names("get-shared", g.peek.SharedIDs)
	names("get-pools", g.peek.PoolNames)
	details, err := liveConnDetails(ctx, g.peek)
	if err != nil {
		tb.Fatalf("list-conns: %v", err)
	}
	for _, name := range sortedNames(details) {
		fmt.Fprintf(&b, "list-conn %s %s", name, details[name])
	}
	fmt.Fprintf(&b, "nft list ruleset:\n%s", g.run(tb, "nft", "list", "ruleset"))
	for _, k := range sysctls {
		fmt.Fprintf(&b, "sysctl %s = %s", k, g.run(tb, "sysctl", "-n", k))
	}
	fmt.Fprintf(&b, "addresses:\n%s", g.run(tb, "ip", "-o", "addr", "show"))
	fmt.Fprintf(&b, "routes:\n%s", g.run(tb, "ip", "route", "show", "table", "all"))
	return b.String()
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sysctlKeys(d apply.Desired) []string {
	var keys []string
	for _, s := range d.Gateway.Sysctls {
		if s.Optional {
			continue // an interface this namespace does not have
		}
		keys = append(keys, s.Key)
	}
	return keys
}

func liveReadState(tb testing.TB, g *liveGW, gw string) string {
	tb.Helper()
	b, err := os.ReadFile(apply.StatePath(g.stateDir, gw))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		tb.Fatal(err)
	}
	return string(b)
}

// liveStore delegates to a real Store, logs every call as the VICI command
// it becomes, and lets a test act before the n-th Load of a kind: hook
// returns an error to fail the call without sending it, or nil to send it.
type liveStore struct {
	apply.Store
	mu    sync.Mutex
	log   []string
	loads map[apply.Kind]int
	hook  func(kind apply.Kind, name string, n int) error
}

func (s *liveStore) Names(ctx context.Context, kind apply.Kind) ([]string, error) {
	s.mu.Lock()
	s.log = append(s.log, "get "+string(kind))
	s.mu.Unlock()
	return s.Store.Names(ctx, kind)
}

func (s *liveStore) Load(ctx context.Context, kind apply.Kind, name string, msg *govici.Message) error {
	s.mu.Lock()
	if s.loads == nil {
		s.loads = map[apply.Kind]int{}
	}
	s.loads[kind]++
	n, hook := s.loads[kind], s.hook
	s.mu.Unlock()
	if hook != nil {
		if err := hook(kind, name, n); err != nil {
			s.logf("load-%s %s (injected failure: %v)", kind, name, err)
			return err
		}
	}
	err := s.Store.Load(ctx, kind, name, msg)
	s.logf("load-%s %s%s", kind, name, failed(err))
	return err
}

func (s *liveStore) Unload(ctx context.Context, kind apply.Kind, name string) error {
	err := s.Store.Unload(ctx, kind, name)
	s.logf("unload-%s %s%s", kind, name, failed(err))
	return err
}

func (s *liveStore) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, fmt.Sprintf(format, args...))
}

func (s *liveStore) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.log, "\n")
}

func failed(err error) string {
	if err != nil {
		return " (failed: " + err.Error() + ")"
	}
	return ""
}

// liveRunner records the commands it runs through a real runner.
type liveRunner struct {
	apply.Runner
	mu  sync.Mutex
	log []string
}

func (r *liveRunner) Run(ctx context.Context, argv ...string) ([]byte, error) {
	r.mu.Lock()
	r.log = append(r.log, strings.Join(argv, " "))
	r.mu.Unlock()
	return r.Runner.Run(ctx, argv...)
}

var errLiveInjected = errors.New("injected failure")

// liveApplied starts charon for s1's cloud, adds a foreign nftables table
// (which apply must never touch) and applies s1 once.
func liveApplied(t *testing.T, tag string) (*liveGW, apply.Desired) {
	t.Helper()
	d := liveS1(t)
	g := liveStart(t, tag, render.Strongswan(d.Gateway, "s1-iot-cloud.yaml"))
	g.run(t, "nft", "add", "table", "inet", "foreign")
	g.run(t, "nft", "add", "chain", "inet", "foreign", "keep", "{ type filter hook input priority 10; policy accept; }")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	changes, err := g.engine(apply.ViciStore{C: g.client}, g.exec()).Apply(ctx, d)
	if err != nil {
		t.Fatalf("first apply: %v\ncharon log:\n%s", err, g.inst.LogTail(20))
	}
	if len(changes) == 0 {
		t.Fatal("the first apply changed nothing")
	}
	return g, d
}

// TestIntegrationApplyRollback: a change touching every kind of step fails
// at its last step (the second load-conn); everything already changed is
// undone, which the real state read back proves: charon's connections
// with all their details and its secrets, the nftables ruleset, sysctls,
// addresses and routes are as before, and the state file is unchanged.
func TestIntegrationApplyRollback(t *testing.T) {
	liveNeed(t)
	g, _ := liveApplied(t, "rollback")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	d := liveS1(t)
	liveChange(t, &d)
	keys := sysctlKeys(d)
	store := &liveStore{Store: apply.ViciStore{C: g.client}, hook: func(kind apply.Kind, name string, n int) error {
		if kind == apply.Conn && n == 2 {
			return errLiveInjected
		}
		return nil
	}}
	planned, err := g.engine(store, g.exec()).Plan(ctx, d)
	if err != nil {
		t.Fatal(err)
	}
	if len(planned) != 7 {
		t.Fatalf("the change should plan 7 steps (sysctl, 2 commands, nftables, secret, 2 connections):\n%s", liveChanges(planned))
	}
	before, state := g.snapshot(t, keys), liveReadState(t, g, "cloud")

	_, err = g.engine(store, g.exec()).Apply(ctx, d)

	t.Logf("store calls:\n%s", store)
	var se *apply.StepError
	if !errors.As(err, &se) {
		t.Fatalf("Apply error = %v (%T), want a *apply.StepError", err, err)
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, errLiveInjected) {
		t.Errorf("the StepError does not wrap the injected error")
	}
	if se.Step.Op != apply.Modify || se.Step.What != "connection" || se.Step.Name != "cloud-siteb" {
		t.Errorf("failed step = %s, want ~ connection cloud-siteb", se.Step)
	}
	if se.RolledBack != 6 || len(se.UndoErrs) > 0 {
		t.Errorf("rolled back %d step(s) with errors %v, want 6 without errors", se.RolledBack, se.UndoErrs)
	}
	if !strings.Contains(err.Error(), "the gateway is as it was before") {
		t.Errorf("error does not say the gateway was restored: %v", err)
	}
	after := g.snapshot(t, keys)
	if after != before {
		t.Errorf("the real state differs from before the failed apply:\n%s", liveDiff(after, before))
	}
	if got := liveReadState(t, g, "cloud"); got != state {
		t.Error("the failed apply changed the state file")
	}
	if !strings.Contains(after, "table inet foreign") {
		t.Error("the foreign nftables table is gone")
	}

	// The same change without the failure applies, and then plans nothing.
	if _, err := g.engine(apply.ViciStore{C: g.client}, g.exec()).Apply(ctx, d); err != nil {
		t.Fatalf("apply without the failure: %v", err)
	}
	if left, err := g.engine(apply.ViciStore{C: g.client}, g.exec()).Plan(ctx, d); err != nil || len(left) > 0 {
		t.Fatalf("plan after apply: %v\n%s", err, liveChanges(left))
	}
	// the snapshot sees every part of the change (so the comparison
	// above would have caught a part left behind)
	changed := liveDiff(g.snapshot(t, keys), before)
	for _, want := range []string{"rekey_time = 7200", "dpd_delay = 10", "maxseg size set 1300", "all.rp_filter = 1", "10.9.9.1/32", "unreachable 10.8.0.0/24"} {
		if !strings.Contains(changed, want) {
			t.Errorf("the snapshot does not show %q after the change:\n%s", want, changed)
		}
	}
	details, err := liveConnDetails(ctx, g.peek)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(details["cloud-sitea"], "rekey_time = 7200") {
		t.Errorf("cloud-sitea's child should rekey after 7200s now:\n%s", details["cloud-sitea"])
	}
	if !strings.Contains(details["cloud-siteb"], "dpd_delay = 10") {
		t.Errorf("cloud-siteb should have a DPD delay of 10s now:\n%s", details["cloud-siteb"])
	}
}

// TestIntegrationApplyCharonDies: charon is killed in the middle of an
// apply. The error names the failed step and says that the rollback failed
// because charon cannot be reached; what does not depend on charon
// (nftables, sysctls, addresses, routes) is rolled back all the same, and
// the state file is unchanged. After charon is restarted in the same
// directory, plan shows every connection and secret as to be reloaded, and
// apply converges.
func TestIntegrationApplyCharonDies(t *testing.T) {
	liveNeed(t)
	g, orig := liveApplied(t, "dies")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	d := liveS1(t)
	liveChange(t, &d)
	keys := sysctlKeys(d)
	store := &liveStore{Store: apply.ViciStore{C: g.client}, hook: func(kind apply.Kind, name string, n int) error {
		if kind == apply.Conn && n == 2 {
			g.inst.Kill() // the real load-conn that follows finds charon gone
		}
		return nil
	}}
	before, state := g.snapshot(t, keys), liveReadState(t, g, "cloud")
	start := time.Now()

	_, err := g.engine(store, g.exec()).Apply(ctx, d)

	t.Logf("store calls:\n%s", store)
	t.Logf("error after %v: %v", time.Since(start).Round(time.Millisecond), err)
	// a dead charon is noticed from the refused connection, not by waiting
	// for a deadline to expire
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "i/o timeout") {
		t.Errorf("the failed apply waited for a deadline instead of noticing that charon is gone: %v", err)
	}
	var se *apply.StepError
	if !errors.As(err, &se) {
		t.Fatalf("Apply error = %v (%T), want a *apply.StepError", err, err)
	}
	if g.inst.Running() {
		t.Fatal("charon is still running")
	}
	if se.Step.What != "connection" || se.Step.Name != "cloud-siteb" {
		t.Errorf("failed step = %s, want ~ connection cloud-siteb", se.Step)
	}
	msg := err.Error()
	for _, want := range []string{
		"apply failed at step ~ connection cloud-siteb: vici load-conn",
		"but the rollback also failed",
		"undo connection cloud-sitea: vici load-conn",
		"undo secret ike-cloud-sitea: vici load-shared",
		"is charon running?",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not say %q:\n%s", want, msg)
		}
	}
	if len(se.UndoErrs) != 2 {
		t.Errorf("undo errors = %v, want exactly the two charon undos to fail", se.UndoErrs)
	}
	if got := liveReadState(t, g, "cloud"); got != state {
		t.Error("the failed apply changed the state file")
	}
	// what does not live in charon is rolled back
	offCharon := func(s string) string {
		_, rest, _ := strings.Cut(s, "nft list ruleset:")
		return rest
	}
	g.restart(t)
	got := g.snapshot(t, keys)
	if offCharon(got) != offCharon(before) {
		t.Errorf("nftables, sysctls, addresses or routes were not rolled back:\n%s", liveDiff(offCharon(got), offCharon(before)))
	}
	if !strings.HasPrefix(got, "get-conns: \nget-shared: \nget-pools: \n") {
		t.Errorf("a restarted charon should have nothing loaded:\n%s", got)
	}

	// charon lost everything: plan reloads every connection and secret,
	// and nothing else (the rest was rolled back).
	e := g.engine(apply.ViciStore{C: g.client}, g.exec())
	planned, err := e.Plan(ctx, orig)
	if err != nil {
		t.Fatalf("plan after the restart: %v", err)
	}
	t.Logf("plan after the restart:\n%s", liveChanges(planned))
	var reload []string
	for _, c := range planned {
		if !c.Reload || c.Op != apply.Add || (c.What != "connection" && c.What != "secret") {
			t.Errorf("unexpected change after the restart: %s", c)
		}
		reload = append(reload, c.What+" "+c.Name)
	}
	slices.Sort(reload)
	if want := []string{"connection cloud-sitea", "connection cloud-siteb", "secret ike-cloud-sitea", "secret ike-cloud-siteb"}; !slices.Equal(reload, want) {
		t.Errorf("reloads = %v, want %v", reload, want)
	}
	if _, err := e.Apply(ctx, orig); err != nil {
		t.Fatalf("apply after the restart: %v", err)
	}
	if left, err := e.Plan(ctx, orig); err != nil || len(left) > 0 {
		t.Fatalf("plan after converging: %v\n%s", err, liveChanges(left))
	}
	if got := g.snapshot(t, keys); got != before {
		t.Errorf("after converging, the gateway differs from before the failed apply:\n%s", liveDiff(got, before))
	}
	// and the change that was interrupted applies now
	if _, err := e.Apply(ctx, d); err != nil {
		t.Fatalf("applying the interrupted change: %v", err)
	}
	if left, err := e.Plan(ctx, d); err != nil || len(left) > 0 {
		t.Fatalf("plan after the interrupted change: %v\n%s", err, liveChanges(left))
	}
}

// TestIntegrationApplyIdempotent: the second apply of the same plan
// changes nothing, sends only get-* VICI calls and runs only reading
// commands.
func TestIntegrationApplyIdempotent(t *testing.T) {
	liveNeed(t)
	g, d := liveApplied(t, "idem")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before, state := g.snapshot(t, sysctlKeys(d)), liveReadState(t, g, "cloud")
	store := &liveStore{Store: apply.ViciStore{C: g.client}}
	runner := &liveRunner{Runner: g.exec()}
	calls := g.client.Calls()

	changes, err := g.engine(store, runner).Apply(ctx, d)

	if err != nil {
		t.Fatal(err)
	}
	if len(changes) > 0 {
		t.Errorf("the second apply changed:\n%s", liveChanges(changes))
	}
	if n := g.client.Calls() - calls; n != 3 {
		t.Errorf("the second apply sent %d VICI calls, want 3 (get-conns, get-shared, get-pools)", n)
	}
	if got, want := store.String(), "get conn\nget shared\nget pool"; got != want {
		t.Errorf("store calls:\n%s\nwant:\n%s", got, want)
	}
	for _, cmd := range runner.log {
		if !strings.HasPrefix(cmd, "nft list ") && !strings.HasPrefix(cmd, "sysctl -n ") {
			t.Errorf("the second apply ran %q", cmd)
		}
	}
	if got := g.snapshot(t, sysctlKeys(d)); got != before {
		t.Errorf("the second apply changed the gateway:\n%s", liveDiff(got, before))
	}
	if got := liveReadState(t, g, "cloud"); got != state {
		t.Errorf("the second apply changed the state file")
	}
}

// liveChanges prints changes as styx plan does.
func liveChanges(changes []apply.Change) string {
	var b strings.Builder
	for _, c := range changes {
		b.WriteString(c.String() + "\n")
	}
	return b.String()
}

// liveDiff shows the lines of got and want that differ (got first).
func liveDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	var b strings.Builder
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			fmt.Fprintf(&b, "line %d:\n  got:  %s\n  want: %s\n", i+1, gl, wl)
		}
	}
	return b.String()
}

// TestIntegrationApplyRepairsFirewall: a rule added to the styx table by
// hand shows in the plan, and apply puts the table back as styx loaded it
// (the unit tests show that counter values do not count). The foreign
// table stays.
func TestIntegrationApplyRepairsFirewall(t *testing.T) {
	liveNeed(t)
	g, d := liveApplied(t, "repair")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	keys := sysctlKeys(d)
	before := g.snapshot(t, keys)
	e := g.engine(apply.ViciStore{C: g.client}, g.exec())

	g.run(t, "nft", "add", "rule", "inet", "styx", "forward", "meta", "l4proto", "icmp", "counter")
	if planned, err := e.Plan(ctx, d); err != nil || len(planned) != 1 {
		t.Fatalf("plan after a hand edit: %v\n%s", err, liveChanges(planned))
	} else if got := liveChanges(planned); !strings.Contains(got, "the live rules differ from what styx loaded") || !strings.Contains(got, "- meta l4proto icmp counter") {
		t.Errorf("the plan does not show the hand-made rule:\n%s", got)
	}
	if _, err := e.Apply(ctx, d); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if got := g.snapshot(t, keys); got != before {
		t.Errorf("apply did not restore the table:\n%s", liveDiff(got, before))
	}
	if !strings.Contains(g.run(t, "nft", "list", "tables"), "table inet foreign") {
		t.Error("the foreign table is gone")
	}
	if planned, err := e.Plan(ctx, d); err != nil || len(planned) > 0 {
		t.Errorf("plan after the repair: %v\n%s", err, liveChanges(planned))
	}
}

// TestIntegrationApplyIptablesRepairs: the same with the iptables backend
// (STYX-* chains through iptables-restore): a second apply is a no-op, a
// rule inserted by hand into a STYX chain shows in the plan and apply
// removes it.
func TestIntegrationApplyIptablesRepairs(t *testing.T) {
	liveNeed(t)
	for _, bin := range []string{"iptables-restore", "ip6tables-restore"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("skipping: %s not installed", bin)
		}
	}
	d := liveS1(t)
	v4, v6 := iptables.Render(d.Gateway, "s1-iot-cloud.yaml")
	d.Nft, d.FirewallKind = apply.IptablesRuleset(v4, v6, iptables.Hooks(d.Gateway)), "iptables"
	g := liveStart(t, "iptables", render.Strongswan(d.Gateway, "s1-iot-cloud.yaml"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	e := g.engine(apply.ViciStore{C: g.client}, g.exec())
	e.Firewall = apply.Iptables{R: g.exec()}
	if _, err := e.Apply(ctx, d); err != nil {
		t.Fatalf("first apply: %v", err)
	}
	if planned, err := e.Plan(ctx, d); err != nil || len(planned) > 0 {
		t.Fatalf("plan after the first apply: %v\n%s", err, liveChanges(planned))
	}
	g.run(t, "iptables", "-I", "STYX-FWD", "1", "-s", "203.0.113.9/32", "-j", "DROP")
	planned, err := e.Plan(ctx, d)
	if err != nil || len(planned) != 1 || !strings.Contains(liveChanges(planned), "-A STYX-FWD -s 203.0.113.9/32 -j DROP") {
		t.Fatalf("plan after a hand edit: %v\n%s", err, liveChanges(planned))
	}
	if _, err := e.Apply(ctx, d); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if strings.Contains(g.run(t, "iptables-save"), "203.0.113.9") {
		t.Error("the hand-made rule is still there")
	}
	if planned, err := e.Plan(ctx, d); err != nil || len(planned) > 0 {
		t.Errorf("plan after the repair: %v\n%s", err, liveChanges(planned))
	}
}
