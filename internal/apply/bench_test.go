package apply_test

// Benchmarks of issue 4 item 5 against a real charon (root only): a hub
// with 1,000 spokes is loaded once, then one spoke's tunnel changes.
//
//	go test ./internal/apply -run '^$' -bench 'OneSpoke|LoadAll' -benchtime 3x
//
// BenchmarkApplyOneSpokeChange plans and applies the change with styx
// (reporting the VICI calls per op: O(changed), not O(spokes));
// BenchmarkSwanctlLoadAll does what an operator without styx does, a
// swanctl --load-all of the rendered configuration of all 1,000
// connections.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/apply/applytest"
	"github.com/styx-vpn/styx/internal/render"
	"github.com/styx-vpn/styx/internal/topology"
)

const benchSpokes = 1000

// hubBenchYAML is a hub with n spokes, each with its own lan and its own
// tunnel (the hub responds) with an inline test key; spoke 0's tunnel has
// the child lifetime life0.
func hubBenchYAML(n int, life0 string) []byte {
	var b strings.Builder
	b.WriteString("styx: 1\ngateways:\n  hub: {public: 192.0.2.1, lan: 10.0.0.0/16}\n")
	for i := range n {
		fmt.Fprintf(&b, "  s%d: {public: 198.51.%d.%d, lan: 10.%d.%d.0/24}\n", i, 100+i/250, 1+i%250, 1+i/250, i%250)
	}
	b.WriteString("tunnels:\n")
	for i := range n {
		sum := sha256.Sum256([]byte("styx benchmark test key " + strconv.Itoa(i)))
		fmt.Fprintf(&b, "  - between: [s%d, hub]\n    psk: {value: \"0s%s\"}\n", i, base64.StdEncoding.EncodeToString(sum[:]))
		if i == 0 {
			fmt.Fprintf(&b, "    lifetime: {child: %s}\n", life0)
		}
	}
	return []byte(b.String())
}

// hubBenchDesired is the desired state of the hub, with spoke 0's child
// lifetime life0.
func hubBenchDesired(b *testing.B, life0 string) apply.Desired {
	b.Helper()
	net, _, diags, err := topology.LoadBytes("hub1000.yaml", hubBenchYAML(benchSpokes, life0))
	if err != nil || net == nil || diags.HasErrors() {
		b.Fatalf("hub topology: %v\n%v", err, diags)
	}
	d := liveDesired(b, net, "hub", "hub1000.yaml", liveSecrets{})
	if len(d.Gateway.Conns) != benchSpokes || len(d.Gateway.Secrets) != benchSpokes {
		b.Fatalf("hub has %d connections and %d secrets, want %d of each", len(d.Gateway.Conns), len(d.Gateway.Secrets), benchSpokes)
	}
	return d
}

// BenchmarkApplyOneSpokeChange: styx plan + styx apply of a change of one
// spoke's child lifetime on a hub with 1,000 connections loaded. "full" is
// the engine styx apply builds (VICI, nftables, sysctls, commands);
// "vici-only" leaves the firewall and sysctls alone, which isolates the
// charon part.
func BenchmarkApplyOneSpokeChange(b *testing.B) {
	liveNeed(b)
	ds := [2]apply.Desired{hubBenchDesired(b, "1h"), hubBenchDesired(b, "2h")}
	g := liveStart(b, "bapply", render.Strongswan(ds[0].Gateway, "hub1000.yaml"))
	ctx := context.Background()
	full := g.engine(apply.ViciStore{C: g.client}, g.exec())

	calls, start := g.client.Calls(), time.Now()
	changes, err := full.Apply(ctx, ds[0])
	if err != nil {
		b.Fatalf("initial apply: %v", err)
	}
	setup := time.Since(start)
	// logged from the first sub-benchmark: a parent's log is not printed
	setupLog := fmt.Sprintf("initial apply of %d connections and %d secrets (+ nftables, sysctls): %v, %d changes, %d VICI calls",
		benchSpokes, benchSpokes, setup.Round(time.Millisecond), len(changes), g.client.Calls()-calls)
	if left, err := full.Plan(ctx, ds[0]); err != nil || len(left) > 0 {
		b.Fatalf("plan after the initial apply: %v, %d changes", err, len(left))
	}
	cur := 0 // index of the applied variant

	run := func(e *apply.Engine) func(b *testing.B) {
		return func(b *testing.B) {
			var planTime, applyTime time.Duration
			ops, calls := 0, g.client.Calls()
			for b.Loop() {
				d := ds[1-cur]
				t0 := time.Now()
				planned, err := e.Plan(ctx, d)
				t1 := time.Now()
				if err != nil || len(planned) != 1 || planned[0].Name != "s0-hub" {
					b.Fatalf("plan: %v\n%s", err, liveChanges(planned))
				}
				applied, err := e.Apply(ctx, d)
				applyTime += time.Since(t1)
				planTime += t1.Sub(t0)
				if err != nil || len(applied) != 1 {
					b.Fatalf("apply: %v\n%s", err, liveChanges(applied))
				}
				cur = 1 - cur
				ops++
			}
			perOp := float64(g.client.Calls()-calls) / float64(ops)
			b.ReportMetric(setup.Seconds(), "initial-apply-s")
			if setupLog != "" {
				b.Log(setupLog)
				setupLog = ""
			}
			b.ReportMetric(perOp, "vici-calls/op")
			b.ReportMetric(float64(planTime.Microseconds())/1000/float64(ops), "plan-ms/op")
			b.ReportMetric(float64(applyTime.Microseconds())/1000/float64(ops), "apply-ms/op")
			// plan: get-conns, get-shared, get-pools; apply: the same and
			// one load-conn
			if perOp != 7 {
				b.Errorf("%.1f VICI calls per one-spoke change, want 7 (3 for plan, 3 + 1 load-conn for apply)", perOp)
			}
		}
	}
	b.Run("full", run(full))
	b.Run("vici-only", run(&apply.Engine{Store: apply.ViciStore{C: g.client}, StateDir: g.stateDir, ReadFile: os.ReadFile}))

	details, err := liveConnDetails(ctx, g.peek)
	if err != nil {
		b.Fatal(err)
	}
	want := map[int]string{0: "rekey_time = 3600", 1: "rekey_time = 7200"}[cur]
	if !strings.Contains(details["s0-hub"], want) {
		b.Errorf("s0-hub in charon does not have %s:\n%s", want, details["s0-hub"])
	}
	if len(details) != benchSpokes {
		b.Errorf("charon lists %d connections, want %d", len(details), benchSpokes)
	}
}

