package render_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/styx-vpn/styx/internal/render"
	"github.com/styx-vpn/styx/internal/render/iptables"
	"github.com/styx-vpn/styx/internal/render/swanctl"
	"github.com/styx-vpn/styx/internal/topology"
)

// markedSecrets gives every secret source its own recognisable fake value
// and remembers what it handed out. Half of the values are raw text
// (rendered base64-encoded), half are already 0s-encoded (rendered as is).
type markedSecrets struct {
	mu     sync.Mutex
	values map[string][]byte // by source
}

func (m *markedSecrets) ReadSecret(s *topology.Secret) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.values == nil {
		m.values = map[string][]byte{}
	}
	if v, ok := m.values[s.Source()]; ok {
		return v, nil
	}
	v := []byte(fmt.Sprintf("STYX-FAKE-SECRET-%03d-do-not-use", len(m.values)))
	if len(m.values)%2 == 1 {
		v = []byte("0s" + base64.StdEncoding.EncodeToString(v))
	}
	m.values[s.Source()] = v
	return v, nil
}

// forms returns every way a secret value could show up in a file.
func secretForms(v []byte) []string {
	raw, _ := swanctl.DecodeSecret(v)
	forms := []string{string(v), swanctl.EncodeSecret(v), string(raw),
		base64.StdEncoding.EncodeToString(raw), hex.EncodeToString(raw)}
	if len(raw) >= 12 {
		forms = append(forms, string(raw[:12]))
	}
	return forms
}

// leaks returns the secret forms found in data.
func leaks(data []byte, values map[string][]byte) []string {
	var out []string
	for src, v := range values {
		for _, f := range secretForms(v) {
			if f != "" && bytes.Contains(data, []byte(f)) {
				out = append(out, fmt.Sprintf("%q (secret from %s)", f, src))
			}
		}
	}
	if bytes.Contains(data, []byte("STYX-FAKE-SECRET")) {
		out = append(out, "the STYX-FAKE-SECRET marker")
	}
	return out
}

// TestSecretsOnlyInSecretsFile: with recognisable fake secrets, only
// swanctl/conf.d/secrets.conf contains them, it is the only 0600 file,
// and swanctl.conf includes it instead of carrying secrets itself.
func TestSecretsOnlyInSecretsFile(t *testing.T) {
	for _, ex := range examples(t) {
		gws := renderAll(t, ex)
		for _, name := range sortedNames(gws) {
			gw := gws[name]
			t.Run(exampleName(ex)+"/"+name, func(t *testing.T) {
				reader := &markedSecrets{}
				files, err := render.Gateway(gw, render.Options{Source: ex, Secrets: reader, Iptables: iptables.Render})
				if err != nil {
					t.Fatal(err)
				}
				if len(gw.Secrets) > 0 && len(reader.values) == 0 {
					t.Errorf("%d secrets planned, none read", len(gw.Secrets))
				}
				var secrets *render.File
				for i, f := range files {
					if f.Path == render.SecretsConf {
						secrets = &files[i]
						continue
					}
					if f.Secret || f.Mode == 0o600 {
						t.Errorf("%s: Secret %v mode %o, want a non-secret file", f.Path, f.Secret, f.Mode)
					}
					if l := leaks(f.Data, reader.values); len(l) > 0 {
						t.Errorf("%s contains %s", f.Path, strings.Join(l, ", "))
					}
				}
				if secrets == nil {
					t.Fatal("no secrets file")
				}
				if secrets.Mode != 0o600 || !secrets.Secret {
					t.Errorf("%s: mode %o Secret %v, want 0600 and true", secrets.Path, secrets.Mode, secrets.Secret)
				}
				parsed, err := parseSettings(string(secrets.Data))
				if err != nil {
					t.Fatalf("secrets.conf does not parse: %v", err)
				}
				for _, s := range gw.Secrets {
					sec := parsed.sub("secrets", s.Name)
					want := swanctl.SecretValue(s, reader.values[s.Source.Source()])
					if got := sec.value("secret"); got != want {
						t.Errorf("secrets.%s.secret = %q, want %q", s.Name, got, want)
					}
				}
				conf := fileData(t, files, render.SwanctlConf)
				root, err := parseSettings(string(conf))
				if err != nil {
					t.Fatal(err)
				}
				if root.sub("secrets") != nil {
					t.Error("swanctl.conf has a secrets section")
				}
				if !strings.Contains(strings.Join(root.includes, " "), "conf.d/*.conf") {
					t.Errorf("swanctl.conf does not include conf.d/*.conf (includes %q)", root.includes)
				}
			})
		}
	}
}

