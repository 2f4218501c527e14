package lab

import (
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/topology"
)

func TestExplainLoss(t *testing.T) {
	a, b := &topology.Gateway{Name: "sitea"}, &topology.Gateway{Name: "cloud"}
	tun := &topology.Tunnel{Name: "cloud-sitea", Ends: [2]topology.End{{Gateway: b}, {Gateway: a}}}
	// counters as [cloud, sitea]
	at := func(in, out [2]uint64) []flowCounts {
		return []flowCounts{{tun: tun, in: in, out: out, children: [2]int{1, 1}, ok: true}}
	}
	base := at([2]uint64{10, 20}, [2]uint64{30, 40})
	tests := []struct {
		name  string
		after []flowCounts
		want  string // substring; "" = no explanation
	}{
		{"nothing sent", at([2]uint64{10, 20}, [2]uint64{30, 40}), "nothing entered tunnel cloud-sitea at sitea"},
		{"sent, not received", at([2]uint64{10, 20}, [2]uint64{30, 43}), "sitea sent 3 packet(s) into tunnel cloud-sitea and cloud received none: ESP (IP protocol 50) or UDP/4500 from sitea is dropped on the way or by cloud's firewall"},
		{"received, no answer", at([2]uint64{13, 20}, [2]uint64{30, 43}), "cloud received 3 packet(s) through tunnel cloud-sitea and sent nothing back"},
		{"answer lost", at([2]uint64{13, 20}, [2]uint64{32, 43}), "cloud answered with 2 packet(s) through tunnel cloud-sitea and sitea received none: ESP (IP protocol 50) or UDP/4500 from cloud is dropped on the way or by sitea's firewall"},
		{"all flowed", at([2]uint64{13, 22}, [2]uint64{32, 43}), ""},
		{"rekeyed in between", at([2]uint64{1, 1}, [2]uint64{1, 1}), ""},
		{"unreadable", []flowCounts{{tun: tun, children: [2]int{1, 1}}}, ""},
		{"no child at the source", []flowCounts{{tun: tun, in: [2]uint64{10, 20}, out: [2]uint64{30, 40}, children: [2]int{1, 0}, ok: true}}, `tunnel cloud-sitea has no CHILD_SA at sitea (see the test "tunnel cloud-sitea is up")`},
		{"no child at the peer", []flowCounts{{tun: tun, in: [2]uint64{10, 20}, out: [2]uint64{30, 40}, children: [2]int{0, 2}, ok: true}}, "tunnel cloud-sitea has no CHILD_SA at cloud"},
		{"no tunnel", nil, ""},
	}
	for _, tt := range tests {
		got := explainLoss(base, tt.after, a)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: explainLoss = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := explainLoss(base, at([2]uint64{10, 20}, [2]uint64{30, 40}), &topology.Gateway{Name: "other"}); got != "" {
		t.Errorf("source not on the tunnel: %q", got)
	}
}