var swanctlLoaded = regexp.MustCompile(`successfully loaded (\d+) connections`)

// BenchmarkSwanctlLoadAll: the same one-spoke change done the classic way,
// swanctl --load-all of the rendered swanctl.conf (and secrets) of all
// 1,000 connections into a charon that has them loaded.
func BenchmarkSwanctlLoadAll(b *testing.B) {
	liveNeed(b)
	var confs [2][]byte
	var frag []byte
	var files0 []render.File
	for i, life := range []string{"1h", "2h"} {
		d := hubBenchDesired(b, life)
		files, err := render.Gateway(d.Gateway, render.Options{Source: "hub1000.yaml", Secrets: liveSecrets{}})
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			switch f.Path {
			case render.SwanctlConf:
				confs[i] = f.Data
			case render.StrongswanFrg:
				frag = f.Data
			}
		}
		if i == 0 {
			files0 = files // the instance directory gets every swanctl file of variant 0
		}
	}
	g := liveStart(b, "bswan", frag)
	for _, f := range files0 {
		if !strings.HasPrefix(f.Path, "swanctl/") {
			continue
		}
		p := filepath.Join(g.dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, f.Mode); err != nil {
			b.Fatal(err)
		}
	}
	ctx := context.Background()
	loadAll := func() int {
		out, err := g.inst.Swanctl(ctx, "--load-all", "--noprompt")
		if err != nil {
			b.Fatalf("swanctl --load-all: %v", err)
		}
		m := swanctlLoaded.FindSubmatch(out)
		if m == nil || strings.Contains(string(out), "failed") {
			b.Fatalf("swanctl --load-all:\n%s", out)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n + strings.Count(string(out), "loaded ike secret")
	}
	start := time.Now()
	loads := loadAll()
	setup := time.Since(start)
	b.Logf("initial swanctl --load-all into an empty charon: %v, %d connections and secrets loaded", setup.Round(time.Millisecond), loads)
	cur := 0
	conf := filepath.Join(g.dir, render.SwanctlConf)
	total, ops := 0, 0
	for b.Loop() {
		b.StopTimer()
		if err := os.WriteFile(conf, confs[1-cur], 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		total += loadAll()
		cur = 1 - cur
		ops++
	}
	b.ReportMetric(setup.Seconds(), "initial-load-s")
	b.ReportMetric(float64(total)/float64(ops), "vici-loads/op")
	details, err := liveConnDetails(ctx, g.peek)
	if err != nil {
		b.Fatal(err)
	}
	want := map[int]string{0: "rekey_time = 3600", 1: "rekey_time = 7200"}[cur]
	if !strings.Contains(details["s0-hub"], want) || len(details) != benchSpokes {
		b.Errorf("after --load-all charon has %d connections, s0-hub without %s:\n%s", len(details), want, details["s0-hub"])
	}
}

// BenchmarkApplyOneSpokeChangeFake is BenchmarkApplyOneSpokeChange against
// the applytest fakes (no root, no charon): what the engine itself costs
// (state file, diff of all connections) apart from charon and nft.
func BenchmarkApplyOneSpokeChangeFake(b *testing.B) {
	ds := [2]apply.Desired{hubBenchDesired(b, "1h"), hubBenchDesired(b, "2h")}
	g := applytest.NewGateway()
	e := g.Engine(b.TempDir())
	ctx := context.Background()
	if _, err := e.Apply(ctx, ds[0]); err != nil {
		b.Fatal(err)
	}
	cur := 0
	var planTime, applyTime time.Duration
	ops := 0
	g.Reset()
	for b.Loop() {
		d := ds[1-cur]
		t0 := time.Now()
		planned, err := e.Plan(ctx, d)
		t1 := time.Now()
		if err != nil || len(planned) != 1 {
			b.Fatalf("plan: %v\n%s", err, liveChanges(planned))
		}
		if _, err := e.Apply(ctx, d); err != nil {
			b.Fatal(err)
		}
		applyTime += time.Since(t1)
		planTime += t1.Sub(t0)
		cur = 1 - cur
		ops++
	}
	b.ReportMetric(float64(g.Store.Calls())/float64(ops), "vici-calls/op")
	b.ReportMetric(float64(planTime.Microseconds())/1000/float64(ops), "plan-ms/op")
	b.ReportMetric(float64(applyTime.Microseconds())/1000/float64(ops), "apply-ms/op")
}
