package lab_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/charon"
	"github.com/styx-vpn/styx/internal/netns"
)

// buildStyx builds the styx binary the lab runs inside its namespaces.
func buildStyx(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "styx")
	cmd := exec.Command("go", "build", "-o", bin, "../../cmd/styx")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func needLab(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("skipping: the lab needs root")
	}
	if err := charon.Available(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	for _, b := range []string{"nft", "tcpdump", "ip"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("skipping: %s not installed", b)
		}
	}
}

// styx runs the binary and returns its combined output and exit code.
func styx(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("styx %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), code
}

// assertClean checks that nothing of lab id is left.
func assertClean(t *testing.T, id string) {
	t.Helper()
	if left := netns.List(netns.Prefix + id + "-"); len(left) > 0 {
		t.Errorf("namespaces left behind: %v", left)
	}
}

// TestIntegrationLabExamples brings every example up in the lab, runs its
// expectations and takes it down again.
func TestIntegrationLabExamples(t *testing.T) {
	needLab(t)
	bin := buildStyx(t)
	files, _ := filepath.Glob("../../examples/s*.yaml")
	if len(files) < 5 {
		t.Fatalf("want the five examples, found %v", files)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "lab")
			id := strings.TrimSuffix(filepath.Base(f), ".yaml")
			t.Cleanup(func() { styx(t, bin, "lab", "down", f, "--dir", dir) })
			out, code := styx(t, bin, "lab", "up", f, "--dir", dir, "--test", "--down")
			t.Log("\n" + out)
			if code != 0 {
				t.Fatalf("lab up --test exited %d", code)
			}
			m := regexp.MustCompile(`(\d+) passed, 0 failed`).FindStringSubmatch(out)
			if m == nil || m[1] == "0" {
				t.Fatalf("no passing result line in the output")
			}
			_ = id
		})
	}
}

