package lint_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/lint"
	"github.com/styx-vpn/styx/internal/topology"
)

// derivedSecrets returns a distinct strong key for every secret (0x + 32
// bytes of hex derived from its name), so the benchmarks exercise the
// strength and reuse checks.
type derivedSecrets struct{}

func (derivedSecrets) ReadSecret(s *topology.Secret) ([]byte, error) {
	sum := sha256.Sum256([]byte(s.File + "\x00" + s.Env))
	return []byte("0x" + hex.EncodeToString(sum[:])), nil
}

// hubYAML is a hub with n spokes, each with its own /24 and public
// address, in one hub block with a key per spoke.
func hubYAML(n int) []byte {
	var b strings.Builder
	b.WriteString("styx: 1\ngateways:\n  hub: {public: 192.0.2.1, lan: 10.0.0.0/16}\n")
	spokes := make([]string, n)
	for i := range n {
		spokes[i] = fmt.Sprintf("s%d", i)
		fmt.Fprintf(&b, "  s%d: {public: 198.51.%d.%d, lan: 10.%d.%d.0/24}\n", i, 100+i/250, 1+i%250, 1+i/250, i%250)
	}
	fmt.Fprintf(&b, "tunnels:\n  - hub: hub\n    spokes: [%s]\n    psk: {env: \"PSK_{spoke}\"}\n", strings.Join(spokes, ", "))
	return []byte(b.String())
}

// meshYAML is n gateways in one full mesh: n(n-1)/2 tunnels.
func meshYAML(n int) []byte {
	var b strings.Builder
	b.WriteString("styx: 1\ngateways:\n")
	names := make([]string, n)
	for i := range n {
		names[i] = fmt.Sprintf("g%d", i)
		fmt.Fprintf(&b, "  g%d: {public: 198.51.%d.%d, lan: 10.%d.0.0/24}\n", i, 100+i/250, 1+i%250, i)
	}
	fmt.Fprintf(&b, "tunnels:\n  - mesh: [%s]\n    psk: {env: \"PSK_{tunnel}\"}\n", strings.Join(names, ", "))
	return []byte(b.String())
}

func benchLoadLint(b *testing.B, src []byte, wantTunnels int) {
	// once outside the timed loop: the input is what we think it is
	net, file, diags, err := topology.LoadBytes("bench.yaml", src)
	if err != nil || diags.HasErrors() || net == nil {
		b.Fatalf("LoadBytes: %v\n%s", err, formatDiags(diags))
	}
	if len(net.Tunnels) != wantTunnels {
		b.Fatalf("%d tunnels, want %d", len(net.Tunnels), wantTunnels)
	}
	if l := lint.Run(net, file, lint.Options{Secrets: derivedSecrets{}}); l.HasErrors() {
		b.Fatalf("lint errors:\n%s", formatDiags(l))
	}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		net, file, _, err := topology.LoadBytes("bench.yaml", src)
		if err != nil || net == nil {
			b.Fatal(err)
		}
		lint.Run(net, file, lint.Options{Secrets: derivedSecrets{}})
	}
}

func BenchmarkHub1000(b *testing.B) { benchLoadLint(b, hubYAML(1000), 1000) }

func BenchmarkMesh100(b *testing.B) { benchLoadLint(b, meshYAML(100), 4950) }
