package applytest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	govici "github.com/strongswan/govici/vici"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/apply/applytest"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/vici"
)

var ctx = context.Background()

// The fakes store messages as their String, which must be deterministic:
// govici keeps keys in insertion order (not sorted, not map order).
func TestMessageStringIsDeterministic(t *testing.T) {
	c := &plan.Conn{Name: "a", Version: 2, RemoteAddrs: []string{"192.0.2.1"}, Unique: "replace",
		Children: []*plan.Child{{Name: "z", Mode: "tunnel"}, {Name: "b", Mode: "tunnel"}}}
	first, err := vici.ConnMessage(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		m, _ := vici.ConnMessage(c, nil)
		if m.String() != first.String() {
			t.Fatalf("String differs between equal messages:\n%s\n%s", m, first)
		}
	}
	s := first.String()
	if strings.Index(s, "version") > strings.Index(s, "remote_addrs") || strings.Index(s, "z {") > strings.Index(s, "b {") {
		t.Errorf("keys are not in insertion order:\n%s", s)
	}
	m := govici.NewMessage()
	m.Set("z", "1")
	m.Set("a", "2")
	m.Set("z", "3") // overwrite keeps the position
	if got, want := m.String(), "{\n  z = 3\n  a = 2\n}\n"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

func TestStore(t *testing.T) {
	s := applytest.NewStore()
	msg := govici.NewMessage()
	msg.Set("id", "x")
	boom := errors.New("boom")
	s.FailOn("load-shared", "x", boom)
	if err := s.Load(ctx, apply.Shared, "x", msg); !errors.Is(err, boom) {
		t.Errorf("first load-shared x: %v, want boom", err)
	}
	if _, ok := s.Get(apply.Shared, "x"); ok {
		t.Error("a failed load loaded")
	}
	if err := s.Load(ctx, apply.Shared, "x", msg); err != nil {
		t.Errorf("second load-shared x: %v (a FailOn fails one call)", err)
	}
	if err := s.Unload(ctx, apply.Conn, "nope"); err == nil {
		t.Error("unloading a connection that is not loaded succeeded")
	}
	s.LoadCert(ctx, []byte("der"), "ca")
	s.LoadKey(ctx, "any", []byte("key"))
	names, _ := s.Names(ctx, apply.Shared)
	if len(names) != 1 || names[0] != "x" {
		t.Errorf("Names(shared) = %v", names)
	}
	want := `load-shared x (failed: boom)
load-shared x
unload-conn nope (failed: conn "nope" not found)
load-cert (ca)
load-key (any)
get-shared
`
	if got := s.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	if s.Calls() != 6 {
		t.Errorf("Calls() = %d, want 6", s.Calls())
	}
	s.Restart()
	if got := s.Snapshot(); got != "" {
		t.Errorf("after Restart the store has:\n%s", got)
	}
}

func TestFirewall(t *testing.T) {
	f := applytest.NewFirewall()
	file := "#!/usr/sbin/nft -f\n# comment\ntable inet styx {}\ndelete table inet styx\ntable inet styx {\n\t# a set\n\tchain c {\n\t\taccept\n\t}\n}\n"
	if err := f.Load(ctx, []byte(file)); err != nil {
		t.Fatal(err)
	}
	listing, ok, _ := f.Current(ctx)
	want := "table inet styx {\n\tchain c {\n\t\taccept\n\t}\n}\n"
	if !ok || string(listing) != want {
		t.Fatalf("listing %v:\n%s\nwant:\n%s", ok, listing, want)
	}
	// apply's restore script: the listing loads back as it was.
	f.Remove(ctx)
	if err := f.Load(ctx, append([]byte("table inet styx {}\ndelete table inet styx\n"), listing...)); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Table(); got != want {
		t.Errorf("restored:\n%s\nwant:\n%s", got, want)
	}
	boom := errors.New("boom")
	f.FailOnLoad(2, boom)
	if err := f.Load(ctx, []byte(file)); err != nil {
		t.Errorf("first load after FailOnLoad(2): %v", err)
	}
	if err := f.Load(ctx, []byte("delete table inet styx\n")); !errors.Is(err, boom) {
		t.Errorf("second load after FailOnLoad(2): %v, want boom", err)
	}
	if _, ok := f.Table(); !ok {
		t.Error("a failed load changed the table")
	}
	if err := f.Load(ctx, []byte("delete table inet styx\ndelete table inet styx\n")); !errors.Is(err, applytest.ErrNoTable) {
		t.Errorf("deleting twice: %v, want ErrNoTable", err)
	}
	if _, ok := f.Table(); !ok {
		t.Error("a failed file was applied in part")
	}
	wantLog := `nft -f -
nft list table inet styx
nft delete table inet styx
nft -f -
nft -f -
nft -f - (failed: boom)
nft -f - (failed: line 2: Error: Could not process rule: No such file or directory)
`
	if got := f.String(); got != wantLog {
		t.Errorf("log:\n%s\nwant:\n%s", got, wantLog)
	}
}

func TestSysctlsAndRunner(t *testing.T) {
	g := applytest.NewGateway()
	boom := errors.New("boom")
	g.Sysctls.FailOn("net.ipv4.ip_forward", boom)
	g.Runner.FailOn("ip link add", boom)
	g.Sysctls.Get(ctx, "net.ipv4.ip_forward")
	g.Sysctls.Set(ctx, "net.ipv4.ip_forward", "1")
	g.Sysctls.Set(ctx, "net.ipv4.ip_forward", "1")
	g.Sysctls.Get(ctx, "net.nope")
	g.Runner.Run(ctx, "ip", "link", "add", "x", "type", "dummy")
	g.Runner.Run(ctx, "ip", "link", "add", "x", "type", "dummy")
	g.Runner.Run(ctx) // a command without undo: not run
	g.Runner.Run(ctx, "ip", "route", "show")
	want := `sysctl -n net.ipv4.ip_forward
sysctl -w net.ipv4.ip_forward=1 (failed: boom)
sysctl -w net.ipv4.ip_forward=1
sysctl -n net.nope (failed: sysctl: cannot stat /proc/sys/net/nope: No such file or directory)
ip link add x type dummy (failed: boom)
ip link add x type dummy
ip route show
`
	if got := g.String(); got != want {
		t.Errorf("log:\n%s\nwant:\n%s", got, want)
	}
	wantMut := `sysctl -w net.ipv4.ip_forward=1 (failed: boom)
sysctl -w net.ipv4.ip_forward=1
ip link add x type dummy (failed: boom)
ip link add x type dummy
`
	if got := g.Mutations(); got != wantMut {
		t.Errorf("mutations:\n%s\nwant:\n%s", got, wantMut)
	}
	if got := g.Runner.String(); got != "ip link add x type dummy (failed: boom)\nip link add x type dummy\nip route show\n" {
		t.Errorf("runner log:\n%s", got)
	}
	if v, _ := g.Sysctls.Value("net.ipv4.ip_forward"); v != "1" {
		t.Errorf("ip_forward = %s", v)
	}
	g.Reset()
	if g.String() != "" || g.Sysctls.String() != "" {
		t.Error("Reset kept calls")
	}
}