// TestIntegrationLabBroken breaks a running S1 lab the way users do and
// checks that lab test fails with a message pointing at the cause: a DNAT
// without the IPsec policy match, a firewall that drops ESP, and a PSK
// that differs on one side.
func TestIntegrationLabBroken(t *testing.T) {
	needLab(t)
	bin := buildStyx(t)
	topo := "../../examples/s1-iot-cloud.yaml"
	dir := filepath.Join(t.TempDir(), "lab")
	t.Cleanup(func() {
		styx(t, bin, "lab", "down", topo, "--dir", dir)
		assertClean(t, "s1iotcloud")
	})
	if out, code := styx(t, bin, "lab", "up", topo, "--dir", dir); code != 0 {
		t.Fatalf("lab up: %s", out)
	}
	exec := func(t *testing.T, node string, args ...string) string {
		t.Helper()
		out, code := styx(t, bin, append([]string{"lab", "exec", topo, "--dir", dir, node, "--"}, args...)...)
		if code != 0 {
			t.Fatalf("lab exec %s %v: %s", node, args, out)
		}
		return out
	}
	t.Run("dnat-without-policy-match", func(t *testing.T) {
		// a DNAT that does not require IPsec publishes the server to the internet
		exec(t, "cloud", "nft", "insert", "rule", "inet", "styx", "dstnat", "ip", "daddr", "172.30.30.30", "tcp", "dport", "8080", "dnat", "ip", "to", "10.0.0.2:8080")
		exec(t, "cloud", "nft", "insert", "rule", "inet", "styx", "forward", "ct", "status", "dnat", "accept")
		out, code := styx(t, bin, "lab", "test", topo, "--dir", dir)
		t.Log("\n" + out)
		if code == 0 || !regexp.MustCompile(`FAIL\s+internet -> iot-api .*but the expectation is deny`).MatchString(out) {
			t.Fatalf("lab test did not catch the plaintext DNAT (exit %d)", code)
		}
	})
	t.Run("firewall-drops-esp", func(t *testing.T) {
		// cloud's firewall drops ESP from sitea, raw and in UDP/4500
		// (where IKE, with its zero non-ESP marker, still passes): the
		// tunnel stays up, traffic dies, and lab test must say where
		drop := "nft insert rule inet styx guard_in ip saddr 172.16.16.16 meta l4proto esp counter drop comment styx-test-drop && " +
			"nft insert rule inet styx guard_in ip saddr 172.16.16.16 udp dport 4500 @th,64,32 != 0 counter drop comment styx-test-drop"
		exec(t, "cloud", "sh", "-c", drop)
		defer exec(t, "cloud", "sh", "-c", "nft -a list chain inet styx guard_in | awk '/styx-test-drop/ {print $NF}' | "+
			"while read h; do nft delete rule inet styx guard_in handle $h; done")
		out, code := styx(t, bin, "lab", "test", topo, "--dir", dir)
		t.Log("\n" + out)
		if code == 0 || !regexp.MustCompile(`FAIL\s+client-a -> iot-api .*sitea sent \d+ packet\(s\) into tunnel cloud-sitea and cloud received none: ESP`).MatchString(out) {
			t.Fatalf("lab test did not point at the dropped ESP (exit %d)", code)
		}
		if !regexp.MustCompile(`FAIL\s+client-a -> \S+ across a rekey .*none of \d+ probes was answered: the path is broken`).MatchString(out) {
			t.Errorf("the rekey test blames the rekey for a broken path")
		}
	})
	t.Run("psk-mismatch", func(t *testing.T) {
		// cloud gets another key for sitea; the tunnel is renegotiated
		exec(t, "cloud", "sh", "-c", `printf 'secrets { ike-cloud-sitea { id-1 = @cloud
id-2 = @sitea
secret = 0sd3JvbmctcHNrLXdyb25nLXBzay13cm9uZy1wc2std3Jvbmc= } }' > /tmp/wrong.conf && swanctl --load-creds --clear --noprompt --file /tmp/wrong.conf && rm /tmp/wrong.conf`)
		exec(t, "sitea", "swanctl", "--terminate", "--ike", "cloud-sitea", "--force")
		exec(t, "sitea", "sh", "-c", "swanctl --initiate --child cloud-sitea --timeout 5 || true")
		out, code := styx(t, bin, "lab", "test", topo, "--dir", dir)
		t.Log("\n" + out)
		if code == 0 || !regexp.MustCompile(`FAIL\s+tunnel cloud-sitea is up.*(AUTHENTICATION_FAILED|authentication of .* failed)`).MatchString(out) {
			t.Fatalf("lab test did not point at the PSK (exit %d)", code)
		}
		if !regexp.MustCompile(`FAIL\s+client-a -> iot-api .*tunnel cloud-sitea has no CHILD_SA at`).MatchString(out) {
			t.Errorf("the failed probe does not point at the missing CHILD_SA")
		}
	})
}

