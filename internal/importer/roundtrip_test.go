package importer

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/charon"
	"github.com/styx-vpn/styx/internal/netns"
)

// StarterPath is strongSwan's starter, which reads ipsec.conf and loads it
// into charon over the stroke socket (Debian's strongswan-starter).
const StarterPath = "/usr/lib/ipsec/starter"

// strokeGateway runs the original configuration: charon with the stroke
// plugin, fed by strongSwan's starter from ipsec.conf and ipsec.secrets.
// vici is loaded too, so that swanctl can list and initiate.
type strokeGateway struct {
	ns, dir string
	cmd     *exec.Cmd
	done    chan struct{}
}

func (g *strokeGateway) vici() string { return "unix://" + filepath.Join(g.dir, "run", "charon.vici") }

func (g *strokeGateway) swanctl(ctx context.Context, args ...string) (string, error) {
	args = append(args, "--uri", g.vici())
	out, err := netns.Run(ctx, g.ns, charon.SwanctlPath, args...)
	return string(out), err
}

func (g *strokeGateway) logTail(n int) string {
	b, _ := os.ReadFile(filepath.Join(g.dir, "charon.log"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func (g *strokeGateway) stop() {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(8 * time.Second):
		syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL)
		<-g.done
	}
}

// libipsecSettings let host-to-host tunnels work with kernel-libipsec (the
// test machine may lack kernel ESP): charon's own packets carry mark 0x42
// and bypass the routes into ipsec0, as styx renders them for libipsec
// gateways.
const libipsecSettings = `charon {
    plugins {
        kernel-libipsec {
            allow_peer_ts = yes
        }
        socket-default {
            fwmark = 0x42
        }
        kernel-netlink {
            fwmark = !0x42
        }
    }
}
`

// startStroke starts the original ipsec.conf of a fixture in namespace ns.
func startStroke(ctx context.Context, t *testing.T, ns, fixture string) *strokeGateway {
	t.Helper()
	if _, err := os.Stat(StarterPath); err != nil {
		t.Skipf("skipping: %s not installed (strongswan-starter)", StarterPath)
	}
	if _, err := os.Stat("/usr/lib/ipsec/plugins/libstrongswan-stroke.so"); err != nil {
		t.Skip("skipping: the stroke plugin is not installed")
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf, _ := filepath.Abs(filepath.Join(fixture, "ipsec.conf"))
	secrets, _ := filepath.Abs(filepath.Join(fixture, "ipsec.secrets"))
	ss := fmt.Sprintf(`charon {
    load = kernel-libipsec kernel-netlink %s stroke updown
    filelog {
        stroke {
            path = %s
            time_format = %%T
            default = 1
            ike = 2
            cfg = 2
            knl = 1
            append = yes
            flush_line = yes
        }
    }
    syslog {
        daemon {
            default = -1
        }
    }
    plugins {
        stroke {
            secrets_file = %s
            socket = unix://%s
        }
        vici {
            socket = unix://%s
        }
    }
}
starter {
    load_warning = no
}
%s`, charon.Plugins, filepath.Join(dir, "charon.log"), secrets, filepath.Join(dir, "run", "charon.ctl"), filepath.Join(dir, "run", "charon.vici"), libipsecSettings)
	ssPath := filepath.Join(dir, "strongswan.conf")
	if err := os.WriteFile(ssPath, []byte(ss), 0o644); err != nil {
		t.Fatal(err)
	}
	script := fmt.Sprintf("mount --bind '%s' /run && exec %s --nofork --conf '%s'", filepath.Join(dir, "run"), StarterPath, conf)
	cmd := exec.Command("ip", "netns", "exec", ns, "sh", "-c", script)
	cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+ssPath)
	out, err := os.Create(filepath.Join(dir, "starter.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g := &strokeGateway{ns: ns, dir: dir, cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(g.done) }()
	t.Cleanup(g.stop)
	// wait until starter has loaded the conns
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if list, err := g.swanctl(ctx, "--list-conns"); err == nil && strings.Contains(list, ":") {
			time.Sleep(500 * time.Millisecond) // the last conns of the file
			return g
		}
		select {
		case <-g.done:
			b, _ := os.ReadFile(filepath.Join(dir, "starter.out"))
			t.Fatalf("starter exited:\n%s\n%s", b, g.logTail(20))
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("the stroke charon did not load the conns:\n%s", g.logTail(30))
	return nil
}

// startConverted converts a fixture and runs it in a charon in ns.
func startConverted(ctx context.Context, t *testing.T, ns, fixture string) (*charon.Instance, *Result) {
	t.Helper()
	wd, _ := os.Getwd()
	res, _ := convertFixture(t, fixture)
	os.Chdir(wd)
	if res.Report.HasErrors() {
		t.Fatalf("conversion errors:\n%s", res.Report.Text(false))
	}
	dir := t.TempDir()
	writeSwanctl(t, dir, res)
	inst, err := charon.Start(ctx, charon.Config{NetNS: ns, Dir: dir, Dataplane: charon.Libipsec, Fragment: []byte(libipsecSettings)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inst.Stop() })
	file := filepath.Join(dir, "swanctl/swanctl.conf")
	for _, args := range [][]string{{"--load-creds", "--noprompt", "--file", file}, {"--load-conns", "--file", file}} {
		if out, err := inst.Swanctl(ctx, args...); err != nil || strings.Contains(string(out), "failed") {
			t.Fatalf("swanctl %s: %v\n%s", args[0], err, out)
		}
	}
	return inst, res
}

// link connects two namespaces with a veth pair and gives each end its
// address (host routes, so any two addresses work).
func link(ctx context.Context, t *testing.T, nsA, addrA, nsB, addrB string) {
	t.Helper()
	if _, err := netns.Run(ctx, "", "ip", "link", "add", "vx", "netns", nsA, "type", "veth", "peer", "name", "vx", "netns", nsB); err != nil {
		t.Fatal(err)
	}
	for _, s := range [][3]string{{nsA, addrA, addrB}, {nsB, addrB, addrA}} {
		for _, c := range [][]string{
			{"ip", "link", "set", "vx", "up"},
			{"ip", "addr", "add", s[1] + "/32", "dev", "vx"},
			{"ip", "route", "add", s[2] + "/32", "dev", "vx"},
		} {
			if _, err := netns.Run(ctx, s[0], c[0], c[1:]...); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func installed(list, child string) bool {
	for _, l := range strings.Split(list, "\n") {
		if strings.Contains(l, " "+child+": ") && strings.Contains(l, "INSTALLED") {
			return true
		}
	}
	return false
}

// TestIntegrationImportRoundTrip brings tunnels up between a gateway running
// a converted swanctl.conf and its peer running the original ipsec.conf with
// strongSwan's starter and the stroke plugin, in both directions.
func TestIntegrationImportRoundTrip(t *testing.T) {
	needCharon(t)
	vmLAN := []string{"10.45.8.17", "10.44.6.1"}
	dcLAN := []string{"100.15.30.1", "10.44.7.1"}
	type side struct {
		fixture, addr string
		// lan are addresses inside the local selectors (kernel-libipsec
		// routes from one of them, as a gateway's LAN address)
		lan []string
	}
	cases := []struct {
		name string
		// a is converted, b runs the original; initiator is "a" or "b"
		a, b      side
		initiator string
		children  []string // on a (and b, unless bChildren)
		bChildren []string
	}{
		{"sitea-converted", side{"seed000-client", "172.16.16.16", nil}, side{"seed000-server", "172.30.30.30", nil}, "a", []string{"cloud-sitea"}, nil},
		{"cloud-converted", side{"seed000-server", "172.30.30.30", nil}, side{"seed000-client", "172.16.16.16", nil}, "b", []string{"cloud-sitea"}, nil},
		{"vm-converted", side{"seed004-vm", "10.1.1.246", vmLAN}, side{"seed004-dc", "177.54.214.20", dcLAN}, "", []string{"dc-tun-tcp", "dc-tun-gre"}, []string{"vm-tcp", "vm-gre"}},
		{"dc-converted", side{"seed004-dc", "177.54.214.20", dcLAN}, side{"seed004-vm", "10.1.1.246", vmLAN}, "", []string{"vm-tcp", "vm-gre"}, []string{"dc-tun-tcp", "dc-tun-gre"}},
		{"sun-converted", side{"swap", "192.0.2.2", []string{"10.2.0.1"}}, side{"swap", "192.0.2.1", []string{"10.1.0.1"}}, "", []string{"moon-sun"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			nsA, nsB := netns.TempName("rta"), netns.TempName("rtb")
			for _, ns := range []string{nsA, nsB} {
				if err := netns.Add(ctx, ns); err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { netns.Delete(context.Background(), ns) })
			}
			link(ctx, t, nsA, tc.a.addr, nsB, tc.b.addr)
			for _, s := range []struct {
				ns  string
				lan []string
			}{{nsA, tc.a.lan}, {nsB, tc.b.lan}} {
				for _, a := range s.lan {
					if _, err := netns.Run(ctx, s.ns, "ip", "addr", "add", a+"/32", "dev", "lo"); err != nil {
						t.Fatal(err)
					}
				}
			}
			orig := startStroke(ctx, t, nsB, filepath.Join("testdata", tc.b.fixture))
			conv, _ := startConverted(ctx, t, nsA, filepath.Join("testdata", tc.a.fixture))
			for _, ch := range tc.children {
				var out []byte
				var err error
				switch tc.initiator {
				case "a":
					out, err = conv.Swanctl(ctx, "--initiate", "--child", ch, "--timeout", "20")
				case "b":
					var s string
					s, err = orig.swanctl(ctx, "--initiate", "--child", ch, "--timeout", "20")
					out = []byte(s)
				}
				if err != nil {
					t.Fatalf("initiate %s: %v\n%s\nconverted side:\n%s\noriginal side:\n%s", ch, err, out, conv.LogTail(30), orig.logTail(30))
				}
			}
			// auto=start conns come up by themselves: wait for all children
			deadline := time.Now().Add(30 * time.Second)
			for {
				la, _ := conv.Swanctl(ctx, "--list-sas")
				lb, _ := orig.swanctl(ctx, "--list-sas")
				missing := ""
				bch := tc.bChildren
				if bch == nil {
					bch = tc.children
				}
				for _, ch := range tc.children {
					if !installed(string(la), ch) {
						missing = ch + " (converted side)"
					}
				}
				for _, ch := range bch {
					if !installed(lb, ch) {
						missing = ch + " (original side)"
					}
				}
				if missing == "" {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("child %s is not INSTALLED\nconverted:\n%s\noriginal:\n%s\nconverted log:\n%s\noriginal log:\n%s", missing, la, lb, conv.LogTail(400), orig.logTail(400))
				}
				time.Sleep(300 * time.Millisecond)
			}
		})
	}
}
