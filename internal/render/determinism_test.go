package render_test

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/render"
	"github.com/styx-vpn/styx/internal/render/iptables"
	"github.com/styx-vpn/styx/internal/topology"
)

// renderNetwork plans and renders every gateway of net (iptables too):
// gateway name -> path -> data.
func renderNetwork(t *testing.T, net *topology.Network, source string) map[string]map[string][]byte {
	t.Helper()
	out := map[string]map[string][]byte{}
	for name, gw := range planAll(t, net) {
		files, err := render.Gateway(gw, render.Options{Source: source, Secrets: fixedSecrets{}, Iptables: iptables.Render})
		if err != nil {
			t.Fatalf("render %s: %v", name, err)
		}
		if !slices.IsSortedFunc(files, func(a, b render.File) int { return strings.Compare(a.Path, b.Path) }) {
			t.Errorf("%s: files not sorted by path", name)
		}
		m := map[string][]byte{}
		for _, f := range files {
			if _, dup := m[f.Path]; dup {
				t.Errorf("%s: %s rendered twice", name, f.Path)
			}
			m[f.Path] = f.Data
		}
		out[name] = m
	}
	return out
}

// compareRenders reports every file that differs between two renders.
func compareRenders(t *testing.T, what string, a, b map[string]map[string][]byte) {
	t.Helper()
	if len(a) != len(b) {
		t.Errorf("%s: %d and %d gateways", what, len(a), len(b))
	}
	for gw, fa := range a {
		fb, ok := b[gw]
		if !ok {
			t.Errorf("%s: gateway %s missing in the second render", what, gw)
			continue
		}
		for path, da := range fa {
			db, ok := fb[path]
			switch {
			case !ok:
				t.Errorf("%s: %s/%s missing in the second render", what, gw, path)
			case !bytes.Equal(da, db):
				t.Errorf("%s: %s/%s differs:\n%s", what, gw, path, lineDiff(string(da), string(db)))
			}
		}
		if len(fa) != len(fb) {
			t.Errorf("%s: %s has %d and %d files", what, gw, len(fa), len(fb))
		}
	}
}

// TestRenderTwiceIdentical: loading, planning and rendering the same file
// twice gives byte-identical files (issue 3: "Rendering the same file twice
// gives byte-identical output").
func TestRenderTwiceIdentical(t *testing.T) {
	for _, ex := range examples(t) {
		t.Run(exampleName(ex), func(t *testing.T) {
			var renders [2]map[string]map[string][]byte
			for i := range renders {
				net, _, diags, err := topology.Load(ex)
				if err != nil || diags.HasErrors() {
					t.Fatalf("%v %v", err, diags)
				}
				renders[i] = renderNetwork(t, net, ex)
			}
			compareRenders(t, "second render", renders[0], renders[1])
		})
	}
	for seed := range uint64(10) {
		src := mixedTopology(rand.New(rand.NewPCG(seed, 1))).yaml()
		name := fmt.Sprintf("mixed-%d.yaml", seed)
		a := renderNetwork(t, loadGen(t, name, src), name)
		b := renderNetwork(t, loadGen(t, name, src), name)
		compareRenders(t, name, a, b)
	}
}

// TestShuffledTopologyRendersIdentically writes generated topologies with
// gateways, tunnel blocks, spokes, mesh members and services in other
// orders: the order of a YAML file's entries must not change a single
// rendered byte.
func TestShuffledTopologyRendersIdentically(t *testing.T) {
	cases := map[string]*genTopology{
		"hub-lan-service": hubTopology(15, hubOptions{service: true}),
		"hub-host":        hubTopology(15, hubOptions{hostToHost: true}),
		"mesh":            meshTopology(8),
	}
	for seed := range uint64(20) {
		cases[fmt.Sprintf("mixed-%02d", seed)] = mixedTopology(rand.New(rand.NewPCG(seed, 1)))
	}
	for name, g := range cases {
		t.Run(name, func(t *testing.T) {
			checkShuffles(t, g, 3)
		})
	}
}

func checkShuffles(t *testing.T, g *genTopology, n int) {
	t.Helper()
	const file = "gen.yaml"
	want := renderNetwork(t, loadGen(t, file, g.yaml()), file)
	rng := rand.New(rand.NewPCG(42, 7))
	for i := range n {
		s := g.shuffled(rng)
		got := renderNetwork(t, loadGen(t, file, s.yaml()), file)
		compareRenders(t, fmt.Sprintf("shuffle %d", i+1), want, got)
		if t.Failed() {
			t.Logf("original:\n%s\nshuffled:\n%s", g.yaml(), s.yaml())
			return
		}
	}
}

// TestShuffledRouteBasedRendersIdentically is the same for route-based
// tunnels, whose interface ids and transfer addresses styx allocates from
// a hash of the tunnel name with linear probing.
func TestShuffledRouteBasedRendersIdentically(t *testing.T) {
	t.Run("no-collision", func(t *testing.T) {
		checkShuffles(t, hubTopology(12, hubOptions{route: true, transfer: "2001:db8:ff::/64"}), 3)
	})
	t.Run("colliding-hashes", func(t *testing.T) {
		g := collidingRouteHub(t)
		checkShuffles(t, g, 3)
	})
}

// collidingRouteHub is a route-based hub whose spokes include two tunnel
// names with the same hashed if_id and two with the same transfer /31.
func collidingRouteHub(t *testing.T) *genTopology {
	t.Helper()
	const pool = "100.64.0.0/25" // 64 /31s
	hash := func(s string) uint32 {
		h := fnv.New32a()
		h.Write([]byte(s))
		return h.Sum32()
	}
	var spokes []string
	ids, slots := map[uint32]string{}, map[uint32]string{}
	var idPair, slotPair bool
	for i := 0; i < 20000 && !(idPair && slotPair); i++ {
		name := fmt.Sprintf("x%05d", i)
		h := hash("hub-" + name)
		if other, ok := ids[h%0xfff0]; ok && !idPair {
			spokes, idPair = append(spokes, other, name), true
		}
		ids[h%0xfff0] = name
		if other, ok := slots[h%64]; ok && !slotPair && len(slots) > 8 {
			spokes, slotPair = append(spokes, other, name), true
		}
		slots[h%64] = name
	}
	if !idPair || !slotPair {
		t.Fatal("no colliding tunnel names found")
	}
	g := hubTopology(0, hubOptions{route: true, transfer: pool})
	for i, s := range spokes {
		g.gateways = append(g.gateways, &genGateway{name: s, public: []string{v4(i + 1)}, lan: []string{v4LAN(i + 1)}})
		g.tunnels[0].spokes = append(g.tunnels[0].spokes, s)
	}
	return g
}