// TestIntegrationApplyKeepsSAs: with both tunnels of a hub up, changing one
// tunnel's lifetime and re-applying reloads only that connection; the
// other tunnel keeps its IKE_SA (same unique id). A second apply is a no-op.
func TestIntegrationApplyKeepsSAs(t *testing.T) {
	needLab(t)
	bin := buildStyx(t)
	dir := t.TempDir()
	topo := filepath.Join(dir, "two.yaml")
	write := func(lifetime string) {
		os.WriteFile(topo, []byte(`styx: 1
gateways:
  hub: {public: 192.0.2.1, lan: 10.0.0.0/24}
  a:   {public: 192.0.2.11, lan: 10.1.0.0/24}
  b:   {public: 192.0.2.12, lan: 10.2.0.0/24}
tunnels:
  - between: [a, hub]
    psk: {value: "0sdGVzdC1rZXktZm9yLXR1bm5lbC1hLW9ubHktaW4tdGhlLWxhYg=="}
    lifetime: {child: `+lifetime+`}
  - between: [b, hub]
    psk: {value: "0sdGVzdC1rZXktZm9yLXR1bm5lbC1iLW9ubHktaW4tdGhlLWxhYg=="}
lab:
  hosts:
    pa: {behind: a, address: 10.1.0.10}
    srv: {behind: hub, address: 10.0.0.10, serve: [tcp/80]}
  expect:
    - {from: pa, to: "srv:80/tcp", result: allow}
`), 0o644)
	}
	write("1h")
	labdir := filepath.Join(dir, "lab")
	t.Cleanup(func() { styx(t, bin, "lab", "down", topo, "--dir", labdir); assertClean(t, "two") })
	if out, code := styx(t, bin, "lab", "up", topo, "--dir", labdir); code != 0 {
		t.Fatalf("lab up: %s", out)
	}
	ikeIDs := func() map[string]string {
		out, code := styx(t, bin, "lab", "exec", topo, "--dir", labdir, "hub", "--", bin, "status", "--format", "json")
		if code != 0 && code != 3 {
			t.Fatalf("status: %s", out)
		}
		ids := map[string]string{}
		for _, m := range regexp.MustCompile(`"name": "([a-z-]+)",\s+"unique_id": "(\d+)",\s+"version"`).FindAllStringSubmatch(out, -1) {
			ids[m[1]] = m[2]
		}
		return ids
	}
	before := ikeIDs()
	if before["a-hub"] == "" || before["b-hub"] == "" {
		t.Fatalf("both tunnels should be up before the change: %v", before)
	}
	write("2h")
	apply := func() string {
		// as the docs say: plain `styx` (lab exec puts this binary first
		// in PATH) with its default socket and state (STYX_STATE)
		out, code := styx(t, bin, "lab", "exec", topo, "--dir", labdir, "hub", "--", "styx", "apply", topo, "--gateway", "hub")
		if code != 0 {
			t.Fatalf("apply exited %d:\n%s", code, out)
		}
		return out
	}
	out := apply()
	t.Log("\n" + out)
	if !strings.Contains(out, "~ connection a-hub") || strings.Contains(out, "b-hub") {
		t.Fatalf("apply should reload only a-hub:\n%s", out)
	}
	after := ikeIDs()
	if after["b-hub"] != before["b-hub"] {
		t.Errorf("b-hub IKE_SA changed: %s -> %s (an unchanged tunnel must keep its SA)", before["b-hub"], after["b-hub"])
	}
	if out := apply(); !strings.Contains(out, "up to date, nothing changed") {
		t.Errorf("second apply changed something:\n%s", out)
	}
}

// TestIntegrationApplyConfirm: an apply with --confirm that is not
// confirmed rolls itself back; a confirmed one stays.
func TestIntegrationApplyConfirm(t *testing.T) {
	needLab(t)
	bin := buildStyx(t)
	dir := t.TempDir()
	orig := filepath.Join(dir, "s1.yaml")
	mod := filepath.Join(dir, "s1-mod.yaml")
	src, err := os.ReadFile("../../examples/s1-iot-cloud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(orig, src, 0o644)
	os.WriteFile(mod, []byte(strings.Replace(string(src), "masquerade: true            # the server", "masquerade: false            # the server", 1)), 0o644)
	labdir := filepath.Join(dir, "lab")
	t.Cleanup(func() { styx(t, bin, "lab", "down", orig, "--dir", labdir) })
	if out, code := styx(t, bin, "lab", "up", orig, "--dir", labdir); code != 0 {
		t.Fatalf("lab up: %s", out)
	}
	state := filepath.Join(labdir, "cloud", "state")
	run := func(args ...string) (string, int) {
		return styx(t, bin, append([]string{"lab", "exec", orig, "--dir", labdir, "cloud", "--", bin}, args...)...)
	}
	if out, code := run("apply", mod, "-g", "cloud", "--state", state, "--confirm", "2s"); code != 0 || !strings.Contains(out, "rolls back at") {
		t.Fatalf("apply --confirm: %d %s", code, out)
	}
	if _, code := run("plan", orig, "-g", "cloud", "--state", state); code != 2 {
		t.Fatalf("right after the apply the gateway should differ from the original (plan exit %d)", code)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		out, code := run("plan", orig, "-g", "cloud", "--state", state)
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rollback after the deadline:\n%s", out)
		}
		time.Sleep(300 * time.Millisecond)
	}
	// confirmed in time: stays
	if out, code := run("apply", mod, "-g", "cloud", "--state", state, "--confirm", "3s"); code != 0 {
		t.Fatalf("apply --confirm: %s", out)
	}
	if out, code := run("apply", mod, "-g", "cloud", "--state", state, "--confirm-ok"); code != 0 || !strings.Contains(out, "confirmed") {
		t.Fatalf("--confirm-ok: %d %s", code, out)
	}
	time.Sleep(4 * time.Second)
	if out, code := run("plan", mod, "-g", "cloud", "--state", state); code != 0 {
		t.Fatalf("a confirmed apply was rolled back:\n%s", out)
	}
}

