package birdd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/netns"
)

func TestParseProtocols(t *testing.T) {
	out := `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     23:26:57.645  
tun_v1_1_v3_1 BGP        ---        up     2026-11-25 23:27:01  Established   
tun_x      BGP        ---        start  23:26:57.645  Active        Socket: Connection refused
`
	ps, err := ParseProtocols(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []Protocol{
		{Name: "device1", Proto: "Device", State: "up", Since: "23:26:57.645"},
		{Name: "tun_v1_1_v3_1", Proto: "BGP", State: "up", Since: "2026-11-25 23:27:01", Info: "Established"},
		{Name: "tun_x", Proto: "BGP", State: "start", Since: "23:26:57.645", Info: "Active Socket: Connection refused"},
	}
	if len(ps) != len(want) {
		t.Fatalf("got %d protocols: %+v", len(ps), ps)
	}
	for i := range want {
		if ps[i] != want[i] {
			t.Errorf("protocol %d: %+v, want %+v", i, ps[i], want[i])
		}
	}
	if ps[0].Established() || !ps[1].Established() || ps[2].Established() {
		t.Error("Established() wrong")
	}
	for _, bad := range []string{"", "garbage\n", "Name Proto Table State Since Info\nx y\n"} {
		if _, err := ParseProtocols(bad); err == nil {
			t.Errorf("ParseProtocols(%q): no error", bad)
		}
	}
}

// TestIntegrationBird starts a real BIRD in a throw-away namespace and
// drives it the way styx apply does: a configuration with a session is
// loaded, a broken one is refused before birdc sees it, and BIRD keeps
// running the good one.
func TestIntegrationBird(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (network namespaces)")
	}
	if err := Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	ctx := context.Background()
	ns := netns.TempName("bird")
	if err := netns.Add(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netns.Delete(context.Background(), ns) })
	dir := t.TempDir()
	conf, sock := filepath.Join(dir, "bird.conf"), filepath.Join(dir, "bird.ctl")
	b, err := Start(ctx, ns, conf, sock, "1.0.1.1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)

	r := apply.Bird{Conf: conf, Socket: sock, R: apply.Exec{}}
	good := "router id 1.0.1.1;\nprotocol device {\n}\nprotocol bgp tun_a {\n\tlocal as 65001;\n\tneighbor 192.0.2.9 as 65002;\n\tipv4 { import all; export none; };\n}\n"
	if err := r.Load(ctx, []byte(good)); err != nil {
		t.Fatalf("Load: %v", err)
	}
	ps, err := Protocols(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name+"/"+p.Proto)
	}
	if got := strings.Join(names, " "); got != "device1/Device tun_a/BGP" {
		t.Errorf("protocols after Load: %s", got)
	}

	err = r.Load(ctx, []byte(good+"garbage\n"))
	if err == nil || !strings.Contains(err.Error(), "bird -p") || !strings.Contains(err.Error(), conf) || strings.Contains(err.Error(), ".styx-bird-") {
		t.Errorf("broken configuration: %v", err)
	}
	if cur, _, _ := r.Current(ctx); string(cur) != good {
		t.Errorf("the file changed after a refused Load:\n%s", cur)
	}
	if _, err := Protocols(ctx, sock); err != nil {
		t.Errorf("BIRD not answering after a refused Load: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".styx-bird-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}

	// BIRD gone: configure fails and the file is put back
	b.Stop()
	if err := r.Load(ctx, []byte(strings.Replace(good, "tun_a", "tun_b", 1))); err == nil || !strings.Contains(err.Error(), "birdc configure") {
		t.Errorf("Load without BIRD: %v", err)
	}
	if cur, _, _ := r.Current(ctx); string(cur) != good {
		t.Errorf("the file changed after a failed configure:\n%s", cur)
	}
}
