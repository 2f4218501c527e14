package render_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/charon"
	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/pki"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render"
	"github.com/styx-vpn/styx/internal/render/iptables"
	"github.com/styx-vpn/styx/internal/render/swanctl"
	"github.com/styx-vpn/styx/internal/topology"
)

// fixedSecrets returns a test key for every secret (never a real one).
type fixedSecrets struct{}

func (fixedSecrets) ReadSecret(*topology.Secret) ([]byte, error) {
	return []byte("0sdGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXk="), nil
}

var _ swanctl.SecretReader = fixedSecrets{}

func examples(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../examples/s*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	return files
}

// renderAll renders every gateway (external ones too) of a topology.
func renderAll(t *testing.T, path string) map[string]*plan.Gateway {
	t.Helper()
	net, _, diags, err := topology.Load(path)
	if err != nil || diags.HasErrors() {
		t.Fatalf("%s: %v %v", path, err, diags)
	}
	out := map[string]*plan.Gateway{}
	for _, g := range net.Gateways {
		gw, err := plan.Build(net, g.Name, plan.Options{External: true})
		if err != nil {
			t.Fatalf("%s: plan %s: %v", path, g.Name, err)
		}
		out[g.Name] = gw
	}
	return out
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (network namespaces)")
	}
}

// TestIntegrationSwanctlLoad loads every rendered swanctl.conf into a real
// charon in a throw-away network namespace and checks that every
// connection is listed.
func TestIntegrationSwanctlLoad(t *testing.T) {
	needRoot(t)
	if err := charon.Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := netns.TempName("load")
	if err := netns.Add(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netns.Delete(context.Background(), ns) })
	for _, ex := range examples(t) {
		gws := renderAll(t, ex)
		names := make([]string, 0, len(gws))
		for n := range gws {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, name := range names {
			gw := gws[name]
			t.Run(filepath.Base(ex)+"/"+name, func(t *testing.T) {
				dir := t.TempDir()
				files, err := render.Gateway(gw, render.Options{Source: ex, Secrets: fixedSecrets{}})
				if err != nil {
					t.Fatal(err)
				}
				var frag []byte
				for _, f := range files {
					switch {
					case strings.HasPrefix(f.Path, "swanctl/"):
						p := filepath.Join(dir, f.Path)
						os.MkdirAll(filepath.Dir(p), 0o700)
						if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
							t.Fatal(err)
						}
					case f.Path == render.StrongswanFrg:
						frag = f.Data
					}
				}
				writeTestCerts(t, dir, gw)
				dp := charon.Kernel
				if gw.Dataplane == topology.Libipsec {
					dp = charon.Libipsec
				}
				inst, err := charon.Start(ctx, charon.Config{NetNS: ns, Dir: dir, Dataplane: dp, Fragment: frag})
				if err != nil {
					t.Fatal(err)
				}
				defer inst.Stop()
				// certificates referenced by the config do not exist in the
				// test; swanctl loads connections regardless and reports them
				if len(gw.Certs) > 0 {
					if out, err := inst.Swanctl(ctx, "--load-creds", "--noprompt", "--file", filepath.Join(dir, "swanctl/swanctl.conf")); err != nil {
						t.Fatalf("load-creds: %v\n%s", err, out)
					}
				}
				out, err := inst.Swanctl(ctx, "--load-conns", "--file", filepath.Join(dir, "swanctl/swanctl.conf"))
				if err != nil {
					t.Fatalf("load-conns: %v\ncharon log:\n%s", err, inst.LogTail(30))
				}
				if strings.Contains(string(out), "failed") || strings.Contains(string(out), "discarded") {
					t.Fatalf("swanctl reported problems:\n%s\ncharon log:\n%s", out, inst.LogTail(30))
				}
				if len(gw.Secrets) > 0 {
					out, err := inst.Swanctl(ctx, "--load-creds", "--noprompt", "--file", filepath.Join(dir, "swanctl/swanctl.conf"))
					if err != nil || strings.Contains(string(out), "failed") {
						t.Fatalf("load-creds: %v\n%s", err, out)
					}
				}
				if len(gw.Pools) > 0 {
					if out, err := inst.Swanctl(ctx, "--load-pools", "--file", filepath.Join(dir, "swanctl/swanctl.conf")); err != nil || strings.Contains(string(out), "failed") {
						t.Fatalf("load-pools: %v\n%s", err, out)
					}
				}
				list, err := inst.Swanctl(ctx, "--list-conns")
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range gw.Conns {
					if !strings.Contains(string(list), c.Name+":") {
						t.Errorf("connection %s not listed:\n%s", c.Name, list)
					}
					for _, ch := range c.Children {
						if !strings.Contains(string(list), "  "+ch.Name+":") {
							t.Errorf("child %s of %s not listed:\n%s", ch.Name, c.Name, list)
						}
					}
				}
			})
		}
	}
}