func fileData(t *testing.T, files []render.File, path string) []byte {
	t.Helper()
	for _, f := range files {
		if f.Path == path {
			return f.Data
		}
	}
	t.Fatalf("%s not rendered", path)
	return nil
}

// failingSecrets fails the test whenever a secret is read.
type failingSecrets struct{ t *testing.T }

func (f failingSecrets) ReadSecret(s *topology.Secret) ([]byte, error) {
	f.t.Errorf("secret %s read while rendering redacted", s.Source())
	return []byte("STYX-FAKE-SECRET-read-anyway"), nil
}

// TestRedactNeverReadsSecrets: Redact renders <redacted> for every secret
// and never calls the secret reader.
func TestRedactNeverReadsSecrets(t *testing.T) {
	for _, ex := range examples(t) {
		gws := renderAll(t, ex)
		for _, name := range sortedNames(gws) {
			gw := gws[name]
			t.Run(exampleName(ex)+"/"+name, func(t *testing.T) {
				files, err := render.Gateway(gw, render.Options{Source: ex, Secrets: failingSecrets{t}, Redact: true, Iptables: iptables.Render})
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range files {
					if bytes.Contains(f.Data, []byte("STYX-FAKE-SECRET")) {
						t.Errorf("%s contains a secret", f.Path)
					}
				}
				parsed, err := parseSettings(string(fileData(t, files, render.SecretsConf)))
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range gw.Secrets {
					if got := parsed.sub("secrets", s.Name).value("secret"); got != swanctl.Redacted {
						t.Errorf("secrets.%s.secret = %q, want %s", s.Name, got, swanctl.Redacted)
					}
				}
			})
		}
	}
	// a nil reader is fine too
	gws := renderAll(t, "../../examples/s1-iot-cloud.yaml")
	if _, err := render.Gateway(gws["cloud"], render.Options{Source: "s1.yaml", Redact: true}); err != nil {
		t.Errorf("redacted render without a reader: %v", err)
	}
}

var (
	styxBinOnce sync.Once
	styxBin     string
	styxBinErr  error
)

// buildStyx builds cmd/styx once per test binary.
func buildStyx(t *testing.T) string {
	t.Helper()
	styxBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "styx-render-test")
		if err != nil {
			styxBinErr = err
			return
		}
		styxBin = filepath.Join(dir, "styx")
		out, err := exec.Command("go", "build", "-o", styxBin, "../../cmd/styx").CombinedOutput()
		if err != nil {
			styxBinErr = fmt.Errorf("go build ./cmd/styx: %v\n%s", err, out)
		}
	})
	if styxBinErr != nil {
		t.Fatal(styxBinErr)
	}
	return styxBin
}

// TestMain removes the styx binary built by buildStyx.
func TestMain(m *testing.M) {
	code := m.Run()
	if styxBin != "" {
		os.RemoveAll(filepath.Dir(styxBin))
	}
	os.Exit(code)
}