// hubYAML generates a hub with n spokes, one client per spoke.
func hubYAML(n int) string {
	var b strings.Builder
	b.WriteString("styx: 1\ngateways:\n  hub: {public: 192.0.2.1, lan: 10.0.0.0/24}\n")
	var spokes []string
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "  s%d: {public: 198.51.100.%d, lan: 10.%d.0.0/24}\n", i, i, i)
		spokes = append(spokes, fmt.Sprintf("s%d", i))
	}
	fmt.Fprintf(&b, "tunnels:\n  - hub: hub\n    spokes: [%s]\n    psk: {file: \"secrets/{tunnel}.psk\"}\nlab:\n  hosts:\n    srv: {behind: hub, address: 10.0.0.10, serve: [tcp/80]}\n", strings.Join(spokes, ", "))
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "    c%d: {behind: s%d, address: 10.%d.0.10}\n", i, i, i)
	}
	return b.String()
}

// TestIntegrationLabInterrupted: Ctrl-C during lab up removes everything;
// a lab up killed with SIGKILL leaves a lab that lab down removes.
func TestIntegrationLabInterrupted(t *testing.T) {
	needLab(t)
	bin := buildStyx(t)
	dir := t.TempDir()
	topo := filepath.Join(dir, "hubint.yaml")
	os.WriteFile(topo, []byte(hubYAML(10)), 0o644)
	labdir := filepath.Join(dir, "lab")
	t.Cleanup(func() { styx(t, bin, "lab", "down", topo, "--dir", labdir) })
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		cmd := exec.Command(bin, "lab", "up", topo, "--dir", labdir)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// interrupt once the gateways are being configured
		deadline := time.Now().Add(20 * time.Second)
		for !strings.Contains(out.String(), "gateway s3") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		cmd.Process.Signal(sig)
		cmd.Wait()
		if sig == syscall.SIGKILL {
			if left := netns.List(netns.Prefix + "hubint-"); len(left) == 0 {
				t.Fatalf("after SIGKILL a lab should be left behind (for lab down to prove it can remove it)")
			}
			out, code := styx(t, bin, "lab", "down", topo, "--dir", labdir)
			if code != 0 {
				t.Fatalf("lab down: %s", out)
			}
		}
		if left := netns.List(netns.Prefix + "hubint-"); len(left) > 0 {
			t.Fatalf("after %v: namespaces left: %v\n%s", sig, left, out.String())
		}
		if b, _ := exec.Command("pgrep", "-f", labdir).Output(); len(b) > 0 {
			t.Fatalf("after %v: processes left: %s", sig, b)
		}
		if _, err := os.Stat(labdir); err == nil {
			t.Fatalf("after %v: lab directory left", sig)
		}
	}
}