// TestIntegrationNftLoad checks every rendered nftables file with nft -c
// and loads it (twice: the replacement must be idempotent) in a throw-away
// namespace, next to a foreign table that must survive.
func TestIntegrationNftLoad(t *testing.T) {
	needRoot(t)
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("skipping: nft not installed")
	}
	ctx := context.Background()
	ns := netns.TempName("nft")
	if err := netns.Add(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netns.Delete(context.Background(), ns) })
	if _, err := netns.Run(ctx, ns, "nft", "add", "table", "inet", "foreign"); err != nil {
		t.Fatal(err)
	}
	for _, ex := range examples(t) {
		for name, gw := range renderAll(t, ex) {
			data := nftFile(t, gw, ex)
			path := filepath.Join(t.TempDir(), "styx.nft")
			os.WriteFile(path, data, 0o644)
			if out, err := netns.Run(ctx, ns, "nft", "-c", "-f", path); err != nil {
				t.Errorf("%s/%s: nft -c: %v\n%s", filepath.Base(ex), name, err, out)
				continue
			}
			for range 2 {
				if out, err := netns.Run(ctx, ns, "nft", "-f", path); err != nil {
					t.Errorf("%s/%s: nft -f: %v\n%s", filepath.Base(ex), name, err, out)
				}
			}
		}
	}
	out, err := netns.Run(ctx, ns, "nft", "list", "tables")
	if err != nil || !strings.Contains(string(out), "table inet foreign") {
		t.Errorf("foreign table lost: %v\n%s", err, out)
	}
}

func nftFile(t *testing.T, gw *plan.Gateway, source string) []byte {
	t.Helper()
	files, err := render.Gateway(gw, render.Options{Source: source, Redact: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Path == render.NftFile {
			return f.Data
		}
	}
	t.Fatal("no nftables file")
	return nil
}

// writeTestCerts puts a test CA and certificates for every certificate
// file the plan refers to into dir/swanctl.
func writeTestCerts(t *testing.T, dir string, gw *plan.Gateway) {
	t.Helper()
	if len(gw.Certs) == 0 {
		return
	}
	ca, err := pki.NewCA("styx test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	id := "@" + gw.Name
	for _, c := range gw.Conns {
		id = c.Local.ID
	}
	pair, err := ca.Issue(id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, cf := range gw.Certs {
		data := map[string][]byte{"x509": pair.CertPEM, "private": pair.KeyPEM, "x509ca": ca.PEM}[cf.Dir]
		p := filepath.Join(dir, "swanctl", cf.Dir, cf.Name)
		os.MkdirAll(filepath.Dir(p), 0o700)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIntegrationIptablesRestore checks every example's iptables-restore
// files with iptables-restore --test in a throw-away namespace.
func TestIntegrationIptablesRestore(t *testing.T) {
	needRoot(t)
	for _, bin := range []string{"iptables-restore", "ip6tables-restore"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("skipping: %s not installed", bin)
		}
	}
	ctx := context.Background()
	ns := netns.TempName("ipt")
	if err := netns.Add(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netns.Delete(context.Background(), ns) })
	for _, ex := range examples(t) {
		for name, gw := range renderAll(t, ex) {
			v4, v6 := iptables.Render(gw, filepath.Base(ex))
			for bin, data := range map[string][]byte{"iptables-restore": v4, "ip6tables-restore": v6} {
				path := filepath.Join(t.TempDir(), "rules")
				os.WriteFile(path, data, 0o644)
				if out, err := netns.Run(ctx, ns, bin, "--test", path); err != nil {
					t.Errorf("%s/%s: %s --test: %v\n%s", filepath.Base(ex), name, bin, err, out)
				}
			}
		}
	}
}