// TestRenderCommandNeverPrintsSecrets runs the real styx render on a copy
// of every example whose secrets exist (files and environment variables
// with random fake keys): printed to stdout, secrets are redacted; written
// with --out, they appear only in swanctl/conf.d/secrets.conf, mode 0600;
// neither stdout nor stderr ever shows one.
func TestRenderCommandNeverPrintsSecrets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds cmd/styx")
	}
	bin := buildStyx(t)
	rng := rand.New(rand.NewPCG(3, 3))
	for _, ex := range examples(t) {
		t.Run(exampleName(ex), func(t *testing.T) {
			dir := t.TempDir()
			src, err := os.ReadFile(ex)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, filepath.Base(ex))
			if err := os.WriteFile(file, src, 0o644); err != nil {
				t.Fatal(err)
			}
			net, _, diags, err := topology.Load(file)
			if err != nil || diags.HasErrors() {
				t.Fatalf("%v %v", err, diags)
			}
			// create every secret the topology refers to
			values := map[string][]byte{}
			env := append(os.Environ(), "NO_COLOR=1")
			add := func(s *topology.Secret) {
				if s == nil || values[s.Source()] != nil {
					return
				}
				key := make([]byte, 33)
				for i := range key {
					key[i] = byte(rng.UintN(256))
				}
				v := []byte("0s" + base64.StdEncoding.EncodeToString(key))
				values[s.Source()] = v
				switch {
				case s.File != "":
					os.MkdirAll(filepath.Dir(s.File), 0o700)
					if err := os.WriteFile(s.File, append(v, '\n'), 0o600); err != nil {
						t.Fatal(err)
					}
				case s.Env != "":
					env = append(env, s.Env+"="+string(v))
				}
			}
			for _, tun := range net.Tunnels {
				add(tun.Auth.PSK)
			}
			for _, ra := range net.RemoteAccess {
				for _, u := range ra.Users {
					add(u.Password)
				}
			}
			run := func(args ...string) (stdout, stderr []byte) {
				t.Helper()
				cmd := exec.Command(bin, args...)
				cmd.Env = env
				var o, e bytes.Buffer
				cmd.Stdout, cmd.Stderr = &o, &e
				if err := cmd.Run(); err != nil {
					t.Fatalf("styx %s: %v\n%s", strings.Join(args, " "), err, e.String())
				}
				for what, data := range map[string][]byte{"stdout": o.Bytes(), "stderr": e.Bytes()} {
					if l := leaks(data, values); len(l) > 0 {
						t.Errorf("styx %s: %s shows %s", strings.Join(args, " "), what, strings.Join(l, ", "))
					}
				}
				return o.Bytes(), e.Bytes()
			}
			for _, g := range net.Gateways {
				out, _ := run("render", file, "--gateway", g.Name, "--external")
				if !bytes.Contains(out, []byte("==> "+g.Name+"/"+render.SecretsConf)) {
					t.Errorf("%s: stdout lacks the secrets file", g.Name)
				}
			}
			outDir := filepath.Join(dir, "out")
			run("render", file, "--all", "--external", "--out", outDir)
			found := 0
			err = filepath.WalkDir(outDir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				data, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				info, err := d.Info()
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(outDir, p)
				if strings.HasSuffix(filepath.ToSlash(rel), "/"+render.SecretsConf) {
					found++
					if info.Mode().Perm() != 0o600 {
						t.Errorf("%s: mode %o, want 0600", rel, info.Mode().Perm())
					}
					return nil
				}
				if l := leaks(data, values); len(l) > 0 {
					t.Errorf("%s contains %s", rel, strings.Join(l, ", "))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if found != len(net.Gateways) {
				t.Errorf("%d secrets files written for %d gateways", found, len(net.Gateways))
			}
			// the written secrets files hold the values
			for _, g := range net.Gateways {
				data, err := os.ReadFile(filepath.Join(outDir, g.Name, filepath.FromSlash(render.SecretsConf)))
				if err != nil {
					t.Fatal(err)
				}
				gws := planAll(t, net)
				for _, s := range gws[g.Name].Secrets {
					if !bytes.Contains(data, []byte(swanctl.SecretValue(s, values[s.Source.Source()]))) {
						t.Errorf("%s: secrets.conf lacks %s", g.Name, s.Name)
					}
				}
			}
		})
	}
}
