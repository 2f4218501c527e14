package importer

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/charon"
	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/pki"
)

func needCharon(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (network namespaces)")
	}
	if err := charon.Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
}

// writeSwanctl writes the converted swanctl.conf, its secrets file and
// test credentials for every file it refers to below dir/swanctl.
func writeSwanctl(t *testing.T, dir string, res *Result) {
	t.Helper()
	conf, sec, err := res.Swanctl(false)
	if err != nil {
		t.Fatal(err)
	}
	write := func(rel string, data []byte, mode os.FileMode) {
		p := filepath.Join(dir, "swanctl", rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("swanctl.conf", conf, 0o644)
	write("conf.d/secrets.conf", sec, 0o600)
	ca, err := pki.NewCA("styx import test CA", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range res.References() {
		id := ref.ID
		if id == "" || id == "%any" {
			id = "@test.example.org"
		}
		switch ref.Dir {
		case "x509":
			pair, err := ca.Issue(id, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			write("x509/"+ref.Name, pair.CertPEM, 0o644)
			write("private/"+strings.TrimSuffix(ref.Name, filepath.Ext(ref.Name))+"-key.pem", pair.KeyPEM, 0o600)
		case "pubkey":
			pair, err := ca.Issue(id, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			block, _ := pem.Decode(pair.CertPEM)
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			der, err := x509.MarshalPKIXPublicKey(cert.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			write("pubkey/"+ref.Name, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o644)
		case "x509ca":
			write("x509ca/"+ref.Name, ca.PEM, 0o644)
		}
	}
}

// TestIntegrationImportLoad loads the converted swanctl.conf of every
// fixture into a real charon in a throw-away network namespace: every
// connection, child, pool, authority and shared secret must load.
func TestIntegrationImportLoad(t *testing.T) {
	needCharon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := netns.TempName("import")
	if err := netns.Add(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { netns.Delete(context.Background(), ns) })
	for _, fx := range fixtures(t) {
		t.Run(filepath.Base(fx), func(t *testing.T) {
			res, _ := convertFixture(t, fx)
			if withErrors(t, fx, res) {
				t.Skip("the fixture has conversion errors on purpose")
			}
			dir := t.TempDir()
			writeSwanctl(t, dir, res)
			inst, err := charon.Start(ctx, charon.Config{NetNS: ns, Dir: dir, Dataplane: charon.Kernel})
			if err != nil {
				t.Fatal(err)
			}
			defer inst.Stop()
			file := filepath.Join(dir, "swanctl/swanctl.conf")
			run := func(args ...string) string {
				out, err := inst.Swanctl(ctx, args...)
				if err != nil {
					t.Fatalf("swanctl %s: %v\n%s\ncharon log:\n%s", strings.Join(args, " "), err, out, inst.LogTail(30))
				}
				return string(out)
			}
			if len(res.imp.cas) > 0 {
				if out := run("--load-authorities", "--file", file); strings.Contains(out, "failed") {
					t.Errorf("load-authorities:\n%s", out)
				}
			}
			creds := run("--load-creds", "--noprompt", "--file", file)
			for _, s := range res.Gateway.Secrets {
				if !strings.Contains(creds, "secret '"+s.Name+"'") || strings.Contains(creds, "loading "+s.Kind+" secret '"+s.Name+"' failed") {
					t.Errorf("secret %s not loaded:\n%s", s.Name, creds)
				}
			}
			if len(res.Gateway.Pools) > 0 {
				if out := run("--load-pools", "--file", file); strings.Contains(out, "failed") {
					t.Errorf("load-pools:\n%s", out)
				}
			}
			out := run("--load-conns", "--file", file)
			if strings.Contains(out, "failed") || strings.Contains(out, "discarded") {
				t.Fatalf("load-conns:\n%s\ncharon log:\n%s", out, inst.LogTail(30))
			}
			list := run("--list-conns")
			for _, c := range res.Gateway.Conns {
				if !strings.Contains(list, c.Name+":") {
					t.Errorf("connection %s not listed:\n%s", c.Name, list)
				}
				for _, ch := range c.Children {
					if !strings.Contains(list, "  "+ch.Name+":") {
						t.Errorf("child %s of %s not listed:\n%s", ch.Name, c.Name, list)
					}
				}
			}
		})
	}
}
