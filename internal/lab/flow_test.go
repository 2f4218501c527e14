package lab

import (
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/topology"
)

func TestExplainLoss(t *testing.T) {
	a, b := &topology.Gateway{Name: "sitea"}, &topology.Gateway{Name: "cloud"}
	tun := &topology.Tunnel{Name: "cloud-sitea", Ends: [2]topology.End{{Gateway: b}, {Gateway: a}}}
	// one CHILD_SA per end: cloud's (id 1) and sitea's (id 2)
	at := func(cloud, sitea saCount) []flowCounts {
		return []flowCounts{{tun: tun, sas: [2]map[string]saCount{{"1": cloud}, {"2": sitea}}, ok: true}}
	}
	base := at(saCount{in: 10, out: 30}, saCount{in: 20, out: 40})
	rekeyed := func(cloud, sitea saCount) []flowCounts { // sitea's SA replaced by id 3
		return []flowCounts{{tun: tun, sas: [2]map[string]saCount{{"1": cloud}, {"3": sitea}}, ok: true}}
	}
	tests := []struct {
		name  string
		after []flowCounts
		want  string // substring; "" = no explanation
	}{
		{"nothing sent", at(saCount{10, 30}, saCount{20, 40}), "nothing entered tunnel cloud-sitea at sitea"},
		{"sent, not received", at(saCount{10, 30}, saCount{20, 43}), "sitea sent 3 packet(s) into tunnel cloud-sitea and cloud received none: ESP (IP protocol 50) or UDP/4500 from sitea is dropped on the way or by cloud's firewall"},
		{"received, no answer", at(saCount{13, 30}, saCount{20, 43}), "cloud received 3 packet(s) through tunnel cloud-sitea and sent nothing back"},
		{"answer lost", at(saCount{13, 32}, saCount{20, 43}), "cloud answered with 2 packet(s) through tunnel cloud-sitea and sitea received none: ESP (IP protocol 50) or UDP/4500 from cloud is dropped on the way or by sitea's firewall"},
		{"all flowed", at(saCount{13, 32}, saCount{22, 43}), ""},
		{"sitea rekeyed, the new SA sent", rekeyed(saCount{10, 30}, saCount{0, 2}), "sitea sent 2 packet(s) into tunnel cloud-sitea and cloud received none"},
		{"sitea rekeyed, nothing seen", rekeyed(saCount{10, 30}, saCount{0, 0}), ""},
		{"unreadable", []flowCounts{{tun: tun, sas: [2]map[string]saCount{{"1": {}}, {"2": {}}}}}, ""},
		{"no child at the source", []flowCounts{{tun: tun, sas: [2]map[string]saCount{{"1": {}}, {}}, ok: true}}, `tunnel cloud-sitea has no CHILD_SA at sitea (see the test "tunnel cloud-sitea is up")`},
		{"no child at the peer", []flowCounts{{tun: tun, sas: [2]map[string]saCount{{}, {"2": {}}}, ok: true}}, "tunnel cloud-sitea has no CHILD_SA at cloud"},
		{"no tunnel", nil, ""},
	}
	for _, tt := range tests {
		got := explainLoss(base, tt.after, a)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: explainLoss = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := explainLoss(base, base, &topology.Gateway{Name: "other"}); got != "" {
		t.Errorf("source not on the tunnel: %q", got)
	}
}
