package render_test

import (
	"bufio"
	"bytes"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render"
	"github.com/styx-vpn/styx/internal/render/iptables"
	"github.com/styx-vpn/styx/internal/render/nft"
	"github.com/styx-vpn/styx/internal/topology"
)

// Issue 3, item 5: plan + render all gateways of a 1,000-spoke hub and of
// a 100-gateway full mesh, and the size of the hub's nftables ruleset.
//
//	go test ./internal/render -run '^$' -bench . -benchtime 3x

// benchNetwork resolves a generated topology outside the timer.
func benchNetwork(b *testing.B, g *genTopology) *topology.Network {
	b.Helper()
	return loadGen(b, "bench.yaml", g.yaml())
}

// planRenderAll plans and renders every gateway of net (nft, iptables and
// everything else) and returns the total bytes rendered.
func planRenderAll(b *testing.B, net *topology.Network) int {
	total := 0
	for _, g := range net.Gateways {
		gw, err := plan.Build(net, g.Name, plan.Options{External: true})
		if err != nil {
			b.Fatal(err)
		}
		files, err := render.Gateway(gw, render.Options{Source: "bench.yaml", Secrets: fixedSecrets{}, Iptables: iptables.Render})
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			total += len(f.Data)
		}
	}
	return total
}

func benchPlanRender(b *testing.B, g *genTopology) {
	net := benchNetwork(b, g)
	b.ReportAllocs()
	b.ResetTimer()
	var total int
	for b.Loop() {
		total = planRenderAll(b, net)
	}
	b.ReportMetric(float64(len(net.Gateways)), "gateways")
	b.ReportMetric(float64(len(net.Tunnels)), "tunnels")
	b.ReportMetric(float64(total), "bytes-rendered")
}

// BenchmarkPlanRenderHub1000: a hub with 1,000 spokes (LAN selectors, a
// service published to every spoke, masquerade on the hub): 1,001
// gateways, 1,000 tunnels.
func BenchmarkPlanRenderHub1000(b *testing.B) {
	benchPlanRender(b, hubTopology(1000, hubOptions{service: true}))
}

// BenchmarkPlanRenderMesh100: 100 gateways in one mesh block, 4,950
// tunnels.
func BenchmarkPlanRenderMesh100(b *testing.B) {
	benchPlanRender(b, meshTopology(100))
}

// nftRuleCount counts the rules of an nftables file: the statements
// inside chain blocks (not the chain type line, comments or braces, and
// not set elements).
func nftRuleCount(t testing.TB, data []byte) (rules, chains int) {
	t.Helper()
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 64<<20)
	in := false
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "chain ") && strings.HasSuffix(l, "{"):
			in = true
			chains++
		case !in:
		case l == "}":
			in = false
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "type "):
		default:
			rules++
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rules, chains
}

// iptablesRuleCount counts -A lines (for comparison: iptables has no sets).
func iptablesRuleCount(data []byte) int {
	return bytes.Count(data, []byte("\n-A "))
}

// TestNftRuleCountConstant renders the hub's nftables file for 10 and
// 1,000 spokes: peers and selectors live in sets, so the number of rules
// must not grow with the spokes.
func TestNftRuleCountConstant(t *testing.T) {
	for _, v := range []struct {
		name string
		o    hubOptions
	}{
		{"lan+service", hubOptions{service: true}},
		{"host-to-host", hubOptions{hostToHost: true}},
	} {
		t.Run(v.name, func(t *testing.T) {
			var rules, sizes, ipt [2]int
			for i, n := range []int{10, 1000} {
				net := loadGen(t, "hub.yaml", hubTopology(n, v.o).yaml())
				gw, err := plan.Build(net, "hub", plan.Options{})
				if err != nil {
					t.Fatal(err)
				}
				data := nft.Render(gw, "hub.yaml")
				r, chains := nftRuleCount(t, data)
				v4, _ := iptables.Render(gw, "hub.yaml")
				rules[i], sizes[i], ipt[i] = r, len(data), iptablesRuleCount(v4)
				t.Logf("%4d spokes: nftables %d rules in %d chains, %d bytes; iptables %d rules, %d bytes",
					n, r, chains, len(data), ipt[i], len(v4))
				if r == 0 {
					t.Fatal("no rules counted")
				}
			}
			if d := rules[1] - rules[0]; d < -2 || d > 2 {
				t.Errorf("hub nftables rules: %d for 10 spokes, %d for 1,000: the rule count grows with the spokes", rules[0], rules[1])
			}
			if sizes[1] <= sizes[0] {
				t.Errorf("1,000 spokes rendered %d bytes, 10 spokes %d: the sets are missing elements", sizes[1], sizes[0])
			}
		})
	}
}
